//! Phase diagrams of bias over (ρ, Δ_−/Δ_+) (spec §5 Full, paper Fig. 3b / Fig. 8).
//!
//! Each cell integrates the order-parameter ODE from the spec's initial condition and
//! follows the loss gap `ε_+(t) − ε_−(t)` at every accepted step (step bounded by τ_R/20)
//! on `[t_from, horizon·τ_R]`. Classes: `always +` / `always −` (no sign change; the
//! group with the lower loss throughout), `crossing → +` / `crossing → −` (at least one
//! sign change; the group preferred at the end), `diverged` (η ≥ η_c = 2Δmix/Δ2mix, paper
//! App. E.1, or the ODE blew up).
//!
//! Conventions (the spec's choices): crossings are counted from `t_from = 0.5` (with
//! `Q0 > 0` both losses start at `1 + Δ_c·Q0`, which gives a trivial sign change at
//! t ≈ 0.003, spec §7) up to `60·τ_R` (spec §5 Full).

use std::ops::ControlFlow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DynamicsError, Result};
use crate::integrate::DormandPrince;
use crate::model::{TeacherMixture, TeacherMixtureConfig};
use crate::ode::{group_losses, loss_rates, OrderParamOde, OrderParams, BLOWUP};
use gdlab_core::ConfigError;

/// The phase of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `ε_+ < ε_−` throughout `[t_from, T]`.
    AlwaysPlus,
    /// `ε_− < ε_+` throughout.
    AlwaysMinus,
    /// The gap changes sign; `+` is preferred at the end.
    CrossingToPlus,
    /// The gap changes sign; `−` is preferred at the end.
    CrossingToMinus,
    /// η ≥ η_c (or the ODE blew up).
    Diverged,
}

impl Phase {
    /// All phases in a fixed order (for counts and legends).
    pub const ALL: [Phase; 5] = [
        Phase::AlwaysPlus,
        Phase::AlwaysMinus,
        Phase::CrossingToPlus,
        Phase::CrossingToMinus,
        Phase::Diverged,
    ];
    /// A short label: `always +`, `always −`, `crossing → +`, `crossing → −`, `diverged`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Phase::AlwaysPlus => "always +",
            Phase::AlwaysMinus => "always −",
            Phase::CrossingToPlus => "crossing → +",
            Phase::CrossingToMinus => "crossing → −",
            Phase::Diverged => "diverged",
        }
    }
    /// A numeric code 0..4 in the order of [`Phase::ALL`] (for CSV).
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Phase::AlwaysPlus => 0,
            Phase::AlwaysMinus => 1,
            Phase::CrossingToPlus => 2,
            Phase::CrossingToMinus => 3,
            Phase::Diverged => 4,
        }
    }
}

/// One classified cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseCell {
    /// ρ.
    pub rho: f64,
    /// Δ_−/Δ_+.
    pub delta_ratio: f64,
    /// The class.
    pub phase: Phase,
    /// Sign changes of the gap on `[t_from, T]`.
    pub n_crossings: usize,
    /// The first one (linear interpolation between accepted steps).
    pub first_crossing: Option<f64>,
    /// `dε_+/dt, dε_−/dt` at t = 0 (spec §2.5; positive = quasi-divergent).
    pub initial_rates: [f64; 2],
    /// `ε_+ − ε_−` at the end (None when diverged).
    pub final_gap: Option<f64>,
    /// η_c of the cell.
    pub critical_learning_rate: f64,
}

/// Grid and horizon of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseDiagramConfig {
    /// Every other parameter (its `rho` and `delta_minus` are replaced per cell by
    /// `rho` and `delta_ratio·delta_plus`).
    pub base: TeacherMixtureConfig,
    /// ρ values, each in (0, 1).
    pub rhos: Vec<f64>,
    /// Δ_−/Δ_+ values, each > 0.
    pub delta_ratios: Vec<f64>,
    /// Start of the crossing search (spec: 0.5).
    pub t_from: f64,
    /// End of the search in units of τ_R (spec: 60).
    pub horizon_tau_r: f64,
}

impl PhaseDiagramConfig {
    /// The paper's Fig. 3b settings (v = 0, Δ_+ = 1, T_± = 0.9, η as given) on an
    /// `n_rho × n_delta` grid: ρ ∈ [0.02, 0.98] linear, Δ_− ∈ [0.1, 30] log-spaced
    /// (spec §5 Full: 49 × 60).
    #[must_use]
    pub fn paper_fig3b(learning_rate: f64, n_rho: usize, n_delta: usize) -> Self {
        PhaseDiagramConfig {
            base: TeacherMixtureConfig {
                delta_plus: 1.0,
                teacher_overlap: 0.9,
                learning_rate,
                ..TeacherMixtureConfig::config_a()
            },
            rhos: linspace(0.02, 0.98, n_rho),
            delta_ratios: logspace(0.1, 30.0, n_delta),
            t_from: 0.5,
            horizon_tau_r: 60.0,
        }
    }
}

