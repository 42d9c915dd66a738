//! `gdlab wasserstein ...`: flows of particle measures (Wasserstein GD, mirror descent,
//! preconditioned GD) from a JSON config (`gdlab-wasserstein`, spec
//! `papers/wasserstein-mirror-preconditioned.md`), and a timing of the interaction-energy
//! gradient for `benches/peers/wasserstein.py`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gdlab_core::Seed;
use gdlab_wasserstein::discrepancy::{EnergyDistance, SlicedWasserstein};
use gdlab_wasserstein::entropy::{kozachenko_leonenko, KdeEntropy};
use gdlab_wasserstein::functional::{Functional, InteractionEnergy, PotentialEnergy, Sum};
use gdlab_wasserstein::kernel::{KernelShape, PairKernel};
use gdlab_wasserstein::matrix::SpdMatrix;
use gdlab_wasserstein::mirror::MirrorMap;
use gdlab_wasserstein::scheme::{
    run_flow, FlowConfig, InteractionMirror, NewtonOptions, Preconditioner, Scheme,
};
use gdlab_wasserstein::sinkhorn::{SinkhornDivergence, SinkhornOptions};
use gdlab_wasserstein::Particles;
use serde::Deserialize;

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum WassersteinCmd {
    /// Run a flow from a JSON config; writes summary.json, energies.csv,
    /// final_particles.csv and scatter.svg (initial vs final particles) into the output folder.
    Run {
        /// JSON config: {"functional": {...}, "scheme": {...}, "step_size": τ,
        /// "n_iterations": N, "particles": {"file": "x.csv"} or {"init": "gaussian", ...},
        /// "seed": 0, "out_dir": "..."} (see the README section).
        #[arg(long)]
        config: PathBuf,
        /// Output folder (overrides the config's `out_dir`; default `wasserstein-out`).
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Time a particle kernel on n Gaussian particles (median of --steps calls after one
    /// warm-up call): `interaction` = the gradient (1/n)Σⱼ∇W(xᵢ − xⱼ) of the isotropic double
    /// well; `sliced` = SW₂ to a second Gaussian sample of n points (--projections directions).
    Bench {
        /// Which kernel.
        #[arg(long, value_enum, default_value_t = BenchKernel::Interaction)]
        kernel: BenchKernel,
        /// Directions of the sliced kernel.
        #[arg(long, default_value_t = 50)]
        projections: usize,
        /// Number of particles.
        #[arg(long, default_value_t = 10_000)]
        n: usize,
        /// Dimension.
        #[arg(long, default_value_t = 2)]
        dim: usize,
        /// Threads of the rayon pool (the result is the same bits for any count).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Timed calls.
        #[arg(long, default_value_t = 5)]
        steps: usize,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn dispatch(cmd: WassersteinCmd) -> Result<Outcome> {
    match cmd {
        WassersteinCmd::Run { config, out_dir } => run(&config, out_dir),
        WassersteinCmd::Bench {
            kernel,
            projections,
            n,
            dim,
            threads,
            steps,
            json,
        } => bench(kernel, projections, n, dim, threads, steps, json),
    }
}

// ---------------------------------------------------------------- config

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFile {
    functional: FunctionalSpec,
    scheme: SchemeSpec,
    step_size: f64,
    n_iterations: usize,
    particles: ParticlesSpec,
    #[serde(default)]
    seed: u64,
    out_dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum FunctionalSpec {
    /// ½∬W with W(z) = kernel(zᵀΣ⁻¹z) (Σ = I if absent).
    Interaction {
        kernel: KernelShape,
        sigma: Option<Vec<Vec<f64>>>,
    },
    /// ∫ ½(x−c)ᵀA(x−c).
    Potential {
        matrix: Vec<Vec<f64>>,
        centre: Option<Vec<f64>>,
    },
    /// KL to N(m, Σ*): potential with A = Σ*⁻¹ plus the KDE-score entropy.
    Kl {
        target_covariance: Vec<Vec<f64>>,
        target_mean: Option<Vec<f64>>,
    },
    /// ½ energy distance to a target sample.
    EnergyDistance { target: ParticlesSpec },
    /// ½ SW₂² to a target sample.
    SlicedWasserstein {
        target: ParticlesSpec,
        #[serde(default = "default_projections")]
        n_projections: usize,
    },
    /// ½ S_ε (Sinkhorn divergence, cost ‖x − y‖²) to a target sample.
    SinkhornDivergence {
        target: ParticlesSpec,
        #[serde(default = "default_epsilon")]
        epsilon: f64,
        #[serde(default = "default_sinkhorn_tol")]
        tol: f64,
        #[serde(default = "default_sinkhorn_max_iterations")]
        max_iterations: usize,
    },
}

fn default_epsilon() -> f64 {
    SinkhornOptions::default().epsilon
}

fn default_sinkhorn_tol() -> f64 {
    SinkhornOptions::default().tol
}

fn default_sinkhorn_max_iterations() -> usize {
    SinkhornOptions::default().max_iterations
}

fn default_projections() -> usize {
    50
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum SchemeSpec {
    Gd,
    Mirror {
        map: MapSpec,
    },
    MirrorInteraction {
        kernel: KernelShape,
        sigma: Option<Vec<Vec<f64>>>,
        tol: Option<f64>,
        max_iterations: Option<usize>,
    },
    Pgd {
        preconditioner: PreconditionerSpec,
    },
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum MapSpec {
    Euclidean,
    Linear { p: Vec<Vec<f64>> },
    Ball { radius_sq: f64, gamma: f64 },
    Entropic,
    Box,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum PreconditionerSpec {
    Identity,
    Linear { p: Vec<Vec<f64>> },
    PowerNorm { a: f64 },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ParticlesSpec {
    File {
        file: PathBuf,
    },
    Init {
        init: InitKind,
        n: usize,
        dim: usize,
        #[serde(default = "default_scale")]
        scale: f64,
        mean: Option<Vec<f64>>,
    },
}

fn default_scale() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum InitKind {
    /// mean + scale·N(0, I).
    Gaussian,
    /// mean + scale·U(−1, 1)^d.
    Uniform,
}

fn spd(what: &'static str, rows: &[Vec<f64>]) -> Result<SpdMatrix> {
    SpdMatrix::from_rows(what, rows).with_context(|| format!("`{what}`"))
}

fn load_particles(spec: &ParticlesSpec, base: &Path, seed: Seed, what: &str) -> Result<Particles> {
    match spec {
        ParticlesSpec::File { file } => {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                base.join(file)
            };
            read_particles(&path).with_context(|| format!("{what}: reading {}", path.display()))
        }
        ParticlesSpec::Init {
            init,
            n,
            dim,
            scale,
            mean,
        } => {
            if *n == 0 || *dim == 0 {
                bail!("{what}: `n` and `dim` must be ≥ 1, got n = {n}, dim = {dim}");
            }
            if !(scale.is_finite() && *scale >= 0.0) {
                bail!("{what}: `scale` must be in [0, ∞), got {scale}");
            }
            if let Some(m) = mean {
                if m.len() != *dim {
                    bail!(
                        "{what}: `mean` has {} entries, expected dim = {dim}",
                        m.len()
                    );
                }
            }
            let x = match init {
                InitKind::Gaussian => Particles::gaussian(*n, *dim, *scale, mean.as_deref(), seed)?,
                InitKind::Uniform => {
                    let mut rng = seed.rng();
                    let data = (0..n * dim)
                        .map(|k| {
                            let u = gdlab_core::normal::uniform(&mut rng);
                            mean.as_ref().map_or(0.0, |m| m[k % dim]) + scale * (2.0 * u - 1.0)
                        })
                        .collect();
                    Particles::new(*n, *dim, data)?
                }
            };
            Ok(x)
        }
    }
}

/// Particles from `.npy` (2-D, f64/f32), JSON rows, or CSV (one particle per line, comma
/// separated; a first line that is not numeric is a header).
fn read_particles(path: &Path) -> Result<Particles> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv {
        let arr = crate::input::load_array(path)?;
        if arr.shape.len() != 2 {
            bail!(
                "expected a 2-D array (n_particles, dim), got shape {:?}",
                arr.shape
            );
        }
        return Ok(Particles::new(arr.shape[0], arr.shape[1], arr.data)?);
    }
    let text = std::fs::read_to_string(path)?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed: Result<Vec<f64>, _> =
            line.split(',').map(|c| c.trim().parse::<f64>()).collect();
        match parsed {
            Ok(r) => {
                if let Some(i) = r.iter().position(|v| !v.is_finite()) {
                    bail!("line {}: value {} is not finite ({})", ln + 1, i + 1, r[i]);
                }
                if let Some(first) = rows.first() {
                    if first.len() != r.len() {
                        bail!(
                            "line {}: {} values, but the first particle has {} (all particles need the same dimension)",
                            ln + 1,
                            r.len(),
                            first.len()
                        );
                    }
                }
                rows.push(r);
            }
            Err(_) if rows.is_empty() && ln == 0 => continue, // header
            Err(e) => bail!("line {}: not a list of numbers ({e})", ln + 1),
        }
    }
    if rows.is_empty() {
        bail!("no particles");
    }
    Ok(Particles::from_rows(&rows)?)
}

fn build_functional(
    spec: &FunctionalSpec,
    dim: usize,
    base: &Path,
    seed: Seed,
) -> Result<(Box<dyn Functional>, Option<InteractionEnergy>)> {
    Ok(match spec {
        FunctionalSpec::Interaction { kernel, sigma } => {
            let k = match sigma {
                Some(s) => PairKernel::with_covariance(*kernel, &spd("functional.sigma", s)?)?,
                None => PairKernel::new(*kernel, SpdMatrix::identity(dim)),
            };
            let w = InteractionEnergy::new(k);
            (Box::new(w.clone()), Some(w))
        }
        FunctionalSpec::Potential { matrix, centre } => {
            let a = spd("functional.matrix", matrix)?;
            let c = centre.clone().unwrap_or_else(|| vec![0.0; a.dim()]);
            (Box::new(PotentialEnergy::new(a, c)?), None)
        }
        FunctionalSpec::Kl {
            target_covariance,
            target_mean,
        } => {
            let s = spd("functional.target_covariance", target_covariance)?;
            let prec = SpdMatrix::new("Σ*⁻¹", &s.inverse())?;
            let c = target_mean.clone().unwrap_or_else(|| vec![0.0; s.dim()]);
            let sum = Sum::new(vec![
                Box::new(PotentialEnergy::new(prec, c)?),
                Box::new(KdeEntropy::scott_score()),
            ])?;
            (Box::new(sum), None)
        }
        FunctionalSpec::EnergyDistance { target } => {
            let y = load_particles(target, base, seed.derive("target"), "functional.target")?;
            (Box::new(EnergyDistance::new(y)?), None)
        }
        FunctionalSpec::SlicedWasserstein {
            target,
            n_projections,
        } => {
            let y = load_particles(target, base, seed.derive("target"), "functional.target")?;
            (
                Box::new(SlicedWasserstein::random(
                    y,
                    *n_projections,
                    seed.derive("projections"),
                )?),
                None,
            )
        }
        FunctionalSpec::SinkhornDivergence {
            target,
            epsilon,
            tol,
            max_iterations,
        } => {
            let y = load_particles(target, base, seed.derive("target"), "functional.target")?;
            let opts = SinkhornOptions {
                epsilon: *epsilon,
                tol: *tol,
                max_iterations: *max_iterations,
                ..SinkhornOptions::default()
            };
            (Box::new(SinkhornDivergence::new(y, opts)?), None)
        }
    })
}

fn build_scheme(spec: &SchemeSpec, dim: usize) -> Result<Scheme> {
    Ok(match spec {
        SchemeSpec::Gd => Scheme::Gd,
        SchemeSpec::Mirror { map } => Scheme::Mirror(match map {
            MapSpec::Euclidean => MirrorMap::Euclidean,
            MapSpec::Linear { p } => MirrorMap::linear(spd("scheme.map.p", p)?),
            MapSpec::Ball { radius_sq, gamma } => MirrorMap::ball(*radius_sq, *gamma)?,
            MapSpec::Entropic => MirrorMap::Entropic,
            MapSpec::Box => MirrorMap::Box,
        }),
        SchemeSpec::MirrorInteraction {
            kernel,
            sigma,
            tol,
            max_iterations,
        } => {
            let k = match sigma {
                Some(s) => PairKernel::with_covariance(*kernel, &spd("scheme.sigma", s)?)?,
                None => PairKernel::new(*kernel, SpdMatrix::identity(dim)),
            };
            let d = NewtonOptions::default();
            Scheme::MirrorInteraction(InteractionMirror::new(
                k,
                NewtonOptions {
                    tol: tol.unwrap_or(d.tol),
                    max_iterations: max_iterations.unwrap_or(d.max_iterations),
                },
            )?)
        }
        SchemeSpec::Pgd { preconditioner } => Scheme::Preconditioned(match preconditioner {
            PreconditionerSpec::Identity => Preconditioner::Identity,
            PreconditionerSpec::Linear { p } => {
                Preconditioner::Linear(spd("scheme.preconditioner.p", p)?)
            }
            PreconditionerSpec::PowerNorm { a } => Preconditioner::power_norm(*a)?,
        }),
    })
}

fn csv_num(x: f64) -> String {
    format!("{x:?}")
}

fn run(config: &Path, out_dir: Option<PathBuf>) -> Result<Outcome> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("reading config {}", config.display()))?;
    let file: RunFile = serde_json::from_str(&text)
        .with_context(|| format!("parsing config {}", config.display()))?;
    let base = config.parent().unwrap_or_else(|| Path::new("."));
    let seed = Seed(file.seed);
    let cfg = FlowConfig::new(file.step_size, file.n_iterations).context("config")?;
    let mut x = load_particles(&file.particles, base, seed.derive("particles"), "particles")?;
    let dim = x.dim();
    let (functional, interaction) = build_functional(&file.functional, dim, base, seed)?;
    if let Some(d) = functional.dim() {
        if d != dim {
            bail!("dimension mismatch: the particles have dim {dim}, the functional lives in dimension {d}");
        }
    }
    let scheme = build_scheme(&file.scheme, dim)?;
    scheme.check_start(&x).context("initial particles")?;
    let x0 = x.clone();
    let mut values = Vec::new();
    let mut pair_energy = Vec::new();
    let summary = run_flow(&scheme, functional.as_ref(), &mut x, cfg, |_, x| {
        values.push(functional.value(x)?);
        if let Some(w) = &interaction {
            pair_energy.push(w.mean_pair_energy(x)?);
        }
        Ok(())
    })
    .context("running the flow")?;
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        bail!("the functional value became non-finite at iteration {k}; nothing written");
    }
    let dir = out_dir
        .or(file.out_dir.clone())
        .unwrap_or_else(|| PathBuf::from("wasserstein-out"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        gdlab_core::io::atomic_write(&dir.join(name), bytes).map_err(anyhow::Error::from)
    };
    // energies.csv
    let mut csv = String::from(if interaction.is_some() {
        "iteration,time,value,mean_pair_energy\n"
    } else {
        "iteration,time,value\n"
    });
    for (k, v) in values.iter().enumerate() {
        csv += &format!("{k},{},{}", csv_num(k as f64 * cfg.step_size), csv_num(*v));
        if let Some(e) = pair_energy.get(k) {
            csv += &format!(",{}", csv_num(*e));
        }
        csv.push('\n');
    }
    write("energies.csv", csv.as_bytes())?;
    let mut pcsv = String::new();
    for r in x.rows() {
        pcsv += &r.iter().map(|v| csv_num(*v)).collect::<Vec<_>>().join(",");
        pcsv.push('\n');
    }
    write("final_particles.csv", pcsv.as_bytes())?;
    let svg = gdlab_studies::wasserstein_mirror::scatter_svg(
        "scatter",
        &format!("{} with {}", functional.name(), scheme.name()),
        &[("initial", x0.data(), dim), ("final", x.data(), dim)],
    )
    .context("drawing the scatter plot")?;
    write("scatter.svg", svg.as_bytes())?;
    let entropy = |p: &Particles| kozachenko_leonenko(p).ok();
    let its = &summary.newton_iterations;
    let summary_json = serde_json::json!({
        "functional": functional.name(),
        "scheme": scheme.name(),
        "step_size": cfg.step_size,
        "n_iterations": cfg.n_steps,
        "n_particles": x.n_particles(),
        "dim": dim,
        "seed": file.seed,
        "initial": {"value": values[0], "mean": x0.mean(), "covariance": x0.covariance(),
                    "neg_entropy_kozachenko_leonenko": entropy(&x0)},
        "final": {"value": values[values.len() - 1], "mean": x.mean(), "covariance": x.covariance(),
                  "neg_entropy_kozachenko_leonenko": entropy(&x)},
        "mean_pair_energy": pair_energy.last(),
        "newton": match &scheme {
            Scheme::MirrorInteraction(m) => serde_json::json!({
                "tol": m.options().tol,
                "max_iterations": m.options().max_iterations,
                "iterations_min": its.iter().min(),
                "iterations_max": its.iter().max(),
                "iterations_total": its.iter().sum::<usize>(),
                "max_final_residual": summary.newton_max_residual,
            }),
            _ => serde_json::Value::Null,
        },
    });
    let text = serde_json::to_string_pretty(&summary_json)?;
    write("summary.json", (text + "\n").as_bytes())?;
    out(&format!(
        "{} with {}: value {} -> {} after {} iterations; wrote {}\n",
        functional.name(),
        scheme.name(),
        values[0],
        values[values.len() - 1],
        cfg.n_steps,
        dir.display()
    ))?;
    Ok(Outcome::Ok)
}

// ---------------------------------------------------------------- bench

/// Kernels of `gdlab wasserstein bench`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BenchKernel {
    /// Interaction-energy gradient (O(n²)).
    Interaction,
    /// Sliced Wasserstein distance (O(L·n log n)).
    Sliced,
}

fn bench(
    kernel: BenchKernel,
    projections: usize,
    n: usize,
    dim: usize,
    threads: usize,
    steps: usize,
    json: bool,
) -> Result<Outcome> {
    if n < 2 || dim == 0 || threads == 0 || steps == 0 || projections == 0 {
        bail!("`n` ≥ 2, `dim`, `threads`, `steps` and `projections` ≥ 1 are required, got n = {n}, dim = {dim}, threads = {threads}, steps = {steps}, projections = {projections}");
    }
    let x = Particles::gaussian(n, dim, 1.0, None, Seed(0))?;
    let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(dim)));
    let sw = SlicedWasserstein::random(
        Particles::gaussian(n, dim, 1.5, None, Seed(1))?,
        projections,
        Seed(2),
    )?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("building the thread pool")?;
    let mut g = vec![0.0; n * dim];
    let call = |g: &mut [f64]| -> Result<f64> {
        Ok(match kernel {
            BenchKernel::Interaction => {
                w.wgrad(&x, g)?;
                g.iter().map(|v| v.abs()).sum()
            }
            BenchKernel::Sliced => sw.distance(&x)?,
        })
    };
    let (seconds, checksum) = pool.install(|| -> Result<(f64, f64)> {
        let checksum = call(&mut g)?;
        let mut times = Vec::with_capacity(steps);
        for _ in 0..steps {
            let t = Instant::now();
            call(&mut g)?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        Ok((times[times.len() / 2], checksum))
    })?;
    let name = match kernel {
        BenchKernel::Interaction => "interaction_wgrad",
        BenchKernel::Sliced => "sliced_distance",
    };
    if json {
        out(&(serde_json::json!({
            "kernel": name, "n": n, "dim": dim, "threads": threads, "steps": steps,
            "projections": projections, "seconds": seconds, "checksum": checksum,
        })
        .to_string()
            + "\n"))?;
    } else {
        out(&format!(
            "{name} n={n} dim={dim} threads={threads}: {:.3} ms (median of {steps}), checksum {checksum:.6e}\n",
            seconds * 1e3
        ))?;
    }
    Ok(Outcome::Ok)
}
