/**
 * The ops as Tensor methods (TypeScript declaration merging + prototype assignment), so
 * that `x.matmul(w).add(b).relu().sum()` reads as in PyTorch. Importing this module
 * (ts/index.ts does) installs them.
 */
import { detach } from '../autograd/engine.js';
import { Shape, Tensor } from '../tensor/tensor.js';
import * as act from './activation.js';
import * as ar from './arith.js';
import { matmul } from './matmul.js';
import * as red from './reduce.js';
import * as sh from './shape.js';
import * as ord from './order.js';
import * as st from './stats.js';
import * as cmp from './compare.js';
import * as ix from './indexing.js';
import * as cast from './cast.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(other: Tensor | number): Tensor;
    sub(other: Tensor | number): Tensor;
    mul(other: Tensor | number): Tensor;
    div(other: Tensor | number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    pow(exponent: number): Tensor;
    square(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    reshape(...shape: number[] | [Shape]): Tensor;
    view(...shape: number[] | [Shape]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    permute(...dims: number[] | [readonly number[]]): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    t(): Tensor;
    sum(dim?: red.Dims, keepdim?: boolean): Tensor;
    mean(dim?: red.Dims, keepdim?: boolean): Tensor;
    max(dim?: number, keepdim?: boolean): Tensor;
    min(dim?: number, keepdim?: boolean): Tensor;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    matmul(other: Tensor): Tensor;
    relu(): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    elu(alpha?: number): Tensor;
    gelu(): Tensor;
    silu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    softplus(beta?: number, threshold?: number): Tensor;
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
    var(options?: st.VarOptions): Tensor;
    std(options?: st.VarOptions): Tensor;
    varMean(options?: st.VarOptions): [Tensor, Tensor];
    stdMean(options?: st.VarOptions): [Tensor, Tensor];
    logsumexp(options?: st.ReduceOptions): Tensor;
    norm(options?: st.NormOptions): Tensor;
    cumsum(dim: number): Tensor;
    sort(options?: ord.SortOptions): ord.Sorted;
    topk(k: number, options?: ord.TopkOptions): ord.Sorted;
    eq(other: Tensor | number): Tensor;
    ne(other: Tensor | number): Tensor;
    gt(other: Tensor | number): Tensor;
    ge(other: Tensor | number): Tensor;
    lt(other: Tensor | number): Tensor;
    le(other: Tensor | number): Tensor;
    /** PyTorch's `x.where(condition, y)`: x where condition holds, else y. */
    where(condition: Tensor, other: Tensor | number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    select(dim: number, index: number): Tensor;
    slice(spec: readonly ix.SliceEntry[]): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    /** The transpose of a matrix; other ranks reversed (PyTorch 1.13). A copy. */
    readonly T: Tensor;
    /** A float32 copy (PyTorch's x.float()): e.g. a comparison's mask, to count or average. */
    float(): Tensor;
    /** An int32 copy (PyTorch's x.int()): floats truncated toward zero. */
    int(): Tensor;
  }
}

/** `f(2, 3)` or `f([2, 3])`. */
function dimsArg(args: (number | readonly number[])[]): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
}

const P = Tensor.prototype;
P.add = function (o) { return ar.add(this, o); };
P.sub = function (o) { return ar.sub(this, o); };
P.mul = function (o) { return ar.mul(this, o); };
P.div = function (o) { return ar.div(this, o); };
P.neg = function () { return ar.neg(this); };
P.exp = function () { return ar.exp(this); };
P.log = function () { return ar.log(this); };
P.sqrt = function () { return ar.sqrt(this); };
P.abs = function () { return ar.abs(this); };
P.pow = function (e) { return ar.pow(this, e); };
P.square = function () { return ar.square(this); };
P.clamp = function (lo, hi) { return ar.clamp(this, lo, hi); };
P.clone = function () { return ar.clone(this); };
P.detach = function () { return detach(this); };
P.reshape = function (...s) { return sh.reshape(this, dimsArg(s)); };
P.view = function (...s) { return sh.view(this, dimsArg(s)); };
P.flatten = function (s, e) { return sh.flatten(this, s, e); };
P.squeeze = function (d) { return sh.squeeze(this, d); };
P.unsqueeze = function (d) { return sh.unsqueeze(this, d); };
P.permute = function (...d) { return sh.permute(this, dimsArg(d)); };
P.transpose = function (a, b) { return sh.transpose(this, a, b); };
P.t = function () { return sh.t(this); };
P.sum = function (d, k) { return red.sum(this, d, k); };
P.mean = function (d, k) { return red.mean(this, d, k); };
P.max = function (d, k) { return red.max(this, d, k); };
P.min = function (d, k) { return red.min(this, d, k); };
P.argmax = function (d, k) { return red.argmax(this, d, k); };
P.matmul = function (o) { return matmul(this, o); };
P.relu = function () { return act.relu(this); };
P.leakyRelu = function (s) { return act.leakyRelu(this, s); };
P.elu = function (a) { return act.elu(this, a); };
P.gelu = function () { return act.gelu(this); };
P.silu = function () { return act.silu(this); };
P.sigmoid = function () { return act.sigmoid(this); };
P.tanh = function () { return act.tanh(this); };
P.softplus = function (b, t) { return act.softplus(this, b, t); };
P.softmax = function (d) { return act.softmax(this, d); };
P.logSoftmax = function (d) { return act.logSoftmax(this, d); };
P.var = function (o) { return st.variance(this, o); };
P.std = function (o) { return st.std(this, o); };
P.varMean = function (o) { return st.varMean(this, o); };
P.stdMean = function (o) { return st.stdMean(this, o); };
P.logsumexp = function (o) { return st.logsumexp(this, o); };
P.norm = function (o) { return st.norm(this, o); };
P.cumsum = function (d) { return ord.cumsum(this, d); };
P.sort = function (o) { return ord.sort(this, o); };
P.topk = function (k, o) { return ord.topk(this, k, o); };
P.eq = function (o) { return cmp.eq(this, o); };
P.ne = function (o) { return cmp.ne(this, o); };
P.gt = function (o) { return cmp.gt(this, o); };
P.ge = function (o) { return cmp.ge(this, o); };
P.lt = function (o) { return cmp.lt(this, o); };
P.le = function (o) { return cmp.le(this, o); };
P.where = function (c, o) { return cmp.where(c, this, o); };
P.narrow = function (d, s, n) { return ix.narrow(this, d, s, n); };
P.select = function (d, i) { return ix.select(this, d, i); };
P.slice = function (spec) { return ix.slice(this, spec); };
P.indexSelect = function (d, i) { return ix.indexSelect(this, d, i); };
P.gather = function (d, i) { return ix.gather(this, d, i); };
Object.defineProperty(P, 'T', { get(this: Tensor) { return ix.T(this); }, configurable: true });
P.float = function () { return cast.toFloat(this); };
P.int = function () { return cast.toInt(this); };
