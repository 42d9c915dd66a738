//! The same algorithms with **one agent per rank** of a [`Communicator`]: DGD / T-DGD
//! ([`DgdConfig::run_agent`]) and the LASSO baselines ([`LassoConfig::run_agent`]), as
//! threads ([`gdlab_comm::InProcess`]) or processes (MPI, `gdlab-comm-mpi`).
//!
//! Each rank holds only its own [`LocalData`], its row of the mixing matrix and `w*` (for
//! the error metrics). One round is the agent's local step, a **neighbour exchange** (the
//! vectors it transmits go to each graph neighbour; dense vectors as `8d` bytes of `f64`,
//! truncated ones as `(u32 index, f64 value)` pairs of the entries kept) and the mixing
//! `x_i ← Σ_j W_ij x_j` in the row's order (self first, then neighbours ascending).
//!
//! ## Same numbers as the single-process simulation
//!
//! The local arithmetic is the simulation's, agent by agent; the mixing sums in the same
//! order; and the network-wide metrics of the [`Trace`] (mean loss, mean agent error,
//! `‖w̄ − w*‖`, `‖ū⊙ū − v̄⊙v̄ − w*‖`, consensus) are formed from two rank-ordered
//! all-reduces per round (`[loss_i, err_i, w_i, u_i, v_i]`, then `‖z_i − z̄‖`), whose sums
//! `((0 + a₀) + a₁) + …` are exactly the simulation's sequential sums over agents. The
//! trace is therefore **bitwise** equal to [`DgdConfig::run`] / [`LassoConfig::run`], on
//! every rank and every backend (tested).
//!
//! ## Bytes
//!
//! [`AgentOutcome::wire_algorithm`] counts what the algorithm itself sent (the neighbour
//! exchanges); [`AgentOutcome::wire_total`] adds the metric reductions, which move
//! `8(3d + 3)` bytes per rank per round to rank 0 and back — more than DGD's own messages
//! on sparse graphs, the price of exact network-wide metrics every round. The trace's
//! [`CommStats`](crate::CommStats) keep the paper's convention (32-bit values).

use gdlab_comm::{CommError, Communicator, ReduceOp, WireStats};
use gdlab_core::ConfigError;

use crate::comm::Payload;
use crate::data::LocalData;
use crate::dgd::{DgdConfig, MixOrder, TruncVariant, Truncation};
use crate::error::{DecentralError, Result};
use crate::lasso::{LassoConfig, LassoMethod};
use crate::local::{
    dgd_messages, hadamard_iterate, project_l1_ball, residual_grad, soft_threshold, truncate_top_k,
};
use crate::mixing::MixingMatrix;
use crate::trace::{StopReason, Trace, CHUNK};

/// What one rank's agent ends with.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentOutcome {
    /// The network-wide trace (the same on every rank).
    pub trace: Trace,
    /// This agent's final primary variable (`u_i` for DGD, `x_i` for LASSO).
    pub primary: Vec<f64>,
    /// This agent's final `v_i` (DGD; empty for LASSO).
    pub secondary: Vec<f64>,
    /// Messages and payload bytes this rank sent in the neighbour exchanges.
    pub wire_algorithm: WireStats,
    /// Everything this rank sent, metric reductions included.
    pub wire_total: WireStats,
}

impl From<CommError> for DecentralError {
    fn from(e: CommError) -> Self {
        DecentralError::Comm(e)
    }
}

/// The checks every agent makes before the first round (the same on every rank, so all
/// ranks fail alike instead of leaving one waiting).
fn check_agent<C: Communicator + ?Sized>(
    comm: &C,
    mixing: &MixingMatrix,
    local: &LocalData,
    w_star: &[f64],
) -> Result<(usize, usize)> {
    let d = w_star.len();
    let m = mixing.n_nodes();
    if comm.size() != m {
        return Err(ConfigError::Dim {
            op: "number of ranks vs n_agents (one agent per rank)",
            expected: m,
            got: comm.size(),
        }
        .into());
    }
    let n = local.y.len();
    if n == 0 || local.x.len() != n * d {
        return Err(ConfigError::Dim {
            op: "local X_i (n_i·dim) of this rank",
            expected: n.max(1) * d,
            got: local.x.len(),
        }
        .into());
    }
    Ok((m, d))
}

