/** Runs examples/sequences.ts (MapDataset, WeightedRandomSampler, Embedding/Conv1d/GroupNorm, F1) and checks what it prints. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

describe('examples/sequences.ts', () => {
  it('learns the motif; the sampler balances the classes the model sees', () => {
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples/sequences.ts')], {
      cwd: mkdtempSync(join(tmpdir(), 'tread-sequences-example-')),
      encoding: 'utf8',
      env: { ...process.env, TREAD_THREADS: '1' },
    });
    const [countsLine, valLine, cmLine] = out.trim().split('\n');
    const [neg, pos] = /train class counts (\d+) \/ (\d+)/.exec(countsLine)!.slice(1).map(Number);
    expect(neg + pos).toBe(2000);
    expect(pos).toBeLessThan(600); // the rare class
    const [acc, f1, f1Motif] = /val accuracy ([\d.]+), macro F1 ([\d.]+), F1 of the motif class ([\d.]+)/.exec(valLine)!.slice(1).map(Number);
    expect(acc).toBeGreaterThan(0.9);
    expect(f1).toBeGreaterThan(0.85);
    expect(f1Motif).toBeGreaterThan(0.8);
    const cm = JSON.parse(cmLine.slice(cmLine.indexOf('['))) as number[][];
    const seen = cm.map((row) => row.reduce((a, b) => a + b, 0));
    expect(seen[0] + seen[1]).toBe(2000);
    // Drawn with weight 1/count per class: about 1000 each, not the data set's 4:1.
    expect(seen[1]).toBeGreaterThan(850);
    expect(seen[1]).toBeLessThan(1150);
  });
});
