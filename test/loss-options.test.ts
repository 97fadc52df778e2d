/**
 * Loss options PyTorch has and tread now follows: per-class `weight` (CrossEntropyLoss,
 * NLLLoss; the mean divides by the summed weights of the non-ignored targets, label smoothing
 * weighted too, as PyTorch 1.13), `ignoreIndex` with weights, probability targets for
 * CrossEntropyLoss, [N, C, d1, d2] inputs, BCELoss `weight` and BCEWithLogitsLoss `weight` /
 * `posWeight` (broadcast), all reductions. Checked three ways: against plain JS formulas of
 * PyTorch's losses written here, against finite differences, and against values PyTorch
 * 1.13 computed (constants below).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { tensor } from '../ts/tensor/create.js';
import { endStep } from '../ts/tensor/lifetime.js';
import { Tensor } from '../ts/tensor/tensor.js';
import * as L from '../ts/nn/losses.js';
import { sum } from '../ts/ops/reduce.js';
import { fdCheck, fillUniform } from './helpers/nn-gradcheck.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

type Red = 'mean' | 'sum' | 'none';
const rand = (shape: number[], seed: number, lo = -2, hi = 2) => fillUniform(Tensor.empty(shape, 'float32'), seed, lo, hi).requiresGrad_();

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, what = '') {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]);
    if (!ok) expect(`${what}[${i}] = ${got[i]}`).toBe(`${what}[${i}] = ${want[i]}`);
  }
}

/** [outer, C, inner] view helpers of an [N, C, d...] shape. */
function layout(shape: number[]): [number, number, number] {
  if (shape.length === 1) return [1, shape[0], 1];
  return [shape[0], shape[1], shape.slice(2).reduce((a, b) => a * b, 1)];
}

function reduce(losses: number[], red: Red, denom: number): number[] {
  const s = losses.reduce((a, b) => a + b, 0);
  return red === 'none' ? losses : red === 'sum' ? [s] : [s / denom];
}

/** PyTorch 1.13's cross_entropy with class indices, written out: log-softmax, then weighted NLL and smoothing. */
function naiveCE(x: ArrayLike<number>, shape: number[], t: ArrayLike<number>, o: { weight?: number[]; ignore?: number; ls?: number; red: Red; nll?: boolean }): number[] {
  const [outer, c, inner] = layout(shape);
  const w = (k: number) => (o.weight ? o.weight[k] : 1);
  const ls = o.ls ?? 0;
  const losses: number[] = [];
  let denom = 0;
  for (let a = 0; a < outer; a++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (a * c + k) * inner + i;
      const tgt = t[a * inner + i];
      let z = 0;
      for (let k = 0; k < c; k++) z += Math.exp(x[at(k)]);
      const logp = (k: number) => (o.nll ? x[at(k)] : x[at(k)] - Math.log(z));
      if (tgt === (o.ignore ?? -100)) {
        losses.push(0);
        continue;
      }
      denom += w(tgt);
      let smooth = 0;
      for (let k = 0; k < c; k++) smooth -= w(k) * logp(k);
      losses.push((1 - ls) * -w(tgt) * logp(tgt) + (ls / c) * smooth);
    }
  }
  return reduce(losses, o.red, denom);
}

/** cross_entropy with probability targets: -Σ_k w_k·q'_k·log p_k, q' = q(1-ε) + ε/C; mean over samples. */
function naiveCEProb(x: ArrayLike<number>, shape: number[], q: ArrayLike<number>, o: { weight?: number[]; ls?: number; red: Red }): number[] {
  const [outer, c, inner] = layout(shape);
  const ls = o.ls ?? 0;
  const losses: number[] = [];
  for (let a = 0; a < outer; a++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (a * c + k) * inner + i;
      let z = 0;
      for (let k = 0; k < c; k++) z += Math.exp(x[at(k)]);
      let l = 0;
      for (let k = 0; k < c; k++) l -= (o.weight ? o.weight[k] : 1) * (q[at(k)] * (1 - ls) + ls / c) * (x[at(k)] - Math.log(z));
      losses.push(l);
    }
  }
  return reduce(losses, o.red, outer * inner);
}

/** Broadcast of a weight (shape ws) to `shape`, flat. */
function bcast(w: number[], ws: number[], shape: number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let f = 0; f < n; f++) {
    let rem = f;
    const idx = shape.map(() => 0);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    let wi = 0;
    const off = shape.length - ws.length;
    for (let d = 0; d < ws.length; d++) wi = wi * ws[d] + (ws[d] === 1 ? 0 : idx[off + d]);
    out.push(w[wi]);
  }
  return out;
}

