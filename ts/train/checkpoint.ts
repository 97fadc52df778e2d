/**
 * Checkpoints: model and optimizer state in one safetensors file, plus the training state
 * (epoch, step, scheduler, RNG, history, early stopping) as JSON in `__metadata__`.
 *
 * Layout (names as PyTorch writes them):
 *   <model state-dict names>            '0.weight', '1.running_mean', '1.num_batches_tracked' (I64) ...
 *   optimizer.<path of each tensor>     'optimizer.state.0.momentum_buffer', 'optimizer.state.3.exp_avg' ...
 *   early_stopping.best.<model name>    EarlyStopping's copy of the best epoch's weights (restoreBestWeights),
 *                                       so that a resumed run can still put them back
 *   __metadata__:
 *     format            'pt' (so Hugging Face / PyTorch tools accept the file)
 *     tread.kind        'checkpoint' | 'weights'
 *     tread.optimizer   the optimizer's state dict as JSON, tensors replaced by {"$tensor": name}
 *     tread.optimizer_param_names  the model's name of each optimizer parameter index (JSON list)
 *     tread.training    {epoch, globalStep, scheduler, rng, history, earlyStopping, extra}
 *
 * A model-only file (`saveWeights`) is a plain safetensors state dict that PyTorch's
 * `safetensors.torch.load_file` + `model.load_state_dict` reads, and PyTorch's own files
 * load here (`loadWeights`, F32/F64/F16/BF16 and I64 included).
 *
 * Writes are atomic (ts/train/atomic.ts). Loading validates everything first: the file format
 * (strict header, limits of ts/util/limits.ts), names, shapes, dtypes, and the JSON in
 * `__metadata__` (ts/train/checkpoint_validate.ts: epoch, steps, history, RNG, early stopping,
 * optimizer options and state, scheduler state), and only then changes the model; if the
 * optimizer or scheduler still refuses its state, model, optimizer and scheduler are put back,
 * so a failed load changes nothing. Messages name the file as "checkpoint" or "weights file",
 * and a legal file tread cannot read (an F8 dtype) is "unsupported", never "corrupt".
 */
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { atomicWriteFile, readFileBytes, removeStaleTemps, type AtomicWriteOptions } from './atomic.js';
import { History } from './callbacks.js';
import { parseSafetensors, serializeSafetensors, SafetensorsError, type SafeTensor, type SafeTensorInput, type SafetensorsFile } from './safetensors.js';
import { deepCopyState, restoreState, snapshotState, type StateSnapshot } from './state.js';
import { CheckpointError } from './checkpoint_error.js';
import { checkOptimizerState, checkSchedulerState, checkTrainingState } from './checkpoint_validate.js';
import { parseStrictJsonText } from './strict_json.js';
import type { FileLimits } from '../util/limits.js';
import { entriesOf, type ModuleLike, type OptimizerLike, type SchedulerLike, type StateDictLike } from './types.js';
import { checkBooleanOption, checkOptions } from '../util/options.js';

export const OPTIMIZER_PREFIX = 'optimizer.';
/** Names of the early-stopping best-weights copy: this prefix + the model's state-dict name. */
export const BEST_WEIGHTS_PREFIX = 'early_stopping.best.';

/** True for file tensors that are not the model's (optimizer state, best-weights copy). */
function isSectionName(name: string): boolean {
  return name.startsWith(OPTIMIZER_PREFIX) || name.startsWith(BEST_WEIGHTS_PREFIX);
}

export { CheckpointError };

/** Training state kept in a checkpoint beside the tensors. */
export interface TrainingState {
  /** Epochs completed (a resumed run starts at this epoch index). */
  epoch: number;
  /** Optimizer steps taken. */
  globalStep: number;
  scheduler?: unknown;
  /** RNG state (from nn/random, or whatever fit's `rng` option provides). */
  rng?: unknown;
  history?: ReturnType<History['toJSON']>;
  earlyStopping?: unknown;
  /** Anything else the caller wants back (configuration ...). */
  extra?: unknown;
}

export interface SaveCheckpointOptions extends AtomicWriteOptions {
  model: ModuleLike | StateDictLike;
  optimizer?: OptimizerLike | null;
  scheduler?: SchedulerLike | null;
  training?: Partial<TrainingState>;
  /** EarlyStopping's copy of the best weights (`earlyStopping.bestWeights`), saved beside the model. */
  bestWeights?: StateSnapshot | null;
  /** More string metadata. */
  metadata?: Record<string, string>;
}

