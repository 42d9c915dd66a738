//! One user-configured experiment (the `gdlab decentral run --config FILE` verb): a graph, a
//! weight rule, a synthetic sparse regression, and a list of algorithms.

use gdlab_core::Seed;
use serde::{Deserialize, Serialize};

use crate::data::SparseRegressionConfig;
use crate::dgd::DgdConfig;
use crate::error::Result;
use crate::graph::{Graph, GraphSpec};
use crate::lasso::LassoConfig;
use crate::mixing::{MixingMatrix, WeightRule};
use crate::oracle::oracle_least_squares;
use crate::trace::Trace;

/// One algorithm of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case", deny_unknown_fields)]
pub enum AlgorithmSpec {
    /// DGD / T-DGD over the graph.
    Dgd {
        /// Label in the output (default `dgd`).
        #[serde(default)]
        label: Option<String>,
        /// Its configuration.
        #[serde(flatten)]
        config: DgdConfig,
    },
    /// Centralized GD on the same objective.
    Cgd {
        /// Label (default `cgd`).
        #[serde(default)]
        label: Option<String>,
        /// Its configuration (order/truncation ignored).
        #[serde(flatten)]
        config: DgdConfig,
    },
    /// A LASSO baseline over the graph.
    Lasso {
        /// Label (default `lasso`).
        #[serde(default)]
        label: Option<String>,
        /// Its configuration.
        #[serde(flatten)]
        config: LassoConfig,
    },
}

impl AlgorithmSpec {
    /// The label used in outputs.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            AlgorithmSpec::Dgd { label, .. } => label.clone().unwrap_or_else(|| "dgd".into()),
            AlgorithmSpec::Cgd { label, .. } => label.clone().unwrap_or_else(|| "cgd".into()),
            AlgorithmSpec::Lasso { label, .. } => label.clone().unwrap_or_else(|| "lasso".into()),
        }
    }
}

/// A JSON experiment: graph, weights, data, algorithms, seed.
///
/// ```json
/// { "graph": {"kind": "er", "n_nodes": 10, "p": 0.5, "seed": 0},
///   "weights": "metropolis",
///   "problem": {"dim": 1000, "sparsity": 5, "n_agents": 10, "samples_per_agent": 30,
///               "noise_std": 0.5, "magnitude": 1.0},
///   "algorithms": [{"algorithm": "dgd", "step_size": 0.05, "init_scale": 1e-6, "n_rounds": 3000}],
///   "seed": 0 }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The graph (`n_nodes` must equal `problem.n_agents`).
    pub graph: GraphSpec,
    /// Weight rule (default Metropolis).
    #[serde(default)]
    pub weights: WeightRule,
    /// The data.
    pub problem: SparseRegressionConfig,
    /// Algorithms to run, in order.
    pub algorithms: Vec<AlgorithmSpec>,
    /// Root seed of the data.
    #[serde(default)]
    pub seed: u64,
}

/// One algorithm's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// Label.
    pub label: String,
    /// Its trace.
    pub trace: Trace,
    /// `argmin_t err_agents` (`None` when no iterate was finite).
    pub best_round: Option<usize>,
    /// `min_t err_agents` (`None` when no iterate was finite).
    pub best_err: Option<f64>,
}

/// Everything an experiment produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExperimentResult {
    /// ρ of the mixing matrix.
    pub rho: f64,
    /// Undirected edges.
    pub n_edges: usize,
    /// Error of the oracle least squares on the true support.
    pub oracle_err: f64,
    /// One entry per algorithm.
    pub runs: Vec<RunResult>,
}

impl ExperimentConfig {
    /// Runs the experiment (validating everything first).
    ///
    /// # Errors
    /// Invalid graph (disconnected, bad parameters), mixing, data or algorithm settings;
    /// `graph.n_nodes ≠ problem.n_agents`; an empty algorithm list.
    pub fn run(&self) -> Result<ExperimentResult> {
        self.problem.validate()?;
        if self.algorithms.is_empty() {
            return Err(gdlab_core::ConfigError::Invalid {
                field: "algorithms".into(),
                reason: "list at least one algorithm (dgd, cgd or lasso)".into(),
            }
            .into());
        }
        let graph: Graph = self.graph.build()?;
        if graph.n_nodes() != self.problem.n_agents {
            return Err(gdlab_core::ConfigError::Dim {
                op: "graph n_nodes vs problem.n_agents",
                expected: self.problem.n_agents,
                got: graph.n_nodes(),
            }
            .into());
        }
        let mixing = MixingMatrix::new(&graph, self.weights)?;
        let d = self.problem.dim;
        for a in &self.algorithms {
            match a {
                AlgorithmSpec::Dgd { config, .. } | AlgorithmSpec::Cgd { config, .. } => {
                    config.validate(d)?
                }
                AlgorithmSpec::Lasso { config, .. } => config.validate(d)?,
            }
        }
        let problem = self.problem.generate(Seed(self.seed))?;
        let oracle_err = problem.error(&oracle_least_squares(&problem)?);
        let mut runs = Vec::new();
        for a in &self.algorithms {
            let trace = match a {
                AlgorithmSpec::Dgd { config, .. } => config.run(&problem, &mixing)?.trace,
                AlgorithmSpec::Cgd { config, .. } => config.run_centralized(&problem)?.trace,
                AlgorithmSpec::Lasso { config, .. } => config.run(&problem, &mixing)?,
            };
            let (t, e) = trace.best();
            let (best_round, best_err) = if e.is_finite() {
                (Some(t), Some(e))
            } else {
                (None, None)
            };
            runs.push(RunResult {
                label: a.label(),
                trace,
                best_round,
                best_err,
            });
        }
        Ok(ExperimentResult {
            rho: mixing.rho(),
            n_edges: graph.n_edges(),
            oracle_err,
            runs,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::float_cmp,
        clippy::needless_range_loop
    )]
    use super::*;

    #[test]
    fn json_experiment_runs() {
        let j = r#"{"graph": {"kind": "ring", "n_nodes": 4}, "weights": "lazy_metropolis",
            "problem": {"dim": 60, "sparsity": 2, "n_agents": 4, "samples_per_agent": 20, "noise_std": 0.1, "magnitude": 1.0},
            "algorithms": [{"algorithm": "dgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 50},
                           {"algorithm": "dgd", "label": "tdgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 50, "truncation": {"k": 2}},
                           {"algorithm": "cgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 50},
                           {"algorithm": "lasso", "method": {"method": "prox_cta", "lambda": 0.1}, "step_size": 0.01, "n_rounds": 50}],
            "seed": 3}"#;
        let c: ExperimentConfig = serde_json::from_str(j).unwrap();
        let r = c.run().unwrap();
        assert_eq!(r.runs.len(), 4);
        assert_eq!(r.runs[1].label, "tdgd");
        assert!(r.runs.iter().all(|x| x.trace.err_agents.len() == 51));
    }

    #[test]
    fn mismatched_nodes_rejected() {
        let j = r#"{"graph": {"kind": "ring", "n_nodes": 5},
            "problem": {"dim": 60, "sparsity": 2, "n_agents": 4, "samples_per_agent": 20, "noise_std": 0.1, "magnitude": 1.0},
            "algorithms": [{"algorithm": "cgd", "step_size": 0.05, "init_scale": 1e-4, "n_rounds": 5}]}"#;
        let c: ExperimentConfig = serde_json::from_str(j).unwrap();
        assert!(c.run().unwrap_err().to_string().contains("n_agents"));
    }
}
