//! Sizes of the `bias-in-motion` study (spec §5).

use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Dimension N of the configuration-A simulations (spec §5 Quick: 2000).
    pub dim: usize,
    /// Seeds of the configuration-A and configuration-B simulations (spec: 3).
    pub n_seeds: usize,
    /// Simulated horizon for configuration A (spec: t ≤ 20).
    pub t_max_sim: f64,
    /// Spacing of the simulation records (0.05; the agreement check reads every 0.25).
    pub record_dt: f64,
    /// Dimension N of configuration B (spec §5 check 6: 2000).
    pub dim_b: usize,
    /// Phase-diagram strides `(ρ, Δ_−)` through the spec's 49 × 60 grid of paper Fig. 3b
    /// (Quick: every 6th ρ and 5th Δ_−, a 9 × 12 sub-grid; Full: 1, 1 = the whole grid).
    pub phase_strides: (usize, usize),
    /// Learning rates of the phase diagrams (Quick: 0.1; Full: 0.1 and 0.5).
    pub phase_etas: Vec<f64>,
    /// Full only: dimensions of the deviation-vs-N scan (spec: 1000, 2000, 5000, 10000).
    pub scaling_dims: Vec<usize>,
    /// Full only: seeds per dimension of the scan (spec: 10).
    pub scaling_seeds: usize,
    /// Full only: the spurious-feature run (paper Fig. 2 configuration at N = 2000).
    pub spurious: bool,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        let quick = Config {
            dim: 2000,
            n_seeds: 3,
            t_max_sim: 20.0,
            record_dt: 0.05,
            dim_b: 2000,
            phase_strides: (6, 5),
            phase_etas: vec![0.1],
            scaling_dims: vec![],
            scaling_seeds: 0,
            spurious: false,
        };
        match mode {
            Mode::Quick => quick,
            Mode::Full => Config {
                phase_strides: (1, 1),
                phase_etas: vec![0.1, 0.5],
                scaling_dims: vec![1000, 2000, 5000, 10000],
                scaling_seeds: 10,
                spurious: true,
                ..quick
            },
        }
    }
}