// ---- JSON that keeps NaN/Infinity (scheduler and history values can be non-finite) ----

export function toJSONSafe(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? { $num: String(x) } : x));
}

/**
 * Reads what toJSONSafe wrote. Strict (ts/train/strict_json.ts): a key named twice, nesting
 * deeper than 64 levels or invalid UTF-8 is an error, never a silent choice or a stack overflow.
 */
export function fromJSONSafe(s: string): any {
  return revive(parseStrictJsonText(s, { maxDepth: 64 }));
}

/** Turns {"$num": "Infinity"} back into numbers (the depth is bounded by the parser). */
function revive(x: any): any {
  if (Array.isArray(x)) return x.map(revive);
  if (x && typeof x === 'object') {
    const keys = Object.keys(x);
    if (keys.length === 1 && typeof x.$num === 'string') return Number(x.$num);
    for (const k of keys) x[k] = revive(x[k]);
  }
  return x;
}

// ---- optimizer state <-> tensors + JSON skeleton ----

function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

/** Splits a state object into tensors (by path) and a JSON skeleton with {"$tensor": path}. */
function splitState(v: unknown, path: string, out: [string, SafeTensorInput][]): unknown {
  if (isTensor(v)) {
    out.push([path, { shape: v.shape, data: v.toArray(), dtype: v.dtype === 'int32' ? 'I32' : 'F32' }]);
    return { $tensor: path };
  }
  if (v instanceof Float32Array || v instanceof Int32Array) {
    out.push([path, { shape: [v.length], data: v.slice(), dtype: v instanceof Int32Array ? 'I32' : 'F32' }]);
    return { $tensor: path, $typed: true };
  }
  if (v instanceof Map) return { $map: [...v.entries()].map(([k, x]) => [k, splitState(x, `${path}.${String(k)}`, out)]) };
  if (Array.isArray(v)) return v.map((x, i) => splitState(x, `${path}.${i}`, out));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = splitState(x, `${path}.${k}`, out);
    return o;
  }
  return v;
}

function joinState(v: unknown, tensors: Map<string, SafeTensor>, used: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => joinState(x, tensors, used));
  if (v && typeof v === 'object') {
    const o = v as Record<string, any>;
    if (typeof o.$tensor === 'string') {
      const t = tensors.get(o.$tensor);
      if (!t) throw new CheckpointError(`optimizer state refers to tensor '${o.$tensor}', which is not in the file`);
      used.add(o.$tensor);
      if (o.$typed) return t.data.slice();
      return tensor(t.data, t.shape, { dtype: t.data instanceof Int32Array ? 'int32' : 'float32' });
    }
    if (Array.isArray(o.$map)) return new Map(o.$map.map(([k, x]: [unknown, unknown]) => [k, joinState(x, tensors, used)]));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = joinState(x, tensors, used);
    return out;
  }
  return v;
}

// ---- saving ----

function isModule(x: unknown): x is ModuleLike {
  return !!x && typeof (x as ModuleLike).stateDict === 'function';
}

function modelTensors(model: ModuleLike | StateDictLike): [string, SafeTensorInput][] {
  const sd = isModule(model) ? model.stateDict() : model;
  return entriesOf(sd).map(([name, t]) => {
    if (isSectionName(name)) throw new CheckpointError(`model state name '${name}' collides with the optimizer or early-stopping section of checkpoints`);
    return [name, { shape: t.shape, data: t.toArray(), dtype: fileDtype(name, t.dtype) }];
  });
}

/** PyTorch stores integer buffers (num_batches_tracked) as int64. */
function fileDtype(name: string, dtype: 'float32' | 'int32'): 'F32' | 'I32' | 'I64' {
  return dtype === 'int32' ? (/num_batches_tracked$/.test(name) ? 'I64' : 'I32') : 'F32';
}

function bestWeightTensors(snap: StateSnapshot): [string, SafeTensorInput][] {
  return [...snap].map(([name, e]) => [BEST_WEIGHTS_PREFIX + name, { shape: e.shape, data: e.data, dtype: fileDtype(name, e.dtype) }]);
}

