/**
 * training.json: whole training runs replayed through ts/train's fit().
 *
 * Each case: a Sequential built from `model` (layer names; sizes from `state_shapes`),
 * loaded with `state`; the optimizer `config.optimizer` with `config.opt` (PyTorch option
 * names, mapped to camelCase); the scheduler `config.scheduler` = [name, options], stepped
 * once per epoch (as PyTorch's loop in the fixture does; built as tools/golden/schedulers.ts builds
 * them, so a LambdaLR would take its formula as a third element or as `config.formula`); clip_grad_norm_ with
 * `config.clip_norm` when set; CrossEntropyLoss; batches of `batch_size` in order
 * (`shuffle` false); `epochs`. Checked: the loss of every step, the state dict after the
 * run, and the logits of X in eval mode, all within 1e-3 (relative; 1e-5 absolute).
 *
 * One exception, found structurally: the bias of a layer followed directly by a BatchNorm
 * (in training mode) has a gradient that is exactly zero in exact arithmetic (BatchNorm
 * subtracts the batch mean), so in float32 it is rounding noise (~1e-8). Adam divides by
 * sqrt(v) + eps and turns that noise into steps of up to lr, so the bias, and the running
 * mean of the BatchNorm that absorbs it, follow a trajectory no implementation that is not
 * bit-identical to PyTorch can reproduce. For these "gauge" pairs the replay checks instead
 * that our gradient is noise (|g| <= 1e-6 at every step), leaves them out of the state
 * comparison, and computes the eval logits with the fixture's values for just those two
 * tensors (so every other trained value and the eval-mode forward are still checked).
 */
import { Tensor } from '../../ts/tensor/tensor.js';
import { tensor } from '../../ts/tensor/create.js';
import { noGrad } from '../../ts/autograd/engine.js';
import * as nn from '../../ts/nn/index.js';
import * as optim from '../../ts/optim/index.js';
import * as lrScheduler from '../../ts/optim/lr_scheduler/index.js';
import { fit } from '../../ts/train/fit.js';
import type { ModuleLike, OptimizerLike, SchedulerLike } from '../../ts/train/types.js';
import { buildScheduler } from './schedulers.js';
import { camelOptions as optimizerOptions } from './optimizers.js';
import { compareArrays, describeMismatch, type CaseResult } from './types.js';

const RTOL = 1e-3;
const ATOL = 1e-5;

/** The Sequential of a case: layer i's sizes come from the shapes of its state entries. */
export function buildSequential(names: string[], shapes: Record<string, number[]>): nn.Sequential {
  const layers = names.map((name, i) => {
    const w = shapes[`${i}.weight`];
    switch (name) {
      case 'Linear':
        if (!w) throw new Error(`layer ${i} (Linear) has no '${i}.weight' in state_shapes`);
        return new nn.Linear(w[1], w[0], { bias: `${i}.bias` in shapes });
      case 'BatchNorm1d':
        return new nn.BatchNorm1d((w ?? shapes[`${i}.running_mean`])[0]);
      case 'Dropout':
        return new nn.Dropout(0); // a model list names layers only: the fixture format fixes p = 0
      default:
        // Option-free layers (PyTorch's defaults): ReLU, Tanh, Sigmoid, GELU, SiLU, LeakyReLU, ELU, ...
        if (name in PARAMETER_FREE) return PARAMETER_FREE[name]();
    }
    throw new Error(`layer ${i}: '${name}' is not supported by the training replay`);
  });
  return new nn.Sequential(...layers);
}

/** Layers a model list can name without options, built with PyTorch's default arguments. */
const PARAMETER_FREE: Record<string, () => nn.Module> = {
  ReLU: () => new nn.ReLU(),
  Tanh: () => new nn.Tanh(),
  Sigmoid: () => new nn.Sigmoid(),
  GELU: () => new nn.GELU(),
  SiLU: () => new nn.SiLU(),
  LeakyReLU: () => new nn.LeakyReLU(),
  ELU: () => new nn.ELU(),
  Softplus: () => new nn.Softplus(),
  Identity: () => new nn.Identity(),
  Flatten: () => new nn.Flatten(),
};

/** A state dict of tensors with the model's dtypes (num_batches_tracked is int). */
function stateTensors(model: nn.Module, state: Record<string, number[]>, shapes: Record<string, number[]>): Map<string, Tensor> {
  const mine = model.stateDict();
  const out = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(state)) {
    const dst = mine.get(k);
    const dtype = dst?.dtype ?? 'float32';
    out.set(k, tensor(dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v), shapes[k] ?? [v.length], { dtype }));
  }
  return out;
}