impl PhaseDiagramConfig {
    /// Every `rho_stride`-th ρ and `delta_stride`-th Δ_− of the paper's 49 × 60 grid
    /// ([`PhaseDiagramConfig::paper_fig3b`]), so a small diagram's cells are cells of the
    /// spec's reference grid.
    ///
    /// # Examples
    /// ```
    /// use gdlab_dynamics::phase::PhaseDiagramConfig;
    /// let c = PhaseDiagramConfig::paper_fig3b_subgrid(0.1, 6, 5);
    /// assert_eq!((c.rhos.len(), c.delta_ratios.len()), (9, 12));
    /// ```
    #[must_use]
    pub fn paper_fig3b_subgrid(learning_rate: f64, rho_stride: usize, delta_stride: usize) -> Self {
        let mut c = Self::paper_fig3b(learning_rate, 49, 60);
        c.rhos = c.rhos.into_iter().step_by(rho_stride.max(1)).collect();
        c.delta_ratios = c
            .delta_ratios
            .into_iter()
            .step_by(delta_stride.max(1))
            .collect();
        c
    }
}

/// `n` evenly spaced values from `a` to `b` (`[a]` when n = 1).
#[must_use]
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => vec![],
        1 => vec![a],
        _ => (0..n)
            .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// `n` log-evenly spaced values from `a` to `b` (both > 0).
#[must_use]
pub fn logspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    linspace(a.ln(), b.ln(), n)
        .into_iter()
        .map(f64::exp)
        .collect()
}

/// Classifies one model (spec §5 Full).
///
/// # Errors
/// [`DynamicsError`] from the integrator other than a blow-up (which is `Diverged`).
///
/// # Examples
/// ```
/// use gdlab_dynamics::model::TeacherMixtureConfig;
/// use gdlab_dynamics::phase::{classify, Phase};
/// let a = TeacherMixtureConfig::default().build().unwrap(); // configuration A: t* = 10.08
/// let cell = classify(&a, 0.5, 60.0).unwrap();
/// assert_eq!(cell.phase, Phase::CrossingToPlus);
/// assert!((cell.first_crossing.unwrap() - 10.08).abs() < 0.02);
/// ```
pub fn classify(model: &TeacherMixture, t_from: f64, horizon_tau_r: f64) -> Result<PhaseCell> {
    let cfg = model.config();
    let init = OrderParams::initial(cfg.q0);
    let mut cell = PhaseCell {
        rho: cfg.rho,
        delta_ratio: cfg.delta_minus / cfg.delta_plus,
        phase: Phase::Diverged,
        n_crossings: 0,
        first_crossing: None,
        initial_rates: loss_rates(model, &init),
        final_gap: None,
        critical_learning_rate: model.critical_learning_rate(),
    };
    if model.diverges() {
        return Ok(cell);
    }
    let t_end = (horizon_tau_r * model.tau_r()).max(t_from);
    let sys = OrderParamOde::new(model);
    let dp = DormandPrince {
        rtol: 1e-9,
        atol: 1e-12,
        h_max: model.tau_r() / 20.0,
        max_steps: 2_000_000,
    };
    let mut prev: Option<(f64, f64)> = None;
    let mut crossings = Vec::new();
    let mut blew_up = false;
    let mut last_gap = None;
    let res = dp.solve(&sys, 0.0, &init.to_array(), &[t_from, t_end], |t, y| {
        if y.iter().any(|v| !v.is_finite() || v.abs() > BLOWUP) {
            blew_up = true;
            return ControlFlow::Break(());
        }
        if t >= t_from {
            let [ep, em] = group_losses(model, &OrderParams::from_slice(y));
            let gap = ep - em;
            if let Some((tp, gp)) = prev {
                if gap != 0.0 && gp != 0.0 && (gap > 0.0) != (gp > 0.0) {
                    crossings.push(tp + (t - tp) * gp / (gp - gap));
                }
            }
            if gap != 0.0 || prev.is_none() {
                prev = Some((t, gap));
            }
            last_gap = Some(gap);
        }
        ControlFlow::Continue(())
    });
    match res {
        Ok(_) => {}
        Err(DynamicsError::StepUnderflow { .. }) => blew_up = true,
        Err(e) => return Err(e),
    }
    if blew_up {
        return Ok(cell);
    }
    let Some(gap) = last_gap else {
        return Err(ConfigError::Invalid {
            field: "t_from".into(),
            reason: "the search window is empty".into(),
        }
        .into());
    };
    cell.n_crossings = crossings.len();
    cell.first_crossing = crossings.first().copied();
    cell.final_gap = Some(gap);
    let plus_wins = gap < 0.0;
    cell.phase = match (crossings.is_empty(), plus_wins) {
        (true, true) => Phase::AlwaysPlus,
        (true, false) => Phase::AlwaysMinus,
        (false, true) => Phase::CrossingToPlus,
        (false, false) => Phase::CrossingToMinus,
    };
    Ok(cell)
}

