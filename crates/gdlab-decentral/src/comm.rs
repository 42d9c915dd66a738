//! Message accounting: vectors and bits sent over the graph's edges.
//!
//! One exchange = every agent sends one vector to each of its neighbours, i.e. `2|E|`
//! directed messages (an agent's own term in the mixing costs nothing). Bit costs follow
//! spec §5 check 7: a dense vector costs `32·d` bits (single-precision values), a top-k
//! sparse vector `k·(32 + ⌈log₂ d⌉)` bits (value + index).

use serde::{Deserialize, Serialize};

/// What one message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// A dense vector of length `dim`.
    Dense {
        /// Length.
        dim: usize,
    },
    /// `k` (value, index) pairs of a vector of length `dim`.
    Sparse {
        /// Number of entries sent.
        k: usize,
        /// Length of the full vector.
        dim: usize,
    },
}

impl Payload {
    /// Bits of one message.
    ///
    /// # Examples
    /// ```
    /// use gdlab_decentral::Payload;
    /// assert_eq!(Payload::Dense { dim: 1000 }.bits(), 32_000);
    /// assert_eq!(Payload::Sparse { k: 5, dim: 1000 }.bits(), 5 * (32 + 10));
    /// ```
    #[must_use]
    pub fn bits(self) -> u64 {
        match self {
            Payload::Dense { dim } => 32 * dim as u64,
            Payload::Sparse { k, dim } => {
                let idx_bits = if dim <= 1 {
                    0
                } else {
                    u64::from(usize::BITS - (dim - 1).leading_zeros())
                };
                k as u64 * (32 + idx_bits)
            }
        }
    }

    /// Number of values in one message.
    #[must_use]
    pub fn values(self) -> u64 {
        match self {
            Payload::Dense { dim } => dim as u64,
            Payload::Sparse { k, .. } => k as u64,
        }
    }
}

/// Communication totals of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommStats {
    /// Communication rounds (iterations that mixed).
    pub rounds: u64,
    /// Vectors sent per directed edge per round (2 for DGD/T-DGD/NetLASSO: u and v, or x
    /// and the tracker; 1 for prox-DGD).
    pub vectors_per_edge_per_round: u64,
    /// Directed messages (one vector over one directed edge) in total.
    pub messages: u64,
    /// Values sent in total.
    pub values_sent: u64,
    /// Bits sent in total.
    pub bits_sent: u64,
    /// Number of undirected edges.
    pub n_edges: u64,
}

impl CommStats {
    /// Accounts one exchange of `payload` over every directed edge.
    pub fn exchange(&mut self, n_edges: usize, payload: Payload) {
        let msgs = 2 * n_edges as u64;
        self.n_edges = n_edges as u64;
        self.messages += msgs;
        self.values_sent += msgs * payload.values();
        self.bits_sent += msgs * payload.bits();
    }

    /// Bits per directed edge per round (0 before the first round).
    #[must_use]
    pub fn bits_per_edge_per_round(&self) -> f64 {
        if self.rounds == 0 || self.n_edges == 0 {
            0.0
        } else {
            self.bits_sent as f64 / (self.rounds as f64 * 2.0 * self.n_edges as f64)
        }
    }
}
