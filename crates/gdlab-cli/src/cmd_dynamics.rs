//! `gdlab dynamics ...`: the teacher-mixture order-parameter ODEs, simulated online SGD and
//! phase diagrams (`gdlab-dynamics`, spec `papers/bias-in-motion.md`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_core::Seed;
use gdlab_dynamics::model::{TeacherMixture, TeacherMixtureConfig};
use gdlab_dynamics::ode::{solve, Integrator, OrderParams, Trajectory};
use gdlab_dynamics::phase::{linspace, logspace, phase_diagram, Phase, PhaseDiagramConfig};
use gdlab_dynamics::sim::simulate_seeds;
use serde::{Deserialize, Serialize};

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum DynamicsCmd {
    /// Integrate the order-parameter ODEs of the teacher-mixture model (and optionally
    /// simulate online SGD at dimension N) and write the trajectories M, R±, Q, b, ε± as
    /// CSV or JSON.
    TeacherMixture(Box<TmArgs>),
    /// Classify a grid over (ρ, Δ−/Δ+) as always +, always −, crossing → +/−, diverged;
    /// write the grid (CSV or JSON) and an SVG heat map.
    PhaseDiagram(Box<PdArgs>),
}

/// Starting configurations (spec §3 / paper figures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// Spec configuration A (ρ = 0.8, Δ = (1, 4), T± = 1, v = 0, η = 0.1).
    ConfigA,
    /// Spec configuration B (every extension on).
    ConfigB,
    /// Paper Fig. 2 (spurious correlation, v = 16).
    Fig2,
    /// Paper Fig. 4 (double crossing, v = 100).
    Fig4,
    /// Paper Fig. 7 (single crossing, Δ = (0.1, 1), T± = 0.9).
    Fig7,
}

impl Preset {
    fn config(self) -> TeacherMixtureConfig {
        match self {
            Preset::ConfigA => TeacherMixtureConfig::config_a(),
            Preset::ConfigB => TeacherMixtureConfig::config_b(),
            Preset::Fig2 => TeacherMixtureConfig::paper_fig2(),
            Preset::Fig4 => TeacherMixtureConfig::paper_fig4(),
            Preset::Fig7 => TeacherMixtureConfig::paper_fig7(),
        }
    }
}

/// Model parameters as flags; each overrides the config file and the preset.
#[derive(Debug, Default, clap::Args)]
struct ModelFlags {
    /// ρ ∈ (0, 1): fraction of group +.
    #[arg(long, allow_negative_numbers = true)]
    rho: Option<f64>,
    /// Δ+ > 0: variance of group +.
    #[arg(long, allow_negative_numbers = true)]
    delta_plus: Option<f64>,
    /// Δ− > 0: variance of group −.
    #[arg(long, allow_negative_numbers = true)]
    delta_minus: Option<f64>,
    /// v ≥ 0: shift norm ‖v‖²/N.
    #[arg(long, allow_negative_numbers = true)]
    shift_norm: Option<f64>,
    /// M*+ = w̄+·v/N.
    #[arg(long, allow_negative_numbers = true)]
    teacher_shift_plus: Option<f64>,
    /// M*− = w̄−·v/N.
    #[arg(long, allow_negative_numbers = true)]
    teacher_shift_minus: Option<f64>,
    /// T± = w̄+·w̄−/N.
    #[arg(long, allow_negative_numbers = true)]
    teacher_overlap: Option<f64>,
    /// Label-flip probability p ∈ [0, 0.5) (spec extension).
    #[arg(long, allow_negative_numbers = true)]
    label_noise: Option<f64>,
    /// Ridge γ ≥ 0 (spec extension).
    #[arg(long, allow_negative_numbers = true)]
    ridge: Option<f64>,
    /// Train a scalar student bias (spec extension).
    #[arg(long)]
    student_bias: Option<bool>,
    /// Learning rate η > 0 (the paper's η).
    #[arg(long = "lr", alias = "learning-rate", allow_negative_numbers = true)]
    learning_rate: Option<f64>,
    /// Q(0) ≥ 0.
    #[arg(long, allow_negative_numbers = true)]
    q0: Option<f64>,
}

