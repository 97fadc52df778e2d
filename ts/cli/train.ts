/**
 * `tread train`: the main job. Parses options (flags, --config), builds data, model,
 * optimizer and schedule (ts/cli/setup.ts), trains with fit() and a progress bar, prints
 * validation accuracy per epoch, writes the checkpoint, final weights, history and the
 * HTML report to the output folder, and ends with a summary.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init, runtimeInfo } from '../runtime/wasm.js';
import { atomicWriteFile, OutputFileError } from '../train/atomic.js';
import type { Callback, TrainContext } from '../train/callbacks.js';
import { saveWeights } from '../train/checkpoint.js';
import { EarlyStopping } from '../train/early_stopping.js';
import { evaluate, fit } from '../train/fit.js';
import { ModelCheckpoint, resumeFrom, type ResumeState } from '../train/model_checkpoint.js';
import { Monitor } from '../train/monitor.js';
import { DIAGNOSIS_EXTRA, type DiagnosisCollector } from '../train/diagnosis/collector.js';
import { primaryCauseLine } from '../train/diagnosis/index.js';
import { layerLabels } from '../train/diagnosis/names.js';
import { writeReport } from '../train/report.js';
import { PathRecorder } from '../landscape/path.js';
import { runLandscape } from '../landscape/run_figures.js';
import { evaluationBatches, type LossFunction } from '../landscape/evaluate.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgError, parseTrainArgs, trainHelp, type TrainArgs } from './args.js';
import { OutputFolderError, prepareOutputFolder } from './output-folder.js';
import { formatDuration, ProgressBar } from './progress.js';
import { buildRun, readRunCheckpoint, resolveDefaults } from './setup.js';

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : 'n/a';
}

/** The learning rate(s) this epoch's steps used: one value, or first -> last under a per-batch schedule. */
function epochLr(ctx: TrainContext): string {
  const c = ctx.extras[DIAGNOSIS_EXTRA] as DiagnosisCollector | undefined;
  const lrs = c ? c.stats.batchLr.filter((_, i) => c.stats.batchEpoch[i] === ctx.epoch) : [];
  if (lrs.length === 0) return ctx.logs.lr.toExponential(2);
  const [a, b] = [lrs[0], lrs[lrs.length - 1]];
  return a === b ? a.toExponential(2) : `${a.toExponential(2)}->${b.toExponential(2)}`;
}

/** One line per epoch: train loss/accuracy, validation loss/accuracy, lr, time. */
function epochPrinter(valName: string, log: (s: string) => void): Callback {
  let t0 = 0;
  return {
    onEpochBegin() {
      t0 = performance.now();
    },
    onEpochEnd(ctx: TrainContext) {
      const l = ctx.logs;
      const secs = (performance.now() - t0) / 1000;
      const parts = [`epoch ${ctx.epoch + 1}/${ctx.epochs}`, `loss ${l.loss.toFixed(4)}`, `acc ${pct(l.accuracy)}`];
      if ('val_loss' in l) parts.push(`${valName}_loss ${l.val_loss.toFixed(4)}`, `${valName}_acc ${pct(l.val_accuracy)}`);
      parts.push(`lr ${epochLr(ctx)}`, formatDuration(secs));
      log(parts.join('  '));
    },
  };
}

/** Options that must match the run being resumed (they shape the model, data or schedule). */
const MUST_MATCH = ['data', 'model', 'width', 'depth', 'batchnorm', 'dropout', 'optimizer', 'schedule', 'batchSize', 'limit', 'valFraction', 'augment', 'seed'];

/** Why the checkpoint cannot be resumed with these options, or null. */
async function checkResumable(file: string, args: TrainArgs): Promise<string | null> {
  let saved: TrainArgs | undefined;
  let done = 0;
  try {
    const r = await readRunCheckpoint(file);
    saved = r.args ?? undefined;
    done = r.epoch;
  } catch (e) {
    return (e as Error).message;
  }
  if (!saved) return null;
  const diffs = MUST_MATCH.filter((k) => saved![k] !== undefined && saved![k] !== args[k]).map((k) => `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} was ${saved![k]}, now ${args[k]}`);
  if (diffs.length) return `the checkpoint was trained with other options: ${diffs.join('; ')}. Resume with the same options (or train into another --out).`;
  if (['onecycle', 'cosine', 'step'].includes(String(args.schedule)) && saved.epochs !== args.epochs) {
    return `the ${args.schedule} schedule was planned for ${saved.epochs} epochs; resume continues that plan, so pass --epochs ${saved.epochs} (to train further after a finished run, start a new run from its weights instead).`;
  }
  if (done >= Number(args.epochs)) return `the checkpoint has already completed ${done} of ${args.epochs} epochs: nothing to resume.`;
  return null;
}

