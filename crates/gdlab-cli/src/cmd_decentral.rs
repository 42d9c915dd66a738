//! `gdlab decentral ...`: graphs and mixing matrices, and user-configured decentralized
//! sparse-regression experiments.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_core::io::atomic_write;
use gdlab_core::Seed;
use gdlab_decentral::{
    tune_er_to_rho, ExperimentConfig, ExperimentResult, Graph, MixingMatrix, WeightRule,
};
use serde_json::json;

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum DecentralCmd {
    /// Build a graph and its mixing matrix; print ρ = ‖W − J/m‖₂ and degree statistics.
    Graph(GraphArgs),
    /// Run a JSON-configured experiment (graph, data, algorithms) and write its error
    /// curves (`curves.csv`, `result.json`) into `--out`.
    Run {
        /// The experiment file (see `gdlab_decentral::ExperimentConfig`).
        #[arg(long)]
        config: PathBuf,
        /// Output folder (created if missing).
        #[arg(long, default_value = "gdlab-out/decentral-run")]
        out: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Read each rank's data from `DIR/shard-<rank>.npy` (shape `(n_i, dim + 1)`: the
        /// rows of `X_i`, then `y_i`) and the truth from `DIR/w_star.npy` (`dim`) instead
        /// of generating it (threads or mpi backends; `cgd` is then unavailable).
        #[arg(long)]
        shards: Option<std::path::PathBuf>,
        /// single (default outside mpirun), threads (one thread per agent) or mpi (one
        /// process per agent: `mpirun -np m gdlab decentral run ...`). Same numbers.
        #[command(flatten)]
        backend: crate::cmd_distributed::BackendArgs,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    Ring,
    Path,
    Star,
    Complete,
    Grid,
    Torus,
    Er,
    File,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Weights {
    Metropolis,
    MaxDegree,
    LazyMetropolis,
    LazyMaxDegree,
}

impl From<Weights> for WeightRule {
    fn from(w: Weights) -> Self {
        match w {
            Weights::Metropolis => WeightRule::Metropolis,
            Weights::MaxDegree => WeightRule::MaxDegree,
            Weights::LazyMetropolis => WeightRule::LazyMetropolis,
            Weights::LazyMaxDegree => WeightRule::LazyMaxDegree,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct GraphArgs {
    /// Graph family; `file` reads an edge list (`i j` per line, 0-based, `#` comments).
    #[arg(long, value_enum)]
    kind: Kind,
    /// Number of nodes m (for `file`: optional, default largest index + 1). Grids and tori
    /// use the most square rows × cols = m.
    #[arg(long)]
    nodes: Option<usize>,
    /// ER edge probability p ∈ [0, 1] (required for `er` unless `--target-rho`).
    #[arg(long)]
    p: Option<f64>,
    /// ER: search p (and the seed) for the graph whose ρ is closest to this value ∈ (0, 1).
    #[arg(long)]
    target_rho: Option<f64>,
    /// Seed of the ER draw (or search).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Edge-list file for `--kind file`.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Weight rule of the mixing matrix.
    #[arg(long, value_enum, default_value_t = Weights::Metropolis)]
    weights: Weights,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn dispatch(cmd: DecentralCmd) -> Result<Outcome> {
    match cmd {
        DecentralCmd::Graph(a) => graph(&a),
        DecentralCmd::Run {
            config,
            out,
            json,
            shards,
            backend,
        } => run(&config, &out, json, shards.as_deref(), &backend),
    }
}

fn nodes(a: &GraphArgs) -> Result<usize> {
    a.nodes.with_context(|| {
        format!(
            "`--nodes` is required for --kind {:?} (an integer ≥ 2)",
            a.kind
        )
        .to_lowercase()
    })
}

fn graph(a: &GraphArgs) -> Result<Outcome> {
    let rule = WeightRule::from(a.weights);
    if a.kind != Kind::Er && (a.p.is_some() || a.target_rho.is_some()) {
        bail!("`--p` and `--target-rho` apply to --kind er only");
    }
    let mut p_used = None;
    let g = match a.kind {
        Kind::Ring => Graph::ring(nodes(a)?)?,
        Kind::Path => Graph::path(nodes(a)?)?,
        Kind::Star => Graph::star(nodes(a)?)?,
        Kind::Complete => Graph::complete(nodes(a)?)?,
        Kind::Grid => {
            let m = nodes(a)?;
            if m == 0 {
                bail!("`--nodes` must be ≥ 1, got 0");
            }
            let (r, c) = Graph::square_factors(m);
            Graph::grid(r, c)?
        }
        Kind::Torus => {
            let m = nodes(a)?;
            let (r, c) = Graph::square_factors(m);
            if r < 3 {
                bail!("`--nodes` = {m} has no rows × cols factorisation with both sides ≥ 3 (a torus needs e.g. 9, 12, 16, 20, 25)");
            }
            Graph::torus(r, c)?
        }
        Kind::Er => {
            let m = nodes(a)?;
            match (a.p, a.target_rho) {
                (Some(p), None) => {
                    p_used = Some(p);
                    Graph::erdos_renyi(m, p, Seed(a.seed))?
                }
                (None, Some(t)) => {
                    let tuned = tune_er_to_rho(m, t, rule, Seed(a.seed), 48, 8)?;
                    p_used = Some(tuned.p);
                    tuned.graph
                }
                _ => bail!("--kind er needs exactly one of `--p` (edge probability in [0, 1]) or `--target-rho` (in (0, 1))"),
            }
        }
        Kind::File => {
            let path = a
                .file
                .as_ref()
                .context("--kind file needs `--file PATH` (an edge list)")?;
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading edge list {}", path.display()))?;
            Graph::parse_edge_list(&text, a.nodes)
                .with_context(|| format!("edge list {}", path.display()))?
        }
    };
    let w = MixingMatrix::new(&g, rule)?;
    let ds = g.degree_stats();
    if a.json {
        let j = json!({
            "kind": format!("{:?}", a.kind).to_lowercase(),
            "n_nodes": g.n_nodes(),
            "n_edges": g.n_edges(),
            "p": p_used,
            "seed": a.seed,
            "weights": rule.as_str(),
            "rho": w.rho(),
            "degree": {"min": ds.min, "max": ds.max, "mean": ds.mean},
            "stochasticity_error": w.stochasticity_error(),
        });
        out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
    } else {
        out(&format!(
            "graph: {} (m = {}, |E| = {}{})\nweights: {}\nρ = ‖W − J/m‖₂ = {:.12}\ndegree: min {}, max {}, mean {:.4}\n",
            format!("{:?}", a.kind).to_lowercase(),
            g.n_nodes(),
            g.n_edges(),
            p_used.map(|p| format!(", p = {p}, seed = {}", a.seed)).unwrap_or_default(),
            rule.as_str(),
            w.rho(),
            ds.min,
            ds.max,
            ds.mean
        ))?;
    }
    Ok(Outcome::Ok)
}

fn run(
    config: &std::path::Path,
    dir: &std::path::Path,
    as_json: bool,
    shards: Option<&std::path::Path>,
    backend: &crate::cmd_distributed::BackendArgs,
) -> Result<Outcome> {
    use crate::cmd_distributed::{
        config_hash, gather_wire, resolve, run_ranks, wire_json, Backend,
    };
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("reading config {}", config.display()))?;
    let cfg: ExperimentConfig = serde_json::from_str(&text)
        .with_context(|| format!("parsing config {}", config.display()))?;
    let b = resolve(backend, Backend::Single)?;
    if shards.is_some() && b == Backend::Single {
        bail!("`--shards` needs --backend threads or mpi (one agent per rank)");
    }
    let res = if b == Backend::Single {
        cfg.run()
            .with_context(|| format!("config {}", config.display()))?
    } else {
        let t0 = std::time::Instant::now();
        let m = cfg.problem.n_agents;
        let ranked = run_ranks(b, backend, m, config_hash(&cfg)?, |comm| {
            let r = match shards {
                None => cfg.run_ranked(comm),
                Some(dir) => {
                    let (local, w_star) = read_agent_shard(dir, comm.rank(), cfg.problem.dim)?;
                    cfg.run_ranked_with(comm, &local, &w_star, None)
                }
            }
            .with_context(|| format!("config {}", config.display()))?;
            let mine: Vec<_> = r.wire.iter().map(|(_, a, t)| (*a, *t)).collect();
            let all = gather_wire(comm, &mine)?;
            Ok((r, all))
        })?;
        let Some((r, all)) = ranked else {
            return Ok(Outcome::Ok); // not rank 0 of an MPI job
        };
        let wall = t0.elapsed().as_secs_f64();
        let res = r.result.context("internal: rank 0 has no result")?;
        let all = all.unwrap_or_default();
        let runs: Vec<serde_json::Value> = res
            .runs
            .iter()
            .enumerate()
            .map(|(k, run)| {
                let mut w = wire_json(&all, k, run.trace.comm.rounds);
                w["label"] = json!(run.label);
                w
            })
            .collect();
        let rounds: u64 = res.runs.iter().map(|r| r.trace.comm.rounds).sum();
        let j = json!({
            "backend": if b == Backend::Mpi { "mpi" } else { "threads" },
            "n_ranks": m,
            "wall_s": wall,
            "wall_s_per_round": if rounds > 0 { wall / rounds as f64 } else { 0.0 },
            "runs": runs,
        });
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating output folder {}", dir.display()))?;
        atomic_write(
            &dir.join("wire.json"),
            (serde_json::to_string_pretty(&j)? + "\n").as_bytes(),
        )?;
        res
    };
    write_outputs(&res, dir)?;
    let summary: Vec<serde_json::Value> = res
        .runs
        .iter()
        .map(|r| {
            json!({
                "label": r.label,
                "best_round": r.best_round,
                "best_err_agents": r.best_err,
                "final_err_agents": r.trace.err_agents.last(),
                "stop": r.trace.stop,
                "bits_sent": r.trace.comm.bits_sent,
            })
        })
        .collect();
    if as_json {
        let j = json!({"rho": res.rho, "n_edges": res.n_edges, "oracle_err": res.oracle_err, "runs": summary, "out": dir});
        out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
    } else {
        let mut s =
            format!(
            "ρ = {:.6}, |E| = {}, oracle LS error = {}\n{:<24} {:>10} {:>14} {:>14} {:>14}  stop\n",
            res.rho,
            res.n_edges,
            res.oracle_err.map_or("— (no rank held all the data)".into(), |e| format!("{e:.6}")),
            "algorithm",
            "argmin t",
            "min err",
            "final err",
            "bits sent"
        );
        for r in &res.runs {
            s += &format!(
                "{:<24} {:>10} {:>14} {:>14} {:>14}  {}\n",
                r.label,
                r.best_round.map_or("—".into(), |t| t.to_string()),
                r.best_err.map_or("—".into(), |e| format!("{e:.6}")),
                r.trace
                    .err_agents
                    .last()
                    .map_or("—".into(), |e| format!("{e:.6}")),
                r.trace.comm.bits_sent,
                match r.trace.stop {
                    gdlab_decentral::StopReason::Completed => "completed".to_string(),
                    gdlab_decentral::StopReason::Diverged { round } =>
                        format!("DIVERGED at round {round}"),
                }
            );
        }
        s += &format!(
            "wrote {}/curves.csv and {}/result.json\n",
            dir.display(),
            dir.display()
        );
        out(&s)?;
    }
    Ok(Outcome::Ok)
}

/// Rank `rank`'s data from `DIR/shard-<rank>.npy` (`(n_i, dim + 1)`: `X_i` rows then
/// `y_i`) and the truth from `DIR/w_star.npy`.
fn read_agent_shard(
    dir: &std::path::Path,
    rank: usize,
    dim: usize,
) -> Result<(gdlab_decentral::LocalData, Vec<f64>)> {
    let path = dir.join(format!("shard-{rank}.npy"));
    let a = crate::input::load_array(&path).with_context(|| format!("rank {rank}: its shard"))?;
    if a.shape.len() != 2 || a.shape[1] != dim + 1 || a.shape[0] == 0 {
        bail!(
            "{}: expected shape (n_i ≥ 1, dim + 1 = {}) = the rows of X_i then y_i, got {:?}",
            path.display(),
            dim + 1,
            a.shape
        );
    }
    let mut x = Vec::with_capacity(a.shape[0] * dim);
    let mut y = Vec::with_capacity(a.shape[0]);
    for row in a.data.chunks(dim + 1) {
        x.extend_from_slice(&row[..dim]);
        y.push(row[dim]);
    }
    let wp = dir.join("w_star.npy");
    let w_star = crate::input::load_array(&wp)?.into_vector("w_star", &wp)?;
    if w_star.len() != dim {
        bail!(
            "{}: expected {dim} entries (problem.dim), got {}",
            wp.display(),
            w_star.len()
        );
    }
    Ok((gdlab_decentral::LocalData { x, y }, w_star))
}

/// `curves.csv` (long format: algorithm, round, err_agents, err_avg, err_bar, consensus,
/// loss; a diverged run stops at its last finite round) and `result.json`, both atomic.
fn write_outputs(res: &ExperimentResult, dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating output folder {}", dir.display()))?;
    let mut csv = String::from("algorithm,round,err_agents,err_avg,err_bar,consensus,loss\n");
    for r in &res.runs {
        let t = &r.trace;
        for i in 0..t.err_agents.len() {
            csv += &format!(
                "{},{i},{},{},{},{},{}\n",
                r.label.replace([',', '\n'], "_"),
                t.err_agents[i],
                t.err_avg[i],
                t.err_bar[i],
                t.consensus[i],
                t.loss[i]
            );
        }
    }
    atomic_write(&dir.join("curves.csv"), csv.as_bytes())?;
    let j = serde_json::to_string_pretty(res)?;
    atomic_write(&dir.join("result.json"), (j + "\n").as_bytes())?;
    Ok(())
}
