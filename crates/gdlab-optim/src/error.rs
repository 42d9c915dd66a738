//! Errors of the optimizer crate.

use gdlab_core::ConfigError;

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
}
