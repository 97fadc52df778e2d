/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), plain or
 * gzipped: magic `00 00 <type> <ndims>`, ndims big-endian u32 dimensions, then the values
 * (big-endian). Types: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.
 *
 * A malformed file (bad gzip, wrong magic, unknown type, truncated, or with bytes left over)
 * is rejected with a DataFormatError naming the file, the byte offset and what was
 * expected; nothing is returned half-read.
 */
import { ImageDataset } from './dataset.js';
import { DataFormatError, nodeFs } from './util.js';
import { fileLimits, raiseHint } from '../util/limits.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface IdxArray {
  type: IdxType;
  dims: number[];
  /** The values; for uint8 a view of the (decompressed) file bytes, no copy. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { type: IdxType; size: number }> = {
  0x08: { type: 'uint8', size: 1 },
  0x09: { type: 'int8', size: 1 },
  0x0b: { type: 'int16', size: 2 },
  0x0c: { type: 'int32', size: 4 },
  0x0d: { type: 'float32', size: 4 },
  0x0e: { type: 'float64', size: 8 },
};

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** True when the bytes start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses uncompressed IDX bytes; `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name = '<idx bytes>'): IdxArray {
  if (isGzip(bytes)) throw new DataFormatError(name, { offset: 0 }, 'gzip data: decompress it first (readIdx / decodeIdx do)');
  if (bytes.length < 4) {
    throw new DataFormatError(name, { offset: bytes.length }, `truncated IDX header: expected at least 4 bytes (magic), the file has ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(name, { offset: 0 }, `not an IDX file: expected the magic 0x00 0x00 <type> <ndims>, found ${hex(bytes[0])} ${hex(bytes[1])}`);
  }
  const t = TYPES[bytes[2]];
  if (!t) throw new DataFormatError(name, { offset: 2 }, `unknown IDX type code ${hex(bytes[2])}: expected one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e`);
  const ndims = bytes[3];
  if (ndims === 0) throw new DataFormatError(name, { offset: 3 }, 'IDX header declares 0 dimensions: expected at least 1');
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new DataFormatError(name, { offset: bytes.length }, `truncated IDX header: ${ndims} dimensions need ${header} header bytes, the file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const expected = count * t.size;
  const have = bytes.length - header;
  const shape = dims.join('x');
  if (have < expected) {
    throw new DataFormatError(name, { offset: bytes.length },
      `truncated IDX data: the header declares ${shape} ${t.type} (${expected} bytes from offset ${header}), but the file ends after ${have} bytes (${bytes.length} in all)`);
  }
  if (have > expected) {
    throw new DataFormatError(name, { offset: header + expected },
      `size mismatch: the header declares ${shape} ${t.type} (${expected} bytes from offset ${header}), but ${have - expected} more bytes follow`);
  }
  let data: IdxArray['data'];
  if (t.type === 'uint8') data = bytes.subarray(header, header + expected);
  else if (t.type === 'int8') data = new Int8Array(bytes.buffer, bytes.byteOffset + header, count);
  else {
    const Ctor = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[t.type];
    const out = new Ctor(count);
    for (let i = 0; i < count; i++) {
      const o = header + i * t.size;
      out[i] =
        t.type === 'int16' ? view.getInt16(o, false)
        : t.type === 'int32' ? view.getInt32(o, false)
        : t.type === 'float32' ? view.getFloat32(o, false)
        : view.getFloat64(o, false);
    }
    data = out;
  }
  return { type: t.type, dims, data };
}

/** Options of decodeIdx / readIdx. */
export interface IdxReadOptions {
  /** Most bytes of values (after decompression) to accept; default: the `idxBytes` file limit (1 GiB, setFileLimits). */
  maxBytes?: number;
}

function maxIdxBytes(owner: string, options: IdxReadOptions): number {
  checkOptions(owner, options, ['maxBytes']);
  if (options.maxBytes === undefined) return fileLimits().idxBytes;
  return checkNumberOption(owner, 'maxBytes', options.maxBytes, { min: 1, integer: true });
}

/**
 * The byte size an IDX header declares (header + values), or null when `head` is too short to
 * tell or is not an IDX header (parseIdx then says why).
 */
