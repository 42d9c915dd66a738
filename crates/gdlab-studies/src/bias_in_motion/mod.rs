//! Study `bias-in-motion`: A. Jain, R. Nobahari, A. Baratin, S. Sarao Mannelli, "Bias in
//! Motion: Theoretical Insights into the Dynamics of Bias in SGD Training", NeurIPS 2024
//! (spec `papers/bias-in-motion.md`).
//!
//! Online SGD of a linear student on a two-group teacher mixture is described, as N → ∞,
//! by four order-parameter ODEs. The study integrates them (`gdlab-dynamics`), compares
//! them with simulated SGD at N = 2000, and checks the paper's bias dynamics on the spec's
//! configuration A: the high-variance group is learned first, the majority group wins
//! later, with exactly one crossing at t* ≈ 10.1; plus the extension configuration B and
//! the divergence threshold η_c = 2Δmix/Δ2mix.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the checks, whose
//! thresholds are the `const`s at its top, each citing spec §5).

pub mod config;
mod run;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `bias-in-motion` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct BiasInMotion;

impl From<gdlab_dynamics::DynamicsError> for StudyError {
    fn from(e: gdlab_dynamics::DynamicsError) -> Self {
        StudyError::Component {
            component: "gdlab-dynamics",
            message: e.to_string(),
        }
    }
}

impl Study for BiasInMotion {
    fn id(&self) -> &'static str {
        "bias-in-motion"
    }
    fn title(&self) -> &'static str {
        "Bias in motion: order-parameter ODEs vs online SGD on the teacher-mixture model"
    }
    fn paper(&self) -> &'static str {
        "A. Jain, R. Nobahari, A. Baratin, S. Sarao Mannelli, \"Bias in Motion: Theoretical Insights into the Dynamics of Bias in SGD Training\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "the ODEs track high-dimensional SGD, and the preferred group changes during training: the high-variance group first, the better-represented group later (one crossing at t* ≈ 10 on configuration A)"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}