function naiveBCE(x: ArrayLike<number>, t: ArrayLike<number>, w: number[] | null, red: Red): number[] {
  const l = Array.from(x, (xi, i) => -(w ? w[i] : 1) * (t[i] * Math.max(Math.log(xi), -100) + (1 - t[i]) * Math.max(Math.log(1 - xi), -100)));
  return reduce(l, red, l.length);
}

/** BCE with logits, the textbook way: -w·(pw·t·log σ(x) + (1-t)·log(1-σ(x))) (fine for moderate x). */
function naiveBCEL(x: ArrayLike<number>, t: ArrayLike<number>, w: number[] | null, pw: number[] | null, red: Red): number[] {
  const l = Array.from(x, (xi, i) => {
    const s = 1 / (1 + Math.exp(-xi));
    return -(w ? w[i] : 1) * ((pw ? pw[i] : 1) * t[i] * Math.log(s) + (1 - t[i]) * Math.log(1 - s));
  });
  return reduce(l, red, l.length);
}

const REDS: Red[] = ['mean', 'sum', 'none'];

describe('CrossEntropyLoss / NLLLoss with class weights', () => {
  it('match the written-out formulas for [N, C], [N, C, d1, d2] and [C] inputs, with smoothing and ignored targets', () => {
    const cases: { shape: number[]; target: number[]; tshape: number[] }[] = [
      { shape: [5, 4], target: [0, 3, -1, 2, 1], tshape: [5] },
      { shape: [2, 3, 2, 2], target: [0, 2, 1, -1, 2, 2, 0, 1], tshape: [2, 2, 2] },
      { shape: [4], target: [2], tshape: [] },
    ];
    for (const [ci, cs] of cases.entries()) {
      const c = cs.shape[1] ?? cs.shape[0];
      const weight = Array.from({ length: c }, (_, k) => 0.25 + 0.6 * k);
      const x = rand(cs.shape, 10 + ci);
      const t = tensor(Int32Array.from(cs.target), cs.tshape);
      for (const red of REDS) {
        for (const ls of [0, 0.2]) {
          for (const w of [undefined, weight]) {
            const got = new L.CrossEntropyLoss({ reduction: red, weight: w, labelSmoothing: ls, ignoreIndex: -1 }).forward(x, t);
            expectClose(got.toArray(), naiveCE(x.f32, cs.shape, cs.target, { weight: w, ignore: -1, ls, red }), 1e-5, 1e-6, `CE ${cs.shape} ${red} ls=${ls} w=${!!w}`);
            expect(got.shape).toEqual(red === 'none' ? cs.tshape : []);
          }
        }
        const nll = L.nllLoss(x, t, { reduction: red, weight, ignoreIndex: -1 });
        expectClose(nll.toArray(), naiveCE(x.f32, cs.shape, cs.target, { weight, ignore: -1, red, nll: true }), 1e-5, 1e-6, `NLL ${cs.shape} ${red}`);
      }
      endStep();
    }
  });

  it('gradients match finite differences (weights, smoothing, ignore index, 4-D input, every reduction)', () => {
    const x = rand([2, 3, 2, 2], 21);
    const t = tensor(Int32Array.from([0, 2, 1, -1, 2, 2, 0, 1]), [2, 2, 2]);
    const weight = tensor(Float32Array.from([0.3, 1.7, 0.9]), [3]);
    for (const reduction of REDS) {
      const ce = new L.CrossEntropyLoss({ reduction, weight, labelSmoothing: 0.15, ignoreIndex: -1 });
      expect(fdCheck(() => ce.forward(x, t), [x], { eps: 1e-2 }).where).toBe('');
      const nll = new L.NLLLoss({ reduction, weight, ignoreIndex: -1 });
      expect(fdCheck(() => nll.forward(x, t), [x], { eps: 1e-2 }).where).toBe('');
    }
  });

  it('agree with PyTorch 1.13 (weighted, smoothed, ignore_index=-1, [2, 3, 2, 2] input)', () => {
    // Values from torch 1.13.1 (Debian python3-torch), float32:
    //   F.cross_entropy(x, t, weight=w, ignore_index=-1, label_smoothing=0.15, reduction=...)
    // with x, t, w as below; dx is the gradient of the loss (its sum for 'none').
    const x = tensor(Float32Array.from([0.5, -1.0, 2.0, 0.1, 1.5, 0.3, -0.7, 0.9, -0.2, 0.8, 0.4, -1.3, 0.0, 1.1, -0.5, 0.6, 0.7, -0.9, 1.2, 0.2, 0.3, 0.5, -1.1, 1.4]), [2, 3, 2, 2]).requiresGrad_();
    const t = tensor(Int32Array.from([0, 2, 1, -1, 2, 2, 0, 1]), [2, 2, 2]);
    const weight = [0.3, 1.7, 0.9];
    const want = {
      mean: { loss: [1.6810249090194702], dx: [-0.026133999228477478, 0.01043230015784502, 0.1847543567419052, 0.0, 0.02581654116511345, 0.033807482570409775, -0.21579121053218842, 0.0, 0.0003174662997480482, -0.04423977807164192, 0.031036848202347755, 0.0, 0.028886990621685982, 0.078407883644104, -0.03179735690355301, 0.05867543816566467, 0.049993086606264114, -0.0017722236225381494, 0.03384825587272644, -0.187526136636734, -0.07888007164001465, -0.07663566619157791, -0.002050890354439616, 0.12885071337223053] },
      none: { loss: [0.5219472050666809, 0.5900315642356873, 4.581912517547607, 0.0, 1.0382030010223389, 1.1303458213806152, 0.6621625423431396, 2.738264322280884], dx: [-0.17509785294532776, 0.06989642232656479, 1.2378543615341187, 0.0, 0.17297086119651794, 0.2265101671218872, -1.4458013772964478, 0.0, 0.0021270294673740864, -0.2964065372943878, 0.20794692635536194, 0.0, 0.19354286789894104, 0.5253329277038574, -0.21304236352443695, 0.3931255042552948, 0.33495375514030457, -0.011873887851834297, 0.22678333520889282, -1.256425380706787, -0.5284965634346008, -0.5134590268135071, -0.013740962371230125, 0.8632998466491699] },
    };
    for (const red of ['mean', 'none'] as const) {
      x.grad = null;
      const l = new L.CrossEntropyLoss({ reduction: red, weight, labelSmoothing: 0.15, ignoreIndex: -1 }).forward(x, t);
      expectClose(l.toArray(), want[red].loss, 1e-5, 1e-6, `loss ${red}`);
      (red === 'none' ? sum(l) : l).backward();
      expectClose(x.grad!.toArray(), want[red].dx, 1e-4, 1e-6, `dx ${red}`);
    }
    // F.nll_loss(x3, [2, 0, 1, -100], weight=w): mean over w[2] + w[0] + w[1] = 2.9.
    const x3 = tensor(Float32Array.from([-1.2, -0.5, -2.0, -0.3, -1.5, -0.9, -2.2, -0.1, -0.7, -0.8, -0.8, -0.8]), [4, 3]).requiresGrad_();
    const l3 = L.nllLoss(x3, tensor(Int32Array.from([2, 0, 1, -100]), [4]), { weight });
    expectClose(l3.toArray(), [0.7103447914123535]);
    l3.backward();
    expectClose(x3.grad!.toArray(), [0, 0, -0.31034478545188904, -0.10344827175140381, 0, 0, 0, -0.58620685338974, 0, 0, 0, 0]);
  });
});

