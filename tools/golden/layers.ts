/**
 * layers.json: every case builds the layer (or loss) named by `layer` from PyTorch-named
 * `options`, loads `state` (PyTorch state_dict names, shapes in `state_shapes`), sets
 * train/eval mode, runs `x` forward and compares:
 *
 * - layers: the output `y`, then the gradients of `sum(y * upstream)` with respect to the
 *   input (`dx`) and to each parameter (`grads`), and the state after the forward
 *   (`state_after`: BatchNorm running statistics, num_batches_tracked);
 * - losses (any layer whose name ends in "Loss", reduction from options, default 'mean'):
 *   the `loss` value and its gradient `dx`, against `target` (class indices for
 *   CrossEntropyLoss / NLLLoss; for CrossEntropyLoss a float target of the input's shape, or
 *   `target_dtype` 'float32'/'float64', means class probabilities). Loss options `weight`
 *   and `pos_weight` are nested lists (their shape is taken from the nesting, or from
 *   `weight_shape` / `pos_weight_shape` in the options or the case).
 *
 * Tolerance: relative 1e-4 with absolute 1e-5 near zero (float32 sums in another order).
 * A case with an option this checker does not know fails and says which.
 */
import { tensor } from '../../ts/tensor/create.js';
import { endStep } from '../../ts/tensor/lifetime.js';
import { Tensor } from '../../ts/tensor/tensor.js';
import type { Module } from '../../ts/nn/module.js';
import { compareArrays, describeMismatch, type CaseResult } from './types.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

type Opts = Record<string, any>;

/** Options this checker reads, per layer; anything else is reported. */
function known(layer: string, opts: Opts, keys: string[]): void {
  const extra = Object.keys(opts).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw new Error(`${layer}: option(s) ${extra.join(', ')} not understood by the checker`);
}

/** A weight option: a number, or a nested list whose nesting gives its shape. */
function weightOption(o: Opts, c: any, key: string): Tensor | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  let shape: number[] = o[`${key}_shape`] ?? c[`${key}_shape`] ?? nestedShape(v);
  // A flat list as long as the whole input (fixtures store arrays flat) is an element-wise weight.
  const xs: number[] | undefined = c.x_shape;
  const explicit = o[`${key}_shape`] !== undefined || c[`${key}_shape`] !== undefined;
  if (!explicit && xs && xs.length > 1 && shape.length === 1 && shape[0] === xs.reduce((a, b) => a * b, 1) && shape[0] !== xs[xs.length - 1]) shape = xs;
  return tensor(Float32Array.from(flat(v)), shape);
}

function nestedShape(v: any): number[] {
  const shape: number[] = [];
  for (let a = v; Array.isArray(a); a = a[0]) shape.push(a.length);
  return shape;
}

