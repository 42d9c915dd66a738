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
    /// Part C (full mode with a CIFAR-10 directory, spec §5.2): the CIFAR-10 grid.
    pub cifar: CifarConfig,
}

/// One network of the CIFAR-10 grid (spec §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CifarModel {
    /// `VGG{depth}` without batch norm, `depth ∈ {4, 5, 6, 7, 8, 11, 13, 16, 19}`.
    Vgg {
        /// Conv layers + 1.
        depth: usize,
    },
    /// `LeNetFamily(n_convs, n_linear)`.
    LeNet {
        /// 0 or 2.
        n_convs: usize,
        /// Linear layers including the output layer.
        n_linear: usize,
    },
}

impl CifarModel {
    /// `VGG4`, `LeNet(2,4)`, ….
    #[must_use]
    pub fn name(self) -> String {
        match self {
            CifarModel::Vgg { depth } => format!("VGG{depth}"),
            CifarModel::LeNet { n_convs, n_linear } => format!("LeNet({n_convs},{n_linear})"),
        }
    }
}

/// Sizes of Part C, the CIFAR-10 grid (spec §5.2 with the protocol of §2.3).
#[derive(Clone, Debug, PartialEq)]
pub struct CifarConfig {
    /// The networks (default: VGG4–VGG8, the spec's CPU restriction, and the seven LeNet
    /// members of §4).
    pub models: Vec<CifarModel>,
    /// VGG channel counts are divided by this (1 = the paper's widths; tests use a
    /// narrowed network).
    pub vgg_width_divisor: usize,
    /// Step sizes (default {0.01, 0.05}: two values of the spec's default grid; the
    /// paper's grid is unverified, spec §4).
    pub etas: Vec<f64>,
    /// Batch sizes (default {128}: one (η, B) pair per η, the spec's CPU restriction; 391
    /// iterates per epoch, a row of the reference table).
    pub batch_sizes: Vec<usize>,
    /// SGD momentum (spec §2.3: 0.9).
    pub momentum: f64,
    /// Epochs of a VGG run, the last one recorded (spec §2.3: 81).
    pub vgg_epochs: usize,
    /// Epochs of a LeNet run, the last one recorded (spec §2.3: 51).
    pub lenet_epochs: usize,
    /// Use only the first this many training images (default `None`: all 50 000).
    pub n_train: Option<usize>,
    /// Use only the first this many test images (default `None`: all 10 000).
    pub n_test: Option<usize>,
    /// Iterates recorded: max(the final epoch's steps, this) (default 0: the final epoch,
    /// as the paper's code; a small dataset needs more rows than one epoch has).
    pub min_record_steps: usize,
    /// Examples per forward pass when measuring accuracy (the code's test loader: 100).
    pub eval_batch: usize,
}

impl Default for CifarConfig {
    fn default() -> Self {
        let lenet = |n_convs, n_linear| CifarModel::LeNet { n_convs, n_linear };
        CifarConfig {
            models: vec![
                CifarModel::Vgg { depth: 4 },
                CifarModel::Vgg { depth: 5 },
                CifarModel::Vgg { depth: 6 },
                CifarModel::Vgg { depth: 7 },
                CifarModel::Vgg { depth: 8 },
                lenet(0, 8),
                lenet(0, 4),
                lenet(0, 2),
                lenet(2, 8),
                lenet(2, 4),
                lenet(2, 2),
                lenet(2, 1),
            ],
            vgg_width_divisor: 1,
            etas: vec![0.01, 0.05],
            batch_sizes: vec![128],
            momentum: 0.9,
            vgg_epochs: 81,
            lenet_epochs: 51,
            n_train: None,
            n_test: None,
            min_record_steps: 0,
            eval_batch: 100,
        }
    }
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
            cifar: CifarConfig::default(),
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
