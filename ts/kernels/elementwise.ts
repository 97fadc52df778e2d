/**
 * Element-wise kernels over wasm memory (crates/tread-core/src/kernels/elementwise.rs).
 *
 * Arguments are byte offsets (pointers) of float32 arrays and element counts; nothing is
 * copied. Shapes and strides for broadcasting are written into a small scratch area in
 * wasm memory. `ref = true` calls the plain reference kernel instead (for tests).
 * Outputs must not overlap inputs (except axpy's y).
 */
import { memoryBuffer, wasm } from '../runtime/wasm.js';

/** Binary op codes (elementwise.rs). */
export const BinaryOp = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  /** -(a·b) */
  mulNeg: 4,
  /** p·a (b ignored): strided / broadcast copy */
  scaleA: 5,
} as const;

/** Unary op codes (elementwise.rs). */
export const UnaryOp = {
  exp: 0,
  log: 1,
  sqrt: 2,
  abs: 3,
  /** x^p1 */
  pow: 4,
  /** p1·x + p2 */
  affine: 5,
  /** p1 / x */
  rdiv: 6,
  /** min(max(x, p1), p2) */
  clamp: 7,
  copy: 8,
} as const;

export const MAX_DIMS = 32;
let scratchPtr = 0;
let scratchMemory: unknown = null;

/**
 * Writes up to three dimension arrays into the scratch area; returns their pointers.
 * The area is reused by every call (kernels read it before returning).
 */
export function writeDims(...arrays: readonly (readonly number[])[]): number[] {
  const exp = wasm();
  // One scratch area per wasm instance.
  if (scratchPtr === 0 || scratchMemory !== exp) {
    scratchPtr = exp.tread_alloc(4 * MAX_DIMS * 4) >>> 0; // unsigned: memory above 2 GiB
    if (scratchPtr === 0) throw new Error('tread: out of wasm memory (scratch)');
    scratchMemory = exp;
  }
  const view = new Uint32Array(memoryBuffer() as ArrayBuffer, scratchPtr, MAX_DIMS * 4);
  const ptrs: number[] = [];
  arrays.forEach((arr, i) => {
    if (arr.length > MAX_DIMS) throw new Error(`tread: at most ${MAX_DIMS} dimensions are supported, got ${arr.length}`);
    for (let d = 0; d < arr.length; d++) view[i * MAX_DIMS + d] = arr[d];
    ptrs.push(scratchPtr + i * MAX_DIMS * 4);
  });
  return ptrs;
}

/** Contiguous row-major element strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * `out = a ∘ b` over the broadcast `shape`; `sa`, `sb` are the operands' element strides
 * over `shape` (0 along broadcast dimensions). `p` scales `scaleA`.
 */
export function binaryBcast(
  op: number, p: number, shape: readonly number[], a: number, sa: readonly number[],
  b: number, sb: readonly number[], out: number, ref = false,
): void {
  const [ps, pa, pb] = writeDims(shape, sa, sb);
  (ref ? wasm().tread_binary_bcast_ref : wasm().tread_binary_bcast)(op, p, shape.length, ps, a, pa, b, pb, out);
}

/** `out = a ∘ b`, `n` elements each. */
export function binary(op: number, a: number, b: number, out: number, n: number): void {
  wasm().tread_binary(op, a, b, out, n);
}

/** `out = scale · x`, reading x through strides `sx` over `shape` (transpose, permute, expand). */
export function stridedCopy(shape: readonly number[], x: number, sx: readonly number[], out: number, scale = 1, ref = false): void {
  binaryBcast(BinaryOp.scaleA, scale, shape, x, sx, x, sx, out, ref);
}

/** `out = f(x)` for a `UnaryOp`. */
export function unary(op: number, x: number, out: number, n: number, p1 = 0, p2 = 0, ref = false): void {
  (ref ? wasm().tread_unary_ref : wasm().tread_unary)(op, p1, p2, x, out, n);
}

/** `dx = g · f'(x)` for a `UnaryOp`, given `y = f(x)`. */
export function unaryBackward(
  op: number, x: number, y: number, g: number, dx: number, n: number, p1 = 0, p2 = 0, ref = false,
): void {
  (ref ? wasm().tread_unary_backward_ref : wasm().tread_unary_backward)(op, p1, p2, x, y, g, dx, n);
}

/** `y += alpha · x`, `n` elements. */
export function axpy(alpha: number, x: number, y: number, n: number, ref = false): void {
  (ref ? wasm().tread_axpy_ref : wasm().tread_axpy)(alpha, x, y, n);
}

/** `out[i] = value`. */
export function fill(out: number, n: number, value: number): void {
  wasm().tread_fill(out, n, value);
}
