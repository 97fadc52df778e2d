/**
 * After a WebAssembly trap (an out-of-bounds access, a Rust panic, a stack overflow) the core's
 * state cannot be trusted: the allocator may be mid-update (or hold its lock, in the threaded
 * build), the stack pointer is not restored, and a kernel may have written past its buffers into
 * other tensors. So a trap poisons the runtime: the call that trapped, and every later use of
 * the core or of tensor data, throws one clear error saying it must be re-initialised, instead
 * of going on with silently changed weights.
 */

let trapped: { fn: string; cause: unknown } | null = null;

/** Thrown by the call that trapped and by every use of the core after it. */
export class RuntimeTrappedError extends Error {
  constructor(fn: string, cause: unknown) {
    super(
      `tread: the WebAssembly core trapped in ${fn} (${String((cause as Error)?.message ?? cause)}); its memory may be inconsistent ` +
        '(other tensors may have been overwritten), so tread refuses further use: restart the process (in a browser, reload the page) to re-initialise it',
      { cause },
    );
    this.name = 'RuntimeTrappedError';
  }
}

/** False once a wasm call has trapped. */
export function runtimeUsable(): boolean {
  return trapped === null;
}

/** Throws the runtime's trap error if a wasm call has trapped. */
export function assertUsable(): void {
  if (trapped !== null) throw new RuntimeTrappedError(trapped.fn, trapped.cause);
}

/** A trap shows in JS as a RuntimeError, or a RangeError when the wasm stack overflowed. */
function isTrap(e: unknown): boolean {
  return e instanceof WebAssembly.RuntimeError || e instanceof RangeError;
}

/**
 * The exports with every function wrapped: refused after a trap, and a trap marks the runtime
 * unusable. Other exports (memory, globals) pass through.
 */
export function guardExports<T extends object>(raw: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'function') {
      out[name] = value;
      continue;
    }
    const fn = value as (...args: number[]) => number;
    out[name] = (...args: number[]): number => {
      if (trapped !== null) throw new RuntimeTrappedError(trapped.fn, trapped.cause);
      try {
        return fn(...args);
      } catch (e) {
        if (!isTrap(e)) throw e;
        trapped = { fn: name, cause: e };
        throw new RuntimeTrappedError(name, e);
      }
    };
  }
  return out as T;
}