function declaredSize(head: Uint8Array): { header: number; values: number; shape: string; type: IdxType } | null {
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || !TYPES[head[2]] || head[3] === 0) return null;
  const header = 4 + 4 * head[3];
  if (head.length < header) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < head[3]; i++) dims.push(view.getUint32(4 + 4 * i, false));
  // In doubles: a product past 2^53 is only compared against the limit, never allocated.
  const values = dims.reduce((a, d) => a * d, 1) * TYPES[head[2]].size;
  return { header, values, shape: dims.join('x'), type: TYPES[head[2]].type };
}

function refuseSize(name: string, size: { values: number; shape: string; type: IdxType }, max: number): never {
  throw new DataFormatError(name, { offset: 4 },
    `the header declares ${size.shape} ${size.type} (${size.values} bytes of values), more than the limit of ${max} bytes; ${raiseHint('idxBytes', max)} or pass { maxBytes }`);
}

/** Gunzips when needed (bounded, streaming: see gunzipIdx), then parses. */
export async function decodeIdx(bytes: Uint8Array, name = '<idx bytes>', options: IdxReadOptions = {}): Promise<IdxArray> {
  const max = maxIdxBytes('decodeIdx', options);
  if (!isGzip(bytes)) {
    const size = declaredSize(bytes);
    if (size && size.values > max) refuseSize(name, size, max);
    return parseIdx(bytes, name);
  }
  return parseIdx(await gunzipIdx(bytes, name, max), name);
}

/**
 * Inflates gzipped IDX bytes no further than the header says (plus one byte, to see excess):
 * a decompression bomb costs the time to inflate its header, not its claimed size. A header
 * that declares more than `max` bytes of values is refused before anything more is inflated.
 * Node uses zlib with a bounded output (gunzipIdxNode), browsers DecompressionStream read chunk
 * by chunk (gunzipIdxStream): either way the work stops where the reading does. What comes back
 * is what parseIdx then checks (magic, type, truncation, excess).
 */
export async function gunzipIdx(bytes: Uint8Array, name: string, max: number): Promise<Uint8Array> {
  let zlib: typeof import('node:zlib') | null = null;
  try {
    zlib = await import('node:zlib');
  } catch {
    zlib = null;
  }
  if (zlib) return gunzipIdxNode(zlib, bytes, name, max);
  return gunzipIdxStream(bytes, name, max);
}

/** Browsers: DecompressionStream, read chunk by chunk and cancelled once past the declared size. */
export async function gunzipIdxStream(bytes: Uint8Array, name: string, max: number): Promise<Uint8Array> {
  const DS = (globalThis as any).DecompressionStream;
  if (typeof DS !== 'function') throw new Error(`decodeIdx: ${name} is gzipped, and this JavaScript engine has no DecompressionStream`);
  const reader = (new Blob([bytes as BlobPart]).stream().pipeThrough(new DS('gzip')) as ReadableStream<Uint8Array>).getReader();
  let head = new Uint8Array(0);
  let out: Uint8Array | null = null;
  let got = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!out) {
        const joined = new Uint8Array(head.length + value.length);
        joined.set(head);
        joined.set(value, head.length);
        head = joined;
        const size = declaredSize(head);
        if (size === null) {
          // Not an IDX magic: inflate no more, parseIdx says why. Else the header is not complete yet.
          const badMagic = head.length >= 4 && (head[0] !== 0 || head[1] !== 0 || !TYPES[head[2]] || head[3] === 0);
          if (badMagic) return head.subarray(0, 4);
          continue;
        }
        if (size.values > max) refuseSize(name, size, max);
        out = new Uint8Array(size.header + size.values + 1);
        const take = Math.min(head.length, out.length);
        out.set(head.subarray(0, take));
        got = take;
      } else {
        const take = Math.min(value.length, out.length - got);
        out.set(value.subarray(0, take), got);
        got += take;
      }
      if (got === out.length) break; // one byte past the declared size: parseIdx reports the excess
    }
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(name, {}, `corrupted or truncated gzip data (${(e as Error).message}): expected a complete gzip stream`);
  } finally {
    reader.cancel().catch(() => {});
  }
  return out ? out.subarray(0, got) : head;
}

/**
 * Node: zlib in two bounded steps, about 3x faster than the stream. First the header, from a
 * prefix of the compressed bytes inflated with a sync flush (deflate expands at most ~1032x, so
 * a 256-byte prefix gives at most ~256 KiB); then the whole stream with `maxOutputLength`
 * set to the declared size + 1, so zlib stops as soon as the data runs past what the header says.
 */
