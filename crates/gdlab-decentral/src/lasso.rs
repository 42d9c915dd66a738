//! Decentralized LASSO baselines (spec §2.4): prox-DGD in CTA and ATC form with an ℓ1
//! penalty λ, and NetLASSO (projected gradient tracking on the ℓ1 ball of radius R).
//!
//! Local loss (our choice, stated in the spec's tuning rule `L_i = ‖X_i‖₂²/n_i`):
//! `f_i(x) = (1/(2n_i))‖X_i x − y_i‖²`, `∇f_i(x) = X_iᵀ(X_i x − y_i)/n_i`.
//! All methods start at `x_{0,i} = 0`.

use gdlab_core::ConfigError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::comm::Payload;
use crate::data::DecentralProblem;
use crate::error::Result;
use crate::local::{project_l1_ball, residual_grad, soft_threshold, truncate_top_k};
use crate::mixing::MixingMatrix;
use crate::trace::{net_metrics, StopReason, Trace};

/// The baseline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum LassoMethod {
    /// CTA-DGD (LASSO), Ji et al. (JMLR 2023):
    /// `x_{t+1,i} = S_{ηλ}(Σ_j W_ij x_{t,j} − η∇f_i(x_{t,i}))`.
    ProxCta {
        /// Penalty λ ≥ 0.
        lambda: f64,
    },
    /// ATC-DGD (LASSO), Ji et al. (IEEE TIT 2023):
    /// `x_{t+1,i} = S_{ηλ}(Σ_j W_ij (x_{t,j} − η∇f_j(x_{t,j})))` (prox after mixing), or with
    /// `prox_before_mixing` `x_{t+1,i} = Σ_j W_ij S_{ηλ}(x_{t,j} − η∇f_j(x_{t,j}))` (the
    /// placement in Ji et al. was not checked; spec §2.4).
    ProxAtc {
        /// Penalty λ ≥ 0.
        lambda: f64,
        /// Apply the prox before the mixing.
        #[serde(default)]
        prox_before_mixing: bool,
    },
    /// DGT (NetLASSO), Sun, Maros, Scutari & Cheng: projected gradient tracking,
    /// `x_{t+1,i} = Π_{‖·‖₁≤R}(Σ_j W_ij x_{t,j} − η y_{t,i})`,
    /// `y_{t+1,i} = Σ_j W_ij y_{t,j} + ∇f_i(x_{t+1,i}) − ∇f_i(x_{t,i})`.
    NetLasso {
        /// ℓ1 radius R > 0 (oracle: `‖w*‖₁`).
        radius: f64,
    },
}

/// Configuration of a LASSO baseline run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LassoConfig {
    /// The method and its penalty/radius.
    pub method: LassoMethod,
    /// Step size η > 0 (spec tuning: `0.5 / max_i L_i`).
    pub step_size: f64,
    /// Rounds.
    pub n_rounds: usize,
    /// `Some(k)`: every transmitted vector (and the agent's own term) passes through
    /// `Trun_k` before mixing (the truncated baselines of Fig. 6; our placement).
    #[serde(default)]
    pub truncate: Option<usize>,
}

