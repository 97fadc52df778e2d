/**
 * Issue 20.4: the non-finite-gradient guard is a documented, validated constructor option.
 * `checkFinite: true` (default) refuses the step and leaves everything as it was, with a message
 * that says how to turn the guard off; `checkFinite: false` steps on as PyTorch 1.13 does (whose
 * result a naive float32 replay gives: NaN where the gradient was NaN, the other elements updated).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as optim from '../ts/optim/index.js';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';

beforeAll(async () => {
  await init({ threads: 1 });
});

function withGrad(values: number[], grad: number[]): Tensor {
  const p = tensor(Float32Array.from(values), [values.length]).keep();
  p.requiresGrad = true;
  p.grad = tensor(Float32Array.from(grad), [grad.length]).keep();
  return p;
}

const makers: [string, (p: Tensor[], o: Record<string, unknown>) => optim.Optimizer<any>][] = [
  ['SGD', (p, o) => new optim.SGD(p, { lr: 0.1, ...o })],
  ['Adagrad', (p, o) => new optim.Adagrad(p, o)],
  ['RMSprop', (p, o) => new optim.RMSprop(p, o)],
  ['Adadelta', (p, o) => new optim.Adadelta(p, o)],
  ['Adam', (p, o) => new optim.Adam(p, o)],
  ['AdamW', (p, o) => new optim.AdamW(p, o)],
  ['Adamax', (p, o) => new optim.Adamax(p, o)],
  ['NAdam', (p, o) => new optim.NAdam(p, o)],
  ['RAdam', (p, o) => new optim.RAdam(p, o)],
];

describe('checkFinite (issue 20.4)', () => {
  for (const [name, make] of makers) {
    it(`${name}: default refuses a NaN gradient, names the way out, changes nothing`, () => {
      const p = withGrad([1, 2, 3], [0.5, NaN, 0.25]);
      const opt = make([p], {});
      expect(opt.checkFinite).toBe(true);
      expect(() => opt.step()).toThrow(/non-finite gradient \(NaN\).*element 1.*\{ checkFinite: false \}/);
      expect([...p.f32]).toEqual([1, 2, 3]);
      expect(opt.state.size).toBe(0);
    });

    it(`${name}: checkFinite false steps on as PyTorch (NaN only where the gradient was)`, () => {
      const p = withGrad([1, 2, 3], [0.5, Infinity, 0.25]);
      const opt = make([p], { checkFinite: false });
      expect(opt.checkFinite).toBe(false);
      opt.step();
      const [a, b, c] = p.f32;
      expect(a).not.toBe(1);
      expect(c).not.toBe(3);
      expect(Number.isFinite(a!) && Number.isFinite(c!)).toBe(true);
      expect(Number.isFinite(b!)).toBe(false);
      // checkFinite is not a hyper-parameter: not in the groups, not in the state dict.
      expect('checkFinite' in opt.paramGroups[0]!).toBe(false);
      expect('checkFinite' in opt.stateDict().paramGroups[0]!).toBe(false);
    });
  }

  it('is validated: a boolean, and a misspelling gets a hint', () => {
    const p = withGrad([1], [1]);
    expect(() => new optim.Adam([p], { checkFinite: 'no' as any })).toThrow(/Adam: checkFinite must be true or false, got "no"/);
    expect(() => new optim.Adam([p], { check_finite: false } as any)).toThrow(/unknown option 'check_finite' in options \(did you mean 'checkFinite'\?/);
    expect(() => new optim.SGD([p], { lr: 0.1, checkfinite: false } as any)).toThrow(/did you mean 'checkFinite'/);
  });
});
