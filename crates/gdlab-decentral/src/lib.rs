//! # gdlab-decentral
//!
//! Decentralized gradient descent over networks of agents (T. Wu & Y. Sun, "Implicit
//! Regularization of Decentralized Gradient Descent for Sparse Regression", NeurIPS 2024;
//! spec `papers/decentralized-gd-sparse-regression.md`).
//!
//! | module | what it holds |
//! |---|---|
//! | [`graph`] | [`Graph`]: ring, path, star, complete, 2-D grid/torus, seeded Erdős–Rényi (connected by rejection), edge lists; [`GraphSpec`] |
//! | [`mixing`] | [`MixingMatrix`] (Metropolis–Hastings, max-degree, lazy; checked symmetric and doubly stochastic), ρ, [`tune_er_to_rho`] |
//! | [`data`] | [`SparseRegressionConfig`] → [`DecentralProblem`] (`y_i = X_i w* + ξ_i`) |
//! | [`dgd`] | [`DgdConfig`]: DGD (ATC/CTA) and T-DGD on the over-parameterized objective; centralized GD |
//! | [`lasso`] | [`LassoConfig`]: prox-DGD CTA/ATC and NetLASSO (gradient tracking on the ℓ1 ball) |
//! | [`oracle`] | [`oracle_least_squares`] on the true support |
//! | [`comm`] | [`CommStats`], [`Payload`]: vectors and bits per edge |
//! | [`dist`] | one agent per rank of a [`gdlab_comm::Communicator`] (threads or MPI): [`DgdConfig::run_agent`], [`LassoConfig::run_agent`], [`ExperimentConfig::run_ranked`]; bitwise the simulation's trace |
//! | [`trace`] | [`Trace`]: per-round errors, consensus, loss |
//! | [`experiment`] | [`ExperimentConfig`]: one JSON-configured run (the `gdlab decentral run` verb) |
//!
//! ## Notation (paper symbol ↔ API name)
//!
//! | paper | API |
//! |---|---|
//! | m, d, s, n_i, N | `n_agents`/`n_nodes`, `dim`, `sparsity`, `samples_per_agent`, `total_samples` |
//! | W, ρ = ‖W − 11ᵀ/m‖₂ | [`MixingMatrix`], [`MixingMatrix::rho`] |
//! | α, η (factor 4η in front of u⊙g) | `init_scale`, `step_size` |
//! | u_{t,i}, v_{t,i}, w_{t,i} = u⊙u − v⊙v | [`DgdOutcome::u`], [`DgdOutcome::v`], [`DgdOutcome::estimate`] |
//! | Trun_s | [`Truncation`] `{ k }` |
//! | λ, R | [`LassoMethod`] `lambda`, `radius` |
//!
//! Determinism: agents' local work runs in parallel with rayon, but every agent computes
//! sequentially and every reduction over agents or coordinate chunks is in index order, so
//! results are bitwise the same for any number of threads.
//!
//! ## Example
//!
//! ```
//! use gdlab_core::Seed;
//! use gdlab_decentral::{DgdConfig, Graph, MixingMatrix, SparseRegressionConfig, WeightRule};
//! let problem = SparseRegressionConfig { dim: 200, n_agents: 5, ..Default::default() }
//!     .generate(Seed(0)).unwrap();
//! let graph = Graph::erdos_renyi(5, 0.6, Seed(1)).unwrap();
//! let w = MixingMatrix::new(&graph, WeightRule::Metropolis).unwrap();
//! assert!(w.rho() < 1.0);
//! let out = DgdConfig { n_rounds: 400, ..Default::default() }.run(&problem, &w).unwrap();
//! let cgd = DgdConfig { n_rounds: 400, ..Default::default() }.run_centralized(&problem).unwrap();
//! // Decentralized DGD reaches (nearly) the centralized error.
//! assert!(out.trace.best().1 < 1.5 * cgd.trace.best().1);
//! ```

pub mod comm;
pub mod data;
pub mod dgd;
pub mod dist;
pub mod error;
pub mod experiment;
pub mod graph;
pub mod lasso;
mod local;
pub mod mixing;
pub mod oracle;
pub mod trace;

pub use comm::{CommStats, Payload};
pub use data::{DecentralProblem, LocalData, SparseRegressionConfig};
pub use dgd::{DgdConfig, DgdOutcome, DgdRunner, MixOrder, TruncVariant, Truncation};
pub use dist::AgentOutcome;
pub use error::{DecentralError, Result};
pub use experiment::{AlgorithmSpec, ExperimentConfig, ExperimentResult, RankedResult, RunResult};
pub use graph::{DegreeStats, Graph, GraphSpec};
pub use lasso::{max_local_smoothness, LassoConfig, LassoMethod};
pub use mixing::{tune_er_to_rho, ErTuned, MixingMatrix, WeightRule};
pub use oracle::oracle_least_squares;
pub use trace::{StopReason, Stopping, Trace};
