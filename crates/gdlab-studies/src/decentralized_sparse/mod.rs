//! Study `decentralized-sparse`: T. Wu & Y. Sun, "Implicit Regularization of Decentralized
//! Gradient Descent for Sparse Regression", NeurIPS 2024 (spec
//! `papers/decentralized-gd-sparse-regression.md`).
//!
//! DGD on the over-parameterized objective `w = u⊙u − v⊙v` with small initialization and
//! early stopping reaches the centralized statistical error over a network, without any
//! explicit penalty, and beats tuned decentralized LASSO; T-DGD (top-s messages) does the
//! same at high SNR with far fewer bits. The study runs spec §5 exactly on 3 seeds (median
//! decides each check) and, in full mode, Figs. 2-6 of §4 at the paper's settings on 20 seeds.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the checks, whose
//! thresholds are the `const`s at its top, each citing its source), `full` (the full-mode
//! figures: Figs. 2-6 of the paper at their settings).

pub mod config;
mod full;
mod run;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

impl From<gdlab_decentral::DecentralError> for StudyError {
    fn from(e: gdlab_decentral::DecentralError) -> Self {
        StudyError::Component {
            component: "gdlab-decentral",
            message: e.to_string(),
        }
    }
}

/// The `decentralized-sparse` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecentralizedSparse;

impl Study for DecentralizedSparse {
    fn id(&self) -> &'static str {
        "decentralized-sparse"
    }
    fn title(&self) -> &'static str {
        "Implicit regularization of decentralized GD for sparse regression: DGD, T-DGD vs decentralized LASSO"
    }
    fn paper(&self) -> &'static str {
        "T. Wu & Y. Sun, \"Implicit Regularization of Decentralized Gradient Descent for Sparse Regression\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "early-stopped DGD on w = u⊙u − v⊙v from a small initialization reaches the centralized statistical error over a network and beats tuned decentralized LASSO; T-DGD matches it with top-s messages"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}
