//! The data pipeline's kernels: collate (gather rows by index into a batch), batched image
//! augmentation (crop/pad, flips, translation, per-channel affine), per-channel moments for
//! scalers, and the linear algebra of PCA/ZCA whitening (covariance, symmetric eigen-
//! decomposition in f64).
//!
//! Randomness is counter-based ([`rng`]): every random decision is a hash of
//! (seed, epoch, batch, transform salt, sample, draw), so results do not depend on how the
//! batch is split over threads, nor on what was drawn before.

pub mod augment;
pub mod gather;
pub mod linalg;
pub mod rng;
pub mod stats;