/** `tread train`: a problem with the output folder or an output file is one line on stderr, no stack. */
export async function trainCommand(argv: string[]): Promise<number> {
  try {
    return await runTrainCommand(argv);
  } catch (e) {
    if (e instanceof OutputFolderError || e instanceof OutputFileError) {
      process.stderr.write(`tread train: ${e.message.replace(/^tread: /, '')}\n`);
      return e instanceof OutputFolderError ? 2 : 1;
    }
    throw e;
  }
}

async function runTrainCommand(argv: string[]): Promise<number> {
  let parsed: { args: TrainArgs; help: boolean };
  try {
    parsed = parseTrainArgs(argv, (f) => readFileSync(f, 'utf8'));
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`tread train: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(trainHelp());
    return 0;
  }
  const args = resolveDefaults(parsed.args);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const threads = args.threads === 'auto' ? 'auto' : Number(args.threads);
  if (threads !== 'auto' && (!Number.isInteger(threads) || threads < 1)) {
    process.stderr.write(`tread train: --threads: expected a positive integer or 'auto', got ${args.threads}\n`);
    return 2;
  }
  const t0 = performance.now();
  const out = resolve(String(args.out));
  await prepareOutputFolder(out, { overwrite: Boolean(args.overwrite), resume: Boolean(args.resume) });
  await init({ threads });
  const info = runtimeInfo();
  const ckptFile = join(out, 'checkpoint.safetensors');

  const run = await buildRun(args);
  log(`tread train: ${run.description.data}`);
  log(`model: ${run.description.model}`);
  log(`optimizer: ${run.description.optimizer}; schedule: ${run.description.schedule}; ${args.epochs} epochs, batch ${args.batchSize}`);
  log(`runtime: ${info.variant}, ${info.threads} thread(s)${info.note ? ` (${info.note})` : ''}; output: ${out}`);

  const earlyStopping = Number(args.earlyStopping) > 0 ? new EarlyStopping({ monitor: 'val_loss', patience: Number(args.earlyStopping), restoreBestWeights: true }) : null;
  const checkpoint = new ModelCheckpoint({ file: ckptFile, earlyStopping, extra: { args } });
  const monitor = args.monitor ? new Monitor() : null;
  let resume: ResumeState | null = null;
  if (args.resume) {
    const problem = await checkResumable(ckptFile, args);
    if (problem) {
      process.stderr.write(`tread train --resume: ${problem}\n`);
      return 2;
    }
    resume = await resumeFrom(ckptFile, { model: run.model, optimizer: run.optimizer, scheduler: run.scheduler, earlyStopping });
    log(`resuming from ${ckptFile}: ${resume.initialEpoch} epoch(s) done, continuing to ${args.epochs}`);
  }
  const callbacks: Callback[] = [];
  if (args.progress) callbacks.push(new ProgressBar());
  if (monitor) callbacks.push(monitor);
  callbacks.push(epochPrinter(run.valName, log));
  if (earlyStopping) callbacks.push(earlyStopping);
  callbacks.push(checkpoint);
  // --landscape: about 40 snapshots of the path over the whole run.
  const batchesPerEpoch = (run.train as { length?: number }).length ?? 100;
  const recorder = args.landscape ? new PathRecorder(run.model as unknown as Module, { everySteps: Math.max(1, Math.floor((batchesPerEpoch * Number(args.epochs)) / 40)) }) : null;
  if (recorder) callbacks.push(recorder);

  const result = await fit(run.model, {
    train: run.train,
    val: run.val,
    optimizer: run.optimizer,
    scheduler: run.scheduler,
    lossFn: run.lossFn,
    epochs: Number(args.epochs),
    metrics: ['accuracy'],
    clipGradNorm: Number(args.clipGradNorm) > 0 ? Number(args.clipGradNorm) : undefined,
    callbacks,
    onWarning: (m) => log(`warning: ${m}`),
    // The split fit() validates on is the official test set for Fashion-MNIST: never call it 'validation'.
    diagnosis: { desiredError: run.desiredError, heldOutName: run.valName === 'test' ? 'test' : 'validation' },
    ...(resume ?? {}),
  });

  // The final numbers come from the weights being saved (early stopping may have restored an earlier epoch).
  const final = await evaluate(run.model, run.val, { lossFn: run.lossFn, metrics: ['accuracy'] });
  await saveWeights(join(out, 'model.safetensors'), run.model);
  const seconds = (performance.now() - t0) / 1000;
  let landscapeHtml: string | undefined;
  let landscapeData: unknown;
  let landscapeSummary: string | undefined;
  if (recorder && recorder.snapshots.length >= 2) {
    const t1 = performance.now();
    const batches = await evaluationBatches(run.val as Iterable<readonly Tensor[]>, 1000);
    try {
      const figures = await runLandscape({ model: run.model as unknown as Module, lossFn: run.lossFn as LossFunction, batches, recorder });
      landscapeHtml = figures.html;
      landscapeData = { line: figures.line, surface: { xs: figures.surface.xs, ys: figures.surface.ys, loss: figures.surface.loss, accuracy: figures.surface.accuracy }, path: figures.path, monotone: figures.monotone };
      landscapeSummary = `line from init ${figures.monotone ? 'monotone' : 'not monotone'}; path in the PCA plane: ${(figures.path.explained[0] * 100).toFixed(0)}% + ${(figures.path.explained[1] * 100).toFixed(0)}% of its variance (${formatDuration((performance.now() - t1) / 1000)})`;
      log(`loss landscape: the line from the initial weights is ${figures.monotone ? 'monotone' : 'not monotone'}; ${recorder.snapshots.length} snapshots of the path`);
    } finally {
      for (const [x, y] of batches) (x.dispose(), y.dispose());
    }
  }
  const history = result.history.toJSON();
  const diagnosis = { primaryCause: result.primaryCause, findings: result.findings, batches: result.batches };
  await atomicWriteFile(join(out, 'history.json'), new TextEncoder().encode(JSON.stringify({ args, history, warnings: result.warnings, nonFinite: result.nonFinite, ...diagnosis, ...(landscapeData ? { landscape: landscapeData } : {}) }, null, 2)));
  const summary: Record<string, string | number> = {
    data: run.description.data,
    model: run.description.model,
    parameters: run.parameterCount,
    [`final ${run.valName} accuracy`]: pct(final.accuracy),
    [`final ${run.valName} loss`]: final.loss,
    [`best ${run.valName} accuracy`]: pct(Math.max(...result.history.series('val_accuracy').filter(Number.isFinite))),
    epochs: result.history.epochs.length,
    'wall time': formatDuration(seconds),
    threads: info.threads,
  };
  if (result.stopReason) summary['stopped'] = result.stopReason;
  if (landscapeSummary) summary['loss landscape'] = landscapeSummary;
  await writeReport(join(out, 'report.html'), {
    title: `tread train: ${args.model} on ${args.data}`,
    history: result.history,
    summary,
    warnings: result.warnings,
    ...diagnosis,
    names: layerLabels(run.model),
    config: args,
    best: result.best,
    landscapeHtml,
  });
  log('');
  log(`done in ${formatDuration(seconds)}: ${run.valName} accuracy ${pct(final.accuracy)} (loss ${final.loss.toFixed(4)}) after ${result.history.epochs.length} epoch(s)${result.stopReason ? ` (${result.stopReason})` : ''}`);
  log(`  ${primaryCauseLine(result.primaryCause)}`);
  const more = result.findings.length - (result.primaryCause ? 1 : 0);
  if (more > 0) log(`  (${more} more finding(s), with evidence, in report.html and history.json)`);
  if (result.nonFinite) log(`  training hit a non-finite ${result.nonFinite.what}: ${result.nonFinite.where}`);
  log(`  checkpoint: ${ckptFile} (resume with --resume)`);
  log(`  weights:    ${join(out, 'model.safetensors')}`);
  log(`  report:     ${join(out, 'report.html')}`);
  return result.nonFinite ? 1 : 0;
}

