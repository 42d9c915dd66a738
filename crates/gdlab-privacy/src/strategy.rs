//! Strategies `C` (and decoders `B = A C⁻¹`): identity, `C = A`, full square root, BSR and
//! AOF, all with the same shape: [`factorize`] builds a [`Factorization`] that exposes the
//! strategy's coefficients, [`Factorization::materialize`], its sensitivity, the error
//! metrics and a streaming noise generator ([`Factorization::noising`]).

use faer::Mat;
use gdlab_core::ConfigError;
use serde::Serialize;

use crate::aof::{optimize, AofOptions, AofResult};
use crate::error::{PrivacyError, Result};
use crate::metrics::{errors_from_norms, ErrorMetrics};
use crate::noise::Noising;
use crate::sensitivity::{
    fixed_epoch_sensitivity, gram_sensitivity, toeplitz_sensitivity, Participation, Sensitivity,
};
use crate::toeplitz::Toeplitz;
use crate::workload::Workload;

/// Which factorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// `C = I`, `B = A` (plain DP-SGD noise; the paper's "Id", `A = A·Id`).
    Identity,
    /// `C = A`, `B = I` (noise on the output; the paper's "A", `A = Id·A`).
    Workload,
    /// Full square root `C = B = A^{1/2}`.
    Sqrt,
    /// Banded square root with bandwidth `p` (the paper's BSR; `p = 1` is the identity and
    /// `p = n` the full square root).
    Bsr {
        /// Bandwidth `p ≥ 1` (diagonal included).
        bandwidth: usize,
    },
    /// Approximately optimal factorization by numerical optimization (spec §3).
    Aof,
}

impl StrategyKind {
    /// Short name: `identity`, `a`, `sqrt`, `bsr`, `aof`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            StrategyKind::Identity => "identity",
            StrategyKind::Workload => "a",
            StrategyKind::Sqrt => "sqrt",
            StrategyKind::Bsr { .. } => "bsr",
            StrategyKind::Aof => "aof",
        }
    }
}

/// The strategy matrix `C`: Toeplitz coefficients, or a dense matrix (AOF).
#[derive(Clone, Debug)]
pub enum StrategyMatrix {
    /// Lower-triangular Toeplitz (coefficients; zeros beyond).
    Toeplitz(Toeplitz),
    /// Dense lower-triangular `C` with its Gram matrix `S = CᵀC` (AOF).
    Dense {
        /// `C`.
        strategy: Mat<f64>,
        /// `S = CᵀC`.
        gram: Mat<f64>,
    },
}

/// A factorization `A = B C` of a workload, with its sensitivity and errors.
#[derive(Clone, Debug)]
pub struct Factorization {
    /// Which strategy.
    pub kind: StrategyKind,
    /// Size `n`.
    pub n: usize,
    /// Participation scheme the sensitivity refers to.
    pub participation: Participation,
    /// `C`.
    pub strategy: StrategyMatrix,
    /// `B = A C⁻¹` as Toeplitz coefficients (Toeplitz strategies only).
    pub decoder: Option<Toeplitz>,
    /// `sens(C)`.
    pub sensitivity: Sensitivity,
    /// `E`, MaxSE, MeanSE.
    pub errors: ErrorMetrics,
    /// AOF solver details (AOF only).
    pub aof: Option<AofResult>,
}

impl Factorization {
    /// The dense `C` (`n × n`).
    #[must_use]
    pub fn materialize(&self) -> Mat<f64> {
        match &self.strategy {
            StrategyMatrix::Toeplitz(t) => t.materialize(self.n),
            StrategyMatrix::Dense { strategy, .. } => strategy.clone(),
        }
    }

    /// The Toeplitz coefficients of `C`, if it is Toeplitz.
    #[must_use]
    pub fn coefficients(&self) -> Option<&Toeplitz> {
        match &self.strategy {
            StrategyMatrix::Toeplitz(t) => Some(t),
            StrategyMatrix::Dense { .. } => None,
        }
    }

