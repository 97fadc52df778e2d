/** The flag walk shared by tread landscape / optimizers / export (ts/cli/flags.ts). */
import { describe, expect, it } from 'vitest';
import { numberFlag, walkFlags } from '../ts/cli/flags.js';
import { parseLandscapeArgs } from '../ts/cli/landscape.js';

function walk(argv: string[], positional = true) {
  const seen: string[] = [];
  const go = walkFlags(argv, {
    command: 'demo',
    values: ['out', 'steps'],
    switches: ['overwrite'],
    value: (f, v) => seen.push(`${f}=${v}`),
    flip: (f) => seen.push(f),
    ...(positional ? { positional: (a: string) => seen.push(`pos:${a}`) } : {}),
  });
  return { go, seen };
}

describe('walkFlags', () => {
  it('reads --flag value, --flag=value (values may hold =), switches and positionals in order', () => {
    expect(walk(['a.bin', '--out', 'x', '--steps=3', '--overwrite', '--out=k=v'])).toEqual({
      go: true,
      seen: ['pos:a.bin', 'out=x', 'steps=3', 'overwrite', 'out=k=v'],
    });
  });
  it('stops at --help / -h', () => {
    expect(walk(['--out', 'x', '-h', '--bogus']).go).toBe(false);
    expect(walk(['--help']).go).toBe(false);
  });
  it('names an unknown flag with the nearest known one', () => {
    expect(() => walk(['--ovewrite'])).toThrow(/unknown option --ovewrite \(did you mean --overwrite\?\); see tread demo --help/);
    expect(() => walk(['--zzzzzz'])).toThrow(/unknown option --zzzzzz; see tread demo --help/);
  });
  it('refuses a missing value, a value on a switch, and positionals where none are taken', () => {
    expect(() => walk(['--out'])).toThrow('--out needs a value');
    expect(() => walk(['--overwrite=yes'])).toThrow('--overwrite takes no value');
    expect(() => walk(['stray'], false)).toThrow("unexpected argument 'stray' (see tread demo --help)");
  });
  it('numberFlag checks range and integrality', () => {
    expect(numberFlag('n', '7', 1, 10)).toBe(7);
    expect(numberFlag('r', '0.5', 0, 1, false)).toBe(0.5);
    expect(() => numberFlag('n', '0.5', 1, 10)).toThrow('--n: expected an integer in 1..10, got "0.5"');
    expect(() => numberFlag('n', '11', 1, 10)).toThrow(/in 1\.\.10/);
    expect(() => numberFlag('n', '', 1, 10)).toThrow(/got ""/);
    expect(() => numberFlag('n', 'NaN', 1, 10, false)).toThrow(/a number in/);
  });
  it('tread landscape parses through it', () => {
    const a = parseLandscapeArgs(['run/ck.safetensors', '--resolution=31', '--range', '0.5', '--overwrite'])!;
    expect(a).toMatchObject({ checkpoint: 'run/ck.safetensors', resolution: 31, range: 0.5, overwrite: true, samples: 1000 });
    expect(() => parseLandscapeArgs(['a', 'b'])).toThrow(/expected one checkpoint file, got a b/);
    expect(() => parseLandscapeArgs(['a', '--resolution', '1'])).toThrow(/--resolution: expected an integer in 2\.\.201/);
  });
});
