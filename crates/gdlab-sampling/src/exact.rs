//! Exact rational arithmetic for the counterexample (num-rational `BigRational`).
//!
//! At `n = 5` the family's scaling `1/√(n − 1) = 1/2` is rational, so every matrix, every
//! epoch operator and every second moment is rational and can be computed with no
//! round-off. More generally the entries are rational whenever `n − 1` is a perfect square
//! (`n = 2, 5, 10, 17, …`).
//!
//! The headline identity (spec §2.2, from a third-party exact replay of De Sa 2020):
//!
//! $$ E_{RR} = \tfrac{29}{64}\big(I - \tfrac{J}{5}\big) - \tfrac{19}{16}\cdot\tfrac{J}{5}, \qquad E_{WR} = I, $$
//!
//! so `‖E_RR‖ = 19/16 > 1 = ‖E_WR‖`; [`verify_n5_closed_form`] checks it exactly.

use gdlab_core::linalg::Matrix;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};

use crate::error::{Result, SamplingError};

/// Largest `n` accepted by the exact subset DP ([`rr_epoch_operator_exact`],
/// [`rr_second_moment_exact`]): rational arithmetic is slow.
pub const EXACT_DP_MAX_N: usize = 10;
/// Largest `n` accepted by [`counterexample_family_exact`].
pub const EXACT_FAMILY_MAX_N: usize = 17;

/// `p/q` as a [`BigRational`].
///
/// # Panics
/// If `q = 0` (a programmer error: callers pass literal denominators).
#[must_use]
pub fn ratio(p: i64, q: i64) -> BigRational {
    BigRational::new(BigInt::from(p), BigInt::from(q))
}

/// A square matrix of exact rationals (row-major).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RationalMatrix {
    dim: usize,
    entries: Vec<BigRational>,
}

impl RationalMatrix {
    /// The `dim × dim` zero matrix.
    #[must_use]
    pub fn zeros(dim: usize) -> Self {
        RationalMatrix {
            dim,
            entries: vec![BigRational::zero(); dim * dim],
        }
    }

    /// The `dim × dim` identity.
    #[must_use]
    pub fn identity(dim: usize) -> Self {
        Self::from_fn(dim, |i, j| {
            if i == j {
                BigRational::one()
            } else {
                BigRational::zero()
            }
        })
    }

    /// The matrix with entries `f(i, j)`.
    pub fn from_fn(dim: usize, mut f: impl FnMut(usize, usize) -> BigRational) -> Self {
        let mut entries = Vec::with_capacity(dim * dim);
        for i in 0..dim {
            for j in 0..dim {
                entries.push(f(i, j));
            }
        }
        RationalMatrix { dim, entries }
    }

    /// The dimension `d` (the matrix is `d × d`).
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Entry `(i, j)`, or `None` outside the matrix.
    #[must_use]
    pub fn get(&self, i: usize, j: usize) -> Option<&BigRational> {
        if i < self.dim && j < self.dim {
            self.entries.get(i * self.dim + j)
        } else {
            None
        }
    }

