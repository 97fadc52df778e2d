/**
 * A tiny model/optimizer/loader kit in plain JS over tread tensors and the autograd engine,
 * for testing fit() and its callbacks independently of ts/nn and ts/optim. Each class has the
 * structural shape ts/train/types.ts asks for.
 */
import { record } from '../../ts/autograd/engine.js';
import { tensor } from '../../ts/tensor/create.js';
import { endStep } from '../../ts/tensor/lifetime.js';
import { Tensor } from '../../ts/tensor/tensor.js';

export class Rng {
  constructor(public s: number) {}
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

function temp(shape: number[]): Tensor {
  return Tensor.empty(shape, 'float32', true);
}

abstract class Mod {
  training = true;
  train(mode = true) {
    this.training = mode;
    for (const [, c] of this.namedChildren()) c.train(mode);
  }
  eval() {
    this.train(false);
  }
  namedChildren(): [string, Mod][] {
    return [];
  }
  children(): Mod[] {
    return this.namedChildren().map((c) => c[1]);
  }
  ownParams(): [string, Tensor][] {
    return [];
  }
  ownBuffers(): [string, Tensor][] {
    return [];
  }
  namedParameters(): [string, Tensor][] {
    const out = [...this.ownParams()];
    for (const [n, c] of this.namedChildren()) for (const [pn, p] of c.namedParameters()) out.push([`${n}.${pn}`, p]);
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map((x) => x[1]);
  }
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>([...this.ownParams(), ...this.ownBuffers()]);
    for (const [n, c] of this.namedChildren()) for (const [k, t] of c.stateDict()) out.set(`${n}.${k}`, t);
    return out;
  }
  loadStateDict(sd: Map<string, Tensor>) {
    const mine = this.stateDict();
    for (const [k, t] of sd) mine.get(k)!.data.set(t.data);
  }
  abstract forward(x: Tensor): Tensor;
}

export class Linear extends Mod {
  weight: Tensor;
  bias: Tensor;
  constructor(
    readonly inF: number,
    readonly outF: number,
    rng: Rng,
  ) {
    super();
    const s = 1 / Math.sqrt(inF);
    this.weight = tensor(Float32Array.from({ length: inF * outF }, () => (rng.next() * 2 - 1) * s), [outF, inF]).requiresGrad_();
    this.bias = tensor(Float32Array.from({ length: outF }, () => (rng.next() * 2 - 1) * s), [outF]).requiresGrad_();
  }
  override ownParams(): [string, Tensor][] {
    return [
      ['weight', this.weight],
      ['bias', this.bias],
    ];
  }
  forward(x: Tensor): Tensor {
    const n = x.shape[0];
    const I = this.inF;
    const O = this.outF;
    const out = temp([n, O]);
    const xd = x.f32;
    const w = this.weight.f32;
    const b = this.bias.f32;
    const od = out.f32;
    for (let r = 0; r < n; r++)
      for (let o = 0; o < O; o++) {
        let s = b[o];
        for (let i = 0; i < I; i++) s += xd[r * I + i] * w[o * I + i];
        od[r * O + o] = s;
      }
    const W = this.weight;
    return record(out, 'linear', [x, this.weight, this.bias], (g) => {
      const gd = g.f32;
      const dx = temp([n, I]);
      const dW = temp([O, I]);
      const db = temp([O]);
      const xv = x.f32;
      const wv = W.f32;
      const dxd = dx.f32;
      const dWd = dW.f32;
      const dbd = db.f32;
      dxd.fill(0);
      dWd.fill(0);
      dbd.fill(0);
      for (let r = 0; r < n; r++)
        for (let o = 0; o < O; o++) {
          const gv = gd[r * O + o];
          dbd[o] += gv;
          for (let i = 0; i < I; i++) {
            dWd[o * I + i] += gv * xv[r * I + i];
            dxd[r * I + i] += gv * wv[o * I + i];
          }
        }
      return [dx, dW, db];
    });
  }
}

export class ReLU extends Mod {
  forward(x: Tensor): Tensor {
    const out = temp([...x.shape]);
    const a = x.f32;
    const o = out.f32;
    for (let i = 0; i < a.length; i++) o[i] = a[i] > 0 ? a[i] : 0;
    return record(out, 'relu', [x], (g) => {
      const dx = temp([...x.shape]);
      const gd = g.f32;
      const d = dx.f32;
      const xv = x.f32;
      for (let i = 0; i < d.length; i++) d[i] = xv[i] > 0 ? gd[i] : 0;
      return [dx];
    });
  }
}

/** Multiplies by a mask drawn from `rng` in training (inverted dropout). */
export class Dropout extends Mod {
  constructor(
    readonly p: number,
    readonly rng: Rng,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (!this.training) return x;
    const out = temp([...x.shape]);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.next() < this.p ? 0 : 1 / (1 - this.p);
    const a = x.f32;
    const o = out.f32;
    for (let i = 0; i < a.length; i++) o[i] = a[i] * mask[i];
    return record(out, 'dropout', [x], (g) => {
      const dx = temp([...x.shape]);
      const gd = g.f32;
      const d = dx.f32;
      for (let i = 0; i < d.length; i++) d[i] = gd[i] * mask[i];
      return [dx];
    });
  }
}

/** Running mean of its input's first feature, as an int counter + float buffer (BatchNorm-like buffers). */
export class Counter extends Mod {
  runningMean = tensor([0], [1]);
  numBatchesTracked = tensor(new Int32Array([0]), []);
  override ownBuffers(): [string, Tensor][] {
    return [
      ['running_mean', this.runningMean],
      ['num_batches_tracked', this.numBatchesTracked],
    ];
  }
  forward(x: Tensor): Tensor {
    if (this.training) {
      this.runningMean.f32[0] = 0.9 * this.runningMean.f32[0] + 0.1 * x.f32[0];
      this.numBatchesTracked.data[0]++;
    }
    return x;
  }
}

