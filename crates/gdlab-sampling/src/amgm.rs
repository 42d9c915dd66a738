//! The AM-GM counterexample family and the derived learning task.
//!
//! * [`counterexample_family`]: PSD matrices `A_1, …, A_n` (spec §2.1) whose arithmetic
//!   mean is `I`, so `‖E_WR‖ = 1`, while `‖E_RR‖ > 1` for `n ≥ 5`: random reshuffling's
//!   expected epoch operator is *larger* than with-replacement sampling's, contradicting
//!   the Recht–Ré operator AM-GM conjecture.
//! * [`learning_task_steps`]: the SGD steps `C_k = I − α H_k`, `H_k = I − A_k/2`, of the
//!   **derived** noiseless-quadratic benchmark of spec §2.3b (not the paper's task).
//! * [`shift_by_identity`]: `A_k + cI`, which removes the counterexample for large enough `c`.
//! * [`ones_split`]: the two eigenvalues of a permutation-invariant matrix
//!   `a(I − J/d) + b(J/d)`, the shape of every operator built from the family.
//!
//! # Provenance
//!
//! The `n = 5` matrices (`(y_k)_k = 2/5`, `(y_k)_i = −1/10`) are the instance attributed to
//! De Sa (2020) by a third-party exact replay; the scaling `1/√(n−1)` for `n ≠ 5` is the
//! spec's **\[inferred\]** family, not the paper's (its general-`n` construction was not
//! recovered). Numbers for `n ≠ 5` are this family's, not the paper's.

use gdlab_core::linalg::{identity, Matrix};
use serde::{Deserialize, Serialize};

use crate::epoch::{check_matrices, check_square};
use crate::error::{Result, SamplingError};

/// Largest `n` accepted by [`counterexample_family`] and [`learning_task_steps`]
/// (`n` matrices of size `n × n`: `n³` entries).
pub const FAMILY_MAX_N: usize = 256;

fn check_family_n(n: usize) -> Result<()> {
    if (2..=FAMILY_MAX_N).contains(&n) {
        Ok(())
    } else {
        Err(SamplingError::OutOfRangeInt {
            field: "n",
            value: n,
            allowed: "[2, 256]",
        })
    }
}

/// The spec §2.1 counterexample family: `n` symmetric PSD `n × n` matrices.
///
/// With `1` the all-ones vector and `e_k` the `k`-th basis vector of `Rⁿ`,
///
/// $$ y_k = \frac{e_k - \tfrac1n \mathbf 1}{\sqrt{n-1}}, \qquad A_k = I + \mathbf 1 y_k^\top + y_k \mathbf 1^\top . $$
///
/// Each `A_k` has eigenvalue 2 on `1 + n y_k`, 0 on `1 − n y_k` and 1 on the rest, so it is
/// PSD and rank-deficient with `‖A_k‖ = 2`; the mean `(1/n) Σ A_k = I` exactly, hence
/// `E_WR = I`. `E_RR` is permutation invariant, `a(I − J/n) + b(J/n)` with `b < 0`; the
/// inequality `‖E_RR‖ ≤ ‖E_WR‖` fails exactly when `|b| > 1`, which happens for `n ≥ 5`
/// (`n = 4`: `‖E_RR‖ = 8/9`; `n = 5`: `19/16`).
///
/// # Provenance
/// `n = 5` is the instance attributed to De Sa (2020) (entries `2/5` and `−1/10`); every
/// other `n` is the spec's **\[inferred\]** scaling `1/√(n−1)` (the largest that keeps `A_k`
/// PSD), not the paper's construction. `n = 2..4` are allowed for comparison (no
/// violation). Index `k` is 0-based here (`family[0]` is the paper's `A_1`).
///
/// # Errors
/// [`SamplingError::OutOfRangeInt`] unless `2 ≤ n ≤` [`FAMILY_MAX_N`].
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::counterexample_family;
/// let a = counterexample_family(5)?;
/// assert_eq!(a.len(), 5);
/// // Rational entries at n = 5: diagonal 1 + 2·(2/5), off-diagonal (row k) 2/5 − 1/10.
/// assert!((a[0][(0, 0)] - 1.8).abs() < 1e-15);
/// assert!((a[0][(0, 1)] - 0.3).abs() < 1e-15);
/// assert!((a[0][(1, 2)] + 0.2).abs() < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.1; De Sa, NeurIPS 2020 (n = 5 instance, via a third-party replay).
pub fn counterexample_family(n: usize) -> Result<Vec<Matrix>> {
    check_family_n(n)?;
    // y_k[i] = (n·δ_ik − 1) / (n·√(n−1)): integer numerator, one rounding.
    let denom = n as f64 * ((n - 1) as f64).sqrt();
    Ok((0..n)
        .map(|k| {
            let y: Vec<f64> = (0..n)
                .map(|i| (if i == k { n as f64 - 1.0 } else { -1.0 }) / denom)
                .collect();
            Matrix::from_fn(n, n, |i, j| {
                let delta = if i == j { 1.0 } else { 0.0 };
                delta + y[j] + y[i]
            })
        })
        .collect())
}

