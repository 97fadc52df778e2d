/**
 * Multi-tensor optimizer calls (PyTorch's `foreach`): one wasm call per parameter group.
 *
 * A step kernel's arguments for each tensor (the per-tensor export's, without `use_ref`) are
 * collected as rows of numbers and written into one f64 table in wasm memory, and
 * `tread_optim_step_multi` runs every row, its chunks split over the threads across tensor
 * boundaries (crates/tread-core/src/optim/multi.rs). The result is the per-tensor calls' bit
 * for bit: every kernel is element-wise.
 */
import { memoryBuffer, wasm, type WasmExports } from '../runtime/wasm.js';

/** Kernel numbers of `tread_optim_step_multi` (crates/tread-wasm/src/optim.rs). */
export const KERNEL = { sgd: 0, adam: 1, adamw: 2, adagrad: 3, rmsprop: 4, adadelta: 5, adamax: 6, nadam: 7, radam: 8 } as const;

/** Row width (arguments per tensor) of each kernel. */
const WIDTH = [9, 13, 14, 8, 12, 10, 11, 13, 14];

let tablePtr = 0;
let tableBytes = 0;
let tableOwner: WasmExports | null = null;

/** The f64 table area (one per wasm instance, grown as needed; calls read it before returning). */
function table(bytes: number): number {
  const w = wasm();
  if (tableOwner !== w) {
    tablePtr = 0;
    tableBytes = 0;
    tableOwner = w;
  }
  if (bytes > tableBytes) {
    if (tablePtr !== 0) w.tread_free(tablePtr, tableBytes);
    const size = Math.max(bytes, 2 * tableBytes, 512);
    tablePtr = w.tread_alloc(size) >>> 0; // unsigned: memory above 2 GiB
    if (tablePtr === 0) {
      tableBytes = 0;
      throw new Error(`tread: out of wasm memory allocating ${size} bytes for an optimizer step`);
    }
    tableBytes = size;
  }
  return tablePtr;
}

/** Writes `values` (every pointer already read: reading one may move a spilled tensor in) into the table. */
function write(values: readonly number[]): number {
  const ptr = table(values.length * 8);
  new Float64Array(memoryBuffer() as ArrayBuffer, ptr, values.length).set(values);
  return ptr;
}

/** Runs the rows of `kernel` (`rows.length` a multiple of its width) in one call. */
export function stepMulti(kernel: number, rows: readonly number[]): void {
  const width = WIDTH[kernel];
  if (rows.length === 0) return;
  if (rows.length % width !== 0) throw new Error(`tread: optimizer kernel ${kernel} takes rows of ${width} numbers, got ${rows.length}`);
  const ptr = write(rows);
  if (wasm().tread_optim_step_multi(kernel, ptr, rows.length / width) !== 0) throw new Error(`tread: unknown optimizer kernel ${kernel}`);
}

/** Index of the first tensor of `(pointer, n)` pairs holding a NaN or ±Inf, or -1. */
export function firstNonfiniteMulti(pairs: readonly number[]): number {
  if (pairs.length === 0) return -1;
  const ptr = write(pairs);
  return wasm().tread_optim_first_nonfinite_multi(ptr, pairs.length / 2);
}

/** Zeroes the tensors of `(pointer, n)` pairs in one call. */
export function zeroMulti(pairs: readonly number[]): void {
  if (pairs.length === 0) return;
  const ptr = write(pairs);
  wasm().tread_optim_zero_multi(ptr, pairs.length / 2);
}
