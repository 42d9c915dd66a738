//! Classical protocols for the linear case (spec §2.3): no exponential advantage there.
//!
//! For `ℒ = ⟨w, x⟩` with unit vectors, a public-coin SimHash sketch needs only `k` bits,
//! independent of `N` **\[design\]** (the paper shows that the advantage cannot hold for
//! linear classification **\[abstract v2\]**; its own classical protocol is unverified):
//! Bob sends `sign⟨r_i, x⟩` for `k` shared random vectors `r_i`; Alice compares with
//! `sign⟨r_i, w⟩`; with agreement fraction `p` the angle is `π(1 − p)` and the estimate
//! `cos(π(1 − p))` has error `O(1/√k)`.
//!
//! Two sketches:
//! - [`Sketch::Gaussian`]: i.i.d. Gaussian `r_i` (classic SimHash, Charikar 2002).
//! - [`Sketch::Structured`] (the study's default, spec §5.1 Part A step 5): per block,
//!   random sign flips `D`, then the Walsh–Hadamard transform `H`, then the first rows of a
//!   random permutation; `⌈k/N⌉` independent blocks when `k > N`. `O(N log N)` per block
//!   instead of `O(kN)`.

use gdlab_core::{normal::fill_normals, normal::uniform, ConfigError, GdRng, Seed};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::protocol::{CommunicationReport, CountBasis};
use crate::state::fwht_real;

/// Which shared random projections the sketch uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sketch {
    /// i.i.d. standard Gaussian vectors.
    Gaussian,
    /// Sign flips + Walsh–Hadamard + random coordinate subset, per block.
    #[default]
    Structured,
}

/// The result of one SimHash run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimHashEstimate {
    /// `cos(π(1 − p))`.
    pub estimate: f64,
    /// Fraction of agreeing signs `p`.
    pub agreement: f64,
    /// What was sent: `k` classical bits, one message.
    pub communication: CommunicationReport,
}

/// The `k` sign bits of `x` under the shared randomness of `seed` (Bob's message).
///
/// # Errors
/// [`ConfigError`] for `k = 0`, an empty vector, a length that is not a power of two
/// (structured sketch only), or non-finite entries.
pub fn sign_sketch(x: &[f64], k: usize, sketch: Sketch, seed: Seed) -> Result<Vec<bool>> {
    if k == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "k",
            value: 0,
            allowed: "≥ 1",
        }
        .into());
    }
    if x.is_empty() || x.iter().any(|v| !v.is_finite()) {
        return Err(ConfigError::Invalid {
            field: "x".into(),
            reason: "must be non-empty and finite".into(),
        }
        .into());
    }
    let n = x.len();
    match sketch {
        Sketch::Gaussian => {
            let mut r = vec![0.0; n];
            let mut out = Vec::with_capacity(k);
            for i in 0..k {
                let mut rng = seed.derive("simhash-gaussian").index(i as u64).rng();
                fill_normals(&mut rng, &mut r);
                let dot: f64 = r.iter().zip(x).map(|(a, b)| a * b).sum();
                out.push(dot >= 0.0);
            }
            Ok(out)
        }
        Sketch::Structured => {
            if !n.is_power_of_two() {
                return Err(ConfigError::Invalid {
                    field: "x".into(),
                    reason: format!("the structured sketch needs a power-of-two length, got {n}"),
                }
                .into());
            }
            let blocks = k.div_ceil(n);
            let mut out = Vec::with_capacity(k);
            let mut y = vec![0.0; n];
            for b in 0..blocks {
                let mut rng = seed.derive("simhash-structured").index(b as u64).rng();
                for (yi, xi) in y.iter_mut().zip(x) {
                    *yi = if uniform(&mut rng) < 0.5 { -*xi } else { *xi };
                }
                fwht_real(&mut y);
                let take = (k - out.len()).min(n);
                for idx in partial_permutation(n, take, &mut rng) {
                    out.push(y[idx] >= 0.0);
                }
            }
            Ok(out)
        }
    }
}

