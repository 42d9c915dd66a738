//! Study `heavy-tailed`: F. Kunstner, R. Yadav, A. Milligan, M. Schmidt & A. Bietti,
//! "Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent on Language
//! Models", NeurIPS 2024 (spec `papers/heavy-tailed-class-imbalance.md`).
//!
//! On the paper's synthetic linear softmax problem (classes in tiers of `2^i` classes with
//! `2^{m−i}` samples), tuned GD barely moves the loss of the rare classes, which hold most
//! of the samples, while Adam and sign descent fit every frequency group. The quick mode is
//! spec §5a (m = 7, 100 full-batch steps, seeds 0–2, the three step-size grids and the five
//! checks) plus two cheap secondary checks (a weighted quadratic with `π_k = 1/k` and a
//! one-hot decoupled softmax model). [`text`] runs the same comparison on a user's corpus
//! with the bigram model (`gdlab heavy-tailed text`).
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the five checks,
//! thresholds as `const`s citing spec §5a), `secondary` (the two toy checks), [`train`]
//! (the optimizers and the training loop), [`text`] (the text mode).

pub mod config;
mod render;
mod run;
mod secondary;
pub mod text;
pub mod train;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `heavy-tailed` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeavyTailed;

impl Study for HeavyTailed {
    fn id(&self) -> &'static str {
        "heavy-tailed"
    }
    fn title(&self) -> &'static str {
        "Heavy-tailed class imbalance: GD stalls on rare classes, Adam and sign descent do not"
    }
    fn paper(&self) -> &'static str {
        "F. Kunstner, R. Yadav, A. Milligan, M. Schmidt & A. Bietti, \"Heavy-Tailed Class Imbalance and Why Adam Outperforms Gradient Descent on Language Models\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "under heavy-tailed class imbalance, tuned GD makes little progress on rare classes and lags Adam and sign descent overall; Adam and sign descent reduce the loss on rare classes"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}

impl From<gdlab_imbalance::ImbalanceError> for StudyError {
    fn from(e: gdlab_imbalance::ImbalanceError) -> Self {
        component(e)
    }
}

/// Wraps an imbalance-crate error.
pub(crate) fn component(e: gdlab_imbalance::ImbalanceError) -> StudyError {
    StudyError::Component {
        component: "gdlab-imbalance",
        message: e.to_string(),
    }
}