export async function check(fixture: any, file: string): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const cases: any[] = fixture.cases ?? [];
  for (let ci = 0; ci < cases.length; ci++) {
    const c = cases[ci];
    const cfg = c.config ?? {};
    const label = `${file} #${ci} ${cfg.optimizer}${cfg.scheduler ? `+${cfg.scheduler[0]}` : ''}${cfg.clip_norm ? '+clip' : ''}${cfg.batchnorm ? '+bn' : ''}`;
    try {
      const model = buildSequential(c.model, c.state_shapes);
      model.loadStateDict(stateTensors(model, c.state, c.state_shapes));
      const Opt = (optim as any)[cfg.optimizer];
      if (typeof Opt !== 'function') throw new Error(`no optimizer '${cfg.optimizer}' in ts/optim`);
      const optimizer = new Opt(model.parameters(), optimizerOptions(cfg.opt)) as OptimizerLike;
      let scheduler: SchedulerLike | null = null;
      if (cfg.scheduler) {
        const [name, opts] = cfg.scheduler;
        if (typeof (lrScheduler as any)[name] !== 'function') throw new Error(`no scheduler '${name}' in ts/optim/lr_scheduler`);
        // Built as the schedulers checker builds them (T_max -> tMax, verbose dropped, children, formulas).
        scheduler = buildScheduler(name, opts ?? {}, optimizer as any, cfg.scheduler[2] ?? cfg.formula) as SchedulerLike;
      }
      const [n, f] = c.X_shape;
      const bs = c.batch_size;
      const batches: [Tensor, Tensor][] = [];
      for (let s = 0; s < n; s += bs) {
        const rows = Math.min(bs, n - s);
        batches.push([tensor(Float32Array.from(c.X.slice(s * f, (s + rows) * f)), [rows, f]).keep(), tensor(Int32Array.from(c.y.slice(s, s + rows)), [rows]).keep()]);
      }
      if (c.shuffle) throw new Error('shuffle: true cannot be replayed (PyTorch draws the order)');
      // Gauge pairs: [bias name, BatchNorm running_mean name] (see the file comment).
      const gauge: [string, string][] = [];
      (c.model as string[]).forEach((name, i) => {
        if (/^BatchNorm/.test(c.model[i + 1] ?? '') && `${i}.bias` in c.state_shapes && `${i + 1}.running_mean` in c.state_shapes) gauge.push([`${i}.bias`, `${i + 1}.running_mean`]);
        void name;
      });
      const gaugeNames = new Set(gauge.flat());
      let gaugeGrad = 0;
      const losses: number[] = [];
      const result = await fit(model as unknown as ModuleLike, {
        train: batches,
        optimizer,
        lossFn: new nn.CrossEntropyLoss(),
        epochs: c.epochs,
        scheduler,
        schedulerInterval: 'epoch',
        clipGradNorm: cfg.clip_norm ?? undefined,
        callbacks: [
          {
            onAfterBackward: () => {
              const sdNow = model.stateDict();
              for (const [bias] of gauge) {
                const g = sdNow.get(bias)?.grad;
                if (g) for (const v of g.f32) gaugeGrad = Math.max(gaugeGrad, Math.abs(v));
              }
            },
            onBatchEnd: (ctx) => void losses.push(ctx.loss),
          },
        ],
      });
      const problems: string[] = [];
      if (result.nonFinite) problems.push(`non-finite: ${result.nonFinite.where}`);
      const lr = compareArrays(losses, c.losses, RTOL, ATOL);
      if (!lr.ok) problems.push(describeMismatch(`losses (${losses.length} steps)`, lr));
      const sd = model.stateDict();
      if (gaugeGrad > 1e-6) problems.push(`gradient of ${gauge.map((g) => g[0]).join(', ')} (a bias before BatchNorm) should be rounding noise, got |g| up to ${gaugeGrad.toExponential(2)}`);
      for (const [k, want] of Object.entries(c.state_after as Record<string, number[]>)) {
        if (gaugeNames.has(k)) continue;
        const t = sd.get(k);
        if (!t) {
          problems.push(`state_after: the model has no '${k}'`);
          continue;
        }
        const r = compareArrays(t.data, want, RTOL, ATOL);
        if (!r.ok) problems.push(describeMismatch(`state_after '${k}'`, r));
      }
      for (const k of gaugeNames) sd.get(k)!.data.set(c.state_after[k]);
      model.eval();
      const x = tensor(Float32Array.from(c.X), [n, f]);
      const logits = noGrad(() => model.forward(x)).toArray();
      const er = compareArrays(logits, c.eval_logits, RTOL, ATOL);
      if (!er.ok) problems.push(describeMismatch('eval_logits', er));
      for (const [a, b] of batches) {
        a.dispose();
        b.dispose();
      }
      x.dispose();
      const note = gauge.length ? ` (bias before BatchNorm checked as a zero-gradient direction: ${gauge.map((g) => g[0]).join(', ')})` : '';
      results.push(problems.length ? { name: label + note, ok: false, detail: problems.join('; ') } : { name: label + note, ok: true });
    } catch (e) {
      results.push({ name: label, ok: false, detail: (e as Error).message });
    }
  }
  return results;
}