impl LassoConfig {
    /// Validates against dimension `dim`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: `step_size > 0`, `lambda ≥ 0`, `radius > 0`,
    /// `n_rounds ≥ 1`, `1 ≤ truncate ≤ dim`.
    pub fn validate(&self, dim: usize) -> Result<()> {
        ConfigError::check_positive("step_size", self.step_size)?;
        match self.method {
            LassoMethod::ProxCta { lambda } | LassoMethod::ProxAtc { lambda, .. } => {
                ConfigError::check_non_negative("lambda", lambda)?;
            }
            LassoMethod::NetLasso { radius } => {
                ConfigError::check_positive("radius", radius)?;
            }
        }
        if self.n_rounds == 0 || self.n_rounds > 100_000_000 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_rounds",
                value: self.n_rounds as i128,
                allowed: "[1, 1e8]",
            }
            .into());
        }
        if let Some(k) = self.truncate {
            if k == 0 || k > dim {
                return Err(ConfigError::Invalid {
                    field: "truncate".into(),
                    reason: format!("must be in [1, dim = {dim}], got {k}"),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Runs the baseline; the trace records `x_{t,i}` as the agents' estimates.
    ///
    /// # Errors
    /// Invalid configuration or a mixing matrix of the wrong size.
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::{Graph, LassoConfig, LassoMethod, MixingMatrix, SparseRegressionConfig, WeightRule};
    /// let p = SparseRegressionConfig { dim: 100, n_agents: 4, ..Default::default() }.generate(Seed(0)).unwrap();
    /// let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
    /// let cfg = LassoConfig { method: LassoMethod::NetLasso { radius: 5.0 }, step_size: 0.01, n_rounds: 300, truncate: None };
    /// let t = cfg.run(&p, &w).unwrap();
    /// assert!(t.final_err() < t.err_agents[0]);
    /// ```
    pub fn run(&self, problem: &DecentralProblem, mixing: &MixingMatrix) -> Result<Trace> {
        let d = problem.dim();
        self.validate(d)?;
        let m = problem.n_agents();
        if mixing.n_nodes() != m {
            return Err(ConfigError::Dim {
                op: "mixing matrix size vs n_agents",
                expected: m,
                got: mixing.n_nodes(),
            }
            .into());
        }
        let eta = self.step_size;
        let payload = match self.truncate {
            Some(k) => Payload::Sparse { k, dim: d },
            None => Payload::Dense { dim: d },
        };
        let w_star = problem.w_star();
        let mut x = vec![0.0; m * d];
        let mut sx = vec![0.0; m * d];
        let mut g = vec![0.0; m * d];
        let mut y = vec![0.0; m * d]; // tracker (NetLASSO)
        let mut sy = vec![0.0; m * d];
        let mut nx = vec![0.0; m * d];
        let mut scratch: Vec<(Vec<f64>, Vec<usize>, Vec<f64>)> = problem
            .agents()
            .iter()
            .map(|a| (vec![0.0; a.n_samples()], Vec::new(), Vec::new()))
            .collect();
        let mut trace = Trace::with_capacity(self.n_rounds + 1);
        let net = matches!(self.method, LassoMethod::NetLasso { .. });
        trace.comm.vectors_per_edge_per_round = if net { 2 } else { 1 };
        // Local gradients at x_0 (and y_0 = ∇f_i(x_0)).
        let mut losses = local_grads(problem, &x, &mut g, &mut scratch);
        if net {
            y.copy_from_slice(&g);
        }
        for t in 0..=self.n_rounds {
            // ---- metrics of x_t ----
            let loss = losses.iter().sum::<f64>() / m as f64;
            let errs: Vec<f64> = x
                .par_chunks(d)
                .map(|xi| {
                    xi.iter()
                        .zip(w_star)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt()
                })
                .collect();
            let err_agents = errs.iter().sum::<f64>() / m as f64;
            if !loss.is_finite() || !err_agents.is_finite() {
                trace.stop = StopReason::Diverged { round: t };
                break;
            }
            let nm = net_metrics(&x, None, w_star, m);
            trace.err_agents.push(err_agents);
            trace.loss.push(loss);
            trace.err_avg.push(nm.err_avg);
            trace.err_bar.push(nm.err_bar);
            trace.consensus.push(nm.consensus);
            if t == self.n_rounds {
                break;
            }
            // ---- local update, communication, local correction ----
            let k = self.truncate;
            match self.method {
                LassoMethod::ProxCta { lambda } => {
                    sx.copy_from_slice(&x);
                    trunc_rows(&mut sx, d, k, &mut scratch);
                    mixing.mix(&sx, &mut nx, d);
                    nx.par_chunks_mut(d)
                        .zip(g.par_chunks(d))
                        .for_each(|(xi, gi)| {
                            for (a, b) in xi.iter_mut().zip(gi) {
                                *a -= eta * b;
                            }
                            soft_threshold(xi, eta * lambda);
                        });
                    trace.comm.exchange(mixing.n_edges(), payload);
                }
                LassoMethod::ProxAtc {
                    lambda,
                    prox_before_mixing,
                } => {
                    sx.par_chunks_mut(d)
                        .zip(x.par_chunks(d))
                        .zip(g.par_chunks(d))
                        .for_each(|((si, xi), gi)| {
                            for ((s, a), b) in si.iter_mut().zip(xi).zip(gi) {
                                *s = a - eta * b;
                            }
                            if prox_before_mixing {
                                soft_threshold(si, eta * lambda);
                            }
                        });
                    trunc_rows(&mut sx, d, k, &mut scratch);
                    mixing.mix(&sx, &mut nx, d);
                    if !prox_before_mixing {
                        nx.par_chunks_mut(d)
                            .for_each(|xi| soft_threshold(xi, eta * lambda));
                    }
                    trace.comm.exchange(mixing.n_edges(), payload);
                }
                LassoMethod::NetLasso { radius } => {
                    sx.copy_from_slice(&x);
                    trunc_rows(&mut sx, d, k, &mut scratch);
                    mixing.mix(&sx, &mut nx, d);
                    nx.par_chunks_mut(d)
                        .zip(y.par_chunks(d))
                        .zip(scratch.par_iter_mut())
                        .for_each(|((xi, yi), s)| {
                            for (a, b) in xi.iter_mut().zip(yi) {
                                *a -= eta * b;
                            }
                            project_l1_ball(xi, radius, &mut s.2);
                        });
                    sy.copy_from_slice(&y);
                    trunc_rows(&mut sy, d, k, &mut scratch);
                    mixing.mix(&sy, &mut y, d);
                    trace.comm.exchange(mixing.n_edges(), payload);
                    trace.comm.exchange(mixing.n_edges(), payload);
                }
            }
            trace.comm.rounds += 1;
            std::mem::swap(&mut x, &mut nx);
            if net {
                // y_{t+1} = Σ W y_t + ∇f(x_{t+1}) − ∇f(x_t): subtract the old gradient first.
                y.par_chunks_mut(d)
                    .zip(g.par_chunks(d))
                    .for_each(|(yi, gi)| {
                        for (a, b) in yi.iter_mut().zip(gi) {
                            *a -= b;
                        }
                    });
            }
            losses = local_grads(problem, &x, &mut g, &mut scratch);
            if net {
                y.par_chunks_mut(d)
                    .zip(g.par_chunks(d))
                    .for_each(|(yi, gi)| {
                        for (a, b) in yi.iter_mut().zip(gi) {
                            *a += b;
                        }
                    });
            }
        }
        Ok(trace)
    }
}

/// `g_i = ∇f_i(x_i)` for every agent (parallel); returns `(1/n_i)‖r_i‖²` per agent.
fn local_grads(
    problem: &DecentralProblem,
    x: &[f64],
    g: &mut [f64],
    scratch: &mut [(Vec<f64>, Vec<usize>, Vec<f64>)],
) -> Vec<f64> {
    let d = problem.dim();
    g.par_chunks_mut(d)
        .zip(x.par_chunks(d))
        .zip(scratch.par_iter_mut())
        .zip(problem.agents().par_iter())
        .map(|(((gi, xi), s), data)| {
            residual_grad(data, d, xi, &mut s.0, gi) / data.n_samples() as f64
        })
        .collect()
}

fn trunc_rows(
    x: &mut [f64],
    d: usize,
    k: Option<usize>,
    scratch: &mut [(Vec<f64>, Vec<usize>, Vec<f64>)],
) {
    if let Some(k) = k {
        x.par_chunks_mut(d)
            .zip(scratch.par_iter_mut())
            .for_each(|(xi, s)| truncate_top_k(xi, k, &mut s.1));
    }
}

/// The largest local smoothness constant `max_i ‖X_i‖₂²/n_i` (spec §2.4 tuning rule
/// `η = 0.5 / max_i L_i`), as the top eigenvalue of the `n_i × n_i` Gram matrix
/// `X_i X_iᵀ / n_i` (entries by sequential dot products, eigenvalues by faer's symmetric
/// solver), so the value does not depend on the number of threads.
///
/// # Errors
/// A faer eigen-solver failure.
pub fn max_local_smoothness(problem: &DecentralProblem) -> Result<f64> {
    let d = problem.dim();
    let per_agent: Vec<Result<f64>> = problem
        .agents()
        .par_iter()
        .map(|a| {
            let n = a.n_samples();
            let mut gram = gdlab_core::linalg::Matrix::zeros(n, n);
            for p in 0..n {
                let xp = &a.x[p * d..(p + 1) * d];
                for q in 0..=p {
                    let xq = &a.x[q * d..(q + 1) * d];
                    let dot: f64 = xp.iter().zip(xq).map(|(u, v)| u * v).sum();
                    gram[(p, q)] = dot / n as f64;
                    gram[(q, p)] = dot / n as f64;
                }
            }
            let ev = gdlab_core::linalg::sym_eigenvalues(&gram)?;
            Ok(ev.last().copied().unwrap_or(0.0))
        })
        .collect();
    let mut best = 0.0_f64;
    for l in per_agent {
        best = best.max(l?);
    }
    Ok(best)
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
    use crate::graph::Graph;
    use crate::mixing::WeightRule;
    use gdlab_core::Seed;

    fn setup() -> (DecentralProblem, MixingMatrix) {
        let p = SparseRegressionConfig {
            dim: 120,
            sparsity: 3,
            n_agents: 4,
            samples_per_agent: 40,
            noise_std: 0.1,
            ..Default::default()
        }
        .generate(Seed(5))
        .unwrap();
        let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
        (p, w)
    }

    #[test]
    fn baselines_recover_and_are_thread_independent() {
        let (p, w) = setup();
        let eta = 0.5 / max_local_smoothness(&p).unwrap();
        for method in [
            LassoMethod::ProxCta { lambda: 0.05 },
            LassoMethod::ProxAtc {
                lambda: 0.05,
                prox_before_mixing: false,
            },
            LassoMethod::ProxAtc {
                lambda: 0.05,
                prox_before_mixing: true,
            },
            LassoMethod::NetLasso {
                radius: p.w_star().iter().map(|v| v.abs()).sum(),
            },
        ] {
            let cfg = LassoConfig {
                method,
                step_size: eta,
                n_rounds: 1500,
                truncate: None,
            };
            let run = |n: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .unwrap()
                    .install(|| cfg.run(&p, &w).unwrap())
            };
            let (a, b) = (run(1), run(3));
            assert_eq!(a, b);
            assert!(a.final_err() < 0.35, "{method:?}: {}", a.final_err());
        }
    }

    #[test]
    fn netlasso_converges_exactly_to_the_centralized_solution() {
        // Gradient tracking removes DGD's constant-step bias: with an inactive ℓ1 ball, every
        // agent converges to the minimiser of (1/m)Σ f_i, i.e. the least squares on the
        // stacked data (equal n_i), computed independently by `oracle_least_squares` with a
        // dense w* (support = all coordinates).
        let p = SparseRegressionConfig {
            dim: 8,
            sparsity: 8,
            n_agents: 4,
            samples_per_agent: 20,
            noise_std: 0.3,
            ..Default::default()
        }
        .generate(Seed(2))
        .unwrap();
        let ls = crate::oracle::oracle_least_squares(&p).unwrap();
        let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
        // Gradient tracking needs a step of order (1 − ρ)²/L (DIGing), smaller than DGD's.
        let eta = 0.1 / max_local_smoothness(&p).unwrap();
        let cfg = LassoConfig {
            method: LassoMethod::NetLasso { radius: 1e6 },
            step_size: eta,
            n_rounds: 3000,
            truncate: None,
        };
        let t = cfg.run(&p, &w).unwrap();
        let ls_err = p.error(&ls);
        assert!(
            (t.final_err() - ls_err).abs() < 1e-9,
            "{} vs {ls_err}",
            t.final_err()
        );
        assert!(*t.consensus.last().unwrap() < 1e-9);
        // Prox-DGD (λ = 0) with a constant step keeps a consensus error (DGD's bias).
        let dgd = LassoConfig {
            method: LassoMethod::ProxCta { lambda: 0.0 },
            ..cfg
        }
        .run(&p, &w)
        .unwrap();
        assert!(*dgd.consensus.last().unwrap() > 1e-6);
    }

    #[test]
    fn smoothness_matches_svd_and_is_thread_independent() {
        let (p, _) = setup();
        let l = max_local_smoothness(&p).unwrap();
        // Independent route: the largest singular value of X_i (faer SVD), squared, over n_i.
        let d = p.dim();
        let mut svd = 0.0_f64;
        for a in p.agents() {
            let n = a.n_samples();
            let xm = gdlab_core::linalg::Matrix::from_fn(n, d, |i, j| a.x[i * d + j]);
            let s = gdlab_core::linalg::spectral_norm(&xm).unwrap();
            svd = svd.max(s * s / n as f64);
        }
        assert!((l - svd).abs() <= 1e-12 * svd, "{l} vs {svd}");
        let pool = |n: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let a = pool(1).install(|| max_local_smoothness(&p).unwrap());
        let b = pool(4).install(|| max_local_smoothness(&p).unwrap());
        assert_eq!(a.to_bits(), b.to_bits());
    }

    #[test]
    fn bad_input() {
        let (p, w) = setup();
        let ok = LassoConfig {
            method: LassoMethod::ProxCta { lambda: 0.1 },
            step_size: 0.01,
            n_rounds: 10,
            truncate: None,
        };
        assert!(ok.run(&p, &w).is_ok());
        assert!(LassoConfig {
            step_size: 0.0,
            ..ok
        }
        .run(&p, &w)
        .is_err());
        assert!(LassoConfig {
            method: LassoMethod::ProxCta { lambda: -1.0 },
            ..ok
        }
        .run(&p, &w)
        .is_err());
        assert!(LassoConfig {
            method: LassoMethod::NetLasso { radius: 0.0 },
            ..ok
        }
        .run(&p, &w)
        .is_err());
        assert!(LassoConfig {
            truncate: Some(0),
            ..ok
        }
        .run(&p, &w)
        .is_err());
    }
}
