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

describe('tread landscape', () => {
  it('rebuilds a tread train run from its checkpoint and writes the line and the plane', async () => {
    const { trainCommand } = await import('../ts/cli/train.js');
    const { landscapeCommand } = await import('../ts/cli/landscape.js');
    const dir = mkdtempSync(join(tmpdir(), 'tread-land-'));
    let io = capture();
    expect(await trainCommand(['--model', 'mlp', '--width', '32', '--limit', '512', '--epochs', '2', '--schedule', 'none', '--no-progress', '--no-monitor', '--out', dir])).toBe(0);
    vi.restoreAllMocks();
    io = capture();
    const code = await landscapeCommand([join(dir, 'checkpoint.safetensors'), '--samples', '200', '--resolution', '5', '--line-points', '9']);
    vi.restoreAllMocks();
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(readFileSync(join(dir, 'landscape.json'), 'utf8'));
    expect(j.samples).toBeGreaterThanOrEqual(200);
    expect(j.line.alphas).toHaveLength(9);
    const at = (a: number) => j.line.values[j.line.alphas.findIndex((x: number) => Math.abs(x - a) < 1e-9)];
    // α = 0 is the run's initialization (rebuilt from its seed): a 10-class net at init scores about ln 10.
    expect(Math.abs(at(0).loss - Math.log(10))).toBeLessThan(0.5);
    // α = 1 is the trained model, and it is the plane's center.
    expect(at(1).loss).toBeLessThan(at(0).loss);
    expect(j.surface.loss[2][2]).toBeCloseTo(at(1).loss, 5);
    expect(readFileSync(join(dir, 'landscape.html'), 'utf8')).toMatch(/<svg /);
    io = capture();
    expect(await landscapeCommand([join(dir, 'checkpoint.safetensors')])).toBe(2);
    expect(io.err.join('')).toMatch(/already exist.*--overwrite/);
    vi.restoreAllMocks();
    // --from the checkpoint itself: the line between a point and itself is flat.
    io = capture();
    expect(await landscapeCommand([join(dir, 'checkpoint.safetensors'), '--from', join(dir, 'checkpoint.safetensors'), '--samples', '100', '--resolution', '3', '--line-points', '5', '--overwrite'])).toBe(0);
    vi.restoreAllMocks();
    const flat = JSON.parse(readFileSync(join(dir, 'landscape.json'), 'utf8'));
    const losses = flat.line.values.map((v: { loss: number }) => v.loss);
    expect(Math.max(...losses) - Math.min(...losses)).toBeLessThan(1e-6);
  });

  it('refuses a file that tread train did not write, naming what to use instead', async () => {
    const { landscapeCommand } = await import('../ts/cli/landscape.js');
    const { saveWeights } = await import('../ts/train/checkpoint.js');
    const tread = await import('../ts/index.js');
    await tread.init({ threads: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'tread-land-'));
    await saveWeights(join(dir, 'w.safetensors'), new tread.nn.Sequential(new tread.nn.Linear(2, 2)));
    const io = capture();
    expect(await landscapeCommand([join(dir, 'w.safetensors')])).toBe(2);
    expect(io.err.join('')).toMatch(/has no 'tread train' options.*tread\.landscape/);
    expect(await landscapeCommand([join(dir, 'none.safetensors')])).toBe(2);
    expect(io.err.join('')).toMatch(/no such checkpoint/);
  });
});

describe('tread train --landscape', () => {
  it('adds the line from init and the plane of the path to report.html', async () => {
    const { trainCommand } = await import('../ts/cli/train.js');
    const dir = mkdtempSync(join(tmpdir(), 'tread-train-land-'));
    const io = capture();
    const code = await trainCommand(['--model', 'mlp', '--width', '32', '--limit', '512', '--epochs', '2', '--schedule', 'none', '--no-progress', '--no-monitor', '--landscape', '--out', dir]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    expect(io.out.join('')).toMatch(/loss landscape: the line from the initial weights is (not )?monotone; \d+ snapshots of the path/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Loss landscape</h2>');
    expect(html).toMatch(/loss on the plane of the optimizer&#39;s path|loss on the plane of the optimizer's path/);
    expect(html).toMatch(/hold \d+\.\d% and \d+\.\d% of its variance/);
    // And every number of it in history.json.
    const h = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    expect(h.landscape.line.alphas.length).toBe(h.landscape.line.values.length);
    expect(h.landscape.surface.loss.length).toBe(21);
    expect(h.landscape.path.coords.at(-1)).toEqual([0, 0]);
  });
});
