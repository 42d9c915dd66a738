//! Errors of the studies crate.
//!
//! [`ReportError`] is raised by the report writer ([`crate::report`]). Every variant names
//! the metric, file, plot or path involved, so that the message alone says what to fix.

use std::path::PathBuf;

use gdlab_core::error::CoreError;

/// An error raised while building or writing a study report or the run index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A number that would be written (a metric, a CSV cell, a plot point, a check's
    /// threshold, an elapsed time) is NaN or infinite. Reports never print `NaN`.
    #[error("`{name}` is not finite (NaN or ±∞); reports only record finite numbers")]
    NonFinite {
        /// The metric, cell or point, e.g. `loss_curve/step[3]` or `final_loss`.
        name: String,
    },
    /// A JSON metric contains `null`. `serde_json` silently turns NaN and ±∞ into `null`
    /// (`json!(f64::NAN)` is `null`), so `null` is rejected: leave the key out instead.
    #[error(
        "metric `{name}` contains null (serde_json turns NaN/±∞ into null); \
         leave an absent value out instead"
    )]
    Null {
        /// Path of the `null` inside the metric, e.g. `runs[2].loss`.
        name: String,
    },
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("creating directory", "writing", "renaming into", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Any other failure reported by `gdlab-core`.
    #[error(transparent)]
    Core(CoreError),
    /// The output directory exists and is not a directory.
    #[error("output path {path} exists and is not a directory")]
    OutDirIsFile {
        /// The path given as output directory.
        path: PathBuf,
    },
    /// Plotting backend failure while drawing a plot.
    #[error("drawing plot `{name}` failed: {reason}")]
    Plot {
        /// The plot's name.
        name: String,
        /// The backend's message.
        reason: String,
    },
    /// Serializing a JSON document failed.
    #[error("serializing {what} to JSON failed: {source}")]
    Json {
        /// The document (`metrics.json`, `summary.json`, ...).
        what: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Two lengths that must agree do not (table rows, CSV columns, plot series).
    #[error("shape mismatch in `{name}`: {what}: expected {expected}, got {got}")]
    Shape {
        /// The table, CSV file or series.
        name: String,
        /// Which length was checked, e.g. `row 3 length` or `y length`.
        what: String,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Something that needs content has none (a plot without series, a series without
    /// points, a CSV without columns).
    #[error("`{name}` is empty: {what}")]
    Empty {
        /// The plot, series or CSV file.
        name: String,
        /// What is missing.
        what: &'static str,
    },
    /// A logarithmic axis was asked for and the data has a value `<= 0` on it. Such points
    /// are rejected, never silently dropped.
    #[error(
        "{axis} axis of `{name}` is logarithmic, but the data has {value} <= 0 at index {index}"
    )]
    NonPositiveOnLogAxis {
        /// The plot and series, e.g. `loss/adam`.
        name: String,
        /// `"x"` or `"y"`.
        axis: &'static str,
        /// The offending value.
        value: f64,
        /// Its index in the series.
        index: usize,
    },
    /// A file name (CSV, plot) or metric name is not allowed.
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// The same metric or file name was used twice in one report.
    #[error("{what} `{name}` was already added to this report")]
    Duplicate {
        /// The repeated name.
        name: String,
        /// `"metric"` or `"file"`.
        what: &'static str,
    },
    /// The verdict has no checks: a study that checks nothing has shown nothing, and
    /// `metrics.json` requires at least one check.
    #[error("study `{study}` finished with a verdict that has no checks")]
    NoChecks {
        /// The study id.
        study: String,
    },
    /// An index entry's verdict is not one of `PASS`, `FAIL`, `ERROR`.
    #[error("index entry `{id}` has verdict {verdict:?}; allowed: PASS, FAIL, ERROR")]
    InvalidVerdict {
        /// The study id of the entry.
        id: String,
        /// The rejected verdict string.
        verdict: String,
    },
}

impl From<CoreError> for ReportError {
    /// Flattens [`CoreError::Io`] into [`ReportError::Io`], so callers match one I/O
    /// variant; everything else becomes [`ReportError::Core`].
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Io { op, path, source } => ReportError::Io { op, path, source },
            other => ReportError::Core(other),
        }
    }
}
