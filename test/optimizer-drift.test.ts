/**
 * Issue 11.7: the optimizer kernels must take `1 - beta` (and the like) computed in double, as
 * PyTorch does, not `1.0f32 - beta` in float32. The fixture (tools/fixtures/optimizer_drift.py,
 * PyTorch 1.13) runs 50 steps of every optimizer on one fixed sequence of gradients, so the only
 * difference left is the optimizer's arithmetic. Before the fix Adam drifted ~1e-5 relative (the
 * float32 `1 - 0.999` is 1.3e-5 off); SGD, which has no such constant, shows the floor.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as optim from '../ts/optim/index.js';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';

interface DriftCase {
  optimizer: string;
  options: Record<string, unknown>;
  params: number[];
}
interface DriftFixture {
  n: number;
  steps: number;
  init: number[];
  grads: number[][];
  cases: DriftCase[];
}

const fixture: DriftFixture = JSON.parse(readFileSync(new URL('./fixtures/optimizer-drift/drift.json', import.meta.url), 'utf8'));

/** PyTorch's snake_case options in tread's camelCase. */
function camel(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v]));
}

/** Largest |a - b| / max(|b|, 1e-3) after replaying the case's 50 steps. */
function drift(c: DriftCase): number {
  const p = tensor(Float32Array.from(fixture.init), [fixture.n]).keep();
  p.requiresGrad = true;
  const Ctor = (optim as any)[c.optimizer];
  const opt = new Ctor([p], camel(c.options));
  const g = tensor(new Float32Array(fixture.n), [fixture.n]).keep();
  p.grad = g;
  for (const gt of fixture.grads) {
    g.f32.set(gt);
    opt.step();
  }
  const out = p.f32;
  let worst = 0;
  for (let i = 0; i < fixture.n; i++) worst = Math.max(worst, Math.abs(out[i]! - c.params[i]!) / Math.max(Math.abs(c.params[i]!), 1e-3));
  opt.dispose();
  p.dispose();
  return worst;
}

beforeAll(async () => {
  await init({ threads: 1 });
});

describe('optimizer constants in double (issue 11.7)', () => {
  const sgd = fixture.cases.find((c) => c.optimizer === 'SGD')!;
  // SGD has no 1 - beta constant: its drift (6.1e-7 here) is the floor of float32 kernels that
  // round as PyTorch's do, bar PyTorch's own vectorised arithmetic.
  let floor = NaN;
  beforeAll(() => {
    floor = drift(sgd);
  });

  it('SGD sets the floor', () => {
    expect(floor).toBeGreaterThan(0);
    expect(floor).toBeLessThan(1e-6);
  });

  it("Adam (betas 0.9, 0.999) drifts no more than SGD in 50 steps (3.0e-5 with a float32 1 - beta2)", () => {
    const adam = fixture.cases.find((c) => c.optimizer === 'Adam' && Object.keys(c.options).length === 2)!;
    expect(drift(adam)).toBeLessThanOrEqual(floor);
  });

  for (const c of fixture.cases.filter((x) => x.optimizer !== 'SGD')) {
    it(`${c.optimizer} ${JSON.stringify(c.options)}: 50 steps within 1.5e-6 of PyTorch`, () => {
      const d = drift(c);
      // 1.5e-6: SGD's floor with room for the few float32 roundings these kernels add (Adadelta
      // 1.26e-6, the same as a plain float32 NumPy replay); a float32 1 - beta gave 1.2e-5 to 5e-4.
      expect(d, `${c.optimizer} drift ${d.toExponential(2)}`).toBeLessThan(1.5e-6);
    });
  }
});
