//! Errors of `gdlab-diffusion`.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffusionError {
    /// A tensor operation failed in candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// A configuration value is out of its allowed range.
    #[error("`{field}` must be in {allowed}, got {value}")]
    OutOfRange {
        /// The field name.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// A tensor or list had the wrong shape or length.
    #[error("shape mismatch in {op}: expected {expected}, got {got}")]
    Shape {
        /// Where.
        op: String,
        /// Expected shape, in words.
        expected: String,
        /// Observed shape, in words.
        got: String,
    },
    /// A controller was used out of order (e.g. a hook before `begin_eval`).
    #[error("{controller}: {message}")]
    Protocol {
        /// The controller.
        controller: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A weights file is missing or unreadable.
    #[error("weights file {path}: {message}")]
    Weights {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An input or output image could not be read, decoded or written.
    #[error("image {path}: {message}")]
    Image {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A numerical result was NaN or infinite.
    #[error("non-finite value in {what}")]
    NonFinite {
        /// Which quantity.
        what: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = DiffusionError> = std::result::Result<T, E>;
