import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../ts/autograd/engine.js';
import { init, memoryBuffer, wasm } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { Module, Parameter, Sequential } from '../ts/nn/module.js';
import { Linear } from '../ts/nn/layers/linear.js';
import { Conv2d } from '../ts/nn/layers/conv.js';
import { AvgPool2d, MaxPool2d } from '../ts/nn/layers/pool.js';
import { Flatten } from '../ts/nn/layers/flatten.js';
import { BatchNorm1d, BatchNorm2d } from '../ts/nn/layers/batchnorm.js';
import { Dropout } from '../ts/nn/layers/dropout.js';
import * as A from '../ts/nn/layers/activation.js';
import * as Loss from '../ts/nn/losses.js';
import { check } from '../tools/golden/layers.js';
import { fdCheck, fillUniform } from './helpers/nn-gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const rand = (shape: number[], seed: number, lo = -1, hi = 1) => fillUniform(Tensor.empty(shape, 'float32'), seed, lo, hi).requiresGrad_();

describe('golden layers.json (PyTorch 1.13)', () => {
  it('matches every case: outputs, input and parameter gradients, running statistics', async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/golden/layers.json', 'utf8'));
    const results = await check(fixture, 'layers.json');
    const failed = results.filter((r) => !r.ok);
    expect(failed.map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.length).toBe(fixture.cases.length);
  });
});

