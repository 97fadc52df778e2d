//! Loss functions as PyTorch computes them, in numerically stable form, each a forward that
//! reduces (`NONE`, `MEAN`, `SUM`) and a backward that takes the upstream gradient (one value,
//! or one per element for `NONE`).
//!
//! Class losses see the input as `[outer, C, inner]` (PyTorch's `[N, C, d1...]`) with one
//! int32 class index per `(outer, inner)` sample. Cross-entropy is fused: one pass computes
//! log-softmax, the NLL and label smoothing, and keeps the probabilities for its backward
//! (`dx = g·(p - q)`, q the smoothed one-hot). Samples whose target is `ignore_index` count
//! for nothing (PyTorch's mean divides by the others).

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

/// Fused cross-entropy forward. `probs` (size of x) receives softmax(x) over C; `out` gets
/// `outer·inner` losses (`NONE`) or one value. Returns the number of counted samples.
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy_forward(
    outer: usize,
    c: usize,
    inner: usize,
    x: &[f32],
    target: &[i32],
    label_smoothing: f32,
    ignore_index: i32,
    reduction: u32,
    probs: &mut [f32],
    out: &mut [f32],
) -> Result<usize, BadTarget> {
    let ns = outer * inner;
    assert!(x.len() >= ns * c && probs.len() >= ns * c && target.len() >= ns, "cross_entropy: buffers too short");
    let count = check_targets(&target[..ns], c, ignore_index)?;
    let eps = label_smoothing as f64;
    let mut total = 0.0f64;
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * c + k) * inner + i;
            let mut mx = f32::NEG_INFINITY;
            for k in 0..c {
                mx = mx.max(x[at(k)]);
            }
            let mut s = 0.0f64;
            for k in 0..c {
                let e = ((x[at(k)] - mx) as f64).exp();
                probs[at(k)] = e as f32;
                s += e;
            }
            let lse = mx as f64 + s.ln();
            let inv = 1.0 / s;
            let mut sum_logp = 0.0f64;
            for k in 0..c {
                probs[at(k)] = (probs[at(k)] as f64 * inv) as f32;
                sum_logp += x[at(k)] as f64 - lse;
            }
            let t = target[o * inner + i];
            let loss = if t == ignore_index {
                0.0
            } else {
                let nll = lse - x[at(t as usize)] as f64;
                (1.0 - eps) * nll - eps * sum_logp / c as f64
            };
            if reduction == NONE {
                out[o * inner + i] = loss as f32;
            } else {
                total += loss;
            }
        }
    }
    if reduction == MEAN {
        out[0] = (total / count as f64) as f32; // NaN for no counted sample, as PyTorch
    } else if reduction == SUM {
        out[0] = total as f32;
    }
    Ok(count)
}

/// Cross-entropy backward: `dx = g·scale·(p - (1-ε)·onehot - ε/C)`, 0 for ignored samples.
#[allow(clippy::too_many_arguments)]
pub fn cross_entropy_backward(
    outer: usize,
    c: usize,
    inner: usize,
    probs: &[f32],
    target: &[i32],
    label_smoothing: f32,
    ignore_index: i32,
    reduction: u32,
    count: usize,
    g: &[f32],
    dx: &mut [f32],
) {
    let eps = label_smoothing;
    let off = eps / c as f32;
    for o in 0..outer {
        for i in 0..inner {
            let s = o * inner + i;
            let t = target[s];
            let gs = match reduction {
                NONE => g[s],
                MEAN => g[0] / count as f32,
                _ => g[0],
            };
            for k in 0..c {
                let at = (o * c + k) * inner + i;
                dx[at] = if t == ignore_index {
                    0.0
                } else {
                    let q = if k as i32 == t { 1.0 - eps + off } else { off };
                    gs * (probs[at] - q)
                };
            }
        }
    }
}

/// NLL forward over log-probabilities `x`.
#[allow(clippy::too_many_arguments)]
pub fn nll_forward(outer: usize, c: usize, inner: usize, x: &[f32], target: &[i32], ignore_index: i32, reduction: u32, out: &mut [f32]) -> Result<usize, BadTarget> {
    let ns = outer * inner;
    assert!(x.len() >= ns * c && target.len() >= ns, "nll: buffers too short");
    let count = check_targets(&target[..ns], c, ignore_index)?;
    let mut total = 0.0f64;
    for o in 0..outer {
        for i in 0..inner {
            let t = target[o * inner + i];
            let l = if t == ignore_index { 0.0 } else { -(x[(o * c + t as usize) * inner + i] as f64) };
            if reduction == NONE {
                out[o * inner + i] = l as f32;
            } else {
                total += l;
            }
        }
    }
    if reduction == MEAN {
        out[0] = (total / count as f64) as f32;
    } else if reduction == SUM {
        out[0] = total as f32;
    }
    Ok(count)
}

