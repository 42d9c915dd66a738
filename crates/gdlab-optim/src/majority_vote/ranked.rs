//! The majority-vote loop with **one worker per rank** of a [`Communicator`] and the
//! server on rank 0 ([`MajorityVote::run_worker`]).
//!
//! Design choice: the server role sits on rank 0 (a gather of the workers' bit-packed
//! signs, the server rule applied there in worker order, a broadcast of the packed
//! result), not an all-reduce of signs, because SSVR-MV Option 2's server draws its own
//! coins (`S_1` of the mean vote, from `seed.derive("server").index(t)`): one node must
//! own that stream for the result to equal the simulation. Per round the uplink is one
//! message per worker of `18 + 12 + ⌈d/8⌉ + 4·zeros` bytes (a header with the worker's
//! finiteness flag, gradient count and clipping counts, then [`PackedSigns`]); the
//! downlink one message per worker of `9 + 12 + ⌈d/8⌉ + 4·zeros` bytes (a status, then
//! the packed broadcast).

use gdlab_comm::{CommError, Communicator, PackedSigns, ReduceOp, WireStats};
use gdlab_core::objective::{FiniteSum, MinibatchOracle, Objective};
use gdlab_core::runner::{Every, Stop};
use gdlab_core::{ConfigError, Seed};

use super::comm::CommunicationLog;
use super::config::{MajorityVote, MajorityVoteMethod};
use super::run::{ssvr_mv_parts, ClipStats, MajorityVoteOutcome, MajorityVoteTrace, Worker};
use super::vote::{CompressInfo, ServerRule, WorkerCompression};
use crate::estimator::{GradientEstimator, Minibatch};

/// Errors of [`MajorityVote::run_worker`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RankedError {
    /// An invalid configuration or shape (names the field).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A communication failure (a peer that timed out, exited, or drifted).
    #[error(transparent)]
    Comm(#[from] CommError),
}

/// Where the recorded global loss and `‖∇f(x_t)‖₁` come from in a ranked run.
#[derive(Clone, Copy, Debug)]
pub enum GlobalEval<'a, G: ?Sized> {
    /// Rank 0 evaluates the global objective it holds (`Some` on rank 0, `None`
    /// elsewhere): the same bits as [`run_majority_vote`](super::run_majority_vote).
    Root(Option<&'a G>),
    /// Every rank evaluates its shard and the global value is the rank-ordered all-reduce
    /// `(1/m) Σ_j |S_j| f_j` (no rank needs all the data; rounding differs from `Root`
    /// by the order of the sums, ≤ a few ulps).
    ShardSums,
}

/// The uplink header: `[finite u8][evals u64][altered u8][coords_out_of_range u64]`.
const UP_HEADER: usize = 18;

