/**
 * SGEMM over tensors in wasm memory: `C = alpha·op(A)·op(B) + beta·C`, row-major float32.
 *
 * Operands are byte offsets (pointers) into the wasm memory, as `tread_alloc` returns them;
 * nothing is copied. The Rust side packs A and B, so all four transpose forms run at the
 * same speed, and it uses as many threads as `setThreads` allows.
 */
import { wasm } from '../runtime/wasm.js';

export interface SgemmArgs {
  /** Use Aᵀ: A is stored `k × m` (row stride `lda`) instead of `m × k`. */
  transA?: boolean;
  /** Use Bᵀ: B is stored `n × k` (row stride `ldb`) instead of `k × n`. */
  transB?: boolean;
  /** Rows of op(A) and of C. */
  m: number;
  /** Columns of op(B) and of C. */
  n: number;
  /** Columns of op(A) = rows of op(B). */
  k: number;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Byte offset of A's first element. */
  a: number;
  /** Row stride of A as stored, in elements (default: its row length, `transA ? m : k`). */
  lda?: number;
  /** Byte offset of B's first element. */
  b: number;
  /** Row stride of B as stored, in elements (default: `transB ? k : n`). */
  ldb?: number;
  /** Scale of the old C (default 0: C is overwritten, its old contents ignored, even NaN). */
  beta?: number;
  /** Byte offset of C's first element. */
  c: number;
  /** Row stride of C, in elements (default `n`). */
  ldc?: number;
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`sgemm: ${name} must be a non-negative integer, got ${v}`);
}

function checkPtr(name: string, p: number): void {
  if (!Number.isInteger(p) || p < 0 || p % 4 !== 0) {
    throw new Error(`sgemm: ${name} must be a 4-byte-aligned byte offset into wasm memory, got ${p}`);
  }
}

/**
 * `C = alpha·op(A)·op(B) + beta·C`. Checks the shapes and strides here, so a bad call throws
 * a JS error instead of trapping in wasm.
 */
export function sgemm(args: SgemmArgs): void {
  const { m, n, k } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const lda = args.lda ?? (transA ? m : k);
  const ldb = args.ldb ?? (transB ? k : n);
  const ldc = args.ldc ?? n;
  checkDim('m', m);
  checkDim('n', n);
  checkDim('k', k);
  if (lda < Math.max(1, transA ? m : k)) throw new Error(`sgemm: lda = ${lda} is less than ${transA ? 'm' : 'k'} = ${transA ? m : k}`);
  if (ldb < Math.max(1, transB ? k : n)) throw new Error(`sgemm: ldb = ${ldb} is less than ${transB ? 'k' : 'n'} = ${transB ? k : n}`);
  if (ldc < Math.max(1, n)) throw new Error(`sgemm: ldc = ${ldc} is less than n = ${n}`);
  checkPtr('a', args.a);
  checkPtr('b', args.b);
  checkPtr('c', args.c);
  wasm().tread_sgemm(
    transA ? 1 : 0, transB ? 1 : 0, m, n, k, args.alpha ?? 1,
    args.a, lda, args.b, ldb, args.beta ?? 0, args.c, ldc,
  );
}

/** The triple-loop reference kernel with the same arguments (slow; for tests). */
export function sgemmRef(args: SgemmArgs): void {
  const { m, n, k } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  wasm().tread_sgemm_ref(
    transA ? 1 : 0, transB ? 1 : 0, m, n, k, args.alpha ?? 1,
    args.a, args.lda ?? (transA ? m : k), args.b, args.ldb ?? (transB ? k : n),
    args.beta ?? 0, args.c, args.ldc ?? n,
  );
}

/** Positional form, BLAS order, for hot paths that avoid building an object. */
export function sgemmRaw(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
): void {
  wasm().tread_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
