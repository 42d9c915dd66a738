//! # gdlab-studies
//!
//! Reproduction studies: one command reruns a paper's central experiment on data generated
//! in code, writes a report (Markdown + HTML, SVG plots, CSV, `metrics.json`) and ends with a
//! verdict computed from the run's own numbers.
//!
//! | module | what it holds |
//! |---|---|
//! | [`study`] | the [`Study`] trait, [`Mode`], [`RunOpts`], [`run_study`](study::run_study) |
//! | [`verdict`] | [`Check`], [`CheckKind`], [`Verdict`]: PASS iff every check holds |
//! | [`report`] | [`Report`](report::Report): Markdown, self-contained HTML, SVG line plots, CSV, `metrics.json`, atomic writes |
//! | [`registry`] | every registered study |
//! | [`problems`] | synthetic problems shared by studies (non-convex logistic finite sum, Box–Muller normals) |
//! | [`random_reshuffling`] | De Sa (NeurIPS 2020): random reshuffling is not always better |
//! | [`heavy_tailed`] | Kunstner, Yadav, Milligan, Schmidt & Bietti (NeurIPS 2024): heavy-tailed class imbalance, GD vs Adam and sign descent |
//! | [`ssvr`] | Jiang, Yang, Yang & Zhang (NeurIPS 2024): sign-based optimization with variance reduction |
//! | [`bsr`] | Kalinin & Lampert (NeurIPS 2024): banded square root factorization for DP training |
//! | [`decentralized_sparse`] | Wu & Sun (NeurIPS 2024): implicit regularization of decentralized GD for sparse regression |
//! | [`tail_index`] | Şimşekli, Sener, Deligiannidis & Erdogdu (NeurIPS 2020): tail index / Hausdorff dimension of SGD trajectories vs generalization |
//! | [`quantum_comm`] | Gilboa, Michaeli, Soudry & McClean (NeurIPS 2024): quantum communication advantage in distributed inference and learning |
//! | [`bias_in_motion`] | Jain, Nobahari, Baratin & Sarao Mannelli (NeurIPS 2024): bias dynamics of SGD on the teacher-mixture model |
//! | [`wasserstein_mirror`] | Bonet, Uscidda, David, Aubin-Frankowski & Korba (NeurIPS 2024): mirror and preconditioned gradient descent in Wasserstein space |
//! | [`zero_to_hero`] | Sobol, Xu & Litany (NeurIPS 2024): test-time attention-map filtering for novel view synthesis |
//!
//! ## Example
//!
//! ```
//! use gdlab_studies::{registry, study::{run_study, RunOpts}};
//! let out = std::env::temp_dir().join(format!("gdlab-studies-doc-{}", std::process::id()));
//! let study = registry::find("random-reshuffling").unwrap();
//! let outcome = run_study(study.as_ref(), &RunOpts::default(), &out).unwrap();
//! assert!(outcome.dir.join("metrics.json").exists());
//! assert!(outcome.verdict.checks.iter().all(|c| c.pass || c.kind == gdlab_studies::verdict::CheckKind::Claim));
//! std::fs::remove_dir_all(&out).unwrap();
//! ```

pub mod bias_in_motion;
pub mod bsr;
pub mod decentralized_sparse;
pub mod error;
pub mod heavy_tailed;
pub mod problems;
pub mod quantum_comm;
pub mod random_reshuffling;
pub mod registry;
pub mod report;
pub mod ssvr;
pub mod study;
pub mod tail_index;
pub mod verdict;
pub mod wasserstein_mirror;
pub mod zero_to_hero;

pub use error::ReportError;
pub use study::{Mode, RunOpts, Study, StudyError};
pub use verdict::{Check, CheckKind, Cmp, Verdict};
