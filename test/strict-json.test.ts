/**
 * The strict JSON reader of headers (ts/train/strict_json.ts) against JSON.parse as the
 * reference: on seeded random documents and on damaged copies of them, it returns what
 * JSON.parse returns, or refuses exactly where JSON.parse does (plus its own refusals:
 * duplicate keys, invalid UTF-8, depth and size limits), always with a StrictJsonError.
 */
import { describe, expect, it } from 'vitest';
import { parseStrictJson, parseStrictJsonText, StrictJsonError } from '../ts/train/strict_json.js';
import { FuzzRandom } from '../tools/fuzz/random.js';

const STRINGS = ['', 'a', 'weight', 'é', '日本', '😀', 'quote"d', 'back\\slash', 'tab\t', 'nl\n', '\u0001', '\u2028', '__proto__', 'constructor'];

function randomValue(rng: FuzzRandom, depth: number): unknown {
  const k = depth > 5 ? rng.int(4) : rng.int(6);
  switch (k) {
    case 0: return rng.pick([0, -0, 1, -1, 1.5, 1e21, 1e-7, -2.5e-300, 123456789012, 2 ** 53 + 2]);
    case 1: return rng.pick(STRINGS) + (rng.chance(0.3) ? String(rng.int(100)) : '');
    case 2: return rng.pick([true, false, null]);
    case 3: return rng.int(1000);
    case 4: return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) Object.defineProperty(o, rng.pick(STRINGS) + String(rng.int(4)), { value: randomValue(rng, depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    }
  }
}

const encode = (s: string) => new TextEncoder().encode(s);

describe('parseStrictJson', () => {
  it('returns what JSON.parse returns on 2,000 random documents', () => {
    for (let i = 0; i < 2000; i++) {
      const rng = FuzzRandom.forCase(5, i);
      const v = randomValue(rng, 0);
      const text = rng.chance(0.5) ? JSON.stringify(v) : JSON.stringify(v, null, rng.int(3) + 1);
      expect(parseStrictJson(encode(text)), text).toEqual(JSON.parse(text));
    }
    // '__proto__' is an own key, never the prototype.
    const p = parseStrictJson(encode('{"__proto__":{"x":1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(Object.keys(p)).toEqual(['__proto__']);
  });

  it('on damaged text: refuses wherever JSON.parse does, and otherwise agrees with it', () => {
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const rng = FuzzRandom.forCase(6, i);
      let text = JSON.stringify(randomValue(rng, 0));
      const at = rng.int(text.length + 1);
      text = rng.chance(0.5) ? text.slice(0, at) + rng.pick(['{', '}', '[', ']', ',', ':', '"', '\\', '1', '-', 'e', ' ', 'x', '\u0000', '01']) + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      // The reference reads the same bytes (a cut surrogate pair becomes U+FFFD in UTF-8).
      text = new TextDecoder().decode(encode(text));
      let reference: unknown;
      let referenceFailed = false;
      try {
        reference = JSON.parse(text);
      } catch {
        referenceFailed = true;
      }
      let mine: unknown;
      let error: unknown = null;
      try {
        mine = parseStrictJsonText(text);
      } catch (e) {
        error = e;
      }
      if (error) {
        expect(error, text).toBeInstanceOf(StrictJsonError);
        refused++;
        // Refused though JSON.parse accepts: only for a key named twice.
        if (!referenceFailed) expect((error as Error).message, text).toMatch(/duplicate key/);
      } else {
        expect(referenceFailed, text).toBe(false);
        expect(mine, text).toEqual(reference);
      }
    }
    expect(refused).toBeGreaterThan(500);
  });

  it('refuses what JSON.parse lets through: duplicate keys, invalid UTF-8, depth, sizes', () => {
    expect(() => parseStrictJsonText('{"a":1,"b":{"c":1,"c":2}}')).toThrow(/duplicate key "c" .* at byte 18/);
    expect(() => parseStrictJson(Uint8Array.from([0x22, 0xff, 0x22]))).toThrow(/invalid UTF-8 in a string at byte 0/);
    expect(() => parseStrictJsonText(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(/nesting deeper than 64 levels at byte 64/);
    expect(parseStrictJsonText(`${'['.repeat(64)}${']'.repeat(64)}`)).toBeDefined();
    expect(() => parseStrictJsonText('[1,2,3]', { maxMembers: 2 })).toThrow(/more than 2 elements in one array/);
    expect(() => parseStrictJsonText('[[1],[2]]', { maxValues: 4 })).toThrow(/more than 4 values/);
    expect(() => parseStrictJsonText('{"a":1,"b":2,"c":3}', { maxTopMembers: 2, membersHint: 'raise it' })).toThrow(/more than 2 members in the outermost object \(raise it\) at byte 12/);
    expect(() => parseStrictJsonText('')).toThrow(/unexpected end of the text, expected a value at byte 0/);
    expect(() => parseStrictJsonText('1'.repeat(65))).toThrow(/number literal longer than 64 characters/);
  });
});
