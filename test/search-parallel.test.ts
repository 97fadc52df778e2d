/**
 * Study.optimizeParallel: trials in Node worker threads at once. With the random sampler it draws
 * and scores what the sequential study does, trials overlap in time, the pruner still prunes
 * and keeps the best, failures are recorded, and the study file holds the trials in order.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { atomicWriteFile } from '../ts/train/atomic.js';

const { search } = tread;
const module = new URL('./fixtures/search/objectives.mjs', import.meta.url);

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

const space6 = () => ({ q: search.uniform(0, 1) });

describe('Study.optimizeParallel', () => {
  it('draws and scores what the sequential study does; trials run at the same time', async () => {
    const space = { q: search.uniform(0, 1) };
    const file = join(mkdtempSync(join(tmpdir(), 'tread-par-')), 'study.json');
    const par = await search.Study.open(file, { seed: 4 });
    await par.optimizeParallel(space, { module, export: 'timed' }, { trials: 6, workers: 2, threadsPerWorker: 1 });
    const seq = new search.Study({ seed: 4 });
    await seq.optimize(space, (p: any) => p.q, { trials: 6 });
    expect(par.trials.map((t) => [t.index, t.params, t.score])).toEqual(seq.trials.map((t) => [t.index, t.params, t.score]));
    const spans = par.trials.map((t) => [t.info!.start as number, t.info!.end as number]);
    const overlaps = spans.some(([s1, e1], i) => spans.some(([s2], j) => j !== i && s2! >= s1! && s2! < e1!));
    expect(overlaps).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).trials.map((t: any) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('leaves every trial in the study file when two saves overlap', async () => {
    // Trials end in pairs (2 workers, equal sleeps); the save that writes an odd number of
    // trials is held back 150 ms, so the first save of each pair would land after the second
    // if the two ran at the same time (as they once did: the file ended a trial short).
    const file = join(mkdtempSync(join(tmpdir(), 'tread-par-')), 'study.json');
    const par = await search.Study.open(file, { seed: 6 });
    // A save serializes the study when it is called (as Study.save does, before its first
    // await) and writes it after the hold-back.
    par.save = async () => {
      const bytes = new TextEncoder().encode(JSON.stringify(par.toJSON(), null, 1));
      if (par.trials.length % 2 === 1) await new Promise((r) => setTimeout(r, 150));
      await atomicWriteFile(file, bytes);
    };
    await par.optimizeParallel(space6(), { module, export: 'timed' }, { trials: 6, workers: 2, threadsPerWorker: 1 });
    expect(par.trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(JSON.parse(readFileSync(file, 'utf8')).trials.map((t: any) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('prunes with the study\'s pruner and keeps the best trial; records failures', async () => {
    const space = { q: search.uniform(0, 1) };
    const par = new search.Study({ seed: 5, pruner: new search.MedianPruner({ startupTrials: 2 }) });
    await par.optimizeParallel(space, { module, export: 'curve' }, { trials: 12, workers: 2 });
    const full = new search.Study({ seed: 5 });
    await full.optimize(space, (p: any) => p.q + 1 / 9, { trials: 12 });
    expect(par.best!.index).toBe(full.best!.index);
    expect(par.trials.filter((t) => t.state === 'pruned').length).toBeGreaterThan(2);
    const failing = new search.Study();
    await failing.optimizeParallel(space, { module, export: 'failing' }, { trials: 2, workers: 2 });
    expect(failing.trials.map((t) => [t.state, t.error])).toEqual([['failed', 'boom'], ['failed', 'boom']]);
    await expect(new search.Study().optimizeParallel(space, { module, export: 'nothing' }, { trials: 1 })).rejects.toThrow(/exports no function 'nothing'/);
    await expect(new search.Study().optimizeParallel(space, { module }, { trials: 1, worker: 2 } as any)).rejects.toThrow(/did you mean 'workers'/);
  });
});
