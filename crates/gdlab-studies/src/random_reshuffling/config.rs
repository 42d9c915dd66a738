//! Sizes of the `random-reshuffling` study (spec §5).

use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Family sizes `n` for the ‖E_RR‖ table (spec §5 Quick item 4: 4..10; Full: 5..14).
    pub family_ns: Vec<usize>,
    /// Monte Carlo workers `K` for the averaged-model benchmark (Quick 20 000, Full 10⁶).
    pub n_workers: usize,
    /// Epochs `T` of the Monte Carlo run (3 in both modes, spec §5).
    pub mc_epochs: usize,
    /// Epochs of the exact expected-iterate curves (Quick 3, Full 10).
    pub exact_epochs: usize,
    /// Step sizes of the α sweep (0.05..1.95 by 0.05, both modes: it is cheap).
    pub alphas: Vec<f64>,
    /// Sizes `n` of the α sweep and of the small-step check (5..8).
    pub sweep_ns: Vec<usize>,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        let alphas = (1..=39).map(|i| f64::from(i) * 0.05).collect();
        match mode {
            Mode::Quick => Config {
                family_ns: (4..=10).collect(),
                n_workers: 20_000,
                mc_epochs: 3,
                exact_epochs: 3,
                alphas,
                sweep_ns: (5..=8).collect(),
            },
            Mode::Full => Config {
                family_ns: (4..=14).collect(),
                n_workers: 1_000_000,
                mc_epochs: 3,
                exact_epochs: 10,
                alphas,
                sweep_ns: (5..=8).collect(),
            },
        }
    }
}
