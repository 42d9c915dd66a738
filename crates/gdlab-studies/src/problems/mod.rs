//! Synthetic problems generated in code, shared by studies.
//!
//! | module | what it holds |
//! |---|---|
//! | [`normal`] | [`BoxMuller`]: standard normal draws from a [`GdRng`](gdlab_core::GdRng), value-stable |
//! | [`logistic`] | [`NonConvexLogistic`]: logistic loss plus the non-convex penalty `λ Σ x_j²/(1 + x_j²)`, a [`FiniteSum`](gdlab_core::objective::FiniteSum) with exact gradients |
//!
//! Every problem is a pure function of its configuration and a [`Seed`](gdlab_core::Seed),
//! so a study can regenerate the same data on every platform and thread count.

pub mod logistic;
pub use gdlab_core::normal;

pub use logistic::{LogisticConfig, NonConvexLogistic};
pub use normal::BoxMuller;
