/**
 * tread optimizers and schedulers in torch.optim's terms: the class, the constructor options
 * of each parameter group (PyTorch's snake_case names), the values the schedule has moved
 * (lr, betas/momentum, initial_lr, OneCycleLR's max_lr ...), and the per-parameter state by
 * parameter name. What has no PyTorch equivalent is refused by name, not dropped.
 */
import type { Tensor } from '../tensor/tensor.js';
import { py, snakeCase } from './python.js';

type Any = Record<string, any>;

/** torch.optim (1.13) constructor options per class, besides params. */
const TORCH_OPTIONS: Record<string, readonly string[]> = {
  SGD: ['lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'maximize'],
  Adam: ['lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize'],
  AdamW: ['lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize'],
  RMSprop: ['lr', 'alpha', 'eps', 'weight_decay', 'momentum', 'centered', 'maximize'],
  Adagrad: ['lr', 'lr_decay', 'weight_decay', 'initial_accumulator_value', 'eps', 'maximize'],
  Adadelta: ['lr', 'rho', 'eps', 'weight_decay', 'maximize'],
  Adamax: ['lr', 'betas', 'eps', 'weight_decay', 'maximize'],
  NAdam: ['lr', 'betas', 'eps', 'weight_decay', 'momentum_decay'],
  RAdam: ['lr', 'betas', 'eps', 'weight_decay'],
};

/** Group keys a schedule sets, which PyTorch keeps in the group too. */
const SCHEDULE_KEYS = ['initial_lr', 'max_lr', 'min_lr', 'max_momentum', 'base_momentum'];

export interface OptimizerExport {
  type: string;
  groups: { params: string[]; options: Record<string, unknown>; current: Record<string, unknown> }[];
  /** Scalar state (step, mu_product ...) by parameter name; tensors go to the state file. */
  state: Record<string, Record<string, number>>;
}

export function exportOptimizer(optimizer: unknown, names: Map<Tensor, string>, tensorsOut: [string, Tensor][]): OptimizerExport {
  const o = optimizer as Any;
  const type = o?.constructor?.name as string;
  const allowed = TORCH_OPTIONS[type];
  if (!allowed) throw new Error(`export to PyTorch: the optimizer is ${type ?? typeof optimizer}; supported: ${Object.keys(TORCH_OPTIONS).join(', ')}`);
  const groups = (o.paramGroups as Any[]).map((g, gi) => {
    const options: Record<string, unknown> = {};
    const current: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g)) {
      if (k === 'params') continue;
      const sk = snakeCase(k);
      if (allowed.includes(sk)) {
        options[sk] = v;
        if (sk === 'lr' || sk === 'betas' || sk === 'momentum') current[sk] = v;
      } else if (SCHEDULE_KEYS.includes(sk)) current[sk] = v;
      else if (k === 'checkFinite' || k === 'name' || k === 'names') continue; // tread's own guard and labels: nothing to carry
      else if ((k === 'l1' || k === 'l2') && !v) continue;
      else if (k === 'maximize' && v === false) continue;
      else throw new Error(`export to PyTorch: paramGroups[${gi}].${k} = ${JSON.stringify(v)} has no equivalent in torch.optim.${type}`);
    }
    const params = (g.params as Tensor[]).map((p, pi) => {
      const n = names.get(p);
      if (n === undefined) throw new Error(`export to PyTorch: paramGroups[${gi}].params[${pi}] is not a parameter of the model`);
      return n;
    });
    return { params, options, current };
  });
  const state: OptimizerExport['state'] = {};
  for (const [p, st] of o.state as Map<Tensor, Any>) {
    const n = names.get(p);
    if (n === undefined) continue;
    for (const [k, v] of Object.entries(st)) {
      if (v === undefined || v === null) continue;
      if (typeof v === 'number') (state[n] ??= {})[k] = v;
      else tensorsOut.push([`optimizer.state.${n}.${k}`, v as Tensor]);
    }
  }
  return { type, groups, state };
}

export interface SchedulerExport {
  type: string;
  /** Python: `torch.optim.lr_scheduler.X(optimizer, ...)`. */
  construct: string;
  /** 'batch' or 'epoch' (OneCycleLR steps per batch, as tread's fit). */
  interval: 'batch' | 'epoch';
  /** Attributes set on the PyTorch scheduler after construction. */
  restore: Record<string, unknown>;
}

export function exportScheduler(scheduler: unknown): SchedulerExport {
  const s = scheduler as Any;
  const type = s?.constructor?.name as string;
  const common = () => ({ last_epoch: s.lastEpoch, _step_count: s.stepCount, base_lrs: s.baseLrs, _last_lr: s.getLastLr() });
  const L = 'torch.optim.lr_scheduler';
  switch (type) {
    case 'StepLR':
      return { type, interval: 'epoch', construct: `${L}.StepLR(optimizer, step_size=${py(s.stepSize)}, gamma=${py(s.gamma)})`, restore: common() };
    case 'MultiStepLR':
      return { type, interval: 'epoch', construct: `${L}.MultiStepLR(optimizer, milestones=[${s.milestones.map(py).join(', ')}], gamma=${py(s.gamma)})`, restore: common() };
    case 'ExponentialLR':
      return { type, interval: 'epoch', construct: `${L}.ExponentialLR(optimizer, gamma=${py(s.gamma)})`, restore: common() };
    case 'CosineAnnealingLR':
      return { type, interval: 'epoch', construct: `${L}.CosineAnnealingLR(optimizer, T_max=${py(s.tMax)}, eta_min=${py(s.etaMin)})`, restore: common() };
    case 'OneCycleLR': {
      const gv = s.groupValues as Any[];
      const T = s.totalSteps as number;
      const pct = (s.phases[0].endStep + 1) / T;
      const div = gv[0]!.maxLr / gv[0]!.initialLr;
      const finalDiv = gv[0]!.initialLr / gv[0]!.minLr;
      const args = [
        `max_lr=[${gv.map((g) => py(g.maxLr)).join(', ')}]`,
        `total_steps=${T}`,
        `pct_start=${py(pct)}`,
        `anneal_strategy=${py(s.annealStrategy)}`,
        `cycle_momentum=${py(s.cycleMomentum)}`,
        `base_momentum=[${gv.map((g) => py(g.baseMomentum)).join(', ')}]`,
        `max_momentum=[${gv.map((g) => py(g.maxMomentum)).join(', ')}]`,
        `div_factor=${py(div)}`,
        `final_div_factor=${py(finalDiv)}`,
        `three_phase=${py(s.phases.length === 3)}`,
      ];
      return { type, interval: 'batch', construct: `${L}.OneCycleLR(optimizer, ${args.join(', ')})`, restore: common() };
    }
    case 'ReduceLROnPlateau':
      return {
        type,
        interval: 'epoch',
        construct: `${L}.ReduceLROnPlateau(optimizer, mode=${py(s.mode)}, factor=${py(s.factor)}, patience=${py(s.patience)}, threshold=${py(s.threshold)}, threshold_mode=${py(s.thresholdMode)}, cooldown=${py(s.cooldown)}, min_lr=[${s.minLrs.map(py).join(', ')}], eps=${py(s.eps)})`,
        restore: { best: s.best, num_bad_epochs: s.numBadEpochs, cooldown_counter: s.cooldownCounter, last_epoch: s.lastEpoch },
      };
    default:
      throw new Error(`export to PyTorch: the scheduler is ${type ?? typeof scheduler}; supported: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau`);
  }
}