/** The bytes of a checkpoint (see the file comment); saveCheckpoint writes them atomically. */
export function encodeCheckpoint(opts: SaveCheckpointOptions): Uint8Array {
  checkSaveOptions('saveCheckpoint', opts);
  const tensors = modelTensors(opts.model);
  const metadata: Record<string, string> = { format: 'pt', 'tread.kind': 'checkpoint', ...(opts.metadata ?? {}) };
  if (opts.optimizer) {
    const optTensors: [string, SafeTensorInput][] = [];
    const skeleton = splitState(opts.optimizer.stateDict(), 'optimizer', optTensors);
    tensors.push(...optTensors);
    metadata['tread.optimizer'] = toJSONSafe(skeleton);
    // The optimizer numbers its parameters; the names say which is which without the model
    // (a PyTorch hand-off, or a reader in another language): one per index, null if not the model's.
    if (isModule(opts.model)) {
      const names = new Map<unknown, string>(entriesOf(opts.model.namedParameters() as any).map(([n, t]) => [t, n] as [unknown, string]));
      metadata['tread.optimizer_param_names'] = JSON.stringify(opts.optimizer.paramGroups.flatMap((g) => g.params.map((p) => names.get(p) ?? null)));
    }
  }
  if (opts.bestWeights) tensors.push(...bestWeightTensors(opts.bestWeights));
  const training: TrainingState = {
    epoch: 0,
    globalStep: 0,
    ...(opts.training ?? {}),
  };
  if (opts.scheduler && typeof opts.scheduler.stateDict === 'function' && training.scheduler === undefined) training.scheduler = opts.scheduler.stateDict();
  metadata['tread.training'] = toJSONSafe(training);
  return serializeSafetensors(tensors, metadata);
}

/** Saves model + optimizer + training state to `file`, atomically (Node). */
export async function saveCheckpoint(file: string, opts: SaveCheckpointOptions): Promise<void> {
  const bytes = encodeCheckpoint(opts);
  await atomicWriteFile(file, bytes, opts);
  // Temporary files of writers that died mid-save (their process is gone) are clutter now.
  await removeStaleTemps(file);
}

/** Saves only the model's state dict (a plain PyTorch-compatible safetensors file), atomically. */
export async function saveWeights(file: string, model: ModuleLike | StateDictLike, options: AtomicWriteOptions & { metadata?: Record<string, string> } = {}): Promise<void> {
  checkOptions('saveWeights', options, ['metadata', 'beforeRename']);
  options ??= {};
  const bytes = serializeSafetensors(modelTensors(model), { format: 'pt', 'tread.kind': 'weights', ...(options.metadata ?? {}) });
  await atomicWriteFile(file, bytes, options);
}

/** saveCheckpoint's options: known keys only, and a model to save. */
function checkSaveOptions(owner: string, opts: SaveCheckpointOptions): void {
  if (opts === undefined || opts === null) throw new TypeError(`${owner}: options are required ({ model, optimizer?, scheduler?, training?, ... })`);
  checkOptions(owner, opts, ['model', 'optimizer', 'scheduler', 'training', 'bestWeights', 'metadata', 'beforeRename']);
  if (!opts.model) throw new TypeError(`${owner}: a model is required`);
}

// ---- loading ----

/** loadCheckpoint's options: checked before the file is read. */
function checkLoadOptions(opts: LoadCheckpointOptions): void {
  if (opts === undefined || opts === null) throw new TypeError('loadCheckpoint: options are required ({ model, optimizer?, scheduler?, strict? })');
  checkOptions('loadCheckpoint', opts, ['model', 'optimizer', 'scheduler', 'strict', 'limits']);
  if (opts.strict !== undefined) checkBooleanOption('loadCheckpoint', 'strict', opts.strict);
}

export interface LoadReport {
  /** Model tensors that the file did not have (left as they were). */
  missing: string[];
  /** File tensors the model does not have (ignored). */
  unexpected: string[];
  /** Tensors loaded. */
  loaded: string[];
}

/**
 * Reads and validates a checkpoint or weights file without applying it. `kind` names it in
 * messages; `limits` overrides the safetensors limits (ts/util/limits.ts) for this read.
 */
export async function readCheckpointFile(
  file: string,
  kind: 'checkpoint' | 'weights file' = 'checkpoint',
  limits: Partial<Pick<FileLimits, 'safetensorsHeaderBytes' | 'safetensorsTensors'>> = {},
): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(file);
  } catch (e) {
    throw new CheckpointError(`cannot read ${kind} '${file}': ${(e as Error).message}`);
  }
  try {
    return parseSafetensors(bytes, `${kind} '${file}'`, limits);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    const why =
      e.kind === 'unsupported' ? 'The file is valid safetensors, but tread cannot load it'
      : e.kind === 'limit' ? 'The file is larger than a limit'
      : 'The file is corrupt or not a safetensors file';
    throw new CheckpointError(`${e.message}. ${why}; nothing was loaded.`);
  }
}

