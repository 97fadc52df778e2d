/**
 * The labelled suite: small runs, each broken in one known way (or healthy), varied in data,
 * depth, width, optimizer and seed. A case's label is what was done to it (a constant init,
 * a bias of -3, lr 1e-5 ...); `verify` then checks from the run's own numbers, measured here
 * by hand (not by the diagnosis), that the run really shows that failure, so a label is never
 * taken on faith. `heldOut` cases use other seeds and data settings and were not looked at
 * while the rules were written.
 */
import { noGrad } from '../../ts/autograd/engine.js';
import { TensorDataset } from '../../ts/data/dataset.js';
import { DataLoader } from '../../ts/data/loader.js';
import { gaussianBlobs, twoSpirals, xor } from '../../ts/data/synthetic.js';
import * as nn from '../../ts/nn/index.js';
import { manualSeed } from '../../ts/nn/random.js';
import { Adam, SGD, RMSprop } from '../../ts/optim/index.js';
import { tensor } from '../../ts/tensor/create.js';
import type { Tensor } from '../../ts/tensor/tensor.js';
import type { FitResult } from '../../ts/train/fit.js';

export const CLASSES = ['healthy', 'vanishing', 'exploding', 'dying-relu', 'oscillating', 'slow-convergence', 'symmetry', 'overfitting', 'underfitting', 'unnormalized-inputs'] as const;
export type Cls = (typeof CLASSES)[number];

export interface Setup {
  model: nn.Sequential;
  train: DataLoader;
  val: DataLoader;
  trainSet: { x: Float32Array; y: Int32Array; d: number };
  optimizer: any;
  epochs: number;
}

export interface Case {
  id: string;
  cls: Cls;
  heldOut: boolean;
  build(): Setup;
}

export const DESIRED_ERROR = 0.05;

// ---------------------------------------------------------------- data

interface Raw {
  x: Float32Array;
  y: Int32Array;
  d: number;
  k: number;
}

function raw(ds: TensorDataset): Raw {
  const [xt, yt] = ds.tensors;
  return { x: Float32Array.from(xt.f32), y: Int32Array.from(yt.data as Int32Array), d: xt.shape[1], k: Math.max(...Array.from(yt.data as Int32Array)) + 1 };
}

type DataKind = 'blobs' | 'blobs-hd' | 'spirals' | 'xor' | 'noisy-hd';

/** n samples of a data kind; the same seed gives the same distribution, `part` another draw from it. */
function data(kind: DataKind, n: number, seed: number, part: number): Raw {
  const s = seed * 7919 + part;
  switch (kind) {
    case 'blobs':
      return raw(gaussianBlobs({ n, centers: circle(seed, 4, 2.5), std: 0.35, seed: s }));
    case 'blobs-hd':
      return raw(gaussianBlobs({ n, centers: fixedCenters(seed, 5, 10, 4), std: 0.7, seed: s }));
    case 'spirals':
      return raw(twoSpirals({ n, noise: 0.03, turns: 1, seed: s }));
    case 'xor':
      return raw(xor({ n, noise: 0.02, seed: s }));
    case 'noisy-hd': {
      // 40 features, 3 classes that overlap a lot: a big net memorizes a small training set.
      return raw(gaussianBlobs({ n, centers: fixedCenters(seed, 3, 40, 0.35), std: 1, seed: s }));
    }
  }
}

/** k centers on a circle of radius r, turned by the seed: neighbours 1.4r apart. */
function circle(seed: number, k: number, r: number): number[][] {
  return Array.from({ length: k }, (_, i) => [r * Math.cos(seed + (2 * Math.PI * i) / k), r * Math.sin(seed + (2 * Math.PI * i) / k)]);
}

