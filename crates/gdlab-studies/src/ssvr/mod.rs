//! Study `ssvr`: W. Jiang, S. Yang, W. Yang & L. Zhang, "Efficient Sign-Based Optimization:
//! Accelerating Convergence via Variance Reduction", NeurIPS 2024 (spec
//! `papers/sign-methods-ssvr.md`).
//!
//! The paper feeds the sign update a variance-reduced gradient estimator: SSVR (STORM-type
//! recursive momentum, `O(d^{1/2}T^{-1/3})` vs signSGD's `O(d^{1/2}T^{-1/4})`), SSVR-FS
//! for finite sums (periodic full gradients), SSVR-MV for majority-vote training. The study
//! runs the spec's quick reproduction (§5a) on a synthetic non-convex logistic finite sum
//! ([`NonConvexLogistic`](crate::problems::NonConvexLogistic)): a tuning grid on 2 seeds,
//! the tuned settings on 5 fresh seeds, the **exact** ‖∇f‖₁ averaged over the last 10 % of
//! iterates, and the spec's three criteria as claims. It adds the distributed comparison
//! (SSVR-MV Option 1 vs signSGD-MV, 4 and 8 workers, homogeneous and label-sorted data, bits
//! communicated, the 3-worker floor) and, in full mode, the §5b rate check.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the §5a experiment and its checks,
//! thresholds as `const`s at its top, each citing its source), `experiment` (one run: method,
//! observer of the exact gradient, closed-form gradient counts), `distributed` (majority
//! vote), `rate` (§5b, full mode).

pub mod config;
mod distributed;
mod experiment;
mod rate;
mod run;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `ssvr` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ssvr;

impl Study for Ssvr {
    fn id(&self) -> &'static str {
        "ssvr"
    }
    fn title(&self) -> &'static str {
        "Sign-based optimization with variance reduction: SSVR and SSVR-FS vs signSGD"
    }
    fn paper(&self) -> &'static str {
        "W. Jiang, S. Yang, W. Yang & L. Zhang, \"Efficient Sign-Based Optimization: Accelerating Convergence via Variance Reduction\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "a variance-reduced estimator makes sign-based descent reach a smaller ℓ1 gradient norm than signSGD (SSVR), and far smaller on finite sums (SSVR-FS)"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}