describe('CrossEntropyLoss with probability targets', () => {
  const probs = (shape: number[], seed: number) => {
    const [outer, c, inner] = layout(shape);
    const q = fillUniform(Tensor.empty(shape, 'float32'), seed, 0, 1);
    const d = q.f32;
    for (let a = 0; a < outer; a++)
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let k = 0; k < c; k++) s += d[(a * c + k) * inner + i];
        for (let k = 0; k < c; k++) d[(a * c + k) * inner + i] /= s;
      }
    return q;
  };

  it('match the written-out formula ([N, C], [N, C, d], [C]; weight; smoothing; reductions)', () => {
    for (const [si, shape] of [[6, 4], [3, 3, 5], [5]].entries()) {
      const x = rand(shape, 30 + si);
      const q = probs(shape, 40 + si);
      const c = shape[1] ?? shape[0];
      const weight = Array.from({ length: c }, (_, k) => 1.5 - 0.3 * k);
      for (const red of REDS)
        for (const ls of [0, 0.3])
          for (const w of [undefined, weight]) {
            const got = L.crossEntropy(x, q, { reduction: red, labelSmoothing: ls, weight: w });
            expectClose(got.toArray(), naiveCEProb(x.f32, shape, q.f32, { weight: w, ls, red }), 1e-5, 1e-6, `prob CE ${shape} ${red} ${ls}`);
            expect(got.shape).toEqual(red === 'none' && shape.length > 1 ? shape.filter((_, i) => i !== 1) : []);
          }
      endStep();
    }
  });

  it('gradients match finite differences', () => {
    const x = rand([3, 4, 2], 51);
    const q = probs([3, 4, 2], 52);
    for (const reduction of REDS) {
      const ce = new L.CrossEntropyLoss({ reduction, weight: [0.5, 1, 2, 0.7], labelSmoothing: 0.1 });
      expect(fdCheck(() => ce.forward(x, q), [x]).where).toBe('');
    }
  });

  it('agree with PyTorch 1.13 (weight, label_smoothing=0.1, [2, 3, 2] input)', () => {
    // torch 1.13.1: F.cross_entropy(x, q, weight=[0.3, 1.7, 0.9], label_smoothing=0.1, reduction=...).
    const x = tensor(Float32Array.from([0.2, -0.4, 1.0, 0.3, -0.6, 0.8, 0.9, 0.1, -0.3, -1.2, 0.5, 0.7]), [2, 3, 2]).requiresGrad_();
    const q = tensor(Float32Array.from([0.2, 0.5, 0.7, 0.1, 0.1, 0.4, 0.6, 0.3, 0.3, 0.3, 0.1, 0.4]), [2, 3, 2]);
    const ce = (reduction: Red) => new L.CrossEntropyLoss({ reduction, weight: [0.3, 1.7, 0.9], labelSmoothing: 0.1 });
    const l = ce('mean').forward(x, q);
    expectClose(l.toArray(), [1.0918060541152954]);
    l.backward();
    expectClose(x.grad!.toArray(), [0.07261991500854492, -0.008278685621917248, -0.0846894159913063, 0.003910642582923174, 0.012069497257471085, 0.00436804722994566, 0.058275796473026276, 0.0548570491373539, -0.09841299802064896, -0.1077663004398346, 0.04013720527291298, 0.05290926247835159], 1e-4, 1e-6);
    expectClose(ce('none').forward(x, q).toArray(), [0.8821104764938354, 0.7365691661834717, 1.205336570739746, 1.5432077646255493]);
  });
});

