//! Errors of the optimizer crate.

use gdlab_core::{ConfigError, StepError};

/// Result alias with [`SpecError`] as the default error.
pub type Result<T, E = SpecError> = std::result::Result<T, E>;

/// An optimizer specification that could not be parsed or built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The text does not have the form `name(key=value,...)`.
    #[error(
        "malformed optimizer spec `{spec}`: {reason} (expected e.g. `adam(lr=1e-3,beta1=0.9)`)"
    )]
    Syntax {
        /// The text given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// No optimizer of that name.
    #[error("unknown optimizer `{name}`; known: {known}")]
    UnknownOptimizer {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: &'static str,
    },
    /// A key the optimizer does not take.
    #[error("`{optimizer}` has no parameter `{key}`; allowed: {allowed}")]
    UnknownKey {
        /// The optimizer.
        optimizer: &'static str,
        /// The key given.
        key: String,
        /// The allowed keys, comma-separated.
        allowed: &'static str,
    },
    /// A key given twice.
    #[error("parameter `{key}` given twice in `{spec}`")]
    DuplicateKey {
        /// The key.
        key: String,
        /// The whole spec.
        spec: String,
    },
    /// A value that is not a number (or boolean, where one is expected).
    #[error("`{key}` must be {expected}, got `{value}`")]
    BadValue {
        /// The key.
        key: String,
        /// The text given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value outside its range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A variance-reduced optimizer (`ssvr`, `ssvr_fs`) asked for as a plain transform.
    ///
    /// Its direction needs a gradient estimator (two gradients per step on one sample), so
    /// it is built with [`OptimizerSpec::build_with_estimator`](crate::OptimizerSpec::build_with_estimator).
    #[error(
        "`{optimizer}` is variance-reduced: it needs a gradient estimator (several gradients \
         per step on one sample), not a plain gradient; build it with \
         `OptimizerSpec::build_with_estimator`, or replay it with {rows} gradient rows per step"
    )]
    NeedsEstimator {
        /// The optimizer.
        optimizer: &'static str,
        /// Gradient rows per step its replay takes.
        rows: usize,
    },
}

/// A replay whose inputs do not fit the optimizer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The gradients of one step do not have the shape the optimizer needs.
    #[error(
        "gradients for `{optimizer}` must have shape (n_steps, {rows}, dim) with rows \
         [{layout}]; step {step} has {got}"
    )]
    Shape {
        /// The optimizer.
        optimizer: &'static str,
        /// Rows per step the optimizer needs.
        rows: usize,
        /// What the rows are, e.g. `g_t, g_prev_t`.
        layout: &'static str,
        /// The 0-based step whose gradients are mis-shaped.
        step: usize,
        /// What that step has, e.g. `3 rows` or `a row of 5 (dim = 6)`.
        got: String,
    },
    /// The optimizer cannot be replayed with the settings given.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A block rejected a step.
    #[error(transparent)]
    Step(#[from] StepError),
}

impl From<ConfigError> for ReplayError {
    fn from(e: ConfigError) -> Self {
        ReplayError::Spec(SpecError::Config(e))
    }
}
