/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written in
 * plain TypeScript, with no Node dependency (bytes in, bytes out):
 *
 *   [8 bytes: N, little-endian u64] [N bytes: JSON header] [data]
 *
 * The header maps each tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets
 * relative to the start of the data) and may hold `__metadata__`, a map of string to string.
 * Written files pad the header with spaces to a multiple of 8 bytes, as the reference
 * implementation does, so the data of every tensor is aligned for typed-array views.
 *
 * Reading validates everything a corrupt or truncated file can get wrong and throws a
 * `SafetensorsError` that says what and where; nothing is half-read.
 * dtypes read: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL. Floats become Float32Array
 * and integers Int32Array (I64 values must fit in 32 bits: PyTorch writes BatchNorm's
 * `num_batches_tracked` as I64). Written: F32, I32, and I64 on request.
 */

import { checkFileLimits, fileLimits, raiseHint, type FileLimits } from '../util/limits.js';
import { parseStrictJson, StrictJsonError } from './strict_json.js';

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** One tensor to write or as read: data is row-major. */
export interface SafeTensor {
  /** The dtype stored in the file (on write: F32 for Float32Array, I32 for Int32Array unless `I64`). */
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What write accepts for each tensor: the data and its shape; `dtype` only to force I64. */
export interface SafeTensorInput {
  shape: readonly number[];
  data: Float32Array | Int32Array;
  dtype?: 'F32' | 'I32' | 'I64';
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/**
 * What went wrong: 'corrupt' (the file breaks the format), 'unsupported' (a legal file tread
 * cannot read, e.g. an F8 dtype) or 'limit' (a file larger than a limit of ts/util/limits.ts).
 */
export type SafetensorsErrorKind = 'corrupt' | 'unsupported' | 'limit';

export class SafetensorsError extends Error {
  readonly kind: SafetensorsErrorKind;
  constructor(message: string, kind: SafetensorsErrorKind = 'corrupt') {
    super(message);
    this.name = 'SafetensorsError';
    this.kind = kind;
  }
}

/** dtypes of the safetensors format that tread does not read (legal files, not corrupt ones). */
const UNSUPPORTED_DTYPES = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'U16', 'U32', 'U64', 'C64']);

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Encodes tensors (in the given order) and string metadata into one safetensors file.
 * Throws on a shape that does not match its data or a name used twice.
 */
