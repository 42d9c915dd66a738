//! Sizes of the `wasserstein-mirror` study (spec §5; quick = the spec's study sizes,
//! full = its "full-scale version" where implemented).

use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Part A: dimension `d` (spec: 10).
    pub gaussian_dim: usize,
    /// Part A: number of random targets (quick 5, full 20).
    pub n_targets: usize,
    /// Part A: step size `τ` (spec: 0.01).
    pub gaussian_step_size: f64,
    /// Part A: iterations (spec: 1500).
    pub gaussian_iterations: usize,
    /// Part A: also run the diagonal-target variant `Σ* = diag(50·Unif(0,1))` (full only).
    pub diagonal_variant: bool,
    /// Part B: particles `n` (spec: 100).
    pub n_particles: usize,
    /// Part B: step size (spec: 0.1).
    pub interaction_step_size: f64,
    /// Part B: iterations (spec: 120).
    pub interaction_iterations: usize,
    /// Part B: seeds of `x₀` (quick 1, full 10).
    pub interaction_seeds: usize,
    /// Part B: the isotropic appendix run (K₂ vs K₄ on the isotropic `W`, 100 iterations; full only).
    pub isotropic_appendix: bool,
    /// Part C: source and target sample sizes (quick 500, full 2000).
    pub alignment_n: usize,
    /// Part C: iteration cap.
    pub alignment_max_iterations: usize,
    /// Part C: the discrepancies `D` aligned (quick: energy distance; full: also `SW₂²` and
    /// the Sinkhorn divergence, spec §5 full mode).
    pub alignment_discrepancies: Vec<Discrepancy>,
    /// Part C: the power-norm exponents `a` of PGD (quick: 1.5, spec §5 Part C; full: the grid
    /// {1.25, 1.5, 1.75} of spec §4 item 3 / §5 full mode).
    pub alignment_powers: Vec<f64>,
    /// Part C: fixed random directions of `SW₂²` (our choice; spec silent).
    pub sliced_projections: usize,
    /// Part C: Sinkhorn `ε` (spec §5 full mode: 0.1).
    pub sinkhorn_epsilon: f64,
    /// Part D (Dirichlet MD vs mirror Langevin): seeds (quick 0 = skipped, full 20).
    pub dirichlet_seeds: usize,
    /// Part D: particles (spec: 100).
    pub dirichlet_particles: usize,
    /// Part D: step size (spec: 1e-3).
    pub dirichlet_step_size: f64,
    /// Part D: iterations (spec: 201).
    pub dirichlet_iterations: usize,
}

/// A discrepancy `D(μ, ν)` of the alignment task (spec §4 item 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discrepancy {
    /// Energy distance (Riesz MMD), `F = ½ED`.
    Energy,
    /// Sliced Wasserstein, `F = ½SW₂²`.
    Sliced,
    /// Sinkhorn divergence with cost `‖x − y‖²`, `F = ½S_ε`.
    Sinkhorn,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        let quick = Config {
            gaussian_dim: 10,
            n_targets: 5,
            gaussian_step_size: 0.01,
            gaussian_iterations: 1500,
            diagonal_variant: false,
            n_particles: 100,
            interaction_step_size: 0.1,
            interaction_iterations: 120,
            interaction_seeds: 1,
            isotropic_appendix: false,
            alignment_n: 500,
            alignment_max_iterations: 300,
            alignment_discrepancies: vec![Discrepancy::Energy],
            alignment_powers: vec![1.5],
            sliced_projections: 100,
            sinkhorn_epsilon: 0.1,
            dirichlet_seeds: 0,
            dirichlet_particles: 100,
            dirichlet_step_size: 1e-3,
            dirichlet_iterations: 201,
        };
        match mode {
            Mode::Quick => quick,
            Mode::Full => Config {
                n_targets: 20,
                diagonal_variant: true,
                interaction_seeds: 10,
                isotropic_appendix: true,
                alignment_n: 2000,
                alignment_max_iterations: 500,
                alignment_discrepancies: vec![
                    Discrepancy::Energy,
                    Discrepancy::Sliced,
                    Discrepancy::Sinkhorn,
                ],
                alignment_powers: vec![1.25, 1.5, 1.75],
                dirichlet_seeds: 20,
                ..quick
            },
        }
    }
}
