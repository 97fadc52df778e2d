//! Loss functions as PyTorch 1.13 computes them, in numerically stable form, each a forward
//! that reduces (`NONE`, `MEAN`, `SUM`) and a backward that takes the upstream gradient (one
//! value, or one per sample for `NONE`). The loops are plain: a loss is one pass over its
//! input. (It was once thought too cheap to matter; on a [4096, 1000] or [256, 4096] input the
//! plain f64 loops took 20-27 ns per element, more than the layer before them.) Blocks of
//! samples or elements run on the threads and their f64 sums are added in block order, so
//! a reduced loss is the same on any number of threads.
//!
//! Class losses see the input as `[outer, C, inner]` (PyTorch's `[N, C, d1...]`) with one
//! int32 class index per `(outer, inner)` sample, and an optional per-class `weight`.
//! Cross-entropy is fused: one pass computes log-softmax, the NLL and label smoothing, and
//! keeps the probabilities for its backward. Samples whose target is `ignore_index` count
//! for nothing. With reduction `MEAN` PyTorch divides by the summed weight of the counted
//! samples' targets (their number without `weight`), the smoothing term included.
//!
//! Cross-entropy with probability targets (a float target shaped like the input) has no
//! ignore index and its mean divides by the number of samples, with or without weights.
//!
//! Element-wise losses take optional per-element `weight` (and for BCE-with-logits
//! `pos_weight`), already broadcast to the input's size by the caller; their mean divides by
//! the number of elements.

use super::activation::exp_f32;
use super::elementwise::par_ranges;
use super::softmax::{exp_shift_sum_f64, max_slice};
use crate::parallel::SharedMut;

pub const NONE: u32 = 0;
pub const MEAN: u32 = 1;
pub const SUM: u32 = 2;

pub const MSE: u32 = 0;
pub const L1: u32 = 1;
pub const SMOOTH_L1: u32 = 2;
pub const HUBER: u32 = 3;
pub const BCE: u32 = 4;
pub const BCE_WITH_LOGITS: u32 = 5;

/// A target outside `[0, C)` (and not `ignore_index`): the sample's flat index and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadTarget {
    pub index: usize,
    pub value: i32,
}

/// `[outer, C, inner]` of a class-loss input.
#[derive(Debug, Clone, Copy)]
pub struct ClassShape {
    pub outer: usize,
    pub c: usize,
    pub inner: usize,
}

