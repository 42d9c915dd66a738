//! The [`Study`] trait: one command that reruns a paper's central experiment and ends with
//! a verdict computed from the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gdlab_core::{ConfigError, CoreError, Seed};
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::report::{Report, RunMeta};
use crate::verdict::Verdict;

/// Experiment size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Small sizes that finish in seconds on 2 cores (the default; what CI runs).
    #[default]
    Quick,
    /// The spec's full-scale sizes.
    Full,
}

impl Mode {
    /// `"quick"` or `"full"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options shared by every study run.
///
/// Construct with `..RunOpts::default()` so that new optional fields do not break callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOpts {
    /// The root seed; every random choice derives from it.
    pub seed: Seed,
    /// Quick or full sizes.
    pub mode: Mode,
    /// A directory holding the CIFAR-10 binary version (`data_batch_1.bin` …
    /// `data_batch_5.bin`, `test_batch.bin`), for studies whose full mode trains on it
    /// (`tail-index`, spec §5.2). Default `None`: such studies use their synthetic task and
    /// say so in the report; studies that use no dataset ignore it.
    pub cifar10_dir: Option<PathBuf>,
}

impl Default for RunOpts {
    /// Seed 0, quick mode.
    fn default() -> Self {
        RunOpts {
            seed: Seed(0),
            mode: Mode::Quick,
            cifar10_dir: None,
        }
    }
}

/// A failure that prevented a study from reaching a verdict (as opposed to a FAIL verdict).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StudyError {
    /// Writing the report failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A core component failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A configuration value was invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A domain component failed.
    #[error("{component}: {message}")]
    Component {
        /// The component (crate or module).
        component: &'static str,
        /// Its error message.
        message: String,
    },
}

impl From<gdlab_sampling::SamplingError> for StudyError {
    fn from(e: gdlab_sampling::SamplingError) -> Self {
        StudyError::Component {
            component: "gdlab-sampling",
            message: e.to_string(),
        }
    }
}

/// A reproduction study of one paper.
///
/// Each study module has the same shape: sizes for Quick/Full, the run, and a block of
/// `const` thresholds, each with a comment saying where it comes from. The report prints
/// every threshold next to the number it was compared with.
pub trait Study: Send + Sync {
    /// Kebab-case id, used on the command line: `gdlab study run <id>`.
    fn id(&self) -> &'static str;
    /// Human title of the study.
    fn title(&self) -> &'static str;
    /// The paper reproduced (authors, title, venue).
    fn paper(&self) -> &'static str;
    /// The paper's central claim in one line.
    fn claim(&self) -> &'static str;
    /// Runs the experiment, filling `report`, and returns the verdict.
    ///
    /// # Errors
    /// [`StudyError`] when the study could not reach a verdict.
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError>;
}

/// What a finished study run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyOutcome {
    /// The study's id.
    pub id: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// Wall-clock seconds.
    pub elapsed_s: f64,
    /// The folder holding `report.md`, `report.html`, `metrics.json`, plots and CSVs.
    pub dir: PathBuf,
}

/// The crate version written into every `metrics.json`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs `study` and writes its report into `out_dir/<id>/`.
///
/// # Errors
/// [`StudyError`] from the study or from writing the report.
pub fn run_study(
    study: &dyn Study,
    opts: &RunOpts,
    out_dir: &Path,
) -> Result<StudyOutcome, StudyError> {
    let start = Instant::now();
    let mut report = Report::new(study.id(), study.title(), study.paper());
    let verdict = study.run(opts, &mut report)?;
    let elapsed_s = start.elapsed().as_secs_f64();
    let dir = out_dir.join(study.id());
    let meta = RunMeta {
        mode: opts.mode.as_str().to_string(),
        seed: opts.seed.0,
        elapsed_s,
        version: VERSION.to_string(),
    };
    report.finish(&dir, &meta, &verdict)?;
    Ok(StudyOutcome {
        id: study.id(),
        verdict,
        elapsed_s,
        dir,
    })
}
