/**
 * Learning-rate schedulers (`tread.optim.lrScheduler`), PyTorch 1.13's semantics with
 * camelCase options: `new StepLR(optimizer, { stepSize: 30, gamma: 0.1 })`.
 */
export { LRScheduler } from './base.js';
export type { SchedulerOptimizer, SchedulerParamGroup, SchedulerState } from './base.js';
export { LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ExponentialLR, LinearLR, ConstantLR, PolynomialLR } from './simple.js';
export type {
  LrLambda,
  LambdaLROptions,
  MultiplicativeLROptions,
  StepLROptions,
  MultiStepLROptions,
  ExponentialLROptions,
  LinearLROptions,
  ConstantLROptions,
  PolynomialLROptions,
} from './simple.js';
export { CosineAnnealingLR, CosineAnnealingWarmRestarts } from './cosine.js';
export type { CosineAnnealingLROptions, CosineAnnealingWarmRestartsOptions } from './cosine.js';
export { OneCycleLR, CyclicLR } from './cyclic.js';
export type { OneCycleLROptions, CyclicLROptions } from './cyclic.js';
export { SequentialLR, ChainedScheduler } from './composite.js';
export type { SequentialLROptions } from './composite.js';
export { ReduceLROnPlateau } from './plateau.js';
export type { ReduceLROnPlateauOptions } from './plateau.js';
