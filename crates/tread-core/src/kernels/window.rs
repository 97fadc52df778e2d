//! Sliding-window geometry shared by convolution and pooling.

/// Positions of a `k`-wide window moving by `stride` over `len` padded by `pad` on both
/// sides (PyTorch's floor formula); 0 when the window does not fit or the stride is 0.
pub fn out_size(len: usize, pad: usize, k: usize, stride: usize) -> usize {
    let span = len + 2 * pad;
    if span < k || stride == 0 {
        0
    } else {
        (span - k) / stride + 1
    }
}

#[cfg(test)]
mod tests {
    use super::out_size;

    #[test]
    fn matches_pytorch_formula() {
        assert_eq!(out_size(28, 0, 3, 1), 26);
        assert_eq!(out_size(28, 1, 3, 2), 14);
        assert_eq!(out_size(7, 1, 3, 2), 4);
        assert_eq!(out_size(2, 0, 3, 1), 0);
        assert_eq!(out_size(5, 0, 2, 0), 0);
    }
}
