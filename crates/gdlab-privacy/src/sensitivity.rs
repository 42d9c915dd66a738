//! L2 sensitivity of `X ↦ C X` under a participation scheme (spec §1.3–1.4).
//!
//! | scheme | strategy | formula | kind |
//! |---|---|---|---|
//! | single participation | any | max column norm (`‖c‖₂` for Toeplitz) | exact |
//! | b-min-separation, k participations | banded Toeplitz, `p ≤ b`, `n ≥ (k−1)b + p` | `√k·‖c‖₂` | exact |
//! | b-min-separation | Toeplitz, coefficients `≥ 0` and non-increasing | Theorem 2: `‖Σ_{i<k} C[:, i·b]‖₂` | exact |
//! | b-min-separation | other Toeplitz | refused by [`toeplitz_sensitivity`]; [`minsep_upper_bound`] gives the envelope bound | upper bound |
//! | `(k, b)` fixed epochs, `C ≥ 0` | Toeplitz | [`fixed_epoch_sensitivity`]: max over the `b` start offsets | exact for those patterns |
//! | b-min-separation | dense with banded Gram `CᵀC` | [`gram_sensitivity`]: `√(max Σ_{i∈π} S_ii)` | exact |

use faer::Mat;
use gdlab_core::ConfigError;
use serde::Serialize;

use crate::error::{PrivacyError, Result};
use crate::toeplitz::Toeplitz;

/// How an example may participate in the `n` steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Participation {
    /// Each example is used in at most one step (`k = 1`, `b = n`).
    Single,
    /// At most `max_participations` (k) steps, any two at least `min_sep` (b) apart.
    MinSeparation {
        /// Minimum separation `b ≥ 1` between two participations.
        min_sep: usize,
        /// Maximum number of participations `k ≥ 1`.
        max_participations: usize,
    },
}

impl Participation {
    /// b-min-separation with `k` participations, validated against the number of steps `n`:
    /// `1 ≤ b ≤ n`, `k ≥ 1`, and all `k` participations must fit, `(k − 1)·b < n`.
    ///
    /// # Errors
    /// [`ConfigError`] naming `min_sep`, `max_participations` or the `k·b` vs `n` relation.
    pub fn min_separation(min_sep: usize, max_participations: usize, n: usize) -> Result<Self> {
        if min_sep == 0 || min_sep > n {
            return Err(ConfigError::Invalid {
                field: "min_sep".into(),
                reason: format!("must be in [1, n = {n}], got {min_sep}"),
            }
            .into());
        }
        if max_participations == 0 {
            return Err(ConfigError::Invalid {
                field: "max_participations".into(),
                reason: "must be ≥ 1, got 0".into(),
            }
            .into());
        }
        if (max_participations - 1).saturating_mul(min_sep) >= n {
            return Err(ConfigError::Invalid {
                field: "max_participations".into(),
                reason: format!(
                    "k = {max_participations} participations at least b = {min_sep} apart need \
                     n ≥ (k − 1)·b + 1 = {}, got n = {n} (k must be ≤ ceil(n/b) = {})",
                    (max_participations - 1)
                        .saturating_mul(min_sep)
                        .saturating_add(1),
                    n.div_ceil(min_sep)
                ),
            }
            .into());
        }
        Ok(Participation::MinSeparation {
            min_sep,
            max_participations,
        })
    }

    /// The number of participations that can actually occur in `n` steps:
    /// 1 for single participation, `min(k, ceil(n/b))` otherwise.
    #[must_use]
    pub fn effective_k(&self, n: usize) -> usize {
        match *self {
            Participation::Single => 1,
            Participation::MinSeparation {
                min_sep,
                max_participations,
            } => max_participations.min(n.div_ceil(min_sep)),
        }
    }
}

/// Whether a sensitivity value is exact or only an upper bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitivityKind {
    /// The exact maximum over the participation scheme.
    Exact,
    /// A valid upper bound (e.g. the monotone envelope when Theorem 2 does not apply).
    UpperBound,
}

