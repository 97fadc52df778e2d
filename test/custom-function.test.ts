/**
 * tread.autograd.Function (custom ops with their own backward, as torch.autograd.Function):
 * examples/custom_function.ts runs and prints the derivative written in it; hand-written
 * backwards agree with finite differences and with the same op composed of autograd ops;
 * wrong backwards are refused with the Function's name.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import type { FunctionCtx } from '../ts/autograd/function.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { gradcheck, mulberry } from './helpers/gradcheck.js';

const root = resolve(__dirname, '..');

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

describe('examples/custom_function.ts', () => {
  it('prints P3 and its hand-written derivative, and the straight-through gradients', () => {
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples/custom_function.ts')], {
      encoding: 'utf8',
      env: { ...process.env, TREAD_THREADS: '1' },
    });
    const lines = out.trim().split('\n');
    // P3(x) = (5x³ − 3x)/2 and P3'(x) = 1.5(5x² − 1) at -1, -0.5, 0, 0.5, 1, computed here.
    const xs = [-1, -0.5, 0, 0.5, 1];
    expect(lines[0]).toBe(`P3(x)  = ${xs.map((x) => (5 * x ** 3 - 3 * x) / 2 + 0).join(', ')}`);
    expect(lines[1]).toBe(`P3'(x) = ${xs.map((x) => 1.5 * (5 * x * x - 1)).join(', ')}`);
    expect(lines[2]).toBe('round(w) * b * 10 = 0, 60, 0');
    expect(lines[3]).toBe('dw = 20, 30, 40; db = 0, 20, 0');
  });
});

/** x·sigmoid(x) with a hand-written derivative: σ(x)(1 + x(1 − σ(x))). */
class Swish extends tread.autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): Tensor {
    const s = x.sigmoid();
    ctx.saveForBackward(x, s);
    return x.mul(s);
  }
  static backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x, s] = ctx.savedTensors;
    return g.mul(s.mul(x.mul(s.neg().add(1)).add(1)));
  }
}

/** a·b + c with broadcasting of c (its gradient summed back by hand) and a number argument. */
class MulAdd extends tread.autograd.Function {
  static forward(ctx: FunctionCtx, a: Tensor, b: Tensor, c: Tensor, k: number): Tensor {
    ctx.saveForBackward(a, b);
    ctx.k = k;
    return a.mul(b).mul(k).add(c);
  }
  static backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [a, b] = ctx.savedTensors;
    const k = ctx.k as number;
    return [g.mul(b).mul(k), g.mul(a).mul(k), g.sum(0), null];
  }
}

/** Returns its input itself, and the incoming gradient itself. */
class Identity extends tread.autograd.Function {
  static forward(_ctx: FunctionCtx, x: Tensor): Tensor {
    return x;
  }
  static backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    return g;
  }
}

describe('autograd.Function', () => {
  const rnd = mulberry(5);
  const input = (shape: number[]) => tread.tensor(Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rnd() * 4 - 2), shape, { requiresGrad: true });

  it('hand-written backwards pass finite differences', () => {
    expect(gradcheck((x) => Swish.apply(x), [input([3, 5])], { name: 'Swish' }).checked).toBeGreaterThan(0);
    expect(gradcheck((a, b, c) => MulAdd.apply(a, b, c, 3), [input([4, 3]), input([4, 3]), input([3])], { name: 'MulAdd' }).checked).toBeGreaterThan(0);
  });

  it('gives the same values and gradients as the composite op, in a larger graph', () => {
    const x1 = input([6]);
    const x2 = tread.tensor(x1.toArray(), { requiresGrad: true });
    const y1 = Swish.apply(x1.mul(2)).square().sum();
    const y2 = x2.mul(2).silu().square().sum();
    expect(y1.item()).toBeCloseTo(y2.item(), 5);
    y1.backward();
    y2.backward();
    [...x1.grad!.data].forEach((v, i) => expect(v).toBeCloseTo(x2.grad!.data[i], 4));
  });

  it('does not record forward\'s own ops, and leaves an input returned as is untouched', () => {
    const x = input([3]);
    const y = Identity.apply(x);
    expect(y).not.toBe(x);
    expect(x.gradFn).toBeNull();
    expect(y.gradFn!.name).toBe('Identity');
    const z = Swish.apply(x);
    expect(z.gradFn!.name).toBe('Swish'); // not 'mul': forward ran without recording
    tread.add(Identity.apply(x), Identity.apply(x)).sum().backward();
    expect([...x.grad!.data]).toEqual([2, 2, 2]);
    expect(tread.noGrad(() => Swish.apply(x)).requiresGrad).toBe(false);
  });

  it('refuses wrong backwards and forwards, naming the Function', () => {
    class TwoGrads extends tread.autograd.Function {
      static forward(_c: FunctionCtx, x: Tensor) { return x.mul(2); }
      static backward(_c: FunctionCtx, g: Tensor) { return [g, g]; }
    }
    class WrongShape extends tread.autograd.Function {
      static forward(_c: FunctionCtx, x: Tensor) { return x.sum(); }
      static backward(_c: FunctionCtx, g: Tensor) { return g; }
    }
    class NotATensor extends tread.autograd.Function {
      static forward() { return 3; }
    }
    class NoBackward extends tread.autograd.Function {
      static forward(_c: FunctionCtx, x: Tensor) { return x.mul(2); }
    }
    expect(() => TwoGrads.apply(input([2])).sum().backward()).toThrow(/TwoGrads.backward returned 2 gradient\(s\) for 1 argument\(s\) of forward/);
    expect(() => WrongShape.apply(input([2])).backward()).toThrow(/WrongShape.backward: gradient 0 is float32 \[\], the input is float32 \[2\]/);
    expect(() => NotATensor.apply(input([2]))).toThrow(/NotATensor.forward must return a Tensor, got number/);
    expect(() => NoBackward.apply(input([2])).sum().backward()).toThrow(/NoBackward: a subclass of autograd.Function must define static backward/);
    expect(() => tread.autograd.Function.apply(input([2]))).toThrow(/Function: a subclass of autograd.Function must define static forward/);
  });
});
