/**
 * Storage: one allocation in wasm linear memory, shared by the tensors that view it.
 *
 * Lifetimes (see lifetime.ts): storage is freed by `dispose()`, by the step scope for
 * temporaries, or by the garbage collector (FinalizationRegistry) as a backstop. Once freed,
 * every tensor on it throws a clear error instead of reading whatever reuses the memory.
 *
 * An owned storage that a training step did not use can be **spilled**: its bytes move into
 * an ordinary JS array (which the garbage collector reclaims with the tensor, even inside a
 * synchronous loop), its wasm memory is given back, and the next use of `ptr` moves it back
 * in (at another address). That is what keeps a loop that makes tensors from data every
 * step flat without dispose() (lifetime.ts says when it happens).
 */
import { runtimeUsable } from '../runtime/trap.js';
import { memoryBuffer, wasm } from '../runtime/wasm.js';

export type DType = 'float32' | 'int32';

/** Why a storage was freed, for the error message of a later use. */
export type FreeReason = 'disposed' | 'step' | 'scope';

/** What the finalizer frees: the wasm block a storage holds while it is in wasm memory. */
interface Held {
  ptr: number;
  bytes: number;
}

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
/** True when `bytes` is a size one storage may have (the fast check before building a message). */
export function storageBytesOk(bytes: number): boolean {
  return Number.isSafeInteger(bytes) && bytes >= 0 && bytes <= MAX_STORAGE_BYTES;
}

export function checkStorageBytes(bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`${what}: invalid size of ${bytes} bytes`);
  if (bytes > MAX_STORAGE_BYTES) {
    throw new Error(`${what} needs ${bytes} bytes (${(bytes / 2 ** 30).toFixed(2)} GiB); one buffer in wasm memory holds at most ${MAX_STORAGE_BYTES} bytes (2 GiB), and all of them together 4 GiB`);
  }
}

let liveBytes = 0;
let liveCount = 0;
let spillCount = 0;
let onUnspill: (s: Storage) => void = () => {};

/** lifetime.ts learns of storages that moved back in (candidates for spilling again). */
export function setUnspillHook(fn: (s: Storage) => void): void {
  onUnspill = fn;
}

const collected = new FinalizationRegistry<Held>((h) => {
  // The storage became unreachable without dispose(): give its block back. (Freed and
  // spilled storages are unregistered first, so this runs at most once per block.) After a
  // trap the core refuses every call, and a finalizer must not throw (it would crash Node).
  if (runtimeUsable()) wasm().tread_free(h.ptr, h.bytes);
  liveBytes -= h.bytes;
  liveCount--;
});

export class Storage {
  readonly bytes: number;
  private addr: number;
  /** The bytes while spilled out of wasm memory (null while resident). */
  private spilled: Uint8Array | null = null;
  private isFreedNow = false;
  freeReason: FreeReason | null = null;
  /** Temporaries (results of operations) are freed when their step ends (lifetime.ts). */
  readonly temporary: boolean;
  /** Kept storages are never freed by a step or a tidy scope, nor spilled: only dispose() or GC free them. */
  kept = false;
  /** Set by every use of `ptr` (every kernel call); the step scope reads and clears it. */
  used = true;
  /** Step ends in a row that found this storage unused (lifetime.ts spills after two). */
  idleSteps = 0;

  constructor(bytes: number, temporary: boolean) {
    this.bytes = bytes;
    this.temporary = temporary;
    this.addr = allocate(bytes);
    collected.register(this, { ptr: this.addr, bytes }, this);
  }

  /** Byte address in wasm memory (moves a spilled storage back in first). */
  get ptr(): number {
    if (this.spilled !== null) this.unspill();
    this.used = true;
    return this.addr;
  }

  get freed(): boolean {
    return this.isFreedNow;
  }

  get isSpilled(): boolean {
    return this.spilled !== null;
  }

  free(reason: FreeReason): void {
    if (this.isFreedNow) return;
    this.isFreedNow = true;
    this.freeReason = reason;
    if (this.spilled !== null) {
      this.spilled = null;
      return;
    }
    collected.unregister(this);
    release(this.addr, this.bytes);
  }

  /** Moves the bytes out of wasm memory into a JS array (see the header). */
  spill(): void {
    if (this.isFreedNow || this.spilled !== null) return;
    const copy = new Uint8Array(this.bytes);
    copy.set(new Uint8Array(memoryBuffer(), this.addr, this.bytes));
    collected.unregister(this);
    release(this.addr, this.bytes);
    this.spilled = copy;
    spillCount++;
  }

  private unspill(): void {
    const copy = this.spilled!;
    const ptr = allocate(this.bytes);
    new Uint8Array(memoryBuffer(), ptr, this.bytes).set(copy);
    this.addr = ptr;
    this.spilled = null;
    collected.register(this, { ptr, bytes: this.bytes }, this);
    onUnspill(this);
  }
}

function allocate(bytes: number): number {
  checkStorageBytes(bytes, 'tread: a storage');
  // Pointers cross the ABI as i32: read them unsigned, or memory above 2 GiB looks negative.
  const ptr = wasm().tread_alloc(bytes) >>> 0;
  if (ptr === 0) throw new Error(`tread: out of wasm memory allocating ${bytes} bytes (live: ${liveBytes} bytes in ${liveCount} buffers)`);
  liveBytes += bytes;
  liveCount++;
  return ptr;
}

function release(ptr: number, bytes: number): void {
  // After a trap the core refuses every call (runtime/trap.ts): the block is lost with it.
  if (runtimeUsable()) wasm().tread_free(ptr, bytes);
  liveBytes -= bytes;
  liveCount--;
}

/**
 * Bytes and buffers of tensor storage now in wasm memory (what dispose(), the step scope and
 * the garbage collector gave back is not counted), and how many times a storage was spilled.
 */
export function liveStorage(): { bytes: number; count: number; spills: number } {
  return { bytes: liveBytes, count: liveCount, spills: spillCount };
}