/** Class centers that depend on the seed only (train and val share them). */
function fixedCenters(seed: number, k: number, d: number, spread: number): number[][] {
  let st = seed * 1103515245 + 12345;
  const next = () => ((st = (st * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return Array.from({ length: k }, () => Array.from({ length: d }, () => next() * spread));
}

function loader(r: Raw, batch: number, shuffle: boolean, seed: number, scale = 1, offset = 0): DataLoader {
  const x = scale === 1 && offset === 0 ? r.x : r.x.map((v, i) => v * scale + (i % r.d === 0 ? offset : 0));
  return new DataLoader(new TensorDataset(tensor(x, [r.y.length, r.d]), tensor(r.y, [r.y.length], { dtype: 'int32' })), { batchSize: batch, shuffle, seed });
}

// ---------------------------------------------------------------- models

type Act = 'relu' | 'tanh' | 'sigmoid';

function act(a: Act): nn.Module {
  return a === 'relu' ? new nn.ReLU() : a === 'tanh' ? new nn.Tanh() : new nn.Sigmoid();
}

/** in -> width x depth (activation after each) -> k */
function mlp(d: number, k: number, width: number, depth: number, a: Act): nn.Sequential {
  const layers: nn.Module[] = [];
  let w = d;
  for (let i = 0; i < depth; i++) {
    layers.push(new nn.Linear(w, width), act(a));
    w = width;
  }
  layers.push(new nn.Linear(w, k));
  return new nn.Sequential(...layers);
}

function linears(m: nn.Sequential): nn.Linear[] {
  return [...m.children()].filter((c): c is nn.Linear => c instanceof nn.Linear);
}

type Opt = 'sgd' | 'momentum' | 'adam' | 'rmsprop';

function optimizer(kind: Opt, m: nn.Module, lr: number): any {
  if (kind === 'sgd') return new SGD(m.parameters(), { lr });
  if (kind === 'momentum') return new SGD(m.parameters(), { lr, momentum: 0.9 });
  if (kind === 'rmsprop') return new RMSprop(m.parameters(), { lr });
  return new Adam(m.parameters(), { lr });
}

interface Spec {
  data: DataKind;
  n?: number;
  nVal?: number;
  batch?: number;
  width: number;
  depth: number;
  act: Act;
  opt: Opt;
  lr: number;
  epochs: number;
  seed: number;
  scale?: number;
  offset?: number;
  init?: (m: nn.Sequential) => void;
}

function setup(sp: Spec): Setup {
  manualSeed(sp.seed);
  const tr = data(sp.data, sp.n ?? 256, sp.seed, 1);
  const va = data(sp.data, sp.nVal ?? 200, sp.seed, 2);
  const model = mlp(tr.d, tr.k, sp.width, sp.depth, sp.act);
  sp.init?.(model);
  const scale = sp.scale ?? 1;
  const offset = sp.offset ?? 0;
  const xs = scale === 1 && offset === 0 ? tr.x : tr.x.map((v, i) => v * scale + (i % tr.d === 0 ? offset : 0));
  return {
    model,
    train: loader(tr, sp.batch ?? 32, true, sp.seed, scale, offset),
    val: loader(va, 100, false, sp.seed, scale, offset),
    trainSet: { x: xs, y: tr.y, d: tr.d },
    optimizer: optimizer(sp.opt, model, sp.lr),
    epochs: sp.epochs,
  };
}

const constantInit = (c: number) => (m: nn.Sequential) => {
  for (const l of linears(m)) {
    nn.init.constant_(l.weight, c);
    if (l.bias) nn.init.zeros_(l.bias);
  }
};
const negativeBias = (b: number) => (m: nn.Sequential) => {
  const ls = linears(m);
  for (const l of ls.slice(0, -1)) if (l.bias) nn.init.constant_(l.bias, b);
};

// ---------------------------------------------------------------- cases

function mk(cls: Cls, heldOut: boolean, specs: Spec[]): Case[] {
  return specs.map((sp, i) => ({ id: `${cls}${heldOut ? '/held-out' : ''}#${i + 1} ${sp.data} ${sp.depth}x${sp.width} ${sp.act} ${sp.opt} lr=${sp.lr} seed=${sp.seed}`, cls, heldOut, build: () => setup(sp) }));
}

function casesFor(heldOut: boolean): Case[] {
  // Seeds 1..9 while writing the rules; 101.. for the held-out part (plus other data mixes).
  const S = heldOut ? [101, 102, 103, 104, 105, 106] : [1, 2, 3, 4, 5, 6];
  return [
    ...mk('healthy', heldOut, [
      { data: 'blobs', width: 32, depth: 2, act: 'relu', opt: 'adam', lr: 1e-2, epochs: 8, seed: S[0] },
      { data: heldOut ? 'xor' : 'spirals', width: 64, depth: 3, act: 'relu', opt: 'adam', lr: 1e-2, epochs: heldOut ? 40 : 25, seed: S[1] },
      { data: 'blobs-hd', width: 48, depth: 2, act: 'tanh', opt: 'momentum', lr: 0.05, epochs: 8, seed: S[2] },
      { data: heldOut ? 'spirals' : 'xor', width: 32, depth: 2, act: 'tanh', opt: 'adam', lr: 2e-2, epochs: 25, seed: S[3] },
      { data: 'blobs', width: 16, depth: 1, act: 'sigmoid', opt: 'rmsprop', lr: 1e-2, epochs: 10, seed: S[4] },
      { data: 'blobs-hd', width: 64, depth: 4, act: 'relu', opt: 'momentum', lr: 0.02, epochs: 10, seed: S[5] },
    ]),
    ...mk('vanishing', heldOut, [
      { data: 'blobs', width: 32, depth: 10, act: 'sigmoid', opt: 'sgd', lr: 0.1, epochs: 6, seed: S[0] },
      { data: 'blobs-hd', width: 24, depth: 12, act: 'sigmoid', opt: 'momentum', lr: 0.05, epochs: 6, seed: S[1] },
      { data: heldOut ? 'xor' : 'spirals', width: 16, depth: 9, act: 'sigmoid', opt: 'sgd', lr: 0.5, epochs: 6, seed: S[2] },
      { data: 'blobs', width: 48, depth: 8, act: 'sigmoid', opt: 'sgd', lr: 0.2, epochs: 6, seed: S[3] },
      { data: 'blobs-hd', width: 16, depth: 14, act: 'sigmoid', opt: 'sgd', lr: 1, epochs: 5, seed: S[4] },
    ]),
    ...mk('exploding', heldOut, [
      { data: 'blobs', width: 32, depth: 3, act: 'relu', opt: 'sgd', lr: 5, epochs: 5, seed: S[0] },
      { data: 'blobs-hd', width: 64, depth: 4, act: 'relu', opt: 'momentum', lr: 1, epochs: 5, seed: S[1] },
      { data: heldOut ? 'spirals' : 'xor', width: 32, depth: 5, act: 'relu', opt: 'sgd', lr: 20, epochs: 5, seed: S[2] },
      { data: 'blobs', width: 16, depth: 3, act: 'relu', opt: 'momentum', lr: 5, epochs: 5, seed: S[3] },
      { data: 'blobs-hd', width: 48, depth: 3, act: 'relu', opt: 'sgd', lr: 3, epochs: 5, seed: S[4] },
    ]),
    ...mk('dying-relu', heldOut, [
      { data: 'blobs', width: 32, depth: 2, act: 'relu', opt: 'sgd', lr: 0.05, epochs: 6, seed: S[0], init: negativeBias(-3) },
      { data: 'blobs-hd', width: 64, depth: 3, act: 'relu', opt: 'adam', lr: 1e-3, epochs: 6, seed: S[1], init: negativeBias(-4) },
      { data: heldOut ? 'xor' : 'spirals', width: 32, depth: 3, act: 'relu', opt: 'momentum', lr: 0.02, epochs: 6, seed: S[2], init: negativeBias(-3) },
      { data: 'blobs', width: 16, depth: 4, act: 'relu', opt: 'sgd', lr: 0.1, epochs: 6, seed: S[3], init: negativeBias(-5) },
      { data: 'blobs-hd', width: 48, depth: 2, act: 'relu', opt: 'rmsprop', lr: 1e-3, epochs: 6, seed: S[4], init: negativeBias(-3) },
    ]),
    ...mk('oscillating', heldOut, [
      // A learning rate too high for data that is not linearly separable: bounded swings, no fit.
      { data: heldOut ? 'xor' : 'spirals', width: 32, depth: 2, act: 'tanh', opt: 'momentum', lr: heldOut ? 0.5 : 1, epochs: 8, seed: S[0], batch: 16 },
      { data: heldOut ? 'spirals' : 'xor', width: 64, depth: 1, act: 'relu', opt: 'adam', lr: 0.5, epochs: 8, seed: S[1], batch: 8 },
      { data: heldOut ? 'xor' : 'spirals', width: 32, depth: 1, act: 'sigmoid', opt: 'sgd', lr: 20, epochs: 8, seed: S[2], batch: 8 },
      { data: heldOut ? 'spirals' : 'xor', width: 16, depth: 2, act: 'tanh', opt: 'rmsprop', lr: 0.3, epochs: 8, seed: S[3], batch: 8 },
      { data: heldOut ? 'spirals' : 'xor', width: 32, depth: 1, act: 'sigmoid', opt: 'momentum', lr: 5, epochs: 8, seed: S[4], batch: 16 },
    ]),
    ...mk('slow-convergence', heldOut, [
      { data: 'blobs', width: 32, depth: 2, act: 'relu', opt: 'sgd', lr: 1e-5, epochs: 5, seed: S[0] },
      { data: 'blobs-hd', width: 64, depth: 3, act: 'relu', opt: 'momentum', lr: 1e-6, epochs: 5, seed: S[1] },
      { data: heldOut ? 'xor' : 'spirals', width: 32, depth: 2, act: 'tanh', opt: 'adam', lr: 1e-6, epochs: 5, seed: S[2] },
      { data: 'blobs', width: 16, depth: 3, act: 'tanh', opt: 'sgd', lr: 1e-4, epochs: 5, seed: S[3] },
      { data: 'blobs-hd', width: 48, depth: 2, act: 'relu', opt: 'rmsprop', lr: 1e-7, epochs: 5, seed: S[4] },
    ]),
    ...mk('symmetry', heldOut, [
      { data: 'blobs', width: 32, depth: 2, act: 'relu', opt: 'sgd', lr: 0.1, epochs: 6, seed: S[0], init: constantInit(0.1) },
      { data: 'blobs-hd', width: 64, depth: 2, act: 'tanh', opt: 'adam', lr: 1e-2, epochs: 6, seed: S[1], init: constantInit(0.05) },
      { data: heldOut ? 'spirals' : 'xor', width: 32, depth: 3, act: 'tanh', opt: 'momentum', lr: 0.05, epochs: 6, seed: S[2], init: constantInit(0.2) },
      { data: 'blobs', width: 16, depth: 1, act: 'sigmoid', opt: 'sgd', lr: 0.5, epochs: 6, seed: S[3], init: constantInit(0.3) },
      { data: 'blobs-hd', width: 48, depth: 3, act: 'relu', opt: 'rmsprop', lr: 1e-3, epochs: 6, seed: S[4], init: constantInit(0.02) },
    ]),
    ...mk('overfitting', heldOut, [
      { data: 'noisy-hd', n: 48, nVal: 300, batch: 16, width: 128, depth: 2, act: 'relu', opt: 'adam', lr: 1e-2, epochs: 40, seed: S[0] },
      { data: 'noisy-hd', n: 40, nVal: 300, batch: 20, width: 96, depth: 3, act: 'tanh', opt: 'adam', lr: 5e-3, epochs: 40, seed: S[1] },
      { data: 'noisy-hd', n: 60, nVal: 300, batch: 30, width: 128, depth: 2, act: 'relu', opt: 'momentum', lr: 0.05, epochs: 40, seed: S[2] },
      { data: 'noisy-hd', n: 36, nVal: 300, batch: 12, width: 64, depth: 2, act: 'sigmoid', opt: 'adam', lr: 2e-2, epochs: 40, seed: S[3] },
      { data: 'noisy-hd', n: 50, nVal: 300, batch: 25, width: 128, depth: 3, act: 'relu', opt: 'rmsprop', lr: 2e-3, epochs: 40, seed: S[4] },
    ]),
    ...mk('underfitting', heldOut, [
      { data: 'spirals', width: 2, depth: 1, act: 'tanh', opt: 'adam', lr: 2e-2, epochs: 20, seed: S[0] },
      { data: 'xor', width: 1, depth: 1, act: 'tanh', opt: 'adam', lr: 2e-2, epochs: 20, seed: S[1] },
      { data: 'spirals', width: 3, depth: 1, act: 'sigmoid', opt: 'momentum', lr: 0.1, epochs: 20, seed: S[2] },
      { data: 'xor', width: 1, depth: 2, act: 'tanh', opt: 'rmsprop', lr: 1e-2, epochs: 20, seed: S[3] },
      { data: 'spirals', width: 2, depth: 2, act: 'tanh', opt: 'adam', lr: 1e-2, epochs: 20, seed: S[4] },
    ]),
    ...mk('unnormalized-inputs', heldOut, [
      { data: 'blobs', width: 32, depth: 2, act: 'relu', opt: 'sgd', lr: 0.05, epochs: 6, seed: S[0], scale: 300 },
      { data: 'blobs-hd', width: 64, depth: 2, act: 'tanh', opt: 'momentum', lr: 0.05, epochs: 6, seed: S[1], scale: 1, offset: 2000 },
      { data: heldOut ? 'blobs-hd' : 'spirals', width: 32, depth: 3, act: 'relu', opt: 'sgd', lr: 0.01, epochs: 6, seed: S[2], scale: 1000 },
      { data: 'blobs', width: 16, depth: 2, act: 'relu', opt: 'sgd', lr: 0.1, epochs: 6, seed: S[3], scale: 200, offset: 800 },
      { data: 'blobs-hd', width: 48, depth: 3, act: 'relu', opt: 'momentum', lr: 0.02, epochs: 6, seed: S[4], scale: 500 },
    ]),
  ];
}

export const TUNING_CASES = casesFor(false);
/** For trying out case constructions. */
export const makeCases = mk;
export type { Spec };
export const HELD_OUT_CASES = casesFor(true);

// ---------------------------------------------------------------- verification (by hand)

function forwardAll(s: Setup): Tensor {
  const { x, d } = s.trainSet;
  s.model.eval();
  const out = noGrad(() => s.model.forward(tensor(x, [x.length / d, d])));
  s.model.train(true);
  return out;
}

/** Error of the final model on the whole training set, eval mode (naive argmax). */
export function trainError(s: Setup): number {
  const out = forwardAll(s);
  const [n, k] = out.shape;
  const o = out.f32;
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (o[i * k + j] > o[i * k + b]) b = j;
    if (b !== s.trainSet.y[i]) wrong++;
  }
  return wrong / n;
}

function valError(s: Setup): number {
  let wrong = 0;
  let n = 0;
  s.model.eval();
  for (const [x, y] of s.val) {
    const out = noGrad(() => s.model.forward(x));
    const [m, k] = out.shape;
    for (let i = 0; i < m; i++) {
      let b = 0;
      for (let j = 1; j < k; j++) if (out.f32[i * k + j] > out.f32[i * k + b]) b = j;
      if (b !== y.data[i]) wrong++;
    }
    n += m;
  }
  s.model.train(true);
  return wrong / n;
}

/** The largest fraction of units never positive over the whole training set, over ReLU layers. */
function deadFraction(s: Setup): number {
  const { x, d } = s.trainSet;
  let h: Tensor = tensor(x, [x.length / d, d]);
  let worst = 0;
  s.model.eval();
  noGrad(() => {
    for (const m of s.model.children()) {
      h = m.forward(h);
      if (m instanceof nn.ReLU) {
        const [n, u] = h.shape;
        let dead = 0;
        for (let j = 0; j < u; j++) {
          let alive = false;
          for (let i = 0; i < n && !alive; i++) if (h.f32[i * u + j] > 0) alive = true;
          if (!alive) dead++;
        }
        worst = Math.max(worst, dead / u);
      }
    }
  });
  s.model.train(true);
  return worst;
}

/** ‖∂L/∂W₁‖/‖W₁‖ over ‖∂L/∂W_last‖/‖W_last‖ on the whole training set, by one backward pass here. */
function firstToLastRelGrad(s: Setup): number {
  const { x, d, y } = s.trainSet;
  const ls = linears(s.model);
  for (const p of s.model.parameters()) p.grad = null;
  const out = s.model.forward(tensor(x, [x.length / d, d]));
  new nn.CrossEntropyLoss().forward(out, tensor(y, [y.length], { dtype: 'int32' })).backward();
  const rel = (l: nn.Linear) => {
    const g = l.weight.grad!.f32;
    const w = l.weight.f32;
    let a = 0;
    let b = 0;
    for (let i = 0; i < g.length; i++) {
      a += g[i] * g[i];
      b += w[i] * w[i];
    }
    return Math.sqrt(a / b);
  };
  const r = rel(ls[0]) / rel(ls[ls.length - 1]);
  for (const p of s.model.parameters()) p.grad = null;
  return r;
}

function identicalHidden(s: Setup): boolean {
  const ls = linears(s.model).slice(0, -1);
  return ls.some((l) => {
    const [o, i] = l.weight.shape;
    const w = l.weight.f32;
    if (o < 2) return false;
    for (let r = 1; r < o; r++) for (let j = 0; j < i; j++) if (Math.abs(w[r * i + j] - w[j]) > 1e-6 * Math.max(1e-12, Math.abs(w[j]))) return false;
    return true;
  });
}

function inputScale(s: Setup): number {
  const { x, d } = s.trainSet;
  const n = x.length / d;
  let worst = 0;
  for (let j = 0; j < d; j++) {
    let m = 0;
    let q = 0;
    for (let i = 0; i < n; i++) {
      m += x[i * d + j];
      q += x[i * d + j] ** 2;
    }
    m /= n;
    worst = Math.max(worst, Math.abs(m), Math.sqrt(Math.max(0, q / n - m * m)));
  }
  return worst;
}

/** Mean |ΔL| between consecutive batches over the mean loss, second half of the run. */
function jumpiness(losses: number[]): number {
  const h = losses.slice(losses.length >> 1).filter(Number.isFinite);
  let j = 0;
  for (let i = 1; i < h.length; i++) j += Math.abs(h[i] - h[i - 1]);
  return j / (h.length - 1) / (h.reduce((a, b) => a + b, 0) / h.length);
}

/** Why the run does not show its label, or null when it does. Uses the losses recorded by the test's own callback. */
export function verify(c: Case, s: Setup, r: FitResult, losses: number[]): string | null {
  const first = losses[0];
  const finite = losses.filter(Number.isFinite);
  const maxLoss = Math.max(...finite);
  // Diverged: a non-finite loss, or a batch loss two orders of magnitude above the first.
  const diverged = r.nonFinite !== null || maxLoss > 100 * first || finite.length < losses.length;
  const err = r.nonFinite ? 1 : trainError(s);
  const fails = err > DESIRED_ERROR;
  const need = (ok: boolean, why: string) => (ok ? null : why);
  switch (c.cls) {
    case 'healthy':
      return need(!fails && valError(s) - err < 0.05 && !diverged, `healthy run: train error ${err}, val error ${valError(s)}, diverged ${diverged}`);
    case 'vanishing': {
      const g = firstToLastRelGrad(s);
      return need(fails && g < 1e-2 && !diverged, `vanishing: train error ${err}, first/last relative gradient ${g}`);
    }
    case 'exploding':
      return need(fails && diverged, `exploding: train error ${err}, max loss ${maxLoss} vs first ${first}, non-finite ${!!r.nonFinite}`);
    case 'dying-relu': {
      const dead = deadFraction(s);
      return need(fails && dead > 0.5 && !diverged, `dying: train error ${err}, dead ${dead}`);
    }
    case 'oscillating': {
      const j = jumpiness(losses);
      return need(fails && !diverged && j > 0.3, `oscillating: train error ${err}, jumpiness ${j}, diverged ${diverged}`);
    }
    case 'slow-convergence': {
      const last = finite.slice(-5).reduce((a, b) => a + b, 0) / Math.min(5, finite.length);
      return need(fails && last > 0.9 * first, `slow: train error ${err}, loss ${first} -> ${last}`);
    }
    case 'symmetry':
      return need(fails && identicalHidden(s), `symmetry: train error ${err}, identical ${identicalHidden(s)}`);
    case 'overfitting': {
      const v = valError(s);
      return need(err <= DESIRED_ERROR && v - err > 0.2, `overfitting: train error ${err}, val error ${v}`);
    }
    case 'underfitting': {
      const dead = deadFraction(s);
      return need(fails && !diverged && dead <= 0.5 && !identicalHidden(s), `underfitting: train error ${err}, dead ${dead}`);
    }
    case 'unnormalized-inputs': {
      const sc = inputScale(s);
      return need(fails && sc > 10, `unnormalized: train error ${err}, input scale ${sc}`);
    }
  }
}
