//! Sizes of the `tail-index` study (spec `tail-index-hausdorff.md` §5.1 Quick, §5.2 Full).

use crate::study::Mode;

/// Every size the study uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Part A1: true indices (spec: 1.0, 1.2, 1.5, 1.8, 2.0).
    pub a1_alphas: Vec<f64>,
    /// Part A1: seeds per index (spec: 5).
    pub a1_seeds: usize,
    /// Part A1: samples per seed (spec: K = 10 000).
    pub a1_samples: usize,
    /// Part A1: block sizes (spec: {2, 4, 5, 10, 20, 25, 50}).
    pub a1_k1s: Vec<usize>,
    /// Part A2: true indices (spec: 1.2, 1.5, 1.8).
    pub a2_alphas: Vec<f64>,
    /// Part A2: rows × columns of the i.i.d. matrix (spec: 5000 × 50).
    pub a2_shape: (usize, usize),
    /// Part A2: random directions (spec: 10).
    pub a2_directions: usize,
    /// Part B: input dimension (spec: x ~ N(0, I_20)).
    pub dim: usize,
    /// Part B: training / test examples (spec: 512 / 2048).
    pub n_train: usize,
    /// Part B: test examples.
    pub n_test: usize,
    /// Part B: classes (spec: 4).
    pub n_classes: usize,
    /// Part B: hidden width of the random 2-layer ReLU teacher (the spec does not give
    /// it; the study's choice: 32).
    pub teacher_hidden: usize,
    /// Part B: fraction of training labels flipped (spec: 10%).
    pub label_noise: f64,
    /// Part B: student widths (spec: 20 → 64 → 64 → 4).
    pub student: Vec<usize>,
    /// Part B: step sizes (spec: 0.02, 0.05, 0.1, 0.2).
    pub etas: Vec<f64>,
    /// Part B: batch sizes (spec: 8, 32, 128).
    pub batch_sizes: Vec<usize>,
    /// Part B: momentum (spec: plain SGD, 0; 0.9 is an option).
    pub momentum: f64,
    /// Part B: stop training at this train accuracy (spec: 99%).
    pub target_train_acc: f64,
    /// Part B: epoch budget (spec: 300, "size max_epochs to keep the total under 60 s";
    /// Quick uses 60, see the report).
    pub max_epochs: usize,
    /// Part B: iterates recorded after training: max(one epoch, this many steps) (spec:
    /// 600).
    pub min_record_steps: usize,
}

impl Config {
    /// The sizes for `mode`.
    #[must_use]
    pub fn for_mode(mode: Mode) -> Self {
        let quick = Config {
            a1_alphas: vec![1.0, 1.2, 1.5, 1.8, 2.0],
            a1_seeds: 5,
            a1_samples: 10_000,
            a1_k1s: vec![2, 4, 5, 10, 20, 25, 50],
            a2_alphas: vec![1.2, 1.5, 1.8],
            a2_shape: (5000, 50),
            a2_directions: 10,
            dim: 20,
            n_train: 512,
            n_test: 2048,
            n_classes: 4,
            teacher_hidden: 32,
            label_noise: 0.1,
            student: vec![20, 64, 64, 4],
            etas: vec![0.02, 0.05, 0.1, 0.2],
            batch_sizes: vec![8, 32, 128],
            momentum: 0.0,
            target_train_acc: 0.99,
            max_epochs: 60,
            min_record_steps: 600,
        };
        match mode {
            Mode::Quick => quick,
            Mode::Full => Config {
                max_epochs: 300,
                ..quick
            },
        }
    }
}
