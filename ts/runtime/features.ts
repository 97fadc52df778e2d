/**
 * Feature detection: which wasm variant can run here, and whether threads can.
 *
 * Threads need SIMD-capable shared memory (SharedArrayBuffer), workers, and a thread that
 * may block (Atomics.wait): Node's main thread may; a browser's main thread may not, and
 * a browser page must also be cross-origin isolated (COOP same-origin + COEP require-corp).
 */

/** The smallest module that uses a v128 instruction: validates only with SIMD support. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253,
  15, 253, 98, 11,
]);

/**
 * The smallest module that uses a relaxed-SIMD instruction (f32x4.relaxed_madd of three
 * splats): validates only where relaxed SIMD is on (Node 22+, Chromium 114+; Node 20 only
 * with --experimental-wasm-relaxed-simd).
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 28, 1, 26, 0, 67, 0, 0, 0, 0,
  253, 19, 67, 0, 0, 0, 0, 253, 19, 67, 0, 0, 0, 0, 253, 19, 253, 133, 2, 11,
]);

export const isNode: boolean =
  typeof process !== 'undefined' && !!(process as any).versions?.node && typeof (globalThis as any).window === 'undefined';

/** True on a browser's main (UI) thread, where Atomics.wait throws. */
export const isBrowserMainThread: boolean =
  !isNode && typeof (globalThis as any).window !== 'undefined' && typeof (globalThis as any).document !== 'undefined';

export function hasSimd(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

export function hasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

export function hasSharedMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as any);
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Why threads are impossible here, or null when they are possible. */
export function whyNoThreads(): string | null {
  if (!hasSharedMemory()) {
    return isNode
      ? 'shared WebAssembly memory is unavailable in this Node build'
      : 'SharedArrayBuffer is unavailable: serve the page with "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp"';
  }
  if (!isNode && (globalThis as any).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (COOP same-origin + COEP require-corp)';
  }
  if (isBrowserMainThread) {
    return "a browser's main thread cannot block (Atomics.wait); run tread inside a Worker to use threads";
  }
  if (!isNode && typeof (globalThis as any).Worker === 'undefined') {
    return 'Worker is unavailable in this context';
  }
  return null;
}

/** Hardware threads available to this process (Node) or page (navigator). */
export async function hardwareThreads(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return (os as any).availableParallelism ? (os as any).availableParallelism() : os.cpus().length;
  }
  return (globalThis as any).navigator?.hardwareConcurrency ?? 1;
}
