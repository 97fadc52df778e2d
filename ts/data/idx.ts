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
import { checkOptions } from '../util/options.js';

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

/** Gunzips when needed (Node's zlib, or DecompressionStream in browsers), then parses. */
export async function decodeIdx(bytes: Uint8Array, name = '<idx bytes>'): Promise<IdxArray> {
  return parseIdx(await gunzipIfNeeded(bytes, name), name);
}

export async function gunzipIfNeeded(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  let zlib: typeof import('node:zlib') | null = null;
  try {
    zlib = await import('node:zlib');
  } catch {
    zlib = null;
  }
  try {
    if (zlib) {
      const out = zlib.gunzipSync(bytes);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    const ds = new (globalThis as any).DecompressionStream('gzip');
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(ds);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataFormatError(name, {}, `corrupted or truncated gzip data (${(e as Error).message}): expected a complete gzip stream`);
  }
}

/** Reads an IDX file, gzipped (by its content, not its name) or plain. Node only. */
export async function readIdx(path: string): Promise<IdxArray> {
  const fs = await nodeFs('readIdx');
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (e) {
    throw new Error(`readIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeIdx(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), path);
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
