//! One rank per agent or worker: the backend choice shared by `gdlab decentral run` and
//! `gdlab optim distributed`, and the `optim distributed` verb itself.
//!
//! Backends: `single` (the single-process simulation), `threads` (one thread per rank,
//! [`gdlab_comm::InProcess`]) and `mpi` (one process per rank under `mpirun`, built with
//! `--features mpi`). All three give the same numbers for the same configuration.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use gdlab_comm::{
    CommError, Communicator, FaultAction, FaultInjection, InProcess, ReduceOp, WireStats,
};
use gdlab_core::io::atomic_write;
use gdlab_core::objective::{FiniteSum, Objective};
use gdlab_core::runner::Every;
use gdlab_core::seed::fnv1a64;
use gdlab_core::Seed;
use gdlab_optim::majority_vote::{
    max_abs_component_grad, split_indices, GlobalEval, MajorityVoteConfig, MajorityVoteMethod,
    MajorityVoteOutcome, Shard, ShardSplit,
};
use gdlab_studies::problems::{LogisticConfig, NonConvexLogistic};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::input::load_array;
use crate::{out, Outcome};

/// Environment variable that makes one rank fail on purpose: `RANK:AFTER` (the rank
/// fails once it has completed `AFTER` collectives: an error with threads, exit code 70
/// under MPI) or `RANK:AFTER:hang` (it stops responding, so the others must time out).
/// Used by the tests of the failure paths.
pub(crate) const FAULT_ENV: &str = "GDLAB_COMM_FAULT";

/// Most ranks `--backend threads` starts (one OS thread each).
const MAX_THREAD_RANKS: usize = 1024;

/// Exit code of a rank killed by [`FAULT_ENV`].
const FAULT_EXIT: i32 = 70;

/// Which backend runs the ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// MPI when started by `mpirun`, otherwise the verb's default.
    Auto,
    /// The single-process simulation (no communicator).
    Single,
    /// One thread per rank (in-process communicator).
    Threads,
    /// One process per rank (run under `mpirun -np K`; needs `--features mpi`).
    Mpi,
}

/// The backend flags shared by the distributed verbs.
#[derive(Debug, clap::Args)]
pub(crate) struct BackendArgs {
    /// auto = mpi under mpirun, else the verb's default (decentral run: single; optim
    /// distributed: threads).
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub(crate) backend: Backend,
    /// Seconds a rank waits for a message before the job fails with an error (a dead,
    /// stuck or differently configured peer); must cover the longest computation between
    /// two messages.
    #[arg(long, default_value_t = 120.0)]
    pub(crate) comm_timeout: f64,
}

/// Whether an MPI launcher started this process, and the world size it announced.
fn launched_size() -> Option<usize> {
    for v in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
        if let Some(s) = std::env::var_os(v) {
            return Some(s.to_str().and_then(|t| t.parse().ok()).unwrap_or(0));
        }
    }
    std::env::var_os("PMIX_RANK").map(|_| 0)
}

/// Resolves `auto` (`default` when not under mpirun) and checks the build supports it.
pub(crate) fn resolve(args: &BackendArgs, default: Backend) -> Result<Backend> {
    let launched = launched_size();
    let b = match args.backend {
        Backend::Auto if launched.is_some() => Backend::Mpi,
        Backend::Auto => default,
        b => b,
    };
    if b == Backend::Mpi && !cfg!(feature = "mpi") {
        bail!(
            "this gdlab was built without MPI support{}: rebuild with `cargo build --release -p gdlab-cli --features mpi` (needs libopenmpi-dev openmpi-bin libclang-dev)",
            if launched.is_some() { " but runs under mpirun" } else { "" }
        );
    }
    if b != Backend::Mpi && launched.is_some_and(|k| k != 1) {
        bail!("--backend {b:?} under mpirun would run the whole job once per rank; use --backend mpi (or auto)");
    }
    if !(args.comm_timeout.is_finite() && args.comm_timeout > 0.0 && args.comm_timeout <= 1e6) {
        bail!(
            "`--comm-timeout` must be in (0, 1e6] seconds, got {}",
            args.comm_timeout
        );
    }
    Ok(b)
}