/// NLL backward: `dx[target] = -g·scale`, 0 elsewhere.
#[allow(clippy::too_many_arguments)]
pub fn nll_backward(outer: usize, c: usize, inner: usize, target: &[i32], ignore_index: i32, reduction: u32, count: usize, g: &[f32], dx: &mut [f32]) {
    dx[..outer * c * inner].fill(0.0);
    for o in 0..outer {
        for i in 0..inner {
            let s = o * inner + i;
            let t = target[s];
            if t == ignore_index {
                continue;
            }
            let gs = match reduction {
                NONE => g[s],
                MEAN => g[0] / count as f32,
                _ => g[0],
            };
            dx[(o * c + t as usize) * inner + i] = -gs;
        }
    }
}

/// One element's loss (f64).
#[inline]
fn point(kind: u32, p: f64, x: f64, t: f64) -> f64 {
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
        BCE_WITH_LOGITS => x.max(0.0) - x * t + (-x.abs()).exp().ln_1p(),
        _ => f64::NAN,
    }
}

/// d(loss)/dx of one element (f32, as PyTorch's kernels).
#[inline]
fn dpoint(kind: u32, p: f32, x: f32, t: f32) -> f32 {
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
        BCE_WITH_LOGITS => 1.0 / (1.0 + (-x).exp()) - t,
        _ => f32::NAN,
    }
}

/// Element-wise loss forward: `out` has `x.len()` values (`NONE`) or one.
pub fn pointwise_forward(kind: u32, param: f32, x: &[f32], t: &[f32], reduction: u32, out: &mut [f32]) {
    let n = x.len();
    assert!(t.len() >= n, "loss: target too short");
    let p = param as f64;
    if reduction == NONE {
        for i in 0..n {
            out[i] = point(kind, p, x[i] as f64, t[i] as f64) as f32;
        }
        return;
    }
    let mut total = 0.0f64;
    for i in 0..n {
        total += point(kind, p, x[i] as f64, t[i] as f64);
    }
    out[0] = if reduction == MEAN { (total / n as f64) as f32 } else { total as f32 };
}

/// Element-wise loss backward: `dx = g·scale·dloss/dx`.
pub fn pointwise_backward(kind: u32, param: f32, x: &[f32], t: &[f32], reduction: u32, g: &[f32], dx: &mut [f32]) {
    let n = x.len();
    let scale = match reduction {
        NONE => 1.0,
        MEAN => 1.0 / n as f32,
        _ => 1.0,
    };
    for i in 0..n {
        let gi = if reduction == NONE { g[i] } else { g[0] };
        dx[i] = gi * scale * dpoint(kind, param, x[i], t[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_is_log_softmax_nll() {
        let x = [1.0f32, 2.0, 3.0, -1.0, 0.5, 0.0];
        let t = [2i32, 0];
        let mut p = [0.0; 6];
        let mut out = [0.0; 1];
        let n = cross_entropy_forward(2, 3, 1, &x, &t, 0.0, -100, MEAN, &mut p, &mut out).unwrap();
        assert_eq!(n, 2);
        let lse0 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        let lse1 = ((-1f64).exp() + 0.5f64.exp() + 1.0).ln();
        let want = ((lse0 - 3.0) + (lse1 + 1.0)) / 2.0;
        assert!((out[0] as f64 - want).abs() < 1e-6);
        let mut lp = [0.0f32; 6];
        for (i, v) in p.iter().enumerate() {
            lp[i] = v.ln();
        }
        let mut out2 = [0.0; 1];
        nll_forward(2, 3, 1, &lp, &t, -100, MEAN, &mut out2).unwrap();
        assert!((out2[0] - out[0]).abs() < 1e-6);
        let mut dx = [0.0; 6];
        cross_entropy_backward(2, 3, 1, &p, &t, 0.0, -100, MEAN, n, &[1.0], &mut dx);
        assert!(dx.iter().sum::<f32>().abs() < 1e-6);
        assert_eq!(cross_entropy_forward(2, 3, 1, &x, &[3, 0], 0.0, -100, MEAN, &mut p, &mut out), Err(BadTarget { index: 0, value: 3 }));
    }

    #[test]
    fn pointwise_gradients_match_differences() {
        let x = [0.3f32, -0.8, 1.7, 0.05];
        let xb = [0.3f32, 0.8, 0.6, 0.05];
        let t = [0.0f32, 1.0, 1.0, 0.0];
        for kind in [MSE, L1, SMOOTH_L1, HUBER, BCE, BCE_WITH_LOGITS] {
            let xs = if kind == BCE { &xb } else { &x };
            let mut dx = [0.0; 4];
            pointwise_backward(kind, 0.5, xs, &t, SUM, &[1.0], &mut dx);
            for i in 0..4 {
                let h = 1e-3f64;
                let f = |v: f64| point(kind, 0.5, v, t[i] as f64);
                let num = (f(xs[i] as f64 + h) - f(xs[i] as f64 - h)) / (2.0 * h);
                assert!((num - dx[i] as f64).abs() < 1e-3, "kind {kind} at {i}: {num} vs {}", dx[i]);
            }
        }
    }
}
