//! Bits communicated by a distributed sign method.

use serde::{Deserialize, Serialize};

/// Bits sent over a run, counted per completed round.
///
/// **Accounting convention** (ours; the papers count "1 bit per coordinate" in each
/// direction):
/// * uplink: every worker sends one sign per coordinate, `n_workers · d` bits per round;
/// * downlink: the server **broadcasts** one sign vector, counted **once**: `d` bits per
///   round. (Counting per receiver, as a point-to-point network would, multiplies this by
///   `n_workers`; [`CommunicationLog::bits_down_per_receiver`] gives that number.)
///
/// One bit per coordinate assumes ±1 entries. A majority tie or an exactly-zero gradient
/// sign produces a 0, which strictly needs a third symbol; such zeros are rare and are
/// reported separately by the runner rather than priced here.
///
/// For comparison, a full-precision f32 all-reduce under the same convention costs
/// `32 · d · n_workers` bits up and `32 · d` bits down per round
/// ([`CommunicationLog::f32_baseline`]): sign methods send 32× fewer bits.
///
/// # Examples
/// ```
/// use gdlab_optim::majority_vote::CommunicationLog;
/// let mut log = CommunicationLog::default();
/// for _ in 0..10 {
///     log.record_round(4, 1000);
/// }
/// assert_eq!((log.rounds, log.bits_up, log.bits_down), (10, 40_000, 10_000));
/// let f32_log = CommunicationLog::f32_baseline(10, 4, 1000);
/// assert_eq!(f32_log.total_bits(), 32 * log.total_bits());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationLog {
    /// Completed rounds.
    pub rounds: u64,
    /// Bits sent by all workers to the server.
    pub bits_up: u64,
    /// Bits broadcast by the server (counted once per round).
    pub bits_down: u64,
}

impl CommunicationLog {
    /// Adds one round of 1-bit messages: `n_workers · dim` up, `dim` down.
    pub fn record_round(&mut self, n_workers: usize, dim: usize) {
        self.rounds += 1;
        self.bits_up += (n_workers as u64) * (dim as u64);
        self.bits_down += dim as u64;
    }

    /// `bits_up + bits_down`.
    #[must_use]
    pub fn total_bits(&self) -> u64 {
        self.bits_up + self.bits_down
    }

    /// The downlink counted per receiver: `bits_down · n_workers`.
    #[must_use]
    pub fn bits_down_per_receiver(&self, n_workers: usize) -> u64 {
        self.bits_down * n_workers as u64
    }

    /// The log of a full-precision f32 all-reduce over `rounds` rounds, in the same
    /// convention: `32 · d · n_workers` bits up and `32 · d` down per round.
    #[must_use]
    pub fn f32_baseline(rounds: u64, n_workers: usize, dim: usize) -> Self {
        CommunicationLog {
            rounds,
            bits_up: 32 * rounds * (n_workers as u64) * (dim as u64),
            bits_down: 32 * rounds * dim as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_counted_per_round() {
        let mut log = CommunicationLog::default();
        for _ in 0..7 {
            log.record_round(3, 50);
        }
        assert_eq!(log.rounds, 7);
        assert_eq!(log.bits_up, 7 * 3 * 50);
        assert_eq!(log.bits_down, 7 * 50);
        assert_eq!(log.bits_down_per_receiver(3), 7 * 3 * 50);
        assert_eq!(log.total_bits(), 7 * 4 * 50);
        let base = CommunicationLog::f32_baseline(7, 3, 50);
        assert_eq!(base.bits_up, 32 * log.bits_up);
        assert_eq!(base.bits_down, 32 * log.bits_down);
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(
            serde_json::from_str::<CommunicationLog>(&json).unwrap(),
            log
        );
    }
}
