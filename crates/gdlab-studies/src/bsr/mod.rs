//! Study `bsr`: N. Kalinin & C. H. Lampert, "Banded Square Root Matrix Factorization for
//! Differentially Private Model Training", NeurIPS 2024 (spec
//! `papers/bsr-dp-matrix-factorization.md`).
//!
//! Part A (factorization quality and speed): unit checks (Theorem 1 closed form vs the
//! generic recursion, `C·C = A`, Theorem 2 vs brute force, the baselines' closed forms),
//! the spec's §6.3 reference values, BSR vs identity / square root / lower bound on the
//! `(α, β) × n` grid, and BSR vs AOF (a real L-BFGS solver) in quality and wall time.
//! Part B: synthetic DP logistic regression with identity noise (DP-SGD) vs BSR correlated
//! noise at the same (ε, δ), 5 seeds.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (Part A and the thresholds, each a
//! `const` citing its source), `training` (Part B).

pub mod config;
mod run;
mod training;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `bsr` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bsr;

impl Study for Bsr {
    fn id(&self) -> &'static str {
        "bsr"
    }
    fn title(&self) -> &'static str {
        "Banded square root factorization for DP training with correlated noise"
    }
    fn paper(&self) -> &'static str {
        "N. Kalinin, C. H. Lampert, \"Banded Square Root Matrix Factorization for Differentially Private Model Training\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "the banded square root (closed form, negligible cost) matches the optimized factorization's error within a few percent and beats DP-SGD noise by a wide margin"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}

impl From<gdlab_privacy::PrivacyError> for StudyError {
    fn from(e: gdlab_privacy::PrivacyError) -> Self {
        StudyError::Component {
            component: "gdlab-privacy",
            message: e.to_string(),
        }
    }
}