/// `FAULT_ENV` parsed: `(rank, after, hang)`.
fn fault() -> Result<Option<(usize, u64, bool)>> {
    let Some(v) = std::env::var_os(FAULT_ENV) else {
        return Ok(None);
    };
    let s = v.to_string_lossy();
    let parts: Vec<&str> = s.split(':').map(str::trim).collect();
    let parsed = match parts[..] {
        [r, a] => r
            .parse()
            .ok()
            .zip(a.parse().ok())
            .map(|(r, a)| (r, a, false)),
        [r, a, "hang"] => r
            .parse()
            .ok()
            .zip(a.parse().ok())
            .map(|(r, a)| (r, a, true)),
        _ => None,
    };
    match parsed {
        Some(p) => Ok(Some(p)),
        None => bail!("{FAULT_ENV} must be `RANK:AFTER` or `RANK:AFTER:hang`, got `{s}`"),
    }
}

/// The hash every rank sends to rank 0 before starting: FNV-1a of the configuration
/// re-serialized as JSON (so formatting does not matter, values do).
pub(crate) fn config_hash<T: Serialize>(cfg: &T) -> Result<u64> {
    Ok(fnv1a64(serde_json::to_string(cfg)?.as_bytes()))
}

/// Runs `f` on `n` ranks of `backend` (threads or mpi) after checking that every rank has
/// the configuration hash `hash`; returns rank 0's value (`None` on the other ranks of an
/// MPI job). Under MPI an error on any rank prints one `error:` line and ends the whole
/// job (`MPI_Abort`, exit code 2).
pub(crate) fn run_ranks<R, F>(
    backend: Backend,
    args: &BackendArgs,
    n: usize,
    hash: u64,
    f: F,
) -> Result<Option<R>>
where
    R: Send,
    F: Fn(&mut dyn Communicator) -> Result<R> + Sync,
{
    let timeout = Duration::from_secs_f64(args.comm_timeout);
    let fault = fault()?;
    let after = |rank: usize| fault.and_then(|(r, a, _)| (r == rank).then_some(a));
    let hang = fault.is_some_and(|f| f.2);
    match backend {
        Backend::Threads => {
            if n > MAX_THREAD_RANKS {
                bail!("--backend threads runs one thread per rank: {n} ranks exceed its limit of {MAX_THREAD_RANKS} (use --backend mpi)");
            }
            if hang {
                // A hung thread would keep the process alive after the others time out.
                bail!("{FAULT_ENV}=RANK:AFTER:hang needs --backend mpi");
            }
            let results = InProcess::run(n, timeout, |c| {
                let rank = c.rank();
                let mut c = FaultInjection::new(c, after(rank), FaultAction::Error);
                c.check_config(hash)?;
                f(&mut c)
            })?;
            // Report the root cause: the first error that is not a consequence of a peer
            // having gone (every other rank then reports PeerGone).
            let is_echo = |e: &anyhow::Error| {
                e.chain().any(|c| {
                    matches!(
                        c.downcast_ref::<CommError>(),
                        Some(CommError::PeerGone { .. })
                    ) || matches!(
                        c.downcast_ref::<gdlab_decentral::DecentralError>(),
                        Some(gdlab_decentral::DecentralError::Comm(
                            CommError::PeerGone { .. }
                        ))
                    ) || matches!(
                        c.downcast_ref::<gdlab_optim::majority_vote::RankedError>(),
                        Some(gdlab_optim::majority_vote::RankedError::Comm(
                            CommError::PeerGone { .. }
                        ))
                    )
                })
            };
            let mut first = None;
            let mut root = None;
            for (r, res) in results.into_iter().enumerate() {
                match res {
                    Ok(v) if r == 0 => root = Some(v),
                    Ok(_) => {}
                    Err(e) => {
                        let e = e.context(format!("rank {r}"));
                        if !is_echo(&e) {
                            return Err(e);
                        }
                        first.get_or_insert(e);
                    }
                }
            }
            match (first, root) {
                (Some(e), _) => Err(e),
                (None, r) => Ok(r),
            }
        }
        Backend::Mpi => run_mpi(timeout, after, hang, hash, f),
        Backend::Auto | Backend::Single => bail!("internal: run_ranks needs threads or mpi"),
    }
}

