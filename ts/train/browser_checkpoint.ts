/**
 * Checkpoints and weights where there are no files: in a browser store (IndexedDB, OPFS), as
 * a download, and from a File, a Blob, a fetch() Response or plain bytes. The bytes are
 * exactly those saveCheckpoint / saveWeights write in Node, and loading runs the same
 * validation (format, names, shapes, dtypes; all or nothing: a refused load changes nothing).
 *
 *   await saveCheckpointTo(indexedDBStore(), 'run1', { model, optimizer, scheduler });
 *   await loadCheckpointFrom(indexedDBStore(), 'run1', { model, optimizer, scheduler });
 *   downloadBytes(weightsBytes(model), 'model.safetensors');            // a page
 *   await loadWeightsFrom(input.files[0], model);                       // <input type=file>
 *   await loadWeightsFrom(await fetch('model.safetensors'), model);
 */
import { checkOptions } from '../util/options.js';
import { describeByteSource, readBytes, type ByteSource } from '../util/byte_source.js';
import { checkStoreKey, type ByteStore } from './byte_store.js';
import {
  applyCheckpoint,
  BEST_WEIGHTS_PREFIX,
  CheckpointError,
  encodeCheckpoint,
  OPTIMIZER_PREFIX,
  applyModelTensors,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  type LoadReport,
  type SaveCheckpointOptions,
} from './checkpoint.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors, type SafetensorsFile } from './safetensors.js';
import { entriesOf } from './types.js';
import type { ModuleLike, StateDictLike } from './types.js';

const SAVE_KEYS = ['model', 'optimizer', 'scheduler', 'training', 'bestWeights', 'metadata'] as const;
const LOAD_KEYS = ['model', 'optimizer', 'scheduler', 'strict', 'maxBytes'] as const;

export type BrowserSaveOptions = Omit<SaveCheckpointOptions, 'beforeRename'>;
export interface BrowserLoadOptions extends LoadCheckpointOptions {
  /** Refuse a source larger than this (default 2 GiB). */
  maxBytes?: number;
}
export interface WeightsLoadOptions {
  strict?: boolean;
  maxBytes?: number;
}

function isStore(x: unknown): x is ByteStore {
  return !!x && typeof (x as ByteStore).get === 'function' && typeof (x as ByteStore).put === 'function';
}

// ---- the byte halves of saveWeights / readCheckpointFile / loadWeights (checkpoint.ts) ----

/** The bytes saveWeights writes: the state dict, num_batches_tracked as I64 as PyTorch does. */
function encodeWeights(model: ModuleLike | StateDictLike, metadata?: Record<string, string>): Uint8Array {
  const sd = typeof (model as ModuleLike).stateDict === 'function' ? (model as ModuleLike).stateDict() : (model as StateDictLike);
  const tensors = entriesOf(sd).map(([name, t]) => {
    if (name.startsWith(OPTIMIZER_PREFIX) || name.startsWith(BEST_WEIGHTS_PREFIX)) {
      throw new CheckpointError(`model state name '${name}' collides with the optimizer or early-stopping section of checkpoints`);
    }
    const dtype = t.dtype === 'int32' ? (/num_batches_tracked$/.test(name) ? 'I64' : 'I32') : 'F32';
    return [name, { shape: t.shape, data: t.toArray(), dtype }] as const;
  });
  return serializeSafetensors(tensors as any, { format: 'pt', 'tread.kind': 'weights', ...(metadata ?? {}) });
}

/** Parses and validates checkpoint or weights bytes, with readCheckpointFile's errors. */
function parseCheckpointBytes(bytes: Uint8Array, what: string): SafetensorsFile {
  try {
    return parseSafetensors(bytes, what);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`${e.message}. The file is corrupt or not a safetensors file; nothing was loaded.`);
    throw e;
  }
}

/** Checkpoint bytes (model + optimizer + training state), as saveCheckpoint writes them. */
export function checkpointBytes(options: BrowserSaveOptions): Uint8Array {
  checkOptions('checkpointBytes', options, SAVE_KEYS);
  return encodeCheckpoint(options);
}

/** Weights bytes (the state dict only, PyTorch-compatible safetensors), as saveWeights writes them. */
export function weightsBytes(model: ModuleLike | StateDictLike, options: { metadata?: Record<string, string> } = {}): Uint8Array {
  checkOptions('weightsBytes', options, ['metadata']);
  return encodeWeights(model, options.metadata);
}

/** Saves a checkpoint under `key` in a store (one atomic put). */
export async function saveCheckpointTo(store: ByteStore, key: string, options: BrowserSaveOptions): Promise<void> {
  checkStoreKey('saveCheckpointTo', key);
  checkOptions('saveCheckpointTo', options, SAVE_KEYS);
  await store.put(key, encodeCheckpoint(options));
}