    /// The streaming solver for `w = C⁻¹ z` (see [`Noising`]).
    ///
    /// # Errors
    /// [`PrivacyError`] if `C` is not lower triangular with a nonzero diagonal.
    pub fn noising(&self) -> Result<Noising> {
        match &self.strategy {
            StrategyMatrix::Toeplitz(t) => Noising::toeplitz(t.clone()),
            StrategyMatrix::Dense { strategy, .. } => Noising::dense_lower(strategy),
        }
    }
}

/// BSR coefficients `c_0..c_{p−1}` of the workload's square root (spec §2.1–2.2): the
/// paper's Theorem 1 closed form for momentum/weight-decay workloads
/// ([`sqrt_closed_form`]), the generic recursion otherwise.
///
/// # Errors
/// [`ConfigError`] for `bandwidth = 0` or `> n`.
pub fn bsr_coefficients(workload: &Workload, bandwidth: usize) -> Result<Toeplitz> {
    let n = workload.n();
    check_bandwidth(bandwidth, n)?;
    match workload.alpha_beta() {
        Some((alpha, beta)) => Ok(Toeplitz::from_vec(sqrt_closed_form(alpha, beta, bandwidth))),
        None => workload.coefs().sqrt(bandwidth),
    }
}

fn check_bandwidth(bandwidth: usize, n: usize) -> Result<()> {
    if bandwidth == 0 || bandwidth > n {
        return Err(ConfigError::Invalid {
            field: "bandwidth".into(),
            reason: format!("must be in [1, n = {n}], got {bandwidth}"),
        }
        .into());
    }
    Ok(())
}

/// Theorem 1: the square root of `A_{α,β}` has generating function
/// `(1 − αx)^{−1/2}(1 − βx)^{−1/2}`, so `c_m = Σ_{i=0}^{m} α^{m−i} r_{m−i} β^i r_i` with
/// `r_m = binom(2m, m)/4^m` (`r_0 = 1`, `r_m = r_{m−1}(m − 1/2)/m`). First `len`
/// coefficients.
///
/// `α = β` gives `c_m = α^m` (used directly). For `β < α` the `β`-series is truncated once
/// its terms underflow below `f64::MIN_POSITIVE` (exact in f64), so the cost is
/// `O(len · min(len, L_β))` with `L_β ≈ 700/ln(1/β)` — `O(len)` for `β = 0`.
///
/// # Examples
/// ```
/// use gdlab_privacy::strategy::sqrt_closed_form;
/// let c = sqrt_closed_form(1.0, 0.9, 4);
/// gdlab_core::assert_close!(c, [1.0, 0.95, 0.90375, 0.8609375], rel = 1e-14);
/// ```
#[must_use]
#[allow(clippy::float_cmp)] // α = β exactly selects the division-free special case
pub fn sqrt_closed_form(alpha: f64, beta: f64, len: usize) -> Vec<f64> {
    if alpha == beta {
        let mut v = Vec::with_capacity(len);
        let mut p = 1.0;
        for _ in 0..len {
            v.push(p);
            p *= alpha;
        }
        return v;
    }
    let series = |ratio: f64, cap: usize| {
        let mut v = Vec::with_capacity(cap);
        let (mut r, mut pw) = (1.0_f64, 1.0_f64);
        for m in 0..cap {
            if m > 0 {
                r *= (m as f64 - 0.5) / m as f64;
                pw *= ratio;
            }
            let t = pw * r;
            if m > 0 && t.abs() < f64::MIN_POSITIVE {
                break;
            }
            v.push(t);
        }
        v
    };
    let sa = series(alpha, len);
    let sb = series(beta, len);
    let mut c = vec![0.0; len];
    for (m, cm) in c.iter_mut().enumerate() {
        let mut s = 0.0;
        for (i, bi) in sb.iter().enumerate().take(m + 1) {
            if let Some(a) = sa.get(m - i) {
                s += a * bi;
            }
        }
        *cm = s;
    }
    c
}

