//! Batched image augmentation over NCHW batches (`n × c × h × w`, f32, row-major), in the
//! style of torchvision's transforms but on a whole batch per call, parallel over samples.
//!
//! Every random choice for sample `s` comes from [`BatchKey`] (seed, epoch, batch, salt) and
//! `s`, so a batch comes out the same on any number of threads. Draw numbers: crop/translate
//! use draws 0 (rows) and 1 (columns); flips use draw 0.

use super::rng::BatchKey;
use crate::parallel::{for_each_task, split_range, threads, SharedMut};

/// Below this many output elements a batch runs on the calling thread (pool wake-up costs
/// more than a batch of 128 MNIST images; see bench/data.ts).
const PARALLEL_MIN: usize = 1 << 18;

/// The shape of an NCHW batch.
#[derive(Clone, Copy, Debug)]
pub struct Nchw {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Nchw {
    pub fn len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn plane(&self) -> usize {
        self.h * self.w
    }
}

/// How one sample is placed: `out(y, x) = src(y + oy, x + ox)` (after the flips map the
/// output coordinate), `fill` outside the source.
#[derive(Clone, Copy, Debug, Default)]
pub struct Placement {
    pub oy: isize,
    pub ox: isize,
    pub hflip: bool,
    pub vflip: bool,
}

/// Writes one channel plane of size `oh × ow` from a source plane `h × w`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn place_plane(src: &[f32], h: usize, w: usize, dst: &mut [f32], oh: usize, ow: usize, p: Placement, fill: f32) {
    // Output columns x whose source column x + ox (before the flip) lies in 0..w.
    let x0 = (-p.ox).clamp(0, ow as isize) as usize;
    let x1 = (w as isize - p.ox).clamp(x0 as isize, ow as isize) as usize;
    for y in 0..oh {
        let yy = if p.vflip { oh - 1 - y } else { y };
        let row = &mut dst[y * ow..(y + 1) * ow];
        let sy = yy as isize + p.oy;
        if sy < 0 || sy >= h as isize || x0 >= x1 {
            row.fill(fill);
            continue;
        }
        let srow = &src[sy as usize * w..(sy as usize + 1) * w];
        let sx0 = (x0 as isize + p.ox) as usize;
        let seg = &srow[sx0..sx0 + (x1 - x0)];
        if !p.hflip {
            row[..x0].fill(fill);
            row[x0..x1].copy_from_slice(seg);
            row[x1..].fill(fill);
        } else {
            // out(y, x) = unflipped(y, ow-1-x): unflipped columns x0..x1 land at ow-x1..ow-x0.
            let (a, b) = (ow - x1, ow - x0);
            row[..a].fill(fill);
            for (o, &v) in row[a..b].iter_mut().zip(seg.iter().rev()) {
                *o = v;
            }
            row[b..].fill(fill);
        }
    }
}

/// Applies `placement(s)` to every sample: `src` has shape `s`, `dst` is `n × c × oh × ow`.
pub fn place_batch<P>(src: &[f32], s: Nchw, dst: &mut [f32], oh: usize, ow: usize, fill: f32, placement: P)
where
    P: Fn(usize) -> Placement + Sync + Send,
{
    assert!(src.len() >= s.len(), "augment: source too short");
    let out_len = s.n * s.c * oh * ow;
    assert!(dst.len() >= out_len, "augment: destination too short");
    if out_len == 0 {
        return;
    }
    let tasks = if out_len < PARALLEL_MIN { 1 } else { threads() };
    let parts = split_range(s.n, tasks, 1);
    let out = SharedMut(dst.as_mut_ptr());
    let (in_img, out_img) = (s.c * s.plane(), s.c * oh * ow);
    for_each_task(parts.len(), |t| {
        let (a, b) = parts[t];
        // SAFETY: tasks write disjoint sample ranges.
        let d = unsafe { out.slice(a * out_img, (b - a) * out_img) };
        for i in a..b {
            let p = placement(i);
            for ch in 0..s.c {
                let sp = &src[i * in_img + ch * s.plane()..i * in_img + (ch + 1) * s.plane()];
                let off = (i - a) * out_img + ch * oh * ow;
                place_plane(sp, s.h, s.w, &mut d[off..off + oh * ow], oh, ow, p, fill);
            }
        }
    });
}

