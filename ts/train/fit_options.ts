/**
 * The run-time check of fit()'s options (plain JavaScript users have no compiler): unknown
 * keys are errors with a "did you mean" hint (`clip_grad_norm` -> `clipGradNorm`: before this
 * check such a run trained without clipping and without a word), and values are checked
 * before the first step.
 */
import { checkBooleanOption, checkNumberOption, checkOneOf, checkOptions, show } from '../util/options.js';

export const FIT_KEYS = [
  'train', 'val', 'optimizer', 'lossFn', 'epochs', 'initialEpoch', 'initialStep', 'history', 'scheduler',
  'schedulerInterval', 'schedulerMonitor', 'clipGradNorm', 'clipGradValue', 'l1', 'l2', 'penalizeAll',
  'metrics', 'callbacks', 'checkFinite', 'onWarning', 'verbose', 'diagnosis', 'yieldEvery',
] as const;

/**
 * Keys fit() accepts and ignores, so that the documented spreads work: `...resume` (what
 * resumeFrom returns: extra, report) and `...setup` (a setup object holding the model, which
 * must then be the model fit() was given).
 */
export const FIT_SPREAD_KEYS = ['extra', 'report', 'model'] as const;

function iterable(v: unknown): boolean {
  return v !== null && typeof v === 'object' && (Symbol.iterator in v || Symbol.asyncIterator in v);
}

/** Throws on an unknown key or a bad value of fit()'s options. */
export function checkFitOptions(options: unknown, model?: unknown): void {
  const o = 'fit';
  if (options === undefined || options === null) throw new TypeError('fit: options are required ({ train, optimizer, lossFn, epochs, ... })');
  checkOptions(o, options, [...FIT_KEYS, ...FIT_SPREAD_KEYS]);
  const opts = options as Record<string, any>;
  if (opts.model !== undefined && opts.model !== model) throw new Error('fit: options.model is not the model given as the first argument (fit trains its first argument)');
  if (!iterable(opts.train)) throw new TypeError(`fit: train must be a DataLoader or an (async) iterable of [x, y] batches, got ${show(opts.train)}`);
  if (opts.val != null && !iterable(opts.val)) throw new TypeError(`fit: val must be a DataLoader or an (async) iterable of batches, got ${show(opts.val)}`);
  for (const k of ['initialEpoch', 'initialStep'] as const) if (opts[k] !== undefined) checkNumberOption(o, k, opts[k], { integer: true, min: 0 });
  if (opts.schedulerInterval !== undefined) checkOneOf(o, 'schedulerInterval', opts.schedulerInterval, ['batch', 'epoch']);
  if (opts.schedulerMonitor !== undefined && typeof opts.schedulerMonitor !== 'string') throw new TypeError(`fit: schedulerMonitor must be a metric name, got ${show(opts.schedulerMonitor)}`);
  const clip = opts.clipGradNorm;
  if (clip !== undefined) {
    if (typeof clip === 'object' && clip !== null) {
      checkOptions('fit: clipGradNorm', clip, ['maxNorm', 'normType']);
      checkNumberOption(o, 'clipGradNorm.maxNorm', clip.maxNorm, { min: 0 });
      if (clip.normType !== undefined) checkNumberOption(o, 'clipGradNorm.normType', clip.normType, { min: 0, minExclusive: true });
    } else checkNumberOption(o, 'clipGradNorm', clip, { min: 0 });
  }
  if (opts.clipGradValue !== undefined) checkNumberOption(o, 'clipGradValue', opts.clipGradValue, { min: 0 });
  for (const k of ['l1', 'l2'] as const) if (opts[k] !== undefined) checkNumberOption(o, k, opts[k], { min: 0 });
  for (const k of ['penalizeAll', 'checkFinite', 'verbose'] as const) if (opts[k] !== undefined) checkBooleanOption(o, k, opts[k]);
  for (const k of ['metrics', 'callbacks'] as const) if (opts[k] !== undefined && !Array.isArray(opts[k])) throw new TypeError(`fit: ${k} must be an array, got ${show(opts[k])}`);
  if (opts.onWarning !== undefined && typeof opts.onWarning !== 'function') throw new TypeError(`fit: onWarning must be a function, got ${show(opts.onWarning)}`);
}
