/**
 * tread.nn: modules, layers and losses with PyTorch's names and semantics.
 *
 *   const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10));
 *   const loss = new nn.CrossEntropyLoss().forward(model.forward(x), y);
 *
 * See module.ts for how custom modules register parameters and submodules.
 */
export { Module, Parameter, Sequential, ModuleList } from './module.js';
export type { StateDict, LoadStateDictOptions, LoadStateDictResult } from './module.js';
export * from './layers/index.js';
export {
  CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss,
  crossEntropy, nllLoss, mseLoss, l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits,
} from './losses.js';
export type { Reduction, ClassLossOptions, CrossEntropyOptions, WeightLike, BCEOptions, BCEWithLogitsOptions } from './losses.js';
export * as init from './init.js';
export { manualSeed } from './random.js';