function dtypeFits(fileDtype: SafeTensor['dtype'], modelDtype: 'float32' | 'int32'): boolean {
  const isFloat = fileDtype === 'F32' || fileDtype === 'F64' || fileDtype === 'F16' || fileDtype === 'BF16';
  return modelDtype === 'float32' ? isFloat : !isFloat;
}

/**
 * Checks the file's model tensors against the model: names (strict: both ways), shapes and
 * dtypes. Returns the plan, or throws one CheckpointError listing every problem.
 */
export function planModelLoad(
  model: ModuleLike,
  tensors: Map<string, SafeTensor>,
  options: { strict?: boolean; what?: string; prefix?: string } = {},
): { plan: [Tensor, SafeTensor, string][]; report: LoadReport } {
  const strict = options.strict ?? true;
  const what = options.what ?? 'checkpoint';
  const live = new Map<string, Tensor>(entriesOf(model.stateDict()));
  const fileNames = [...tensors.keys()].filter((n) => !isSectionName(n));
  const problems: string[] = [];
  const plan: [Tensor, SafeTensor, string][] = [];
  const missing = [...live.keys()].filter((n) => !tensors.has(n));
  const unexpected = fileNames.filter((n) => !live.has(n));
  for (const n of fileNames) {
    const t = live.get(n);
    if (!t) continue;
    const f = tensors.get(n)!;
    const sameShape = f.shape.length === t.shape.length && f.shape.every((d, i) => d === t.shape[i]);
    // PyTorch writes num_batches_tracked as a 0-d tensor; accept it for a [1]/[] buffer of one element.
    const scalarOk = !sameShape && f.data.length === 1 && t.size === 1 && f.shape.length <= 1 && t.shape.length <= 1;
    if (!sameShape && !scalarOk) {
      problems.push(`  '${n}': shape [${f.shape.join(', ')}] in the ${what}, [${t.shape.join(', ')}] in the model`);
      continue;
    }
    if (!dtypeFits(f.dtype, t.dtype)) {
      problems.push(`  '${n}': dtype ${f.dtype} in the ${what} cannot load into the model's ${t.dtype} tensor`);
      continue;
    }
    plan.push([t, f, n]);
  }
  if (!strict && plan.length === 0 && live.size > 0 && problems.length === 0) {
    // Nothing in common: a wrong file, or a model named differently (a prefix?). Loading 0 tensors silently would hide it.
    const few = (l: string[]) => (l.length > 6 ? `${l.slice(0, 6).join(', ')}, ... (${l.length})` : l.join(', ') || 'none');
    throw new CheckpointError(
      `no tensor of the ${what} matches a name of the model, so even { strict: false } loads nothing; nothing was loaded.\n  ${what}: ${few(fileNames)}\n  model: ${few([...live.keys()])}`,
    );
  }
  if (strict) {
    for (const n of missing) problems.push(`  missing from the ${what}: '${n}' (${live.get(n)!.dtype} [${live.get(n)!.shape.join(', ')}])`);
    for (const n of unexpected) problems.push(`  not in the model: '${n}' (${tensors.get(n)!.dtype} [${tensors.get(n)!.shape.join(', ')}])`);
  }
  if (problems.length > 0) {
    const hint = strict && problems.every((p) => /missing from|not in the model/.test(p)) ? '\n(load with { strict: false } to load only the tensors whose names match)' : '';
    throw new CheckpointError(`the ${what} does not match the model; nothing was loaded:\n${problems.join('\n')}${hint}`);
  }
  return { plan, report: { missing, unexpected, loaded: plan.map((p) => p[2]) } };
}

/** Writes a validated plan into the model's tensors. */
function applyPlan(plan: [Tensor, SafeTensor, string][]): void {
  for (const [t, f] of plan) t.data.set(f.data);
}

/** Loads an already parsed file's model tensors: all checked first (planModelLoad), then written. */
export function applyModelTensors(
  model: ModuleLike,
  tensors: Map<string, SafeTensor>,
  options: { strict?: boolean; what: string },
): LoadReport {
  const { plan, report } = planModelLoad(model, tensors, options);
  applyPlan(plan);
  return report;
}

