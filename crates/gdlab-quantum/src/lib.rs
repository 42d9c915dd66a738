//! # gdlab-quantum
//!
//! Distributed learning over a quantum network (Gilboa, Michaeli, Soudry & McClean,
//! "Exponential Quantum Communication Advantage in Distributed Inference and Learning",
//! NeurIPS 2024; spec `papers/quantum-communication-advantage.md`): a small state-vector
//! simulator, the two-party model class, inference and gradient protocols with their
//! communication counts, classical baselines, and the SIGN `QModel` with polynomial
//! activations.
//!
//! The paper's body could not be read; parts of the spec are labelled **\[design\]** (a
//! concrete, testable choice in the spirit of the paper, not taken from it). Those labels
//! are repeated on the items they concern.
//!
//! | module | what it holds |
//! |---|---|
//! | [`state`] | `StateVector` (complex f64, little-endian as Qiskit), gates, fast Walsh–Hadamard, QFT via rustfft, ⟨Z⟩, ⟨P₀⟩, class projectors, memory budget |
//! | [`circuit`] | the JSON circuit format of `gdlab quantum simulate` |
//! | [`model`] | the §2.0 model class **\[design\]**: Bob's data layers, Alice's layers, exact output, adjoint gradient (§2.2), parameter shift, finite differences |
//! | [`protocol`] | [`CommunicationReport`]; inference, G1, G2 (theoretical count), trivial classical protocols; sampled estimates |
//! | [`classical`] | SimHash / structured-sketch inner product for the linear case **\[design\]** |
//! | [`expressivity`] | §2.4 frequency count vs depth **\[design\]** |
//!
//! ## Notation
//!
//! | paper / spec | API |
//! |---|---|
//! | n, N = 2ⁿ | `n_qubits`, `dim()` |
//! | L | `n_layers` |
//! | P (parameters per unitary) | `params_per_layer` |
//! | A_ℓ(θ_ℓ), B_ℓ(x) | [`model::AliceLayer`], [`model::DataEncoding`] |
//! | O = Z₀ or P₀ | [`model::Observable`] |
//! | ε, δ, S | [`protocol::Accuracy`], `Accuracy::shots` |
//! | Q_infer, Q_G1, Q_G2, C_triv, C_grad | [`protocol::inference`], [`protocol::gradient_parameter_shift`], [`protocol::gradient_shadow`], [`protocol::classical_inference_trivial`], [`protocol::classical_gradient_trivial`] |
//! | μ_ℓ, ν_ℓ (forward / backward features) | `a`, `b` in [`model::Model::loss_grad`] |
//!
//! ## Example
//!
//! ```
//! use gdlab_quantum::model::ModelConfig;
//! use gdlab_quantum::protocol::{inference, Accuracy, ProtocolSize};
//! use gdlab_quantum::state::MemoryBudget;
//! let model = ModelConfig { n_qubits: 3, n_layers: 2, ..ModelConfig::default() }
//!     .build(&MemoryBudget::bytes(1 << 20)).unwrap();
//! let theta: Vec<f64> = (0..model.n_params()).map(|i| 0.1 * i as f64).collect();
//! let x: Vec<f64> = (0..model.dim()).map(|j| (j as f64).cos()).collect();
//! let mut grad = vec![0.0; model.n_params()];
//! let loss = model.loss_grad(&theta, &x, &mut grad).unwrap();
//! assert!((-1.0..=1.0).contains(&loss));
//! let comm = inference(&ProtocolSize::diagonal(3, 2), &Accuracy::new(0.05, 0.05).unwrap()).unwrap();
//! assert_eq!(comm.qubits, 2952 * 4 * 3);
//! ```

pub mod circuit;
pub mod classical;
pub mod error;
pub mod expressivity;
pub mod gnn;
pub mod model;
pub mod protocol;
pub mod state;

pub use error::{QuantumError, Result};
pub use num_complex::Complex64;
pub use protocol::CommunicationReport;
