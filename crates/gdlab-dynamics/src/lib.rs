//! # gdlab-dynamics
//!
//! ODE integrators and the high-dimensional limit of online SGD on the teacher-mixture
//! model: Jain, Nobahari, Baratin & Sarao Mannelli, "Bias in Motion: Theoretical Insights
//! into the Dynamics of Bias in SGD Training", NeurIPS 2024 (spec
//! `papers/bias-in-motion.md`).
//!
//! | module | what it holds |
//! |---|---|
//! | [`integrate`] | [`OdeSystem`](integrate::OdeSystem), adaptive [`DormandPrince`](integrate::DormandPrince) 5(4) with PI control, fixed-step [`Rk4`](integrate::Rk4) |
//! | [`model`] | [`TeacherMixtureConfig`](model::TeacherMixtureConfig) (serde, unknown keys rejected) → validated [`TeacherMixture`](model::TeacherMixture): α_c, β_c, Δmix, timescales, η_c |
//! | [`ode`] | order-parameter ODEs ([`drift`](ode::drift)), per-group losses ε_c, [`solve`](ode::solve), [`ClosedForm`](ode::ClosedForm), [`sign_changes`](ode::sign_changes) |
//! | [`data`] | the data generator at dimension N (shift, teachers, groups, label noise) |
//! | [`sim`] | online SGD of the linear student, order parameters measured from `w` |
//! | [`phase`] | phase diagrams over (ρ, Δ_−/Δ_+): always +/−, crossing → +/−, diverged |
//! | [`special`] | erf, Φ, Φ⁻¹, Box–Muller normals |
//!
//! ## Notation (spec symbol ↔ API name)
//!
//! | symbol | API name |
//! |---|---|
//! | N (paper: d) | `dim` |
//! | ρ | `rho` |
//! | Δ_± | `delta_plus`, `delta_minus` |
//! | v = ‖v‖²/N | `shift_norm` |
//! | M*_± = w̄_±·v/N | `teacher_shift_plus`, `teacher_shift_minus` |
//! | T_± = w̄_+·w̄_−/N | `teacher_overlap` |
//! | T_++, T_−− (extension) | `teacher_norm_plus`, `teacher_norm_minus` |
//! | p, γ, b (extensions) | `label_noise`, `ridge`, `student_bias` |
//! | η | `learning_rate` |
//! | M, R_±, Q | [`OrderParams`](ode::OrderParams)`::{m, r_plus, r_minus, q}` |
//! | ε_± | [`group_losses`](ode::group_losses) |
//! | t = steps/N | `t` |
//!
//! ## Conventions (the spec's own choices)
//! - Loss `ε_c = E_c[(y − ŷ)²]` without ½ (paper Lemma 3.1); update
//!   `w += (η/√N)(y − ŷ)x` with the paper's η.
//! - Initial condition `M = R_± = 0`, `Q = Q0 = 1e-4` (the paper does not state Q0).
//! - Crossing searches start at t = 0.5: with Q0 > 0 the losses start at `1 + Δ_c·Q0` and
//!   the gap changes sign trivially at t ≈ 0.003.
//! - The paper's typos are corrected as in spec §7 (β_−R_− in dQ/dt; k3 of the closed
//!   form; factor 2 on β_cR_c in ε_c).
//! - Label noise, ridge, student bias and T_cc ≠ 1 are spec extensions (§2.3b).
//!
//! ## Example
//!
//! ```
//! use gdlab_core::Seed;
//! use gdlab_dynamics::model::TeacherMixtureConfig;
//! use gdlab_dynamics::ode::{group_losses, solve, Integrator, OrderParams};
//! use gdlab_dynamics::sim::simulate;
//!
//! let model = TeacherMixtureConfig::default().build()?; // spec configuration A
//! let times = [2.0, 20.0];
//! let ode = solve(&model, OrderParams::initial(1e-4), &times, Integrator::default())?;
//! let [ep, em] = group_losses(&model, &ode.at(0));
//! assert!(em < ep - 0.1); // early: the high-variance group − is learned first
//! let [ep, em] = group_losses(&model, &ode.at(1));
//! assert!(ep < em - 0.1); // late: the majority group + wins
//! let sim = simulate(&model, 500, &times, Seed(0))?;
//! assert!((sim.q[1] - ode.q[1]).abs() < 0.1);
//! # Ok::<(), gdlab_dynamics::DynamicsError>(())
//! ```

pub mod data;
pub mod error;
pub mod integrate;
pub mod model;
pub mod ode;
pub mod phase;
pub mod sim;
pub mod special;

pub use error::{DynamicsError, Result};

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::model::TeacherMixture>();
        check::<crate::model::TeacherMixtureConfig>();
        check::<crate::ode::Trajectory>();
        check::<crate::ode::ClosedForm>();
        check::<crate::data::TeacherMixtureData>();
        check::<crate::sim::OnlineSgd<'static>>();
        check::<crate::phase::PhaseDiagram>();
        check::<crate::integrate::DormandPrince>();
        check::<crate::DynamicsError>();
    }
}