#[cfg(feature = "mpi")]
fn run_mpi<R, F>(
    timeout: Duration,
    after: impl Fn(usize) -> Option<u64>,
    hang: bool,
    hash: u64,
    f: F,
) -> Result<Option<R>>
where
    F: Fn(&mut dyn Communicator) -> Result<R>,
{
    let mut mpi = gdlab_comm_mpi::Mpi::init(timeout)?;
    let rank = mpi.rank();
    let res = {
        let action = if hang {
            FaultAction::Hang
        } else {
            FaultAction::Exit(FAULT_EXIT)
        };
        let mut c = FaultInjection::new(&mut mpi, after(rank), action);
        c.check_config(hash)
            .map_err(anyhow::Error::from)
            .and_then(|()| f(&mut c))
    };
    match res {
        Ok(v) => Ok((rank == 0).then_some(v)),
        Err(e) => {
            // A configuration mismatch is known to every rank: rank 0 alone says so.
            let everyone_knows = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<CommError>(),
                    Some(CommError::ConfigMismatch { .. })
                )
            });
            if everyone_knows && rank != 0 {
                mpi.abort(None, 2)
            }
            mpi.abort(Some(&format!("rank {rank}: {e:#}")), 2)
        }
    }
}

#[cfg(not(feature = "mpi"))]
fn run_mpi<R, F>(
    _timeout: Duration,
    _after: impl Fn(usize) -> Option<u64>,
    _hang: bool,
    _hash: u64,
    _f: F,
) -> Result<Option<R>>
where
    F: Fn(&mut dyn Communicator) -> Result<R>,
{
    let _ = (FAULT_EXIT, FaultAction::Hang);
    bail!("this gdlab was built without MPI support: rebuild with `--features mpi`")
}

/// One rank's `(algorithm, total)` counters per run.
pub(crate) type RankWire = Vec<(WireStats, WireStats)>;

/// Gathers every rank's per-run wire counters on rank 0: `Some(v)`, `v[r][k]` = rank
/// `r`'s counters of run `k` as `[algorithm, total]`.
pub(crate) fn gather_wire(
    comm: &mut dyn Communicator,
    mine: &[(WireStats, WireStats)],
) -> Result<Option<Vec<RankWire>>> {
    let bytes: Vec<u8> = mine
        .iter()
        .flat_map(|(a, t)| [a.messages, a.bytes, t.messages, t.bytes])
        .flat_map(u64::to_le_bytes)
        .collect();
    let Some(all) = comm.gather_bytes(&bytes, 0)? else {
        return Ok(None);
    };
    let u = |b: &[u8], i: usize| {
        b.get(8 * i..8 * i + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map_or(0, u64::from_le_bytes)
    };
    Ok(Some(
        all.iter()
            .map(|b| {
                (0..b.len() / 32)
                    .map(|k| {
                        (
                            WireStats {
                                messages: u(b, 4 * k),
                                bytes: u(b, 4 * k + 1),
                            },
                            WireStats {
                                messages: u(b, 4 * k + 2),
                                bytes: u(b, 4 * k + 3),
                            },
                        )
                    })
                    .collect()
            })
            .collect(),
    ))
}

/// JSON of the summed wire counters of one run over all ranks.
pub(crate) fn wire_json(
    all: &[Vec<(WireStats, WireStats)>],
    k: usize,
    rounds: u64,
) -> serde_json::Value {
    let (mut am, mut ab, mut tm, mut tb) = (0u64, 0u64, 0u64, 0u64);
    for r in all {
        if let Some((a, t)) = r.get(k) {
            am += a.messages;
            ab += a.bytes;
            tm += t.messages;
            tb += t.bytes;
        }
    }
    let per = |x: u64| {
        if rounds == 0 {
            0.0
        } else {
            x as f64 / rounds as f64
        }
    };
    json!({
        "rounds": rounds,
        "algorithm_messages": am,
        "algorithm_bytes": ab,
        "algorithm_bytes_per_round": per(ab),
        "total_messages": tm,
        "total_bytes": tb,
        "total_bytes_per_round": per(tb),
    })
}

// ---------------------------------------------------------------------------------------
// `gdlab optim distributed`
// ---------------------------------------------------------------------------------------

/// Where the workers' data comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DataSpec {
    /// The spec's non-convex logistic finite sum, generated from the seed (every rank
    /// generates it and keeps its shard; rank 0 also evaluates the global objective).
    Generate(LogisticConfig),
    /// `DIR/shard-<rank>.npy`: one `(n_j, d + 1)` array per rank, features then the ±1
    /// label; the global metrics are all-reduced shard sums.
    Dir {
        /// The folder.
        dir: PathBuf,
        /// Penalty λ ≥ 0 of the non-convex regularizer.
        reg: f64,
    },
}

