/**
 * `tread.autograd`: PyTorch's `torch.autograd` vocabulary: `Function` (custom ops with their
 * own backward), `noGrad` / `enableGrad`, `isGradEnabled`.
 */
export { Function, FunctionCtx } from './function.js';
export { noGrad, enableGrad, isGradEnabled } from './engine.js';
