/**
 * The replay tool against the second fixture set (test/fixtures/golden-variants, written by
 * tools/fixtures/make_all.py): scripts/test.sh replays the whole folder; this file checks
 * what that line cannot: that the checkers would notice a wrong answer. Each case is replayed
 * as PyTorch wrote it (must pass) and with one number moved just past the documented
 * tolerance (must fail, naming that case), so a checker that compares nothing, or too
 * loosely, is caught.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import type { CaseResult } from '../tools/golden/types.js';
import { check as checkOptimizers } from '../tools/golden/optimizers.js';
import { check as checkSchedulers } from '../tools/golden/schedulers.js';
import { check as checkClip } from '../tools/golden/clip.js';
import { check as checkData } from '../tools/golden/data.js';
import { check as checkInit } from '../tools/golden/init.js';

const load = (file: string) => JSON.parse(readFileSync(`test/fixtures/golden-variants/${file}`, 'utf8'));
const failures = (rs: CaseResult[]) => rs.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);

beforeAll(async () => {
  await init();
});

describe('golden-variants: the checkers pass PyTorch and catch a wrong number', () => {
  it('optimizers: a different loss coefficient (0.1%) fails the gradient check; a moved parameter fails the trajectory', async () => {
    const f = load('optimizers.json');
    const find = (pred: (c: any) => boolean) => {
      const c = f.cases.find(pred);
      expect(c).toBeDefined();
      return c;
    };
    const picked = [
      find((c) => c.optimizer === 'SGD' && c.options.nesterov && c.options.maximize),
      find((c) => c.optimizer === 'Adam' && c.options.amsgrad && c.options.weight_decay && !c.groups),
      find((c) => c.optimizer === 'Adam' && Array.isArray(c.groups)),
    ];
    expect(failures(await checkOptimizers({ cases: picked }, 'optimizers.json'))).toEqual([]);
    const lossChanged = structuredClone(picked[0]);
    lossChanged.c[0][3] *= 1.001;
    const moved = structuredClone(picked[1]);
    moved.params[9][1][2] *= 1 + 3e-3; // beyond the 1e-3 trajectory tolerance
    const rs = await checkOptimizers({ cases: [lossChanged, moved] }, 'optimizers.json');
    expect(rs[0].ok).toBe(false);
    expect(rs[0].detail).toMatch(/loss gradient of p0 at PyTorch's parameters before step 1/);
    expect(rs[1].ok).toBe(false);
    expect(rs[1].detail).toMatch(/p1 after step 10/);
  });

  it('schedulers: one rate 1e-5 off fails (ChainedScheduler, repeated milestones, plateau eps)', () => {
    const f = load('schedulers.json');
    const names = (c: any) => c.scheduler;
    const picked = f.cases.filter((c: any) => ['ChainedScheduler', 'MultiStepLR', 'ReduceLROnPlateau', 'SequentialLR'].includes(names(c)));
    expect(failures(checkSchedulers({ cases: picked }))).toEqual([]);
    const bad = picked.map((c: any) => {
      const t = structuredClone(c);
      t.lrs[t.epochs - 1] *= 1 + 1e-5;
      return t;
    });
    expect(checkSchedulers({ cases: bad }).every((r) => !r.ok)).toBe(true);
  });

  it('clip: norm types 3 and 0.5 and max_norm 1e-6 are checked to 1e-5', async () => {
    const f = load('clip.json');
    expect(failures(await checkClip(f, 'clip.json'))).toEqual([]);
    const t = structuredClone(f);
    t.cases[8].total_norm *= 1 + 1e-4; // norm_type 0.5
    t.cases[1].clipped[1][0] *= 1 + 1e-3; // max_norm 1e-6: tiny values, still compared relatively
    const rs = await checkClip(t, 'clip.json');
    expect(rs.filter((r) => !r.ok).map((r) => r.name)).toEqual([rs[1].name, rs[8].name]);
  });

  it('data: a singular covariance and offset columns pass; an output 2e-4 off fails', async () => {
    const f = load('data.json');
    expect(failures(await checkData(f, 'data.json'))).toEqual([]);
    const t = structuredClone(f);
    t.standardize.test_out[2][3] *= 1 + 2e-4;
    t.zca.test_out[0][0] *= 1 + 1e-3;
    const rs = await checkData(t, 'data.json');
    expect(rs.filter((r) => !r.ok).map((r) => r.name)).toEqual(['data.json standardize', 'data.json zca']);
  });

  it('init: a gain 1e-6 off, a std 1% off and an empirical std 3% off fail', async () => {
    const f = load('init.json');
    const t = { meta: f.meta, gains: structuredClone(f.gains), distributions: structuredClone(f.distributions.slice(0, 4)), empirical: structuredClone(f.empirical.slice(0, 3)) };
    expect(failures(await checkInit(t))).toEqual([]);
    t.gains[8].gain *= 1 + 1e-6;
    t.distributions[1].std *= 1.01;
    t.empirical[2].std *= 1.03;
    const bad = (await checkInit(t)).filter((r) => !r.ok).map((r) => r.name);
    expect(bad).toEqual([expect.stringMatching(/gains #8/), expect.stringMatching(/distributions #1/), expect.stringMatching(/empirical #2/)]);
  });
});