fn check_learning_rate(learning_rate: f64) -> Result<()> {
    if (0.0..=2.0).contains(&learning_rate) {
        Ok(())
    } else {
        Err(SamplingError::OutOfRange {
            field: "learning_rate",
            value: learning_rate,
            allowed: "[0, 2]",
        })
    }
}

/// SGD steps `C_k = I − α H_k`, `H_k = I − A_k/2`, of the **derived benchmark** of spec
/// §2.3b (a noiseless quadratic).
///
/// `f_k(x) = ½ xᵀ H_k x` has PSD Hessian `H_k` with eigenvalues `{0, ½, 1}` and mean
/// `H̄ = I/2`, so `F(x) = (1/n) Σ f_k(x) = ¼‖x‖²`. One SGD step on `f_k` with step size
/// `α` is `x ← C_k x`:
///
/// $$ C_k = I - \alpha H_k = (1-\alpha) I + \tfrac{\alpha}{2} A_k, \qquad \alpha = 1 \Rightarrow C_k = A_k / 2 . $$
///
/// Then `E_WR(C) = (1 − α/2)ⁿ I` and `E_RR(C)` is the RR expected epoch operator; at
/// `n = 5`, `α = 1` they have norms `19/512` and `1/32`.
///
/// # Provenance
/// **Not the paper's learning task** (which was not recovered, spec §2.3a): a third-party
/// corollary obtained by halving De Sa's matrices, kept as this project's demonstration.
/// Label outputs as a derived benchmark.
///
/// # Errors
/// [`SamplingError::OutOfRangeInt`] as [`counterexample_family`];
/// [`SamplingError::OutOfRange`] unless `0 ≤ learning_rate ≤ 2` (the range where every
/// step is non-expansive, `‖C_k‖ ≤ 1`).
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::learning_task_steps;
/// use gdlab_sampling::epoch::epoch_norms;
/// let norms = epoch_norms(&learning_task_steps(5, 1.0)?)?;
/// assert!((norms.rr - 19.0 / 512.0).abs() < 1e-15);
/// assert!((norms.wr - 1.0 / 32.0).abs() < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.3b; Yun–Sra–Jadbabaie, COLT 2021, eqs. (2)–(4).
pub fn learning_task_steps(n: usize, learning_rate: f64) -> Result<Vec<Matrix>> {
    check_learning_rate(learning_rate)?;
    let family = counterexample_family(n)?;
    let (keep, half) = (1.0 - learning_rate, 0.5 * learning_rate);
    Ok(family
        .iter()
        .map(|a| {
            Matrix::from_fn(n, n, |i, j| {
                let delta = if i == j { keep } else { 0.0 };
                delta + half * a[(i, j)]
            })
        })
        .collect())
}