/// The rank's row of `W`: `(j, W_ij)`, self first.
fn my_row(mixing: &MixingMatrix, rank: usize) -> Result<&[(usize, f64)]> {
    let row = mixing.row(rank);
    if row.first().map(|p| p.0) != Some(rank) {
        return Err(DecentralError::InvalidMixing {
            reason: format!("row {rank} does not start with the agent itself"),
        });
    }
    Ok(row)
}

/// Encodes the vectors an agent transmits: dense `f64`s, or the entries that are not
/// `+0.0` as `(u32, f64)` pairs after a `u32` count per vector.
fn encode_vectors(vs: &[&[f64]], sparse: bool, out: &mut Vec<u8>) {
    out.clear();
    for v in vs {
        if sparse {
            let nz: Vec<(usize, f64)> = v
                .iter()
                .enumerate()
                .filter(|(_, x)| x.to_bits() != 0)
                .map(|(j, &x)| (j, x))
                .collect();
            out.extend_from_slice(&(nz.len() as u32).to_le_bytes());
            for (j, x) in nz {
                out.extend_from_slice(&(j as u32).to_le_bytes());
                out.extend_from_slice(&x.to_le_bytes());
            }
        } else {
            for x in *v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

/// Inverse of [`encode_vectors`] into `outs` (each of length `d`).
fn decode_vectors(
    b: &[u8],
    sparse: bool,
    outs: &mut [&mut [f64]],
) -> std::result::Result<(), String> {
    let mut pos = 0usize;
    let mut take = |n: usize| -> std::result::Result<&[u8], String> {
        let s = b
            .get(pos..pos + n)
            .ok_or_else(|| format!("message of {} bytes is too short", b.len()))?;
        pos += n;
        Ok(s)
    };
    let f64_of = |s: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        f64::from_le_bytes(a)
    };
    let u32_of = |s: &[u8]| {
        let mut a = [0u8; 4];
        a.copy_from_slice(s);
        u32::from_le_bytes(a) as usize
    };
    for o in outs.iter_mut() {
        let d = o.len();
        if sparse {
            o.iter_mut().for_each(|x| *x = 0.0);
            let n = u32_of(take(4)?);
            for _ in 0..n {
                let j = u32_of(take(4)?);
                let x = f64_of(take(8)?);
                *o.get_mut(j)
                    .ok_or_else(|| format!("index {j} out of range for dim {d}"))? = x;
            }
        } else {
            for x in o.iter_mut() {
                *x = f64_of(take(8)?);
            }
        }
    }
    if pos != b.len() {
        return Err(format!(
            "message of {} bytes has {} trailing bytes",
            b.len(),
            b.len() - pos
        ));
    }
    Ok(())
}

/// One neighbour exchange of `vs` and the mixing of each into `outs`:
/// `outs[k] = W_ii vs[k] + Σ_j W_ij vs_j[k]` in the row's order.
fn exchange_and_mix<C: Communicator + ?Sized>(
    comm: &mut C,
    row: &[(usize, f64)],
    vs: &[&[f64]],
    sparse: bool,
    outs: &mut [&mut [f64]],
    buf: &mut Vec<u8>,
    recv: &mut [Vec<f64>],
) -> Result<()> {
    let neighbors: Vec<usize> = row[1..].iter().map(|p| p.0).collect();
    encode_vectors(vs, sparse, buf);
    let got = comm.neighbor_exchange_bytes(&neighbors, buf)?;
    let w0 = row[0].1;
    for (o, v) in outs.iter_mut().zip(vs) {
        for (a, b) in o.iter_mut().zip(v.iter()) {
            *a = w0 * b;
        }
    }
    let rank = comm.rank();
    for (msg, &(j, w)) in got.iter().zip(&row[1..]) {
        {
            let mut views: Vec<&mut [f64]> = recv.iter_mut().map(|r| &mut r[..]).collect();
            decode_vectors(msg, sparse, &mut views).map_err(|reason| CommError::Protocol {
                rank,
                peer: j,
                op: "decentral mixing",
                reason,
            })?;
        }
        for (o, r) in outs.iter_mut().zip(recv.iter()) {
            for (a, b) in o.iter_mut().zip(r) {
                *a += w * b;
            }
        }
    }
    Ok(())
}

/// Network-wide metrics of one iterate from the agents' parts (two all-reduces); `None`
/// when the mean loss or mean error is not finite (the run diverged).
#[allow(clippy::too_many_arguments)] // the agent's parts of one iterate, and scratch
fn reduce_metrics<C: Communicator + ?Sized>(
    comm: &mut C,
    m: usize,
    w_star: &[f64],
    w: &[f64],
    uv: Option<(&[f64], &[f64])>,
    loss: f64,
    err: f64,
    buf: &mut Vec<f64>,
) -> Result<Option<[f64; 5]>> {
    let d = w_star.len();
    buf.clear();
    buf.push(loss);
    buf.push(err);
    buf.extend_from_slice(w);
    if let Some((u, v)) = uv {
        buf.extend_from_slice(u);
        buf.extend_from_slice(v);
    }
    comm.all_reduce_f64(buf, ReduceOp::Sum)?;
    let mf = m as f64;
    let (loss_mean, err_mean) = (buf[0] / mf, buf[1] / mf);
    if !loss_mean.is_finite() || !err_mean.is_finite() {
        return Ok(None);
    }
    // The simulation's `net_metrics`, chunk for chunk.
    let wb = &buf[2..2 + d];
    let (mut ea, mut eb, mut cons) = (0.0, 0.0, 0.0);
    for c in 0..d.div_ceil(CHUNK) {
        let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(d));
        let (mut pa, mut pb, mut pc) = (0.0, 0.0, 0.0);
        for j in lo..hi {
            let wbj = wb[j] / mf;
            pa += (wbj - w_star[j]) * (wbj - w_star[j]);
            match uv {
                Some((u, v)) => {
                    let ub = buf[2 + d + j] / mf;
                    let vb = buf[2 + 2 * d + j] / mf;
                    let e = ub * ub - vb * vb - w_star[j];
                    pb += e * e;
                    let (du, dv) = (u[j] - ub, v[j] - vb);
                    pc += du * du + dv * dv;
                }
                None => {
                    let dw = w[j] - wbj;
                    pc += dw * dw;
                }
            }
        }
        ea += pa;
        eb += pb;
        cons += pc;
    }
    let mut c = [cons.sqrt()];
    comm.all_reduce_f64(&mut c, ReduceOp::Sum)?;
    let err_avg = ea.sqrt();
    Ok(Some([
        loss_mean,
        err_mean,
        err_avg,
        if uv.is_some() { eb.sqrt() } else { err_avg },
        c[0] / mf,
    ]))
}

fn push_metrics(trace: &mut Trace, mt: [f64; 5]) {
    trace.loss.push(mt[0]);
    trace.err_agents.push(mt[1]);
    trace.err_avg.push(mt[2]);
    trace.err_bar.push(mt[3]);
    trace.consensus.push(mt[4]);
}

impl DgdConfig {
    /// Runs DGD / T-DGD as the agent `comm.rank()` of a network of `comm.size()` ranks:
    /// `local` is this agent's data, `mixing` the network's mixing matrix (every rank
    /// builds the same one), `w_star` the truth (for the metrics). Every rank must call
    /// this with the same configuration.
    ///
    /// The trace is bitwise equal to [`DgdConfig::run`] on the stacked problem (module
    /// docs).
    ///
    /// # Errors
    /// As [`DgdConfig::run`]; `comm.size() ≠ n_agents`; a shape mismatch of `local`;
    /// [`DecentralError::Comm`] when a peer fails.
    ///
    /// # Examples
    /// ```
    /// use gdlab_comm::InProcess;
    /// use gdlab_core::Seed;
    /// use gdlab_decentral::{DgdConfig, Graph, MixingMatrix, SparseRegressionConfig, WeightRule};
    /// let p = SparseRegressionConfig { dim: 40, n_agents: 4, ..Default::default() }
    ///     .generate(Seed(0)).unwrap();
    /// let w = MixingMatrix::new(&Graph::ring(4).unwrap(), WeightRule::Metropolis).unwrap();
    /// let cfg = DgdConfig { n_rounds: 20, ..Default::default() };
    /// let out = InProcess::run(4, std::time::Duration::from_secs(30), |c| {
    ///     cfg.run_agent(c, &w, &p.agents()[gdlab_comm::Communicator::rank(c)], p.w_star())
    /// }).unwrap();
    /// let serial = cfg.run(&p, &w).unwrap();
    /// assert_eq!(out[3].as_ref().unwrap().trace, serial.trace); // bitwise
    /// ```
    pub fn run_agent<C: Communicator + ?Sized>(
        &self,
        comm: &mut C,
        mixing: &MixingMatrix,
        local: &LocalData,
        w_star: &[f64],
    ) -> Result<AgentOutcome> {
        let (m, d) = check_agent(comm, mixing, local, w_star)?;
        self.validate(d)?;
        let cfg = *self;
        let row = my_row(mixing, comm.rank())?;
        let n = local.y.len();
        let start = comm.stats();
        let mut wire_algorithm = WireStats::default();
        let mut u = vec![cfg.init_scale; d];
        let mut v = vec![cfg.init_scale; d];
        let (mut su, mut sv, mut du, mut dv) =
            (vec![0.0; d], vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let (mut w, mut r, mut g) = (vec![0.0; d], vec![0.0; n], vec![0.0; d]);
        let mut idx = Vec::new();
        let mut mbuf = Vec::new();
        let mut bytes = Vec::new();
        let mut recv = vec![vec![0.0; d]; 2];
        let mut trace = Trace::with_capacity(cfg.n_rounds + 1);
        trace.comm.vectors_per_edge_per_round = 2;
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
        for t in 0..=cfg.n_rounds {
            let last = t == cfg.n_rounds;
            // ---- agent-local update (the simulation's per-agent closure) ----
            let err = hadamard_iterate(&u, &v, w_star, &mut w);
            let rr = residual_grad(local, d, &w, &mut r, &mut g);
            let loss = rr / n as f64;
            if !last {
                dgd_messages(
                    cfg.order,
                    cfg.truncation,
                    step,
                    &u,
                    &v,
                    &g,
                    &mut su,
                    &mut sv,
                    &mut du,
                    &mut dv,
                    &mut idx,
                );
            }
            // ---- metrics of iterate t ----
            let Some(mt) = reduce_metrics(
                comm,
                m,
                w_star,
                &w,
                Some((&u, &v)),
                loss,
                err.sqrt(),
                &mut mbuf,
            )?
            else {
                trace.stop = StopReason::Diverged { round: t };
                break;
            };
            push_metrics(&mut trace, mt);
            if last {
                break;
            }
            // ---- communication step ----
            let before = comm.stats();
            exchange_and_mix(
                comm,
                row,
                &[&su, &sv],
                cfg.truncation.is_some(),
                &mut [&mut u, &mut v],
                &mut bytes,
                &mut recv,
            )?;
            let sent = comm.stats().since(before);
            wire_algorithm.messages += sent.messages;
            wire_algorithm.bytes += sent.bytes;
            trace.comm.exchange(mixing.n_edges(), payload);
            trace.comm.exchange(mixing.n_edges(), payload);
            trace.comm.rounds += 1;
            if with_delta {
                for (a, b) in u.iter_mut().zip(&du) {
                    *a += b;
                }
                for (a, b) in v.iter_mut().zip(&dv) {
                    *a += b;
                }
            }
        }
        Ok(AgentOutcome {
            trace,
            primary: u,
            secondary: v,
            wire_algorithm,
            wire_total: comm.stats().since(start),
        })
    }
}

impl LassoConfig {
    /// Runs the LASSO baseline as the agent `comm.rank()` (see
    /// [`DgdConfig::run_agent`]); the trace is bitwise equal to [`LassoConfig::run`].
    ///
    /// # Errors
    /// As [`LassoConfig::run`]; `comm.size() ≠ n_agents`; [`DecentralError::Comm`].
    pub fn run_agent<C: Communicator + ?Sized>(
        &self,
        comm: &mut C,
        mixing: &MixingMatrix,
        local: &LocalData,
        w_star: &[f64],
    ) -> Result<AgentOutcome> {
        let (m, d) = check_agent(comm, mixing, local, w_star)?;
        self.validate(d)?;
        let row = my_row(mixing, comm.rank())?;
        let n = local.y.len();
        let eta = self.step_size;
        let start = comm.stats();
        let mut wire_algorithm = WireStats::default();
        let payload = match self.truncate {
            Some(k) => Payload::Sparse { k, dim: d },
            None => Payload::Dense { dim: d },
        };
        let net = matches!(self.method, LassoMethod::NetLasso { .. });
        let mut x = vec![0.0; d];
        let (mut sx, mut nx, mut g) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let (mut y, mut sy, mut ny) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let mut r = vec![0.0; n];
        let (mut idx, mut proj) = (Vec::new(), Vec::new());
        let mut mbuf = Vec::new();
        let mut bytes = Vec::new();
        let mut recv = vec![vec![0.0; d]; if net { 2 } else { 1 }];
        let mut trace = Trace::with_capacity(self.n_rounds + 1);
        trace.comm.vectors_per_edge_per_round = if net { 2 } else { 1 };
        let mut loss_i = residual_grad(local, d, &x, &mut r, &mut g) / n as f64;
        if net {
            y.copy_from_slice(&g);
        }
        let trunc = |v: &mut [f64], idx: &mut Vec<usize>| {
            if let Some(k) = self.truncate {
                truncate_top_k(v, k, idx);
            }
        };
        for t in 0..=self.n_rounds {
            let err_i = x
                .iter()
                .zip(w_star)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            let Some(mt) = reduce_metrics(comm, m, w_star, &x, None, loss_i, err_i, &mut mbuf)?
            else {
                trace.stop = StopReason::Diverged { round: t };
                break;
            };
            push_metrics(&mut trace, mt);
            if t == self.n_rounds {
                break;
            }
            let before = comm.stats();
            let sparse = self.truncate.is_some();
            match self.method {
                LassoMethod::ProxCta { lambda } => {
                    sx.copy_from_slice(&x);
                    trunc(&mut sx, &mut idx);
                    exchange_and_mix(
                        comm,
                        row,
                        &[&sx],
                        sparse,
                        &mut [&mut nx],
                        &mut bytes,
                        &mut recv,
                    )?;
                    for (a, b) in nx.iter_mut().zip(&g) {
                        *a -= eta * b;
                    }
                    soft_threshold(&mut nx, eta * lambda);
                    trace.comm.exchange(mixing.n_edges(), payload);
                }
                LassoMethod::ProxAtc {
                    lambda,
                    prox_before_mixing,
                } => {
                    for ((s, a), b) in sx.iter_mut().zip(&x).zip(&g) {
                        *s = a - eta * b;
                    }
                    if prox_before_mixing {
                        soft_threshold(&mut sx, eta * lambda);
                    }
                    trunc(&mut sx, &mut idx);
                    exchange_and_mix(
                        comm,
                        row,
                        &[&sx],
                        sparse,
                        &mut [&mut nx],
                        &mut bytes,
                        &mut recv,
                    )?;
                    if !prox_before_mixing {
                        soft_threshold(&mut nx, eta * lambda);
                    }
                    trace.comm.exchange(mixing.n_edges(), payload);
                }
                LassoMethod::NetLasso { radius } => {
                    sx.copy_from_slice(&x);
                    trunc(&mut sx, &mut idx);
                    sy.copy_from_slice(&y);
                    trunc(&mut sy, &mut idx);
                    // x and the tracker travel in one message per neighbour.
                    exchange_and_mix(
                        comm,
                        row,
                        &[&sx, &sy],
                        sparse,
                        &mut [&mut nx, &mut ny],
                        &mut bytes,
                        &mut recv,
                    )?;
                    for (a, b) in nx.iter_mut().zip(&y) {
                        *a -= eta * b;
                    }
                    project_l1_ball(&mut nx, radius, &mut proj);
                    std::mem::swap(&mut y, &mut ny);
                    trace.comm.exchange(mixing.n_edges(), payload);
                    trace.comm.exchange(mixing.n_edges(), payload);
                }
            }
            let sent = comm.stats().since(before);
            wire_algorithm.messages += sent.messages;
            wire_algorithm.bytes += sent.bytes;
            trace.comm.rounds += 1;
            std::mem::swap(&mut x, &mut nx);
            if net {
                for (a, b) in y.iter_mut().zip(&g) {
                    *a -= b;
                }
            }
            loss_i = residual_grad(local, d, &x, &mut r, &mut g) / n as f64;
            if net {
                for (a, b) in y.iter_mut().zip(&g) {
                    *a += b;
                }
            }
        }
        Ok(AgentOutcome {
            trace,
            primary: x,
            secondary: Vec::new(),
            wire_algorithm,
            wire_total: comm.stats().since(start),
        })
    }
}