/// torchvision's `RandomCrop(size, padding)`: pads by `pad` with `fill`, then takes an
/// `oh × ow` window at a uniform random position (top in `0..=h+2pad-oh`, left likewise).
pub fn random_crop(src: &[f32], s: Nchw, dst: &mut [f32], oh: usize, ow: usize, pad: usize, fill: f32, key: BatchKey) {
    assert!(s.h + 2 * pad >= oh && s.w + 2 * pad >= ow, "random_crop: crop larger than the padded image");
    let (ry, rx) = ((s.h + 2 * pad - oh + 1) as u32, (s.w + 2 * pad - ow + 1) as u32);
    place_batch(src, s, dst, oh, ow, fill, |i| Placement {
        oy: key.below(i, 0, ry) as isize - pad as isize,
        ox: key.below(i, 1, rx) as isize - pad as isize,
        ..Default::default()
    });
}

/// Shifts every image by a uniform integer (dy, dx) with |dy| <= max_dy, |dx| <= max_dx;
/// pixels shifted in are `fill`. (torchvision's RandomAffine(0, translate) on whole pixels.)
pub fn random_translate(src: &[f32], s: Nchw, dst: &mut [f32], max_dy: usize, max_dx: usize, fill: f32, key: BatchKey) {
    let (ry, rx) = ((2 * max_dy + 1) as u32, (2 * max_dx + 1) as u32);
    place_batch(src, s, dst, s.h, s.w, fill, |i| Placement {
        // out(y, x) = src(y - dy, x - dx)
        oy: max_dy as isize - key.below(i, 0, ry) as isize,
        ox: max_dx as isize - key.below(i, 1, rx) as isize,
        ..Default::default()
    });
}

/// Mirrors each image left-right (`horizontal`) or top-bottom with probability `p`.
pub fn random_flip(src: &[f32], s: Nchw, dst: &mut [f32], p: f64, horizontal: bool, key: BatchKey) {
    place_batch(src, s, dst, s.h, s.w, 0.0, |i| {
        let f = key.bernoulli(i, 0, p);
        Placement { hflip: horizontal && f, vflip: !horizontal && f, ..Default::default() }
    });
}

