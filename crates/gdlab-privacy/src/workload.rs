//! Workloads `A`: the lower-triangular Toeplitz matrices that map gradients to iterates
//! (spec §1.2).

use gdlab_core::ConfigError;

use crate::error::Result;
use crate::toeplitz::Toeplitz;

/// Which workload family, with its parameters (kept for the closed-form square root).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WorkloadKind {
    /// Prefix sums `a_m = 1` (plain SGD / DP-FTRL), the same as `Momentum{1, 0}`.
    PrefixSum,
    /// SGD with heavy-ball momentum `β` and multiplicative weight decay `α`:
    /// `a_m = (α^{m+1} − β^{m+1})/(α − β)` (`(m+1)α^m` when `α = β`).
    Momentum {
        /// Weight-decay multiplier `α ∈ (0, 1]` (1 = no decay).
        alpha: f64,
        /// Momentum `β ∈ [0, α]`.
        beta: f64,
    },
    /// Any user-given coefficient vector.
    Custom,
}

/// A workload matrix `A` of size `n` (its Toeplitz coefficients `a_0..a_{n−1}`).
///
/// # Examples
/// ```
/// use gdlab_privacy::workload::Workload;
/// let a = Workload::momentum(1.0, 0.9, 4).unwrap();
/// // a_m = Σ_i β^i: 1, 1.9, 2.71, 3.439
/// gdlab_core::assert_close!(a.coefs().coefs(), [1.0, 1.9, 2.71, 3.439], rel = 1e-15);
/// assert!(Workload::momentum(0.9, 0.95, 4).is_err()); // β > α
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    kind: WorkloadKind,
    coefs: Toeplitz,
}

fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "n",
            value: 0,
            allowed: "[1, ∞)",
        }
        .into());
    }
    Ok(())
}

/// Validates `α ∈ (0, 1]`, `β ∈ [0, α]` (spec §1.2: `0 ≤ β < α ≤ 1` in the paper; the
/// closed form also holds at `α = β`, spec §2.1).
///
/// # Errors
/// [`ConfigError::OutOfRange`] naming `alpha` or `beta`.
pub fn check_alpha_beta(alpha: f64, beta: f64) -> Result<()> {
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(ConfigError::OutOfRange {
            field: "alpha",
            value: alpha,
            allowed: "(0, 1] (multiplicative weight decay; 1 = none)",
        }
        .into());
    }
    if !(beta >= 0.0 && beta <= alpha) {
        return Err(ConfigError::OutOfRange {
            field: "beta",
            value: beta,
            allowed: "[0, alpha] (momentum must not exceed the weight-decay multiplier)",
        }
        .into());
    }
    Ok(())
}

impl Workload {
    /// Prefix sums of size `n`.
    ///
    /// # Errors
    /// [`ConfigError`] for `n = 0`.
    pub fn prefix_sum(n: usize) -> Result<Self> {
        check_n(n)?;
        Ok(Workload {
            kind: WorkloadKind::PrefixSum,
            coefs: Toeplitz::from_vec(vec![1.0; n]),
        })
    }

    /// SGD with momentum `β` and weight-decay multiplier `α` (spec §1.2), size `n`.
    ///
    /// # Errors
    /// [`ConfigError`] for `n = 0`, `α ∉ (0, 1]` or `β ∉ [0, α]`.
    pub fn momentum(alpha: f64, beta: f64, n: usize) -> Result<Self> {
        check_n(n)?;
        check_alpha_beta(alpha, beta)?;
        Ok(Workload {
            kind: WorkloadKind::Momentum { alpha, beta },
            coefs: Toeplitz::from_vec(momentum_coefs(alpha, beta, n)),
        })
    }

    /// A user-given workload (first column of `A`).
    ///
    /// # Errors
    /// [`ConfigError`] if `coefs` is empty, non-finite, or `a_0 ≤ 0` (the square root needs a
    /// positive diagonal).
    pub fn custom(coefs: Vec<f64>) -> Result<Self> {
        let t = Toeplitz::new(coefs)?;
        if t.coefs()[0] <= 0.0 {
            return Err(ConfigError::OutOfRange {
                field: "a_0",
                value: t.coefs()[0],
                allowed: "(0, ∞)",
            }
            .into());
        }
        Ok(Workload {
            kind: WorkloadKind::Custom,
            coefs: t,
        })
    }

    /// The family and parameters.
    #[must_use]
    pub fn kind(&self) -> &WorkloadKind {
        &self.kind
    }

    /// The size `n`.
    #[must_use]
    pub fn n(&self) -> usize {
        self.coefs.len()
    }

    /// The Toeplitz coefficients.
    #[must_use]
    pub fn coefs(&self) -> &Toeplitz {
        &self.coefs
    }

    /// `(α, β)` for prefix sums (`(1, 0)`) and momentum workloads; `None` for custom ones.
    #[must_use]
    pub fn alpha_beta(&self) -> Option<(f64, f64)> {
        match self.kind {
            WorkloadKind::PrefixSum => Some((1.0, 0.0)),
            WorkloadKind::Momentum { alpha, beta } => Some((alpha, beta)),
            WorkloadKind::Custom => None,
        }
    }
}

/// `a_m = (α^{m+1} − β^{m+1})/(α − β)` for `m < n`, and `(m+1)α^m` when `α = β`
/// (computed as the running sum `a_m = α a_{m−1} + β^m`, which needs no division).
#[must_use]
pub fn momentum_coefs(alpha: f64, beta: f64, n: usize) -> Vec<f64> {
    let mut a = Vec::with_capacity(n);
    let mut prev = 0.0;
    let mut bpow = 1.0;
    for _ in 0..n {
        let v = alpha * prev + bpow;
        a.push(v);
        prev = v;
        bpow *= beta;
    }
    a
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    #[test]
    fn momentum_matches_the_closed_form_and_limit() {
        let (al, be) = (0.999, 0.9);
        let a = momentum_coefs(al, be, 200);
        for (m, v) in a.iter().enumerate() {
            let m1 = (m + 1) as i32;
            let closed = (al.powi(m1) - be.powi(m1)) / (al - be);
            assert_close!(*v, closed, rel = 1e-12);
        }
        let eq = momentum_coefs(0.9, 0.9, 50);
        for (m, v) in eq.iter().enumerate() {
            assert_close!(*v, (m as f64 + 1.0) * 0.9_f64.powi(m as i32), rel = 1e-13);
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Workload::momentum(1.1, 0.0, 3).is_err());
        assert!(Workload::momentum(0.0, 0.0, 3).is_err());
        assert!(Workload::momentum(1.0, -0.1, 3).is_err());
        assert!(Workload::momentum(f64::NAN, 0.0, 3).is_err());
        assert!(Workload::momentum(1.0, 0.0, 0).is_err());
        assert!(Workload::custom(vec![0.0, 1.0]).is_err());
        assert_eq!(Workload::prefix_sum(3).unwrap().coefs().coefs(), &[1.0; 3]);
    }
}