export class Sequential extends Mod {
  readonly layers: Mod[];
  constructor(...layers: Mod[]) {
    super();
    this.layers = layers;
  }
  override namedChildren(): [string, Mod][] {
    return this.layers.map((l, i) => [String(i), l]);
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
}

/** Mean softmax cross-entropy over int32 targets. */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  const [n, c] = logits.shape;
  const l = logits.f32;
  const t = target.data;
  const p = new Float32Array(n * c);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, l[r * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(l[r * c + j] - m);
    for (let j = 0; j < c; j++) p[r * c + j] = Math.exp(l[r * c + j] - m) / s;
    loss += -Math.log(p[r * c + t[r]]);
  }
  const out = temp([]);
  out.f32[0] = loss / n;
  return record(out, 'cross_entropy', [logits], (g) => {
    const d = temp([n, c]);
    const dd = d.f32;
    const gv = g.f32[0];
    for (let r = 0; r < n; r++) for (let j = 0; j < c; j++) dd[r * c + j] = (gv * (p[r * c + j] - (j === t[r] ? 1 : 0))) / n;
    return [d];
  });
}

/** SGD with momentum; state dict in PyTorch's layout. */
export class SGD {
  paramGroups: { params: Tensor[]; lr: number; momentum: number; [k: string]: any }[];
  state = new Map<Tensor, { momentum_buffer: Tensor }>();
  constructor(params: Tensor[], opts: { lr: number; momentum?: number }) {
    this.paramGroups = [{ params, lr: opts.lr, momentum: opts.momentum ?? 0 }];
  }
  zeroGrad() {
    for (const g of this.paramGroups) for (const p of g.params) if (p.grad) p.grad.f32.fill(0);
  }
  step() {
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (!p.grad) continue;
        let st = this.state.get(p);
        const gr = p.grad.f32;
        if (!st) {
          st = { momentum_buffer: tensor(gr.slice(), [...p.shape]).keep() };
          this.state.set(p, st);
        } else {
          const b = st.momentum_buffer.f32;
          for (let i = 0; i < b.length; i++) b[i] = g.momentum * b[i] + gr[i];
        }
        const b = st.momentum_buffer.f32;
        const w = p.f32;
        for (let i = 0; i < w.length; i++) w[i] -= g.lr * (g.momentum ? b[i] : gr[i]);
      }
    endStep();
  }
  stateDict() {
    const all = this.paramGroups.flatMap((g) => g.params);
    const state: Record<number, { momentum_buffer: Tensor }> = {};
    all.forEach((p, i) => {
      const s = this.state.get(p);
      if (s) state[i] = { momentum_buffer: s.momentum_buffer };
    });
    let k = 0;
    return { state, param_groups: this.paramGroups.map((g) => ({ lr: g.lr, momentum: g.momentum, params: g.params.map(() => k++) })) };
  }
  loadStateDict(sd: any) {
    if (sd.param_groups.length !== this.paramGroups.length) throw new Error('different number of parameter groups');
    const all = this.paramGroups.flatMap((g) => g.params);
    this.state.clear();
    for (const [i, s] of Object.entries(sd.state as Record<string, any>)) {
      this.state.set(all[Number(i)], { momentum_buffer: tensor(s.momentum_buffer.data.slice(), [...all[Number(i)].shape]).keep() });
    }
    sd.param_groups.forEach((g: any, i: number) => {
      this.paramGroups[i].lr = g.lr;
      this.paramGroups[i].momentum = g.momentum;
    });
  }
}

export class StepLR {
  lastEpoch = 0;
  readonly baseLr: number;
  constructor(
    readonly opt: SGD,
    readonly stepSize: number,
    readonly gamma: number,
  ) {
    this.baseLr = opt.paramGroups[0].lr;
  }
  step() {
    this.lastEpoch++;
    for (const g of this.opt.paramGroups) g.lr = this.baseLr * this.gamma ** Math.floor(this.lastEpoch / this.stepSize);
  }
  stateDict() {
    return { last_epoch: this.lastEpoch };
  }
  loadStateDict(s: any) {
    this.lastEpoch = s.last_epoch;
  }
}

/** Batches of (x, y) over arrays, shuffled each epoch with `rng`; ends each batch's step. */
export class Loader {
  constructor(
    readonly x: Float32Array,
    readonly y: Int32Array,
    readonly features: number,
    readonly batchSize: number,
    readonly rng: Rng | null,
  ) {}
  get length(): number {
    return Math.ceil(this.y.length / this.batchSize);
  }
  *[Symbol.iterator](): Iterator<[Tensor, Tensor]> {
    const n = this.y.length;
    const idx = Array.from({ length: n }, (_, i) => i);
    if (this.rng) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(this.rng.next() * (i + 1));
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
    }
    for (let s = 0; s < n; s += this.batchSize) {
      endStep();
      const rows = idx.slice(s, s + this.batchSize);
      const xb = Tensor.empty([rows.length, this.features], 'float32', true);
      const yb = Tensor.empty([rows.length], 'int32', true);
      rows.forEach((r, k) => {
        xb.f32.set(this.x.subarray(r * this.features, (r + 1) * this.features), k * this.features);
        yb.data[k] = this.y[r];
      });
      yield [xb, yb];
    }
  }
}

/** Three Gaussian blobs in `features` dimensions. */
export function blobs(n: number, features: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let f = 0; f < features; f++) x[i * features + f] = rng.normal() + (f % 3 === c ? 2 : 0);
  }
  return { x, y };
}
