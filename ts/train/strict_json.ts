/**
 * A strict, bounded JSON reader for headers of files that may be hostile (safetensors headers
 * and the JSON that tread keeps in their `__metadata__`).
 *
 * Why not JSON.parse: it keeps the *last* of two equal keys silently (so two readers can see
 * two different files in one), it decodes invalid UTF-8 to U+FFFD without a word, it needs
 * the whole header as one JS string (a 100 MB header doubles in memory), and what walks its
 * result afterwards (a reviver, JSON.stringify in a message) overflows the stack on deeply
 * nested input. This reader works on the UTF-8 bytes directly and refuses, with the byte
 * offset: duplicate keys in any object, invalid UTF-8 in strings, bytes outside strings that
 * are not JSON, nesting deeper than `maxDepth`, more than `maxMembers` members in one object
 * or array and more than `maxValues` values in all. The result is plain objects and arrays,
 * exactly what JSON.parse would return for a file without those defects.
 */

export interface StrictJsonLimits {
  /** Containers nested deeper than this are refused (default 64). */
  maxDepth?: number;
  /** Members of one object or elements of one array (default 1,000,000). */
  maxMembers?: number;
  /** Values in the whole document (default 10,000,000). */
  maxValues?: number;
  /** Members of the outermost object or array, counted before anything is built (default: no such count). */
  maxTopMembers?: number;
  /** Names the limit in messages when maxMembers or maxTopMembers is hit (which option raises it). */
  membersHint?: string;
  /** Names the limit in messages when maxValues is hit. */
  valuesHint?: string;
}

export class StrictJsonError extends Error {
  /** Byte offset of the problem. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'StrictJsonError';
    this.offset = offset;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** Parses UTF-8 JSON bytes; throws StrictJsonError naming the byte offset and the defect. */
export function parseStrictJson(bytes: Uint8Array, limits: StrictJsonLimits = {}): unknown {
  const maxDepth = limits.maxDepth ?? 64;
  const maxMembers = limits.maxMembers ?? 1_000_000;
  const maxValues = limits.maxValues ?? 10_000_000;
  let pos = 0;
  let values = 0;
  const n = bytes.length;

  const fail = (msg: string, at = pos): never => {
    throw new StrictJsonError(`${msg} at byte ${at}`, at);
  };
  const skipSpace = () => {
    while (pos < n) {
      const c = bytes[pos];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };
  const describe = (c: number | undefined) =>
    c === undefined ? 'end of the text' : c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
  const count = () => {
    if (++values > maxValues) fail(`more than ${maxValues} values${limits.valuesHint ? ` (${limits.valuesHint})` : ''}`);
  };

  const readString = (): string => {
    const start = pos; // at the opening quote
    pos++;
    let escaped = false;
    let ascii = true;
    for (;;) {
      if (pos >= n) fail('unterminated string', start);
      const c = bytes[pos];
      if (c === 0x22) break;
      if (c < 0x20) fail(`control character 0x${c.toString(16).padStart(2, '0')} inside a string`);
      if (c >= 0x80) ascii = false;
      if (c === 0x5c) {
        escaped = true;
        const e = bytes[pos + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) {
            const h = bytes[pos + k];
            const hex = h !== undefined && ((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66));
            if (!hex) fail('invalid \\u escape in a string');
          }
          pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(e))) fail(`invalid escape ${describe(e)} in a string`);
        pos += 2;
        continue;
      }
      pos++;
    }
    const raw = bytes.subarray(start + 1, pos);
    pos++; // closing quote
    let text: string;
    if (ascii && raw.length <= 64) {
      text = '';
      for (let k = 0; k < raw.length; k++) text += String.fromCharCode(raw[k]);
    } else if (ascii && raw.length <= 1024) text = String.fromCharCode.apply(null, raw as unknown as number[]);
    else {
      try {
        text = utf8.decode(raw);
      } catch {
        return fail('invalid UTF-8 in a string', start);
      }
    }
    // Escapes were checked above, so JSON.parse of this one flat string cannot fail or recurse.
    return escaped ? (JSON.parse(`"${text}"`) as string) : text;
  };

