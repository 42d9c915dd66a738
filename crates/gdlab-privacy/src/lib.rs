//! # gdlab-privacy
//!
//! Differentially private training with correlated noise: the matrix-factorization
//! mechanism, banded square-root (BSR) factorization and its baselines (Kalinin & Lampert,
//! "Banded Square Root Matrix Factorization for Differentially Private Model Training",
//! NeurIPS 2024; spec `papers/bsr-dp-matrix-factorization.md`).
//!
//! An optimizer whose iterates are a linear function `A X` of the gradient history can be
//! made private by factorizing `A = B C`, releasing `C X + Z` and decoding with `B`; the
//! optimizer then simply receives the gradient plus correlated noise `(C⁻¹Z)_t`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`toeplitz`] | lower-triangular Toeplitz algebra in coefficient space: product, inverse, quotient, square root, banding, `materialize` |
//! | [`workload`] | workloads `A`: prefix sums, momentum + weight decay, custom |
//! | [`strategy`] | identity, `C = A`, full square root, BSR (Theorem 1 closed form / generic recursion), AOF; [`factorize`](strategy::factorize) |
//! | [`aof`] | the approximately optimal factorization (L-BFGS over the Gram matrix, PD-preserving line search) |
//! | [`sensitivity`] | single participation, b-min-separation (Theorem 2, `√k‖c‖`), envelope bound, fixed-epoch, Gram, brute force |
//! | [`metrics`] | `E = ‖B‖_F·sens/√n`, MaxSE, MeanSE, the nuclear-norm lower bound |
//! | [`noise`] | streaming `C⁻¹z` with a ring buffer and the `add_correlated_noise` transform block |
//! | [`clip`] | per-example clipping |
//! | [`accounting`] | σ for (ε, δ): exact analytic Gaussian mechanism and the classical formula |
//!
//! ## Notation (paper symbol ↔ API name)
//!
//! | paper | API |
//! |---|---|
//! | `A` (workload, coefficients `a_m`) | [`Workload`](workload::Workload) |
//! | `C` (strategy) | [`StrategyMatrix`](strategy::StrategyMatrix), `strategy` |
//! | `C⁻¹` (noising) | [`Noising`](noise::Noising) |
//! | `B = A C⁻¹` (decoder) | `Factorization::decoder` |
//! | `α` (weight-decay multiplier), `β` (momentum) | `alpha`, `beta` |
//! | `p` (bandwidth, diagonal included) | `bandwidth` |
//! | `b` (minimum separation), `k` (participations) | `min_sep`, `max_participations` |
//! | `sens_{k,b}(C)` | [`Sensitivity`](sensitivity::Sensitivity) |
//! | `E(B, C)` | [`ErrorMetrics::rmse`](metrics::ErrorMetrics) |
//! | `σ_{ε,δ}` | `noise_multiplier` |
//!
//! ## Example
//!
//! ```
//! use gdlab_privacy::accounting::{calibrate, Calibration};
//! use gdlab_privacy::noise::AddCorrelatedNoise;
//! use gdlab_privacy::sensitivity::Participation;
//! use gdlab_privacy::strategy::{factorize, StrategyKind};
//! use gdlab_privacy::workload::Workload;
//! use gdlab_core::Seed;
//! // SGD with momentum 0.9, 5 epochs of 80 steps: n = 400, b = 80, k = 5.
//! let a = Workload::momentum(1.0, 0.9, 400).unwrap();
//! let part = Participation::min_separation(80, 5, 400).unwrap();
//! let bsr = factorize(&a, StrategyKind::Bsr { bandwidth: 80 }, part, None).unwrap();
//! let id = factorize(&a, StrategyKind::Identity, part, None).unwrap();
//! assert!(bsr.errors.rmse < 0.3 * id.errors.rmse);
//! let sigma = calibrate(4.0, 1e-5, 1.0, Calibration::Analytic).unwrap().noise_multiplier;
//! let noise = AddCorrelatedNoise::for_dp_sgd(
//!     bsr.noising().unwrap(), 1.0, sigma, bsr.sensitivity.value, 100, Seed(0)).unwrap();
//! assert!(noise.std() > 0.0);
//! ```

//! ## Composing with an optimizer (the README's example)
//!
//! ```
//! use gdlab_core::{transform::{StepCtx, Transform, TransformExt}, Seed};
//! use gdlab_optim::{alias::sgd, transform::MomentumConfig};
//! use gdlab_privacy::{accounting::{calibrate, Calibration}, noise::AddCorrelatedNoise,
//!     sensitivity::Participation, strategy::{factorize, StrategyKind}, workload::Workload};
//!
//! // momentum 0.9, 5 epochs of 80 steps: n = 400, b = 80, k = 5; BSR with p = b
//! let a = Workload::momentum(1.0, 0.9, 400)?;
//! let part = Participation::min_separation(80, 5, 400)?;
//! let bsr = factorize(&a, StrategyKind::Bsr { bandwidth: 80 }, part, None)?;
//! let sigma = calibrate(4.0, 1e-5, 1.0, Calibration::Analytic)?.noise_multiplier;
//! let noise = AddCorrelatedNoise::for_dp_sgd(bsr.noising()?, 1.0, sigma, bsr.sensitivity.value, 100, Seed(0))?;
//! let opt = noise.then(sgd(0.05, MomentumConfig { momentum: 0.9, ..Default::default() }, 0.0)?);
//! let theta = vec![0.0_f64; 3];
//! let mut state = opt.init(&theta);
//! let mut g = vec![0.1_f64, -0.2, 0.3]; // clipped, batch-averaged gradient
//! opt.update(&mut g, &mut state, &StepCtx::new(0, &theta))?;
//! assert!(g.iter().all(|x| x.is_finite()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod accounting;
pub mod aof;
pub mod clip;
pub mod error;
pub mod metrics;
pub mod noise;
pub mod sensitivity;
pub mod strategy;
pub mod toeplitz;
pub mod workload;

pub use error::{PrivacyError, Result};