/// `dst = (src - sub[ch]) * mul[ch]` over a `[outer, c, inner]` array: Normalize (per
/// channel), scalers (per feature: inner = 1) and ToTensor-style scaling (c = 1).
pub fn channel_affine(src: &[f32], outer: usize, c: usize, inner: usize, sub: &[f32], mul: &[f32], dst: &mut [f32]) {
    let len = outer * c * inner;
    assert!(src.len() >= len && dst.len() >= len, "channel_affine: buffers too short");
    assert!(sub.len() >= c && mul.len() >= c, "channel_affine: parameters too short");
    if len == 0 {
        return;
    }
    let tasks = if len < PARALLEL_MIN { 1 } else { threads() };
    let parts = split_range(outer, tasks, 1);
    let out = SharedMut(dst.as_mut_ptr());
    let block = c * inner;
    for_each_task(parts.len(), |t| {
        let (a, b) = parts[t];
        let d = unsafe { out.slice(a * block, (b - a) * block) };
        let s = &src[a * block..b * block];
        if inner == 1 {
            for (dr, sr) in d.chunks_exact_mut(c).zip(s.chunks_exact(c)) {
                for j in 0..c {
                    dr[j] = (sr[j] - sub[j]) * mul[j];
                }
            }
        } else {
            for (dr, sr) in d.chunks_exact_mut(inner).zip(s.chunks_exact(inner)).enumerate().map(|(k, (x, y))| ((k % c, x), y)) {
                let (ch, dr) = dr;
                let (m, k) = (sub[ch], mul[ch]);
                for (o, &v) in dr.iter_mut().zip(sr) {
                    *o = (v - m) * k;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(h: usize, w: usize) -> Vec<f32> {
        (0..h * w).map(|i| (i + 1) as f32).collect()
    }

    #[test]
    fn placement_pads_with_fill_and_flips_exactly() {
        let s = Nchw { n: 1, c: 1, h: 3, w: 4 };
        let src = img(3, 4);
        let mut dst = vec![9.0; 12];
        place_batch(&src, s, &mut dst, 3, 4, 0.0, |_| Placement { oy: -1, ox: 1, ..Default::default() });
        assert_eq!(dst, vec![0., 0., 0., 0., 2., 3., 4., 0., 6., 7., 8., 0.]);
        place_batch(&src, s, &mut dst, 3, 4, 0.0, |_| Placement { hflip: true, ..Default::default() });
        assert_eq!(dst, vec![4., 3., 2., 1., 8., 7., 6., 5., 12., 11., 10., 9.]);
        place_batch(&src, s, &mut dst, 3, 4, 0.0, |_| Placement { vflip: true, ..Default::default() });
        assert_eq!(dst, vec![9., 10., 11., 12., 5., 6., 7., 8., 1., 2., 3., 4.]);
        // shifted then mirrored
        place_batch(&src, s, &mut dst, 3, 4, -1.0, |_| Placement { oy: 0, ox: 1, hflip: true, vflip: false });
        assert_eq!(dst, vec![-1., 4., 3., 2., -1., 8., 7., 6., -1., 12., 11., 10.]);
        // entirely outside
        place_batch(&src, s, &mut dst, 3, 4, 0.5, |_| Placement { oy: 0, ox: 9, ..Default::default() });
        assert!(dst.iter().all(|&v| v == 0.5));
    }

    #[test]
    fn crop_positions_cover_the_padded_range_uniformly() {
        // A single marked pixel at (0,0); its position in the 4x4 crop of a 4x4 image padded
        // by 2 is (pad - top, pad - left) when inside.
        let s = Nchw { n: 5000, c: 1, h: 4, w: 4 };
        let mut src = vec![0f32; s.len()];
        for i in 0..s.n {
            src[i * 16] = 1.0;
        }
        let mut dst = vec![0f32; s.len()];
        random_crop(&src, s, &mut dst, 4, 4, 2, 0.0, BatchKey::new(7, 0, 0, 0));
        let mut seen = [0usize; 16];
        for i in 0..s.n {
            if let Some(p) = dst[i * 16..(i + 1) * 16].iter().position(|&v| v == 1.0) {
                seen[p] += 1;
            }
        }
        // Marker visible when top<=2 and left<=2: 9 of 25 positions, each ~1/25.
        let visible: usize = seen.iter().sum();
        assert!((visible as f64 / 5000.0 - 9.0 / 25.0).abs() < 0.03, "{visible}");
        for y in 0..3 {
            for x in 0..3 {
                assert!(seen[y * 4 + x] > 120, "{seen:?}");
            }
        }
    }

    #[test]
    fn same_result_on_any_thread_count() {
        let _settings = crate::parallel::test_settings_lock();
        let s = Nchw { n: 256, c: 3, h: 32, w: 32 };
        let src: Vec<f32> = (0..s.len()).map(|i| (i % 97) as f32).collect();
        let mut a = vec![0f32; 256 * 3 * 28 * 28];
        assert!(a.len() >= PARALLEL_MIN);
        let mut b = a.clone();
        crate::parallel::set_threads(1);
        random_crop(&src, s, &mut a, 28, 28, 2, 0.0, BatchKey::new(3, 1, 2, 0));
        crate::parallel::set_threads(4);
        random_crop(&src, s, &mut b, 28, 28, 2, 0.0, BatchKey::new(3, 1, 2, 0));
        crate::parallel::set_threads(1);
        assert_eq!(a, b);
    }

    #[test]
    fn affine_per_channel() {
        let src = vec![1., 2., 3., 4., 5., 6., 7., 8.];
        let mut dst = vec![0f32; 8];
        channel_affine(&src, 2, 2, 2, &[1., 2.], &[2., 0.5], &mut dst);
        assert_eq!(dst, vec![0., 2., 0.5, 1., 8., 10., 2.5, 3.]);
        channel_affine(&src, 4, 2, 1, &[1., 2.], &[2., 0.5], &mut dst);
        assert_eq!(dst, vec![0., 0., 4., 1., 8., 2., 12., 3.]);
    }
}
