/**
 * `tread search`: option parsing (its own flags, the run's tread train flags and the search's
 * defaults for the run) and one small end-to-end search on the MNIST digits whose printed
 * best trial and search.json are checked against each other.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgError } from '../ts/cli/args.js';
import { parseSearchArgs, searchCommand, searchHelp, searchSpace } from '../ts/cli/search.js';
import { gridPoints } from '../ts/train/search.js';

const noConfig = () => {
  throw new Error('no config expected');
};

describe('tread search options', () => {
  it('has small defaults for the run and separates search flags from train flags', () => {
    const { search, run } = parseSearchArgs([], noConfig);
    expect(search).toMatchObject({ method: 'random', trials: 8, lr: [1e-4, 3e-2], weightDecay: [1e-5, 1e-2], objective: 'val_loss' });
    expect(run).toMatchObject({ model: 'mlp', epochs: 3, schedule: 'none', progress: false, monitor: false, data: 'mnist' });
    const p = parseSearchArgs(['--method', 'grid', '--steps=4', '--lr-range', '1e-3:1e-1', '--wd-range', 'off', '--model', 'cnn', '--epochs', '5', '--no-monitor', '--objective', 'val_accuracy'], noConfig);
    expect(p.search).toMatchObject({ method: 'grid', steps: 4, lr: [1e-3, 1e-1], weightDecay: null, objective: 'val_accuracy' });
    expect(p.run).toMatchObject({ model: 'cnn', epochs: 5, monitor: false });
    // A config file's keys win over the search's run defaults too.
    expect(parseSearchArgs(['--config', 'c.json'], () => '{"model":"cnn","epochs":2}').run).toMatchObject({ model: 'cnn', epochs: 2, schedule: 'none' });
  });

  it('lays the ranges on a log grid (weight decay fixed when off)', () => {
    const { search, run } = parseSearchArgs(['--method', 'grid', '--steps', '3', '--lr-range', '1e-4:1e-2', '--wd-range', 'off', '--weight-decay', '0.5'], noConfig);
    const pts = gridPoints(searchSpace(search, run), search.steps);
    expect(pts.map((p) => p.weightDecay)).toEqual([0.5, 0.5, 0.5]);
    pts.map((p) => p.lr).forEach((lr, i) => expect(Math.log10(lr)).toBeCloseTo(-4 + i, 12));
  });

  it('rejects bad values naming the option', () => {
    expect(() => parseSearchArgs(['--lr-range', '0.1:0.01'], noConfig)).toThrow(/--lr-range: expected lo:hi with 0 < lo < hi/);
    expect(() => parseSearchArgs(['--trials', '0'], noConfig)).toThrow(/--trials: expected a positive integer/);
    expect(() => parseSearchArgs(['--method', 'bayes'], noConfig)).toThrow(/--method: expected one of random, grid, halving/);
    expect(() => parseSearchArgs(['--objective', 'loss'], noConfig)).toThrow(/--objective: expected val_loss or val_accuracy/);
    expect(() => parseSearchArgs(['--trials'], noConfig)).toThrow(/--trials needs a value/);
    expect(() => parseSearchArgs(['--epoch', '3'], noConfig)).toThrow(ArgError);
  });

  it('--help documents every search option', () => {
    expect(parseSearchArgs(['--help'], noConfig).help).toBe(true);
    for (const f of ['method', 'trials', 'lr-range', 'wd-range', 'steps', 'objective', 'search-seed']) expect(searchHelp()).toContain(`--${f}`);
  });
});

describe('tread search end to end', () => {
  it('runs the trials, prints the table and writes search.json whose best matches the printout', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tread-search-'));
    const lines: string[] = [];
    const code = await searchCommand(['--trials', '3', '--limit', '600', '--epochs', '2', '--threads', '1', '--width', '32', '--out', out], (s) => lines.push(s));
    expect(code).toBe(0);
    const saved = JSON.parse(readFileSync(join(out, 'search.json'), 'utf8'));
    expect(saved.trials).toHaveLength(3);
    const ok = saved.trials.filter((t: { ok: boolean }) => t.ok);
    expect(ok).toHaveLength(3);
    const best = Math.min(...ok.map((t: { score: number }) => t.score));
    expect(saved.trials[0].score).toBe(best);
    for (const t of saved.trials) {
      expect(t.params.lr).toBeGreaterThanOrEqual(1e-4);
      expect(t.params.lr).toBeLessThan(3e-2);
      expect(t.info.epochs).toBe(2);
    }
    const text = lines.join('\n');
    expect(text).toMatch(/rank\s+trial\s+lr\s+weightDecay\s+val_loss\s+seconds/);
    expect(text).toContain(`(val_loss ${best.toFixed(4)})`);
    expect(text).toContain(`--lr ${saved.trials[0].params.lr.toPrecision(3)}`);
  });
});
