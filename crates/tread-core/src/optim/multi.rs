//! Multi-tensor steps (PyTorch's `foreach`): one call for a whole parameter group.
//!
//! A training step of a small model is many small tensors (a 784x256 weight beside a
//! 256-element bias): one call per tensor pays a JS-to-wasm crossing per tensor, and the
//! thread split of `par_chunks` sees one tensor at a time, so tensors below its threshold run
//! on one thread while the other waits. Here the elements of all the group's tensors are cut
//! into chunks (`chunks`), and the threads claim chunks across tensor boundaries.
//!
//! Every step kernel is element-wise, so running it on a sub-range `s..e` of a tensor is the
//! kernel on the sub-slices: the results are bit-identical to one call per tensor, whatever
//! the split (tests below and in the wasm tests).

use crate::parallel;

use super::PAR_MIN;

/// Chunks `(tensor, start, end)` covering every element of tensors of lengths `lens` once,
/// in order. With one thread, or too little work to pay for a hand-off, one chunk per
/// tensor; otherwise the group's elements, laid end to end (each tensor padded to 16), are
/// cut by `parallel::split_guided` into pieces that shrink towards the end, down to
/// `PAR_MIN / 4` elements, so the threads finish together; chunks start on multiples of 16
/// elements of their tensor.
pub fn chunks(lens: &[usize], threads: usize) -> Vec<(usize, usize, usize)> {
    let total: usize = lens.iter().sum();
    if threads <= 1 || total < 2 * PAR_MIN {
        return lens.iter().enumerate().filter(|(_, &n)| n > 0).map(|(t, &n)| (t, 0, n)).collect();
    }
    let padded: usize = lens.iter().map(|n| n.next_multiple_of(16)).sum();
    let cuts = parallel::split_guided(padded, threads, 16, PAR_MIN / 4);
    let mut out = Vec::with_capacity(lens.len() + cuts.len());
    let (mut t, mut base) = (0, 0); // the tensor at the cursor and its offset in the padded line
    for (a, b) in cuts {
        let mut a = a;
        while a < b && t < lens.len() {
            let end = base + lens[t].next_multiple_of(16);
            let e = b.min(end);
            if a - base < lens[t] {
                out.push((t, a - base, (e - base).min(lens[t])));
            }
            a = e;
            if e == end {
                base = end;
                t += 1;
            }
        }
    }
    out
}