impl ModelFlags {
    fn apply(&self, c: &mut TeacherMixtureConfig) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { c.$f = v; } )* };
        }
        set!(
            rho,
            delta_plus,
            delta_minus,
            shift_norm,
            teacher_shift_plus,
            teacher_shift_minus,
            teacher_overlap,
            label_noise,
            ridge,
            student_bias,
            learning_rate,
            q0
        );
    }
}

/// `--config` file of `teacher-mixture` (JSON; every key optional, unknown keys rejected).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TmFile {
    /// Model parameters (keys of `TeacherMixtureConfig`; missing ones from the preset).
    model: Option<serde_json::Value>,
    t_max: Option<f64>,
    record_dt: Option<f64>,
    simulate: Option<usize>,
    seeds: Option<usize>,
    seed: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TmArgs {
    /// JSON file: `{"model": {"rho": 0.8, ...}, "t_max": 20, "record_dt": 0.25,
    /// "simulate": 2000, "seeds": 3, "seed": 0}` (all optional; flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Starting configuration (before the file and the flags).
    #[arg(long, value_enum, default_value_t = Preset::ConfigA)]
    preset: Preset,
    #[command(flatten)]
    model: ModelFlags,
    /// Horizon t_max > 0 (t = steps/N). Default 20.
    #[arg(long, allow_negative_numbers = true)]
    t_max: Option<f64>,
    /// Record spacing > 0. Default 0.25.
    #[arg(long, allow_negative_numbers = true)]
    record_dt: Option<f64>,
    /// Also simulate online SGD at dimension N (≥ 3).
    #[arg(long, value_name = "N")]
    simulate: Option<usize>,
    /// Number of simulated seeds (≥ 1). Default 1.
    #[arg(long)]
    seeds: Option<usize>,
    /// Root seed. Default 0.
    #[arg(long)]
    seed: Option<u64>,
    /// Integrator: Dormand–Prince 5(4) (rtol = atol = 1e-10) or RK4 (dt = 0.01).
    #[arg(long, value_enum, default_value_t = IntegratorArg::Dopri)]
    integrator: IntegratorArg,
    /// Write JSON instead of CSV.
    #[arg(long)]
    json: bool,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum IntegratorArg {
    Dopri,
    Rk4,
}

/// Most records one command writes per trajectory.
const MAX_RECORDS: f64 = 1e6;

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("config {}", path.display()))
}

fn model_config(
    preset: TeacherMixtureConfig,
    file_model: Option<serde_json::Value>,
    flags: &ModelFlags,
    path: Option<&Path>,
) -> Result<TeacherMixtureConfig> {
    let mut cfg = preset;
    if let Some(v) = file_model {
        // Missing keys keep the preset's values; unknown keys are rejected.
        let serde_json::Value::Object(map) = v else {
            bail!("config: `model` must be a JSON object");
        };
        let mut base = serde_json::to_value(&cfg)?;
        for (k, val) in map {
            if base.get(&k).is_none() {
                bail!(
                    "config {}: unknown key `model.{k}` (known: rho, delta_plus, delta_minus, shift_norm, teacher_shift_plus, teacher_shift_minus, teacher_overlap, teacher_norm_plus, teacher_norm_minus, label_noise, ridge, student_bias, learning_rate, q0)",
                    path.map_or_else(String::new, |p| p.display().to_string())
                );
            }
            base[&k] = val;
        }
        cfg = serde_json::from_value(base).context("config: `model`")?;
    }
    flags.apply(&mut cfg);
    Ok(cfg)
}

fn positive(name: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        bail!("`{name}` must be in (0, ∞), got {v}")
    }
}

#[derive(Serialize)]
struct TrajOut<'a> {
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dim: Option<usize>,
    /// `null` when the trajectory stayed finite.
    diverged_at: Option<f64>,
    t: &'a [f64],
    m: &'a [f64],
    r_plus: &'a [f64],
    r_minus: &'a [f64],
    q: &'a [f64],
    b: &'a [f64],
    eps_plus: Vec<f64>,
    eps_minus: Vec<f64>,
}

