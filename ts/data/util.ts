/**
 * Small helpers of tread.data over the wasm exports: scratch buffers, byte storage, errors.
 */
import { memoryBuffer, wasm } from '../runtime/wasm.js';
import { checkStorageBytes, Storage } from '../tensor/storage.js';

/** A malformed data file: names the file, where (line or byte offset) and what was expected. */
export class DataFormatError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly offset?: number;
  constructor(file: string, where: { line?: number; offset?: number; column?: number }, message: string) {
    const at =
      where.line !== undefined
        ? `:${where.line}${where.column !== undefined ? `, column ${where.column}` : ''}`
        : where.offset !== undefined
          ? ` at byte offset ${where.offset}`
          : '';
    super(`${file}${at}: ${message}`);
    this.name = 'DataFormatError';
    this.file = file;
    this.line = where.line;
    this.offset = where.offset;
  }
}

/** Runs `fn` with `bytes` of scratch wasm memory (16-byte aligned), freed afterwards. */
export function withScratch<T>(bytes: number, fn: (ptr: number) => T): T {
  const w = wasm();
  checkStorageBytes(bytes, 'tread.data: scratch');
  const ptr = w.tread_alloc(Math.max(bytes, 1)) >>> 0; // unsigned: memory above 2 GiB
  if (ptr === 0) throw new Error(`tread.data: out of wasm memory allocating ${bytes} bytes of scratch`);
  try {
    return fn(ptr);
  } finally {
    w.tread_free(ptr, Math.max(bytes, 1));
  }
}

export function f64View(ptr: number, n: number): Float64Array {
  return new Float64Array(memoryBuffer() as ArrayBuffer, ptr, n);
}

export function f32View(ptr: number, n: number): Float32Array {
  return new Float32Array(memoryBuffer() as ArrayBuffer, ptr, n);
}

export function i32View(ptr: number, n: number): Int32Array {
  return new Int32Array(memoryBuffer() as ArrayBuffer, ptr, n);
}

/**
 * Bytes in wasm memory (image data sets keep their pixels as u8 and widen them per batch).
 * Owned: freed by dispose() or by the garbage collector, never by a training step.
 */
export class ByteBuffer {
  readonly storage: Storage;
  readonly length: number;

  constructor(length: number) {
    this.length = length;
    this.storage = new Storage(Math.max(length, 1), false);
    this.storage.kept = true;
  }

  /** A copy of `bytes` in wasm memory. */
  static from(bytes: Uint8Array): ByteBuffer {
    const b = new ByteBuffer(bytes.length);
    b.bytes().set(bytes);
    return b;
  }

  get ptr(): number {
    if (this.storage.freed) throw new Error('tread.data: this data set was disposed');
    return this.storage.ptr;
  }

  /** A live view (re-read after anything that allocates). */
  bytes(): Uint8Array {
    return new Uint8Array(memoryBuffer() as ArrayBuffer, this.ptr, this.length);
  }

  dispose(): void {
    this.storage.free('disposed');
  }
}

/**
 * Node's fs, loaded lazily so the bundle still loads in browsers.
 * @internal (kept out of the published .d.ts, which must not need Node's types)
 */
export async function nodeFs(where: string): Promise<typeof import('node:fs')> {
  try {
    return await import('node:fs');
  } catch {
    throw new Error(`${where}: reading files needs Node (in a browser: tread.data.fetchMnist(url) for the digits, or tread.train.readBytes(await fetch(url)) and the parse* functions)`);
  }
}
