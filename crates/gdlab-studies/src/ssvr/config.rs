//! Sizes of the `ssvr` study (spec `sign-methods-ssvr.md` §5a quick study, §5b rate check).
//!
//! The §5a comparison is the same in both modes: it *is* the spec's quick study, and
//! shrinking it would change what is checked. Full mode adds the §5b rate check.

use crate::problems::LogisticConfig;
use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The synthetic problem: `n = 2000`, `d = 50`, label noise 0.5, `λ = 0.1` (§5a).
    pub problem: LogisticConfig,
    /// Iterations `T` (6000, §5a).
    pub n_steps: u64,
    /// Minibatch `B` (1, uniform with replacement, §5a).
    pub batch_size: usize,
    /// The step-size grid `η ∈ {1e-4, 3e-4, 1e-3, 3e-3, 1e-2}` (§5a).
    pub learning_rates: Vec<f64>,
    /// The `β` grid of SSVR and SSVR-FS, `{0.1, 0.01}` (§5a).
    pub betas: Vec<f64>,
    /// Seeds the grid is averaged over (2, §5a).
    pub n_tune_seeds: u64,
    /// Fresh seeds the tuned settings are evaluated on (5, §5a).
    pub n_eval_seeds: u64,
    /// Signum's EMA momentum (0.9, §5a).
    pub signum_momentum: f64,
    /// The exact-gradient curves are recorded at every multiple of `T / curve_points`...
    pub curve_points: u64,
    /// ...and at log-spaced steps, this many per decade (plus the final step).
    pub curve_per_decade: u32,
    /// The distributed (majority-vote) part.
    pub distributed: DistributedConfig,
    /// The §5b rate check (full mode only).
    pub rate: Option<RateConfig>,
}

/// Sizes of the distributed part (spec §5a, "optional quick distributed check").
#[derive(Clone, Debug, PartialEq)]
pub struct DistributedConfig {
    /// Worker counts (4 and 8, as the paper's CIFAR-100 runs).
    pub n_workers: Vec<usize>,
    /// Rounds `T` (the centralized `T`).
    pub n_steps: u64,
    /// The step-size grid, tuned on one seed (the centralized grid).
    pub learning_rates: Vec<f64>,
    /// SSVR-MV's `β` (Theorem 3: 1/2).
    pub beta: f64,
    /// `R = radius_factor · G` (Theorem 3: 4).
    pub radius_factor: f64,
    /// SSVR-MV β values tuned next to Theorem 3's 1/2 (spec §5a: "plus a tuned β").
    pub tuned_betas: Vec<f64>,
    /// Horizons `T` of the 3-worker one-dimensional floor example (`η = 1/√T`).
    pub floor_horizons: Vec<u64>,
}

/// Sizes of the §5b rate check.
#[derive(Clone, Debug, PartialEq)]
pub struct RateConfig {
    /// Horizons `T` (10³, 10⁴, 10⁵).
    pub horizons: Vec<u64>,
    /// Seeds per horizon and method.
    pub n_seeds: u64,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        Config {
            problem: LogisticConfig::default(),
            n_steps: 6000,
            batch_size: 1,
            learning_rates: vec![1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
            betas: vec![0.1, 0.01],
            n_tune_seeds: 2,
            n_eval_seeds: 5,
            signum_momentum: 0.9,
            curve_points: 100,
            curve_per_decade: 20,
            distributed: DistributedConfig {
                n_workers: vec![4, 8],
                n_steps: 6000,
                learning_rates: vec![1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
                beta: 0.5,
                radius_factor: 4.0,
                tuned_betas: vec![0.1, 0.01],
                floor_horizons: match mode {
                    Mode::Quick => vec![1_000, 10_000, 100_000],
                    Mode::Full => vec![1_000, 10_000, 100_000, 1_000_000],
                },
            },
            rate: match mode {
                Mode::Quick => None,
                Mode::Full => Some(RateConfig {
                    horizons: vec![1_000, 10_000, 100_000],
                    n_seeds: 3,
                }),
            },
        }
    }
}
