//! The SIGN-type graph network of spec §2.5 **\[code + caption\]**: the propagation operator,
//! datasets (synthetic SBM, Cora-style files, OGB raw layout), the decision problem, and
//! the shallow `QModel` with PReLU / trainable polynomial / identity activations.

pub mod data;
pub mod graph;
pub mod qmodel;