  const readNumber = (): number => {
    const start = pos;
    while (pos < n) {
      const c = bytes[pos];
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) pos++;
      else break;
    }
    if (pos - start > 64) fail('number literal longer than 64 characters', start);
    let s = '';
    for (let k = start; k < pos; k++) s += String.fromCharCode(bytes[k]);
    if (!NUMBER.test(s)) fail(`invalid number ${JSON.stringify(s)}`, start);
    return Number(s);
  };

  const literal = (word: string, v: unknown): unknown => {
    for (let k = 0; k < word.length; k++) if (bytes[pos + k] !== word.charCodeAt(k)) fail(`unexpected ${describe(bytes[pos])}`);
    pos += word.length;
    return v;
  };

  const readValue = (depth: number): unknown => {
    skipSpace();
    count();
    const c = bytes[pos];
    if (c === 0x7b || c === 0x5b) {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth} levels`);
      return c === 0x7b ? readObject(depth + 1) : readArray(depth + 1);
    }
    if (c === 0x22) return readString();
    if (c === 0x74) return literal('true', true);
    if (c === 0x66) return literal('false', false);
    if (c === 0x6e) return literal('null', null);
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return readNumber();
    return fail(`unexpected ${describe(c)}, expected a value`);
  };

  const readObject = (depth: number): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    pos++; // {
    skipSpace();
    if (bytes[pos] === 0x7d) {
      pos++;
      return obj;
    }
    let members = 0;
    for (;;) {
      skipSpace();
      if (bytes[pos] !== 0x22) fail(`unexpected ${describe(bytes[pos])}, expected a key in quotes`);
      const keyAt = pos;
      const key = readString();
      if (Object.prototype.hasOwnProperty.call(obj, key)) {
        fail(`duplicate key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}...` : key)} (a file that names a key twice means two things)`, keyAt);
      }
      if (++members > maxMembers) fail(`more than ${maxMembers} members in one object${limits.membersHint ? ` (${limits.membersHint})` : ''}`, keyAt);
      skipSpace();
      if (bytes[pos] !== 0x3a) fail(`unexpected ${describe(bytes[pos])}, expected ':'`);
      pos++;
      const v = readValue(depth);
      // An own property even for '__proto__' (as JSON.parse makes it), never the prototype.
      if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[key] = v;
      skipSpace();
      const d = bytes[pos];
      pos++;
      if (d === 0x7d) return obj;
      if (d !== 0x2c) fail(`unexpected ${describe(d)}, expected ',' or '}'`, pos - 1);
    }
  };

  const readArray = (depth: number): unknown[] => {
    const arr: unknown[] = [];
    pos++; // [
    skipSpace();
    if (bytes[pos] === 0x5d) {
      pos++;
      return arr;
    }
    for (;;) {
      if (arr.length >= maxMembers) fail(`more than ${maxMembers} elements in one array${limits.membersHint ? ` (${limits.membersHint})` : ''}`);
      arr.push(readValue(depth));
      skipSpace();
      const d = bytes[pos];
      pos++;
      if (d === 0x5d) return arr;
      if (d !== 0x2c) fail(`unexpected ${describe(d)}, expected ',' or ']'`, pos - 1);
    }
  };

  if (limits.maxTopMembers !== undefined) precountTop(bytes, limits.maxTopMembers, limits.membersHint);
  const v = readValue(0);
  skipSpace();
  if (pos < n) fail(`unexpected ${describe(bytes[pos])} after the end of the JSON value`);
  return v;
}

/**
 * Counts the members of the outermost container with a tight byte loop (strings, escapes and
 * nesting only) and refuses past `max`: a header of a million entries is refused after reading
 * the first `max`, before any object is built. Malformed JSON is left to the parser.
 */
function precountTop(bytes: Uint8Array, max: number, hint: string | undefined): void {
  let depth = 0;
  let members = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      if (depth === 1 && members === 0) members = 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 1 && members === 0) members = 1;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (--depth <= 0) return;
    } else if (c === 0x2c && depth === 1 && ++members > max) {
      throw new StrictJsonError(`more than ${max} members in the outermost object${hint ? ` (${hint})` : ''} at byte ${i}`, i);
    }
  }
}

const encoder = new TextEncoder();

/** parseStrictJson for JSON held in a JS string (e.g. a metadata value). */
export function parseStrictJsonText(text: string, limits: StrictJsonLimits = {}): unknown {
  return parseStrictJson(encoder.encode(text), limits);
}
