//! Sizes of the `quantum-comm` study (spec §5.1 quick; §5.2 full).

use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Check 1: register sizes of the dense-matrix cross-check (spec: n ∈ {2, 3, 4}).
    pub dense_qubits: Vec<usize>,
    /// Layers of checks 1 and 2 (spec: L = 3).
    pub n_layers: usize,
    /// Check 2: qubits of the gradient check (spec: n = 6, P = 64 per layer).
    pub grad_qubits: usize,
    /// Check 3: qubits of the shot-noise check (spec: n = 8).
    pub shot_qubits: usize,
    /// Check 3: shot counts (spec: 250, 1000, 4000).
    pub shots: Vec<u64>,
    /// Check 3: independent repetitions per shot count (RMSE estimate; its relative
    /// standard error is ≈ 1/√(2·reps)).
    pub shot_reps: usize,
    /// Check 4: table range n = 4..=20 (N = 2⁴…2²⁰).
    pub table_qubits: std::ops::RangeInclusive<u32>,
    /// Check 4: layers of the table (spec example: L = 2).
    pub table_layers: u64,
    /// Check 4: ε, δ (spec example 0.05, 0.05) and bits per real b = 32.
    pub eps: f64,
    /// δ.
    pub delta: f64,
    /// b.
    pub bits_per_real: u64,
    /// Check 5: dimensions N = 2^6, 2^10, 2^14.
    pub sketch_qubits: Vec<u32>,
    /// Check 5: sketch bits k = 2048 (the same for every N).
    pub sketch_bits: usize,
    /// Check 5: trials per N (200).
    pub sketch_trials: usize,
    /// §2.4: qubits 1..=4 and layers 1..=4 of the frequency count.
    pub expressivity_qubits: Vec<usize>,
    /// §2.4 layers.
    pub expressivity_layers: Vec<usize>,
    /// Part B seeds (3).
    pub gnn_seeds: usize,
    /// Part B: hops R = 2.
    pub gnn_hops: usize,
    /// Part B: hidden 64.
    pub gnn_hidden: usize,
    /// Part B: Adam lr 0.01.
    pub gnn_learning_rate: f64,
    /// Part B: 200 epochs.
    pub gnn_epochs: usize,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        let quick = Config {
            dense_qubits: vec![2, 3, 4],
            n_layers: 3,
            grad_qubits: 6,
            shot_qubits: 8,
            shots: vec![250, 1000, 4000],
            shot_reps: 400,
            table_qubits: 4..=20,
            table_layers: 2,
            eps: 0.05,
            delta: 0.05,
            bits_per_real: 32,
            sketch_qubits: vec![6, 10, 14],
            sketch_bits: 2048,
            sketch_trials: 200,
            expressivity_qubits: vec![1, 2, 3, 4],
            expressivity_layers: vec![1, 2, 3, 4],
            gnn_seeds: 3,
            gnn_hops: 2,
            gnn_hidden: 64,
            gnn_learning_rate: 0.01,
            gnn_epochs: 200,
        };
        match mode {
            Mode::Quick => quick,
            // Full mode: more repetitions and seeds on the synthetic parts, plus the
            // user-supplied datasets of spec §5.2 (read from environment variables).
            Mode::Full => Config {
                shot_reps: 2000,
                sketch_trials: 1000,
                gnn_seeds: 10,
                ..quick
            },
        }
    }
}
