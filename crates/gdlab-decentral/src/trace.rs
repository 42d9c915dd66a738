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

/// Which iterate of a run is its estimate (spec §2.1 "Stopping rule").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopping {
    /// The last iterate (`Fixed(T)`).
    #[default]
    Fixed,
    /// The iterate with the smallest mean agent error: needs `w*`, so for studies only.
    OracleBest,
    /// The iterate with the smallest network-averaged held-out loss (first one on ties):
    /// a rule a practitioner can use (our choice; the paper shows whole curves).
    ValidationLoss,
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
    /// Held-out loss `(1/m) Σ_i (1/h_i) ‖X̃_i w_{t,i} − ỹ_i‖²` on each agent's own held-out
    /// samples (empty unless the run was given a holdout; the
    /// [`Stopping::ValidationLoss`] rule reads it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub val_loss: Vec<f64>,
    /// Communication totals.
    pub comm: CommStats,
    /// Why the run ended.
    pub stop: StopReason,
}

impl Trace {
    /// `(argmin t, min err_agents)` (the `OracleBest` stopping rule, studies only).
    #[must_use]
    pub fn best(&self) -> (usize, f64) {
        argmin(&self.err_agents)
    }

    /// `(t, err_agents[t])` for the iterate that `rule` selects; `None` if the trace is
    /// empty, or for [`Stopping::ValidationLoss`] when the run had no holdout.
    ///
    /// # Examples
    /// ```
    /// use gdlab_decentral::{Stopping, Trace};
    /// let t = Trace {
    ///     err_agents: vec![1.0, 0.2, 0.1, 0.4],
    ///     val_loss: vec![2.0, 0.5, 0.6, 0.9],
    ///     ..Default::default()
    /// };
    /// assert_eq!(t.select(Stopping::Fixed), Some((3, 0.4)));
    /// assert_eq!(t.select(Stopping::OracleBest), Some((2, 0.1)));
    /// assert_eq!(t.select(Stopping::ValidationLoss), Some((1, 0.2)));
    /// ```
    #[must_use]
    pub fn select(&self, rule: Stopping) -> Option<(usize, f64)> {
        if self.err_agents.is_empty() {
            return None;
        }
        let t = match rule {
            Stopping::Fixed => self.err_agents.len() - 1,
            Stopping::OracleBest => self.best().0,
            Stopping::ValidationLoss => {
                if self.val_loss.is_empty() {
                    return None;
                }
                argmin(&self.val_loss).0
            }
        };
        self.err_agents.get(t).map(|&e| (t, e))
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
            val_loss: Vec::new(),
            comm: CommStats::default(),
            stop: StopReason::Completed,
        }
    }
}

/// `(index, value)` of the first smallest value (`(0, ∞)` for an empty slice; NaN never
/// wins).
fn argmin(xs: &[f64]) -> (usize, f64) {
    xs.iter().enumerate().fold(
        (0, f64::INFINITY),
        |(bi, bv), (i, &v)| {
            if v < bv {
                (i, v)
            } else {
                (bi, bv)
            }
        },
    )
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
