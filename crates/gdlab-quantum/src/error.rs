//! Errors of the quantum crate.

use gdlab_core::ConfigError;

/// Result alias with [`QuantumError`] as the default error type.
pub type Result<T, E = QuantumError> = std::result::Result<T, E>;

/// Everything that can go wrong in `gdlab-quantum`.
///
/// Every variant names the offending field or input, the value and what is allowed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuantumError {
    /// A configuration value outside its range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The register would not fit in memory; refused before anything was allocated.
    #[error(
        "{n_qubits} qubits need {needed_bytes} bytes ({what}), more than the {budget_bytes}-byte memory budget allows (at most {max_qubits} qubits)"
    )]
    TooManyQubits {
        /// Requested register size.
        n_qubits: usize,
        /// Bytes the request needs.
        needed_bytes: u128,
        /// The memory budget in bytes.
        budget_bytes: u64,
        /// The largest register the budget allows for this request.
        max_qubits: usize,
        /// What was being allocated.
        what: &'static str,
    },
    /// A gate name the simulator does not know.
    #[error("unknown gate `{name}` (gate {index}); known gates: {known}")]
    UnknownGate {
        /// The name as given.
        name: String,
        /// Position of the gate in the circuit (0-based).
        index: usize,
        /// The known gate names.
        known: &'static str,
    },
    /// A qubit index outside the register.
    #[error("qubit {qubit} out of range in {op}: the register has {n_qubits} qubits (0..={max})", max = n_qubits.saturating_sub(1))]
    QubitOutOfRange {
        /// The operation that named the qubit.
        op: String,
        /// The qubit index given.
        qubit: usize,
        /// The register size.
        n_qubits: usize,
    },
    /// A gate got the wrong number of qubits or angles, or repeated a qubit.
    #[error("gate `{gate}` (gate {index}): {reason}")]
    BadGate {
        /// The gate name.
        gate: String,
        /// Position of the gate in the circuit (0-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A state or amplitude vector that is not usable (wrong length, zero norm, NaN).
    #[error("invalid state `{field}`: {reason}")]
    BadState {
        /// Which vector.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A count that does not fit in 64 bits.
    #[error("communication count overflows u64 in {what}")]
    CountOverflow {
        /// The count being computed.
        what: &'static str,
    },
    /// A malformed input file (graph data, circuits).
    #[error("{path}:{line}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number (0 when not line-based).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An I/O error reading an input file.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A non-finite number where a finite one is required.
    #[error("non-finite value in {what}")]
    NonFinite {
        /// Where it appeared.
        what: &'static str,
    },
    /// An error from the neural-network backend (candle).
    #[error("network backend: {0}")]
    Backend(String),
}
