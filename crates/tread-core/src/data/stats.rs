//! Per-channel statistics for scalers: count, mean, sum of squared deviations (M2), min and
//! max over an `[outer, c, inner]` array (per feature: inner = 1; per image channel: NCHW
//! with outer = n, inner = h·w). Accumulated in f64, two passes per task, and merged with
//! Chan's formula, so chunks of a data set can be combined too (the TS side does that).

use crate::parallel::{for_each_task, split_range, threads};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    pub count: f64,
    pub mean: f64,
    pub m2: f64,
    pub min: f32,
    pub max: f32,
}

impl Default for Moments {
    fn default() -> Self {
        Moments { count: 0.0, mean: 0.0, m2: 0.0, min: f32::INFINITY, max: f32::NEG_INFINITY }
    }
}

impl Moments {
    /// The moments of both parts together (Chan et al.).
    pub fn merge(self, o: Moments) -> Moments {
        if o.count == 0.0 {
            return self;
        }
        if self.count == 0.0 {
            return o;
        }
        let n = self.count + o.count;
        let delta = o.mean - self.mean;
        Moments {
            count: n,
            mean: self.mean + delta * (o.count / n),
            m2: self.m2 + o.m2 + delta * delta * (self.count * o.count / n),
            min: self.min.min(o.min),
            max: self.max.max(o.max),
        }
    }

    /// Population variance (ddof = 0).
    pub fn variance(&self) -> f64 {
        if self.count > 0.0 { self.m2 / self.count } else { 0.0 }
    }
}

fn moments_range(x: &[f32], a: usize, b: usize, c: usize, inner: usize) -> Vec<Moments> {
    let mut sum = vec![0f64; c];
    let mut min = vec![f32::INFINITY; c];
    let mut max = vec![f32::NEG_INFINITY; c];
    let block = c * inner;
    for o in a..b {
        let row = &x[o * block..(o + 1) * block];
        for ch in 0..c {
            let seg = &row[ch * inner..(ch + 1) * inner];
            let (mut s, mut lo, mut hi) = (0f64, min[ch], max[ch]);
            for &v in seg {
                s += v as f64;
                lo = lo.min(v);
                hi = hi.max(v);
            }
            sum[ch] += s;
            min[ch] = lo;
            max[ch] = hi;
        }
    }
    let count = ((b - a) * inner) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count.max(1.0)).collect();
    let mut m2 = vec![0f64; c];
    for o in a..b {
        let row = &x[o * block..(o + 1) * block];
        for ch in 0..c {
            let m = mean[ch];
            let mut s = 0f64;
            for &v in &row[ch * inner..(ch + 1) * inner] {
                let d = v as f64 - m;
                s += d * d;
            }
            m2[ch] += s;
        }
    }
    (0..c).map(|ch| Moments { count, mean: mean[ch], m2: m2[ch], min: min[ch], max: max[ch] }).collect()
}

/// Moments of each of the `c` channels of an `[outer, c, inner]` array.
pub fn channel_moments(x: &[f32], outer: usize, c: usize, inner: usize) -> Vec<Moments> {
    assert!(x.len() >= outer * c * inner, "channel_moments: input too short");
    if outer == 0 || c == 0 || inner == 0 {
        return vec![Moments::default(); c];
    }
    let tasks = if outer * c * inner < (1 << 16) { 1 } else { threads() };
    let parts = split_range(outer, tasks, 1);
    let partial: Vec<std::sync::Mutex<Vec<Moments>>> = parts.iter().map(|_| std::sync::Mutex::new(Vec::new())).collect();
    for_each_task(parts.len(), |t| {
        let (a, b) = parts[t];
        *partial[t].lock().unwrap() = moments_range(x, a, b, c, inner);
    });
    let mut out = vec![Moments::default(); c];
    for p in partial {
        let p = p.into_inner().unwrap();
        for ch in 0..c {
            out[ch] = out[ch].merge(p[ch]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_direct_formulas_and_merge() {
        let x: Vec<f32> = (0..3000).map(|i| ((i * 37 % 101) as f32) * 0.25 - 3.0).collect();
        // per feature: 1000 rows of 3
        let m = channel_moments(&x, 1000, 3, 1);
        for ch in 0..3 {
            let col: Vec<f64> = (0..1000).map(|r| x[r * 3 + ch] as f64).collect();
            let mean = col.iter().sum::<f64>() / 1000.0;
            let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 1000.0;
            assert!((m[ch].mean - mean).abs() < 1e-12);
            assert!((m[ch].variance() - var).abs() < 1e-10);
            assert_eq!(m[ch].min as f64, col.iter().cloned().fold(f64::INFINITY, f64::min));
        }
        let a = channel_moments(&x[..1500], 500, 3, 1);
        let b = channel_moments(&x[1500..], 500, 3, 1);
        for ch in 0..3 {
            let j = a[ch].merge(b[ch]);
            assert!((j.mean - m[ch].mean).abs() < 1e-12 && (j.m2 - m[ch].m2).abs() < 1e-8);
        }
    }
}