export interface LoadCheckpointOptions {
  model: ModuleLike;
  optimizer?: OptimizerLike | null;
  scheduler?: SchedulerLike | null;
  /** Model names must match both ways (default true). Shapes and dtypes must always match. */
  strict?: boolean;
  /** Overrides the safetensors limits of ts/util/limits.ts (setFileLimits) for this load. */
  limits?: Partial<Pick<FileLimits, 'safetensorsHeaderBytes' | 'safetensorsTensors'>>;
}

export interface LoadedCheckpoint {
  training: TrainingState;
  history: History;
  metadata: Record<string, string>;
  report: LoadReport;
  /** The early-stopping best-weights copy saved with the checkpoint (checked against the model), or null. */
  bestWeights: StateSnapshot | null;
}

/**
 * The best-weights section of a file as a snapshot, or null when there is none. Every entry
 * must be a state of the model with the same size and kind (float/int), so that restoring
 * it at the end of the resumed run cannot fail.
 */
function readBestWeights(model: ModuleLike, tensors: Map<string, SafeTensor>, what: string): StateSnapshot | null {
  const live = new Map<string, Tensor>(entriesOf(model.stateDict()));
  const snap: StateSnapshot = new Map();
  const problems: string[] = [];
  for (const [fileName, f] of tensors) {
    if (!fileName.startsWith(BEST_WEIGHTS_PREFIX)) continue;
    const name = fileName.slice(BEST_WEIGHTS_PREFIX.length);
    const t = live.get(name);
    if (!t) problems.push(`  '${fileName}': the model has no '${name}'`);
    else if (t.size !== f.data.length || !dtypeFits(f.dtype, t.dtype)) {
      problems.push(`  '${fileName}': ${f.dtype} [${f.shape.join(', ')}] in the ${what}, ${t.dtype} [${t.shape.join(', ')}] in the model`);
    } else {
      const data = t.dtype === 'int32' ? Int32Array.from(f.data) : Float32Array.from(f.data);
      snap.set(name, { shape: [...t.shape], dtype: t.dtype, data });
    }
  }
  if (problems.length > 0) throw new CheckpointError(`the early-stopping best weights in the ${what} do not match the model; nothing was loaded:\n${problems.join('\n')}`);
  if (snap.size > 0) {
    const absent = [...live.keys()].filter((n) => !snap.has(n));
    if (absent.length > 0) throw new CheckpointError(`the early-stopping best weights in the ${what} lack ${absent.map((n) => `'${n}'`).join(', ')}; nothing was loaded`);
  }
  return snap.size > 0 ? snap : null;
}

/** Applies a parsed checkpoint to model (+ optimizer, scheduler); all or nothing. */
export function applyCheckpoint(file: SafetensorsFile, opts: LoadCheckpointOptions, what = 'checkpoint'): LoadedCheckpoint {
  checkLoadOptions(opts);
  const { plan, report } = planModelLoad(opts.model, file.tensors, { strict: opts.strict, what });
  const bestWeights = readBestWeights(opts.model, file.tensors, what);
  let training: TrainingState = { epoch: 0, globalStep: 0 };
  if (file.metadata['tread.training'] !== undefined) {
    let raw: unknown;
    try {
      raw = fromJSONSafe(file.metadata['tread.training']);
    } catch (e) {
      throw new CheckpointError(`${what}: the training state in __metadata__ is not valid JSON (${(e as Error).message}); nothing was loaded`);
    }
    checkTrainingState(raw, what);
    training = { ...training, ...(raw as Partial<TrainingState>) };
  }
  if (opts.scheduler && training.scheduler !== undefined) {
    // The number of parameter groups, when the optimizer says (baseLrs and lastLr have one entry per group).
    const sd = (opts.optimizer?.stateDict() ?? {}) as { paramGroups?: unknown[]; param_groups?: unknown[] };
    const list = sd.paramGroups ?? sd.param_groups ?? (opts.scheduler as { optimizer?: { paramGroups?: unknown[] } }).optimizer?.paramGroups;
    const groups = Array.isArray(list) ? list.length : null;
    const live = typeof opts.scheduler.stateDict === 'function' ? opts.scheduler.stateDict() : undefined;
    checkSchedulerState(training.scheduler, live, groups, what);
  }
  let optState: unknown = undefined;
  if (opts.optimizer) {
    const raw = file.metadata['tread.optimizer'];
    if (raw === undefined) throw new CheckpointError(`${what} holds no optimizer state (it was saved without one, or is a weights-only file); nothing was loaded`);
    let skeleton: unknown;
    try {
      skeleton = fromJSONSafe(raw);
    } catch (e) {
      throw new CheckpointError(`${what}: the optimizer state in __metadata__ is not valid JSON (${(e as Error).message}); nothing was loaded`);
    }
    checkOptimizerState(skeleton, what);
    optState = joinState(skeleton, file.tensors, new Set());
  }
  if (opts.scheduler && training.scheduler !== undefined && typeof opts.scheduler.loadStateDict !== 'function') {
    throw new CheckpointError(`${what} holds scheduler state but the scheduler has no loadStateDict()`);
  }
  // Everything validated: apply, and undo the model on a later refusal.
  const before = snapshotState(opts.model);
  const optBefore = opts.optimizer ? deepCopyState(opts.optimizer.stateDict()) : undefined;
  const schedBefore = opts.scheduler && typeof opts.scheduler.stateDict === 'function' ? deepCopyState(opts.scheduler.stateDict()) : undefined;
  applyPlan(plan);
  try {
    if (opts.optimizer) opts.optimizer.loadStateDict(optState);
    if (opts.scheduler && training.scheduler !== undefined) opts.scheduler.loadStateDict!(training.scheduler);
  } catch (e) {
    restoreState(opts.model, before);
    if (opts.optimizer && optBefore !== undefined) {
      try {
        opts.optimizer.loadStateDict(fromSnapshot(optBefore));
      } catch {
        /* the optimizer refused its own state: leave it */
      }
    }
    if (opts.scheduler && schedBefore !== undefined && typeof opts.scheduler.loadStateDict === 'function') {
      try {
        opts.scheduler.loadStateDict(schedBefore);
      } catch {
        /* the scheduler refused its own state: leave it */
      }
    }
    throw new CheckpointError(`${what}: ${(e as Error).message}; the model was left unchanged`);
  }
  return { training, history: History.fromJSON((training.history as any) ?? []), metadata: file.metadata, report, bestWeights };
}

