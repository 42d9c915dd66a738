//! The error type of `gdlab-nn`.

use std::path::PathBuf;

use gdlab_core::{ConfigError, StepError};

/// Everything that can go wrong building, training or feeding a network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NnError {
    /// An error raised by candle (shapes, dtypes, devices, backprop).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// An invalid configuration value.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The optimizer rejected a step (inconsistent buffer lengths).
    #[error(transparent)]
    Step(#[from] StepError),
    /// The gradient store has no gradient for a parameter the optimizer updates.
    #[error("no gradient for parameter `{name}` (is it part of the loss graph?)")]
    MissingGrad {
        /// The parameter's name.
        name: String,
    },
    /// A tensor has a dtype other than the one the optimizer or model works in.
    #[error("parameter `{name}` has dtype {got}, expected {expected}")]
    Dtype {
        /// The tensor's name.
        name: String,
        /// The dtype required.
        expected: &'static str,
        /// The dtype found.
        got: String,
    },
    /// A shape does not match what an operation needs.
    #[error("shape mismatch in {op}: expected {expected}, got {got}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        got: String,
    },
    /// A non-finite value where a finite one is required (loss, gradient, input).
    #[error("non-finite value in {what}")]
    NonFinite {
        /// Where it was found.
        what: String,
    },
    /// An observer failed (e.g. a trajectory recorder could not write).
    #[error(transparent)]
    Observe(#[from] gdlab_core::error::ObserveError),
    /// A file could not be read or written.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A data file exists but its contents are not in the expected format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the expected and found values.
        reason: String,
    },
}

/// `Result` with [`NnError`].
pub type Result<T, E = NnError> = std::result::Result<T, E>;

impl NnError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NnError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        NnError::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
