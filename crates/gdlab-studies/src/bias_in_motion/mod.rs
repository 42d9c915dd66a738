//! Study `bias-in-motion`: A. Jain, R. Nobahari, A. Baratin, S. Sarao Mannelli, "Bias in
//! Motion: Theoretical Insights into the Dynamics of Bias in SGD Training", NeurIPS 2024
//! (spec `papers/bias-in-motion.md`).
//!
//! Online SGD of a linear student on a two-group teacher mixture is described, as N → ∞,
//! by four order-parameter ODEs. The study integrates them (`gdlab-dynamics`), compares
//! them with simulated SGD at N = 2000, and checks the paper's bias dynamics on the spec's
//! configuration A: the high-variance group is learned first, the majority group wins
//! later, with exactly one crossing at t* ≈ 10.1; plus the extension configuration B and
//! the divergence threshold η_c = 2Δmix/Δ2mix.
//!
//! Layout: [`config`] (sizes for Quick/Full), `run` (the experiment and the checks, whose
//! thresholds are the `const`s at its top, each citing spec §5).

pub mod config;
mod run;

use gdlab_dynamics::phase::{Phase, PhaseDiagram};

use crate::report::{HeatMap, Report};
use crate::study::{RunOpts, Study, StudyError};
use crate::verdict::Verdict;

/// The `bias-in-motion` study.
#[derive(Clone, Copy, Debug, Default)]
pub struct BiasInMotion;

impl From<gdlab_dynamics::DynamicsError> for StudyError {
    fn from(e: gdlab_dynamics::DynamicsError) -> Self {
        StudyError::Component {
            component: "gdlab-dynamics",
            message: e.to_string(),
        }
    }
}

impl Study for BiasInMotion {
    fn id(&self) -> &'static str {
        "bias-in-motion"
    }
    fn title(&self) -> &'static str {
        "Bias in motion: order-parameter ODEs vs online SGD on the teacher-mixture model"
    }
    fn paper(&self) -> &'static str {
        "A. Jain, R. Nobahari, A. Baratin, S. Sarao Mannelli, \"Bias in Motion: Theoretical Insights into the Dynamics of Bias in SGD Training\", NeurIPS 2024"
    }
    fn claim(&self) -> &'static str {
        "the ODEs track high-dimensional SGD, and the preferred group changes during training: the high-variance group first, the better-represented group later (one crossing at t* ≈ 10 on configuration A)"
    }
    fn run(&self, opts: &RunOpts, report: &mut Report) -> Result<Verdict, StudyError> {
        run::run(&config::Config::for_mode(opts.mode), opts, report)
    }
}

/// The heat map of a phase diagram (colours as paper Fig. 3b: dark blue/red = the same group
/// preferred throughout, light = a crossing towards that group, white = diverged), used by
/// the study and by `gdlab dynamics phase-diagram`.
///
/// # Examples
/// ```
/// use gdlab_dynamics::phase::{phase_diagram, PhaseDiagramConfig};
/// let d = phase_diagram(&PhaseDiagramConfig::paper_fig3b(0.1, 2, 3)).unwrap();
/// let hm = gdlab_studies::bias_in_motion::phase_heat_map("p", &d, 0.1);
/// assert!(hm.render_svg().unwrap().contains("<svg"));
/// ```
#[must_use]
pub fn phase_heat_map(name: &str, d: &PhaseDiagram, eta: f64) -> HeatMap {
    let colours = [
        (0x1f, 0x4e, 0x9a), // always +: dark blue
        (0xb2, 0x18, 0x2b), // always −: dark red
        (0x92, 0xc5, 0xde), // crossing → +: light blue
        (0xf4, 0xa5, 0x82), // crossing → −: light red
        (0xf7, 0xf7, 0xf7), // diverged: white
    ];
    let mut hm = HeatMap::new(
        name,
        &format!("Preferred group over (ρ, Δ−/Δ+), η = {eta}"),
        "ρ (fraction of group +)",
        "Δ−/Δ+ (log-spaced)",
    )
    .with_grid(
        d.rhos.clone(),
        d.delta_ratios.clone(),
        d.cells.iter().map(|c| c.phase.code() as usize).collect(),
    );
    for (p, c) in Phase::ALL.iter().zip(colours) {
        hm = hm.with_category(p.label(), c);
    }
    hm.with_caption(format!(
        "η = {eta}. Dark = the same group is preferred throughout the search window; light = \
         a crossing, coloured by the group preferred at the end; white = diverged \
         (η ≥ η_c = 2Δmix/Δ2mix)."
    ))
}