impl ClassShape {
    pub fn samples(&self) -> usize {
        self.outer * self.inner
    }
    pub fn len(&self) -> usize {
        self.outer * self.c * self.inner
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Flat index of class `k` of sample `(o, i)`.
    #[inline]
    fn at(&self, o: usize, k: usize, i: usize) -> usize {
        (o * self.c + k) * self.inner + i
    }
}

/// Checks every target; returns the number of counted (not ignored) samples.
fn check_targets(target: &[i32], c: usize, ignore_index: i32) -> Result<usize, BadTarget> {
    let mut count = 0;
    for (i, &t) in target.iter().enumerate() {
        if t == ignore_index {
            continue;
        }
        if t < 0 || t as usize >= c {
            return Err(BadTarget { index: i, value: t });
        }
        count += 1;
    }
    Ok(count)
}

#[inline]
fn class_weight(weight: Option<&[f32]>, k: usize) -> f64 {
    weight.map_or(1.0, |w| w[k] as f64)
}

/// PyTorch's denominator of a class loss's mean: Σ weight[target] over counted samples.
pub fn class_total_weight(target: &[i32], weight: Option<&[f32]>, ignore_index: i32) -> f64 {
    target.iter().filter(|&&t| t != ignore_index).map(|&t| class_weight(weight, t as usize)).sum()
}

/// Per-sample upstream gradient times the reduction's scale.
#[inline]
fn sample_grad(reduction: u32, g: &[f32], s: usize, denom: f64) -> f64 {
    match reduction {
        NONE => g[s] as f64,
        MEAN => g[0] as f64 / denom,
        _ => g[0] as f64,
    }
}

/// Writes the losses (`NONE`) or their reduction over `denom` (`MEAN`) or sum.
fn reduce_into(reduction: u32, total: f64, denom: f64, out: &mut [f32]) {
    if reduction == MEAN {
        out[0] = (total / denom) as f32; // NaN when nothing is counted, as PyTorch
    } else if reduction == SUM {
        out[0] = total as f32;
    }
}

/// softmax over the classes of sample `(o, i)` into `probs`; returns log Σ exp(x).
///
/// `exp` in f32 (tread's vectorized `exp`, as PyTorch computes in f32), summed in f64. With
/// the classes contiguous (`inner == 1`, an `[N, C]` input) four lanes at a time; before, one
/// f64 `exp` per element made cross-entropy ~20 ns per element.
fn softmax_sample(s: &ClassShape, o: usize, i: usize, x: &[f32], probs: &mut [f32]) -> f64 {
    if s.inner == 1 {
        let r = o * s.c;
        let (xr, pr) = (&x[r..r + s.c], &mut probs[r..r + s.c]);
        let mx = max_slice(xr);
        let sum = exp_shift_sum_f64(xr, mx, pr);
        let inv = 1.0 / sum;
        pr.iter_mut().for_each(|p| *p = (*p as f64 * inv) as f32);
        return mx as f64 + sum.ln();
    }
    let mut mx = f32::NEG_INFINITY;
    for k in 0..s.c {
        let v = x[s.at(o, k, i)];
        if v > mx || v.is_nan() {
            mx = v;
        }
    }
    let mut sum = 0.0f64;
    for k in 0..s.c {
        let e = exp_f32(x[s.at(o, k, i)] - mx);
        probs[s.at(o, k, i)] = e;
        sum += e as f64;
    }
    let inv = 1.0 / sum;
    for k in 0..s.c {
        let a = s.at(o, k, i);
        probs[a] = (probs[a] as f64 * inv) as f32;
    }
    mx as f64 + sum.ln()
}

/// Samples per block of the cross-entropy loops (see [`block_sums`]).
const CE_BLOCK: usize = 32;

/// Runs `f(first, last)` over `0..items` in blocks of `block` on the threads (when `work` is
/// worth it), and returns the sum of what the blocks return, added in block order: each block
/// sums its own items in f64, so the total is the same on any number of threads.
fn block_sums(items: usize, block: usize, work: usize, f: impl Fn(usize, usize) -> f64 + Sync + Send) -> f64 {
    let blocks = items.div_ceil(block);
    let mut sums = vec![0.0f64; blocks];
    let sp = SharedMut(sums.as_mut_ptr());
    par_ranges(blocks, work, 1, |b0, b1| {
        // SAFETY: tasks write disjoint ranges of sums.
        let s = unsafe { sp.slice(b0, b1 - b0) };
        for (j, v) in s.iter_mut().enumerate() {
            let b = b0 + j;
            *v = f(b * block, ((b + 1) * block).min(items));
        }
    });
    sums.iter().sum()
}

/// Fused cross-entropy forward with class-index targets. `probs` (size of x) receives
/// softmax(x) over C; `out` gets one loss per sample (`NONE`) or one value. Per sample with
/// target t: `(1-ε)·w[t]·(-log p[t]) + ε/C·Σ_k w[k]·(-log p[k])`. Returns the number of
/// counted samples.
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy_forward(
    s: &ClassShape,
    x: &[f32],
    target: &[i32],
    weight: Option<&[f32]>,
    label_smoothing: f32,
    ignore_index: i32,
    reduction: u32,
    probs: &mut [f32],
    out: &mut [f32],
) -> Result<usize, BadTarget> {
    let ns = s.samples();
    assert!(x.len() >= s.len() && probs.len() >= s.len() && target.len() >= ns, "cross_entropy: buffers too short");
    assert!(weight.map_or(true, |w| w.len() >= s.c), "cross_entropy: weight shorter than C");
    let count = check_targets(&target[..ns], s.c, ignore_index)?;
    let eps = label_smoothing as f64;
    let (pp, op, plen, olen) = (SharedMut(probs.as_mut_ptr()), SharedMut(out.as_mut_ptr()), probs.len(), out.len());
    let total = block_sums(ns, CE_BLOCK, s.len() * 8, |a, b| {
        // SAFETY: a block writes the probabilities and the losses of its own samples only.
        let (probs, out) = unsafe { (pp.slice(0, plen), op.slice(0, olen)) };
        let mut total = 0.0f64;
        for si in a..b {
            let (o, i) = (si / s.inner, si % s.inner);
            let lse = softmax_sample(s, o, i, x, probs);
            let t = target[si];
            let loss = if t == ignore_index {
                0.0
            } else {
                let nll = class_weight(weight, t as usize) * (lse - x[s.at(o, t as usize, i)] as f64);
                let smooth = if eps == 0.0 {
                    0.0
                } else {
                    (0..s.c).map(|k| class_weight(weight, k) * (lse - x[s.at(o, k, i)] as f64)).sum::<f64>()
                };
                (1.0 - eps) * nll + eps / s.c as f64 * smooth
            };
            if reduction == NONE {
                out[si] = loss as f32;
            } else {
                total += loss;
            }
        }
        total
    });
    reduce_into(reduction, total, class_total_weight(&target[..ns], weight, ignore_index), out);
    Ok(count)
}

/// Cross-entropy backward from the forward's probabilities: for class j of a counted sample,
/// `g·(p_j·((1-ε)·w[t] + ε/C·Σw) - (1-ε)·w[t]·[j = t] - ε/C·w[j])`; 0 for ignored samples.
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy_backward(
    s: &ClassShape,
    probs: &[f32],
    target: &[i32],
    weight: Option<&[f32]>,
    label_smoothing: f32,
    ignore_index: i32,
    reduction: u32,
    g: &[f32],
    dx: &mut [f32],
) {
    let ns = s.samples();
    let eps = label_smoothing as f64;
    let off = eps / s.c as f64;
    let wsum: f64 = (0..s.c).map(|k| class_weight(weight, k)).sum();
    let denom = if reduction == MEAN { class_total_weight(&target[..ns], weight, ignore_index) } else { 1.0 };
    let (dp, dlen) = (SharedMut(dx.as_mut_ptr()), dx.len());
    par_ranges(ns, s.len() * 4, 1, |a, b| {
        // SAFETY: a task writes the gradients of its own samples only.
        let dx = unsafe { dp.slice(0, dlen) };
        for si in a..b {
            let (o, i) = (si / s.inner, si % s.inner);
            let t = target[si];
            if t == ignore_index {
                for k in 0..s.c {
                    dx[s.at(o, k, i)] = 0.0;
                }
                continue;
            }
            let gs = sample_grad(reduction, g, si, denom);
            let wt = class_weight(weight, t as usize);
            let pscale = (1.0 - eps) * wt + off * wsum;
            for k in 0..s.c {
                let a = s.at(o, k, i);
                let hit = if k as i32 == t { (1.0 - eps) * wt } else { 0.0 };
                dx[a] = (gs * (probs[a] as f64 * pscale - hit - off * class_weight(weight, k))) as f32;
            }
        }
    });
}

/// Cross-entropy against class probabilities `q` (shaped like x), smoothed as
/// `q·(1-ε) + ε/C`: per sample `-Σ_k w[k]·q_k·log p_k`; the mean divides by the samples.
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy_prob_forward(
    s: &ClassShape,
    x: &[f32],
    target: &[f32],
    weight: Option<&[f32]>,
    label_smoothing: f32,
    reduction: u32,
    probs: &mut [f32],
    out: &mut [f32],
) {
    assert!(x.len() >= s.len() && probs.len() >= s.len() && target.len() >= s.len(), "cross_entropy: buffers too short");
    assert!(weight.map_or(true, |w| w.len() >= s.c), "cross_entropy: weight shorter than C");
    let eps = label_smoothing as f64;
    let off = eps / s.c as f64;
    let mut total = 0.0f64;
    for o in 0..s.outer {
        for i in 0..s.inner {
            let lse = softmax_sample(s, o, i, x, probs);
            let mut loss = 0.0f64;
            for k in 0..s.c {
                let a = s.at(o, k, i);
                let q = target[a] as f64 * (1.0 - eps) + off;
                loss += class_weight(weight, k) * q * (lse - x[a] as f64);
            }
            if reduction == NONE {
                out[o * s.inner + i] = loss as f32;
            } else {
                total += loss;
            }
        }
    }
    reduce_into(reduction, total, s.samples() as f64, out);
}

/// Backward of the above: `dx_j = g·(p_j·Σ_k w[k]·q_k - w[j]·q_j)`.
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy_prob_backward(
    s: &ClassShape,
    probs: &[f32],
    target: &[f32],
    weight: Option<&[f32]>,
    label_smoothing: f32,
    reduction: u32,
    g: &[f32],
    dx: &mut [f32],
) {
    let eps = label_smoothing as f64;
    let off = eps / s.c as f64;
    let denom = s.samples() as f64;
    for o in 0..s.outer {
        for i in 0..s.inner {
            let si = o * s.inner + i;
            let gs = sample_grad(reduction, g, si, denom);
            let q = |k: usize| target[s.at(o, k, i)] as f64 * (1.0 - eps) + off;
            let wq: f64 = (0..s.c).map(|k| class_weight(weight, k) * q(k)).sum();
            for k in 0..s.c {
                let a = s.at(o, k, i);
                dx[a] = (gs * (probs[a] as f64 * wq - class_weight(weight, k) * q(k))) as f32;
            }
        }
    }
}

/// NLL forward over log-probabilities `x`: `-w[t]·x[t]` per counted sample.
#[allow(clippy::too_many_arguments)]
pub fn nll_forward(s: &ClassShape, x: &[f32], target: &[i32], weight: Option<&[f32]>, ignore_index: i32, reduction: u32, out: &mut [f32]) -> Result<usize, BadTarget> {
    let ns = s.samples();
    assert!(x.len() >= s.len() && target.len() >= ns, "nll: buffers too short");
    assert!(weight.map_or(true, |w| w.len() >= s.c), "nll: weight shorter than C");
    let count = check_targets(&target[..ns], s.c, ignore_index)?;
    let mut total = 0.0f64;
    for o in 0..s.outer {
        for i in 0..s.inner {
            let t = target[o * s.inner + i];
            let l = if t == ignore_index { 0.0 } else { -class_weight(weight, t as usize) * x[s.at(o, t as usize, i)] as f64 };
            if reduction == NONE {
                out[o * s.inner + i] = l as f32;
            } else {
                total += l;
            }
        }
    }
    reduce_into(reduction, total, class_total_weight(&target[..ns], weight, ignore_index), out);
    Ok(count)
}

/// NLL backward: `dx[target] = -g·w[t]·scale`, 0 elsewhere.
#[allow(clippy::too_many_arguments)]
pub fn nll_backward(s: &ClassShape, target: &[i32], weight: Option<&[f32]>, ignore_index: i32, reduction: u32, g: &[f32], dx: &mut [f32]) {
    let ns = s.samples();
    dx[..s.len()].fill(0.0);
    let denom = if reduction == MEAN { class_total_weight(&target[..ns], weight, ignore_index) } else { 1.0 };
    for o in 0..s.outer {
        for i in 0..s.inner {
            let si = o * s.inner + i;
            let t = target[si];
            if t == ignore_index {
                continue;
            }
            let gs = sample_grad(reduction, g, si, denom);
            dx[s.at(o, t as usize, i)] = (-gs * class_weight(weight, t as usize)) as f32;
        }
    }
}

/// One element's loss (f64); `pw` is BCE-with-logits' positive-class weight (1 otherwise).
#[inline]
fn point(kind: u32, p: f64, x: f64, t: f64, pw: f64) -> f64 {
    match kind {
        MSE => (x - t) * (x - t),
        L1 => (x - t).abs(),
        SMOOTH_L1 => {
            let d = (x - t).abs();
            if d < p { 0.5 * d * d / p } else { d - 0.5 * p }
        }
        HUBER => {
            let d = (x - t).abs();
            if d < p { 0.5 * d * d } else { p * (d - 0.5 * p) }
        }
        BCE => {
            let lx = x.ln().max(-100.0);
            let l1x = (1.0 - x).ln().max(-100.0);
            -(t * lx + (1.0 - t) * l1x)
        }
        BCE_WITH_LOGITS => {
            // (1-t)·x + (1 + (pw-1)·t)·log(1 + exp(-x)), the log term as max(-x,0) + log1p(exp(-|x|)).
            let softplus_neg = (-x).max(0.0) + (-x.abs()).exp().ln_1p();
            (1.0 - t) * x + (1.0 + (pw - 1.0) * t) * softplus_neg
        }
        _ => f64::NAN,
    }
}

/// d(loss)/dx of one element (f32, as PyTorch's kernels).
#[inline]
fn dpoint(kind: u32, p: f32, x: f32, t: f32, pw: f32) -> f32 {
    let d = x - t;
    let sign = if d > 0.0 { 1.0 } else if d < 0.0 { -1.0 } else { 0.0 };
    match kind {
        MSE => 2.0 * d,
        L1 => sign,
        SMOOTH_L1 => {
            if d.abs() < p { d / p } else { sign }
        }
        HUBER => {
            if d.abs() < p { d } else { p * sign }
        }
        BCE => d / ((1.0 - x) * x).max(1e-12),
        BCE_WITH_LOGITS => {
            let pt = pw * t;
            (pt + 1.0 - t) / (1.0 + (-x).exp()) - pt
        }
        _ => f32::NAN,
    }
}

/// Optional per-element factors of the element-wise losses (each as long as x, or absent).
#[derive(Clone, Copy, Default)]
pub struct ElementWeights<'a> {
    /// Multiplies each element's loss.
    pub weight: Option<&'a [f32]>,
    /// BCE-with-logits: weight of the positive term.
    pub pos_weight: Option<&'a [f32]>,
}