/// How generated data is split over the workers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SplitSpec {
    /// A random permutation cut in blocks.
    #[default]
    Homogeneous,
    /// Sorted by label, then cut (heterogeneous workers).
    LabelSorted,
}

fn default_x0() -> f64 {
    1.0
}
fn default_record() -> u64 {
    10
}

/// The `--config` file of `gdlab optim distributed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistributedConfig {
    /// Workers, method, η, batch, rounds (`gdlab_optim::majority_vote::MajorityVoteConfig`).
    optimizer: MajorityVoteConfig,
    /// The data.
    data: DataSpec,
    /// Split of generated data.
    #[serde(default)]
    split: SplitSpec,
    /// SSVR-MV: if set, `radius = radius_factor · G` with `G = max_(i,k) |∂_k f_i(x0)|`
    /// (all-reduced with max over the shards; Theorem 3 uses 4).
    #[serde(default)]
    radius_factor: Option<f64>,
    /// Every coordinate of `x0` (default 1).
    #[serde(default = "default_x0")]
    x0: f64,
    /// The exact global gradient is recorded every this many rounds (and at the end).
    #[serde(default = "default_record")]
    record_every: u64,
    /// Root seed: data `seed.derive("ssvr-data")`, shards `"shards"`, run `"majority-vote"`
    /// (as `gdlab optim majority-vote`).
    #[serde(default)]
    seed: u64,
}

/// `gdlab optim distributed` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct DistributedArgs {
    /// The JSON configuration (see README "Running on several machines").
    #[arg(long)]
    config: PathBuf,
    /// Output folder: `outcome.json` (the run) and `result.json` (summary, bytes, time).
    #[arg(long, default_value = "gdlab-out/optim-distributed")]
    out: PathBuf,
    #[command(flatten)]
    backend: BackendArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// One worker's local objective.
enum LocalShard<'a> {
    Generated(Shard<'a, NonConvexLogistic>),
    Owned(NonConvexLogistic),
}

fn read_shard(dir: &Path, rank: usize, reg: f64) -> Result<NonConvexLogistic> {
    let path = dir.join(format!("shard-{rank}.npy"));
    let a = load_array(&path).with_context(|| format!("rank {rank}: reading its shard"))?;
    if a.shape.len() != 2 || a.shape[1] < 2 || a.shape[0] == 0 {
        bail!(
            "{}: expected shape (n_j ≥ 1, d + 1 ≥ 2) = features then the ±1 label, got {:?}",
            path.display(),
            a.shape
        );
    }
    let (n, c) = (a.shape[0], a.shape[1]);
    let d = c - 1;
    let mut features = Vec::with_capacity(n * d);
    let mut labels = Vec::with_capacity(n);
    for row in a.data.chunks(c) {
        features.extend_from_slice(&row[..d]);
        labels.push(row[d]);
    }
    NonConvexLogistic::new(features, labels, d, reg).with_context(|| path.display().to_string())
}

