//! Errors of the sampling crate.
//!
//! Every variant names the argument (or field) at fault, the value that was given and what
//! is allowed, so the message alone tells the user what to change.

use gdlab_core::error::{ConfigError, CoreError};

/// Result alias with [`SamplingError`] as the default error type.
pub type Result<T, E = SamplingError> = std::result::Result<T, E>;

/// An error of `gdlab-sampling`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SamplingError {
    /// An integer argument outside its allowed range.
    #[error("`{field}` must be in {allowed}, got {value}")]
    OutOfRangeInt {
        /// Name of the argument or field.
        field: &'static str,
        /// The rejected value.
        value: usize,
        /// Human-readable allowed range, e.g. `[2, 256]`.
        allowed: &'static str,
    },
    /// A real-valued argument outside its allowed range (NaN and ±∞ included).
    #[error("`{field}` must be in {allowed}, got {value}")]
    OutOfRange {
        /// Name of the argument or field.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// Human-readable allowed range.
        allowed: &'static str,
    },
    /// A size that an algorithm refuses because its cost grows too fast.
    #[error("{op} supports `{field}` ≤ {max}, got {value}: {hint}")]
    TooLarge {
        /// The refusing operation.
        op: &'static str,
        /// The size at fault (usually `n`, the number of matrices).
        field: &'static str,
        /// The rejected value.
        value: usize,
        /// The largest accepted value.
        max: usize,
        /// Why, and what to use instead.
        hint: &'static str,
    },
    /// The estimated working memory of an operation exceeds the crate's limit.
    #[error("{op} would need about {required_bytes} bytes of working memory, over the limit of {limit_bytes} bytes (n = {n}, dim = {dim})")]
    MemoryLimit {
        /// The refusing operation.
        op: &'static str,
        /// Estimated bytes needed.
        required_bytes: u128,
        /// The limit, [`crate::epoch::DP_MEMORY_LIMIT_BYTES`].
        limit_bytes: u128,
        /// Number of matrices.
        n: usize,
        /// Their dimension.
        dim: usize,
    },
    /// An input list that must not be empty is empty.
    #[error("`{field}` in {op} must not be empty")]
    Empty {
        /// The operation that checked its input.
        op: &'static str,
        /// The empty argument.
        field: &'static str,
    },
    /// A matrix that must be square is not (`dim ≥ 1` required).
    #[error("{op}: `{field}`[{index}] must be square with dim ≥ 1, but is {rows}×{cols}")]
    NotSquare {
        /// The operation that checked its input.
        op: &'static str,
        /// The argument holding the matrix.
        field: &'static str,
        /// Position of the matrix in the list (0 for a single matrix).
        index: usize,
        /// Its number of rows.
        rows: usize,
        /// Its number of columns.
        cols: usize,
    },
    /// Two sizes that must agree do not (ragged matrix lists, wrong vector length).
    #[error("dimension mismatch in {op}: `{field}` must have size {expected}, got {got}")]
    Dim {
        /// The operation that checked its input.
        op: &'static str,
        /// The argument at fault, e.g. `matrices[3]` or `x0`.
        field: String,
        /// The expected size.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// An input contains NaN or ±∞.
    #[error("{op}: `{field}` contains a non-finite value at position {index}")]
    NonFinite {
        /// The operation that checked its input.
        op: &'static str,
        /// The argument at fault.
        field: &'static str,
        /// Position of the offending matrix or vector entry.
        index: usize,
    },
    /// A configuration error raised by `gdlab-core` (e.g. while building a sampler).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A failure inside `gdlab-core` (e.g. an eigen-solver that did not converge).
    #[error(transparent)]
    Core(#[from] CoreError),
}
