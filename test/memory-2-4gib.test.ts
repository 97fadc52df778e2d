/**
 * The 2-4 GiB range of wasm memory (issues 19.3 and 11.3). Pointers cross the ABI as i32, so
 * memory above 2 GiB came back negative ("Start offset -1989660608 is outside the bounds of the
 * buffer" for any new tensor), and a size of 4 GiB or more wrapped to a tiny block that kernels
 * then wrote far past. Here: more than 2 GiB of tensors are allocated (left untouched, so they
 * take address space rather than RAM) and a training step runs on tensors that live above
 * 2 GiB, checked against the same step computed by hand in doubles; and sizes that would wrap
 * are refused with the shape and bytes, before anything is allocated (a tensor, and the im2col
 * buffer whose size the core computes).
 *
 * One such test in the suite: the machine is shared. The threaded build's memory may grow to 4 GiB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { Tensor } from '../ts/tensor/tensor.js';
import { memoryBytes } from '../ts/runtime/wasm.js';

const { nn, optim } = tread;
const TWO_GIB = 2 ** 31;
const ballast: Tensor[] = [];

beforeAll(async () => {
  await tread.init({ threads: 2 });
});

afterAll(() => {
  for (const t of ballast) t.dispose();
});

describe('wasm memory past 2 GiB', () => {
  it('refuses sizes that would wrap or cannot fit, naming the shape and bytes, and stays usable', () => {
    const before = tread.tensor([1, 2, 3]);
    // 2^30 + 4 float32 = 2^32 + 16 bytes: cut to 32 bits that is a 16-byte block.
    expect(() => tread.zeros([2 ** 30 + 4])).toThrow(/tread: a float32 tensor of shape \[1073741828\] needs 4294967312 bytes \(4\.00 GiB\); one buffer in wasm memory holds at most 2147483632 bytes/);
    expect(() => tread.empty([65536, 65536])).toThrow(/shape \[65536, 65536\] needs 17179869184 bytes/);
    expect(() => tread.zeros([2 ** 29 + 1])).toThrow(/needs 2147483652 bytes/);
    expect(() => tread.ones([2 ** 40, 2 ** 20])).toThrow(/needs 4\.61\d*e\+18 bytes|invalid size/);
    // A size the core computes: Conv2d's im2col buffer, 2 x 17^2 x 2800^2 = 2^32 + 236,552,704
    // floats, which 32-bit arithmetic wraps to a 946 MB buffer that the forward would overrun.
    const conv = new nn.Conv2d(2, 1, 17, { padding: 8 });
    const image = Tensor.empty([1, 2, 2800, 2800]); // 63 MB, never written
    expect(() => conv.forward(image)).toThrow(
      /^Conv2d: input \[1, 2, 2800, 2800\] with a 17x17 kernel \(output 2800x2800\) needs an im2col buffer of 4531520000 floats \(18126080000 bytes\); one buffer in wasm memory holds at most 2147483632 bytes/,
    );
    image.dispose();
    expect(Array.from(before.data)).toEqual([1, 2, 3]);
    expect(Array.from(tread.add(before, before).data)).toEqual([2, 4, 6]);
  });

  it('allocates more than 2 GiB of tensors and trains a step on tensors above 2 GiB', () => {
    // 3 x 760 MB, never written: the pages stay untouched, so this is address space, not RAM.
    const rss0 = process.memoryUsage().rss;
    // kept: never spilled into JS memory by an idle-step scope, which would copy (and touch) it all.
    for (let i = 0; i < 3; i++) ballast.push(Tensor.empty([190_000_000]).keep());
    expect(memoryBytes()).toBeGreaterThan(TWO_GIB);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 2 ** 20); // 0.1 MiB here
    expect(ballast.reduce((n, t) => n + t.size * 4, 0)).toBeGreaterThan(TWO_GIB);
    expect(Math.max(...ballast.map((t) => t.ptr + t.size * 4))).toBeGreaterThan(TWO_GIB);

    // The 2x2 matmul of the issue.
    const m = tread.matmul(tread.tensor([[1, 2], [3, 4]]), tread.tensor([[5, 6], [7, 8]]));
    expect(Array.from(m.data)).toEqual([19, 22, 43, 50]);

    nn.manualSeed(5);
    const model = new nn.Linear(6, 3);
    const N = 5;
    const xs = Array.from({ length: N * 6 }, (_, i) => Math.sin(i * 0.7));
    const ts = Array.from({ length: N * 3 }, (_, i) => Math.cos(i * 1.3));
    const x = tread.tensor(xs, [N, 6]);
    const target = tread.tensor(ts, [N, 3]);
    const [w, b] = [model.weight, model.bias!];
    const tensorsAbove = [x, target, w, b].filter((t) => t.ptr >= TWO_GIB).length;
    expect(tensorsAbove).toBe(4); // input, target, weight and bias all live above 2 GiB
    const W = Array.from(w.data);
    const B = Array.from(b.data);

    // The step computed by hand, in doubles: y = x W^T + b, loss = mean((y - t)^2), SGD lr 0.1.
    const lr = 0.1;
    const dW = new Array(18).fill(0);
    const dB = new Array(3).fill(0);
    let loss = 0;
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < 3; o++) {
        let y = B[o];
        for (let i = 0; i < 6; i++) y += xs[n * 6 + i] * W[o * 6 + i];
        const r = y - ts[n * 3 + o];
        loss += (r * r) / (N * 3);
        const g = (2 * r) / (N * 3);
        dB[o] += g;
        for (let i = 0; i < 6; i++) dW[o * 6 + i] += g * xs[n * 6 + i];
      }
    }

    const opt = new optim.SGD(model.parameters(), { lr });
    opt.zeroGrad();
    const out = new nn.MSELoss().forward(model.forward(x), target);
    expect(out.item()).toBeCloseTo(loss, 5);
    out.backward();
    opt.step();
    Array.from(w.data).forEach((v, i) => expect(v).toBeCloseTo(W[i] - lr * dW[i], 5));
    Array.from(b.data).forEach((v, i) => expect(v).toBeCloseTo(B[i] - lr * dB[i], 5));
  });
});
