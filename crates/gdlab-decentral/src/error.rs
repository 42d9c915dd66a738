//! Errors of the decentral crate.

use gdlab_core::{ConfigError, CoreError};

/// Result alias with [`DecentralError`] as the default error type.
pub type Result<T, E = DecentralError> = std::result::Result<T, E>;

/// Everything that can go wrong when building a network or running an algorithm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecentralError {
    /// A configuration value out of range (names the field and the allowed range).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A communication failure of a distributed run (a peer that timed out, exited, or
    /// runs a different configuration).
    #[error(transparent)]
    Comm(gdlab_comm::CommError),
    /// A linear-algebra failure from faer (via `gdlab-core`).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The graph is not connected, so no mixing matrix has ρ < 1.
    #[error("graph is disconnected ({components} connected components over {n_nodes} nodes); decentralized methods need a connected graph (ρ < 1)")]
    Disconnected {
        /// Number of nodes.
        n_nodes: usize,
        /// Number of connected components (≥ 2).
        components: usize,
    },
    /// A mixing matrix whose connectivity ρ = ‖W − J/m‖₂ is not below 1.
    #[error("mixing matrix has ρ = ‖W − J/m‖₂ = {rho}, must be in [0, 1)")]
    RhoNotBelowOne {
        /// The measured ρ.
        rho: f64,
    },
    /// A matrix that is not a valid mixing matrix.
    #[error("invalid mixing matrix: {reason}")]
    InvalidMixing {
        /// What is wrong (entry, value, tolerance).
        reason: String,
    },
    /// An edge list that could not be parsed.
    #[error("edge list line {line}: {reason}")]
    EdgeList {
        /// 1-based line number.
        line: usize,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// Rejection sampling of a connected Erdős–Rényi graph gave up.
    #[error("no connected G(m = {n_nodes}, p = {p}) graph in {tries} draws; raise `p` (connectivity needs p ≳ ln(m)/m = {threshold:.3})")]
    ErNotConnected {
        /// Number of nodes.
        n_nodes: usize,
        /// Edge probability.
        p: f64,
        /// Draws tried.
        tries: usize,
        /// ln(m)/m.
        threshold: f64,
    },
}
