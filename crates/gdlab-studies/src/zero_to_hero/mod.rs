//! Study `zero-to-hero`: I. Sobol, C. Xu & O. Litany, "Zero-to-Hero: Enhancing Zero-Shot
//! Novel View Synthesis via Attention Map Filtering", NeurIPS 2024 (spec
//! `papers/zero-to-hero-attention-filtering.md`, §4.3 "Turntable-Blobs").
//!
//! A tiny view-conditioned U-ViT (conditioned like Zero-1-to-3: source-patch concatenation
//! and a single-token pose cross-attention) is trained in-project on procedural sphere
//! scenes; seven sampling configurations (uniform DDIM-25 / 66, Hourglass-26, with
//! resampling, with attention-map filtering, with early mutual self-attention =
//! Zero-to-Hero, and the GT-map oracle) generate 64 held-out target views × 3 seeds from shared initial noise, scored
//! by PSNR and foreground IoU with paired bootstrap confidence intervals.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the thresholds,
//! each a `const` citing its source), `image` (the PNG grid).

pub mod config;
mod image;
mod run;

use crate::report::Report;
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `zero-to-hero` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct ZeroToHero;

impl Study for ZeroToHero {
    fn id(&self) -> &'static str {
        "zero-to-hero"
    }
    fn title(&self) -> &'static str {
        "Test-time attention-map filtering for novel view synthesis (Turntable-Blobs)"
    }
    fn paper(&self) -> &'static str {
        "I. Sobol, C. Xu, O. Litany, \"Zero-to-Hero: Enhancing Zero-Shot Novel View Synthesis via Attention Map Filtering\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "resampling with min-pooled, history-blended self-attention maps plus early mutual self-attention improves view synthesis over the plain sampler, and more plain steps do not"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}

impl From<gdlab_diffusion::DiffusionError> for StudyError {
    fn from(e: gdlab_diffusion::DiffusionError) -> Self {
        StudyError::Component {
            component: "gdlab-diffusion",
            message: e.to_string(),
        }
    }
}

impl From<candle_core::Error> for StudyError {
    fn from(e: candle_core::Error) -> Self {
        StudyError::Component {
            component: "candle",
            message: e.to_string(),
        }
    }
}