fn traj_out<'a>(
    model: &TeacherMixture,
    tr: &'a Trajectory,
    source: &'static str,
    seed: Option<u64>,
    dim: Option<usize>,
) -> TrajOut<'a> {
    let (eps_plus, eps_minus) = tr.losses(model);
    TrajOut {
        source,
        seed,
        dim,
        diverged_at: tr.diverged_at,
        t: &tr.t,
        m: &tr.m,
        r_plus: &tr.r_plus,
        r_minus: &tr.r_minus,
        q: &tr.q,
        b: &tr.b,
        eps_plus,
        eps_minus,
    }
}

fn emit(text: &str, path: Option<&Path>, what: &str) -> Result<()> {
    match path {
        Some(p) => {
            gdlab_core::io::atomic_write(p, text.as_bytes())
                .with_context(|| format!("writing {}", p.display()))?;
            out(&format!("wrote {what} to {}\n", p.display()))?;
        }
        None => out(text)?,
    }
    Ok(())
}

fn teacher_mixture(a: &TmArgs) -> Result<Outcome> {
    let file: TmFile = match &a.config {
        Some(p) => read_json(p)?,
        None => TmFile::default(),
    };
    let cfg = model_config(a.preset.config(), file.model, &a.model, a.config.as_deref())?;
    let model = cfg.build()?;
    let t_max = positive("t_max", a.t_max.or(file.t_max).unwrap_or(20.0))?;
    let record_dt = positive("record_dt", a.record_dt.or(file.record_dt).unwrap_or(0.25))?;
    if t_max / record_dt > MAX_RECORDS {
        bail!(
            "`t_max / record_dt` must be ≤ {MAX_RECORDS}, got {}",
            t_max / record_dt
        );
    }
    let simulate = a.simulate.or(file.simulate);
    if let Some(n) = simulate {
        if n < 3 {
            bail!("`simulate` (dimension N) must be in [3, ∞), got {n}");
        }
    }
    let seeds = a.seeds.or(file.seeds).unwrap_or(1);
    if seeds == 0 {
        bail!("`seeds` must be in [1, ∞), got 0");
    }
    let seed = Seed(a.seed.or(file.seed).unwrap_or(0));
    let n_rec = (t_max / record_dt).floor() as usize;
    let mut times: Vec<f64> = (0..=n_rec).map(|i| i as f64 * record_dt).collect();
    if times.last().is_some_and(|&t| t < t_max - 1e-9 * t_max) {
        times.push(t_max);
    }
    let integrator = match a.integrator {
        IntegratorArg::Dopri => Integrator::default(),
        IntegratorArg::Rk4 => Integrator::Rk4 { dt: 0.01 },
    };
    let ode = solve(&model, OrderParams::initial(cfg.q0), &times, integrator)?;
    let sims = match simulate {
        Some(n) => simulate_seeds(&model, n, &times, seed, seeds)?,
        None => Vec::new(),
    };
    let mut trajs = vec![traj_out(&model, &ode, "ode", None, None)];
    for (i, s) in sims.iter().enumerate() {
        trajs.push(traj_out(&model, s, "sim", Some(i as u64), simulate));
    }
    let text = if a.json {
        let j = serde_json::json!({
            "model": cfg,
            "integrator": integrator,
            "critical_learning_rate": model.critical_learning_rate(),
            "tau_m": model.tau_m(), "tau_r": model.tau_r(), "tau_q": model.tau_q(),
            "root_seed": seed.0,
            "trajectories": trajs,
        });
        serde_json::to_string_pretty(&j)? + "\n"
    } else {
        let mut s = String::from("source,seed,t,M,R_plus,R_minus,Q,b,eps_plus,eps_minus\n");
        for tr in &trajs {
            let seed = tr.seed.map_or_else(String::new, |v| v.to_string());
            for i in 0..tr.t.len() {
                s += &format!(
                    "{},{seed},{:?},{:?},{:?},{:?},{:?},{:?},{:?},{:?}\n",
                    tr.source,
                    tr.t[i],
                    tr.m[i],
                    tr.r_plus[i],
                    tr.r_minus[i],
                    tr.q[i],
                    tr.b[i],
                    tr.eps_plus[i],
                    tr.eps_minus[i]
                );
            }
        }
        s
    };
    emit(&text, a.out.as_deref(), "trajectories")?;
    for tr in &trajs {
        if let Some(t) = tr.diverged_at {
            eprintln!(
                "diverged: {}{} left the finite range at t = {t}; its records stop there (η_c = {})",
                tr.source,
                tr.seed.map_or_else(String::new, |s| format!(" seed {s}")),
                model.critical_learning_rate()
            );
        }
    }
    Ok(Outcome::Ok)
}

