//! Errors of the communication layer.

/// Result alias with [`CommError`] as the default error type.
pub type Result<T, E = CommError> = std::result::Result<T, E>;

/// Everything that can go wrong when ranks talk to each other.
///
/// Every variant names the rank that observed it and the peer involved, so that the one
/// line a failed job prints says which process to look at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommError {
    /// A receive did not complete within the communicator's timeout: the peer is stuck,
    /// dead, or running a different configuration (a different sequence of collectives).
    #[error("rank {rank}: no message from rank {peer} within {timeout_s} s in {op} (collective #{seq}); the peer is stuck or dead, or the ranks run different configurations")]
    Timeout {
        /// The rank that waited.
        rank: usize,
        /// The rank it waited for.
        peer: usize,
        /// The operation (`all_reduce`, `neighbor_exchange`, ...).
        op: &'static str,
        /// The collective's sequence number (equal on every rank in a healthy job).
        seq: u64,
        /// The timeout in seconds.
        timeout_s: f64,
    },
    /// The peer's endpoint is gone (its thread or process ended).
    #[error("rank {rank}: rank {peer} has exited (in {op}, collective #{seq})")]
    PeerGone {
        /// The rank that noticed.
        rank: usize,
        /// The rank that is gone.
        peer: usize,
        /// The operation.
        op: &'static str,
        /// The collective's sequence number.
        seq: u64,
    },
    /// A message arrived out of sequence or with the wrong size: the ranks disagree on
    /// the sequence of collectives (a programmer error or mismatched configurations).
    #[error("rank {rank}: protocol error with rank {peer} in {op}: {reason}")]
    Protocol {
        /// The rank that noticed.
        rank: usize,
        /// The peer.
        peer: usize,
        /// The operation.
        op: &'static str,
        /// What was expected and what arrived.
        reason: String,
    },
    /// Rank 0 found a configuration hash that differs from its own.
    #[error("configuration mismatch: rank {rank} has configuration hash {hash:#018x}, rank 0 has {root_hash:#018x} (every rank must read the same configuration)")]
    ConfigMismatch {
        /// The first rank (ascending) whose hash differs.
        rank: usize,
        /// Its hash.
        hash: u64,
        /// Rank 0's hash.
        root_hash: u64,
    },
    /// An argument out of range (a root or peer that is not a rank, a bad size).
    #[error("`{field}` must be {allowed}, got {value}")]
    Invalid {
        /// The argument.
        field: &'static str,
        /// Its value.
        value: usize,
        /// The allowed range.
        allowed: String,
    },
    /// The backend failed to start (e.g. MPI could not be initialized).
    #[error("communicator backend: {0}")]
    Backend(String),
}