export function serializeSafetensors(
  tensors: Iterable<[string, SafeTensorInput]> | Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries: [string, SafeTensorInput][] = Symbol.iterator in Object(tensors) ? [...(tensors as Iterable<[string, SafeTensorInput]>)] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const plan: { data: Float32Array | Int32Array; dtype: 'F32' | 'I32' | 'I64'; begin: number }[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError(`'__metadata__' cannot be a tensor name`);
    if (Object.prototype.hasOwnProperty.call(header, name)) throw new SafetensorsError(`tensor '${name}' is given twice`);
    const n = numel(t.shape);
    if (n !== t.data.length) throw new SafetensorsError(`tensor '${name}': shape [${t.shape.join(', ')}] has ${n} elements but its data has ${t.data.length}`);
    const isInt = t.data instanceof Int32Array;
    let dtype: 'F32' | 'I32' | 'I64' = t.dtype ?? (isInt ? 'I32' : 'F32');
    if (dtype === 'F32' && isInt) throw new SafetensorsError(`tensor '${name}': F32 asked for, but the data is an Int32Array`);
    if (dtype !== 'F32' && !isInt) throw new SafetensorsError(`tensor '${name}': ${dtype} asked for, but the data is a Float32Array`);
    const bytes = n * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    plan.push({ data: t.data, dtype, begin: offset });
    offset += bytes;
  }
  const enc = new TextEncoder();
  let json = enc.encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const headerBytes = new Uint8Array(padded).fill(0x20);
  headerBytes.set(json);
  json = headerBytes;
  const out = new Uint8Array(8 + padded + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  const base = 8 + padded;
  for (const p of plan) {
    const at = base + p.begin;
    if (p.dtype === 'I64') {
      for (let i = 0; i < p.data.length; i++) dv.setBigInt64(at + i * 8, BigInt(p.data[i]), true);
    } else {
      // Little-endian hosts only (every JS engine that runs wasm is little-endian).
      out.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), at);
    }
  }
  return out;
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Decodes a safetensors file. Validates: the header length (present, within the file,
 * within `safetensorsHeaderBytes`, 100 MB by default), the header JSON (strict: no key named
 * twice, `__metadata__` included, valid UTF-8, nesting at most 16 deep, at most
 * `safetensorsTensors` entries; an object; every entry has a known dtype, a shape of
 * non-negative integers and data_offsets that match the shape's byte size), that the data
 * covers the rest of the file exactly with no overlaps or holes, and `__metadata__`
 * (strings only). `what` names the file in messages; `limits` overrides the limits of
 * ts/util/limits.ts (setFileLimits) for this call. A legal dtype tread does not read (F8_E4M3 ...)
 * is a SafetensorsError of kind 'unsupported', a limit exceeded one of kind 'limit'.
 */
export function parseSafetensors(bytes: Uint8Array, what = 'safetensors data', limits: Partial<Pick<FileLimits, 'safetensorsHeaderBytes' | 'safetensorsTensors'>> = {}): SafetensorsFile {
  const { safetensorsHeaderBytes: maxHeader, safetensorsTensors: maxTensors } = fileLimits(checkFileLimits('parseSafetensors', limits));
  const fail = (msg: string, kind: SafetensorsErrorKind = 'corrupt'): never => {
    throw new SafetensorsError(`${what}: ${msg}`, kind);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated or not a safetensors file)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  const n = Number(n64);
  if (n > maxHeader) {
    const past = 8 + n > bytes.length ? ` and runs past the end of the ${bytes.length}-byte file (corrupt, or not a safetensors file)` : `; ${raiseHint('safetensorsHeaderBytes', maxHeader)}`;
    fail(`header length ${n64} is larger than the limit of ${maxHeader} bytes${past}`, 8 + n > bytes.length ? 'corrupt' : 'limit');
  }
  if (8 + n > bytes.length) fail(`header length ${n64} runs past the end of the ${bytes.length}-byte file (truncated, corrupt, or not a safetensors file)`);
  if (n < 2) fail(`header length ${n} is too small to hold a JSON object`);
  let header: unknown;
  try {
    header = parseStrictJson(bytes.subarray(8, 8 + n), {
      maxDepth: 16,
      // One entry per tensor and __metadata__; each entry is a handful of values (dtype, shape, offsets).
      maxTopMembers: maxTensors + 1,
      maxMembers: Math.max(maxTensors + 1, 4096),
      maxValues: 4096 + 64 * (maxTensors + 1),
      membersHint: `more tensors than the limit; ${raiseHint('safetensorsTensors', maxTensors)}`,
      valuesHint: `more than the tensor limit allows; ${raiseHint('safetensorsTensors', maxTensors)}`,
    });
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    const kind = /limit/.test(e.message) ? 'limit' : 'corrupt';
    fail(`${kind === 'limit' ? 'header holds' : 'header is not valid JSON:'} ${e.message} of the header`, kind);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header JSON is not an object');
  const h = header as Record<string, any>;
  const metadata: Record<string, string> = {};
  if ('__metadata__' in h) {
    const m = h.__metadata__;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('__metadata__ is not an object');
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'string') fail(`__metadata__['${k}'] is not a string`);
      Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, SafeTensor>();
  for (const [name, e] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    if (e === null || typeof e !== 'object') fail(`entry '${name}' is not an object`);
    if (Array.isArray(e)) fail(`entry '${name}' is not an object`);
    const dtype = e.dtype as SafeDType;
    if (typeof dtype === 'string' && UNSUPPORTED_DTYPES.has(dtype)) {
      fail(`tensor '${name}' has dtype ${dtype}, a legal safetensors dtype that tread does not read (it reads ${Object.keys(DTYPE_BYTES).join(', ')})`, 'unsupported');
    }
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) fail(`tensor '${name}' has an unknown dtype ${short(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${short(shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0) || off[1] < off[0]) {
      fail(`tensor '${name}' has invalid data_offsets ${short(off)}`);
    }
    const count = numel(shape);
    const want = count * DTYPE_BYTES[dtype];
    if (off[1] - off[0] !== want) {
      fail(`tensor '${name}': ${dtype} [${shape.join(', ')}] needs ${want} bytes, but data_offsets [${off[0]}, ${off[1]}] span ${off[1] - off[0]}`);
    }
    if (off[1] > dataLen) {
      fail(`tensor '${name}' ends at byte ${off[1]} of the data, but the file holds only ${dataLen} bytes of data (truncated)`);
    }
    spans.push({ name, begin: off[0], end: off[1] });
    tensors.set(name, { dtype, shape: [...shape], data: decode(bytes, dataStart + off[0], count, dtype, name, fail) });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const s of spans) {
    if (s.begin < pos) fail(`tensor '${s.name}' overlaps the tensor before it (data_offsets begin at ${s.begin}, previous ends at ${pos})`);
    if (s.begin > pos) fail(`there is a hole in the data before tensor '${s.name}' (bytes ${pos}..${s.begin} belong to no tensor)`);
    pos = s.end;
  }
  if (pos !== dataLen) fail(`the data is ${dataLen} bytes but the tensors cover ${pos} (trailing bytes: corrupt or not written by a safetensors writer)`);
  return { tensors, metadata };
}

/** A value for a message: JSON of at most 60 characters (the parser bounds its nesting). */
function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

function decode(bytes: Uint8Array, at: number, count: number, dtype: SafeDType, name: string, fail: (m: string) => never): Float32Array | Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes.subarray(at, at + count * 4));
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      new Uint8Array(out.buffer).set(bytes.subarray(at, at + count * 4));
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(at + i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = f16ToF32(dv.getUint16(at + i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(at + i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(at + i * 8, true);
        if (v > 2147483647n || v < -2147483648n) fail(`tensor '${name}' (I64) holds ${v} at [${i}], which does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(at + i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(at + i);
      return out;
    }
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[at + i];
      return out;
    }
  }
}
