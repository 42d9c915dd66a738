//! Errors of `gdlab-wasserstein`.

/// Result alias with [`WassersteinError`] as the default error type.
pub type Result<T, E = WassersteinError> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate. Every variant names the field or operation,
/// the offending value and, where there is one, the allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WassersteinError {
    /// A real-valued parameter outside its allowed range (NaN included).
    #[error("`{field}` must be in {allowed}, got {value}")]
    OutOfRange {
        /// Name of the parameter.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed range, e.g. `(0, ∞)`.
        allowed: &'static str,
    },
    /// Two sizes that must agree do not.
    #[error("dimension mismatch in {op}: expected {expected}, got {got}")]
    Dim {
        /// The operation that checked the shape.
        op: &'static str,
        /// The expected size.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A non-finite number in an input or an intermediate result.
    #[error("{what}: element {index} is not finite ({value})")]
    NonFinite {
        /// What was checked (e.g. `particles`, `gradient at step 3`).
        what: String,
        /// Flat (row-major) index of the first bad element.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A particle outside the domain of a mirror map.
    #[error("particle {particle} is outside the domain of the {map} mirror map ({domain})")]
    OutsideDomain {
        /// Mirror map name.
        map: &'static str,
        /// Row index of the particle.
        particle: usize,
        /// The domain, in words.
        domain: &'static str,
    },
    /// A matrix that must be symmetric positive definite is not.
    #[error("`{what}` must be symmetric positive definite: {reason}")]
    NotPositiveDefinite {
        /// The matrix's name.
        what: &'static str,
        /// What failed (asymmetry or the smallest eigenvalue).
        reason: String,
    },
    /// Newton's method for the implicit mirror step did not converge.
    #[error(
        "Newton solve of the implicit mirror step did not converge at step {step}: \
         step norm {step_norm:e} > tolerance {tol:e} after {iterations} iterations \
         (cap {max_iterations})"
    )]
    NewtonNotConverged {
        /// The mirror-descent step (0-based).
        step: usize,
        /// Iterations run.
        iterations: usize,
        /// The iteration cap.
        max_iterations: usize,
        /// The last Newton step norm `‖Y_prev − Y‖_F`.
        step_norm: f64,
        /// The tolerance.
        tol: f64,
    },
    /// The Sinkhorn iterations did not reach their marginal tolerance.
    #[error(
        "Sinkhorn did not converge: L1 marginal error {marginal_error:e} > tolerance {tol:e} \
         after {iterations} iterations (cap reached or non-finite)"
    )]
    SinkhornNotConverged {
        /// Iterations run.
        iterations: usize,
        /// The last L1 marginal error.
        marginal_error: f64,
        /// The tolerance.
        tol: f64,
    },
    /// A linear-algebra routine failed.
    #[error("linear algebra failed in {op}: {reason}")]
    Linalg {
        /// The operation.
        op: &'static str,
        /// Why.
        reason: String,
    },
    /// Any other invalid input.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
}

/// Checks that `value > 0` and finite.
pub(crate) fn check_positive(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(WassersteinError::OutOfRange {
            field,
            value,
            allowed: "(0, ∞)",
        })
    }
}

/// The first non-finite element, as an error naming `what`.
pub(crate) fn check_finite(what: impl FnOnce() -> String, xs: &[f64]) -> Result<()> {
    match xs.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(WassersteinError::NonFinite {
            what: what(),
            index,
            value: xs[index],
        }),
    }
}
