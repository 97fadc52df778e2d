/**
 * The vector exp (crates/tread-core/src/kernels/activation.rs exp_v), which the relaxed-SIMD
 * builds compute with fused multiply-adds: against Math.exp in float64, and the same value
 * for an element wherever it sits in a tensor (in a vector lane or in the last, partial
 * group of four, which goes through a padded vector so that it takes the same path). Runs on
 * every variant (vitest.variants.config.ts lists it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { exp, sigmoid, softmax, tensor } from '../ts/index.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

// The last ten are float32 values whose exp (first six) or sigmoid (last four) comes out one
// ulp apart with and without fused multiply-adds (found by comparing the two builds on Node 24):
// the position test below fails for them if a partial group took the unfused scalar path.
const VALUES = [-87.5, -20.25, -3.7, -1, -0.3466, -1e-3, 0, 1e-3, 0.3466, 0.69, 1, 2.5, 10.1, 42.42, 88.5,
  2.4714624881744385, 16.33485221862793, 1.7673736810684204, -14.172757148742676, 15.8079252243042, -19.913850784301758,
  -15.58932113647461, -1.0622737407684326, -6.433589935302734, -18.966217041015625];

describe('vector exp on this variant', () => {
  it('matches Math.exp within 2e-7 relative, and sigmoid 1 / (1 + exp(-x)) within 2e-7', () => {
    const x = tensor(VALUES, [VALUES.length]);
    const e = exp(x).f32;
    const s = sigmoid(x).f32;
    VALUES.forEach((v, i) => {
      const xv = Math.fround(v);
      expect(Math.abs(e[i] - Math.exp(xv)) / Math.exp(xv), `exp(${v})`).toBeLessThan(2e-7);
      const sv = 1 / (1 + Math.exp(-xv));
      expect(Math.abs(s[i] - sv) / sv, `sigmoid(${v})`).toBeLessThan(2e-7);
    });
  });

  it('gives an element the same bits in every position: lanes and the partial last group alike', () => {
    for (const [f, name] of [[exp, 'exp'], [sigmoid, 'sigmoid']] as const) {
      const alone = VALUES.map((v) => f(tensor([v], [1])).f32[0]); // a tensor of 1: the partial group
      for (let len = 1; len <= 9; len++) {
        for (let shift = 0; shift < len; shift++) {
          const xs = Array.from({ length: len }, (_, i) => VALUES[(i + shift) % VALUES.length]);
          const got = f(tensor(xs, [len])).f32;
          xs.forEach((v, i) => expect(got[i], `${name}(${v}) at ${i} of ${len}`).toBe(alone[VALUES.indexOf(v)]));
        }
      }
    }
  });

  it('softmax rows of odd lengths sum to 1 and match float64', () => {
    for (const n of [3, 5, 10, 13]) {
      const xs = Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.7) * 6);
      const got = softmax(tensor(xs, [2, n]), -1).f32;
      for (let r = 0; r < 2; r++) {
        const row = xs.slice(r * n, r * n + n).map(Math.fround);
        const m = Math.max(...row);
        const z = row.reduce((a, v) => a + Math.exp(v - m), 0);
        row.forEach((v, j) => expect(Math.abs(got[r * n + j] - Math.exp(v - m) / z), `softmax n=${n} [${r}, ${j}]`).toBeLessThan(3e-7));
      }
    }
  });
});