describe('finite differences', () => {
  const expectFd = (r: { ok: boolean; where: string }) => expect(r.where).toBe('');

  it('Linear (input, weight, bias; with and without bias; 3-D input)', () => {
    for (const bias of [true, false]) {
      const l = new Linear(5, 4, { bias });
      const x = rand([2, 3, 5], 1);
      expectFd(fdCheck(() => l.forward(x), [x, ...l.parameters()]));
    }
  });

  it('Conv2d over strides, paddings, rectangular kernels', () => {
    const configs: [number, number, number | [number, number], any][] = [
      [2, 3, 3, { stride: 1, padding: 0 }],
      [2, 3, 3, { stride: 2, padding: 1 }],
      [3, 2, [3, 2], { stride: [1, 2], padding: [1, 0], bias: false }],
      [1, 4, 2, { stride: 1, padding: 'same' === 'same' ? 1 : 0 }],
    ];
    for (const [cin, cout, k, o] of configs) {
      const conv = new Conv2d(cin, cout, k, o);
      const x = rand([2, cin, 6, 5], 2);
      expectFd(fdCheck(() => conv.forward(x), [x, ...conv.parameters()], { eps: 1e-2 }));
    }
  });

  it('MaxPool2d and AvgPool2d', () => {
    const x = rand([2, 2, 6, 7], 3);
    for (const m of [new MaxPool2d(2), new MaxPool2d(3, { stride: 2, padding: 1 }), new AvgPool2d(2), new AvgPool2d(3, { stride: 2, padding: 1 }), new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false })]) {
      expectFd(fdCheck(() => m.forward(x), [x], { eps: 1e-3 }));
    }
  });

  it('AvgPool2d(2) takes its four-lane path bit for bit: (0 + a + b + c + d) / 4, and a quarter of dy back', () => {
    // [2, 3, 10, 17]: output rows of 8 (two vectors of four) and a 17th column in no window.
    const x = rand([2, 3, 10, 17], 9);
    const m = new AvgPool2d(2);
    const y = m.forward(x);
    const f = Math.fround;
    const xs = x.f32;
    const at = (p: number, r: number, c: number) => xs[p * 170 + r * 17 + c]!;
    const want = new Float32Array(2 * 3 * 5 * 8);
    for (let p = 0; p < 6; p++) for (let oy = 0; oy < 5; oy++) for (let ox = 0; ox < 8; ox++) {
      const [r, c] = [2 * oy, 2 * ox];
      want[(p * 5 + oy) * 8 + ox] = f(f(f(f(f(0 + at(p, r, c)) + at(p, r, c + 1)) + at(p, r + 1, c)) + at(p, r + 1, c + 1)) / 4);
    }
    expect(Array.from(y.f32)).toEqual(Array.from(want));
    const g = rand([2, 3, 5, 8], 10, -1, 1);
    y.backward(g);
    const dx = x.grad!.f32;
    for (let p = 0; p < 6; p++) for (let r = 0; r < 10; r++) for (let c = 0; c < 17; c++) {
      const share = c === 16 ? 0 : f(g.f32[(p * 5 + (r >> 1)) * 8 + (c >> 1)]! / 4);
      expect(dx[p * 170 + r * 17 + c]).toBe(share);
    }
  });

  it('Conv2d kernels match the direct-loop reference on 2 threads (batch split in chunks)', () => {
    const geos = [
      [8, 5, 13, 11, 16, 3, 2, 2, 1, 1, 2],
      [12, 4, 9, 10, 16, 3, 3, 1, 1, 0, 0],
      [12, 3, 7, 7, 5, 1, 1, 1, 1, 0, 0], // (the first two are big enough to split the batch)
    ];
    for (const g of geos) {
      const [n, c, h, w, oc, kh, kw, sh, sw, ph, pw] = g;
      const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
      const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
      const x = rand([n, c, h, w], 40);
      const wt = rand([oc, c, kh, kw], 41);
      const b = rand([oc], 42);
      const dy = rand([n, oc, oh, ow], 43);
      // The layer's exports (geometry: per-side padding, dilation 1, one group, zero padding).
      const geo = [n, c, h, w, oc, kh, kw, sh, sw, ph, ph, pw, pw, 1, 1, 1, 0];
      const cols = Tensor.empty([wasm().tread_conv2d_saved_len_ex(...geo)]);
      const [y, yr] = [Tensor.empty([n * oc * oh * ow]), Tensor.empty([n * oc * oh * ow])];
      wasm().tread_conv2d_forward_ex(...geo, x.ptr, wt.ptr, b.ptr, y.ptr, cols.ptr);
      wasm().tread_conv2d_forward_ref(...g, x.ptr, wt.ptr, b.ptr, yr.ptr);
      const close = (a: Float32Array, r: Float32Array, what: string) => {
        let worst = 0;
        r.forEach((v, i) => (worst = Math.max(worst, Math.abs(a[i] - v) / (1 + Math.abs(v)))));
        expect(`${what} ${g}: ${worst < 1e-4 ? 'ok' : worst}`).toBe(`${what} ${g}: ok`);
      };
      close(y.f32, yr.f32, 'y');
      const [dx, dw, db] = [Tensor.empty(x.shape), Tensor.empty(wt.shape), Tensor.empty([oc])];
      const [dxr, dwr, dbr] = [Tensor.empty(x.shape), Tensor.empty(wt.shape), Tensor.empty([oc])];
      wasm().tread_conv2d_backward_ex(...geo, cols.ptr, wt.ptr, dy.ptr, dw.ptr, 0, db.ptr, 0, dx.ptr);
      wasm().tread_conv2d_backward_ref(...g, x.ptr, wt.ptr, dy.ptr, dxr.ptr, dwr.ptr, dbr.ptr);
      close(dx.f32, dxr.f32, 'dx');
      close(dw.f32, dwr.f32, 'dw');
      close(db.f32, dbr.f32, 'db');
      [x, wt, b, dy, cols, y, yr, dx, dw, db, dxr, dwr, dbr].forEach((t) => t.dispose());
    }
  });

  it('MaxPool2d 2x2 fast path (SIMD rows) matches a plain loop, argmax included', () => {
    const [n, c, h, w] = [2, 3, 11, 26];
    const x = rand([n, c, h, w], 30);
    const pool = new MaxPool2d(2);
    const y = pool.forward(x);
    const [oh, ow] = [5, 13];
    const xd = x.f32;
    const want = new Float32Array(n * c * oh * ow);
    const arg = new Int32Array(want.length);
    for (let p = 0; p < n * c; p++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let best = -Infinity;
          let bi = -1;
          for (let i = 0; i < 2; i++) {
            for (let j = 0; j < 2; j++) {
              const k = p * h * w + (2 * oy + i) * w + 2 * ox + j;
              if (xd[k] > best) {
                best = xd[k];
                bi = k;
              }
            }
          }
          want[(p * oh + oy) * ow + ox] = best;
          arg[(p * oh + oy) * ow + ox] = bi;
        }
      }
    }
    expect(Array.from(y.f32)).toEqual(Array.from(want));
    const up = fillUniform(Tensor.empty(y.shape, 'float32'), 31);
    x.grad = null;
    y.backward(up);
    const dx = new Float32Array(x.size);
    arg.forEach((k, i) => (dx[k] += up.f32[i]));
    expect(Array.from(x.grad!.f32)).toEqual(Array.from(dx));
    endStep();
  });

  it('BatchNorm1d / BatchNorm2d, train and eval', () => {
    for (const train of [true, false]) {
      const b1 = new BatchNorm1d(3).train(train);
      fillUniform(b1.weight!, 5, 0.5, 1.5);
      const x1 = rand([6, 3], 4, -2, 2);
      expectFd(fdCheck(() => b1.forward(x1), [x1, ...b1.parameters()]));
      const b2 = new BatchNorm2d(2).train(train);
      const x2 = rand([3, 2, 3, 3], 6, -2, 2);
      expectFd(fdCheck(() => b2.forward(x2), [x2, ...b2.parameters()]));
    }
  });

  it('Flatten and Dropout (fixed mask)', () => {
    const x = rand([2, 3, 4], 7);
    expectFd(fdCheck(() => new Flatten().forward(x), [x]));
    const d = new Dropout(0.4, { seed: 5 });
    expectFd(fdCheck(() => {
      d.reseed();
      return d.forward(x);
    }, [x]));
  });

  it('activation modules', () => {
    const x = rand([3, 5], 8, -2, 2);
    const mods = [new A.ReLU(), new A.LeakyReLU(0.1), new A.ELU(0.7), new A.GELU(), new A.GELU('tanh'), new A.SiLU(), new A.Sigmoid(), new A.Tanh(), new A.Softplus(2, 5), new A.Softmax(1), new A.LogSoftmax(0)];
    for (const m of mods) expectFd(fdCheck(() => m.forward(x), [x], { eps: 1e-3 }));
  });

  it('GELU tanh approximation matches its formula', () => {
    const x = tensor([-3, -1, -0.2, 0, 0.5, 2.5]);
    const y = new A.GELU('tanh').forward(x).toArray();
    const k = Math.sqrt(2 / Math.PI);
    Array.from(x.f32).forEach((v, i) => expect(y[i]).toBeCloseTo(0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3))), 5));
  });

  it('losses, every reduction', () => {
    const x = rand([4, 5], 9, -2, 2);
    const cls = tensor(Int32Array.from([1, 0, 4, 2]), [4]);
    const clsIgnored = tensor(Int32Array.from([1, -100, 4, 2]), [4]);
    const t = rand([4, 5], 10, -2, 2);
    t.requiresGrad = false;
    const prob = rand([4, 5], 11, 0.05, 0.95);
    const bin = tensor(Float32Array.from({ length: 20 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), [4, 5]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const cases: [string, () => Tensor, Tensor][] = [
        ['CE', () => new Loss.CrossEntropyLoss({ reduction, labelSmoothing: 0.2 }).forward(x, cls), x],
        ['CE ignore', () => new Loss.CrossEntropyLoss({ reduction }).forward(x, clsIgnored), x],
        ['NLL', () => new Loss.NLLLoss({ reduction }).forward(x, cls), x],
        ['MSE', () => new Loss.MSELoss({ reduction }).forward(x, t), x],
        ['L1', () => new Loss.L1Loss({ reduction }).forward(x, t), x],
        ['SmoothL1', () => new Loss.SmoothL1Loss({ reduction, beta: 0.5 }).forward(x, t), x],
        ['Huber', () => new Loss.HuberLoss({ reduction, delta: 0.7 }).forward(x, t), x],
        ['BCE', () => new Loss.BCELoss({ reduction }).forward(prob, bin), prob],
        ['BCEWithLogits', () => new Loss.BCEWithLogitsLoss({ reduction }).forward(x, bin), x],
      ];
      for (const [name, f, input] of cases) {
        const r = fdCheck(f, [input], { eps: 1e-3 });
        expect(`${name} ${reduction}: ${r.where}`).toBe(`${name} ${reduction}: `);
      }
    }
  });
});