impl ElementWeights<'_> {
    #[inline]
    fn w(&self, i: usize) -> f32 {
        self.weight.map_or(1.0, |w| w[i])
    }
    #[inline]
    fn pw(&self, i: usize) -> f32 {
        self.pos_weight.map_or(1.0, |w| w[i])
    }
}

/// Elements per block of a reduced element-wise loss (see [`block_sums`]).
const SUM_BLOCK: usize = 4096;

/// Element-wise loss forward: `out` has `x.len()` values (`NONE`) or one.
pub fn pointwise_forward(kind: u32, param: f32, x: &[f32], t: &[f32], ew: ElementWeights, reduction: u32, out: &mut [f32]) {
    let n = x.len();
    assert!(t.len() >= n, "loss: target too short");
    assert!(ew.weight.map_or(true, |w| w.len() >= n) && ew.pos_weight.map_or(true, |w| w.len() >= n), "loss: weights too short");
    assert!(out.len() >= if reduction == NONE { n } else { 1 }, "loss: output too short");
    // One copy of the loop per loss, its formula known at compile time (a `match` on the kind
    // per element kept the loop scalar and branchy: ~25 ns per element).
    match kind {
        MSE => forward_k::<MSE>(param, x, t, ew, reduction, out),
        L1 => forward_k::<L1>(param, x, t, ew, reduction, out),
        SMOOTH_L1 => forward_k::<SMOOTH_L1>(param, x, t, ew, reduction, out),
        HUBER => forward_k::<HUBER>(param, x, t, ew, reduction, out),
        BCE => forward_k::<BCE>(param, x, t, ew, reduction, out),
        BCE_WITH_LOGITS => forward_k::<BCE_WITH_LOGITS>(param, x, t, ew, reduction, out),
        _ => forward_k::<{ u32::MAX }>(param, x, t, ew, reduction, out),
    }
}

