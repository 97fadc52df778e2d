/**
 * tread.optim: optimizers (PyTorch's torch.optim), LR schedulers (`lrScheduler`), gradient
 * clipping and L1/L2 penalties.
 */
export { Optimizer } from './optimizer.js';
export type { ParamGroup, ParamGroupSpec, ParamsArg, ParamState, OptimizerStateDict } from './optimizer.js';
export type { OptimizerBaseOptions } from './optimizer.js';
export { GROUP_EXTRA_KEYS } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { Adadelta } from './adadelta.js';
export type { AdadeltaOptions } from './adadelta.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export type { AdamWOptions } from './adamw.js';
export { Adamax } from './adamax.js';
export type { AdamaxOptions } from './adamax.js';
export { NAdam } from './nadam.js';
export type { NAdamOptions } from './nadam.js';
export { RAdam } from './radam.js';
export type { RAdamOptions } from './radam.js';
export { clipGradNorm_, clipGradValue_, gradNorm } from './clip.js';
export type { ClipGradNormOptions } from './clip.js';
export { l1Penalty, l2Penalty, applyPenalties } from './penalty.js';
export * as lrScheduler from './lr_scheduler/index.js';
