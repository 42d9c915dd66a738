//! One user-configured experiment (the `gdlab decentral run --config FILE` verb): a graph, a
//! weight rule, a synthetic sparse regression, and a list of algorithms.

use gdlab_comm::{Communicator, WireStats};
use gdlab_core::Seed;
use serde::{Deserialize, Serialize};

use crate::data::{DecentralProblem, LocalData, SparseRegressionConfig};
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
    /// Error of the oracle least squares on the true support (`None` when no rank held
    /// all the data: a ranked run on shard files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle_err: Option<f64>,
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
        let (graph, mixing) = self.prepare()?;
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
            oracle_err: Some(oracle_err),
            runs,
        })
    }
}

/// What one rank of [`ExperimentConfig::run_ranked`] returns.
#[derive(Clone, Debug)]
pub struct RankedResult {
    /// On rank 0: the experiment's result, equal to [`ExperimentConfig::run`]'s (bitwise);
    /// `None` on the other ranks.
    pub result: Option<ExperimentResult>,
    /// Per algorithm, in order: `(label, bytes this rank sent in neighbour exchanges,
    /// bytes sent in total)`; both zero for `cgd`, which rank 0 runs alone.
    pub wire: Vec<(String, WireStats, WireStats)>,
}

impl ExperimentConfig {
    /// Validates everything [`run`](Self::run) validates; returns the graph's mixing matrix.
    fn prepare(&self) -> Result<(Graph, MixingMatrix)> {
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
        Ok((graph, mixing))
    }

    /// Runs the experiment with **one agent per rank** of `comm` (`comm.size()` must equal
    /// `problem.n_agents`): every rank generates only its own data
    /// ([`SparseRegressionConfig::generate_agent`]) and runs each `dgd` / `lasso`
    /// algorithm as its agent ([`DgdConfig::run_agent`], [`LassoConfig::run_agent`]).
    /// The centralized references (`cgd` and the oracle least squares) need all the data:
    /// rank 0 generates it and computes them after the decentralized runs. Rank 0's
    /// result equals [`run`](Self::run)'s bitwise.
    ///
    /// Every rank must call this with the same configuration (check it first with
    /// [`Communicator::check_config`]).
    ///
    /// # Errors
    /// As [`run`](Self::run); the number of ranks ≠ `n_agents`; communication failures.
    ///
    /// # Examples
    /// ```
    /// use gdlab_comm::InProcess;
    /// use gdlab_decentral::ExperimentConfig;
    /// let cfg: ExperimentConfig = serde_json::from_str(r#"{"graph": {"kind": "ring", "n_nodes": 3},
    ///     "problem": {"dim": 20, "sparsity": 2, "n_agents": 3, "samples_per_agent": 8, "noise_std": 0.1, "magnitude": 1.0},
    ///     "algorithms": [{"algorithm": "dgd", "step_size": 0.05, "init_scale": 1e-3, "n_rounds": 10}]}"#).unwrap();
    /// let out = InProcess::run(3, std::time::Duration::from_secs(30), |c| cfg.run_ranked(c)).unwrap();
    /// let root = out[0].as_ref().unwrap().result.as_ref().unwrap();
    /// assert_eq!(root.runs[0].trace, cfg.run().unwrap().runs[0].trace);
    /// assert!(out[1].as_ref().unwrap().result.is_none());
    /// ```
    pub fn run_ranked<C: Communicator + ?Sized>(&self, comm: &mut C) -> Result<RankedResult> {
        self.prepare()?; // validate everything before drawing data
        if comm.size() != self.problem.n_agents {
            return Err(gdlab_core::ConfigError::Dim {
                op: "number of ranks vs problem.n_agents (one agent per rank)",
                expected: self.problem.n_agents,
                got: comm.size(),
            }
            .into());
        }
        let seed = Seed(self.seed);
        let (local, w_star) = self.problem.generate_agent(seed, comm.rank())?;
        let full = if comm.rank() == 0 {
            Some(self.problem.generate(seed)?)
        } else {
            None
        };
        self.run_ranked_with(comm, &local, &w_star, full.as_ref())
    }

