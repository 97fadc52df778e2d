//! Collate: gathers rows of a data set by index straight into a batch buffer.
//!
//! A data set is a row-major array of `rows × row_len` elements; a batch is the rows named by
//! `idx`, in order. Byte data (images) is widened to f32 and scaled on the way
//! (`ToTensor`-style `1/255`). Work is split over threads by rows when the batch is large
//! enough for that to pay.

use crate::parallel::{for_each_task, split_range, threads, SharedMut};

/// Below this many elements a batch is gathered on the calling thread: waking the pool
/// costs more than copying a batch of 128 MNIST images (measured by bench/data.ts).
const PARALLEL_MIN: usize = 1 << 19;

/// The first position whose index is outside `0..rows`, if any.
pub fn check_indices(idx: &[i32], rows: usize) -> Result<(), usize> {
    match idx.iter().position(|&i| i < 0 || i as usize >= rows) {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

fn tasks_for(count: usize, row_len: usize) -> usize {
    let total = count * row_len;
    if total < PARALLEL_MIN {
        1
    } else {
        threads().min(total / (PARALLEL_MIN / 2)).max(1)
    }
}

/// Generic row gather over `f(src_row, dst_row)`.
fn gather_with<S: Sync, D: Send, F>(src: &[S], row_len: usize, idx: &[i32], dst: &mut [D], f: F) -> Result<(), usize>
where
    F: Fn(&[S], &mut [D]) + Sync + Send,
{
    let rows = if row_len == 0 { usize::MAX } else { src.len() / row_len };
    check_indices(idx, rows)?;
    assert!(dst.len() >= idx.len() * row_len, "gather: destination too short");
    if row_len == 0 || idx.is_empty() {
        return Ok(());
    }
    let parts = split_range(idx.len(), tasks_for(idx.len(), row_len), 1);
    let out = SharedMut(dst.as_mut_ptr());
    for_each_task(parts.len(), |t| {
        let (a, b) = parts[t];
        // SAFETY: tasks write disjoint row ranges [a, b) of dst.
        let d = unsafe { out.slice(a * row_len, (b - a) * row_len) };
        for (k, &i) in idx[a..b].iter().enumerate() {
            let s = &src[i as usize * row_len..(i as usize + 1) * row_len];
            f(s, &mut d[k * row_len..(k + 1) * row_len]);
        }
    });
    Ok(())
}

/// Rows of 4-byte elements (f32 or i32, copied as bits). Err(position of a bad index).
pub fn gather_rows_u32(src: &[u32], row_len: usize, idx: &[i32], dst: &mut [u32]) -> Result<(), usize> {
    gather_with(src, row_len, idx, dst, |s, d| d.copy_from_slice(s))
}

/// Rows of bytes, widened to f32 and multiplied by `scale`. Err(position of a bad index).
pub fn gather_rows_u8_f32(src: &[u8], row_len: usize, idx: &[i32], scale: f32, dst: &mut [f32]) -> Result<(), usize> {
    gather_with(src, row_len, idx, dst, |s, d| {
        for (o, &v) in d.iter_mut().zip(s) {
            *o = v as f32 * scale;
        }
    })
}

/// Bytes widened to f32 and scaled, element-wise (a whole data set at once).
pub fn u8_to_f32(src: &[u8], scale: f32, dst: &mut [f32]) {
    let n = src.len().min(dst.len());
    let parts = split_range(n, tasks_for(n, 1), 4096);
    let out = SharedMut(dst.as_mut_ptr());
    for_each_task(parts.len(), |t| {
        let (a, b) = parts[t];
        let d = unsafe { out.slice(a, b - a) };
        for (o, &v) in d.iter_mut().zip(&src[a..b]) {
            *o = v as f32 * scale;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_rows_in_index_order() {
        let src: Vec<u32> = (0..12).collect();
        let mut dst = vec![0u32; 9];
        gather_rows_u32(&src, 3, &[3, 0, 3], &mut dst).unwrap();
        assert_eq!(dst, vec![9, 10, 11, 0, 1, 2, 9, 10, 11]);
        assert_eq!(gather_rows_u32(&src, 3, &[0, 4], &mut dst), Err(1));
        assert_eq!(gather_rows_u32(&src, 3, &[-1], &mut dst), Err(0));
    }

    #[test]
    fn widens_and_scales_bytes() {
        let src: Vec<u8> = (0..=255).collect();
        let mut dst = vec![0f32; 256];
        gather_rows_u8_f32(&src, 128, &[1, 0], 0.5, &mut dst).unwrap();
        assert_eq!(dst[0], 64.0);
        assert_eq!(dst[128], 0.0);
        assert_eq!(dst[255], 63.5);
    }

    #[test]
    fn large_gathers_match_on_any_thread_count() {
        let _settings = crate::parallel::test_settings_lock();
        let rows = 1000;
        let row_len = 784;
        let src: Vec<u8> = (0..rows * row_len).map(|i| (i * 31 % 251) as u8).collect();
        let idx: Vec<i32> = (0..1000).map(|i| (i * 7919 % rows) as i32).collect();
        assert!(idx.len() * row_len >= PARALLEL_MIN);
        let mut a = vec![0f32; 1000 * row_len];
        crate::parallel::set_threads(1);
        gather_rows_u8_f32(&src, row_len, &idx, 1.0 / 255.0, &mut a).unwrap();
        let mut b = vec![0f32; 1000 * row_len];
        crate::parallel::set_threads(4);
        gather_rows_u8_f32(&src, row_len, &idx, 1.0 / 255.0, &mut b).unwrap();
        crate::parallel::set_threads(1);
        assert_eq!(a, b);
        assert_eq!(a[row_len * 3 + 5], src[idx[3] as usize * row_len + 5] as f32 * (1.0f32 / 255.0));
    }
}
