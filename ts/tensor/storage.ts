/**
 * Storage: one allocation in wasm linear memory, shared by the tensors that view it.
 *
 * Lifetimes (see lifetime.ts): storage is freed by `dispose()`, by the step scope for
 * temporaries, or by the garbage collector (FinalizationRegistry) as a backstop. Once freed,
 * every tensor on it throws a clear error instead of reading whatever reuses the memory.
 */
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
  if (!h.cell.freed) {
    h.cell.freed = true;
    wasm().tread_free(h.ptr, h.bytes);
  }
});

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
    const ptr = wasm().tread_alloc(bytes);
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
    wasm().tread_free(this.ptr, this.bytes);
    liveBytes -= this.bytes;
    liveCount--;
  }
}

/** Bytes and buffers held by storages that were not freed explicitly (GC frees are not counted). */
export function liveStorage(): { bytes: number; count: number } {
  return { bytes: liveBytes, count: liveCount };
}
