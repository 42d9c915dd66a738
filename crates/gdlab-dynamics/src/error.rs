//! Errors of the dynamics crate.
//!
//! Every variant names the field at fault, the value given and what is allowed, so the
//! message alone tells the user what to change.

use gdlab_core::error::ConfigError;

/// Result alias with [`DynamicsError`] as the default error type.
pub type Result<T, E = DynamicsError> = std::result::Result<T, E>;

/// An error of `gdlab-dynamics`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DynamicsError {
    /// A configuration value outside its allowed range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The overlaps asked for admit no teachers/shift with that Gram matrix (spec §2.1).
    #[error("invalid overlap geometry: {reason}")]
    Geometry {
        /// What is impossible and why.
        reason: String,
    },
    /// The adaptive integrator could not keep its error below tolerance.
    #[error("ODE integrator: step size underflow at t = {t} (h = {h}); the system is stiff or not finite there")]
    StepUnderflow {
        /// Time at which the step size fell below its floor.
        t: f64,
        /// The last step size tried.
        h: f64,
    },
    /// The integrator exceeded its step budget.
    #[error("ODE integrator: more than {max_steps} steps before t = {t_end}")]
    TooManySteps {
        /// The budget.
        max_steps: usize,
        /// The requested end time.
        t_end: f64,
    },
    /// The closed form has a vanishing denominator (two equal rates, spec §2.3c).
    #[error("closed form undefined: {what} (degenerate rates); integrate the ODE instead")]
    Degenerate {
        /// Which denominator vanished.
        what: &'static str,
    },
}