fn u64_at(b: &[u8], i: usize) -> u64 {
    b.get(i..i + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// What one rank ends with.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerOutcome {
    /// On rank 0: the run's outcome, equal to [`run_majority_vote`](super::run_majority_vote)'s
    /// (bitwise with [`GlobalEval::Root`]); `None` elsewhere.
    pub outcome: Option<MajorityVoteOutcome>,
    /// The final iterate (the same on every rank).
    pub x: Vec<f64>,
    /// What this rank sent in the vote (uplink or downlink).
    pub wire_vote: WireStats,
    /// Everything this rank sent.
    pub wire_total: WireStats,
}

impl MajorityVote {
    /// Runs the method as worker `comm.rank()` of `comm.size() = n_workers` ranks, the
    /// server on rank 0: `shard` is this worker's local objective, `x0` the common start.
    /// With the same seed, shards and [`GlobalEval::Root`] the outcome on rank 0 equals
    /// [`MajorityVote::run`]'s bitwise (worker `j` uses the streams the simulation gives
    /// worker `j`).
    ///
    /// # Errors
    /// [`RankedError::Config`] if `comm.size() ≠ n_workers`, `x0` or the shard has the wrong
    /// dimension, the shard is empty, or `Root` lacks the objective on rank 0;
    /// [`RankedError::Comm`] when a peer fails.
    ///
    /// # Examples
    /// ```
    /// use gdlab_comm::{Communicator, InProcess};
    /// use gdlab_core::objective::DiagonalQuadraticSum;
    /// use gdlab_core::runner::Every;
    /// use gdlab_core::Seed;
    /// use gdlab_optim::majority_vote::*;
    /// let f = DiagonalQuadraticSum {
    ///     curvatures: vec![vec![1.0, 2.0]; 12],
    ///     centres: (0..12).map(|i| vec![f64::from(i) / 10.0, -1.0]).collect(),
    /// };
    /// let idx = split_indices(12, 3, &ShardSplit::Homogeneous { seed: Seed(0) }).unwrap();
    /// let shards = Shard::all(&f, &idx).unwrap();
    /// let mv = MajorityVoteConfig { n_workers: 3, method: MajorityVoteMethod::SignSgdMv,
    ///     learning_rate: 0.01, batch_size: 2, n_steps: 50 }.build().unwrap();
    /// let serial = mv.run(&f, &shards, &[1.0, 1.0], Seed(1), Every::N(10)).unwrap();
    /// let out = InProcess::run(3, std::time::Duration::from_secs(30), |c| {
    ///     let r = c.rank();
    ///     let g = GlobalEval::Root((r == 0).then_some(&f));
    ///     mv.run_worker(c, &shards[r], &[1.0, 1.0], Seed(1), Every::N(10), g)
    /// }).unwrap();
    /// assert_eq!(out[0].as_ref().unwrap().outcome.as_ref().unwrap(), &serial);
    /// ```
    pub fn run_worker<C, G, W>(
        &self,
        comm: &mut C,
        shard: &W,
        x0: &[f64],
        seed: Seed,
        record_every: Every,
        global: GlobalEval<'_, G>,
    ) -> Result<WorkerOutcome, RankedError>
    where
        C: Communicator + ?Sized,
        G: Objective + ?Sized,
        W: FiniteSum,
    {
        let cfg = &self.cfg;
        let d = x0.len();
        if comm.size() != cfg.n_workers {
            return Err(ConfigError::Dim {
                op: "number of ranks vs n_workers (one worker per rank)",
                expected: cfg.n_workers,
                got: comm.size(),
            }
            .into());
        }
        if shard.dim() != d {
            return Err(ConfigError::Dim {
                op: "run_worker: shard dimension vs x0",
                expected: d,
                got: shard.dim(),
            }
            .into());
        }
        if shard.n_components() == 0 {
            return Err(ConfigError::Invalid {
                field: "shard".into(),
                reason: format!("the shard of rank {} has no components", comm.rank()),
            }
            .into());
        }
        if let GlobalEval::Root(g) = global {
            match (comm.rank() == 0, g) {
                (true, None) => {
                    return Err(ConfigError::Invalid {
                        field: "global".into(),
                        reason: "GlobalEval::Root needs the global objective on rank 0".into(),
                    }
                    .into())
                }
                (true, Some(g)) if g.dim() != d => {
                    return Err(ConfigError::Dim {
                        op: "run_worker: global objective dimension",
                        expected: d,
                        got: g.dim(),
                    }
                    .into())
                }
                _ => {}
            }
        }
        let b = cfg.batch_size;
        match cfg.method {
            MajorityVoteMethod::SignSgdMv => ranked_loop(
                self,
                comm,
                shard,
                &Minibatch { batch_size: b },
                WorkerCompression::Sign,
                ServerRule::Majority,
                x0,
                seed,
                record_every,
                global,
            ),
            MajorityVoteMethod::SsvrMv {
                option,
                beta,
                radius,
            } => {
                let (storm, compression, rule) = ssvr_mv_parts(option, beta, radius, b)?;
                ranked_loop(
                    self,
                    comm,
                    shard,
                    &storm,
                    compression,
                    rule,
                    x0,
                    seed,
                    record_every,
                    global,
                )
            }
        }
    }
}

/// Downlink status byte.
const GO: u8 = 0;
const STOP_GLOBAL: u8 = 1;
const STOP_WORKER: u8 = 2;
const STOP_UPDATE: u8 = 3;

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn ranked_loop<'s, C, G, W, E>(
    mv: &MajorityVote,
    comm: &mut C,
    shard: &'s W,
    estimator: &E,
    compression: WorkerCompression,
    rule: ServerRule,
    x0: &[f64],
    seed: Seed,
    every: Every,
    global: GlobalEval<'_, G>,
) -> Result<WorkerOutcome, RankedError>
where
    C: Communicator + ?Sized,
    G: Objective + ?Sized,
    W: FiniteSum,
    E: GradientEstimator<MinibatchOracle<'s, W>>,
{
    let cfg = &mv.cfg;
    let d = x0.len();
    let n = comm.size();
    let me = comm.rank();
    let root = me == 0;
    let start = comm.stats();
    let mut wire_vote = WireStats::default();
    let oracle = MinibatchOracle(shard);
    let mut worker: Worker<E::State> = Worker {
        sample_rng: seed.derive("worker").index(me as u64).rng(),
        sign_rng: seed.derive("worker-sign").index(me as u64).rng(),
        state: estimator.init(x0),
        v: vec![0.0; d],
        q: vec![0.0; d],
        info: CompressInfo::default(),
        evals: 0,
        finite: true,
    };
    let server_seed = seed.derive("server");
    let mut x = x0.to_vec();
    let mut s = vec![0.0; d];
    let mut g = vec![0.0; d];
    let mut gbuf = vec![0.0; d + 1];
    let mut trace = MajorityVoteTrace::default();
    let mut comm_log = CommunicationLog::default();
    let mut clip = ClipStats::default();
    let mut server_zeros = 0u64;
    let mut component_grads = 0u64;
    let mut stop = Stop::MaxSteps;
    let mut msgs: Vec<Vec<f64>> = if root {
        vec![vec![0.0; d]; n]
    } else {
        Vec::new()
    };
    let m_total = match global {
        GlobalEval::ShardSums => {
            let mut c = [shard.n_components() as f64];
            comm.all_reduce_f64(&mut c, ReduceOp::Sum)?;
            c[0]
        }
        GlobalEval::Root(_) => 0.0,
    };

    for t in 0..=cfg.n_steps {
        let mut global_stop = false;
        if t == cfg.n_steps || every.hits(t) {
            let value = match global {
                GlobalEval::Root(Some(f)) if root => {
                    let loss = f.loss_grad(&x, &mut g);
                    Some((loss, g.iter().map(|v| v.abs()).sum::<f64>()))
                }
                GlobalEval::Root(_) => None,
                GlobalEval::ShardSums => {
                    let k = shard.n_components() as f64;
                    let loss = shard.loss_grad(&x, &mut g);
                    gbuf[0] = k * loss;
                    for (o, v) in gbuf[1..].iter_mut().zip(&g) {
                        *o = k * v;
                    }
                    comm.all_reduce_f64(&mut gbuf, ReduceOp::Sum)?;
                    let l1: f64 = gbuf[1..].iter().map(|v| (v / m_total).abs()).sum();
                    Some((gbuf[0] / m_total, l1))
                }
            };
            if let Some((loss, l1)) = value {
                if loss.is_finite() && l1.is_finite() {
                    trace.steps.push(t);
                    trace.loss.push(loss);
                    trace.grad_l1.push(l1);
                } else {
                    stop = Stop::Diverged {
                        step: t,
                        what: "global gradient".into(),
                    };
                    global_stop = true;
                }
            }
            // Under ShardSums every rank knows; under Root only rank 0, which tells the
            // others in this round's downlink.
            if global_stop && matches!(global, GlobalEval::ShardSums) {
                break;
            }
        }
        if t == cfg.n_steps {
            break;
        }

        worker.step(estimator, &oracle, compression, &x);
        // ---- uplink: header + packed message, gathered on rank 0 in worker order ----
        let before = comm.stats();
        let mut up = Vec::with_capacity(UP_HEADER + 12 + d.div_ceil(8));
        up.push(u8::from(worker.finite));
        up.extend_from_slice(&worker.evals.to_le_bytes());
        up.push(u8::from(worker.info.altered));
        up.extend_from_slice(&worker.info.coords_out_of_range.to_le_bytes());
        let packed = if worker.finite {
            PackedSigns::from_signs(&worker.q)
        } else {
            PackedSigns::from_signs(&[])
        };
        up.extend_from_slice(&packed.encode());
        let gathered = comm.gather_bytes(&up, 0)?;
        // ---- server ----
        let mut down = vec![GO; 9];
        if let Some(all) = gathered {
            let mut status = if global_stop { STOP_GLOBAL } else { GO };
            let mut bad = 0u64;
            if status == GO {
                if let Some(j) = all.iter().position(|u| u.first() != Some(&1)) {
                    status = STOP_WORKER;
                    bad = j as u64;
                    stop = Stop::Diverged {
                        step: t,
                        what: format!("estimate of worker {j}"),
                    };
                }
            }
            if status == GO {
                for (j, u) in all.iter().enumerate() {
                    component_grads += u64_at(u, 1);
                    clip.add(
                        CompressInfo {
                            altered: u.get(9) == Some(&1),
                            coords_out_of_range: u64_at(u, 10),
                        },
                        d,
                    );
                    let p = PackedSigns::decode(u.get(UP_HEADER..).unwrap_or_default()).map_err(
                        |reason| CommError::Protocol {
                            rank: me,
                            peer: j,
                            op: "majority vote uplink",
                            reason,
                        },
                    )?;
                    if p.len() != d {
                        return Err(ConfigError::Dim {
                            op: "majority vote: a worker's message length",
                            expected: d,
                            got: p.len(),
                        }
                        .into());
                    }
                    p.to_signs(&mut msgs[j]);
                }
                let views: Vec<&[f64]> = msgs.iter().map(|q| &q[..]).collect();
                let mut server_rng = server_seed.index(t).rng();
                server_zeros += rule.aggregate_into(&views, &mut server_rng, &mut s);
                if x.iter()
                    .zip(&s)
                    .any(|(xi, si)| !(xi - cfg.learning_rate * si).is_finite())
                {
                    status = STOP_UPDATE;
                    stop = Stop::Diverged {
                        step: t,
                        what: "update".into(),
                    };
                }
            }
            down[0] = status;
            down[1..9].copy_from_slice(&bad.to_le_bytes());
            if status == GO {
                down.extend_from_slice(&PackedSigns::from_signs(&s).encode());
            }
        }
        comm.broadcast_bytes(&mut down, 0)?;
        let sent = comm.stats().since(before);
        wire_vote.messages += sent.messages;
        wire_vote.bytes += sent.bytes;
        match down.first().copied() {
            Some(GO) => {}
            Some(STOP_GLOBAL | STOP_WORKER | STOP_UPDATE) => break,
            other => {
                return Err(CommError::Protocol {
                    rank: me,
                    peer: 0,
                    op: "majority vote downlink",
                    reason: format!("unknown status {other:?}"),
                }
                .into())
            }
        }
        if !root {
            let p = PackedSigns::decode(&down[9..]).map_err(|reason| CommError::Protocol {
                rank: me,
                peer: 0,
                op: "majority vote downlink",
                reason,
            })?;
            if p.len() != d {
                return Err(ConfigError::Dim {
                    op: "majority vote: the broadcast's length",
                    expected: d,
                    got: p.len(),
                }
                .into());
            }
            p.to_signs(&mut s);
        }
        for (xi, si) in x.iter_mut().zip(&s) {
            *xi -= cfg.learning_rate * si;
        }
        comm_log.record_round(n, d);
    }

    let outcome = if root {
        Some(MajorityVoteOutcome {
            x: x.clone(),
            trace,
            comm: comm_log,
            clip,
            server_zeros,
            component_grads,
            stop,
        })
    } else {
        None
    };
    Ok(WorkerOutcome {
        outcome,
        x,
        wire_vote,
        wire_total: comm.stats().since(start),
    })
}