/// The first `take` entries of a uniform random permutation of `0..n` (partial
/// Fisher–Yates).
fn partial_permutation(n: usize, take: usize, rng: &mut GdRng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in 0..take.min(n) {
        let j = i + ((uniform(rng) * (n - i) as f64) as usize).min(n - i - 1);
        p.swap(i, j);
    }
    p.truncate(take);
    p
}

/// SimHash estimate of `⟨w, x⟩/(‖w‖‖x‖)` from `k` shared sign bits (spec §2.3).
///
/// # Errors
/// As [`sign_sketch`], plus [`ConfigError::Dim`] when `w` and `x` differ in length.
///
/// # Examples
/// ```
/// use gdlab_core::Seed;
/// use gdlab_quantum::classical::{simhash_inner_product, Sketch};
/// let w = vec![1.0, 0.0, 0.0, 0.0];
/// let x = vec![1.0, 1.0, 0.0, 0.0]; // cosine 1/√2
/// let est = simhash_inner_product(&w, &x, 4096, Sketch::Gaussian, Seed(1)).unwrap();
/// assert!((est.estimate - 0.5f64.sqrt()).abs() < 0.1);
/// assert_eq!(est.communication.classical_bits, 4096);
/// ```
pub fn simhash_inner_product(
    w: &[f64],
    x: &[f64],
    k: usize,
    sketch: Sketch,
    seed: Seed,
) -> Result<SimHashEstimate> {
    if w.len() != x.len() {
        return Err(ConfigError::Dim {
            op: "simhash_inner_product",
            expected: w.len(),
            got: x.len(),
        }
        .into());
    }
    let bob = sign_sketch(x, k, sketch, seed)?;
    let alice = sign_sketch(w, k, sketch, seed)?;
    let agree = bob.iter().zip(&alice).filter(|(a, b)| a == b).count();
    let p = agree as f64 / k as f64;
    Ok(SimHashEstimate {
        estimate: (std::f64::consts::PI * (1.0 - p)).cos(),
        agreement: p,
        communication: CommunicationReport {
            protocol: format!("classical SimHash sketch ({sketch:?}, k = {k})"),
            qubits: 0,
            classical_bits: k as u64,
            rounds: 1,
            copies: 1,
            basis: CountBasis::Exact,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(n: usize, rng: &mut GdRng) -> Vec<f64> {
        let mut v = vec![0.0; n];
        fill_normals(rng, &mut v);
        let s = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.iter_mut().for_each(|a| *a /= s);
        v
    }

    #[test]
    fn both_sketches_estimate_the_cosine() {
        let mut rng = Seed(2).rng();
        for sketch in [Sketch::Gaussian, Sketch::Structured] {
            for n in [64usize, 256] {
                let mut fails = 0;
                for t in 0..40u64 {
                    let w = unit(n, &mut rng);
                    let x = unit(n, &mut rng);
                    let truth: f64 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
                    let e = simhash_inner_product(&w, &x, 2048, sketch, Seed(t)).unwrap();
                    if (e.estimate - truth).abs() > 0.1 {
                        fails += 1;
                    }
                }
                // error std ≈ π·sin(θ)·√(p(1−p)/k) ≤ 0.035: 0.1 is ~3σ
                assert!(fails <= 2, "{sketch:?} n={n}: {fails} of 40 beyond 0.1");
            }
        }
    }

    #[test]
    fn identical_vectors_agree_fully() {
        let x = vec![0.3, -0.2, 0.5, 0.1, 0.0, 0.9, -0.4, 0.2];
        let e = simhash_inner_product(&x, &x, 100, Sketch::Structured, Seed(0)).unwrap();
        assert_eq!(e.agreement.to_bits(), 1.0f64.to_bits());
        assert!(simhash_inner_product(&x, &x[..4], 10, Sketch::Structured, Seed(0)).is_err());
        assert!(sign_sketch(&x[..3], 10, Sketch::Structured, Seed(0)).is_err());
        assert!(sign_sketch(&x, 0, Sketch::Gaussian, Seed(0)).is_err());
    }
}
