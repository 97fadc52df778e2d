/**
 * Tensor operations with autograd (functional form). Each is also a Tensor method
 * (ts/ops/methods.ts): `x.matmul(w).add(b).relu().sum()`.
 */
export { add, sub, mul, div, neg, exp, log, sqrt, abs, pow, square, clamp, clone } from './arith.js';
export { reshape, view, flatten, squeeze, unsqueeze, permute, transpose, t, cat, stack } from './shape.js';
export { sum, mean, max, maxDim, min, minDim, argmax } from './reduce.js';
export type { Dims } from './reduce.js';
export { variance, variance as var, std, varMean, stdMean, logsumexp, norm, vectorNorm, linalg } from './stats.js';
export type { VarOptions, ReduceOptions, NormOptions, VectorNormOptions } from './stats.js';
export { sort, topk, cumsum } from './order.js';
export type { SortOptions, TopkOptions, Sorted } from './order.js';
export { matmul, mm } from './matmul.js';
export { relu, leakyRelu, elu, gelu, silu, sigmoid, tanh, softplus, softmax, logSoftmax } from './activation.js';
export { detach } from '../autograd/engine.js';
export { rand, randn, randint } from './random.js';
export type { RandomOptions } from './random.js';
export { eq, ne, gt, ge, lt, le, where } from './compare.js';
export { narrow, select, slice, indexSelect, gather } from './indexing.js';
export type { SliceEntry } from './indexing.js';