describe('Module', () => {
  class Net extends Module {
    fc1 = new Linear(4, 8);
    bn = new BatchNorm1d(8);
    act = new A.ReLU();
    fc2 = new Linear(8, 3);
    forward(x: Tensor): Tensor {
      return this.fc2.forward(this.act.forward(this.bn.forward(this.fc1.forward(x))));
    }
  }

  it('registers by property, with PyTorch names and order', () => {
    const net = new Net();
    expect(net.namedParameters().map((e) => e[0])).toEqual(['fc1.weight', 'fc1.bias', 'bn.weight', 'bn.bias', 'fc2.weight', 'fc2.bias']);
    expect([...net.stateDict().keys()]).toEqual([
      'fc1.weight', 'fc1.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'fc2.weight', 'fc2.bias',
    ]);
    expect(net.namedChildren().map((e) => e[0])).toEqual(['fc1', 'bn', 'act', 'fc2']);
    expect(net.modules().length).toBe(5);
    expect(net.namedBuffers().map((e) => e[0])).toEqual(['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    const seq = new Sequential(new Linear(2, 3), new A.ReLU(), new Linear(3, 1, { bias: false }));
    expect([...seq.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight']);
    expect(seq.at(-1)).toBe(seq[2]);
    seq.append(new A.Sigmoid());
    expect(seq.length).toBe(4);
    expect(seq.parameters().every((p) => p instanceof Parameter && p.requiresGrad)).toBe(true);
  });

  it('default init follows PyTorch bounds', () => {
    const l = new Linear(100, 50);
    const b = 1 / Math.sqrt(100);
    expect(Math.max(...l.weight.f32.map(Math.abs))).toBeLessThanOrEqual(b);
    expect(Math.max(...l.weight.f32.map(Math.abs))).toBeGreaterThan(0.9 * b);
    const c = new Conv2d(3, 4, 3);
    expect(Math.max(...c.weight.f32.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(27));
  });

  it('stateDict round trip reproduces the outputs', () => {
    const a = new Net();
    const x = rand([5, 4], 12);
    a.forward(x); // moves BN running stats
    a.eval();
    const ya = noGrad(() => a.forward(x)).toArray();
    const b = new Net().eval();
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(noGrad(() => b.forward(x)).toArray()).toEqual(ya);
    expect(b.bn.numBatchesTracked!.item()).toBe(1);
    // also from a plain object of arrays
    const c = new Net().eval();
    c.loadStateDict(Object.fromEntries([...a.stateDict()].map(([k, t]) => [k, Array.from(t.data)])));
    expect(noGrad(() => c.forward(x)).toArray()).toEqual(ya);
  });

  it('loadStateDict reports every problem at once and changes nothing', () => {
    const net = new Net();
    const before = net.fc1.weight.toArray();
    const sd = new Map(net.stateDict());
    const other = new Net();
    sd.set('fc1.weight', other.fc1.weight);
    sd.delete('fc2.bias');
    sd.set('fc3.weight', tensor([1, 2]));
    sd.set('bn.running_mean', tensor([1, 2, 3]));
    let msg = '';
    try {
      net.loadStateDict(sd);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/Unexpected key\(s\) in state_dict: "fc3\.weight"/);
    expect(msg).toMatch(/Missing key\(s\) in state_dict: "fc2\.bias"/);
    expect(msg).toMatch(/size mismatch for bn\.running_mean: copying a param with shape \[3\] from checkpoint, the shape in current model is \[8\]/);
    expect(net.fc1.weight.toArray()).toEqual(before);
    // non-strict: shape errors still throw, missing/unexpected are returned
    sd.set('bn.running_mean', tensor(new Float32Array(8)));
    const r = net.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['fc2.bias'], unexpectedKeys: ['fc3.weight'] });
    expect(net.fc1.weight.toArray()).toEqual(other.fc1.weight.toArray());
  });

  it('zeroGrad, requiresGrad_ (freeze), apply, train/eval', () => {
    const net = new Net();
    const x = rand([4, 4], 13);
    net.forward(x).backward(tensor(new Float32Array(12).fill(1), [4, 3]));
    expect(net.fc1.weight.grad).not.toBeNull();
    net.zeroGrad();
    expect(Array.from(net.fc1.weight.grad!.f32).every((v) => v === 0)).toBe(true);
    net.zeroGrad(true);
    expect(net.fc1.weight.grad).toBeNull();
    net.fc1.requiresGrad_(false);
    net.forward(x).backward(tensor(new Float32Array(12).fill(1), [4, 3]));
    expect(net.fc1.weight.grad).toBeNull();
    expect(net.fc2.weight.grad).not.toBeNull();
    const seen: string[] = [];
    net.apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Linear', 'BatchNorm1d', 'ReLU', 'Linear', 'Net']);
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.bn.training).toBe(true);
    endStep();
  });

  it('gradients accumulate across backward calls until zeroGrad', () => {
    const l = new Linear(3, 2);
    const x = rand([4, 3], 14);
    const up = tensor(new Float32Array(8).fill(1), [4, 2]);
    l.forward(x).backward(up);
    const once = l.weight.grad!.toArray();
    l.forward(x).backward(up);
    const twice = l.weight.grad!.toArray();
    once.forEach((v, i) => expect(twice[i]).toBeCloseTo(2 * v, 5));
  });

  it('shape errors name the layer and both shapes', () => {
    expect(() => new Linear(784, 256).forward(tensor(new Float32Array(128 * 100), [128, 100]))).toThrow('Linear(784 -> 256): expected input [*, 784], got [128, 100]');
    expect(() => new Loss.CrossEntropyLoss().forward(tensor(new Float32Array(40), [4, 10]), tensor(new Int32Array(5), [5]))).toThrow(/CrossEntropyLoss: input \[4, 10\] and target \[5\]/);
    expect(() => new Loss.CrossEntropyLoss().forward(tensor(new Float32Array(40), [4, 10]), tensor(Int32Array.from([0, 1, 10, 2]), [4]))).toThrow(/target 10 at index 2 is out of bounds for 10 classes/);
    expect(() => new Loss.MSELoss().forward(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(3), [3]))).toThrow('MSELoss: input [2, 3] and target [3] must have the same shape');
    expect(() => new Conv2d(3, 8, 3).forward(tensor(new Float32Array(2 * 4 * 25), [2, 4, 5, 5]))).toThrow(/Conv2d\(3, 8, kernel 3x3\): expected input \[N, 3, H, W\], got \[2, 4, 5, 5\]/);
    expect(() => new BatchNorm2d(3).forward(tensor(new Float32Array(24), [2, 4, 3]))).toThrow(/BatchNorm2d\(3\): expected input \[N, C, H, W\], got \[2, 4, 3\]/);
  });
});

describe('train vs eval', () => {
  it('BatchNorm uses batch statistics in training, running statistics in eval', () => {
    const bn = new BatchNorm1d(2, { momentum: 0.5 });
    const x = tensor([1, 10, 3, 20, 5, 30], [3, 2]);
    const y = noGrad(() => bn.forward(x)).toArray();
    expect(y[0]).toBeCloseTo(-Math.sqrt(1.5), 3); // (1-3)/sqrt(8/3)
    expect(Array.from(bn.runningMean!.f32)).toEqual([1.5, 10]);
    expect(bn.runningVar!.f32[0]).toBeCloseTo(0.5 + 0.5 * 4, 5); // unbiased var 4
    bn.eval();
    const ye = noGrad(() => bn.forward(x)).toArray();
    expect(ye[0]).toBeCloseTo((1 - 1.5) / Math.sqrt(2.5 + 1e-5), 5);
    expect(bn.numBatchesTracked!.item()).toBe(1);
    const cum = new BatchNorm1d(2, { momentum: null });
    noGrad(() => cum.forward(x));
    noGrad(() => cum.forward(tensor([3, 0, 5, 0, 7, 0], [3, 2])));
    expect(cum.runningMean!.f32[0]).toBeCloseTo(4, 5); // average of batch means 3 and 5
    endStep();
  });

  it('Dropout: identity in eval, keep rate and scaling in training, seeded', () => {
    const n = 100_000;
    const x = tensor(new Float32Array(n).fill(1), [n]);
    const d = new Dropout(0.3, { seed: 1234 });
    const y = d.forward(x).toArray();
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / n - 0.7)).toBeLessThan(0.01);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    const y2 = d.forward(x).toArray();
    expect(y2).not.toEqual(y); // the next step draws another mask
    const again = new Dropout(0.3, { seed: 1234 });
    expect(again.forward(x).toArray()).toEqual(y); // same seed, same masks
    expect(again.forward(x).toArray()).toEqual(y2);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(new Dropout(1).forward(x).toArray().every((v) => v === 0)).toBe(true);
    endStep();
    endStep();
  });
});

