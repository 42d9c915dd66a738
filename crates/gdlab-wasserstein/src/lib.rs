//! # gdlab-wasserstein
//!
//! Optimisation over probability measures on particles and Gaussians: Wasserstein GD,
//! mirror descent (potential- and interaction-type Bregman potentials) and preconditioned
//! GD, after Bonet, Uscidda, David, Aubin-Frankowski & Korba, "Mirror and Preconditioned
//! Gradient Descent in Wasserstein Space" (NeurIPS 2024; spec
//! `papers/wasserstein-mirror-preconditioned.md`).
//!
//! | module | what it holds |
//! |---|---|
//! | [`particles`] | [`Particles`]: `μ̂ = (1/n)Σδ_{xᵢ}` as an `n × d` row-major array |
//! | [`functional`] | the [`Functional`] trait; potential and interaction energies, sums |
//! | [`kernel`] | pair kernels `K₂`, `K₄`, the double well `W`, and their Σ-forms |
//! | [`entropy`] | negative entropy: Gaussian-KDE score (Scott), Kozachenko–Leonenko estimate |
//! | [`discrepancy`] | energy distance (Riesz MMD) and sliced Wasserstein `SW₂²` to a target sample |
//! | [`sinkhorn`] | log-domain Sinkhorn (entropic OT) and the Sinkhorn divergence `S_ε` with its gradient |
//! | [`dirichlet`] | a Dirichlet target on the simplex, `log Γ`, and the mirror Langevin step |
//! | [`mirror`] | mirror maps `∇V`, `∇V*`: Euclidean, linear `P`, ball, entropic simplex, box |
//! | [`scheme`] | GD, mirror descent (explicit and Newton-implicit), preconditioned GD, [`run_flow`](scheme::run_flow) |
//! | [`gaussian`] | Gaussian closed forms: NEM, FB/PFB, WGD/PWGD, KLM/PKLM (diagonal), KL and `W₂` between Gaussians |
//! | [`matrix`] | SPD matrices and symmetric matrix functions through faer's eigendecomposition |
//!
//! ## Notation
//!
//! | paper | API |
//! |---|---|
//! | `xᵢ`, `μ̂` | [`Particles`] rows |
//! | `τ` | `step_size` |
//! | `∇_{W₂}F(μ̂)(xᵢ)` | [`Functional::wgrad`] (row `i`) |
//! | `V`, `∇V`, `∇V*` | [`mirror::MirrorMap`], `grad_phi`, `grad_phi_star` |
//! | `K`, `φ^K` | [`kernel::PairKernel`], [`scheme::InteractionMirror`] |
//! | `h*`, `∇h*` | [`scheme::Preconditioner`] |
//! | `Σ`, `Σ*` | [`matrix::SpdMatrix`] |
//!
//! **Gradient convention**: the Wasserstein gradient at particle `i` is `n · ∂F/∂xᵢ`
//! (each particle carries mass `1/n`); schemes subtract `τ·(…)`: `xᵢ ← xᵢ − τ gᵢ`.
//!
//! ## Example
//!
//! ```
//! use gdlab_core::Seed;
//! use gdlab_wasserstein::{functional::{Functional, InteractionEnergy}, kernel::PairKernel,
//!     matrix::SpdMatrix, scheme::{run_flow, FlowConfig, Scheme}, Particles};
//! // Wasserstein GD on the isotropic double-well interaction energy
//! let w = InteractionEnergy::new(PairKernel::double_well(SpdMatrix::identity(2)));
//! let mut x = Particles::gaussian(50, 2, 0.25, None, Seed(42)).unwrap();
//! let mut energies = Vec::new();
//! run_flow(&Scheme::Gd, &w, &mut x, FlowConfig::new(0.1, 50).unwrap(), |_, x| {
//!     energies.push(w.mean_pair_energy(x)?);
//!     Ok(())
//! }).unwrap();
//! assert!(energies[50] < energies[0]);
//! // the minimiser is a ring with mean energy −1/6; 50 particles get close
//! assert!(energies[50] < -0.15 && energies[50] > -0.1667);
//! ```

pub mod dirichlet;
pub mod discrepancy;
pub mod entropy;
pub mod error;
pub mod functional;
pub mod gaussian;
pub mod kernel;
pub mod matrix;
pub mod mirror;
pub mod particles;
pub mod scheme;
pub mod sinkhorn;

pub use error::{Result, WassersteinError};
pub use functional::Functional;
pub use particles::Particles;

#[cfg(test)]
mod send_sync {
    fn check<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        check::<crate::Particles>();
        check::<crate::WassersteinError>();
        check::<crate::matrix::SpdMatrix>();
        check::<crate::kernel::PairKernel>();
        check::<crate::functional::InteractionEnergy>();
        check::<crate::functional::PotentialEnergy>();
        check::<crate::functional::Sum>();
        check::<crate::entropy::KdeEntropy>();
        check::<crate::discrepancy::EnergyDistance>();
        check::<crate::discrepancy::SlicedWasserstein>();
        check::<crate::mirror::MirrorMap>();
        check::<crate::scheme::Scheme>();
        check::<crate::scheme::InteractionMirror>();
        check::<crate::gaussian::GaussianScheme>();
        check::<crate::sinkhorn::SinkhornDivergence>();
        check::<crate::sinkhorn::SinkhornOptions>();
        check::<crate::sinkhorn::SinkhornState>();
        check::<crate::sinkhorn::EntropicOt>();
        check::<crate::dirichlet::DirichletPotential>();
    }
}