describe('BCELoss weight, BCEWithLogitsLoss weight and posWeight', () => {
  it('match the written-out formulas with broadcasting, every reduction', () => {
    const shape = [4, 3];
    const x = rand(shape, 61, 0.02, 0.98);
    const z = rand(shape, 62, -4, 4);
    const t = fillUniform(Tensor.empty(shape, 'float32'), 63, 0, 1);
    for (const [ws, w] of [[[3], [0.5, 2, 1]], [[4, 1], [1, 0.2, 3, 0.7]], [[4, 3], Array.from({ length: 12 }, (_, i) => 0.1 * i)]] as [number[], number[]][]) {
      const wt = tensor(Float32Array.from(w), ws);
      const wf = bcast(w, ws, shape);
      for (const red of REDS) {
        expectClose(L.binaryCrossEntropy(x, t, { reduction: red, weight: wt }).toArray(), naiveBCE(x.f32, t.f32, wf, red), 1e-5, 1e-6, `BCE w${ws} ${red}`);
        const pw = [3, 0.5, 1.5];
        const got = new L.BCEWithLogitsLoss({ reduction: red, weight: wt, posWeight: pw }).forward(z, t);
        expectClose(got.toArray(), naiveBCEL(z.f32, t.f32, wf, bcast(pw, [3], shape), red), 1e-5, 1e-6, `BCEWithLogits w${ws} ${red}`);
        expectClose(L.binaryCrossEntropyWithLogits(z, t, { reduction: red, posWeight: pw }).toArray(), naiveBCEL(z.f32, t.f32, null, bcast(pw, [3], shape), red), 1e-5, 1e-6);
      }
    }
  });

  it('gradients match finite differences', () => {
    const x = rand([3, 4], 71, 0.05, 0.95);
    const z = rand([3, 4], 72, -3, 3);
    const t = fillUniform(Tensor.empty([3, 4], 'float32'), 73, 0, 1);
    for (const reduction of REDS) {
      const bce = new L.BCELoss({ reduction, weight: tensor(Float32Array.from([0.5, 2, 1.5]), [3, 1]) });
      expect(fdCheck(() => bce.forward(x, t), [x], { eps: 1e-3 }).where).toBe('');
      const bcel = new L.BCEWithLogitsLoss({ reduction, weight: tensor(Float32Array.from([2, 0.5, 1]), [3, 1]), posWeight: [3, 0.5, 1.5, 2] });
      expect(fdCheck(() => bcel.forward(z, t), [z]).where).toBe('');
    }
  });

  it('agree with PyTorch 1.13, and stay finite for large logits', () => {
    // torch 1.13.1: F.binary_cross_entropy(x4, t4, weight=[0.5, 2, 1]) and
    // F.binary_cross_entropy_with_logits(x5, t4, weight=[[2], [0.5]], pos_weight=[3, 0.5, 1.5], reduction='sum').
    const t4 = tensor(Float32Array.from([0, 1, 1, 1, 0, 0.3]), [2, 3]);
    const x4 = tensor(Float32Array.from([0.2, 0.7, 0.95, 0.5, 0.1, 0.6]), [2, 3]).requiresGrad_();
    const l4 = new L.BCELoss({ weight: [0.5, 2, 1] }).forward(x4, t4);
    expectClose(l4.toArray(), [0.3713601529598236]);
    l4.backward();
    expectClose(x4.grad!.toArray(), [0.1041666567325592, -0.4761904776096344, -0.17543859779834747, -0.1666666716337204, 0.37037038803100586, 0.208333358168602], 1e-4);
    const x5 = tensor(Float32Array.from([0.3, -1.7, 2.5, -0.2, 4.0, -30.0]), [2, 3]).requiresGrad_();
    const l5 = L.binaryCrossEntropyWithLogits(x5, t4, { reduction: 'sum', weight: tensor(Float32Array.from([2, 0.5]), [2, 1]), posWeight: [3, 0.5, 1.5] });
    expectClose(l5.toArray(), [13.769449234008789]);
    l5.backward();
    expectClose(x5.grad!.toArray(), [1.1488850116729736, -0.8455347418785095, -0.22757458686828613, -0.8247509598731995, 0.49100688099861145, -0.22500000894069672], 1e-4);
  });
});