/// A sensitivity value with how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The L2 sensitivity (for unit row-norm bound, i.e. clip = 1).
    pub value: f64,
    /// Exact or upper bound.
    pub kind: SensitivityKind,
    /// The formula used, in words.
    pub method: &'static str,
}

/// Index one past the last nonzero coefficient (at least 1).
fn effective_bandwidth(c: &[f64]) -> usize {
    c.iter().rposition(|x| *x != 0.0).map_or(1, |i| i + 1)
}

/// Theorem 2's vector norm `‖Σ_{i<k} shift(c, i·b)‖₂` over `n` rows (`O(n·k)`).
#[must_use]
pub fn shifted_column_sum_norm(c: &[f64], n: usize, min_sep: usize, k: usize) -> f64 {
    let p = effective_bandwidth(c).min(n);
    let mut v = vec![0.0; n];
    for i in 0..k {
        let start = i * min_sep;
        if start >= n {
            break;
        }
        let len = p.min(n - start);
        for (vj, cj) in v[start..start + len].iter_mut().zip(&c[..len]) {
            *vj += cj;
        }
    }
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Sensitivity of a lower-triangular Toeplitz strategy `C` of size `n`.
///
/// Single participation: `‖c_{0:n}‖₂` (the first column is the longest). b-min-separation:
/// `√k·‖c‖₂` when the band fits (`p ≤ b`, `n ≥ (k−1)b + p`, exact without any sign
/// condition), else the paper's Theorem 2 when the coefficients are non-negative and
/// non-increasing. Otherwise the exact formulas do not apply and this function refuses;
/// use [`minsep_upper_bound`] (envelope bound) or, for fixed epochs with `C ≥ 0`,
/// [`fixed_epoch_sensitivity`].
///
/// # Errors
/// [`PrivacyError::SensitivityConditions`] when no exact formula applies.
///
/// # Examples
/// ```
/// use gdlab_privacy::sensitivity::{toeplitz_sensitivity, Participation};
/// use gdlab_privacy::toeplitz::Toeplitz;
/// let c = Toeplitz::new(vec![1.0, 0.5, 0.375]).unwrap();
/// let part = Participation::min_separation(3, 4, 12).unwrap();
/// let s = toeplitz_sensitivity(&c, 12, part).unwrap();
/// gdlab_core::assert_close!(s.value, 2.0 * (1.0f64 + 0.25 + 0.140625).sqrt(), rel = 1e-15);
/// ```
pub fn toeplitz_sensitivity(c: &Toeplitz, n: usize, part: Participation) -> Result<Sensitivity> {
    let coefs = c.coefs_padded(n.min(c.len()).max(1));
    match part {
        Participation::Single => Ok(Sensitivity {
            value: coefs.iter().map(|x| x * x).sum::<f64>().sqrt(),
            kind: SensitivityKind::Exact,
            method: "single participation: ‖c‖₂ (first column)",
        }),
        Participation::MinSeparation { min_sep, .. } => {
            let k = part.effective_k(n);
            let p = effective_bandwidth(&coefs);
            if p <= min_sep && n >= (k - 1) * min_sep + p {
                let norm = coefs.iter().map(|x| x * x).sum::<f64>().sqrt();
                return Ok(Sensitivity {
                    value: (k as f64).sqrt() * norm,
                    kind: SensitivityKind::Exact,
                    method: "banded p ≤ b: √k·‖c‖₂",
                });
            }
            let t = Toeplitz::from_vec(coefs[..p].to_vec());
            if t.is_nonneg_nonincreasing() {
                return Ok(Sensitivity {
                    value: shifted_column_sum_norm(&coefs, n, min_sep, k),
                    kind: SensitivityKind::Exact,
                    method: "Theorem 2: ‖Σ_{i<k} C[:, i·b]‖₂ (non-negative non-increasing C)",
                });
            }
            Err(PrivacyError::SensitivityConditions {
                reason: format!(
                    "b-min-separation (b = {min_sep}, k = {k}) with bandwidth p = {p} > b needs \
                     non-negative non-increasing coefficients (Theorem 2), and these are not; \
                     use minsep_upper_bound (monotone envelope, an upper bound) or \
                     fixed_epoch_sensitivity for fixed-epoch participation with C ≥ 0"
                ),
            })
        }
    }
}

/// An upper bound on the b-min-separation sensitivity of any Toeplitz `C`: Theorem 2
/// applied to the non-increasing envelope of `|c|` (reverse cumulative maximum; what
/// jax_privacy does for non-monotone input, spec §1.4). Equals the exact value when the
/// coefficients already satisfy Theorem 2's conditions.
#[must_use]
pub fn minsep_upper_bound(c: &Toeplitz, n: usize, part: Participation) -> Sensitivity {
    let coefs = c.coefs_padded(n.min(c.len()).max(1));
    let mut env: Vec<f64> = coefs.iter().map(|x| x.abs()).collect();
    for i in (0..env.len().saturating_sub(1)).rev() {
        env[i] = env[i].max(env[i + 1]);
    }
    let (min_sep, k) = match part {
        Participation::Single => (n, 1),
        Participation::MinSeparation { min_sep, .. } => (min_sep, part.effective_k(n)),
    };
    Sensitivity {
        value: shifted_column_sum_norm(&env, n, min_sep, k),
        kind: SensitivityKind::UpperBound,
        method: "Theorem 2 on the non-increasing envelope of |c| (upper bound)",
    }
}

/// Sensitivity over `(k, b)` fixed-epoch patterns `{s, s+b, …}` (`s < b`, up to `k`
/// participations) with aligned rows, for a Toeplitz `C` with non-negative coefficients
/// (then `CᵀC ≥ 0` entrywise and aligned rows are the worst case, spec §3 note on the `A`
/// baseline). All `b` start offsets are evaluated in `O(n·k)` total: the column sum for
/// offset `s` is the offset-0 sum (capped at `k` terms) shifted by `s` and truncated, so its
/// squared norm is a prefix sum.
///
/// # Errors
/// [`PrivacyError::SensitivityConditions`] if a coefficient is negative.
pub fn fixed_epoch_sensitivity(
    c: &Toeplitz,
    n: usize,
    min_sep: usize,
    max_participations: usize,
) -> Result<Sensitivity> {
    let coefs = c.coefs_padded(n.min(c.len()).max(1));
    if coefs.iter().any(|x| *x < 0.0) {
        return Err(PrivacyError::SensitivityConditions {
            reason: "fixed-epoch aligned-rows formula needs non-negative coefficients (CᵀC ≥ 0)"
                .into(),
        });
    }
    let p = effective_bandwidth(&coefs);
    let mut u = vec![0.0; n];
    for i in 0..max_participations {
        let start = i * min_sep;
        if start >= n {
            break;
        }
        let len = p.min(n - start);
        for (uj, cj) in u[start..start + len].iter_mut().zip(&coefs[..len]) {
            *uj += cj;
        }
    }
    // ‖v_s‖² = Σ_{t < n − s} u_t²; maximize over s < min(b, n).
    let mut prefix = 0.0;
    let mut prefixes = Vec::with_capacity(n);
    for x in &u {
        prefix += x * x;
        prefixes.push(prefix);
    }
    let best = (0..min_sep.min(n))
        .map(|s| prefixes[n - 1 - s])
        .fold(0.0_f64, f64::max);
    Ok(Sensitivity {
        value: best.sqrt(),
        kind: SensitivityKind::Exact,
        method: "(k,b) fixed epochs, aligned rows, max over the b start offsets (C ≥ 0)",
    })
}

/// Sensitivity of a dense strategy from its Gram matrix `S = CᵀC`.
///
/// Single participation: `√(max_i S_ii)`. b-min-separation: exact when `S_ij = 0` for
/// `|i − j| ≥ b` (the AOF band constraint; checked to `1e-12·max|S|`): then
/// `sens² = max_π Σ_{i∈π} S_ii` over patterns with separation `≥ b` and at most `k` entries
/// (a dynamic program).
///
/// # Errors
/// [`PrivacyError::SensitivityConditions`] if the band condition fails.
pub fn gram_sensitivity(gram: &Mat<f64>, part: Participation) -> Result<Sensitivity> {
    let n = gram.nrows();
    let diag: Vec<f64> = (0..n).map(|i| gram[(i, i)]).collect();
    match part {
        Participation::Single => Ok(Sensitivity {
            value: diag.iter().fold(0.0_f64, |m, v| m.max(*v)).sqrt(),
            kind: SensitivityKind::Exact,
            method: "single participation: max column norm",
        }),
        Participation::MinSeparation {
            min_sep,
            max_participations,
        } => {
            let scale = (0..n)
                .flat_map(|j| (0..n).map(move |i| (i, j)))
                .fold(0.0_f64, |m, (i, j)| m.max(gram[(i, j)].abs()));
            for j in 0..n {
                for i in (j + min_sep)..n {
                    if gram[(i, j)].abs() > 1e-12 * scale {
                        return Err(PrivacyError::SensitivityConditions {
                            reason: format!(
                                "Gram entry S[{i},{j}] = {} is not 0 although |i − j| ≥ b = {min_sep}; \
                                 the banded-Gram formula needs participations b apart to be orthogonal",
                                gram[(i, j)]
                            ),
                        });
                    }
                }
            }
            let k = part.effective_k(n);
            // dp[c][j]: best sum of c picks among positions 0..j (exclusive of later ones).
            let mut prev = vec![0.0_f64; n + 1];
            let mut best = 0.0_f64;
            for _ in 0..k.min(max_participations) {
                let mut cur = vec![f64::NEG_INFINITY; n + 1];
                for j in 0..n {
                    // pick position j as the latest: previous picks ≤ j − b
                    let before = if j >= min_sep {
                        prev[j + 1 - min_sep]
                    } else {
                        0.0
                    };
                    let with = before + diag[j];
                    cur[j + 1] = cur[j].max(with);
                }
                best = best.max(cur[n]);
                prev = cur;
                // positions with no earlier room: prev[x] for x ≤ 0 handled by `0.0` above,
                // which allows fewer picks (never larger than the true maximum since S_ii ≥ 0).
            }
            Ok(Sensitivity {
                value: best.max(0.0).sqrt(),
                kind: SensitivityKind::Exact,
                method: "banded Gram (S_ij = 0 for |i−j| ≥ b): √(max Σ_{i∈π} S_ii)",
            })
        }
    }
}

/// Brute-force sensitivity over **all** b-min-separation patterns of at most `k`
/// participations with aligned row differences: `max_π ‖Σ_{j∈π} C[:, j]‖₂`. Exact when
/// `CᵀC ≥ 0` entrywise. Exponential in `n`: for tests and the study's unit check only.
///
/// # Errors
/// [`ConfigError`] if `n > 24` (too many patterns) or `min_sep`/`k` is 0.
pub fn brute_force_minsep_sensitivity(
    c: &Mat<f64>,
    min_sep: usize,
    max_participations: usize,
) -> Result<f64> {
    let n = c.ncols();
    if n > 24 || min_sep == 0 || max_participations == 0 {
        return Err(ConfigError::Invalid {
            field: "brute force".into(),
            reason: format!(
                "needs n ≤ 24, b ≥ 1, k ≥ 1; got n = {n}, b = {min_sep}, k = {max_participations}"
            ),
        }
        .into());
    }
    let mut best = 0.0_f64;
    let mut pattern = Vec::new();
    enumerate(c, min_sep, max_participations, 0, &mut pattern, &mut best);
    Ok(best.sqrt())
}

fn enumerate(
    c: &Mat<f64>,
    b: usize,
    k: usize,
    first: usize,
    pattern: &mut Vec<usize>,
    best: &mut f64,
) {
    if !pattern.is_empty() {
        let n = c.nrows();
        let mut s = 0.0;
        for i in 0..n {
            let row: f64 = pattern.iter().map(|&j| c[(i, j)]).sum();
            s += row * row;
        }
        *best = best.max(s);
    }
    if pattern.len() == k {
        return;
    }
    for j in first..c.ncols() {
        pattern.push(j);
        enumerate(c, b, k, j + b, pattern, best);
        pattern.pop();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn participation_validation() {
        assert!(Participation::min_separation(0, 2, 10).is_err());
        assert!(Participation::min_separation(11, 1, 10).is_err());
        assert!(Participation::min_separation(3, 0, 10).is_err());
        assert!(Participation::min_separation(3, 5, 12).is_err()); // (5−1)·3 = 12 ≥ 12
        let p = Participation::min_separation(3, 4, 12).unwrap();
        assert_eq!(p.effective_k(12), 4);
    }

    #[test]
    fn theorem2_equals_brute_force_for_monotone_coefficients() {
        let n = 12;
        // square-root coefficients of prefix sums (positive, decreasing)
        let c = Toeplitz::new(vec![1.0; n]).unwrap().sqrt(n).unwrap();
        let part = Participation::min_separation(3, 4, n).unwrap();
        for p in [1, 2, 3, 5, 12] {
            let cp = c.banded(p).unwrap();
            let s = toeplitz_sensitivity(&cp, n, part).unwrap();
            let bf = brute_force_minsep_sensitivity(&cp.materialize(n), 3, 4).unwrap();
            assert_close!(s.value, bf, rel = 1e-13);
        }
    }

    #[test]
    fn refuses_non_monotone_and_bounds() {
        let n = 12;
        let c = Toeplitz::new(vec![1.0, 0.2, 0.9, 0.1, 0.5]).unwrap();
        let part = Participation::min_separation(3, 4, n).unwrap();
        assert!(matches!(
            toeplitz_sensitivity(&c, n, part),
            Err(PrivacyError::SensitivityConditions { .. })
        ));
        let ub = minsep_upper_bound(&c, n, part);
        let bf = brute_force_minsep_sensitivity(&c.materialize(n), 3, 4).unwrap();
        assert!(ub.value >= bf);
        // increasing coefficients (C = A with momentum): fixed-epoch ≤ brute force over all
        // min-sep patterns
        let a = Toeplitz::new(crate::workload::momentum_coefs(1.0, 0.9, n)).unwrap();
        let fe = fixed_epoch_sensitivity(&a, n, 3, 4).unwrap();
        let bf = brute_force_minsep_sensitivity(&a.materialize(n), 3, 4).unwrap();
        assert!(fe.value <= bf * (1.0 + 1e-14));
    }

    #[test]
    fn fixed_epoch_equals_enumeration_of_offsets() {
        let n = 11;
        let a = Toeplitz::new(crate::workload::momentum_coefs(1.0, 0.9, n)).unwrap();
        let m = a.materialize(n);
        let (b, k) = (3, 4);
        let mut best = 0.0_f64;
        for s in 0..b {
            let cols: Vec<usize> = (0..k).map(|i| s + i * b).filter(|&j| j < n).collect();
            let mut t = 0.0;
            for i in 0..n {
                let r: f64 = cols.iter().map(|&j| m[(i, j)]).sum();
                t += r * r;
            }
            best = best.max(t);
        }
        let fe = fixed_epoch_sensitivity(&a, n, b, k).unwrap();
        assert_close!(fe.value, best.sqrt(), rel = 1e-14);
    }

    #[test]
    fn gram_sensitivity_banded() {
        let n = 6;
        let mut s = Mat::<f64>::identity(n, n);
        s[(1, 0)] = 0.3;
        s[(0, 1)] = 0.3;
        let part = Participation::min_separation(2, 3, n).unwrap();
        let v = gram_sensitivity(&s, part).unwrap();
        assert_close!(v.value, 3.0_f64.sqrt(), rel = 1e-15);
        s[(3, 0)] = 0.1;
        s[(0, 3)] = 0.1;
        assert!(gram_sensitivity(&s, part).is_err());
    }
}
