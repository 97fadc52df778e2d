/**
 * Sequential's fusion of a Linear followed by a ReLU (one GEMM with the bias and clamp in its
 * epilogue, one backward that masks dY by `y > 0` while it sums db): the outputs and every
 * gradient are bit for bit those of the two modules run one after the other by hand, and the
 * fusion steps aside wherever something must see the pre-activation (a forward hook on
 * either module, a subclass's own forward).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import type { Tensor } from '../ts/tensor/tensor.js';
import * as nn from '../ts/nn/index.js';
import { manualSeed } from '../ts/nn/random.js';
import { sum, mul } from '../ts/ops/index.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

/** Deterministic inputs with plenty of negative pre-activations (and exact zeros). */
function input(rows: number, cols: number, requiresGrad = false): Tensor {
  const v = Float32Array.from({ length: rows * cols }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i * 0.37) * 2));
  const t = tensor(v, [rows, cols]);
  t.requiresGrad = requiresGrad;
  return t;
}

/** A weighted sum, so every output element gets its own gradient. */
function loss(y: Tensor): Tensor {
  const w = Float32Array.from({ length: y.size }, (_, i) => Math.cos(i * 0.91));
  return sum(mul(y, tensor(w, y.shape)));
}

const bits = (t: Tensor | null) => Array.from(new Uint32Array(Float32Array.from(t!.f32).buffer));

function mlp(bias: boolean): nn.Sequential {
  manualSeed(3);
  return new nn.Sequential(
    new nn.Linear(37, 70, { bias }), new nn.ReLU(),
    new nn.Linear(70, 33), new nn.ReLU(),
    new nn.Linear(33, 5),
  );
}

/** The same modules one by one, no fusion. */
function byHand(seq: nn.Sequential, x: Tensor): Tensor {
  let h = x;
  for (const m of seq) h = m instanceof nn.Linear ? nn.Linear.prototype.forward.call(m, h) : m.forward(h);
  return h;
}

describe('Linear + ReLU fused in Sequential', () => {
  for (const bias of [true, false]) {
    it(`matches the two modules bit for bit: output, dx, dW, db, accumulated over two backwards (bias ${bias})`, () => {
      const seq = mlp(bias);
      const params = seq.parameters();
      const run = (f: (x: Tensor) => Tensor) => {
        for (const p of params) p.grad = null;
        const x = input(130, 37, true);
        const y = f(x);
        loss(y).backward();
        loss(f(x)).backward(); // grads accumulate (beta = 1 in the kernels)
        return { y: bits(y), dx: bits(x.grad), grads: params.map((p) => bits(p.grad)) };
      };
      const fused = run((x) => seq.forward(x));
      const plain = run((x) => byHand(seq, x));
      expect(fused.y).toEqual(plain.y);
      expect(fused.dx).toEqual(plain.dx);
      expect(fused.grads).toEqual(plain.grads);
      // Negative pre-activations were there to mask.
      const h = nn.Linear.prototype.forward.call(seq.at(0) as nn.Linear, input(130, 37));
      expect(Array.from(h.f32).some((v) => v < 0)).toBe(true);
    });
  }

  it('gives the output the ReLU grad_fn, as PyTorch prints it; an input without grad gets none', () => {
    const seq = mlp(true);
    const y = seq.at(0).forward(input(4, 37));
    expect(y.gradFn?.name).toBe('Linear');
    const z = new nn.Sequential(seq.at(0), seq.at(1)).forward(input(4, 37));
    expect(z.gradFn?.name).toBe('relu');
    expect(Array.from(z.f32).every((v) => v >= 0)).toBe(true);
    const x = input(4, 37, false);
    loss(new nn.Sequential(seq.at(0), seq.at(1)).forward(x)).backward();
    expect(x.grad).toBeNull();
  });

  it('steps aside for a forward hook on the Linear or the ReLU (they see the pre-activation)', () => {
    const seq = mlp(true);
    const want = bits(byHand(seq, input(8, 37)));
    for (const which of [0, 1]) {
      let seen: Tensor | null = null;
      const handle = seq.at(which).registerForwardHook((_m, inputs, out) => {
        seen = which === 0 ? out : inputs[0];
      });
      const y = seq.forward(input(8, 37));
      handle.remove();
      expect(Array.from(seen!.f32).some((v) => v < 0)).toBe(true);
      expect(bits(y)).toEqual(want);
    }
  });

  it('steps aside for a Linear subclass with its own forward, and for a ReLU subclass', () => {
    const calls: string[] = [];
    class LoggedLinear extends nn.Linear {
      override forward(x: Tensor): Tensor {
        calls.push('linear');
        return super.forward(x);
      }
    }
    class LoggedReLU extends nn.ReLU {
      override forward(x: Tensor): Tensor {
        calls.push('relu');
        return super.forward(x);
      }
    }
    new nn.Sequential(new LoggedLinear(3, 4), new nn.ReLU()).forward(input(2, 3));
    new nn.Sequential(new nn.Linear(3, 4), new LoggedReLU()).forward(input(2, 3));
    expect(calls).toEqual(['linear', 'relu']);
  });

  it('leaves other neighbours alone: a Linear last, a Linear before a non-ReLU, nested Sequentials', () => {
    manualSeed(5);
    const a = new nn.Linear(6, 6);
    const seq = new nn.Sequential(new nn.ReLU(), a, new nn.Sigmoid(), new nn.Sequential(new nn.Linear(6, 4), new nn.ReLU()), new nn.Linear(4, 2));
    const x = input(5, 6);
    const y = seq.forward(x);
    let h = byHand(new nn.Sequential(seq.at(0), seq.at(1), seq.at(2)), x);
    h = byHand(seq.at(3) as nn.Sequential, h);
    h = nn.Linear.prototype.forward.call(seq.at(4) as nn.Linear, h);
    expect(bits(y)).toEqual(bits(h));
  });
});
