//! Sizes of the `bsr` study (spec §7.1 quick, §7.2 full).

use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Workload parameters `(α, β)` of the factorization grid (spec §7.1 item 2).
    pub grid: Vec<(f64, f64)>,
    /// Minimum separation `b` of the multi-participation grid (spec: 100); `k = n/b`.
    pub min_sep: usize,
    /// Sizes `n` with multiple participations (quick: 200..2000; full adds 10⁴, 3·10⁴, 10⁵).
    pub multi_ns: Vec<usize>,
    /// Sizes `n` with single participation (quick: 100..2000; full adds 10⁴, 3·10⁴, 10⁵).
    pub single_ns: Vec<usize>,
    /// Largest `n` whose lower bound is computed (dense SVD; quick 1000 as in the spec).
    pub lower_bound_max_n: usize,
    /// AOF workloads (spec §7.1 item 3: (1,0) and (1,0.9)).
    pub aof_grid: Vec<(f64, f64)>,
    /// AOF single-participation sizes (spec: 100, 200).
    pub aof_single_ns: Vec<usize>,
    /// AOF multi-participation sizes (spec: 200, 400; full adds 800).
    pub aof_multi_ns: Vec<usize>,
    /// AOF iteration cap (spec: 3000; quick 600 — see the report note).
    pub aof_iters: usize,
    /// AOF wall-clock cap per instance in seconds (spec: 10 s; quick uses 60 s as a safety
    /// net so that the iteration cap, which is reproducible, is what binds).
    pub aof_seconds: f64,
    /// Repetitions of the BSR factorization for its timing.
    pub bsr_timing_reps: usize,
    /// Training: examples, features, batch size, epochs, seeds (spec §7.1 Part B).
    pub n_examples: usize,
    /// Features `d` (the model has `d + 1` parameters).
    pub dim: usize,
    /// Batch size (100 ⇒ `b = 80` steps per epoch on 8000 training examples).
    pub batch_size: usize,
    /// Epochs `k`.
    pub epochs: usize,
    /// Seeds of the final runs.
    pub seeds: usize,
    /// Learning-rate grid (the paper's, spec §6.2/§7.1).
    pub learning_rates: Vec<f64>,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        let base = Config {
            grid: vec![(1.0, 0.0), (0.999, 0.0), (1.0, 0.9), (0.999, 0.9)],
            min_sep: 100,
            multi_ns: vec![200, 500, 1000, 2000],
            single_ns: vec![100, 500, 1000, 2000],
            lower_bound_max_n: 1000,
            aof_grid: vec![(1.0, 0.0), (1.0, 0.9)],
            aof_single_ns: vec![100, 200],
            aof_multi_ns: vec![200, 400],
            aof_iters: 600,
            aof_seconds: 60.0,
            bsr_timing_reps: 50,
            n_examples: 10_000,
            dim: 20,
            batch_size: 100,
            epochs: 5,
            seeds: 5,
            learning_rates: vec![0.01, 0.05, 0.1, 0.5, 1.0],
        };
        match mode {
            Mode::Quick => base,
            Mode::Full => Config {
                multi_ns: vec![200, 500, 1000, 2000, 10_000, 30_000, 100_000],
                single_ns: vec![100, 500, 1000, 2000, 10_000, 30_000, 100_000],
                lower_bound_max_n: 2000,
                aof_multi_ns: vec![200, 400, 800],
                aof_iters: 3000,
                aof_seconds: 10.0,
                ..base
            },
        }
    }
}
