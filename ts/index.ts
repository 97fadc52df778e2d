/**
 * tread: train neural networks in JavaScript and TypeScript.
 *
 * Layers of the library, each depending only on those above it:
 *   util     (options checks; no deps)    ts/util
 *   runtime  (wasm loading, threads)      ts/runtime
 *   tensor   (storage, lifetimes, views)  ts/tensor
 *   kernels  (typed wrappers of wasm)     ts/kernels
 *   autograd + ops                        ts/autograd, ts/ops
 *   nn       (modules, layers, losses, init)  ts/nn
 *   optim    (optimizers, schedulers, clipping) ts/optim
 *   data     (datasets, loaders, scalers, augmentation) ts/data
 *   train    (fit, callbacks, checkpoints, monitoring) ts/train
 */
import { init as initRuntime } from './runtime/wasm.js';
import * as initializers from './nn/init.js';

/**
 * `await tread.init()` starts the runtime (see ts/runtime/wasm.ts); the same name also
 * carries PyTorch's torch.nn.init functions: `tread.init.kaimingUniform_(w)` (also
 * `tread.nn.init`).
 */
export const init: typeof initRuntime & typeof initializers = Object.assign(initRuntime, initializers);
export { runtimeInfo, setThreads, getThreads, memoryBytes } from './runtime/wasm.js';
export type { InitOptions, RuntimeInfo } from './runtime/wasm.js';
export { Tensor, shapeSize } from './tensor/tensor.js';
export type { Shape } from './tensor/tensor.js';
export type { DType } from './tensor/storage.js';
export { liveStorage } from './tensor/storage.js';
export { tensor, zeros, ones, full, empty, zerosLike, arange } from './tensor/create.js';
export type { TensorOptions } from './tensor/create.js';
export { tidy, endStep } from './tensor/lifetime.js';
export { setFileLimits, fileLimits, DEFAULT_FILE_LIMITS } from './util/limits.js';
export type { FileLimits } from './util/limits.js';
export * as train from './train/index.js';
export { fit, EarlyStopping, saveCheckpoint, loadCheckpoint, ModelCheckpoint, resumeFrom, Monitor } from './train/index.js';
export { diagnose, overfitOneBatch } from './train/index.js';
export { Ensemble, trainEnsemble, gridSearch, randomSearch } from './train/index.js';
export * as data from './data/index.js';
export * as worker from './worker/index.js';
export * from './ops/index.js';
import './ops/methods.js';
export { noGrad, enableGrad } from './autograd/engine.js';
export * as autograd from './autograd/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as landscape from './landscape/index.js';
export * as search from './search/index.js';
export * as exporting from './export/index.js';
export { exportToPyTorch } from './export/index.js';
