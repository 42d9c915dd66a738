//! # gdlab-sampling
//!
//! Random reshuffling (sampling without replacement) versus with-replacement sampling,
//! through the lens of expected epoch operators: the counterexample to the operator
//! AM-GM (Recht–Ré) conjecture from C. De Sa, "Random Reshuffling is Not Always Better"
//! (NeurIPS 2020), exact epoch operators, and a derived learning task where
//! with-replacement SGD wins.
//!
//! | module | what it holds |
//! |---|---|
//! | [`amgm`] | the counterexample family `A_k`, the derived-benchmark steps `C_k`, identity shifts, the `1` / `1⊥` eigenvalue split |
//! | [`epoch`] | `E_WR`, `E_RR` (enumeration and subset DP), shuffle-once, second moments, [`EpochNorms`](epoch::EpochNorms) |
//! | [`exact`] | the same in exact rationals (`BigRational`) for `n = 5`: `E_RR = 29/64·(I − J/5) − 19/16·(J/5)` |
//! | [`averaged_sgd`] | parallel SGD with one-shot model averaging (Monte Carlo, deterministic) and its exact moments |
//! | [`error`] | [`SamplingError`] |
//!
//! ## Notation
//!
//! | paper / spec symbol | API name |
//! |---|---|
//! | `n` (examples, matrices per epoch) | `matrices.len()`, `n` |
//! | `d` (matrix size; independent of `n` in [`epoch`]) | `dim` |
//! | `A_k`, `k = 1..n` | `matrices[k − 1]` (0-based), [`amgm::counterexample_family`] |
//! | `y_k`, `1`, `J = 11ᵀ` | internal to [`amgm::counterexample_family`]; `J` in [`amgm::ones_split`] |
//! | `E_WR = ((1/n) Σ A_k)ⁿ` | [`epoch::wr_epoch_operator`] |
//! | `E_RR = (1/n!) Σ_σ A_{σ(1)}⋯A_{σ(n)}` | [`epoch::rr_epoch_operator_dp`], [`epoch::rr_epoch_operator_enumerate`] |
//! | `E_σ[P_σᴷ]` (shuffle once) | [`epoch::shuffle_once_operator`] |
//! | `E[PᵀP]`, `P = C_{σ(n)}⋯C_{σ(1)}` | [`epoch::rr_second_moment`], [`epoch::wr_second_moment`] |
//! | `‖·‖` (spectral norm) | [`epoch::operator_norm`], [`EpochNorms`](epoch::EpochNorms) |
//! | `α` (step size) | `learning_rate` |
//! | `H_k = I − A_k/2`, `C_k = I − αH_k` | [`amgm::learning_task_steps`] (`steps`) |
//! | `c` in `A_k + cI` | `shift` ([`amgm::shift_by_identity`]) |
//! | `K` (workers), `T` (epochs) | `n_workers`, `n_epochs` ([`averaged_sgd::AveragedSgdConfig`]) |
//! | `x_0`, `x̄_T` | `x0`, `mean_iterates` ([`averaged_sgd::AveragedOutcome`]) |
//!
//! ## Example
//!
//! ```
//! use gdlab_sampling::amgm::{counterexample_family, learning_task_steps};
//! use gdlab_sampling::epoch::epoch_norms;
//!
//! // The AM-GM counterexample at n = 5: ‖E_RR‖ = 19/16 > 1 = ‖E_WR‖.
//! let norms = epoch_norms(&counterexample_family(5)?)?;
//! assert!((norms.rr - 19.0 / 16.0).abs() < 1e-12 && (norms.wr - 1.0).abs() < 1e-12);
//! // Derived benchmark (spec §2.3b, not the paper's task): SGD with α = 1 on
//! // f_k(x) = ½xᵀH_kx; per epoch the expected iterate shrinks by 19/512 (RR) vs 1/32 (WR).
//! let sgd = epoch_norms(&learning_task_steps(5, 1.0)?)?;
//! assert!((sgd.ratio - 19.0 / 16.0).abs() < 1e-12);
//! # Ok::<(), gdlab_sampling::SamplingError>(())
//! ```
//!
//! ## Provenance
//!
//! Only the paper's first page was readable. The `n = 5` matrices and the values `19/16`,
//! `29/64` come from a third-party exact replay; the family for `n ≠ 5` is the spec's
//! **\[inferred\]** scaling; the learning task of [`amgm::learning_task_steps`] and the
//! averaged-SGD algorithm are a **derived benchmark**, not the paper's experiment.
//! Reference: spec `random-reshuffling-amgm.md`; Yun, Sra & Jadbabaie, COLT 2021.

pub mod amgm;
pub mod averaged_sgd;
pub mod epoch;
pub mod error;
pub mod exact;

pub use error::{Result, SamplingError};
pub use gdlab_core::linalg::Matrix;

#[cfg(test)]
mod tests {
    fn assert_send_sync_debug<T: Send + Sync + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        assert_send_sync_debug::<crate::SamplingError>();
        assert_send_sync_debug::<crate::epoch::EpochNorms>();
        assert_send_sync_debug::<crate::amgm::OnesSplit>();
        assert_send_sync_debug::<crate::exact::RationalMatrix>();
        assert_send_sync_debug::<crate::exact::OnesSplitExact>();
        assert_send_sync_debug::<crate::averaged_sgd::AveragedSgdConfig>();
        assert_send_sync_debug::<crate::averaged_sgd::AveragedOutcome>();
        assert_send_sync_debug::<crate::averaged_sgd::ExpectedIterate>();
        assert_send_sync_debug::<crate::averaged_sgd::ExpectedMoments>();
    }
}
