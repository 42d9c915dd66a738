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
                ..quick
            },
        }
    }
}