/// `A_k + c I` for every matrix: the identity shift that restores the AM-GM inequality
/// for large enough `c` (Yun–Sra–Jadbabaie 2021, §2).
///
/// With `A_k + cI` the WR operator becomes `(1 + c)ⁿ I` for the family, so compare
/// `‖E_RR‖ / (1 + c)ⁿ` with 1 (spec §5, item 8).
///
/// # Errors
/// [`SamplingError::OutOfRange`] if `shift` is not finite; otherwise as
/// [`crate::epoch::wr_epoch_operator`] (empty, non-square, ragged or non-finite input).
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::{counterexample_family, shift_by_identity};
/// use gdlab_sampling::epoch::epoch_norms;
/// let shifted = shift_by_identity(&counterexample_family(5)?, 0.3)?;
/// let norms = epoch_norms(&shifted)?;
/// assert!((norms.wr - 1.3_f64.powi(5)).abs() < 1e-12);
/// assert!(norms.ratio < 1.0); // the counterexample is gone
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn shift_by_identity(matrices: &[Matrix], shift: f64) -> Result<Vec<Matrix>> {
    if !shift.is_finite() {
        return Err(SamplingError::OutOfRange {
            field: "shift",
            value: shift,
            allowed: "(-∞, ∞) (finite)",
        });
    }
    let d = check_matrices("shift_by_identity", "matrices", matrices)?;
    Ok(matrices
        .iter()
        .map(|a| {
            let mut b = a.clone();
            for i in 0..d {
                b[(i, i)] += shift;
            }
            b
        })
        .collect())
}

/// The eigenvalues of a permutation-invariant matrix `M ≈ a(I − J/d) + b(J/d)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnesSplit {
    /// `b = 1ᵀM1 / d`: the eigenvalue on the all-ones direction (`−19/16` for `E_RR` at
    /// `n = 5`).
    pub on_ones: f64,
    /// `a = (tr M − b) / (d − 1)`: the eigenvalue on `1⊥` (`29/64` for `E_RR` at `n = 5`).
    pub on_complement: f64,
    /// `max |M − (a(I − J/d) + b J/d)|`: how far `M` is from that form (≈ 0 for operators
    /// built from [`counterexample_family`]; large means the two numbers are not
    /// eigenvalues).
    pub residual: f64,
}

/// Splits `M` into its eigenvalue on `1` and on `1⊥`, assuming the form
/// `M = a(I − J/d) + b(J/d)` (`J = 11ᵀ`), and reports how well it fits.
///
/// Every operator built from [`counterexample_family`] by permutation-symmetric rules
/// (`E_RR`, `E_WR`, second moments) has this form, so the split names the sign of the
/// violating eigenvalue (negative, spec §2.1).
///
/// $$ b = \frac{\mathbf 1^\top M \mathbf 1}{d}, \qquad a = \frac{\operatorname{tr} M - b}{d - 1} $$
///
/// # Errors
/// [`SamplingError::NotSquare`] / [`SamplingError::NonFinite`] for a non-square or
/// non-finite matrix; [`SamplingError::OutOfRangeInt`] if `d < 2`.
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::{counterexample_family, ones_split};
/// use gdlab_sampling::epoch::rr_epoch_operator_dp;
/// let s = ones_split(&rr_epoch_operator_dp(&counterexample_family(5)?)?)?;
/// assert!((s.on_ones + 19.0 / 16.0).abs() < 1e-12);
/// assert!((s.on_complement - 29.0 / 64.0).abs() < 1e-12);
/// assert!(s.residual < 1e-12);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn ones_split(m: &Matrix) -> Result<OnesSplit> {
    let d = check_square("ones_split", "m", m)?;
    if d < 2 {
        return Err(SamplingError::OutOfRangeInt {
            field: "dim",
            value: d,
            allowed: "[2, ∞)",
        });
    }
    let df = d as f64;
    let mut total = 0.0;
    let mut trace = 0.0;
    for j in 0..d {
        for i in 0..d {
            total += m[(i, j)];
        }
        trace += m[(j, j)];
    }
    let on_ones = total / df;
    let on_complement = (trace - on_ones) / (df - 1.0);
    let eye = identity(d);
    let mut residual = 0.0_f64;
    for j in 0..d {
        for i in 0..d {
            let model = on_complement * (eye[(i, j)] - 1.0 / df) + on_ones / df;
            residual = residual.max((m[(i, j)] - model).abs());
        }
    }
    Ok(OnesSplit {
        on_ones,
        on_complement,
        residual,
    })
}