/// Runs `f(tensor, start, end)` over the chunks of `lens`, split over the active threads.
/// Inside a chunk `parallel::threads()` is 1, so a per-tensor kernel called there does not
/// split again.
pub fn for_each_chunk<F: Fn(usize, usize, usize) + Sync + Send>(lens: &[usize], f: F) {
    let c = chunks(lens, parallel::threads());
    parallel::for_each_task(c.len(), |i| {
        let (t, s, e) = c[i];
        f(t, s, e)
    });
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{adam, one_minus, sgd};
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn chunks_cover_every_element_once() {
        for threads in [1, 2, 3, 8] {
            for lens in [vec![], vec![0], vec![5], vec![200_704, 256, 32_768, 128, 1280, 10], vec![70_003, 0, 3, 100_000], vec![1 << 20]] {
                let c = chunks(&lens, threads);
                let mut next = vec![0usize; lens.len()];
                for &(t, s, e) in &c {
                    assert_eq!(s, next[t], "threads {threads} lens {lens:?}: gap or overlap in tensor {t}");
                    assert!(e > s);
                    assert!(e == lens[t] || (e - s) % 16 == 0, "chunk not a multiple of 16");
                    next[t] = e;
                }
                assert_eq!(next, lens);
                let total: usize = lens.iter().sum();
                if threads > 1 && total >= 2 * PAR_MIN {
                    assert!(c.len() > lens.iter().filter(|&&n| n > 0).count(), "no tensor was split");
                    // Guided: the last chunk is a small one, not a 2·threads-th of the group.
                    let &(t, s, e) = c.last().unwrap();
                    assert!(e - s <= (PAR_MIN / 4).max(lens[t] % 16 + 16), "threads {threads} lens {lens:?}: last chunk {s}..{e}");
                }
            }
        }
    }

    /// Adam and SGD stepped through chunks equal the per-tensor reference bit for bit.
    #[test]
    fn chunked_steps_equal_per_tensor_references() {
        let _settings = crate::parallel::test_settings_lock();
        let lens = [200_704usize, 256, 32_768, 128, 1280, 10, 3];
        let h = adam::AdamHp { beta1: 0.9, beta2: 0.999, one_minus_beta1: one_minus(0.9), one_minus_beta2: one_minus(0.999), eps: 1e-8, weight_decay: 0.01, decay: 1.0, step_size: 0.01 / 0.19, bc2_sqrt: 0.0019f32.sqrt(), flags: 0 };
        let sh = sgd::SgdHp { lr: 0.1, momentum: 0.9, dampening: 0.0, one_minus_dampening: 1.0, weight_decay: 1e-4, flags: super::super::NESTEROV };
        for threads in [1, 2, 3] {
            crate::parallel::set_threads(threads);
            let mk = |k: u32| -> Vec<Mutex<Vec<f32>>> { lens.iter().enumerate().map(|(i, &n)| Mutex::new(data(n, k * 100 + i as u32))).collect() };
            let (p, g, m) = (mk(1), mk(2), mk(3));
            let v: Vec<Mutex<Vec<f32>>> = lens.iter().enumerate().map(|(i, &n)| Mutex::new(pos(n, 400 + i as u32))).collect();
            let (p0, m0, v0): (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<Vec<f32>>) =
                (p.iter().map(|x| x.lock().unwrap().clone()).collect(), m.iter().map(|x| x.lock().unwrap().clone()).collect(), v.iter().map(|x| x.lock().unwrap().clone()).collect());
            for_each_chunk(&lens, |t, s, e| {
                // Each chunk locks its tensor only to get at it; chunks of one tensor are disjoint.
                let (mut pp, gg, mut mm, mut vv) = (p[t].lock().unwrap(), g[t].lock().unwrap(), m[t].lock().unwrap(), v[t].lock().unwrap());
                adam::step(&mut pp[s..e], &gg[s..e], &mut mm[s..e], &mut vv[s..e], None, &h);
            });
            for t in 0..lens.len() {
                let (mut pr, mut mr, mut vr) = (p0[t].clone(), m0[t].clone(), v0[t].clone());
                adam::step_ref(&mut pr, &g[t].lock().unwrap(), &mut mr, &mut vr, None, &h);
                assert!(pr == *p[t].lock().unwrap() && mr == *m[t].lock().unwrap() && vr == *v[t].lock().unwrap(), "adam tensor {t} threads {threads}");
            }
            let p1: Vec<Vec<f32>> = p.iter().map(|x| x.lock().unwrap().clone()).collect();
            for_each_chunk(&lens, |t, s, e| {
                let (mut pp, gg, mut bb) = (p[t].lock().unwrap(), g[t].lock().unwrap(), m[t].lock().unwrap());
                sgd::step(&mut pp[s..e], &gg[s..e], Some(&mut bb[s..e]), &sh);
            });
            for t in 0..lens.len() {
                let (mut pr, mut br) = (p1[t].clone(), m0[t].clone());
                // m was updated by the Adam pass above: replay it for the reference.
                let mut vr = v0[t].clone();
                let mut pa = p0[t].clone();
                adam::step_ref(&mut pa, &g[t].lock().unwrap(), &mut br, &mut vr, None, &h);
                sgd::step_ref(&mut pr, &g[t].lock().unwrap(), Some(&mut br), &sh);
                assert!(pr == *p[t].lock().unwrap() && br == *m[t].lock().unwrap(), "sgd tensor {t} threads {threads}");
            }
        }
        crate::parallel::set_threads(1);
    }
}
