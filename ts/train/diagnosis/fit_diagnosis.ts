/**
 * fit()'s side of the diagnosis, so fit.ts only calls in: the options check, the collector
 * callback, and the end-of-run step (symmetry, the clean training error, the rules).
 */
import { checkBooleanOption, checkNumberOption, checkOptions } from '../../util/options.js';
import type { Callback, History } from '../callbacks.js';
import type { ModuleLike } from '../types.js';
import { cleanTrainingError } from './clean_error.js';
import { DiagnosisCollector } from './collector.js';
import type { Finding } from './finding.js';
import { diagnoseRun } from './index.js';

export interface DiagnosisOptions {
  /** The training error you would be happy with (default 0.05): above it, a run fits poorly. */
  desiredError?: number;
  /** What to call fit's `val` split in findings (default 'validation'; the CLI says 'test' for a test split). */
  heldOutName?: string;
  /** Batches per epoch whose gradients and updates are measured (default 8; the first 50 steps always get the total gradient norm). */
  samplesPerEpoch?: number;
  /** Training samples in the activation probe (default 256). */
  probeSize?: number;
  /** Evaluate the final model on up to this many training samples in eval mode (default 2048; 0: use the running mean). */
  cleanSamples?: number;
  /** Turn the diagnosis on/off (default true; `diagnosis: false` does the same). */
  enabled?: boolean;
}

const KNOWN = ['desiredError', 'heldOutName', 'samplesPerEpoch', 'probeSize', 'cleanSamples', 'enabled'] as const;

/** Per-batch curves: loss, learning rate (group 0) and epoch of every optimizer step. */
export interface BatchLog {
  loss: number[];
  lr: number[];
  epoch: number[];
}

export interface FitDiagnosis {
  findings: Finding[];
  primaryCause: Finding | null;
  /** One line per kind and layer (warnings and above), as added to `warnings`. */
  lines: string[];
  batches: BatchLog;
}

export interface DiagnosisRun {
  callback: Callback;
  finish(args: { model: ModuleLike; train: unknown; lossFn: any; history: History; nonFinite: { what: 'loss' | 'gradient'; value: number; epoch: number; globalStep: number; where: string } | null }): FitDiagnosis;
}

export function startDiagnosis(option: DiagnosisOptions | boolean | undefined): DiagnosisRun | null {
  if (option === false) return null;
  const o: DiagnosisOptions = option === true || option === undefined ? {} : option;
  checkOptions('fit: diagnosis', o, KNOWN);
  if (o.enabled !== undefined && !checkBooleanOption('fit: diagnosis', 'enabled', o.enabled)) return null;
  const desiredError = o.desiredError === undefined ? undefined : checkNumberOption('fit: diagnosis', 'desiredError', o.desiredError, { min: 0, max: 1 });
  const samplesPerEpoch = o.samplesPerEpoch === undefined ? undefined : checkNumberOption('fit: diagnosis', 'samplesPerEpoch', o.samplesPerEpoch, { min: 1, integer: true });
  const probeSize = o.probeSize === undefined ? undefined : checkNumberOption('fit: diagnosis', 'probeSize', o.probeSize, { min: 1, integer: true });
  const cleanSamples = o.cleanSamples === undefined ? 2048 : checkNumberOption('fit: diagnosis', 'cleanSamples', o.cleanSamples, { min: 0, integer: true });
  if (o.heldOutName !== undefined && (typeof o.heldOutName !== 'string' || !o.heldOutName)) throw new Error(`fit: diagnosis: heldOutName must be a non-empty string, got ${String(o.heldOutName)}`);
  const collector = new DiagnosisCollector({ samplesPerEpoch, probeSize });
  return {
    callback: collector,
    finish({ model, train, lossFn, history, nonFinite }) {
      const s = collector.stats;
      s.heldOutName = o.heldOutName ?? 'validation';
      collector.measureSymmetry();
      collector.measureInputs();
      if (!nonFinite) collector.setCleanTrain(cleanSamples > 0 ? cleanTrainingError(model, train, lossFn, history.last, cleanSamples) : cleanTrainingError(model, null, lossFn, history.last));
      const first = s.firstEpoch;
      const runEpochs = history.epochs.filter((e) => e.epoch >= first);
      s.trainLoss = runEpochs.map((e) => e.loss);
      s.heldOutLoss = runEpochs.map((e) => ('val_loss' in e ? e.val_loss : NaN));
      s.heldOutError = runEpochs.map((e) => ('val_accuracy' in e ? 1 - e.val_accuracy : NaN));
      s.nonFinite = nonFinite ? { what: nonFinite.what, value: nonFinite.value, epoch: nonFinite.epoch, step: nonFinite.globalStep, where: nonFinite.where } : null;
      const d = diagnoseRun(s, { desiredError });
      return { findings: d.findings, primaryCause: d.primary, lines: d.lines, batches: { loss: s.batchLoss, lr: s.batchLr, epoch: s.batchEpoch } };
    },
  };
}
