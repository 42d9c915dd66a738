//! Errors of the privacy crate.

use gdlab_core::ConfigError;

/// Result alias with [`PrivacyError`] as the default error type.
pub type Result<T, E = PrivacyError> = std::result::Result<T, E>;

/// Everything that can go wrong when building or evaluating a factorization.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PrivacyError {
    /// A configuration value outside its allowed range (names field, value and range).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The conditions of an exact sensitivity formula do not hold; the message says which
    /// and what to use instead.
    #[error("sensitivity: {reason}")]
    SensitivityConditions {
        /// What failed and what the caller can do.
        reason: String,
    },
    /// A numerical failure (non-positive pivot, non-finite value, solver failure).
    #[error("{op}: {reason}")]
    Numerical {
        /// The operation.
        op: &'static str,
        /// What happened.
        reason: String,
    },
}

impl PrivacyError {
    pub(crate) fn numerical(op: &'static str, reason: impl Into<String>) -> Self {
        PrivacyError::Numerical {
            op,
            reason: reason.into(),
        }
    }
}
