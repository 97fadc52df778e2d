/**
 * Copies of a model's state held outside wasm memory (plain typed arrays), so they survive
 * any number of training steps (see ts/tensor/lifetime.ts), and restoring them in place:
 * the values are written into the model's own tensors, so the optimizer keeps pointing at
 * the same parameters.
 */
import type { Tensor } from '../tensor/tensor.js';
import { entriesOf, type ModuleLike, type StateDictLike } from './types.js';

export interface StateSnapshotEntry {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export type StateSnapshot = Map<string, StateSnapshotEntry>;

/** A copy of every tensor of the model's state dict (parameters and buffers). */
export function snapshotState(model: ModuleLike | StateDictLike): StateSnapshot {
  const sd = isModule(model) ? model.stateDict() : model;
  const out: StateSnapshot = new Map();
  for (const [name, t] of entriesOf(sd)) out.set(name, { shape: [...t.shape], dtype: t.dtype, data: t.toArray() });
  return out;
}

/** Writes a snapshot back into the model's tensors. Throws (changing nothing) if they do not match. */
export function restoreState(model: ModuleLike, snap: StateSnapshot): void {
  const live = new Map<string, Tensor>(entriesOf(model.stateDict()));
  for (const [name, s] of snap) {
    const t = live.get(name);
    if (!t) throw new Error(`restoreState: the model has no '${name}'`);
    if (t.size !== s.data.length || t.dtype !== s.dtype) {
      throw new Error(`restoreState: '${name}' is ${t.dtype} [${t.shape.join(', ')}] in the model, ${s.dtype} [${s.shape.join(', ')}] in the snapshot`);
    }
  }
  for (const [name, s] of snap) live.get(name)!.data.set(s.data);
}

/** The first non-finite value in the model's float state (name, flat index, value), or null when all are finite. */
export function firstNonFinite(model: ModuleLike): { name: string; index: number; value: number } | null {
  for (const [name, t] of entriesOf(model.stateDict())) {
    if (t.dtype !== 'float32') continue;
    const d = t.f32;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return { name, index: i, value: d[i] };
  }
  return null;
}

function isModule(x: unknown): x is ModuleLike {
  return typeof (x as ModuleLike).stateDict === 'function';
}

/** A deep copy of a JSON-like value (optimizer/scheduler state dicts) with tensors copied to typed arrays. */
export function deepCopyState(v: any): any {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return (v as Float32Array).slice();
  if (typeof v.toArray === 'function' && v.storage !== undefined && Array.isArray(v.shape)) {
    return { __tensor__: true, shape: [...v.shape], dtype: v.dtype, data: v.toArray() };
  }
  if (Array.isArray(v)) return v.map(deepCopyState);
  if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [k, deepCopyState(x)]));
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) out[k] = deepCopyState(x);
  return out;
}