/** deepCopyState's tensor copies ({__tensor__, data}) as the typed arrays loadStateDict accepts. */
function fromSnapshot(v: any): any {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (v.__tensor__ === true) return v.data;
  if (Array.isArray(v)) return v.map(fromSnapshot);
  if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [k, fromSnapshot(x)]));
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) out[k] = fromSnapshot(x);
  return out;
}

/**
 * Loads a checkpoint into a model (and optimizer, scheduler when given). Throws a
 * CheckpointError saying exactly what is wrong, and then nothing has changed.
 */
export async function loadCheckpoint(file: string, opts: LoadCheckpointOptions): Promise<LoadedCheckpoint> {
  checkLoadOptions(opts);
  const parsed = await readCheckpointFile(file, 'checkpoint', opts.limits ?? {});
  return applyCheckpoint(parsed, opts, `checkpoint '${file}'`);
}

/**
 * Loads weights (a tread checkpoint, a weights file, or a PyTorch safetensors state dict)
 * into a model. `strict: false` loads the tensors whose names match and reports the rest.
 */
export async function loadWeights(
  file: string,
  model: ModuleLike,
  options: { strict?: boolean; limits?: Partial<Pick<FileLimits, 'safetensorsHeaderBytes' | 'safetensorsTensors'>> } = {},
): Promise<LoadReport> {
  checkOptions('loadWeights', options, ['strict', 'limits']);
  if (options?.strict !== undefined) checkBooleanOption('loadWeights', 'strict', options.strict);
  const parsed = await readCheckpointFile(file, 'weights file', options.limits ?? {});
  return applyModelTensors(model, parsed.tensors, { strict: options.strict, what: `weights file '${file}'` });
}

/** Loads an in-memory state (name -> tensor, or a parsed file's tensors) into a model; validated, all or nothing. */
export function loadStateInto(model: ModuleLike, state: StateDictLike | Map<string, SafeTensor>, options: { strict?: boolean } = {}): LoadReport {
  checkOptions('loadStateInto', options, ['strict']);
  if (options?.strict !== undefined) checkBooleanOption('loadStateInto', 'strict', options.strict);
  const tensors = new Map<string, SafeTensor>();
  for (const [n, t] of entriesOf(state as any)) {
    const v = t as unknown as Tensor | SafeTensor;
    if (isTensor(v)) tensors.set(n, { dtype: v.dtype === 'int32' ? 'I32' : 'F32', shape: [...v.shape], data: v.toArray() });
    else tensors.set(n, v);
  }
  const { plan, report } = planModelLoad(model, tensors, { strict: options.strict, what: 'state dict' });
  applyPlan(plan);
  return report;
}