/// `--config` file of `phase-diagram` (JSON; every key optional, unknown keys rejected).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PdFile {
    model: Option<serde_json::Value>,
    rho_min: Option<f64>,
    rho_max: Option<f64>,
    n_rho: Option<usize>,
    ratio_min: Option<f64>,
    ratio_max: Option<f64>,
    n_ratio: Option<usize>,
    t_from: Option<f64>,
    horizon_tau_r: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PdArgs {
    /// JSON file: `{"model": {...}, "rho_min": 0.02, "rho_max": 0.98, "n_rho": 49,
    /// "ratio_min": 0.1, "ratio_max": 30, "n_ratio": 60, "t_from": 0.5,
    /// "horizon_tau_r": 60}` (all optional; flags override it). The model's `rho` and
    /// `delta_minus` are replaced by the grid.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    model: ModelFlags,
    /// Smallest ρ (in (0, 1)). Default 0.02.
    #[arg(long, allow_negative_numbers = true)]
    rho_min: Option<f64>,
    /// Largest ρ. Default 0.98.
    #[arg(long, allow_negative_numbers = true)]
    rho_max: Option<f64>,
    /// Number of ρ values (linear). Default 49.
    #[arg(long)]
    n_rho: Option<usize>,
    /// Smallest Δ−/Δ+ (> 0). Default 0.1.
    #[arg(long, allow_negative_numbers = true)]
    ratio_min: Option<f64>,
    /// Largest Δ−/Δ+. Default 30.
    #[arg(long, allow_negative_numbers = true)]
    ratio_max: Option<f64>,
    /// Number of Δ−/Δ+ values (log-spaced). Default 60.
    #[arg(long)]
    n_ratio: Option<usize>,
    /// Start of the crossing search (≥ 0). Default 0.5.
    #[arg(long, allow_negative_numbers = true)]
    t_from: Option<f64>,
    /// End of the search in units of τ_R (> 0). Default 60.
    #[arg(long, allow_negative_numbers = true)]
    horizon_tau_r: Option<f64>,
    /// Output folder for `phase_diagram.csv` (or `.json`) and `phase_diagram.svg`.
    #[arg(long, default_value = "gdlab-out/phase-diagram")]
    out_dir: PathBuf,
    /// Write the grid as JSON instead of CSV.
    #[arg(long)]
    json: bool,
}

/// Largest grid one command sweeps.
const MAX_CELLS: usize = 250_000;

