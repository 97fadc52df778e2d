/**
 * Sequential's fusion of a Linear or a Conv2d followed by a ReLU (Linear: one GEMM with the
 * bias and clamp in its epilogue, one backward that masks dY by `y > 0` while it sums db;
 * Conv2d: each sample clamped as it is computed, dY masked as each sample is taken): the
 * outputs and every gradient are bit for bit those of the two modules run one after the other
 * by hand, and the fusion steps aside wherever something must see the pre-activation (a
 * forward hook on either module, a subclass's own forward).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, setThreads } from '../ts/runtime/wasm.js';
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

describe('Conv2d + ReLU fused in Sequential', () => {
  /** The unfused forward of a Conv2d or Linear, whatever Sequential would do. */
  const plain = (m: nn.Module, h: Tensor) =>
    m instanceof nn.Conv2d ? nn.Conv2d.prototype.forward.call(m, h) : m instanceof nn.Linear ? nn.Linear.prototype.forward.call(m, h) : m.forward(h);

  function image(n: number, c: number, hw: number): Tensor {
    const v = Float32Array.from({ length: n * c * hw * hw }, (_, i) => Math.sin(i * 0.73) * 1.5);
    const t = tensor(v, [n, c, hw, hw]);
    t.requiresGrad = true;
    return t;
  }

  // conv1: one input channel (im2col); conv2: 3x3 stride 1, 8 -> 16 channels (Winograd);
  // conv3: depthwise (groups = channels, the direct kernel); then a Linear + ReLU too.
  for (const threads of [2, 1]) {
    it(`matches the modules bit for bit on the im2col, Winograd and depthwise paths (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      setThreads(threads);
      try {
        manualSeed(7);
        const seq = new nn.Sequential(
          new nn.Conv2d(1, 8, 3), new nn.ReLU(),
          new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(),
          new nn.Conv2d(16, 16, 3, { padding: 1, groups: 16 }), new nn.ReLU(),
          new nn.Flatten(), new nn.Linear(16 * 10 * 10, 12), new nn.ReLU(), new nn.Linear(12, 3),
        );
        const params = seq.parameters();
        const run = (f: (x: Tensor) => Tensor) => {
          for (const p of params) p.grad = null;
          const x = image(6, 1, 12);
          const y = f(x);
          loss(y).backward();
          loss(f(x)).backward();
          return { y: bits(y), dx: bits(x.grad), grads: params.map((p) => bits(p.grad)) };
        };
        const fused = run((x) => seq.forward(x));
        const byHandAll = run((x) => {
          let h = x;
          for (const m of seq) h = plain(m, h);
          return h;
        });
        expect(fused.y).toEqual(byHandAll.y);
        expect(fused.dx).toEqual(byHandAll.dx);
        expect(fused.grads).toEqual(byHandAll.grads);
        // Each convolution had outputs to clamp.
        let h = image(6, 1, 12);
        for (const i of [0, 2, 4]) {
          h = plain(seq.at(i), h);
          expect(Array.from(h.f32).filter((v) => v < 0).length, `conv ${i}`).toBeGreaterThan(h.size / 10);
          h = seq.at(i + 1).forward(h);
        }
      } finally {
        setThreads(2);
      }
    });
  }

  it('is the ReLU output in eval mode and without grad, and steps aside for a hook on the ReLU', () => {
    manualSeed(8);
    const conv = new nn.Conv2d(2, 4, 3);
    const relu = new nn.ReLU();
    const seq = new nn.Sequential(conv, relu);
    const x = image(2, 2, 6);
    const want = bits(relu.forward(plain(conv, x)));
    expect(bits(seq.forward(x))).toEqual(want);
    expect(seq.forward(x).gradFn?.name).toBe('relu');
    let seen: Tensor | null = null;
    const handle = relu.registerForwardHook((_m, inputs) => void (seen = inputs[0]));
    expect(bits(seq.forward(x))).toEqual(want);
    handle.remove();
    expect(Array.from(seen!.f32).some((v) => v < 0)).toBe(true);
  });
});