const LOSSES = new Set(['CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'HuberLoss', 'BCELoss', 'BCEWithLogitsLoss']);

async function build(layer: string, o: Opts, c: any = {}): Promise<Module> {
  // Imported per family, so that one missing piece fails only its own cases.
  const activations = new Set(['ReLU', 'SiLU', 'Sigmoid', 'Tanh', 'Identity', 'GELU', 'LeakyReLU', 'ELU', 'Softplus', 'Softmax', 'LogSoftmax']);
  const L: any = activations.has(layer)
    ? await import('../../ts/nn/layers/activation.js')
    : {
        ...(await import('../../ts/nn/layers/linear.js')),
        ...(await import('../../ts/nn/layers/conv.js')),
        ...(await import('../../ts/nn/layers/pool.js')),
        ...(await import('../../ts/nn/layers/flatten.js')),
        ...(await import('../../ts/nn/layers/batchnorm.js')),
        ...(await import('../../ts/nn/layers/dropout.js')),
      };
  const Ls = await import('../../ts/nn/losses.js');
  const red = o.reduction;
  switch (layer) {
    case 'Linear':
      known(layer, o, ['in', 'out', 'bias', 'in_features', 'out_features']);
      return new L.Linear(o.in ?? o.in_features, o.out ?? o.out_features, { bias: o.bias ?? true });
    case 'Conv2d':
      known(layer, o, ['in', 'out', 'kernel', 'kernel_size', 'stride', 'padding', 'bias', 'dilation', 'groups', 'in_channels', 'out_channels', 'padding_mode']);
      return new L.Conv2d(o.in ?? o.in_channels, o.out ?? o.out_channels, o.kernel ?? o.kernel_size, {
        stride: o.stride ?? 1,
        padding: o.padding ?? 0,
        bias: o.bias ?? true,
        dilation: o.dilation ?? 1,
        groups: o.groups ?? 1,
        paddingMode: o.padding_mode ?? 'zeros',
      });
    case 'MaxPool2d':
      known(layer, o, ['kernel', 'kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode']);
      return new L.MaxPool2d(o.kernel ?? o.kernel_size, { stride: o.stride ?? null, padding: o.padding ?? 0, dilation: o.dilation ?? 1, ceilMode: o.ceil_mode ?? false });
    case 'AvgPool2d':
      known(layer, o, ['kernel', 'kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override']);
      return new L.AvgPool2d(o.kernel ?? o.kernel_size, {
        stride: o.stride ?? null,
        padding: o.padding ?? 0,
        ceilMode: o.ceil_mode ?? false,
        countIncludePad: o.count_include_pad ?? true,
        divisorOverride: o.divisor_override ?? null,
      });
    case 'BatchNorm1d':
    case 'BatchNorm2d': {
      known(layer, o, ['features', 'num_features', 'momentum', 'eps', 'affine', 'track_running_stats']);
      const C = layer === 'BatchNorm1d' ? L.BatchNorm1d : L.BatchNorm2d;
      return new C(o.features ?? o.num_features, {
        eps: o.eps ?? 1e-5,
        momentum: 'momentum' in o ? o.momentum : 0.1,
        affine: o.affine ?? true,
        trackRunningStats: o.track_running_stats ?? true,
      });
    }
    case 'Flatten':
      known(layer, o, ['start_dim', 'end_dim']);
      return new L.Flatten(o.start_dim ?? 1, o.end_dim ?? -1);
    case 'Dropout':
      known(layer, o, ['p']);
      return new L.Dropout(o.p ?? 0.5);
    case 'ReLU':
    case 'SiLU':
    case 'Sigmoid':
    case 'Tanh':
    case 'Identity':
      known(layer, o, ['inplace']);
      return new (L as any)[layer]();
    case 'GELU':
      known(layer, o, ['approximate']);
      return new L.GELU(o.approximate ?? 'none');
    case 'LeakyReLU':
      known(layer, o, ['negative_slope', 'inplace']);
      return new L.LeakyReLU(o.negative_slope ?? 0.01);
    case 'ELU':
      known(layer, o, ['alpha', 'inplace']);
      return new L.ELU(o.alpha ?? 1);
    case 'Softplus':
      known(layer, o, ['beta', 'threshold']);
      return new L.Softplus(o.beta ?? 1, o.threshold ?? 20);
    case 'Softmax':
    case 'LogSoftmax':
      known(layer, o, ['dim']);
      return new (L as any)[layer](o.dim ?? -1);
    case 'CrossEntropyLoss':
      known(layer, o, ['reduction', 'label_smoothing', 'ignore_index', 'weight', 'weight_shape']);
      return new Ls.CrossEntropyLoss({ reduction: red, labelSmoothing: o.label_smoothing ?? 0, ignoreIndex: o.ignore_index ?? -100, weight: weightOption(o, c, 'weight') });
    case 'NLLLoss':
      known(layer, o, ['reduction', 'ignore_index', 'weight', 'weight_shape']);
      return new Ls.NLLLoss({ reduction: red, ignoreIndex: o.ignore_index ?? -100, weight: weightOption(o, c, 'weight') });
    case 'MSELoss':
    case 'L1Loss':
      known(layer, o, ['reduction']);
      return new (Ls as any)[layer]({ reduction: red });
    case 'BCELoss':
      known(layer, o, ['reduction', 'weight', 'weight_shape']);
      return new Ls.BCELoss({ reduction: red, weight: weightOption(o, c, 'weight') });
    case 'BCEWithLogitsLoss':
      known(layer, o, ['reduction', 'weight', 'weight_shape', 'pos_weight', 'pos_weight_shape']);
      return new Ls.BCEWithLogitsLoss({ reduction: red, weight: weightOption(o, c, 'weight'), posWeight: weightOption(o, c, 'pos_weight') });
    case 'SmoothL1Loss':
      known(layer, o, ['reduction', 'beta']);
      return new Ls.SmoothL1Loss({ reduction: red, beta: o.beta ?? 1 });
    case 'HuberLoss':
      known(layer, o, ['reduction', 'delta']);
      return new Ls.HuberLoss({ reduction: red, delta: o.delta ?? 1 });
    default:
      throw new Error(`unknown layer '${layer}'`);
  }
}

const flat = (v: any): number[] => (Array.isArray(v) ? v.flat(Infinity) : [v]);

function shapeOf(c: any, key: string): number[] {
  const s = c[`${key}_shape`];
  if (Array.isArray(s)) return s;
  return [flat(c[key]).length];
}

/** CrossEntropyLoss with class probabilities: said by `target_dtype`, else a target shaped like x (PyTorch's own rule). */
function probabilityTarget(layer: string, c: any, tShape: number[], xShape: readonly number[]): boolean {
  if (layer !== 'CrossEntropyLoss') return false;
  if (typeof c.target_dtype === 'string') return /float/.test(c.target_dtype);
  return tShape.length === xShape.length && tShape.every((d, i) => d === xShape[i]);
}

async function runCase(c: any): Promise<string[]> {
  const problems: string[] = [];
  const cmp = (what: string, got: ArrayLike<number>, want: ArrayLike<number>) => {
    const r = compareArrays(got, want, RTOL, ATOL);
    if (!r.ok) problems.push(describeMismatch(what, r));
  };
  const layer: string = c.layer;
  const mod = await build(layer, c.options ?? {}, c);
  const shapes = c.state_shapes ?? {};
  const state = new Map<string, number[]>();
  for (const [k, v] of Object.entries(c.state ?? {})) state.set(k, flat(v));
  if (state.size > 0) {
    // Shapes are checked by loadStateDict; strict, so a name the module lacks fails the case.
    const sd = new Map<string, ArrayLike<number>>();
    for (const [k, v] of state) {
      const want = shapes[k];
      const own = mod.stateDict().get(k);
      if (own && Array.isArray(want) && (want.length !== own.shape.length || want.some((d: number, i: number) => d !== own.shape[i]))) {
        problems.push(`state ${k}: fixture shape [${want}] but the module's is [${own.shape}]`);
      }
      sd.set(k, v);
    }
    if (problems.length) return problems;
    mod.loadStateDict(sd, { strict: true });
  }
  mod.train(c.train !== false);
  const x = tensor(Float32Array.from(flat(c.x)), shapeOf(c, 'x')).requiresGrad_();
  if (LOSSES.has(layer)) {
    const tShape = shapeOf(c, 'target');
    const classes = (layer === 'CrossEntropyLoss' || layer === 'NLLLoss') && !probabilityTarget(layer, c, tShape, x.shape);
    const target = classes ? tensor(Int32Array.from(flat(c.target)), tShape) : tensor(Float32Array.from(flat(c.target)), tShape);
    const loss = mod.forward(x, target);
    const want = flat(c.loss);
    cmp('loss', loss.toArray(), want);
    if (loss.size === 1) loss.backward();
    else loss.backward(tensor(new Float32Array(loss.size).fill(1), loss.shape));
    if (c.dx !== undefined) {
      if (!x.grad) problems.push('dx: no gradient reached the input');
      else cmp('dx', x.grad.toArray(), flat(c.dx));
    }
    return problems;
  }
  const y = mod.forward(x);
  const yShape = c.y_shape;
  if (Array.isArray(yShape) && (yShape.length !== y.shape.length || yShape.some((d: number, i: number) => d !== y.shape[i]))) {
    problems.push(`y: shape [${y.shape}], want [${yShape}]`);
    return problems;
  }
  cmp('y', y.toArray(), flat(c.y));
  if (c.upstream !== undefined) {
    y.backward(tensor(Float32Array.from(flat(c.upstream)), y.shape));
    if (c.dx !== undefined) {
      if (!x.grad) problems.push('dx: no gradient reached the input');
      else cmp('dx', x.grad.toArray(), flat(c.dx));
    }
    const params = new Map(mod.namedParameters());
    for (const [k, v] of Object.entries(c.grads ?? {})) {
      const p = params.get(k);
      if (!p) problems.push(`grads.${k}: the module has no parameter '${k}'`);
      else if (!p.grad) problems.push(`grads.${k}: no gradient`);
      else cmp(`grads.${k}`, p.grad.toArray(), flat(v));
    }
  }
  const sd = mod.stateDict();
  for (const [k, v] of Object.entries(c.state_after ?? {})) {
    const t = sd.get(k);
    if (!t) problems.push(`state_after.${k}: the module has no state '${k}'`);
    else cmp(`state_after.${k}`, Array.from(t.data), flat(v));
  }
  return problems;
}

function describe(c: any): string {
  const o = c.options && Object.keys(c.options).length ? JSON.stringify(c.options) : '';
  return `${c.layer}${o}${c.train === false ? ' eval' : ''}`;
}

export async function check(fixture: any, file: string): Promise<CaseResult[]> {
  const cases: any[] = Array.isArray(fixture) ? fixture : fixture.cases;
  if (!Array.isArray(cases)) return [{ name: file, ok: false, detail: 'no "cases" list' }];
  const out: CaseResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    const name = `${file} #${i} ${describe(cases[i])}`;
    try {
      const problems = await runCase(cases[i]);
      out.push(problems.length ? { name, ok: false, detail: problems.join('; ') } : { name, ok: true });
    } catch (e) {
      out.push({ name, ok: false, detail: (e as Error).message });
    }
    endStep();
    endStep();
  }
  return out;
}

export type { Tensor };