fn phase(a: &PdArgs) -> Result<Outcome> {
    let file: PdFile = match &a.config {
        Some(p) => read_json(p)?,
        None => PdFile::default(),
    };
    // Default base: paper Fig. 3b (v = 0, Δ+ = 1, T± = 0.9, η = 0.1).
    let preset = PhaseDiagramConfig::paper_fig3b(0.1, 1, 1).base;
    let base = model_config(preset, file.model, &a.model, a.config.as_deref())?;
    base.build()?;
    let rho_min = a.rho_min.or(file.rho_min).unwrap_or(0.02);
    let rho_max = a.rho_max.or(file.rho_max).unwrap_or(0.98);
    for (name, v) in [("rho_min", rho_min), ("rho_max", rho_max)] {
        if !(v > 0.0 && v < 1.0) {
            bail!("`{name}` must be in (0, 1), got {v}");
        }
    }
    let ratio_min = positive("ratio_min", a.ratio_min.or(file.ratio_min).unwrap_or(0.1))?;
    let ratio_max = positive("ratio_max", a.ratio_max.or(file.ratio_max).unwrap_or(30.0))?;
    let n_rho = a.n_rho.or(file.n_rho).unwrap_or(49);
    let n_ratio = a.n_ratio.or(file.n_ratio).unwrap_or(60);
    if n_rho == 0 || n_ratio == 0 || n_rho * n_ratio > MAX_CELLS {
        bail!("`n_rho` and `n_ratio` must be ≥ 1 with n_rho·n_ratio ≤ {MAX_CELLS}, got {n_rho} and {n_ratio}");
    }
    let pcfg = PhaseDiagramConfig {
        base,
        rhos: linspace(rho_min, rho_max, n_rho),
        delta_ratios: logspace(ratio_min, ratio_max, n_ratio),
        t_from: a.t_from.or(file.t_from).unwrap_or(0.5),
        horizon_tau_r: a.horizon_tau_r.or(file.horizon_tau_r).unwrap_or(60.0),
    };
    let d = phase_diagram(&pcfg)?;
    let eta = pcfg.base.learning_rate;
    let svg = gdlab_studies::bias_in_motion::phase_heat_map("phase_diagram", &d, eta)
        .render_svg()
        .context("drawing the heat map")?;
    let grid_text = if a.json {
        serde_json::to_string_pretty(&serde_json::json!({
            "config": pcfg,
            "counts": Phase::ALL.iter().zip(d.counts()).map(|(p, c)| (p.label(), c)).collect::<std::collections::BTreeMap<_, _>>(),
            "cells": d.cells,
        }))? + "\n"
    } else {
        let mut s = String::from(
            "rho,delta_ratio,phase,phase_code,n_crossings,first_crossing,initial_rate_plus,initial_rate_minus,final_gap,critical_learning_rate\n",
        );
        let opt = |v: Option<f64>| v.map_or_else(String::new, |x| format!("{x:?}"));
        for c in &d.cells {
            s += &format!(
                "{:?},{:?},{},{},{},{},{:?},{:?},{},{:?}\n",
                c.rho,
                c.delta_ratio,
                c.phase.label(),
                c.phase.code(),
                c.n_crossings,
                opt(c.first_crossing),
                c.initial_rates[0],
                c.initial_rates[1],
                opt(c.final_gap),
                c.critical_learning_rate
            );
        }
        s
    };
    std::fs::create_dir_all(&a.out_dir)
        .with_context(|| format!("creating {}", a.out_dir.display()))?;
    let grid_path = a.out_dir.join(if a.json {
        "phase_diagram.json"
    } else {
        "phase_diagram.csv"
    });
    let svg_path = a.out_dir.join("phase_diagram.svg");
    for (p, bytes) in [
        (&grid_path, grid_text.as_bytes()),
        (&svg_path, svg.as_bytes()),
    ] {
        gdlab_core::io::atomic_write(p, bytes)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let counts = d.counts();
    let mut text = format!(
        "phase diagram η = {eta}: {} × {} cells\n",
        d.rhos.len(),
        d.delta_ratios.len()
    );
    for (p, c) in Phase::ALL.iter().zip(counts) {
        text += &format!("  {:<14} {c}\n", p.label());
    }
    text += &format!("wrote {} and {}\n", grid_path.display(), svg_path.display());
    out(&text)?;
    Ok(Outcome::Ok)
}

pub(crate) fn dispatch(cmd: DynamicsCmd) -> Result<Outcome> {
    match cmd {
        DynamicsCmd::TeacherMixture(a) => teacher_mixture(&a),
        DynamicsCmd::PhaseDiagram(a) => phase(&a),
    }
}