describe('options: state dict and errors', () => {
  it('keeps weights as buffers under PyTorch names', () => {
    expect([...new L.CrossEntropyLoss({ weight: [1, 2] }).stateDict().keys()]).toEqual(['weight']);
    expect([...new L.NLLLoss().stateDict().keys()]).toEqual([]);
    const b = new L.BCEWithLogitsLoss({ weight: [1, 2], posWeight: [3, 4] });
    expect([...b.stateDict().keys()]).toEqual(['weight', 'pos_weight']);
    expect(Array.from(b.stateDict().get('pos_weight')!.f32)).toEqual([3, 4]);
  });

  it('rejects bad options with the loss, argument and shapes named', () => {
    const x = rand([4, 3], 81);
    const t = tensor(Int32Array.from([0, 1, 2, 0]), [4]);
    expect(() => L.crossEntropy(x, t, { weight: [1, 2] })).toThrow(/CrossEntropyLoss: weight .*\[3\].*\[4, 3\].*\[2\]/);
    expect(() => new L.NLLLoss({ weight: [1, 2, 3, 4] }).forward(x, t)).toThrow(/NLLLoss: weight/);
    expect(() => L.crossEntropy(x, rand([4, 2], 82))).toThrow(/CrossEntropyLoss: .*probabilities.*\[4, 3\].*\[4, 2\]/);
    expect(() => L.crossEntropy(x, rand([4, 3], 83), { ignoreIndex: 1 })).toThrow(/ignoreIndex \(1\) is not supported with class-probability targets/);
    expect(() => L.binaryCrossEntropyWithLogits(x, rand([4, 3], 84), { posWeight: [1, 2] })).toThrow(/BCEWithLogitsLoss: posWeight \[2\] cannot be broadcast to the input \[4, 3\]/);
    expect(() => L.binaryCrossEntropy(x, rand([4, 3], 85), { weight: tensor(Float32Array.from([1, 2, 3, 4]), [4]) })).toThrow(/BCELoss: weight \[4\] cannot be broadcast/);
    expect(() => new (L.MSELoss as any)({ weight: [1] })).toThrow(/MSELoss: has no weight option/);
    expect(() => new (L.BCELoss as any)({ posWeight: [1] })).toThrow(/BCELoss: has no posWeight option/);
  });
});
