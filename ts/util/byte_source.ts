/**
 * Bytes from what a browser hands a page: a `File` from an <input type="file"> or a drop, a
 * `Blob`, a `fetch()` Response, an ArrayBuffer or a typed array. No Node dependency.
 *
 * The input may be hostile (a file a user picked, a URL someone else serves), so the size is
 * checked before anything is read where it is known up front (Blob.size, Content-Length),
 * and while reading a stream otherwise: nothing larger than `maxBytes` is ever allocated.
 */
import { checkNumberOption, checkOptions } from './options.js';

/** What readBytes accepts. */
export type ByteSource = Blob | Response | ArrayBuffer | ArrayBufferView;

export interface ReadBytesOptions {
  /** Refuse sources larger than this many bytes (default 2 GiB, the most wasm memory can hold anyway). */
  maxBytes?: number;
  /** Names the source in errors (default: the File's name, the Response's URL, or 'bytes'). */
  what?: string;
}

export const DEFAULT_MAX_BYTES = 2 ** 31;

/** Names a source in messages: file 'a.safetensors', 'http://...', the blob, the bytes. */
export function describeByteSource(source: ByteSource): string {
  if (typeof File !== 'undefined' && source instanceof File) return `file '${source.name}'`;
  if (typeof Response !== 'undefined' && source instanceof Response) return source.url ? `'${source.url}'` : 'the response';
  if (typeof Blob !== 'undefined' && source instanceof Blob) return 'the blob';
  return 'the bytes';
}

function tooLarge(what: string, size: number | string, max: number): Error {
  return new Error(`readBytes: ${what} is ${size} bytes, more than maxBytes (${max}); pass { maxBytes } to allow it`);
}

/** Reads a source into one Uint8Array (a copy for Blobs and Responses; a view for buffers). */
export async function readBytes(source: ByteSource, options: ReadBytesOptions = {}): Promise<Uint8Array> {
  checkOptions('readBytes', options, ['maxBytes', 'what']);
  const max = options.maxBytes === undefined ? DEFAULT_MAX_BYTES : checkNumberOption('readBytes', 'maxBytes', options.maxBytes, { min: 0, integer: true });
  const what = options.what ?? describeByteSource(source);
  if (source instanceof ArrayBuffer) {
    if (source.byteLength > max) throw tooLarge(what, source.byteLength, max);
    return new Uint8Array(source);
  }
  if (ArrayBuffer.isView(source)) {
    if (source.byteLength > max) throw tooLarge(what, source.byteLength, max);
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (source.size > max) throw tooLarge(what, source.size, max);
    return new Uint8Array(await source.arrayBuffer());
  }
  if (typeof Response !== 'undefined' && source instanceof Response) return readResponse(source, what, max);
  throw new TypeError(`readBytes: expected a File, Blob, Response, ArrayBuffer or typed array, got ${source === null ? 'null' : typeof source === 'object' ? (source as object).constructor?.name ?? 'an object' : typeof source}`);
}

async function readResponse(res: Response, what: string, max: number): Promise<Uint8Array> {
  if (!res.ok) throw new Error(`readBytes: ${what} failed with HTTP ${res.status} ${res.statusText}`.trimEnd());
  if (res.bodyUsed) throw new Error(`readBytes: the body of ${what} was already read`);
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max) throw tooLarge(what, declared, max);
  if (!res.body) return new Uint8Array(0);
  // Stream it, counting: Content-Length may be absent or wrong (compressed bodies).
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, `more than ${max}`, max);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
