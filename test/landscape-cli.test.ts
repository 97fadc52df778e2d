/**
 * `tread optimizers`: writes the page and its JSON, refuses to replace them without
 * --overwrite, and names unknown functions and flags with a hint.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { optimizersCommand } from '../ts/cli/optimizers.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: any) => (err.push(String(s)), true));
  return { out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('tread optimizers', () => {
  it('writes optimizers.html and .json, then refuses to overwrite them without --overwrite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tread-opt-'));
    let io = capture();
    expect(await optimizersCommand(['--out', dir, '--functions', 'booth,saddle', '--steps', '40', '--points', '3'])).toBe(0);
    vi.restoreAllMocks();
    const json = JSON.parse(readFileSync(join(dir, 'optimizers.json'), 'utf8'));
    expect(json.results.map((r: any) => r.function)).toEqual(['booth', 'saddle']);
    expect(json.results[0].runs).toHaveLength(11);
    const html = readFileSync(join(dir, 'optimizers.html'), 'utf8');
    expect(html.match(/<svg /g)?.length).toBe(2);
    expect(io.out.join('')).toMatch(/booth\s+best: /);
    io = capture();
    expect(await optimizersCommand(['--out', dir, '--functions', 'booth', '--steps', '5', '--points', '2'])).toBe(2);
    expect(io.err.join('')).toMatch(/already exist.*--overwrite/);
    expect(readFileSync(join(dir, 'optimizers.html'), 'utf8')).toBe(html);
  });

  it('names unknown functions, unknown flags and an --out that is a file', async () => {
    const io = capture();
    expect(await optimizersCommand(['--functions', 'rosenbrok'])).toBe(2);
    expect(io.err.join('')).toMatch(/unknown function 'rosenbrok' \(did you mean 'rosenbrock'\?\)/);
    expect(await optimizersCommand(['--step', '3'])).toBe(2);
    expect(io.err.join('')).toMatch(/unknown option --step \(did you mean --steps\?\)/);
    const file = join(mkdtempSync(join(tmpdir(), 'tread-opt-')), 'f');
    writeFileSync(file, 'mine');
    expect(await optimizersCommand(['--out', file])).toBe(2);
    expect(io.err.join('')).toMatch(/exists and is not a folder/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });
});
