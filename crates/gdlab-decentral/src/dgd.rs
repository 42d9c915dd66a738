//! DGD on the over-parameterized objective (the paper's method, spec §2.1), T-DGD
//! (spec §2.3) and centralized GD on the same objective (spec §2.2).
//!
//! Each round is an **agent-local update** (in parallel over agents: two faer mat-vecs for
//! `g_i = X_iᵀ(X_i w_i − y_i)/n_i`, then the multiplicative step) followed by a
//! **communication step** (`x_i ← Σ_j W_ij x_j` over the graph, accounted in
//! [`CommStats`](crate::CommStats)).

use gdlab_core::ConfigError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::comm::Payload;
use crate::data::{DecentralProblem, LocalData};
use crate::error::Result;
use crate::graph::Graph;
use crate::local::{dgd_messages, hadamard_iterate, residual_grad, residual_sq};
use crate::mixing::MixingMatrix;
use crate::trace::{net_metrics, StopReason, Trace};

/// Order of the local step and the mixing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixOrder {
    /// Adapt-then-combine: mix the locally updated vectors (the paper's eqs. (3)-(4)).
    #[default]
    Atc,
    /// Combine-then-adapt: `u_{t+1,i} = Σ_j W_ij u_{t,j} − 4η u_{t,i}⊙g_i` (an extra variant,
    /// not the paper's method).
    Cta,
}

/// Which truncation rule T-DGD uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruncVariant {
    /// The paper's rule (eq. (8)): `a_i = Trun_k(u_i − 4η u_i⊙g_i)`, `u_i ← Σ_j W_ij a_j`
    /// (the agent's own term is truncated too).
    #[default]
    Paper,
    /// Optional, clearly labelled extra (not the paper's): `a_i = Trun_k(u_i)`,
    /// `u_i ← u_i − a_i + Σ_j W_ij a_j − 4η u_i⊙g_i` (mass-preserving).
    MassPreserving,
}

/// Top-k truncation of the transmitted vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truncation {
    /// Entries kept, `1 ≤ k ≤ d` (the paper uses `k = s`).
    pub k: usize,
    /// Rule.
    #[serde(default)]
    pub variant: TruncVariant,
}

/// Configuration of DGD / T-DGD on `F(u, v) = (1/m) Σ_i (1/n_i)‖X_i(u⊙u − v⊙v) − y_i‖²`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DgdConfig {
    /// Step size η in the paper's convention (factor `4η` in front of `u⊙g`), `η > 0`.
    pub step_size: f64,
    /// Initialization scale α: `u_{0,i} = v_{0,i} = α·1`, `α > 0`.
    pub init_scale: f64,
    /// Rounds `T` (the `Fixed(T)` stopping rule; the best iterate is read from the trace).
    pub n_rounds: usize,
    /// ATC (default, the paper's) or CTA.
    #[serde(default)]
    pub order: MixOrder,
    /// `Some` for T-DGD.
    #[serde(default)]
    pub truncation: Option<Truncation>,
}

impl Default for DgdConfig {
    /// Spec §5: η = 0.05, α = 1e-6, T = 3000, ATC, no truncation.
    fn default() -> Self {
        DgdConfig {
            step_size: 0.05,
            init_scale: 1e-6,
            n_rounds: 3000,
            order: MixOrder::Atc,
            truncation: None,
        }
    }
}

/// Final state and trace of a DGD run.
#[derive(Clone, Debug)]
pub struct DgdOutcome {
    /// Per-round metrics.
    pub trace: Trace,
    /// Final `u` of every agent, row-major `m × d`.
    pub u: Vec<f64>,
    /// Final `v`, row-major `m × d`.
    pub v: Vec<f64>,
}

impl DgdOutcome {
    /// Agent `i`'s final estimate `w_i = u_i⊙u_i − v_i⊙v_i`.
    ///
    /// # Panics
    /// If `i` is not an agent.
    #[must_use]
    pub fn estimate(&self, i: usize, dim: usize) -> Vec<f64> {
        let (u, v) = (
            &self.u[i * dim..(i + 1) * dim],
            &self.v[i * dim..(i + 1) * dim],
        );
        u.iter().zip(v).map(|(a, b)| a * a - b * b).collect()
    }
}