/// Reference values of spec §2.1 for [`counterexample_family`]: `(n, ‖E_RR‖, eigenvalue of
/// E_RR on 1⊥)`, printed to 6 decimals there ([verified-numerically] by the spec's authors
/// with a subset DP; rows `n ≠ 5` are the spec's family, not the paper's). `‖E_WR‖ = 1` for
/// every `n`.
pub const REFERENCE_FAMILY_TABLE: [(usize, f64, f64); 9] = [
    (4, 0.888889, 0.370370),
    (5, 1.187500, 0.453125),
    (6, 1.408000, 0.518400),
    (7, 1.560185, 0.573302),
    (8, 1.652645, 0.621051),
    (9, 1.693115, 0.663361),
    (10, 1.688631, 0.701263),
    (11, 1.645610, 0.735439),
    (12, 1.569906, 0.766372),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epoch::{epoch_norms, mean_matrix, rr_epoch_operator_dp, wr_epoch_operator};
    use gdlab_core::assert_close;
    use gdlab_core::linalg::{max_abs_diff, sym_eigenvalues};

    #[test]
    fn spec_table_n4_to_n12() {
        for (n, rr, perp) in REFERENCE_FAMILY_TABLE {
            let a = counterexample_family(n).unwrap();
            let norms = epoch_norms(&a).unwrap();
            assert_close!(norms.wr, 1.0, abs = 1e-12);
            // Rounded to 6 decimals in the spec: half a unit in the last place.
            assert_close!(norms.rr, rr, abs = 5e-7 + 1e-12);
            let split = ones_split(&rr_epoch_operator_dp(&a).unwrap()).unwrap();
            assert_close!(split.on_complement, perp, abs = 5e-7 + 1e-12);
            // The violating eigenvalue is the negative one, on 1.
            assert!(split.on_ones < 0.0);
            assert_close!(-split.on_ones, norms.rr, rel = 1e-12);
            assert!(
                split.residual < 1e-12,
                "n = {n}: residual {}",
                split.residual
            );
            assert_eq!(norms.ratio > 1.0, n >= 5, "n = {n}");
        }
    }

    #[test]
    fn n5_exact_values_in_f64() {
        let norms = epoch_norms(&counterexample_family(5).unwrap()).unwrap();
        assert_close!(norms.rr, 19.0 / 16.0, rel = 1e-12);
        assert_close!(norms.wr, 1.0, rel = 1e-12);
        let split =
            ones_split(&rr_epoch_operator_dp(&counterexample_family(5).unwrap()).unwrap()).unwrap();
        assert_close!(split.on_ones, -19.0 / 16.0, rel = 1e-12);
        assert_close!(split.on_complement, 29.0 / 64.0, rel = 1e-12);
        // n = 4 is exactly 8/9 (no violation).
        let n4 = epoch_norms(&counterexample_family(4).unwrap()).unwrap();
        assert_close!(n4.rr, 8.0 / 9.0, rel = 1e-12);
    }

    #[test]
    fn family_mean_is_identity_and_spectrum_is_0_1_2() {
        for n in 2..=12 {
            let a = counterexample_family(n).unwrap();
            assert!(max_abs_diff(&mean_matrix(&a).unwrap(), &identity(n)) < 1e-12);
            assert!(max_abs_diff(&wr_epoch_operator(&a).unwrap(), &identity(n)) < 1e-12);
            for ak in &a {
                assert!(crate::epoch::is_exactly_symmetric(ak));
                let mut expected = vec![1.0; n];
                expected[0] = 0.0;
                expected[n - 1] = 2.0;
                assert_close!(sym_eigenvalues(ak).unwrap(), expected, abs = 1e-12);
            }
        }
    }

    #[test]
    fn family_eigenvectors() {
        // A_k (1 ± n y_k) = (1 ± 1)(1 ± n y_k).
        let n = 7;
        let a = counterexample_family(n).unwrap();
        let s = ((n - 1) as f64).sqrt();
        for (k, ak) in a.iter().enumerate() {
            for sign in [1.0, -1.0] {
                let v: Vec<f64> = (0..n)
                    .map(|i| 1.0 + sign * ((if i == k { n as f64 } else { 0.0 }) - 1.0) / s)
                    .collect();
                let mut av = vec![0.0; n];
                crate::epoch::matvec(ak, &v, &mut av);
                let lambda = 1.0 + sign;
                let expect: Vec<f64> = v.iter().map(|x| lambda * x).collect();
                assert_close!(av, expect, abs = 1e-12);
            }
        }
    }

    /// Spec §2.3b table (n = 5): (α, ‖E_RR(C)‖, ‖E_WR(C)‖) at 4–5 significant digits.
    const ALPHA_TABLE: [(f64, f64, f64); 4] = [
        (0.50, 0.22105, 0.23730),
        (0.90, 0.03103, 0.05033),
        (1.00, 0.037109, 0.03125),
        (1.10, 0.03759, 0.01845),
    ];

    #[test]
    fn alpha_table_rows() {
        for (alpha, rr, wr) in ALPHA_TABLE {
            let norms = epoch_norms(&learning_task_steps(5, alpha).unwrap()).unwrap();
            // The table is rounded to 4 significant digits (0.03103): up to 1.6e-4
            // relative, so the bound is 1e-4 relative plus half a unit in the last place.
            assert_close!(norms.rr, rr, rel = 1e-4, abs = 5e-6);
            assert_close!(norms.wr, wr, rel = 1e-4, abs = 5e-6);
            // E_WR(C) = (1 − α/2)⁵ I exactly.
            assert_close!(norms.wr, (1.0 - alpha / 2.0).powi(5), rel = 1e-12);
        }
        let at_one = epoch_norms(&learning_task_steps(5, 1.0).unwrap()).unwrap();
        assert_close!(at_one.rr, 19.0 / 512.0, rel = 1e-12);
        assert_close!(at_one.wr, 1.0 / 32.0, rel = 1e-12);
        assert_close!(at_one.ratio, 19.0 / 16.0, rel = 1e-12);
    }

    #[test]
    fn small_steps_favour_rr_and_crossover_points() {
        // Spec §2.3b / §5 item 7: for η ≤ 0.5 (grid 0.01) ‖E_RR(C)‖ ≤ ‖E_WR(C)‖ for
        // n = 5..8; the first η on the 0.01 grid with ratio > 1 is 0.98, 0.95, 0.92, 0.89.
        for (n, first_violation) in [(5, 98), (6, 95), (7, 92), (8, 89)] {
            let mut first = None;
            for step in 1..=200 {
                let eta = f64::from(step) / 100.0;
                let norms = epoch_norms(&learning_task_steps(n, eta).unwrap()).unwrap();
                if step <= 50 {
                    assert!(
                        norms.ratio <= 1.0 + 1e-12,
                        "n = {n}, η = {eta}: {}",
                        norms.ratio
                    );
                }
                if first.is_none() && norms.ratio > 1.0 {
                    first = Some(step);
                }
            }
            assert_eq!(first, Some(first_violation), "n = {n}");
        }
    }

    #[test]
    fn identity_shift_breaks_the_counterexample() {
        // Spec §5 item 8: ‖E_RR‖/(1+c)ⁿ < 1 for c = 0.3, n = 5..8; > 1 for c = 0.001.
        for n in 5..=8 {
            let a = counterexample_family(n).unwrap();
            let big = epoch_norms(&shift_by_identity(&a, 0.3).unwrap()).unwrap();
            assert!(big.ratio < 1.0, "n = {n}: {}", big.ratio);
            let small = epoch_norms(&shift_by_identity(&a, 0.001).unwrap()).unwrap();
            assert!(small.ratio > 1.0, "n = {n}: {}", small.ratio);
        }
    }

    #[test]
    fn input_errors() {
        for n in [0, 1, FAMILY_MAX_N + 1] {
            let e = counterexample_family(n).unwrap_err();
            assert!(
                matches!(e, SamplingError::OutOfRangeInt { field: "n", value, .. } if value == n),
                "{e}"
            );
            assert!(e.to_string().contains("[2, 256]"), "{e}");
            assert!(learning_task_steps(n, 1.0).is_err());
        }
        for lr in [-0.1, 2.5, f64::NAN, f64::INFINITY] {
            let e = learning_task_steps(5, lr).unwrap_err();
            assert!(
                matches!(
                    e,
                    SamplingError::OutOfRange {
                        field: "learning_rate",
                        ..
                    }
                ),
                "{e}"
            );
        }
        let a = counterexample_family(3).unwrap();
        assert!(shift_by_identity(&a, f64::NAN).is_err());
        let ragged = vec![identity(2), identity(3)];
        assert!(matches!(
            shift_by_identity(&ragged, 1.0).unwrap_err(),
            SamplingError::Dim { .. }
        ));
        assert!(ones_split(&identity(1)).is_err());
        assert!(ones_split(&Matrix::zeros(2, 3)).is_err());
    }
}
