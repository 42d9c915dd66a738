//! Study `random-reshuffling`: C. De Sa, "Random Reshuffling is Not Always Better",
//! NeurIPS 2020 (spec `papers/random-reshuffling-amgm.md`).
//!
//! The paper disproves the operator AM-GM (Recht–Ré) conjecture: there are PSD matrices
//! with `‖E_RR‖ > ‖E_WR‖`, so the expected iterate of random reshuffling can lag behind
//! with-replacement sampling. The study checks the `n = 5` counterexample
//! (`‖E_RR‖ = 19/16`, exact), the spec's `n = 4..` family, the small-step regime of the
//! paper's Theorem 1 (as reported by Yun, Sra & Jadbabaie 2021), and a **derived**
//! learning task (spec §2.3b; not the paper's own task, which was not recovered).
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the checks, whose
//! thresholds are the `const`s at its top, each citing its source).

pub mod config;
mod run;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `random-reshuffling` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomReshuffling;

impl Study for RandomReshuffling {
    fn id(&self) -> &'static str {
        "random-reshuffling"
    }
    fn title(&self) -> &'static str {
        "Random reshuffling is not always better: the operator AM-GM counterexample"
    }
    fn paper(&self) -> &'static str {
        "C. De Sa, \"Random Reshuffling is Not Always Better\", NeurIPS 2020"
    }
    fn claim(&self) -> &'static str {
        "there are PSD update matrices with ‖E_RR‖ > ‖E_WR‖ (19/16 > 1 at n = 5), so with-replacement sampling can beat random reshuffling"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}
