//! Sliding-window geometry shared by convolution and pooling.

/// One axis of a sliding window: `k` taps `dilation` apart, moving by `stride` over an input
/// padded by `pad_lo` before and `pad_hi` after (PyTorch pads both sides equally except for
/// a convolution's `padding='same'`, whose odd remainder goes after).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    pub k: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_lo: usize,
    pub pad_hi: usize,
    /// Pooling's `ceil_mode`: round the count of window positions up.
    pub ceil: bool,
}

impl Axis {
    /// The span the window covers: `dilation·(k-1) + 1`.
    pub fn extent(&self) -> usize {
        self.dilation * (self.k.max(1) - 1) + 1
    }

    /// Window positions over `len` inputs (PyTorch's `pooling_output_shape` / conv
    /// formula); 0 when the window does not fit or the stride or a size is 0.
    ///
    /// Floor mode: `(len + pads - extent) / stride + 1`. Ceil mode rounds the division up,
    /// then drops the last window when it would start past the input and the left padding
    /// (`(out-1)·stride >= len + pad_lo`), so every window starts on real input or on
    /// left padding.
    pub fn out_size(&self, len: usize) -> usize {
        if self.stride == 0 || self.k == 0 || self.dilation == 0 {
            return 0;
        }
        let s = self.stride as i64;
        // Signed as in PyTorch: in ceil mode a window wider than the padded input still
        // gives one output when `stride - 1` makes up the difference.
        let room = (len + self.pad_lo + self.pad_hi) as i64 - self.extent() as i64 + if self.ceil { s - 1 } else { 0 };
        if room < 0 {
            return 0;
        }
        let mut out = room / s + 1;
        if self.ceil && (out - 1) * s >= (len + self.pad_lo) as i64 {
            out -= 1;
        }
        out as usize
    }
}

/// Floor-mode positions of a `k`-wide window (no dilation) moving by `stride` over `len`
/// padded by `pad` on both sides; 0 when the window does not fit or the stride is 0.
pub fn out_size(len: usize, pad: usize, k: usize, stride: usize) -> usize {
    Axis { k, stride, dilation: 1, pad_lo: pad, pad_hi: pad, ceil: false }.out_size(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(k: usize, stride: usize, dilation: usize, pad: usize, ceil: bool) -> Axis {
        Axis { k, stride, dilation, pad_lo: pad, pad_hi: pad, ceil }
    }

    /// PyTorch's formula written as in aten/src/ATen/native/Pool.h, in signed arithmetic.
    fn pytorch(len: i64, k: i64, s: i64, d: i64, p: i64, ceil: bool) -> i64 {
        let num = len + 2 * p - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 };
        let mut out = num.div_euclid(s) + 1;
        if ceil && (out - 1) * s >= len + p {
            out -= 1;
        }
        out.max(0)
    }

    #[test]
    fn matches_pytorch_formula() {
        assert_eq!(out_size(28, 0, 3, 1), 26);
        assert_eq!(out_size(28, 1, 3, 2), 14);
        assert_eq!(out_size(7, 1, 3, 2), 4);
        assert_eq!(out_size(2, 0, 3, 1), 0);
        assert_eq!(out_size(5, 0, 2, 0), 0);
        // Ceil mode: 5 over k 2 s 2 gives 3 windows (the last one half outside) ...
        assert_eq!(axis(2, 2, 1, 0, true).out_size(5), 3);
        // ... but never one that starts in the right padding: 5 padded by 1, k 2, s 2 would
        // have a fourth window starting at padded 6 = input index 5 (= len): dropped
        // (torch.nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5x5 gives 3x3).
        assert_eq!(axis(2, 2, 1, 1, true).out_size(5), 3);
        // Dilation 2 makes a 3-tap window 5 wide.
        assert_eq!(axis(3, 1, 2, 0, false).out_size(9), 5);
    }

    #[test]
    fn agrees_with_signed_formula_everywhere_small() {
        for len in 1..12 {
            for k in 1..5 {
                for s in 1..4 {
                    for d in 1..4 {
                        for p in 0..=k / 2 {
                            for ceil in [false, true] {
                                let want = pytorch(len, k, s, d, p, ceil);
                                let a = axis(k as usize, s as usize, d as usize, p as usize, ceil);
                                assert_eq!(a.out_size(len as usize) as i64, want, "len {len} k {k} s {s} d {d} p {p} ceil {ceil}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn asymmetric_padding_counts_both_sides() {
        // padding='same', k 4, dilation 1: total 3 = 1 before + 2 after keeps the length.
        let a = Axis { k: 4, stride: 1, dilation: 1, pad_lo: 1, pad_hi: 2, ceil: false };
        assert_eq!(a.out_size(10), 10);
    }
}