fn forward_k<const K: u32>(param: f32, x: &[f32], t: &[f32], ew: ElementWeights, reduction: u32, out: &mut [f32]) {
    let n = x.len();
    let p = param as f64;
    let at = |i: usize| ew.w(i) as f64 * point(K, p, x[i] as f64, t[i] as f64, ew.pw(i) as f64);
    if reduction == NONE {
        let outp = SharedMut(out.as_mut_ptr());
        par_ranges(n, n, 16, |s, e| {
            // SAFETY: tasks write disjoint ranges of out.
            let o = unsafe { outp.slice(s, e - s) };
            for (j, v) in o.iter_mut().enumerate() {
                *v = at(s + j) as f32;
            }
        });
        return;
    }
    let total = block_sums(n, SUM_BLOCK, n, |a, b| (a..b).map(at).sum());
    out[0] = if reduction == MEAN { (total / n as f64) as f32 } else { total as f32 };
}

/// Element-wise loss backward: `dx = g·scale·w·dloss/dx`.
#[allow(clippy::too_many_arguments)]
pub fn pointwise_backward(kind: u32, param: f32, x: &[f32], t: &[f32], ew: ElementWeights, reduction: u32, g: &[f32], dx: &mut [f32]) {
    let n = x.len();
    assert!(t.len() >= n && dx.len() >= n && g.len() >= if reduction == NONE { n } else { 1 }, "loss backward: buffers too short");
    assert!(ew.weight.map_or(true, |w| w.len() >= n) && ew.pos_weight.map_or(true, |w| w.len() >= n), "loss backward: weights too short");
    match kind {
        MSE => backward_k::<MSE>(param, x, t, ew, reduction, g, dx),
        L1 => backward_k::<L1>(param, x, t, ew, reduction, g, dx),
        SMOOTH_L1 => backward_k::<SMOOTH_L1>(param, x, t, ew, reduction, g, dx),
        HUBER => backward_k::<HUBER>(param, x, t, ew, reduction, g, dx),
        BCE => backward_k::<BCE>(param, x, t, ew, reduction, g, dx),
        BCE_WITH_LOGITS => backward_k::<BCE_WITH_LOGITS>(param, x, t, ew, reduction, g, dx),
        _ => backward_k::<{ u32::MAX }>(param, x, t, ew, reduction, g, dx),
    }
}