fn with_radius(method: MajorityVoteMethod, radius: f64) -> MajorityVoteMethod {
    match method {
        MajorityVoteMethod::SsvrMv { option, beta, .. } => MajorityVoteMethod::SsvrMv {
            option,
            beta,
            radius,
        },
        m => m,
    }
}

pub(crate) fn distributed(a: &DistributedArgs) -> Result<Outcome> {
    let text = std::fs::read_to_string(&a.config)
        .with_context(|| format!("reading config {}", a.config.display()))?;
    let cfg: DistributedConfig = serde_json::from_str(&text)
        .with_context(|| format!("parsing config {}", a.config.display()))?;
    let backend = resolve(&a.backend, Backend::Threads)?;
    cfg.optimizer.build()?; // every field checked before any work
    if let Some(f) = cfg.radius_factor {
        if !(f.is_finite() && f > 0.0) {
            bail!("`radius_factor` must be finite and > 0, got {f}");
        }
    }
    if cfg.record_every == 0 {
        bail!("`record_every` must be ≥ 1, got 0");
    }
    if !cfg.x0.is_finite() {
        bail!("`x0` must be finite, got {}", cfg.x0);
    }
    let n = cfg.optimizer.n_workers;
    let seed = Seed(cfg.seed);
    let generated = match &cfg.data {
        DataSpec::Generate(l) => Some(l.generate(seed.derive("ssvr-data"))?),
        DataSpec::Dir { reg, .. } => {
            gdlab_core::ConfigError::check_non_negative("data.reg", *reg)?;
            None
        }
    };
    let parts = match &generated {
        Some(p) => {
            let labels = p.labels().to_vec();
            let split = match cfg.split {
                SplitSpec::Homogeneous => ShardSplit::Homogeneous {
                    seed: seed.derive("shards"),
                },
                SplitSpec::LabelSorted => ShardSplit::LabelSorted { labels: &labels },
            };
            split_indices(p.n_components(), n, &split)?
        }
        None => Vec::new(),
    };
    let every = Every::N(cfg.record_every);
    let run_seed = seed.derive("majority-vote");
    let t0 = Instant::now();
    let (outcome, wire, backend_name) = if backend == Backend::Single {
        let p = generated
            .as_ref()
            .context("--backend single needs generated data (`data.generate`); use threads or mpi for shard files")?;
        let shards = Shard::all(p, &parts)?;
        let x0 = vec![cfg.x0; p.dim()];
        let mut oc = cfg.optimizer;
        if let Some(f) = cfg.radius_factor {
            oc.method = with_radius(oc.method, f * max_abs_component_grad(p, &x0));
        }
        let o = oc.build()?.run(p, &shards, &x0, run_seed, every)?;
        (o, None, "single")
    } else {
        let hash = config_hash(&cfg)?;
        let res = run_ranks(backend, &a.backend, n, hash, |comm| {
            let rank = comm.rank();
            if comm.size() != n {
                bail!(
                    "the job has {} ranks but the configuration has n_workers = {n} (one worker per rank)",
                    comm.size()
                );
            }
            let shard = match (&cfg.data, &generated) {
                (_, Some(p)) => LocalShard::Generated(Shard::new(p, &parts[rank])?),
                (DataSpec::Dir { dir, reg }, None) => {
                    LocalShard::Owned(read_shard(dir, rank, *reg)?)
                }
                (DataSpec::Generate(_), None) => bail!("internal: generated data missing"),
            };
            let dim = match &shard {
                LocalShard::Generated(s) => s.dim(),
                LocalShard::Owned(s) => s.dim(),
            };
            // Every rank must agree on d: all-reduce max and min (as −max of −d).
            let mut dims = [dim as f64, -(dim as f64)];
            comm.all_reduce_f64(&mut dims, ReduceOp::Max)?;
            // Integers below 2^53 are exact in f64: compare them as integers.
            if dims[0] as usize != dim || (-dims[1]) as usize != dim {
                bail!(
                    "shard dimensions differ across ranks (rank {rank} has d = {dim}, the largest is {}, the smallest {})",
                    dims[0],
                    -dims[1]
                );
            }
            let x0 = vec![cfg.x0; dim];
            let mut oc = cfg.optimizer;
            if let Some(f) = cfg.radius_factor {
                let mut g = [match &shard {
                    LocalShard::Generated(s) => max_abs_component_grad(s, &x0),
                    LocalShard::Owned(s) => max_abs_component_grad(s, &x0),
                }];
                comm.all_reduce_f64(&mut g, ReduceOp::Max)?;
                oc.method = with_radius(oc.method, f * g[0]);
            }
            let mv = oc.build()?;
            let w = match (&shard, &generated) {
                (LocalShard::Generated(s), Some(p)) => mv.run_worker(
                    comm,
                    s,
                    &x0,
                    run_seed,
                    every,
                    GlobalEval::Root((rank == 0).then_some(p)),
                )?,
                (LocalShard::Owned(s), _) => mv.run_worker(
                    comm,
                    s,
                    &x0,
                    run_seed,
                    every,
                    GlobalEval::<NonConvexLogistic>::ShardSums,
                )?,
                _ => bail!("internal: shard/data mismatch"),
            };
            let all = gather_wire(comm, &[(w.wire_vote, w.wire_total)])?;
            Ok((w.outcome, all))
        })?;
        match res {
            None => return Ok(Outcome::Ok), // not rank 0 of an MPI job
            Some((Some(o), all)) => (
                o,
                all,
                if backend == Backend::Mpi {
                    "mpi"
                } else {
                    "threads"
                },
            ),
            Some((None, _)) => bail!("internal: rank 0 has no outcome"),
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    write_distributed(a, &cfg, &outcome, wire.as_deref(), backend_name, n, wall)
}

fn write_distributed(
    a: &DistributedArgs,
    cfg: &DistributedConfig,
    o: &MajorityVoteOutcome,
    wire: Option<&[RankWire]>,
    backend: &str,
    n: usize,
    wall: f64,
) -> Result<Outcome> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("creating output folder {}", a.out.display()))?;
    let finite = |v: f64| v.is_finite().then_some(v);
    let final_l1 = o.trace.grad_l1.last().copied();
    let tail = finite(o.trace.tail_mean_grad_l1(0.1));
    atomic_write(
        &a.out.join("outcome.json"),
        (serde_json::to_string_pretty(o)? + "\n").as_bytes(),
    )?;
    let j = json!({
        "method": cfg.optimizer.method.name(),
        "config": cfg,
        "backend": backend,
        "n_ranks": n,
        "diverged": o.diverged(),
        "final_grad_l1": final_l1,
        "tail_mean_grad_l1": tail,
        "bits_up": o.comm.bits_up,
        "bits_down": o.comm.bits_down,
        "wire": wire.map(|w| wire_json(w, 0, o.comm.rounds)),
        "wall_s": wall,
    });
    atomic_write(
        &a.out.join("result.json"),
        (serde_json::to_string_pretty(&j)? + "\n").as_bytes(),
    )?;
    if a.json {
        out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
    } else {
        out(&format!(
            "{} with {n} workers ({backend}), {} rounds: final exact ‖∇f‖₁ = {}, mean over the last 10% = {}{}\nbits (1 per coordinate): {} up, {} down{}\nwrote {}/outcome.json and {}/result.json\n",
            cfg.optimizer.method.name(),
            o.comm.rounds,
            final_l1.map_or("n/a".into(), |v| format!("{v:.12e}")),
            tail.map_or("n/a".into(), |v| format!("{v:.6}")),
            if o.diverged() { " (diverged)" } else { "" },
            o.comm.bits_up,
            o.comm.bits_down,
            wire.map_or(String::new(), |w| {
                let (mut b, mut t) = (0, 0);
                for r in w {
                    if let Some((x, y)) = r.first() {
                        b += x.bytes;
                        t += y.bytes;
                    }
                }
                format!("; bytes on the wire: {b} in the vote, {t} in total")
            }),
            a.out.display(),
            a.out.display()
        ))?;
    }
    Ok(Outcome::Ok)
}
