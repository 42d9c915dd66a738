//! Study `tail-index`: U. Şimşekli, O. Sener, G. Deligiannidis, M. A. Erdogdu, "Hausdorff
//! Dimension, Heavy Tails, and Generalization in Neural Networks", NeurIPS 2020 (spec
//! `papers/tail-index-hausdorff.md`).
//!
//! Part A validates the tail-index estimator (`gdlab-diagnostics`) on symmetric α-stable
//! samples; Part B trains a 12-run η × B grid of MLPs (`gdlab-nn`, plain SGD through the
//! gdlab adapter) on a synthetic teacher task with label noise and correlates the
//! projected α̂ of the last iterates with the generalization gap (the paper's claim: a
//! lower α̂, heavier tails, goes with a smaller gap).
//!
//! In full mode with [`RunOpts::cifar10_dir`] set (`gdlab study run tail-index --full
//! --cifar10-dir DIR`), Part B is replaced by Part C, the CIFAR-10 grid of spec §5.2 (VGG
//! and LeNet families, momentum 0.9, the final epoch recorded); without it, full mode runs
//! Part B at full size and the report says that the synthetic task was used.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the checks, whose
//! thresholds are the `const`s at its top, each citing spec §5.1), `cifar` (Part C),
//! `stats` (rank correlations).

mod cifar;
pub mod config;
mod run;
pub mod stats;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `tail-index` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct TailIndex;

impl From<gdlab_diagnostics::DiagError> for StudyError {
    fn from(e: gdlab_diagnostics::DiagError) -> Self {
        StudyError::Component {
            component: "gdlab-diagnostics",
            message: e.to_string(),
        }
    }
}

impl From<gdlab_nn::NnError> for StudyError {
    fn from(e: gdlab_nn::NnError) -> Self {
        StudyError::Component {
            component: "gdlab-nn",
            message: e.to_string(),
        }
    }
}

impl Study for TailIndex {
    fn id(&self) -> &'static str {
        "tail-index"
    }
    fn title(&self) -> &'static str {
        "Tail index of SGD iterates as a capacity metric: estimator validation and the α̂–gap correlation"
    }
    fn paper(&self) -> &'static str {
        "U. Şimşekli, O. Sener, G. Deligiannidis, M. A. Erdogdu, \"Hausdorff Dimension, Heavy Tails, and Generalization in Neural Networks\", NeurIPS 2020"
    }
    fn claim(&self) -> &'static str {
        "the tail index α̂ of the SGD trajectory (an upper bound on its Hausdorff dimension) tracks generalization: runs with lower α̂ (heavier tails) have a smaller generalization gap"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}

/// The `tail-index` study with caller-chosen sizes instead of
/// [`Config::for_mode`](config::Config::for_mode): for tests (a tiny CIFAR-10 grid that
/// runs in seconds) and for CPU-sized full runs from Rust. Same id, report and checks.
#[derive(Clone, Debug)]
pub struct TailIndexWithConfig(pub config::Config);

impl Study for TailIndexWithConfig {
    fn id(&self) -> &'static str {
        TailIndex.id()
    }
    fn title(&self) -> &'static str {
        TailIndex.title()
    }
    fn paper(&self) -> &'static str {
        TailIndex.paper()
    }
    fn claim(&self) -> &'static str {
        TailIndex.claim()
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&self.0, opts, report)
    }
}