/// A swept grid: `cells[i·n_delta + j]` is `(rhos[i], delta_ratios[j])`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseDiagram {
    /// ρ axis.
    pub rhos: Vec<f64>,
    /// Δ_−/Δ_+ axis.
    pub delta_ratios: Vec<f64>,
    /// Cells, ρ-major.
    pub cells: Vec<PhaseCell>,
}

impl PhaseDiagram {
    /// Number of cells of each phase, in the order of [`Phase::ALL`].
    #[must_use]
    pub fn counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
        for cell in &self.cells {
            c[cell.phase.code() as usize] += 1;
        }
        c
    }
    /// The cell at `(i_rho, j_delta)`.
    ///
    /// # Panics
    /// If an index is out of range.
    #[must_use]
    pub fn cell(&self, i_rho: usize, j_delta: usize) -> &PhaseCell {
        &self.cells[i_rho * self.delta_ratios.len() + j_delta]
    }
}

/// Sweeps the grid in parallel (cell order and values do not depend on the thread count).
///
/// # Errors
/// [`ConfigError`] naming the field for an empty axis, ρ ∉ (0, 1), a ratio ≤ 0, a bad
/// base configuration, `t_from < 0` or `horizon_tau_r ≤ 0`; integrator errors.
pub fn phase_diagram(cfg: &PhaseDiagramConfig) -> Result<PhaseDiagram> {
    if cfg.rhos.is_empty() || cfg.delta_ratios.is_empty() {
        return Err(ConfigError::Invalid {
            field: "rhos/delta_ratios".into(),
            reason: "both axes need at least one value".into(),
        }
        .into());
    }
    ConfigError::check_non_negative("t_from", cfg.t_from)?;
    ConfigError::check_positive("horizon_tau_r", cfg.horizon_tau_r)?;
    cfg.base.build()?;
    let mut models = Vec::with_capacity(cfg.rhos.len() * cfg.delta_ratios.len());
    for &rho in &cfg.rhos {
        for &ratio in &cfg.delta_ratios {
            ConfigError::check_positive("delta_ratio", ratio)?;
            models.push(
                TeacherMixtureConfig {
                    rho,
                    delta_minus: ratio * cfg.base.delta_plus,
                    ..cfg.base.clone()
                }
                .build()?,
            );
        }
    }
    let cells = models
        .par_iter()
        .map(|m| classify(m, cfg.t_from, cfg.horizon_tau_r))
        .collect::<Result<Vec<_>>>()?;
    Ok(PhaseDiagram {
        rhos: cfg.rhos.clone(),
        delta_ratios: cfg.delta_ratios.clone(),
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_boundary_is_eta_c() {
        let cfg = PhaseDiagramConfig::paper_fig3b(0.1, 5, 12);
        let d = phase_diagram(&cfg).unwrap();
        for c in &d.cells {
            assert_eq!(
                c.phase == Phase::Diverged,
                0.1 >= c.critical_learning_rate,
                "{c:?}"
            );
        }
        let counts = d.counts();
        assert_eq!(counts.iter().sum::<usize>(), 60);
        assert!(counts[4] > 0 && counts[0] + counts[1] > 0);
    }

    /// η → 0: the asymptotic winner follows ρ√Δ_+ vs (1 − ρ)√Δ_− (paper Eq. 16, spec §2.5).
    #[test]
    fn small_eta_winner_follows_eq16() {
        let cfg = PhaseDiagramConfig {
            horizon_tau_r: 40.0,
            ..PhaseDiagramConfig::paper_fig3b(1e-3, 7, 7)
        };
        let d = phase_diagram(&cfg).unwrap();
        for c in &d.cells {
            let lhs = c.rho;
            let rhs = (1.0 - c.rho) * c.delta_ratio.sqrt();
            if (lhs - rhs).abs() < 0.05 * lhs.max(rhs) {
                continue; // too close to the boundary for a finite horizon and η
            }
            let plus = matches!(c.phase, Phase::AlwaysPlus | Phase::CrossingToPlus);
            assert_eq!(plus, lhs > rhs, "{c:?}");
        }
    }

    #[test]
    fn bad_grids_are_errors() {
        let mut cfg = PhaseDiagramConfig::paper_fig3b(0.1, 2, 2);
        cfg.rhos = vec![1.5];
        assert!(phase_diagram(&cfg).unwrap_err().to_string().contains("rho"));
        cfg.rhos = vec![];
        assert!(phase_diagram(&cfg).is_err());
        let mut cfg = PhaseDiagramConfig::paper_fig3b(0.1, 2, 2);
        cfg.delta_ratios = vec![-1.0];
        assert!(phase_diagram(&cfg)
            .unwrap_err()
            .to_string()
            .contains("delta_ratio"));
    }
}