function gunzipIdxNode(zlib: typeof import('node:zlib'), bytes: Uint8Array, name: string, max: number): Uint8Array {
  const corrupt = (e: unknown) =>
    new DataFormatError(name, {}, `corrupted or truncated gzip data (${(e as Error).message}): expected a complete gzip stream`);
  // Growing prefixes: 256 compressed bytes inflate to at most ~256 KiB and nearly always hold the header.
  let head = new Uint8Array(0);
  let size: ReturnType<typeof declaredSize> = null;
  for (const prefix of [256, 4096, 1 << 16]) {
    try {
      head = zlib.gunzipSync(bytes.subarray(0, prefix), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw corrupt(e);
    }
    size = declaredSize(head);
    const badMagic = head.length >= 4 && (head[0] !== 0 || head[1] !== 0 || !TYPES[head[2]] || head[3] === 0);
    if (size !== null || badMagic || prefix >= bytes.length) break;
  }
  // Not an IDX header (or none at all): parseIdx says why from these bytes.
  if (size === null) return head;
  if (size.values > max) refuseSize(name, size, max);
  const total = size.header + size.values;
  try {
    const out = zlib.gunzipSync(bytes, { maxOutputLength: Math.max(total + 1, 1) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFormatError(name, { offset: total },
        `size mismatch: the header declares ${size.shape} ${size.type} (${size.values} bytes from offset ${size.header}), but the gzip data inflates to more`);
    }
    throw corrupt(e);
  }
}

/** Reads an IDX file, gzipped (by its content, not its name) or plain. Node only. */
export async function readIdx(path: string, options: IdxReadOptions = {}): Promise<IdxArray> {
  const max = maxIdxBytes('readIdx', options);
  const fs = await nodeFs('readIdx');
  let raw: Buffer;
  try {
    // A plain file larger than any header plus the limit is refused before it is read.
    const size = fs.statSync(path).size;
    if (size > max + 4 + 4 * 255) {
      throw new DataFormatError(path, {}, `the file is ${size} bytes, more than the limit of ${max} bytes of values; ${raiseHint('idxBytes', max)} or pass { maxBytes }`);
    }
    raw = fs.readFileSync(path);
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new Error(`readIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeIdx(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), path, options);
}

/**
 * An ImageDataset from an IDX image file (u8, [N, H, W] or [N, C, H, W]) and an IDX label
 * file (u8 or i32, [N]). Both are read and checked before anything goes into wasm memory.
 */
export async function loadIdxImages(
  imagesPath: string,
  labelsPath: string,
  options: { classes?: readonly string[]; scale?: number } = {},
): Promise<ImageDataset> {
  checkOptions('loadIdxImages', options, ['classes', 'scale']);
  options ??= {};
  const images = await readIdx(imagesPath);
  const labels = await readIdx(labelsPath);
  if (images.type !== 'uint8' || (images.dims.length !== 3 && images.dims.length !== 4)) {
    throw new DataFormatError(imagesPath, { offset: 2 }, `expected u8 images [N, H, W] (type 0x08, 3 dimensions), found ${images.type} [${images.dims.join(', ')}]`);
  }
  if ((labels.type !== 'uint8' && labels.type !== 'int32') || labels.dims.length !== 1) {
    throw new DataFormatError(labelsPath, { offset: 2 }, `expected u8 labels [N] (type 0x08, 1 dimension), found ${labels.type} [${labels.dims.join(', ')}]`);
  }
  const n = images.dims[0];
  if (labels.dims[0] !== n) {
    throw new DataFormatError(labelsPath, { offset: 4 }, `expected ${n} labels (one per image in ${imagesPath}), the file declares ${labels.dims[0]}`);
  }
  if (options.classes) {
    const k = options.classes.length;
    for (let i = 0; i < n; i++) {
      const y = labels.data[i];
      if (y < 0 || y >= k) throw new DataFormatError(labelsPath, { offset: 8 + i * (labels.type === 'uint8' ? 1 : 4) }, `label ${y} of image ${i} is outside 0..${k - 1}`);
    }
  }
  const shape = images.dims.length === 3 ? [n, 1, images.dims[1], images.dims[2]] : images.dims;
  return new ImageDataset(images.data as Uint8Array, shape, labels.data, { classes: options.classes, scale: options.scale });
}
