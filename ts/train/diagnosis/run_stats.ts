/**
 * What the diagnosis knows about a run: plain numbers gathered by the collector during
 * fit(), read by the rules. Kept as data so that rules can be tested on made-up runs.
 */
import type { InputStats } from './stats.js';

/** One weight (or bias) over an epoch: means over the sampled batches. */
export interface ParamEpoch {
  /** ‖g‖₂ (float64). */
  grad: number;
  /** ‖g‖/‖w‖: the gradient relative to the weight it moves. */
  relGrad: number;
  /** ‖Δw‖/‖w‖ of one optimizer step (rule of thumb ~1e-3). */
  update: number;
}

export interface ParamFlow {
  /** State-dict name ('0.weight'). */
  name: string;
  /** 'Linear 0.weight': the layer type and path. */
  label: string;
  /** Weights (2+ dimensions) carry the flow rules; biases and norm scales start near 0. */
  isWeight: boolean;
  /** Per epoch (index = epoch - first epoch); a missing epoch is null. */
  epochs: (ParamEpoch | null)[];
}

export interface LayerEpoch {
  dead: number;
  saturated: number;
  std: number;
}

export interface LayerProbe {
  /** Module path ('1', 'block.act'). */
  path: string;
  kind: string;
  /** 'ReLU 1' */
  label: string;
  epochs: (LayerEpoch | null)[];
}

export interface SymmetryStat {
  param: string;
  label: string;
  rows: number;
  distinct: number;
}

export interface CleanError {
  loss: number;
  /** 1 - accuracy, or null without class targets. */
  error: number | null;
  /** 'clean': evaluated in eval mode without augmentation; 'running-mean': the epoch's running mean (dropout on, weights moving). */
  how: 'clean' | 'running-mean';
  samples: number;
}

export interface RunStats {
  /** First epoch index of this run (a resumed run starts later). */
  firstEpoch: number;
  epochsRun: number;
  /** K when the loss is a classification over K classes (output [N, K], integer targets). */
  classes: number | null;
  /** The first batch's loss, before any update. */
  initLoss: number | null;
  /** Per batch: loss (with penalties), learning rate of group 0, epoch. */
  batchLoss: number[];
  batchLr: number[];
  batchEpoch: number[];
  /** Total gradient norm (float64) of each sampled batch with its global step. */
  gradNormSteps: number[];
  gradNorms: number[];
  input: InputStats | null;
  /** Target labels outside [0, K) seen in the probe, and distinct labels seen. */
  labelsOutOfRange: number;
  distinctLabels: number | null;
  params: ParamFlow[];
  layers: LayerProbe[];
  symmetry: SymmetryStat[];
  /** Median of each bias vector at the end ('0.bias' -> -3): a strongly negative one kills the ReLU after it. */
  biasMedian: Record<string, number>;
  cleanTrain: CleanError | null;
  /** The held-out split's name ('validation', 'test') and its per-epoch loss/error. */
  heldOutName: string;
  heldOutLoss: number[];
  heldOutError: number[];
  trainLoss: number[];
  nonFinite: { what: 'loss' | 'gradient'; value: number; epoch: number; step: number; where: string } | null;
}