/** Saves the model's weights under `key` in a store. */
export async function saveWeightsTo(store: ByteStore, key: string, model: ModuleLike | StateDictLike, options: { metadata?: Record<string, string> } = {}): Promise<void> {
  checkStoreKey('saveWeightsTo', key);
  checkOptions('saveWeightsTo', options, ['metadata']);
  await store.put(key, encodeWeights(model, options.metadata));
}

async function bytesOf(owner: string, source: ByteStore | ByteSource, key: string | undefined, maxBytes: number | undefined): Promise<{ bytes: Uint8Array; what: string }> {
  if (isStore(source)) {
    checkStoreKey(owner, key);
    const bytes = await source.get(key!);
    if (!bytes) throw new CheckpointError(`${owner}: there is no '${key}' in the ${source.kind} store; nothing was loaded`);
    return { bytes, what: `'${key}' (${source.kind})` };
  }
  const what = describeByteSource(source);
  return { bytes: await readBytes(source, { maxBytes, what }), what };
}

/**
 * Loads a checkpoint into model (+ optimizer, scheduler) from a store entry or from a File,
 * Blob, Response or bytes. Throws a CheckpointError saying what is wrong; then nothing changed.
 */
export function loadCheckpointFrom(store: ByteStore, key: string, options: BrowserLoadOptions): Promise<LoadedCheckpoint>;
export function loadCheckpointFrom(source: ByteSource, options: BrowserLoadOptions): Promise<LoadedCheckpoint>;
export async function loadCheckpointFrom(source: ByteStore | ByteSource, keyOrOptions: string | BrowserLoadOptions, maybeOptions?: BrowserLoadOptions): Promise<LoadedCheckpoint> {
  const key = typeof keyOrOptions === 'string' ? keyOrOptions : undefined;
  const options = (typeof keyOrOptions === 'string' ? maybeOptions : keyOrOptions) as BrowserLoadOptions;
  checkOptions('loadCheckpointFrom', options, LOAD_KEYS);
  if (!options?.model) throw new Error('loadCheckpointFrom: options.model is required');
  const { bytes, what } = await bytesOf('loadCheckpointFrom', source, key, options.maxBytes);
  return applyCheckpoint(parseCheckpointBytes(bytes, `checkpoint in ${what}`), options, `checkpoint in ${what}`);
}

/** Loads weights (a tread checkpoint or weights file, or a PyTorch safetensors state dict) into a model. */
export function loadWeightsFrom(store: ByteStore, key: string, model: ModuleLike, options?: WeightsLoadOptions): Promise<LoadReport>;
export function loadWeightsFrom(source: ByteSource, model: ModuleLike, options?: WeightsLoadOptions): Promise<LoadReport>;
export async function loadWeightsFrom(source: ByteStore | ByteSource, a: string | ModuleLike, b?: ModuleLike | WeightsLoadOptions, c?: WeightsLoadOptions): Promise<LoadReport> {
  const key = typeof a === 'string' ? a : undefined;
  const model = (typeof a === 'string' ? b : a) as ModuleLike;
  const options = ((typeof a === 'string' ? c : b) ?? {}) as WeightsLoadOptions;
  checkOptions('loadWeightsFrom', options, ['strict', 'maxBytes']);
  if (!model || typeof model.stateDict !== 'function') throw new Error('loadWeightsFrom: a model (with stateDict) is required');
  const { bytes, what } = await bytesOf('loadWeightsFrom', source, key, options.maxBytes);
  return applyModelTensors(model, parseCheckpointBytes(bytes, `weights in ${what}`).tensors, { strict: options.strict, what: `weights in ${what}` });
}

/** The bytes as a Blob (application/octet-stream), e.g. for a download link. */
export function safetensorsBlob(bytes: Uint8Array): Blob {
  return new Blob([bytes.slice()], { type: 'application/octet-stream' });
}

/**
 * Offers bytes (or a Blob) to the user as a download named `fileName` (a page only: a Worker
 * has no document; post the bytes to the page, e.g. TrainingWorker.weights()).
 */
export function downloadBytes(data: Uint8Array | Blob, fileName: string): void {
  const doc = (globalThis as any).document as Document | undefined;
  if (!doc) throw new Error('downloadBytes: needs a page (document); in a Worker, send the bytes to the page first');
  if (typeof fileName !== 'string' || fileName.length === 0) throw new Error('downloadBytes: fileName must be a non-empty string');
  const blob = data instanceof Blob ? data : safetensorsBlob(data);
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  // Only a base name: the browser decides the folder.
  a.download = fileName.replace(/^.*[/\\]/, '');
  a.style.display = 'none';
  doc.body.appendChild(a);
  a.click();
  a.remove();
  // The download has started reading the URL; revoke it once this task is over.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
