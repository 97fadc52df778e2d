/**
 * Storage: one allocation in wasm linear memory, shared by the tensors that view it.
 *
 * Lifetimes (see lifetime.ts): storage is freed by `dispose()`, by the step scope for
 * temporaries, or by the garbage collector (FinalizationRegistry) as a backstop. Once freed,
 * every tensor on it throws a clear error instead of reading whatever reuses the memory.
 */
import { runtimeUsable } from '../runtime/trap.js';
import { wasm } from '../runtime/wasm.js';

export type DType = 'float32' | 'int32';

/** Why a storage was freed, for the error message of a later use. */
export type FreeReason = 'disposed' | 'step' | 'scope';

interface Held {
  ptr: number;
  bytes: number;
  cell: { freed: boolean };
}

const collected = new FinalizationRegistry<Held>((h) => {
  // After a trap the core refuses every call; a finalizer must not throw (it would crash Node).
  if (!h.cell.freed && runtimeUsable()) {
    h.cell.freed = true;
    wasm().tread_free(h.ptr, h.bytes);
  }
});

/**
 * The most one storage may hold: wasm32 addresses 4 GiB in all, and one allocation is at most
 * isize::MAX = 2 GiB - 1 (rounded down to the 16-byte alignment).
 */
export const MAX_STORAGE_BYTES = 2 ** 31 - 16;

/**
 * Checks a size in JS-number arithmetic before it crosses the ABI, where it would be cut to 32
 * bits (2^32 + 16 bytes would become a 16-byte block that a kernel then writes far past).
 * `what` says what is being allocated, e.g. "a float32 tensor of shape [65536, 65536]".
 */
export function checkStorageBytes(bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`${what}: invalid size of ${bytes} bytes`);
  if (bytes > MAX_STORAGE_BYTES) {
    throw new Error(`${what} needs ${bytes} bytes (${(bytes / 2 ** 30).toFixed(2)} GiB); one buffer in wasm memory holds at most ${MAX_STORAGE_BYTES} bytes (2 GiB), and all of them together 4 GiB`);
  }
}

let liveBytes = 0;
let liveCount = 0;

export class Storage {
  readonly ptr: number;
  readonly bytes: number;
  /** Shared with the finalizer, so a storage is freed exactly once. */
  private readonly cell = { freed: false };
  freeReason: FreeReason | null = null;
  /** Temporaries (results of operations) are freed when their step ends (lifetime.ts). */
  readonly temporary: boolean;
  /** Kept storages are never freed by a step or a tidy scope, only by dispose() or GC. */
  kept = false;

  constructor(bytes: number, temporary: boolean) {
    checkStorageBytes(bytes, 'tread: a storage');
    // Pointers cross the ABI as i32: read them unsigned, or memory above 2 GiB looks negative.
    const ptr = wasm().tread_alloc(bytes) >>> 0;
    if (ptr === 0) throw new Error(`tread: out of wasm memory allocating ${bytes} bytes (live: ${liveBytes} bytes in ${liveCount} buffers)`);
    this.ptr = ptr;
    this.bytes = bytes;
    this.temporary = temporary;
    liveBytes += bytes;
    liveCount++;
    collected.register(this, { ptr, bytes, cell: this.cell }, this);
  }

  get freed(): boolean {
    return this.cell.freed;
  }

  free(reason: FreeReason): void {
    if (this.cell.freed) return;
    this.cell.freed = true;
    this.freeReason = reason;
    collected.unregister(this);
    // After a trap the memory is garbage anyway, and the core refuses calls: nothing to give back.
    if (runtimeUsable()) wasm().tread_free(this.ptr, this.bytes);
    liveBytes -= this.bytes;
    liveCount--;
  }
}

/** Bytes and buffers held by storages that were not freed explicitly (GC frees are not counted). */
export function liveStorage(): { bytes: number; count: number } {
  return { bytes: liveBytes, count: liveCount };
}
