//! Errors of the imbalance crate.

use std::path::PathBuf;

/// Result alias with [`ImbalanceError`] as the default error type.
pub type Result<T, E = ImbalanceError> = std::result::Result<T, E>;

/// Everything that can go wrong building data, models or reading a corpus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImbalanceError {
    /// An invalid configuration value (names the field and the allowed range).
    #[error(transparent)]
    Config(#[from] gdlab_core::ConfigError),
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
    /// A label outside `0..n_classes`.
    #[error("label {label} at sample {index} is outside 0..{n_classes}")]
    Label {
        /// Sample index.
        index: usize,
        /// The label.
        label: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// Reading a corpus failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A token of an integer token-id file is not a non-negative integer.
    #[error("{path}: token {token_index} (byte {byte_offset}) is `{token}`, not a non-negative integer token id (use the raw-text format for words)")]
    NotAnInteger {
        /// The file.
        path: PathBuf,
        /// 0-based index of the token in the file.
        token_index: u64,
        /// Byte offset where the token starts.
        byte_offset: u64,
        /// The offending token (truncated to 40 characters).
        token: String,
    },
    /// A token of a raw-text file is not valid UTF-8.
    #[error("{path}: token {token_index} (byte {byte_offset}) is not valid UTF-8")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 0-based index of the token.
        token_index: u64,
        /// Byte offset where the token starts.
        byte_offset: u64,
    },
    /// The corpus has too few tokens to form a bigram.
    #[error("{path}: the corpus has {n_tokens} token(s); at least 2 are needed to form a bigram")]
    EmptyCorpus {
        /// The file.
        path: PathBuf,
        /// Number of tokens read.
        n_tokens: u64,
    },
}

impl ImbalanceError {
    pub(crate) fn dim(op: &'static str, expected: usize, got: usize) -> Self {
        ImbalanceError::Dim { op, expected, got }
    }
}
