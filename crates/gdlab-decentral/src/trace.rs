//! Per-round metrics of a decentralized run (spec §2.1 "Metrics per iteration").

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::comm::CommStats;

/// Why a run ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All rounds ran.
    #[default]
    Completed,
    /// A loss or iterate became NaN/Inf at this round (its metrics are not recorded).
    Diverged {
        /// The round (iterate index) that was non-finite.
        round: usize,
    },
}

/// Metrics at iterates `t = 0, 1, …` (index = number of rounds done).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// `(1/m) Σ_i ‖w_{t,i} − w*‖₂` (mean agent error; what the study checks use).
    pub err_agents: Vec<f64>,
    /// `‖w̄_t − w*‖₂` with `w̄_t = (1/m) Σ_i w_{t,i}`.
    pub err_avg: Vec<f64>,
    /// `‖ū_t⊙ū_t − v̄_t⊙v̄_t − w*‖₂` (over-parameterized methods; equals `err_avg` otherwise).
    pub err_bar: Vec<f64>,
    /// Consensus error `(1/m) Σ_i ‖z_i − z̄‖₂` with `z_i = (u_i, v_i)` (or `x_i`).
    pub consensus: Vec<f64>,
    /// Training loss `F = (1/m) Σ_i (1/n_i) ‖X_i w_{t,i} − y_i‖²` (no ½).
    pub loss: Vec<f64>,
    /// Communication totals.
    pub comm: CommStats,
    /// Why the run ended.
    pub stop: StopReason,
}

impl Trace {
    /// `(argmin t, min err_agents)` (the `OracleBest` stopping rule, studies only).
    #[must_use]
    pub fn best(&self) -> (usize, f64) {
        self.err_agents
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |(bi, bv), (i, &v)| if v < bv { (i, v) } else { (bi, bv) },
            )
    }

    /// The last recorded mean agent error.
    #[must_use]
    pub fn final_err(&self) -> f64 {
        self.err_agents.last().copied().unwrap_or(f64::NAN)
    }

    /// Whether the run diverged.
    #[must_use]
    pub fn diverged(&self) -> bool {
        matches!(self.stop, StopReason::Diverged { .. })
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        Trace {
            err_agents: Vec::with_capacity(n),
            err_avg: Vec::with_capacity(n),
            err_bar: Vec::with_capacity(n),
            consensus: Vec::with_capacity(n),
            loss: Vec::with_capacity(n),
            comm: CommStats::default(),
            stop: StopReason::Completed,
        }
    }
}

/// Coordinates per chunk of the network-wide metric pass (fixed, so sums do not depend on
/// the thread count).
pub(crate) const CHUNK: usize = 512;

/// Network-wide metrics from the stacked `w` (and `u`, `v` when over-parameterized).
pub(crate) struct NetMetrics {
    pub(crate) err_avg: f64,
    pub(crate) err_bar: f64,
    pub(crate) consensus: f64,
}

/// Computes [`NetMetrics`] in fixed chunks of coordinates reduced in order.
pub(crate) fn net_metrics(
    w: &[f64],
    uv: Option<(&[f64], &[f64])>,
    w_star: &[f64],
    m: usize,
) -> NetMetrics {
    let d = w_star.len();
    let n_chunks = d.div_ceil(CHUNK);
    let parts: Vec<(f64, f64, Vec<f64>)> = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(d));
            let (mut ea, mut eb) = (0.0, 0.0);
            let mut cons = vec![0.0; m];
            for j in lo..hi {
                let mut wb = 0.0;
                for i in 0..m {
                    wb += w[i * d + j];
                }
                wb /= m as f64;
                ea += (wb - w_star[j]) * (wb - w_star[j]);
                match uv {
                    Some((u, v)) => {
                        let (mut ub, mut vb) = (0.0, 0.0);
                        for i in 0..m {
                            ub += u[i * d + j];
                            vb += v[i * d + j];
                        }
                        ub /= m as f64;
                        vb /= m as f64;
                        let e = ub * ub - vb * vb - w_star[j];
                        eb += e * e;
                        for (i, ci) in cons.iter_mut().enumerate() {
                            let (du, dv) = (u[i * d + j] - ub, v[i * d + j] - vb);
                            *ci += du * du + dv * dv;
                        }
                    }
                    None => {
                        for (i, ci) in cons.iter_mut().enumerate() {
                            let dw = w[i * d + j] - wb;
                            *ci += dw * dw;
                        }
                    }
                }
            }
            (ea, eb, cons)
        })
        .collect();
    let (mut ea, mut eb) = (0.0, 0.0);
    let mut cons = vec![0.0; m];
    for (a, b, c) in parts {
        ea += a;
        eb += b;
        for (x, y) in cons.iter_mut().zip(c) {
            *x += y;
        }
    }
    let err_avg = ea.sqrt();
    NetMetrics {
        err_avg,
        err_bar: if uv.is_some() { eb.sqrt() } else { err_avg },
        consensus: cons.iter().map(|c| c.sqrt()).sum::<f64>() / m as f64,
    }
}