    /// The nearest `f64` matrix (each entry rounded by num-rational's `to_f64`; an entry
    /// beyond the `f64` range becomes ±∞).
    #[must_use]
    pub fn to_f64(&self) -> Matrix {
        Matrix::from_fn(self.dim, self.dim, |i, j| {
            let q = &self.entries[i * self.dim + j];
            q.to_f64().unwrap_or(if *q < BigRational::zero() {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        })
    }

    /// `true` when the matrix equals its transpose.
    #[must_use]
    pub fn is_symmetric(&self) -> bool {
        (0..self.dim).all(|i| (0..i).all(|j| self.at(i, j) == self.at(j, i)))
    }

    fn at(&self, i: usize, j: usize) -> &BigRational {
        &self.entries[i * self.dim + j]
    }

    fn mul(&self, rhs: &RationalMatrix) -> RationalMatrix {
        debug_assert_eq!(self.dim, rhs.dim);
        let d = self.dim;
        RationalMatrix::from_fn(d, |i, j| {
            let mut s = BigRational::zero();
            for k in 0..d {
                s += self.at(i, k) * rhs.at(k, j);
            }
            s
        })
    }

    fn transpose(&self) -> RationalMatrix {
        RationalMatrix::from_fn(self.dim, |i, j| self.at(j, i).clone())
    }

    fn add_scaled(&mut self, rhs: &RationalMatrix, c: &BigRational) {
        for (a, b) in self.entries.iter_mut().zip(&rhs.entries) {
            *a += b * c;
        }
    }

    fn scaled(&self, c: &BigRational) -> RationalMatrix {
        RationalMatrix {
            dim: self.dim,
            entries: self.entries.iter().map(|a| a * c).collect(),
        }
    }
}

fn check_exact(op: &'static str, mats: &[RationalMatrix], max_n: usize) -> Result<usize> {
    let first = mats.first().ok_or(SamplingError::Empty {
        op,
        field: "matrices",
    })?;
    let d = first.dim;
    if d == 0 {
        return Err(SamplingError::NotSquare {
            op,
            field: "matrices",
            index: 0,
            rows: 0,
            cols: 0,
        });
    }
    if let Some((index, m)) = mats.iter().enumerate().find(|(_, m)| m.dim != d) {
        return Err(SamplingError::Dim {
            op,
            field: format!("matrices[{index}]"),
            expected: d,
            got: m.dim,
        });
    }
    if mats.len() > max_n {
        return Err(SamplingError::TooLarge {
            op,
            field: "n",
            value: mats.len(),
            max: max_n,
            hint: "exact rational arithmetic is slow; use the f64 functions in `epoch`",
        });
    }
    Ok(d)
}

fn integer_sqrt(m: usize) -> Option<usize> {
    let r = (m as f64).sqrt().round() as usize;
    (r.saturating_sub(1)..=r + 1).find(|&s| s * s == m)
}

/// The spec §2.1 family in exact rationals, for `n` with `n − 1` a perfect square.
///
/// `y_k = (e_k − 1/n)/√(n − 1)`, `A_k = I + 1 y_kᵀ + y_k 1ᵀ`, as in
/// [`crate::amgm::counterexample_family`]; at `n = 5`: `(y_k)_k = 2/5`, `(y_k)_i = −1/10`.
///
/// # Errors
/// [`SamplingError::OutOfRangeInt`] unless `n ∈ {2, 5, 10, 17}` (`n − 1` a perfect
/// square, `2 ≤ n ≤` [`EXACT_FAMILY_MAX_N`]).
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{counterexample_family_exact, ratio};
/// let a = counterexample_family_exact(5)?;
/// assert_eq!(a[0].get(0, 0), Some(&ratio(9, 5))); // 1 + 2·(2/5)
/// assert_eq!(a[0].get(1, 2), Some(&ratio(-1, 5))); // 2·(−1/10)
/// assert!(counterexample_family_exact(6).is_err()); // √5 is irrational
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn counterexample_family_exact(n: usize) -> Result<Vec<RationalMatrix>> {
    let root = match integer_sqrt(n.saturating_sub(1)) {
        Some(r) if (2..=EXACT_FAMILY_MAX_N).contains(&n) => r,
        _ => {
            return Err(SamplingError::OutOfRangeInt {
                field: "n",
                value: n,
                allowed: "{2, 5, 10, 17} (n − 1 a perfect square, n ≤ 17)",
            })
        }
    };
    let denom = (n * root) as i64;
    let n_i = n as i64;
    Ok((0..n)
        .map(|k| {
            let y: Vec<BigRational> = (0..n)
                .map(|i| ratio(if i == k { n_i - 1 } else { -1 }, denom))
                .collect();
            RationalMatrix::from_fn(n, |i, j| {
                let delta = if i == j {
                    BigRational::one()
                } else {
                    BigRational::zero()
                };
                delta + &y[j] + &y[i]
            })
        })
        .collect())
}

/// Exact derived-benchmark steps `C_k = (1 − α) I + (α/2) A_k` (spec §2.3b; see
/// [`crate::amgm::learning_task_steps`]) with a rational step size `α`.
///
/// # Errors
/// As [`counterexample_family_exact`]; [`SamplingError::OutOfRange`] unless
/// `0 ≤ α ≤ 2`.
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{learning_task_steps_exact, ratio};
/// let c = learning_task_steps_exact(5, &ratio(1, 1))?; // C_k = A_k / 2
/// assert_eq!(c[0].get(0, 0), Some(&ratio(9, 10)));
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn learning_task_steps_exact(
    n: usize,
    learning_rate: &BigRational,
) -> Result<Vec<RationalMatrix>> {
    if *learning_rate < BigRational::zero() || *learning_rate > ratio(2, 1) {
        return Err(SamplingError::OutOfRange {
            field: "learning_rate",
            value: learning_rate.to_f64().unwrap_or(f64::NAN),
            allowed: "[0, 2]",
        });
    }
    let keep = BigRational::one() - learning_rate;
    let half = learning_rate * ratio(1, 2);
    Ok(counterexample_family_exact(n)?
        .iter()
        .map(|a| {
            let mut c = a.scaled(&half);
            for i in 0..n {
                c.entries[i * n + i] += &keep;
            }
            c
        })
        .collect())
}

/// Masks with popcount `k` in increasing order, for the exact (sequential) DP.
fn layer(n: usize, k: usize) -> Vec<usize> {
    (0..1usize << n)
        .filter(|m| m.count_ones() as usize == k)
        .collect()
}

/// The exact subset DP: `out[S] = (1/|S|) Σ_{k∈S} step(out[S∖k], k)`.
fn exact_subset_dp(
    n: usize,
    start: RationalMatrix,
    step: impl Fn(&RationalMatrix, usize) -> RationalMatrix,
) -> RationalMatrix {
    // Index every mask directly (n ≤ 10: at most 1024 entries).
    let mut table: Vec<Option<RationalMatrix>> = vec![None; 1 << n];
    table[0] = Some(start);
    for k in 1..=n {
        let w = ratio(1, k as i64);
        for mask in layer(n, k) {
            let mut acc: Option<RationalMatrix> = None;
            for j in (0..n).filter(|j| mask & (1 << j) != 0) {
                if let Some(prev) = &table[mask & !(1 << j)] {
                    let term = step(prev, j);
                    match &mut acc {
                        None => acc = Some(term.scaled(&w)),
                        Some(a) => a.add_scaled(&term, &w),
                    }
                }
            }
            table[mask] = acc;
        }
        // Free the previous layer.
        for mask in layer(n, k - 1) {
            table[mask] = None;
        }
    }
    table
        .pop()
        .flatten()
        .unwrap_or_else(|| RationalMatrix::zeros(0))
}

/// `E_RR = (1/n!) Σ_σ A_{σ(1)} ⋯ A_{σ(n)}` exactly, by the subset DP of spec §2.2 over
/// rationals (see [`crate::epoch::rr_epoch_operator_dp`]).
///
/// # Errors
/// [`SamplingError::Empty`], [`SamplingError::Dim`] (ragged list),
/// [`SamplingError::TooLarge`] when `n >` [`EXACT_DP_MAX_N`].
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{counterexample_family_exact, n5_closed_form, rr_epoch_operator_exact};
/// let e = rr_epoch_operator_exact(&counterexample_family_exact(5)?)?;
/// assert_eq!(e, n5_closed_form());
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn rr_epoch_operator_exact(matrices: &[RationalMatrix]) -> Result<RationalMatrix> {
    let d = check_exact("rr_epoch_operator_exact", matrices, EXACT_DP_MAX_N)?;
    Ok(exact_subset_dp(
        matrices.len(),
        RationalMatrix::identity(d),
        |prev, j| prev.mul(&matrices[j]),
    ))
}

/// `E_WR = ((1/n) Σ A_k)ⁿ` exactly.
///
/// # Errors
/// [`SamplingError::Empty`], [`SamplingError::Dim`], [`SamplingError::TooLarge`] when
/// `n >` [`EXACT_DP_MAX_N`].
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{counterexample_family_exact, wr_epoch_operator_exact, RationalMatrix};
/// let e = wr_epoch_operator_exact(&counterexample_family_exact(5)?)?;
/// assert_eq!(e, RationalMatrix::identity(5)); // the mean is I exactly
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn wr_epoch_operator_exact(matrices: &[RationalMatrix]) -> Result<RationalMatrix> {
    let d = check_exact("wr_epoch_operator_exact", matrices, EXACT_DP_MAX_N)?;
    let w = ratio(1, matrices.len() as i64);
    let mut mean = RationalMatrix::zeros(d);
    for a in matrices {
        mean.add_scaled(a, &w);
    }
    let mut out = RationalMatrix::identity(d);
    for _ in 0..matrices.len() {
        out = out.mul(&mean);
    }
    Ok(out)
}

/// `E_σ[PᵀP]` exactly, `P = C_{σ(n)} ⋯ C_{σ(1)}` (see [`crate::epoch::rr_second_moment`]).
///
/// # Errors
/// As [`rr_epoch_operator_exact`].
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{learning_task_steps_exact, ones_split_exact, ratio, rr_second_moment_exact};
/// // Spec §2.3b caveat: 1435/1048576 on 1⊥ and 421/131072 on 1, at α = 1.
/// let g = rr_second_moment_exact(&learning_task_steps_exact(5, &ratio(1, 1))?)?;
/// let s = ones_split_exact(&g).unwrap();
/// assert_eq!((s.on_complement, s.on_ones), (ratio(1435, 1048576), ratio(421, 131072)));
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn rr_second_moment_exact(steps: &[RationalMatrix]) -> Result<RationalMatrix> {
    let d = check_exact("rr_second_moment_exact", steps, EXACT_DP_MAX_N)?;
    let transposed: Vec<RationalMatrix> = steps.iter().map(RationalMatrix::transpose).collect();
    Ok(exact_subset_dp(
        steps.len(),
        RationalMatrix::identity(d),
        |prev, j| transposed[j].mul(&prev.mul(&steps[j])),
    ))
}

/// `E[PᵀP]` exactly for one with-replacement epoch (`X ← (1/n) Σ C_kᵀ X C_k`, `n` times).
///
/// # Errors
/// As [`wr_epoch_operator_exact`].
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{learning_task_steps_exact, ones_split_exact, ratio, wr_second_moment_exact};
/// // Spec §2.3b caveat: 365/65536 on 1⊥ and 91/8192 on 1, at α = 1.
/// let g = wr_second_moment_exact(&learning_task_steps_exact(5, &ratio(1, 1))?)?;
/// let s = ones_split_exact(&g).unwrap();
/// assert_eq!((s.on_complement, s.on_ones), (ratio(365, 65536), ratio(91, 8192)));
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn wr_second_moment_exact(steps: &[RationalMatrix]) -> Result<RationalMatrix> {
    let d = check_exact("wr_second_moment_exact", steps, EXACT_DP_MAX_N)?;
    let w = ratio(1, steps.len() as i64);
    let transposed: Vec<RationalMatrix> = steps.iter().map(RationalMatrix::transpose).collect();
    let mut x = RationalMatrix::identity(d);
    for _ in 0..steps.len() {
        let mut next = RationalMatrix::zeros(d);
        for (c, ct) in steps.iter().zip(&transposed) {
            next.add_scaled(&ct.mul(&x.mul(c)), &w);
        }
        x = next;
    }
    Ok(x)
}

/// The exact eigenvalues of a matrix of the form `a(I − J/d) + b(J/d)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnesSplitExact {
    /// `b`, the eigenvalue on `1` (`−19/16` for `E_RR` at `n = 5`).
    pub on_ones: BigRational,
    /// `a`, the eigenvalue on `1⊥` (`29/64` for `E_RR` at `n = 5`).
    pub on_complement: BigRational,
}

/// `a(I − J/d) + b(J/d)` as a rational matrix (`J = 11ᵀ`).
#[must_use]
pub fn ones_form(dim: usize, on_complement: &BigRational, on_ones: &BigRational) -> RationalMatrix {
    let inv_d = ratio(1, dim.max(1) as i64);
    RationalMatrix::from_fn(dim, |i, j| {
        let delta = if i == j {
            BigRational::one()
        } else {
            BigRational::zero()
        };
        on_complement * (delta - &inv_d) + on_ones * &inv_d
    })
}

/// Reads the two eigenvalues off an exact matrix, `b = 1ᵀM1/d`, `a = (tr M − b)/(d − 1)`,
/// and returns them only if `M = a(I − J/d) + b(J/d)` **exactly** (then `1` is an
/// eigenvector with eigenvalue `b` and `M` acts as `a·I` on `1⊥`).
///
/// Returns `None` when `d < 2` or `M` is not of that form.
///
/// # Examples
/// ```
/// use gdlab_sampling::exact::{counterexample_family_exact, ones_split_exact, ratio, rr_epoch_operator_exact};
/// let e = rr_epoch_operator_exact(&counterexample_family_exact(5)?)?;
/// let s = ones_split_exact(&e).unwrap();
/// assert_eq!(s.on_ones, ratio(-19, 16));
/// assert_eq!(s.on_complement, ratio(29, 64));
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
#[must_use]
pub fn ones_split_exact(m: &RationalMatrix) -> Option<OnesSplitExact> {
    let d = m.dim;
    if d < 2 {
        return None;
    }
    let total: BigRational = m.entries.iter().sum();
    let trace: BigRational = (0..d).map(|i| m.at(i, i)).sum();
    let on_ones = total * ratio(1, d as i64);
    let on_complement = (trace - &on_ones) * ratio(1, d as i64 - 1);
    (ones_form(d, &on_complement, &on_ones) == *m).then_some(OnesSplitExact {
        on_ones,
        on_complement,
    })
}

/// The closed form of spec §2.2 at `n = 5`: `29/64·(I − J/5) − 19/16·(J/5)`.
#[must_use]
pub fn n5_closed_form() -> RationalMatrix {
    ones_form(5, &ratio(29, 64), &ratio(-19, 16))
}

/// Whether the exact `E_RR` of the `n = 5` family equals
/// `29/64·(I − J/5) − 19/16·(J/5)` exactly (spec §5 Quick, item 3).
///
/// # Errors
/// None in practice (the inputs are fixed); the `Result` forwards the checks of
/// [`rr_epoch_operator_exact`].
///
/// # Examples
/// ```
/// assert!(gdlab_sampling::exact::verify_n5_closed_form()?);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.1–§2.2 (closed form from a third-party exact replay of De Sa 2020).
pub fn verify_n5_closed_form() -> Result<bool> {
    let e = rr_epoch_operator_exact(&counterexample_family_exact(5)?)?;
    Ok(e == n5_closed_form())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amgm::counterexample_family;
    use crate::epoch::rr_epoch_operator_dp;
    use gdlab_core::linalg::max_abs_diff;

    #[test]
    fn n5_is_exactly_the_closed_form() {
        assert!(verify_n5_closed_form().unwrap());
        let e = rr_epoch_operator_exact(&counterexample_family_exact(5).unwrap()).unwrap();
        assert!(e.is_symmetric());
        let s = ones_split_exact(&e).unwrap();
        assert_eq!(s.on_ones, ratio(-19, 16));
        assert_eq!(s.on_complement, ratio(29, 64));
        // "lower" Loewner bound n!·E_RR ⪰ −n!·I fails: eigenvalue −285/2 < −120.
        assert_eq!(s.on_ones * ratio(120, 1), ratio(-285, 2));
    }

    #[test]
    fn exact_family_matches_f64_family() {
        for n in [2, 5, 10] {
            let exact = counterexample_family_exact(n).unwrap();
            let float = counterexample_family(n).unwrap();
            for (q, f) in exact.iter().zip(&float) {
                assert!(max_abs_diff(&q.to_f64(), f) < 1e-15);
            }
        }
        // n = 5: (y_k)_k = 2/5, (y_k)_i = −1/10 ⇒ A_k = I + 1y_kᵀ + y_k1ᵀ.
        let a = counterexample_family_exact(5).unwrap();
        assert_eq!(a[2].get(2, 2), Some(&ratio(9, 5)));
        assert_eq!(a[2].get(2, 0), Some(&ratio(3, 10)));
        assert_eq!(a[2].get(0, 1), Some(&ratio(-1, 5)));
        assert_eq!(a[2].get(5, 0), None);
        let mut mean = RationalMatrix::zeros(5);
        for ak in &a {
            mean.add_scaled(ak, &ratio(1, 5));
        }
        assert_eq!(mean, RationalMatrix::identity(5));
    }

    #[test]
    fn exact_and_f64_dp_agree() {
        let e = rr_epoch_operator_exact(&counterexample_family_exact(5).unwrap()).unwrap();
        let f = rr_epoch_operator_dp(&counterexample_family(5).unwrap()).unwrap();
        assert!(max_abs_diff(&e.to_f64(), &f) < 1e-14);
        // n = 2: E_RR = (A₁A₂ + A₂A₁)/2 exactly.
        let a = counterexample_family_exact(2).unwrap();
        let mut expected = a[0].mul(&a[1]);
        expected.add_scaled(&a[1].mul(&a[0]), &BigRational::one());
        let expected = expected.scaled(&ratio(1, 2));
        assert_eq!(rr_epoch_operator_exact(&a).unwrap(), expected);
    }

    #[test]
    fn exact_second_moments_at_alpha_one() {
        // Spec §2.3b caveat, exactly.
        let c = learning_task_steps_exact(5, &ratio(1, 1)).unwrap();
        let rr = ones_split_exact(&rr_second_moment_exact(&c).unwrap()).unwrap();
        assert_eq!(rr.on_complement, ratio(1435, 1_048_576));
        assert_eq!(rr.on_ones, ratio(421, 131_072));
        let wr = ones_split_exact(&wr_second_moment_exact(&c).unwrap()).unwrap();
        assert_eq!(wr.on_complement, ratio(365, 65536));
        assert_eq!(wr.on_ones, ratio(91, 8192));
        // First moments: 19/512 on 1 (negative sign) and WR (1/2)⁵ = 1/32.
        let rr1 = ones_split_exact(&rr_epoch_operator_exact(&c).unwrap()).unwrap();
        assert_eq!(rr1.on_ones, ratio(-19, 512));
        assert_eq!(
            wr_epoch_operator_exact(&c).unwrap(),
            RationalMatrix::identity(5).scaled(&ratio(1, 32))
        );
    }

    #[test]
    fn split_rejects_other_forms() {
        let mut m = RationalMatrix::identity(3);
        m.entries[1] = ratio(1, 7);
        assert!(ones_split_exact(&m).is_none());
        assert!(ones_split_exact(&RationalMatrix::identity(1)).is_none());
        let s = ones_split_exact(&RationalMatrix::identity(4)).unwrap();
        assert_eq!((s.on_ones, s.on_complement), (ratio(1, 1), ratio(1, 1)));
    }

    #[test]
    fn input_errors() {
        for n in [0, 1, 3, 4, 6, 26] {
            let e = counterexample_family_exact(n).unwrap_err();
            assert!(
                matches!(e, SamplingError::OutOfRangeInt { field: "n", value, .. } if value == n),
                "{e}"
            );
        }
        assert!(matches!(
            rr_epoch_operator_exact(&[]).unwrap_err(),
            SamplingError::Empty { .. }
        ));
        let ragged = vec![RationalMatrix::identity(2), RationalMatrix::identity(3)];
        assert!(matches!(
            rr_epoch_operator_exact(&ragged).unwrap_err(),
            SamplingError::Dim {
                expected: 2,
                got: 3,
                ..
            }
        ));
        let eleven = vec![RationalMatrix::identity(1); 11];
        assert!(matches!(
            rr_second_moment_exact(&eleven).unwrap_err(),
            SamplingError::TooLarge {
                value: 11,
                max: 10,
                ..
            }
        ));
        assert!(rr_epoch_operator_exact(&[RationalMatrix::zeros(0)]).is_err());
        assert!(learning_task_steps_exact(5, &ratio(5, 2)).is_err());
        assert!(learning_task_steps_exact(5, &ratio(-1, 2)).is_err());
    }
}