/// Builds the factorization `kind` of `workload` and evaluates it under `participation`.
///
/// Sensitivities: identity, square root and BSR through
/// [`toeplitz_sensitivity`] (exact; refuses if Theorem 2's conditions fail); `C = A`
/// through the same when its coefficients are non-increasing (prefix sums, weight decay
/// only), else — momentum makes them increase — through [`fixed_epoch_sensitivity`], the
/// aligned-rows maximum over the `b` start offsets of fixed-epoch patterns (spec §3 note and
/// §6.3's `A` column); AOF through [`gram_sensitivity`].
///
/// # Errors
/// [`ConfigError`] for a bandwidth outside `[1, n]`; [`PrivacyError`] from the sensitivity
/// or the AOF solver.
///
/// # Examples
/// ```
/// use gdlab_privacy::sensitivity::Participation;
/// use gdlab_privacy::strategy::{factorize, StrategyKind};
/// use gdlab_privacy::workload::Workload;
/// let a = Workload::momentum(1.0, 0.0, 200).unwrap();
/// let part = Participation::min_separation(100, 2, 200).unwrap();
/// let bsr = factorize(&a, StrategyKind::Bsr { bandwidth: 100 }, part, None).unwrap();
/// // spec §6.3: E = 3.645 at n = 200, b = 100, k = 2
/// assert!((bsr.errors.rmse - 3.645).abs() < 5e-4);
/// let id = factorize(&a, StrategyKind::Identity, part, None).unwrap();
/// gdlab_core::assert_close!(id.errors.rmse, (2.0f64 * 201.0 / 2.0).sqrt(), rel = 1e-12);
/// ```
pub fn factorize(
    workload: &Workload,
    kind: StrategyKind,
    participation: Participation,
    aof_options: Option<AofOptions>,
) -> Result<Factorization> {
    let n = workload.n();
    if let Participation::MinSeparation {
        min_sep,
        max_participations,
    } = participation
    {
        // re-validate against this n
        Participation::min_separation(min_sep, max_participations, n)?;
    }
    let a = workload.coefs();
    let toeplitz = |c: Toeplitz, sens: Sensitivity| -> Result<Factorization> {
        // B = A C⁻¹ by series division (O(n·p)); closed forms where division would cost
        // O(n²): C = A gives B = I, the full square root gives B = C.
        let b = match kind {
            StrategyKind::Workload => Toeplitz::identity(),
            StrategyKind::Sqrt => c.clone(),
            _ => a.divide(&c, n)?,
        };
        let errors = errors_from_norms(b.frobenius_sq(n), b.last_row_norm_sq(n), n, sens.value);
        Ok(Factorization {
            kind,
            n,
            participation,
            strategy: StrategyMatrix::Toeplitz(c),
            decoder: Some(b),
            sensitivity: sens,
            errors,
            aof: None,
        })
    };
    match kind {
        StrategyKind::Identity => {
            let c = Toeplitz::identity();
            let s = toeplitz_sensitivity(&c, n, participation)?;
            toeplitz(c, s)
        }
        StrategyKind::Workload => {
            let c = a.clone();
            let s = match participation {
                Participation::MinSeparation {
                    min_sep,
                    max_participations,
                } if !c.is_nonneg_nonincreasing() => {
                    fixed_epoch_sensitivity(&c, n, min_sep, max_participations)?
                }
                _ => toeplitz_sensitivity(&c, n, participation)?,
            };
            toeplitz(c, s)
        }
        StrategyKind::Sqrt | StrategyKind::Bsr { .. } => {
            let p = match kind {
                StrategyKind::Bsr { bandwidth } => bandwidth,
                _ => n,
            };
            let c = bsr_coefficients(workload, p)?;
            let s = toeplitz_sensitivity(&c, n, participation)?;
            toeplitz(c, s)
        }
        StrategyKind::Aof => {
            let r = optimize(workload, participation, aof_options.unwrap_or_default())?;
            let strategy = r.strategy()?;
            let sens = gram_sensitivity(&r.gram, participation)?;
            let max_row = r.row_norms_sq.iter().fold(0.0_f64, |m, v| m.max(*v));
            let errors = errors_from_norms(r.trace, max_row, n, sens.value);
            if !errors.rmse.is_finite() {
                return Err(PrivacyError::numerical("aof", "non-finite error"));
            }
            Ok(Factorization {
                kind,
                n,
                participation,
                strategy: StrategyMatrix::Dense {
                    strategy,
                    gram: r.gram.clone(),
                },
                decoder: None,
                sensitivity: sens,
                errors,
                aof: Some(r),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)] // exact zeros are what these tests check
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn closed_form_equals_recursion_and_reconstructs() {
        for (al, be) in [
            (1.0, 0.0),
            (0.999, 0.0),
            (1.0, 0.9),
            (0.999, 0.9),
            (0.99, 0.5),
            (0.9, 0.9),
        ] {
            let n = 500;
            let w = Workload::momentum(al, be, n).unwrap();
            let closed = sqrt_closed_form(al, be, n);
            let rec = w.coefs().sqrt(n).unwrap();
            let diff = closed
                .iter()
                .zip(rec.coefs())
                .fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff <= 1e-12, "({al},{be}): {diff}");
            let c = Toeplitz::new(closed).unwrap();
            let cc = c.multiply(&c, n);
            assert_close!(cc.coefs(), w.coefs().coefs(), rel = 1e-12);
            assert!(c.is_nonneg_nonincreasing() || al == be && be == 1.0);
        }
    }

    #[test]
    fn reconstruct_dense_b_c_equals_a() {
        let n = 30;
        let w = Workload::momentum(0.999, 0.9, n).unwrap();
        let part = Participation::min_separation(10, 3, n).unwrap();
        let f = factorize(&w, StrategyKind::Bsr { bandwidth: 10 }, part, None).unwrap();
        let b = f.decoder.as_ref().unwrap().materialize(n);
        let bc = &b * &f.materialize();
        let am = w.coefs().materialize(n);
        let scale = am.norm_max();
        assert!(gdlab_core::linalg::max_abs_diff(&bc, &am) <= 1e-12 * scale);
    }

    #[test]
    fn baseline_closed_forms_pin_the_normalization() {
        // spec §1.5 / §7.1 item 1: (1,0), k = 1: E_Id = √((n+1)/2), E_A = √n.
        for n in [100, 500] {
            let w = Workload::momentum(1.0, 0.0, n).unwrap();
            let id = factorize(&w, StrategyKind::Identity, Participation::Single, None).unwrap();
            let a = factorize(&w, StrategyKind::Workload, Participation::Single, None).unwrap();
            assert_close!(id.errors.rmse, ((n as f64 + 1.0) / 2.0).sqrt(), rel = 1e-12);
            assert_close!(a.errors.rmse, (n as f64).sqrt(), rel = 1e-12);
        }
    }

    #[test]
    fn spec_reference_values() {
        // spec §6.3, multi-participation b = 100, p = 100
        let cases = [
            (1.0, 0.0, 200, 3.645, 3.952, 14.18, 22.36),
            (1.0, 0.0, 1000, 12.10, 15.72, 70.75, 196.2),
            (1.0, 0.9, 1000, 88.72, 121.8, 697.8, 1938.0),
            (0.999, 0.9, 2000, 110.3, 161.0, 861.2, 2816.0),
        ];
        for (al, be, n, bsr, sq, id, aa) in cases {
            let w = Workload::momentum(al, be, n).unwrap();
            let part = Participation::min_separation(100, n / 100, n).unwrap();
            let e = |k| factorize(&w, k, part, None).unwrap().errors.rmse;
            assert_close!(e(StrategyKind::Bsr { bandwidth: 100 }), bsr, rel = 5e-4);
            assert_close!(e(StrategyKind::Sqrt), sq, rel = 5e-4);
            assert_close!(e(StrategyKind::Identity), id, rel = 5e-4);
            assert_close!(e(StrategyKind::Workload), aa, rel = 5e-4);
        }
        // single participation sqrt
        let w = Workload::momentum(1.0, 0.9, 1000).unwrap();
        let f = factorize(&w, StrategyKind::Sqrt, Participation::Single, None).unwrap();
        assert_close!(f.errors.rmse, 21.58, rel = 5e-4);
    }

    #[test]
    fn bad_bandwidth() {
        let w = Workload::prefix_sum(10).unwrap();
        assert!(factorize(
            &w,
            StrategyKind::Bsr { bandwidth: 0 },
            Participation::Single,
            None
        )
        .is_err());
        assert!(factorize(
            &w,
            StrategyKind::Bsr { bandwidth: 11 },
            Participation::Single,
            None
        )
        .is_err());
    }
}
