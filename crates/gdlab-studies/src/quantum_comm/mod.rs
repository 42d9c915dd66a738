//! Study `quantum-comm`: D. Gilboa, H. Michaeli, D. Soudry & J. R. McClean, "Exponential
//! Quantum Communication Advantage in Distributed Inference and Learning", NeurIPS 2024
//! (spec `papers/quantum-communication-advantage.md`).
//!
//! Part A (validation): the state-vector simulator against dense matrices, the adjoint
//! gradient against finite differences and the parameter-shift rule, the shot-noise law of
//! the sampled estimator, the communication table for N = 2⁴…2²⁰ with its proportionality
//! checks and the crossover N*, and the SimHash sketch of the linear case. Plus the §2.4
//! expressivity count (claim). Part B (claims): the shallow SIGN `QModel` on an SBM graph
//! with unequal classes, PReLU vs the trainable degree-2 polynomial, node and decision
//! accuracy. Parts of the spec are **\[design\]** (the paper's body could not be read); the
//! report says which.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the checks, whose
//! thresholds are the `const`s at its top, each citing its source).

pub mod config;
mod run;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

impl From<gdlab_quantum::QuantumError> for StudyError {
    fn from(e: gdlab_quantum::QuantumError) -> Self {
        StudyError::Component {
            component: "gdlab-quantum",
            message: e.to_string(),
        }
    }
}

/// The `quantum-comm` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuantumComm;

impl Study for QuantumComm {
    fn id(&self) -> &'static str {
        "quantum-comm"
    }
    fn title(&self) -> &'static str {
        "Quantum communication advantage in distributed inference and learning: protocol counts, simulator checks, SIGN with polynomial activations"
    }
    fn paper(&self) -> &'static str {
        "D. Gilboa, H. Michaeli, D. Soudry & J. R. McClean, \"Exponential Quantum Communication Advantage in Distributed Inference and Learning\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "inference and gradient estimation in the two-party model class cost polylog(N) qubits versus Θ(N) bits classically (none for linear classification); a SIGN network with a degree-2 polynomial activation loses < 1 point against PReLU"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}
