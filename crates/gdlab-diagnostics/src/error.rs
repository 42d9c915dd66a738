//! The error type of `gdlab-diagnostics`.

use std::path::PathBuf;

use gdlab_core::ConfigError;

/// Everything that can go wrong estimating a tail index or reading a trajectory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiagError {
    /// An invalid configuration value (α, K1, number of directions, …).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The sample is too short for the estimator.
    #[error("{what}: {got} samples, needs at least {needed}")]
    TooShort {
        /// What was being estimated.
        what: String,
        /// Samples available.
        got: usize,
        /// Samples needed.
        needed: usize,
    },
    /// A NaN or infinite input value.
    #[error("non-finite value {value} at row {row}, column {col}")]
    NonFinite {
        /// Row (time step) of the value, 0-based.
        row: usize,
        /// Column of the value, 0-based.
        col: usize,
        /// The value.
        value: f64,
    },
    /// Inconsistent shapes.
    #[error("shape mismatch in {op}: {reason}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not in the expected format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`DiagError`].
pub type Result<T, E = DiagError> = std::result::Result<T, E>;
