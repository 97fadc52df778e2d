/**
 * The diagnosis' parts against naive versions and made-up runs: the causal ranking, findings
 * as plain JSON (what a Worker posts and history.json stores), warnings derived from findings
 * one line per kind and layer, the probe of 256 samples across batches, unit statistics,
 * round chart ticks, the options check, and the overfit-one-batch sanity tool.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../ts/runtime/wasm.js';
import { tensor } from '../../ts/tensor/create.js';
import * as nn from '../../ts/nn/index.js';
import { manualSeed } from '../../ts/nn/random.js';
import { SGD, Adam } from '../../ts/optim/index.js';
import { DataLoader } from '../../ts/data/loader.js';
import { TensorDataset } from '../../ts/data/dataset.js';
import { gaussianBlobs } from '../../ts/data/synthetic.js';
import { fit } from '../../ts/train/fit.js';
import { rankFindings } from '../../ts/train/diagnosis/rank.js';
import { formatFinding, summarizeFindings, type Finding, type FindingKind } from '../../ts/train/diagnosis/finding.js';
import { ProbeSampler } from '../../ts/train/diagnosis/probe.js';
import { distinctRows, inputStats, unitStats } from '../../ts/train/diagnosis/stats.js';
import { logTicks, niceTicks } from '../../ts/train/chart_ticks.js';
import { overfitOneBatch } from '../../ts/train/diagnosis/overfit_one_batch.js';
import { snapshotState } from '../../ts/train/state.js';
import { diagnoseRun } from '../../ts/train/diagnosis/index.js';
import { DiagnosisCollector } from '../../ts/train/diagnosis/collector.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

const f = (kind: FindingKind, severity: Finding['severity'] = 'warning', where: string | null = null, epoch: number | null = null): Finding => ({
  kind,
  severity,
  where,
  epoch,
  step: null,
  value: 1,
  threshold: 0.5,
  evidence: `${kind} seen`,
  advice: 'do something',
});

describe('ranking by causal order', () => {
  it('names the most upstream warning and lowers what it can cause to info', () => {
    const r = rankFindings([f('underfitting'), f('slow-convergence'), f('dying-relu'), f('unnormalized-inputs'), f('exploding'), f('non-finite', 'error')]);
    expect(r.primary!.kind).toBe('unnormalized-inputs');
    expect(r.findings[0]).toBe(r.primary);
    for (const x of r.findings.slice(1)) {
      expect(x.severity).toBe('info');
      expect(x.explainedBy).toBe('unnormalized-inputs');
    }
  });
  it('keeps two independent problems as two warnings (overfitting is not caused by dead units)', () => {
    const r = rankFindings([f('overfitting'), f('dying-relu')]);
    expect(r.primary!.kind).toBe('dying-relu');
    expect(r.findings.filter((x) => x.severity !== 'info').map((x) => x.kind)).toEqual(['dying-relu', 'overfitting']);
  });
  it('dead units and vanishing gradients come before "lr too low"; symmetry before what it causes; divergence before the non-finite value', () => {
    expect(rankFindings([f('slow-convergence'), f('vanishing')]).primary!.kind).toBe('vanishing');
    expect(rankFindings([f('slow-convergence'), f('dying-relu')]).primary!.kind).toBe('dying-relu');
    expect(rankFindings([f('vanishing'), f('underfitting'), f('symmetry')]).primary!.kind).toBe('symmetry');
    expect(rankFindings([f('non-finite', 'error'), f('exploding')]).primary!.kind).toBe('exploding');
    expect(rankFindings([f('non-finite', 'error')]).primary!.kind).toBe('non-finite');
    expect(rankFindings([f('dying-relu', 'info'), f('underfitting', 'info')]).primary).toBeNull();
  });
  it('formats one line per kind and layer with a count', () => {
    const lines = summarizeFindings([f('dying-relu', 'warning', 'ReLU 1', 0), f('dying-relu', 'warning', 'ReLU 1', 3), f('dying-relu', 'warning', 'ReLU 3', 2), f('slow-convergence', 'info')], 'warning');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`${formatFinding(f('dying-relu', 'warning', 'ReLU 1', 0))} [seen 2 times in epochs 1-4]`);
    expect(lines[1]).toMatch(/^warning \[dying-relu\] at 'ReLU 3' \(epoch 3\)/);
  });
});

describe('measurements against naive versions', () => {
  it('the probe holds the first 256 samples across batches, not the first batch', () => {
    const p = new ProbeSampler();
    const rows = (start: number, n: number) => tensor(Float32Array.from({ length: n * 3 }, (_, i) => start * 3 + i), [n, 3]);
    for (const [s, n] of [[0, 100], [100, 100], [200, 100], [300, 100]]) p.add(rows(s, n));
    const flat = p.flat()!;
    expect(flat.rows).toBe(256);
    expect(Array.from(flat.data)).toEqual(Array.from({ length: 256 * 3 }, (_, i) => i));
  });
  it('dead and saturated fractions, input statistics and identical rows match loops', () => {
    const rows = 50;
    const units = 7;
    const d = Float32Array.from({ length: rows * units }, (_, i) => (i % units < 3 ? -Math.abs(Math.sin(i)) : Math.sin(i * 1.3)));
    let dead = 0;
    for (let u = 0; u < units; u++) if (Array.from({ length: rows }, (_, r) => d[r * units + u]).every((v) => v <= 0)) dead++;
    expect(unitStats(d, rows, 'ReLU').dead).toBeCloseTo(dead / units, 12);
    const t = d.map((v) => Math.tanh(v * 5));
    expect(unitStats(t, rows, 'Tanh').saturated).toBeCloseTo(Array.from(t).filter((v) => Math.abs(v) > 0.99).length / t.length, 12);
    const x = Float32Array.from({ length: 40 * 2 }, (_, i) => (i % 2 ? 500 + (i % 7) : 0.1 * (i % 5)));
    const s = inputStats(x, 40, 2);
    const col = (j: number) => Array.from({ length: 40 }, (_, r) => x[r * 2 + j]);
    const mean1 = col(1).reduce((a, b) => a + b, 0) / 40;
    expect(s.maxAbsMean).toBeCloseTo(mean1, 3);
    expect(s.maxAbsMeanFeature).toBe(1);
    const w = new Float32Array([1, 2, 3, 1, 2, 3, 1, 2, 3.5]);
    expect(distinctRows(w, 3)).toBe(2);
    expect(distinctRows(new Float32Array(12).fill(0.1), 4)).toBe(1);
  });
  it('axis ticks are round numbers (not 0.605, 0.52, 0.436 ...)', () => {
    const { ticks } = niceTicks(0.436, 0.605, 5);
    expect(ticks).toEqual([0.4, 0.45, 0.5, 0.55, 0.6, 0.65]);
    expect(logTicks(-4.3, -1.2).ticks).toEqual([-5, -4, -3, -2, -1]);
  });
});

function blobs(seed: number) {
  const ds = gaussianBlobs({ n: 128, centers: [[2, 0], [-2, 0], [0, 2]], std: 0.3, seed });
  return new DataLoader(ds, { batchSize: 32, shuffle: true, seed });
}

describe('fit() and findings', () => {
  it('checks the diagnosis options (a PyTorch-style name is hinted, not accepted)', async () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(2, 3));
    const run = (diagnosis: any) => fit(model, { train: blobs(1), optimizer: new SGD(model.parameters(), { lr: 0.1 }), lossFn: new nn.CrossEntropyLoss(), epochs: 1, diagnosis });
    await expect(run({ desired_error: 0.1 })).rejects.toThrow(/fit: diagnosis: unknown option 'desired_error' \(did you mean 'desiredError'/);
    await expect(run({ desiredError: 2 })).rejects.toThrow(/desiredError must be <= 1/);
    const off = await run(false);
    expect(off.findings).toEqual([]);
    expect(off.batches.loss).toEqual([]);
  });

  it('diagnoseRun and the collector check their options; an empty run has nothing to say', () => {
    const empty = new DiagnosisCollector().stats;
    expect(diagnoseRun(empty)).toEqual({ findings: [], primary: null, lines: [] });
    expect(() => diagnoseRun(empty, { desired_error: 0.1 } as any)).toThrow(/diagnoseRun: unknown option 'desired_error' \(did you mean 'desiredError'/);
    expect(() => new DiagnosisCollector({ probe_size: 10 } as any)).toThrow(/DiagnosisCollector: unknown option 'probe_size' \(did you mean 'probeSize'/);
  });

  it('a diverging run: findings are plain JSON (NaN/Infinity as strings), warnings are derived from them, one line per kind', async () => {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 32), new nn.ReLU(), new nn.Linear(32, 3));
    const r = await fit(model, { train: blobs(2), optimizer: new SGD(model.parameters(), { lr: 50 }), lossFn: new nn.CrossEntropyLoss(), epochs: 3 });
    expect(r.primaryCause?.kind).toBe('exploding');
    const json = JSON.parse(JSON.stringify(r.findings));
    expect(json).toEqual(r.findings);
    expect(structuredClone(r.findings)).toEqual(r.findings);
    for (const x of r.findings) expect(typeof x.value === 'number' ? Number.isFinite(x.value) : true).toBe(true);
    const warnLines = summarizeFindings(r.findings, 'warning').map((l) => l.replace(/^warning /, ''));
    expect(warnLines.length).toBeGreaterThan(0);
    for (const line of warnLines) expect(r.warnings).toContain(line);
    expect(r.findings.filter((x) => x.severity !== 'info').map((x) => x.kind)).toEqual(['exploding']);
    expect(r.batches.loss.length).toBeGreaterThan(0);
  });
});

describe('overfitOneBatch', () => {
  it('a sound model memorizes one batch; a model with dead ReLUs cannot; weights are put back', async () => {
    manualSeed(3);
    const loader = blobs(3);
    const good = new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 3));
    const before = snapshotState(good);
    const ok = await overfitOneBatch(good, { data: loader, lossFn: new nn.CrossEntropyLoss() });
    expect(ok.ok).toBe(true);
    expect(ok.finalLoss).toBeLessThan(0.05);
    expect(ok.accuracy).toBe(1);
    const after = snapshotState(good);
    for (const [k, v] of before) expect(Array.from(after.get(k)!.data)).toEqual(Array.from(v.data));

    const dead = new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 3));
    nn.init.constant_((dead[0] as nn.Linear).bias!, -20);
    const bad = await overfitOneBatch(dead, { data: loader, lossFn: new nn.CrossEntropyLoss(), steps: 100, optimizer: (p) => new Adam(p, { lr: 1e-2 }) as any });
    expect(bad.ok).toBe(false);
    expect(bad.verdict).toMatch(/could not memorize 32 samples in 100 steps/);
    await expect(overfitOneBatch(good, { data: loader, lossFn: new nn.CrossEntropyLoss(), step: 3 } as any)).rejects.toThrow(/unknown option 'step' \(did you mean 'steps'/);
  });
});