describe('memory', () => {
  it('a 10,000-step MLP training loop keeps wasm memory flat after warm-up', () => {
    const model = new Sequential(new Linear(32, 64), new A.ReLU(), new Linear(64, 10));
    const lossFn = new Loss.CrossEntropyLoss();
    const x = rand([32, 32], 20);
    x.requiresGrad = false;
    const y = tensor(Int32Array.from({ length: 32 }, (_, i) => i % 10), [32]);
    const params = model.parameters();
    const lr = 0.05;
    let warm = 0;
    let first = 0;
    let last = 0;
    for (let step = 0; step < 10_000; step++) {
      model.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      if (step === 0) first = loss.item();
      if (step === 9_999) last = loss.item();
      noGrad(() => {
        for (const p of params) {
          const d = p.f32;
          const g = p.grad!.f32;
          for (let i = 0; i < d.length; i++) d[i] -= lr * g[i];
        }
      });
      endStep();
      if (step === 100) warm = memoryBuffer().byteLength;
    }
    expect(memoryBuffer().byteLength).toBe(warm);
    expect(last).toBeLessThan(first * 0.1);
  });

  it('a conv net with BatchNorm, pooling and Dropout also runs in flat memory', () => {
    const model = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new A.ReLU(), new MaxPool2d(2),
      new Conv2d(4, 8, 3), new A.ReLU(), new AvgPool2d(2), new Dropout(0.2), new Flatten(), new Linear(8, 3),
    );
    const lossFn = new Loss.CrossEntropyLoss({ labelSmoothing: 0.1 });
    const x = rand([8, 1, 10, 10], 21);
    x.requiresGrad = false;
    const y = tensor(Int32Array.from({ length: 8 }, (_, i) => i % 3), [8]);
    const params = model.parameters();
    let warm = 0;
    for (let step = 0; step < 1_000; step++) {
      model.zeroGrad();
      lossFn.forward(model.forward(x), y).backward();
      noGrad(() => {
        for (const p of params) {
          const d = p.f32;
          const g = p.grad!.f32;
          for (let i = 0; i < d.length; i++) d[i] -= 0.01 * g[i];
        }
      });
      if (step % 100 === 0) noGrad(() => model.eval().forward(x)); // an eval pass between steps
      model.train();
      endStep();
      if (step === 50) warm = memoryBuffer().byteLength;
    }
    expect(memoryBuffer().byteLength).toBe(warm);
  });
});