#[allow(clippy::too_many_arguments)]
fn backward_k<const K: u32>(param: f32, x: &[f32], t: &[f32], ew: ElementWeights, reduction: u32, g: &[f32], dx: &mut [f32]) {
    let n = x.len();
    let scale = if reduction == MEAN { 1.0 / n as f32 } else { 1.0 };
    let dxp = SharedMut(dx.as_mut_ptr());
    par_ranges(n, n, 16, |s, e| {
        // SAFETY: tasks write disjoint ranges of dx.
        let d = unsafe { dxp.slice(s, e - s) };
        for (j, v) in d.iter_mut().enumerate() {
            let i = s + j;
            let gi = if reduction == NONE { g[i] } else { g[0] };
            *v = gi * scale * ew.w(i) * dpoint(K, param, x[i], t[i], ew.pw(i));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-2, 2).
    fn vals(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 4000) as f32 / 1000.0 - 2.0
            })
            .collect()
    }

    /// PyTorch's formulas written out naively in f64 (log-softmax without the max shift):
    /// the per-sample losses and the mean's denominator.
    fn ref_class(s: &ClassShape, x: &[f64], target: &[i32], w: Option<&[f32]>, eps: f64, ignore: i32) -> (Vec<f64>, f64) {
        let wk = |k: usize| w.map_or(1.0, |w| w[k] as f64);
        let mut losses = vec![];
        let mut den = 0.0;
        for o in 0..s.outer {
            for i in 0..s.inner {
                let t = target[o * s.inner + i];
                let lse = (0..s.c).map(|k| x[s.at(o, k, i)].exp()).sum::<f64>().ln();
                let logp = |k: usize| x[s.at(o, k, i)] - lse;
                if t == ignore {
                    losses.push(0.0);
                    continue;
                }
                den += wk(t as usize);
                let nll = -wk(t as usize) * logp(t as usize);
                let smooth = -(0..s.c).map(|k| wk(k) * logp(k)).sum::<f64>();
                losses.push((1.0 - eps) * nll + eps / s.c as f64 * smooth);
            }
        }
        (losses, den)
    }

    fn ref_prob(s: &ClassShape, x: &[f64], q: &[f32], w: Option<&[f32]>, eps: f64) -> Vec<f64> {
        let mut losses = vec![];
        for o in 0..s.outer {
            for i in 0..s.inner {
                let lse = (0..s.c).map(|k| x[s.at(o, k, i)].exp()).sum::<f64>().ln();
                let l: f64 = (0..s.c)
                    .map(|k| {
                        let qk = q[s.at(o, k, i)] as f64 * (1.0 - eps) + eps / s.c as f64;
                        -w.map_or(1.0, |w| w[k] as f64) * qk * (x[s.at(o, k, i)] - lse)
                    })
                    .sum();
                losses.push(l);
            }
        }
        losses
    }

    /// Reduces per-sample losses with upstream `g` (one per sample for NONE) to one number,
    /// so that finite differences of it are the backward's expected output.
    fn contract(losses: &[f64], den: f64, reduction: u32, g: &[f32]) -> f64 {
        match reduction {
            NONE => losses.iter().zip(g).map(|(l, g)| l * *g as f64).sum(),
            MEAN => g[0] as f64 * losses.iter().sum::<f64>() / den,
            _ => g[0] as f64 * losses.iter().sum::<f64>(),
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    /// Checks `dx` against central differences of `f` around `x`.
    fn check_fd(x: &[f32], dx: &[f32], f: &dyn Fn(&[f64]) -> f64, what: &str) {
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        for j in 0..x.len() {
            let h = 1e-5;
            let mut a = x64.clone();
            a[j] += h;
            let mut b = x64.clone();
            b[j] -= h;
            let num = (f(&a) - f(&b)) / (2.0 * h);
            assert!(close(dx[j] as f64, num, 1e-4), "{what}: dx[{j}] = {} but finite differences give {num}", dx[j]);
        }
    }

    /// The `[N, C]` path (vectorized exp, blocks of samples on the threads): the formula, and
    /// the same bits on 1 and 3 threads (block sums are added in order).
    #[test]
    fn row_cross_entropy_matches_formula_on_any_thread_count() {
        let _settings = crate::parallel::test_settings_lock();
        let s = ClassShape { outer: 300, c: 37, inner: 1 };
        let x: Vec<f32> = vals(s.len(), 3).iter().map(|v| v * 4.0).collect();
        let target: Vec<i32> = (0..300).map(|i| if i % 17 == 5 { -100 } else { (i * 7 % 37) as i32 }).collect();
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let (losses, den) = ref_class(&s, &x64, &target, None, 0.1, -100);
        let mut runs = vec![];
        for threads in [1, 3] {
            crate::parallel::set_threads(threads);
            let (mut probs, mut out, mut each) = (vec![0.0; s.len()], vec![0.0; 1], vec![0.0; 300]);
            cross_entropy_forward(&s, &x, &target, None, 0.1, -100, MEAN, &mut probs, &mut out).unwrap();
            cross_entropy_forward(&s, &x, &target, None, 0.1, -100, NONE, &mut probs, &mut each).unwrap();
            let mut dx = vec![9.0; s.len()];
            cross_entropy_backward(&s, &probs, &target, None, 0.1, -100, MEAN, &[1.0], &mut dx);
            assert!(close(out[0] as f64, losses.iter().sum::<f64>() / den, 1e-6), "mean {} vs {}", out[0], losses.iter().sum::<f64>() / den);
            for (a, b) in each.iter().zip(&losses) {
                assert!(close(*a as f64, *b, 1e-6), "per sample {a} vs {b}");
            }
            runs.push((out, each, probs, dx));
        }
        crate::parallel::set_threads(1);
        assert!(runs[0] == runs[1], "1 and 3 threads differ");
    }

    /// Element-wise losses: the reduced value is the naive f64 sum's, and the same bits on 1
    /// and 3 threads; the backward too.
    #[test]
    fn pointwise_reductions_match_naive_sums_on_any_thread_count() {
        let _settings = crate::parallel::test_settings_lock();
        let n = 70_001;
        let x: Vec<f32> = vals(n, 5).iter().map(|v| v * 0.2 + 0.5).collect(); // in (0.1, 0.9): BCE's domain
        let t: Vec<f32> = vals(n, 6).iter().map(|v| (v + 2.0) / 4.0).collect();
        for kind in [MSE, L1, SMOOTH_L1, HUBER, BCE, BCE_WITH_LOGITS] {
            let naive: f64 = (0..n).map(|i| point(kind, 0.5, x[i] as f64, t[i] as f64, 1.0)).sum();
            let mut runs = vec![];
            for threads in [1, 3] {
                crate::parallel::set_threads(threads);
                let (mut mean, mut sum, mut each, mut dx) = (vec![0.0], vec![0.0], vec![0.0; n], vec![0.0; n]);
                pointwise_forward(kind, 0.5, &x, &t, ElementWeights::default(), MEAN, &mut mean);
                pointwise_forward(kind, 0.5, &x, &t, ElementWeights::default(), SUM, &mut sum);
                pointwise_forward(kind, 0.5, &x, &t, ElementWeights::default(), NONE, &mut each);
                pointwise_backward(kind, 0.5, &x, &t, ElementWeights::default(), MEAN, &[1.0], &mut dx);
                assert!(close(sum[0] as f64, naive, 1e-7) && close(mean[0] as f64, naive / n as f64, 1e-7), "kind {kind}: {} vs {naive}", sum[0]);
                for i in (0..n).step_by(997) {
                    assert_eq!(each[i], point(kind, 0.5, x[i] as f64, t[i] as f64, 1.0) as f32);
                    assert_eq!(dx[i], (1.0 / n as f32) * dpoint(kind, 0.5, x[i], t[i], 1.0));
                }
                runs.push((mean, sum, each, dx));
            }
            crate::parallel::set_threads(1);
            assert!(runs[0] == runs[1], "kind {kind}: 1 and 3 threads differ");
        }
    }

    #[test]
    fn weighted_smoothed_cross_entropy_matches_formula_and_differences() {
        let s = ClassShape { outer: 2, c: 4, inner: 3 };
        let x = vals(s.len(), 1);
        let target = [0i32, 3, -1, 2, 1, 3];
        let w = [0.5f32, 2.0, 1.0, 0.25];
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        for weight in [None, Some(&w[..])] {
            for eps in [0.0f32, 0.2] {
                for reduction in [NONE, MEAN, SUM] {
                    let g: Vec<f32> = if reduction == NONE { vals(6, 7) } else { vec![0.7] };
                    let mut probs = vec![0.0; s.len()];
                    let mut out = vec![0.0; if reduction == NONE { 6 } else { 1 }];
                    let n = cross_entropy_forward(&s, &x, &target, weight, eps, -1, reduction, &mut probs, &mut out).unwrap();
                    assert_eq!(n, 5);
                    let (losses, den) = ref_class(&s, &x64, &target, weight, eps as f64, -1);
                    let want: Vec<f64> = match reduction {
                        NONE => losses.clone(),
                        MEAN => vec![losses.iter().sum::<f64>() / den],
                        _ => vec![losses.iter().sum::<f64>()],
                    };
                    for (a, b) in out.iter().zip(&want) {
                        assert!(close(*a as f64, *b, 1e-6), "forward {a} vs {b} (w {weight:?}, eps {eps}, red {reduction})");
                    }
                    let mut dx = vec![9.0; s.len()];
                    cross_entropy_backward(&s, &probs, &target, weight, eps, -1, reduction, &g, &mut dx);
                    let f = |xs: &[f64]| {
                        let (l, d) = ref_class(&s, xs, &target, weight, eps as f64, -1);
                        contract(&l, d, reduction, &g)
                    };
                    check_fd(&x, &dx, &f, "cross_entropy");
                    // The same loss through NLL of log-probabilities (no smoothing).
                    if eps == 0.0 {
                        let lp: Vec<f32> = probs.iter().map(|p| p.ln()).collect();
                        let mut out2 = vec![0.0; out.len()];
                        nll_forward(&s, &lp, &target, weight, -1, reduction, &mut out2).unwrap();
                        for (a, b) in out.iter().zip(&out2) {
                            assert!(close(*a as f64, *b as f64, 1e-5));
                        }
                        let mut dn = vec![9.0; s.len()];
                        nll_backward(&s, &target, weight, -1, reduction, &g, &mut dn);
                        let fl = |xs: &[f64]| {
                            let mut l = vec![];
                            let mut d = 0.0;
                            for o in 0..2 {
                                for i in 0..3 {
                                    let t = target[o * 3 + i];
                                    if t == -1 {
                                        l.push(0.0);
                                        continue;
                                    }
                                    let wt = weight.map_or(1.0, |w| w[t as usize] as f64);
                                    d += wt;
                                    l.push(-wt * xs[s.at(o, t as usize, i)]);
                                }
                            }
                            contract(&l, d, reduction, &g)
                        };
                        let lp64: Vec<f32> = lp.clone();
                        check_fd(&lp64, &dn, &fl, "nll");
                    }
                }
            }
        }
        let mut p = vec![0.0; s.len()];
        let mut out = [0.0];
        assert_eq!(cross_entropy_forward(&s, &x, &[0, 4, 0, 0, 0, 0], None, 0.0, -100, MEAN, &mut p, &mut out), Err(BadTarget { index: 1, value: 4 }));
    }

    #[test]
    fn probability_target_cross_entropy_matches_formula_and_differences() {
        let s = ClassShape { outer: 3, c: 3, inner: 2 };
        let x = vals(s.len(), 3);
        // Each sample's target is a distribution over the classes.
        let mut q = vec![0.0f32; s.len()];
        let raw = vals(s.len(), 4);
        for o in 0..3 {
            for i in 0..2 {
                let z: f32 = (0..3).map(|k| raw[s.at(o, k, i)].exp()).sum();
                for k in 0..3 {
                    q[s.at(o, k, i)] = raw[s.at(o, k, i)].exp() / z;
                }
            }
        }
        let w = [1.5f32, 0.5, 3.0];
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        for weight in [None, Some(&w[..])] {
            for eps in [0.0f32, 0.3] {
                for reduction in [NONE, MEAN, SUM] {
                    let g: Vec<f32> = if reduction == NONE { vals(6, 9) } else { vec![1.3] };
                    let mut probs = vec![0.0; s.len()];
                    let mut out = vec![0.0; if reduction == NONE { 6 } else { 1 }];
                    cross_entropy_prob_forward(&s, &x, &q, weight, eps, reduction, &mut probs, &mut out);
                    let losses = ref_prob(&s, &x64, &q, weight, eps as f64);
                    let want = contract(&losses, 6.0, reduction, &vec![1.0; 6]);
                    let got: f64 = if reduction == NONE { out.iter().map(|&v| v as f64).sum() } else { out[0] as f64 };
                    assert!(close(got, want, 1e-6), "forward {got} vs {want}");
                    let mut dx = vec![9.0; s.len()];
                    cross_entropy_prob_backward(&s, &probs, &q, weight, eps, reduction, &g, &mut dx);
                    let f = |xs: &[f64]| contract(&ref_prob(&s, xs, &q, weight, eps as f64), 6.0, reduction, &g);
                    check_fd(&x, &dx, &f, "cross_entropy_prob");
                }
            }
        }
    }

    #[test]
    fn pointwise_gradients_match_differences() {
        let x = [0.3f32, -0.8, 1.7, 0.05];
        let xb = [0.3f32, 0.8, 0.6, 0.05];
        let t = [0.0f32, 1.0, 1.0, 0.3];
        let w = [0.5f32, 2.0, 1.0, 3.0];
        let pw = [2.0f32, 0.5, 3.0, 1.5];
        for kind in [MSE, L1, SMOOTH_L1, HUBER, BCE, BCE_WITH_LOGITS] {
            let xs = if kind == BCE { &xb } else { &x };
            let pos = if kind == BCE_WITH_LOGITS { Some(&pw[..]) } else { None };
            for weight in [None, Some(&w[..])] {
                let ew = ElementWeights { weight, pos_weight: pos };
                let mut dx = [0.0; 4];
                pointwise_backward(kind, 0.5, xs, &t, ew, SUM, &[1.0], &mut dx);
                for i in 0..4 {
                    let h = 1e-4f64;
                    let wi = weight.map_or(1.0, |w| w[i] as f64);
                    let pwi = pos.map_or(1.0, |p| p[i] as f64);
                    let f = |v: f64| wi * point(kind, 0.5, v, t[i] as f64, pwi);
                    let num = (f(xs[i] as f64 + h) - f(xs[i] as f64 - h)) / (2.0 * h);
                    assert!(close(dx[i] as f64, num, 1e-3), "kind {kind} at {i}: {num} vs {}", dx[i]);
                }
            }
        }
    }

    #[test]
    fn bce_with_logits_pos_weight_is_the_weighted_log_likelihood() {
        // -(pw·t·log σ(x) + (1-t)·log(1-σ(x))), written plainly, for moderate x.
        let x = [0.3f32, -1.2, 2.5, -0.4];
        let t = [1.0f32, 0.0, 0.7, 0.2];
        let pw = [3.0f32, 0.5, 2.0, 1.0];
        let mut out = [0.0; 4];
        pointwise_forward(BCE_WITH_LOGITS, 0.0, &x, &t, ElementWeights { weight: None, pos_weight: Some(&pw) }, NONE, &mut out);
        for i in 0..4 {
            let sg = 1.0 / (1.0 + (-(x[i] as f64)).exp());
            let want = -(pw[i] as f64 * t[i] as f64 * sg.ln() + (1.0 - t[i] as f64) * (1.0 - sg).ln());
            assert!(close(out[i] as f64, want, 1e-6), "{i}: {} vs {want}", out[i]);
        }
        // Stable far out: no overflow to inf for |x| = 100.
        let mut o = [0.0; 1];
        pointwise_forward(BCE_WITH_LOGITS, 0.0, &[-100.0], &[1.0], ElementWeights { weight: None, pos_weight: Some(&[2.0]) }, SUM, &mut o);
        assert!(close(o[0] as f64, 200.0, 1e-6), "{}", o[0]);
    }
}
