//! Errors of the core crate.

/// Result alias with [`CoreError`] as the default error type.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// A configuration value that failed validation.
///
/// Every variant names the field, the offending value and the allowed range, so that the
/// message alone tells the user what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A real-valued field outside its allowed range (NaN included).
    #[error("`{field}` must be in {allowed}, got {value}")]
    OutOfRange {
        /// Name of the field, as spelled in configs and flags.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// Human-readable allowed range, e.g. `[0, 1)`.
        allowed: &'static str,
    },
    /// An integer field outside its allowed range.
    #[error("`{field}` must be in {allowed}, got {value}")]
    OutOfRangeInt {
        /// Name of the field.
        field: &'static str,
        /// The rejected value.
        value: i128,
        /// Human-readable allowed range.
        allowed: &'static str,
    },
    /// Two sizes that must agree do not.
    #[error("dimension mismatch in {op}: expected {expected}, got {got}")]
    Dim {
        /// The operation or field that checked the shape.
        op: &'static str,
        /// The expected size.
        expected: usize,
        /// The size that was given.
        got: usize,
    },
    /// Any other invalid value, with a free-form explanation.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// Name of the field.
        field: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
}

impl ConfigError {
    /// Checks `lo <= value <= hi` (finite), naming `field` and `allowed` in the error.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] when `value` is NaN or outside the closed interval.
    pub fn check_closed(
        field: &'static str,
        value: f64,
        lo: f64,
        hi: f64,
        allowed: &'static str,
    ) -> Result<f64, ConfigError> {
        if value >= lo && value <= hi {
            Ok(value)
        } else {
            Err(ConfigError::OutOfRange {
                field,
                value,
                allowed,
            })
        }
    }

    /// Checks `lo <= value < hi`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] when `value` is NaN or outside the half-open interval.
    pub fn check_half_open(
        field: &'static str,
        value: f64,
        lo: f64,
        hi: f64,
        allowed: &'static str,
    ) -> Result<f64, ConfigError> {
        if value >= lo && value < hi {
            Ok(value)
        } else {
            Err(ConfigError::OutOfRange {
                field,
                value,
                allowed,
            })
        }
    }

    /// Checks that `value` is finite and `>= 0`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] otherwise, with allowed range `[0, ∞)`.
    pub fn check_non_negative(field: &'static str, value: f64) -> Result<f64, ConfigError> {
        Self::check_closed(field, value, 0.0, f64::MAX, "[0, ∞)")
    }

    /// Checks that `value` is finite and `> 0`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] otherwise, with allowed range `(0, ∞)`.
    pub fn check_positive(field: &'static str, value: f64) -> Result<f64, ConfigError> {
        if value > 0.0 && value <= f64::MAX {
            Ok(value)
        } else {
            Err(ConfigError::OutOfRange {
                field,
                value,
                allowed: "(0, ∞)",
            })
        }
    }
}

/// An error raised while applying one optimizer step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The update buffer, parameters or state have inconsistent lengths.
    #[error("dimension mismatch in {op}: expected {expected}, got {got}")]
    Dim {
        /// The block that checked the shape.
        op: &'static str,
        /// The expected length.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// The block needs the loss (e.g. a Polyak step) and the caller gave none.
    #[error("{op} needs the loss value in StepCtx, but none was given")]
    MissingLoss {
        /// The block that needed the loss.
        op: &'static str,
    },
    /// A type-erased state did not have the expected concrete type.
    #[error("state of {op} has the wrong type (was it created by another transform?)")]
    StateType {
        /// The block whose state was mismatched.
        op: &'static str,
    },
}

/// An error raised by an [`crate::runner::Observer`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserveError {
    /// An I/O failure while recording.
    #[error("observer I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Any other failure, explained.
    #[error("observer failed: {0}")]
    Other(String),
}

/// The umbrella error of `gdlab-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Failure inside a step.
    #[error(transparent)]
    Step(#[from] StepError),
    /// Failure inside an observer.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// File-system failure, with the path involved.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("writing", "renaming", ...).
        op: &'static str,
        /// The path involved.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A linear-algebra routine failed (e.g. an eigen-solver did not converge).
    #[error("linear algebra failure in {op}: {reason}")]
    Linalg {
        /// The routine.
        op: &'static str,
        /// Why it failed.
        reason: String,
    },
}