    /// [`run_ranked`](Self::run_ranked) on data the caller provides: this rank's `local`
    /// data and the truth `w_star` (e.g. read from `DIR/shard-<rank>.npy`), and on rank 0
    /// optionally the whole problem for the centralized references. Without it, `cgd` is
    /// an error and the oracle error is `None`. `problem.dim` must equal `w_star.len()`;
    /// the other fields of `problem` are not used for the data.
    ///
    /// # Errors
    /// As [`run_ranked`](Self::run_ranked); `cgd` without the whole problem on rank 0; a
    /// `w_star` or `local` whose dimension differs from `problem.dim`.
    pub fn run_ranked_with<C: Communicator + ?Sized>(
        &self,
        comm: &mut C,
        local: &LocalData,
        w_star: &[f64],
        full: Option<&DecentralProblem>,
    ) -> Result<RankedResult> {
        let (graph, mixing) = self.prepare()?;
        if comm.size() != self.problem.n_agents {
            return Err(gdlab_core::ConfigError::Dim {
                op: "number of ranks vs problem.n_agents (one agent per rank)",
                expected: self.problem.n_agents,
                got: comm.size(),
            }
            .into());
        }
        let d = self.problem.dim;
        if w_star.len() != d {
            return Err(gdlab_core::ConfigError::Dim {
                op: "w_star vs problem.dim",
                expected: d,
                got: w_star.len(),
            }
            .into());
        }
        let has_cgd = self
            .algorithms
            .iter()
            .any(|a| matches!(a, AlgorithmSpec::Cgd { .. }));
        if has_cgd && comm.rank() == 0 && full.is_none() {
            return Err(gdlab_core::ConfigError::Invalid {
                field: "algorithms".into(),
                reason:
                    "`cgd` needs all the data on rank 0 (generated data); remove it for shard files"
                        .into(),
            }
            .into());
        }
        let mut traces: Vec<Option<Trace>> = Vec::with_capacity(self.algorithms.len());
        let mut wire = Vec::with_capacity(self.algorithms.len());
        for a in &self.algorithms {
            let out = match a {
                AlgorithmSpec::Dgd { config, .. } => {
                    Some(config.run_agent(comm, &mixing, local, w_star)?)
                }
                AlgorithmSpec::Lasso { config, .. } => {
                    Some(config.run_agent(comm, &mixing, local, w_star)?)
                }
                AlgorithmSpec::Cgd { .. } => None,
            };
            match out {
                Some(o) => {
                    wire.push((a.label(), o.wire_algorithm, o.wire_total));
                    traces.push(Some(o.trace));
                }
                None => {
                    wire.push((a.label(), WireStats::default(), WireStats::default()));
                    traces.push(None);
                }
            }
        }
        if comm.rank() != 0 {
            return Ok(RankedResult { result: None, wire });
        }
        let oracle_err = match full {
            Some(p) => Some(p.error(&oracle_least_squares(p)?)),
            None => None,
        };
        let mut runs = Vec::with_capacity(self.algorithms.len());
        for (a, t) in self.algorithms.iter().zip(traces) {
            let trace = match (a, t, full) {
                (_, Some(t), _) => t,
                (AlgorithmSpec::Cgd { config, .. }, None, Some(p)) => {
                    config.run_centralized(p)?.trace
                }
                _ => unreachable!("decentralized algorithms have a trace; cgd was checked"),
            };
            runs.push(run_result(a.label(), trace));
        }
        Ok(RankedResult {
            result: Some(ExperimentResult {
                rho: mixing.rho(),
                n_edges: graph.n_edges(),
                oracle_err,
                runs,
            }),
            wire,
        })
    }
}

fn run_result(label: String, trace: Trace) -> RunResult {
    let (t, e) = trace.best();
    let (best_round, best_err) = if e.is_finite() {
        (Some(t), Some(e))
    } else {
        (None, None)
    };
    RunResult {
        label,
        trace,
        best_round,
        best_err,
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