impl DgdConfig {
    /// Validates against a problem of dimension `dim`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: `step_size > 0`, `init_scale > 0`, `n_rounds ≥ 1`,
    /// `1 ≤ k ≤ dim`; truncation needs ATC order.
    pub fn validate(&self, dim: usize) -> Result<()> {
        ConfigError::check_positive("step_size", self.step_size)?;
        ConfigError::check_positive("init_scale", self.init_scale)?;
        if self.n_rounds == 0 || self.n_rounds > 100_000_000 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_rounds",
                value: self.n_rounds as i128,
                allowed: "[1, 1e8]",
            }
            .into());
        }
        if let Some(t) = self.truncation {
            if t.k == 0 || t.k > dim {
                return Err(ConfigError::Invalid {
                    field: "truncation.k".into(),
                    reason: format!("must be in [1, dim = {dim}], got {}", t.k),
                }
                .into());
            }
            if self.order != MixOrder::Atc {
                return Err(ConfigError::Invalid {
                    field: "order".into(),
                    reason: "truncation (T-DGD) is defined for the ATC order only".into(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Runs DGD (or T-DGD) on `problem` over `mixing`.
    ///
    /// # Errors
    /// Invalid configuration; a mixing matrix whose size differs from the number of agents.
    /// Divergence is not an error: the trace ends with [`StopReason::Diverged`].
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::{DgdConfig, Graph, MixingMatrix, SparseRegressionConfig, WeightRule};
    /// let problem = SparseRegressionConfig { dim: 100, n_agents: 4, ..Default::default() }
    ///     .generate(Seed(0)).unwrap();
    /// let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
    /// let out = DgdConfig { n_rounds: 300, ..Default::default() }.run(&problem, &w).unwrap();
    /// let (t_best, best) = out.trace.best();
    /// assert!(best < 0.5 * out.trace.err_agents[0] && t_best > 0);
    /// ```
    pub fn run(&self, problem: &DecentralProblem, mixing: &MixingMatrix) -> Result<DgdOutcome> {
        Ok(DgdRunner::new(*self, problem, mixing)?.run_to_end())
    }

    /// [`run`](Self::run), also recording the held-out loss of every iterate
    /// ([`Trace::val_loss`]) so that [`Trace::select`]`(`[`Stopping::ValidationLoss`]`)`
    /// picks the stopping time a practitioner could pick without knowing `w*`.
    ///
    /// # Errors
    /// As [`run`](Self::run) and [`DgdRunner::with_holdout`].
    ///
    /// [`Stopping::ValidationLoss`]: crate::Stopping::ValidationLoss
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::{DgdConfig, Graph, MixingMatrix, SparseRegressionConfig, Stopping, WeightRule};
    /// let c = SparseRegressionConfig { dim: 100, n_agents: 4, ..Default::default() };
    /// let (problem, held) = (c.generate(Seed(0)).unwrap(), c.generate_holdout(Seed(0), 10).unwrap());
    /// let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
    /// let out = DgdConfig { n_rounds: 300, ..Default::default() }
    ///     .run_with_holdout(&problem, &w, &held)
    ///     .unwrap();
    /// let (t_val, e_val) = out.trace.select(Stopping::ValidationLoss).unwrap();
    /// assert!(t_val > 0 && e_val >= out.trace.best().1);
    /// ```
    pub fn run_with_holdout(
        &self,
        problem: &DecentralProblem,
        mixing: &MixingMatrix,
        holdout: &[LocalData],
    ) -> Result<DgdOutcome> {
        Ok(DgdRunner::new(*self, problem, mixing)?
            .with_holdout(holdout)?
            .run_to_end())
    }

    /// Centralized GD on the same objective: one agent holding all the data
    /// (`g = Xᵀ(Xw − y)/N`, spec §2.2); no communication.
    ///
    /// # Errors
    /// As [`run`](Self::run).
    pub fn run_centralized(&self, problem: &DecentralProblem) -> Result<DgdOutcome> {
        let single =
            MixingMatrix::new(&Graph::complete(1)?, crate::mixing::WeightRule::Metropolis)?;
        let cfg = DgdConfig {
            truncation: None,
            order: MixOrder::Atc,
            ..*self
        };
        cfg.run(&problem.stacked(), &single)
    }

    /// [`run_centralized`](Self::run_centralized) with the agents' held-out samples pooled
    /// into one holdout (rows in agent order), recording [`Trace::val_loss`].
    ///
    /// # Errors
    /// As [`run_with_holdout`](Self::run_with_holdout).
    pub fn run_centralized_with_holdout(
        &self,
        problem: &DecentralProblem,
        holdout: &[LocalData],
    ) -> Result<DgdOutcome> {
        let single =
            MixingMatrix::new(&Graph::complete(1)?, crate::mixing::WeightRule::Metropolis)?;
        let cfg = DgdConfig {
            truncation: None,
            order: MixOrder::Atc,
            ..*self
        };
        cfg.run_with_holdout(&problem.stacked(), &single, &[LocalData::stack(holdout)])
    }
}

/// A DGD run advanced one round at a time (what [`DgdConfig::run`] loops over; also used by
/// the benchmark of one round).
///
/// # Examples
/// ```
/// use gdlab_core::Seed;
/// use gdlab_decentral::{DgdConfig, DgdRunner, Graph, MixingMatrix, SparseRegressionConfig, WeightRule};
/// let p = SparseRegressionConfig { dim: 50, n_agents: 3, ..Default::default() }.generate(Seed(0)).unwrap();
/// let w = MixingMatrix::new(&Graph::ring(3).unwrap(), WeightRule::Metropolis).unwrap();
/// let cfg = DgdConfig { n_rounds: 5, ..Default::default() };
/// let mut r = DgdRunner::new(cfg, &p, &w).unwrap();
/// for _ in 0..5 {
///     assert!(r.step());
/// }
/// let out = r.finish();
/// assert_eq!(out.trace.err_agents, cfg.run(&p, &w).unwrap().trace.err_agents);
/// ```
pub struct DgdRunner<'a> {
    cfg: DgdConfig,
    problem: &'a DecentralProblem,
    mixing: &'a MixingMatrix,
    u: Vec<f64>,
    v: Vec<f64>,
    su: Vec<f64>,
    sv: Vec<f64>,
    du: Vec<f64>,
    dv: Vec<f64>,
    wbuf: Vec<f64>,
    scratch: Vec<(Vec<f64>, Vec<f64>, Vec<usize>)>,
    holdout: Option<&'a [LocalData]>,
    val_scratch: Vec<Vec<f64>>,
    trace: Trace,
    round: usize,
    stopped: bool,
}

impl std::fmt::Debug for DgdRunner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DgdRunner")
            .field("cfg", &self.cfg)
            .field("round", &self.round)
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

impl<'a> DgdRunner<'a> {
    /// Validates `cfg` and allocates the state `u = v = α·1` at every agent.
    ///
    /// # Errors
    /// As [`DgdConfig::run`].
    pub fn new(
        cfg: DgdConfig,
        problem: &'a DecentralProblem,
        mixing: &'a MixingMatrix,
    ) -> Result<Self> {
        let d = problem.dim();
        cfg.validate(d)?;
        let m = problem.n_agents();
        if mixing.n_nodes() != m {
            return Err(ConfigError::Dim {
                op: "mixing matrix size vs n_agents",
                expected: m,
                got: mixing.n_nodes(),
            }
            .into());
        }
        let mut trace = Trace::with_capacity(cfg.n_rounds + 1);
        trace.comm.vectors_per_edge_per_round = 2;
        Ok(DgdRunner {
            cfg,
            problem,
            mixing,
            u: vec![cfg.init_scale; m * d],
            v: vec![cfg.init_scale; m * d],
            su: vec![0.0; m * d],
            sv: vec![0.0; m * d],
            du: vec![0.0; m * d],
            dv: vec![0.0; m * d],
            wbuf: vec![0.0; m * d],
            scratch: problem
                .agents()
                .iter()
                .map(|a| (vec![0.0; a.n_samples()], vec![0.0; d], Vec::new()))
                .collect(),
            holdout: None,
            val_scratch: vec![Vec::new(); m],
            trace,
            round: 0,
            stopped: false,
        })
    }

    /// Also records, at every iterate, the held-out loss of each agent's estimate on its own
    /// held-out samples (`holdout[i]` belongs to agent `i`; see
    /// [`SparseRegressionConfig::generate_holdout`](crate::SparseRegressionConfig::generate_holdout)),
    /// network-averaged into [`Trace::val_loss`] for the
    /// [`Stopping::ValidationLoss`](crate::Stopping::ValidationLoss) rule. Costs one more
    /// mat-vec of `h_i × d` per agent and round.
    ///
    /// # Errors
    /// `holdout.len() ≠ n_agents`, an agent's holdout has no samples or a row length other
    /// than `dim`, or a non-finite value.
    pub fn with_holdout(mut self, holdout: &'a [LocalData]) -> Result<Self> {
        let d = self.problem.dim();
        if holdout.len() != self.problem.n_agents() {
            return Err(ConfigError::Dim {
                op: "holdout agents vs n_agents",
                expected: self.problem.n_agents(),
                got: holdout.len(),
            }
            .into());
        }
        for a in holdout {
            if a.y.is_empty() || a.x.len() != a.y.len() * d {
                return Err(ConfigError::Invalid {
                    field: "holdout".into(),
                    reason: format!(
                        "each agent needs h ≥ 1 samples of dimension {d} (got {} values for {} samples)",
                        a.x.len(),
                        a.y.len()
                    ),
                }
                .into());
            }
            if !a.x.iter().chain(&a.y).all(|v| v.is_finite()) {
                return Err(ConfigError::Invalid {
                    field: "holdout".into(),
                    reason: "non-finite value".into(),
                }
                .into());
            }
        }
        self.val_scratch = holdout.iter().map(|a| vec![0.0; a.n_samples()]).collect();
        self.holdout = Some(holdout);
        Ok(self)
    }

    /// One round: the agent-local update at every agent (recording the metrics of the
    /// current iterate), then the communication step. Returns `false` (and does nothing)
    /// once the run has diverged.
    pub fn step(&mut self) -> bool {
        self.round_impl(false)
    }

    /// Runs the remaining rounds of `n_rounds` (stopping early on divergence), then
    /// [`finish`](Self::finish).
    #[must_use]
    pub fn run_to_end(mut self) -> DgdOutcome {
        while self.round < self.cfg.n_rounds {
            if !self.step() {
                break;
            }
        }
        self.finish()
    }

    /// Records the metrics of the final iterate and returns the outcome.
    #[must_use]
    pub fn finish(mut self) -> DgdOutcome {
        self.round_impl(true);
        DgdOutcome {
            trace: self.trace,
            u: self.u,
            v: self.v,
        }
    }

    fn round_impl(&mut self, last: bool) -> bool {
        if self.stopped {
            return false;
        }
        let cfg = self.cfg;
        let problem = self.problem;
        let mixing = self.mixing;
        let d = problem.dim();
        let m = problem.n_agents();
        let t = self.round;
        let holdout = self.holdout;
        let (u, v, su, sv, du, dv, wbuf, scratch, val_scratch, trace) = (
            &mut self.u,
            &mut self.v,
            &mut self.su,
            &mut self.sv,
            &mut self.du,
            &mut self.dv,
            &mut self.wbuf,
            &mut self.scratch,
            &mut self.val_scratch,
            &mut self.trace,
        );
        let step = 4.0 * cfg.step_size;
        let payload = match cfg.truncation {
            Some(tr) => Payload::Sparse { k: tr.k, dim: d },
            None => Payload::Dense { dim: d },
        };
        let with_delta = cfg.order == MixOrder::Cta
            || matches!(
                cfg.truncation,
                Some(Truncation {
                    variant: TruncVariant::MassPreserving,
                    ..
                })
            );
        let w_star = problem.w_star();
        // ---- agent-local update (parallel over agents, each sequential) ----
        let (uu, vv) = (&*u, &*v);
        let per_agent: Vec<(f64, f64, f64)> = su
            .par_chunks_mut(d)
            .zip(sv.par_chunks_mut(d))
            .zip(du.par_chunks_mut(d))
            .zip(dv.par_chunks_mut(d))
            .zip(wbuf.par_chunks_mut(d))
            .zip(scratch.par_iter_mut())
            .zip(val_scratch.par_iter_mut())
            .zip(problem.agents().par_iter())
            .enumerate()
            .map(
                |(i, (((((((sui, svi), dui), dvi), wi), (r, g, idx)), rv), data))| {
                    let ui = &uu[i * d..(i + 1) * d];
                    let vi = &vv[i * d..(i + 1) * d];
                    let err = hadamard_iterate(ui, vi, w_star, wi);
                    let rr = residual_grad(data, d, wi, r, g);
                    let loss = rr / data.n_samples() as f64;
                    let vloss = holdout.map_or(0.0, |h| {
                        residual_sq(&h[i], d, wi, rv) / h[i].n_samples() as f64
                    });
                    if last {
                        return (loss, err.sqrt(), vloss);
                    }
                    dgd_messages(
                        cfg.order,
                        cfg.truncation,
                        step,
                        ui,
                        vi,
                        g,
                        sui,
                        svi,
                        dui,
                        dvi,
                        idx,
                    );
                    (loss, err.sqrt(), vloss)
                },
            )
            .collect();
        // ---- metrics of iterate t (fixed-order reductions) ----
        let loss: f64 = per_agent.iter().map(|p| p.0).sum::<f64>() / m as f64;
        let err_agents: f64 = per_agent.iter().map(|p| p.1).sum::<f64>() / m as f64;
        let val_loss: f64 = per_agent.iter().map(|p| p.2).sum::<f64>() / m as f64;
        if !loss.is_finite() || !err_agents.is_finite() || !val_loss.is_finite() {
            trace.stop = StopReason::Diverged { round: t };
            self.stopped = true;
            return false;
        }
        let nm = net_metrics(wbuf, Some((u, v)), w_star, m);
        trace.err_agents.push(err_agents);
        trace.loss.push(loss);
        if holdout.is_some() {
            trace.val_loss.push(val_loss);
        }
        trace.err_avg.push(nm.err_avg);
        trace.err_bar.push(nm.err_bar);
        trace.consensus.push(nm.consensus);
        if last {
            self.stopped = true;
            return true;
        }
        // ---- communication step ----
        mixing.mix(su, u, d);
        mixing.mix(sv, v, d);
        trace.comm.exchange(mixing.n_edges(), payload);
        trace.comm.exchange(mixing.n_edges(), payload);
        trace.comm.rounds += 1;
        if with_delta {
            add_assign_par(u, du);
            add_assign_par(v, dv);
        }
        self.round += 1;
        true
    }
}

fn add_assign_par(x: &mut [f64], y: &[f64]) {
    x.par_chunks_mut(4096)
        .zip(y.par_chunks(4096))
        .for_each(|(a, b)| {
            for (p, q) in a.iter_mut().zip(b) {
                *p += q;
            }
        });
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
    use crate::data::SparseRegressionConfig;
    use crate::mixing::WeightRule;
    use gdlab_core::Seed;

    fn small() -> DecentralProblem {
        SparseRegressionConfig {
            dim: 200,
            sparsity: 4,
            n_agents: 5,
            samples_per_agent: 30,
            ..Default::default()
        }
        .generate(Seed(3))
        .unwrap()
    }

    #[test]
    fn complete_graph_averaging_equals_centralized_step_for_step() {
        let p = small();
        let cfg = DgdConfig {
            n_rounds: 400,
            ..Default::default()
        };
        let dec = cfg.run(&p, &MixingMatrix::averaging(5).unwrap()).unwrap();
        let cen = cfg.run_centralized(&p).unwrap();
        assert_eq!(dec.trace.err_agents.len(), 401);
        // With W = J/m all agents hold the same (u, v), and the mean of the local gradients
        // (equal n_i) is the stacked gradient: the two runs differ only by rounding (the
        // order of the sums), which the multiplicative update amplifies mildly.
        for t in 0..=400 {
            let (a, b) = (dec.trace.err_agents[t], cen.trace.err_agents[t]);
            assert!((a - b).abs() <= 1e-9 * b, "t = {t}: {a} vs {b}");
            let (a, b) = (dec.trace.loss[t], cen.trace.loss[t]);
            assert!((a - b).abs() <= 1e-9 * b, "t = {t}: {a} vs {b}");
        }
        for i in 0..5 {
            let wi = dec.estimate(i, 200);
            let wc = cen.estimate(0, 200);
            for j in 0..200 {
                assert!((wi[j] - wc[j]).abs() <= 1e-9 * (1e-6 + wc[j].abs()));
            }
        }
        // Consensus is exact up to rounding.
        assert!(dec.trace.consensus.iter().all(|&c| c < 1e-12));
    }

    #[test]
    fn results_independent_of_thread_count() {
        let p = small();
        let w = MixingMatrix::new(&Graph::ring(5).unwrap(), WeightRule::Metropolis).unwrap();
        let run = |threads: usize, cfg: DgdConfig| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| cfg.run(&p, &w).unwrap())
        };
        for cfg in [
            DgdConfig {
                n_rounds: 100,
                ..Default::default()
            },
            DgdConfig {
                n_rounds: 100,
                order: MixOrder::Cta,
                ..Default::default()
            },
            DgdConfig {
                n_rounds: 100,
                truncation: Some(Truncation {
                    k: 4,
                    variant: TruncVariant::Paper,
                }),
                ..Default::default()
            },
        ] {
            let (a, b) = (run(1, cfg), run(3, cfg));
            assert_eq!(a.trace, b.trace);
            assert_eq!(a.u, b.u);
            assert_eq!(a.v, b.v);
        }
    }

    #[test]
    fn first_step_closed_form() {
        // One ATC round from u = v = α·1 on the complete graph with W = J/m:
        // u_1 = α(1 − 4η ḡ), v_1 = α(1 + 4η ḡ) with ḡ = (1/m)Σ X_iᵀ(−y_i)/n_i (w_0 = 0).
        let p = small();
        let cfg = DgdConfig {
            n_rounds: 1,
            init_scale: 1e-3,
            ..Default::default()
        };
        let out = cfg.run(&p, &MixingMatrix::averaging(5).unwrap()).unwrap();
        let d = 200;
        let mut gbar = vec![0.0; d];
        for a in p.agents() {
            let n = a.n_samples();
            for r in 0..n {
                for j in 0..d {
                    gbar[j] -= a.x[r * d + j] * a.y[r] / n as f64 / 5.0;
                }
            }
        }
        for j in 0..d {
            let u1 = 1e-3 * (1.0 - 0.2 * gbar[j]);
            let v1 = 1e-3 * (1.0 + 0.2 * gbar[j]);
            assert!((out.u[j] - u1).abs() <= 1e-14, "{j}");
            assert!((out.v[3 * d + j] - v1).abs() <= 1e-14, "{j}");
        }
    }

    #[test]
    fn t_dgd_sends_k_entries_and_bits() {
        let p = small();
        let w = MixingMatrix::new(&Graph::ring(5).unwrap(), WeightRule::Metropolis).unwrap();
        let cfg = DgdConfig {
            n_rounds: 10,
            truncation: Some(Truncation {
                k: 4,
                variant: TruncVariant::Paper,
            }),
            ..Default::default()
        };
        let out = cfg.run(&p, &w).unwrap();
        // Each agent's u is supported on the union of its neighbours' (and own) top-4 sets.
        for i in 0..5 {
            let nz = out.u[i * 200..(i + 1) * 200]
                .iter()
                .filter(|x| **x != 0.0)
                .count();
            assert!(nz <= 3 * 4, "{nz}");
        }
        // 10 rounds × 2 vectors × 2|E| = 10 messages × (4·(32 + 8)) bits.
        assert_eq!(out.trace.comm.bits_sent, 10 * 2 * 10 * 4 * 40);
        let dense = DgdConfig {
            n_rounds: 10,
            ..Default::default()
        }
        .run(&p, &w)
        .unwrap();
        assert_eq!(dense.trace.comm.bits_sent, 10 * 2 * 10 * 32 * 200);
    }

    #[test]
    fn bad_config_and_divergence() {
        let p = small();
        let w = MixingMatrix::averaging(5).unwrap();
        for bad in [
            DgdConfig {
                step_size: 0.0,
                ..Default::default()
            },
            DgdConfig {
                step_size: -1.0,
                ..Default::default()
            },
            DgdConfig {
                init_scale: f64::NAN,
                ..Default::default()
            },
            DgdConfig {
                truncation: Some(Truncation {
                    k: 201,
                    variant: TruncVariant::Paper,
                }),
                ..Default::default()
            },
        ] {
            assert!(bad.run(&p, &w).is_err());
        }
        let e = DgdConfig::default()
            .run(&p, &MixingMatrix::averaging(4).unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("n_agents"), "{e}");
        let out = DgdConfig {
            step_size: 50.0,
            init_scale: 1.0,
            n_rounds: 200,
            ..Default::default()
        }
        .run(&p, &w)
        .unwrap();
        assert!(out.trace.diverged());
        assert!(out.trace.err_agents.iter().all(|e| e.is_finite()));
    }

    #[test]
    fn holdout_loss_matches_a_direct_computation_and_leaves_training_unchanged() {
        let c = SparseRegressionConfig {
            dim: 200,
            sparsity: 4,
            n_agents: 5,
            samples_per_agent: 30,
            ..Default::default()
        };
        let p = c.generate(Seed(3)).unwrap();
        let held = c.generate_holdout(Seed(3), 12).unwrap();
        let w = MixingMatrix::new(&Graph::ring(5).unwrap(), WeightRule::Metropolis).unwrap();
        let cfg = DgdConfig {
            n_rounds: 400,
            ..Default::default()
        };
        let plain = cfg.run(&p, &w).unwrap();
        let with = cfg.run_with_holdout(&p, &w, &held).unwrap();
        // Training is untouched (bitwise); the trace gains one held-out loss per iterate.
        assert_eq!(plain.trace.err_agents, with.trace.err_agents);
        assert_eq!((plain.u, plain.v), (with.u.clone(), with.v.clone()));
        assert!(plain.trace.val_loss.is_empty());
        assert_eq!(with.trace.val_loss.len(), with.trace.err_agents.len());
        // The last entry, recomputed with plain loops from the final u, v.
        let direct: f64 = (0..5)
            .map(|i| {
                let wi = with.estimate(i, 200);
                let h = &held[i];
                (0..12)
                    .map(|r| {
                        let xw: f64 = (0..200).map(|j| h.x[r * 200 + j] * wi[j]).sum();
                        (xw - h.y[r]).powi(2)
                    })
                    .sum::<f64>()
                    / 12.0
            })
            .sum::<f64>()
            / 5.0;
        let last = *with.trace.val_loss.last().unwrap();
        assert!(
            (last - direct).abs() <= 1e-12 * direct,
            "{last} vs {direct}"
        );
        // At t = 0 (w = α⁴-small) the held-out loss is the mean ‖ỹ_i‖²/h.
        let y2: f64 = held
            .iter()
            .map(|h| h.y.iter().map(|y| y * y).sum::<f64>() / 12.0)
            .sum::<f64>()
            / 5.0;
        assert!((with.trace.val_loss[0] - y2).abs() <= 1e-9 * y2);
        // The validation-selected iterate is a real stopping time: after the start, no better
        // than the oracle-best one, and far below the starting error.
        let (t_val, e_val) = with.trace.select(crate::Stopping::ValidationLoss).unwrap();
        let (_, e_best) = with.trace.best();
        assert!(t_val > 0 && e_val >= e_best && e_val < 0.5 * with.trace.err_agents[0]);
        // Thread-count independent.
        let again = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| cfg.run_with_holdout(&p, &w, &held).unwrap());
        assert_eq!(again.trace, with.trace);
    }

    #[test]
    fn bad_holdout_is_an_error() {
        let c = SparseRegressionConfig {
            dim: 200,
            sparsity: 4,
            n_agents: 5,
            samples_per_agent: 30,
            ..Default::default()
        };
        let p = c.generate(Seed(3)).unwrap();
        let w = MixingMatrix::new(&Graph::ring(5).unwrap(), WeightRule::Metropolis).unwrap();
        let held = c.generate_holdout(Seed(3), 4).unwrap();
        let cfg = DgdConfig::default();
        let e = cfg.run_with_holdout(&p, &w, &held[..4]).unwrap_err();
        assert!(e.to_string().contains("holdout"), "{e}");
        let mut short = held.clone();
        short[2].x.pop();
        let e = cfg.run_with_holdout(&p, &w, &short).unwrap_err();
        assert!(e.to_string().contains("holdout"), "{e}");
        let mut nan = held;
        nan[1].y[0] = f64::NAN;
        let e = cfg.run_with_holdout(&p, &w, &nan).unwrap_err();
        assert!(e.to_string().contains("non-finite"), "{e}");
        assert!(c.generate_holdout(Seed(3), 0).is_err());
    }
}
