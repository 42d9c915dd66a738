//! Expressivity check of spec §2.4 **\[design\]**: the number of distinct Fourier
//! frequencies of `ℒ(θ, x + t·v)` as a function of a scalar `t`, against depth `L`.
//!
//! Deviation from the spec's wording: the spec shifts along the constant vector `v = 1`.
//! Then every Bob layer `H·diag(e^{i(x_j + t)})` only gains the global phase `e^{it}` and
//! `ℒ` does not depend on `t` at all (zero frequencies at every depth). We shift along
//! `v_j = j` instead (an integer direction, so `ℒ(t)` is a trigonometric polynomial with
//! integer frequencies at most `L·(N − 1)`), and count the frequencies by an FFT of `ℒ(t)`
//! on a grid of `M > 2·L·(N − 1)` points. The data scale is 1 (`e^{i x_j}`, as §2.4 says).

use num_complex::Complex64;

use crate::error::Result;
use crate::model::{ModelConfig, Observable};
use crate::state::MemoryBudget;

/// Relative magnitude below which a Fourier coefficient counts as zero.
pub const FREQUENCY_TOLERANCE: f64 = 1e-9;

/// Distinct non-negative frequencies `ω ≥ 0` with `|ĉ_ω| > tol·max|ĉ|` of
/// `t ↦ ℒ(θ, x + t·v)`, `v_j = j`, for the phase-encoded diagonal model with `n` qubits
/// and `L` layers (data scale 1).
///
/// # Errors
/// As [`ModelConfig::build`] and [`crate::model::Model::loss`].
///
/// # Examples
/// ```
/// use gdlab_quantum::expressivity::distinct_frequencies;
/// let theta: Vec<f64> = (0..8).map(|i| 0.3 * i as f64 + 0.1).collect();
/// let x = vec![0.2, -0.4, 0.7, 0.1];
/// // L = 1: B₁ acts on |0⟩, where diag(e^{i t v}) is the phase e^{i t·0}: ℒ is constant.
/// assert_eq!(distinct_frequencies(2, 1, &theta[..4], &x).unwrap(), 1);
/// assert!(distinct_frequencies(2, 2, &theta, &x).unwrap() > 1);
/// ```
pub fn distinct_frequencies(
    n_qubits: usize,
    n_layers: usize,
    theta: &[f64],
    x: &[f64],
) -> Result<usize> {
    let model = ModelConfig {
        n_qubits,
        n_layers,
        data_scale: 1.0,
        observable: Observable::Z0,
        ..ModelConfig::default()
    }
    .build(&MemoryBudget::bytes(1 << 30))?;
    let big_n = model.dim();
    let max_freq = n_layers * (big_n - 1);
    let grid = (2 * max_freq + 2).next_power_of_two().max(8);
    let mut values: Vec<Complex64> = Vec::with_capacity(grid);
    let mut xs = x.to_vec();
    for g in 0..grid {
        let t = 2.0 * std::f64::consts::PI * g as f64 / grid as f64;
        for (j, (xs_j, x_j)) in xs.iter_mut().zip(x).enumerate() {
            *xs_j = x_j + t * j as f64;
        }
        values.push(Complex64::new(model.loss(theta, &xs)?, 0.0));
    }
    let mut planner = rustfft::FftPlanner::<f64>::new();
    planner.plan_fft_forward(grid).process(&mut values);
    let mags: Vec<f64> = values.iter().map(|v| v.norm() / grid as f64).collect();
    let max = mags.iter().cloned().fold(0.0, f64::max);
    // ℒ is real: count ω = 0..grid/2 (ĉ_{−ω} = conj ĉ_ω)
    Ok(mags[..=grid / 2]
        .iter()
        .filter(|&&m| m > FREQUENCY_TOLERANCE * max)
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::{normal::uniform, Seed};

    #[test]
    fn frequency_count_grows_with_depth() {
        let mut rng = Seed(5).rng();
        for n in 1..=3usize {
            let big_n = 1usize << n;
            let theta: Vec<f64> = (0..4 * big_n).map(|_| 6.0 * uniform(&mut rng)).collect();
            let x: Vec<f64> = (0..big_n).map(|_| uniform(&mut rng)).collect();
            let counts: Vec<usize> = (1..=4)
                .map(|l| distinct_frequencies(n, l, &theta[..l * big_n], &x).unwrap())
                .collect();
            for w in counts.windows(2).skip(1) {
                assert!(w[1] > w[0], "n={n}: {counts:?}");
            }
            // frequencies are bounded by (L − 1)(N − 1) + 1 distinct values (B₁ acts on |0⟩)
            for (l, &c) in counts.iter().enumerate() {
                assert!(c <= l * (big_n - 1) + 1, "n={n} L={}: {c}", l + 1);
            }
        }
    }
}
