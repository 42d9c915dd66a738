//! # gdlab-comm
//!
//! A small message-passing layer so that gdlab's decentralized agents (DGD, T-DGD, the LASSO
//! baselines in `gdlab-decentral`) and majority-vote sign workers (signSGD-MV, SSVR-MV in
//! `gdlab-optim`) can run as **one rank per agent**, either as threads of one process
//! ([`InProcess`], the default, deterministic, used by tests and studies) or as separate
//! processes over MPI (the `gdlab-comm-mpi` crate, behind the CLI's opt-in `mpi` feature).
//!
//! | item | what it is |
//! |---|---|
//! | [`Communicator`] | rank, size, and one required primitive, [`Communicator::exchange`]; every collective is a provided method built on it |
//! | [`InProcess`] | threads + channels; [`InProcess::run`] runs a closure on `K` ranks |
//! | [`PackedSigns`] | a `{−1, 0, +1}` vector packed one bit per coordinate (+ the rare zeros as indices) |
//! | [`WireStats`] | messages and payload bytes a rank actually sent |
//! | [`FaultInjection`] | a wrapper that makes a rank fail after `n` collectives (tests of the failure paths) |
//!
//! ## Why one required primitive
//!
//! A backend implements only [`Communicator::exchange`]: *post these sends, then receive
//! one message from each of these ranks, in this order, each within the timeout*. Barrier,
//! broadcast, gather, all-reduce, neighbour exchange and the sign vote are provided methods
//! written once on top of it, so **the arithmetic of every reduction is the same code on
//! every backend** and results are bitwise independent of the backend.
//!
//! ## Reductions: fixed rank order (and its cost)
//!
//! [`Communicator::all_reduce_f64`] gathers every rank's buffer on rank 0, reduces there in
//! rank order — `out = ((0 + x₀) + x₁) + … + x_{K−1}` elementwise for [`ReduceOp::Sum`] —
//! and broadcasts the result. The result is therefore the same bits on every rank and on
//! every backend, and equal to a sequential loop over agents `0..K` starting from `0.0`
//! (which is how the single-process simulations in `gdlab-decentral` sum). The cost is a
//! linear gather plus a linear broadcast: `2(K − 1)` messages of `8n` bytes and `2(K − 1)`
//! latencies per all-reduce of `n` doubles, against `2⌈log₂ K⌉` latencies for a tree or
//! ring all-reduce whose summation order depends on the algorithm MPI picks. For the
//! handful of ranks of a decentralized experiment this is cheap; for large `K` a
//! rank-ordered tree would be the next step.
//!
//! ## Failures end the job, they do not hang it
//!
//! Every receive has a deadline ([`Communicator::timeout`]); a peer that is stuck, dead, or
//! running a different configuration makes the waiting rank return
//! [`CommError::Timeout`] or [`CommError::PeerGone`] instead of blocking forever.
//! [`Communicator::check_config`] compares a configuration hash of every rank on rank 0
//! before any work starts.
//!
//! ## Example
//!
//! ```
//! use gdlab_comm::{Communicator, InProcess, ReduceOp};
//! use std::time::Duration;
//! // Four ranks; each contributes (rank + 1) / 10 and gets the rank-ordered sum back.
//! let sums = InProcess::run(4, Duration::from_secs(10), |comm| {
//!     let mut x = [(comm.rank() + 1) as f64 / 10.0];
//!     comm.all_reduce_f64(&mut x, ReduceOp::Sum).map(|()| x[0])
//! })
//! .unwrap();
//! let serial = ((0.0 + 0.1) + 0.2) + 0.3 + 0.4;
//! assert!(sums.iter().all(|s| s.as_ref().unwrap().to_bits() == f64::to_bits(serial)));
//! ```

mod error;
mod fault;
mod inprocess;
mod signs;

use std::time::Duration;

pub use error::{CommError, Result};
pub use fault::{FaultAction, FaultInjection};
pub use inprocess::InProcess;
pub use signs::PackedSigns;

/// Messages and payload bytes one rank has sent (headers of the transport not included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Point-to-point messages sent.
    pub messages: u64,
    /// Payload bytes sent.
    pub bytes: u64,
}

impl WireStats {
    /// `self − earlier` (what was sent in between).
    #[must_use]
    pub fn since(self, earlier: WireStats) -> WireStats {
        WireStats {
            messages: self.messages - earlier.messages,
            bytes: self.bytes - earlier.bytes,
        }
    }
}

/// Elementwise reduction of [`Communicator::all_reduce_f64`] / [`Communicator::all_reduce_f32`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    /// `((0 + x₀) + x₁) + … + x_{K−1}`, in rank order.
    Sum,
    /// The largest value; NaN if any rank's value is NaN.
    Max,
}

/// A group of `size()` ranks that exchange byte messages; rank `rank()` is this one.
///
/// Every rank must call the same collectives in the same order (SPMD). Each collective is
/// exactly one call of [`exchange`](Self::exchange) on every rank, which backends use to
/// number the messages and detect ranks that have drifted apart.
pub trait Communicator {
    /// This rank, `0 ≤ rank < size`.
    fn rank(&self) -> usize;

    /// Number of ranks `K ≥ 1`.
    fn size(&self) -> usize;

    /// How long a receive waits before failing with [`CommError::Timeout`].
    fn timeout(&self) -> Duration;

    /// Messages and bytes this rank has sent so far.
    fn stats(&self) -> WireStats;

    /// The one primitive: sends `data` to each `(dest, data)` of `sends` (without blocking
    /// on the receivers), then receives one message from each rank of `recv_from`, in that
    /// order, each within [`timeout`](Self::timeout), and returns them in that order.
    ///
    /// # Errors
    /// [`CommError::Timeout`], [`CommError::PeerGone`], [`CommError::Protocol`] (a message
    /// from another collective), [`CommError::Invalid`] for a rank out of range or self.
    fn exchange(
        &mut self,
        op: &'static str,
        sends: &[(usize, &[u8])],
        recv_from: &[usize],
    ) -> Result<Vec<Vec<u8>>>;

    /// Blocks until every rank has reached the barrier (a gather to rank 0 and a broadcast).
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange).
    fn barrier(&mut self) -> Result<()> {
        self.gather_bytes(&[], 0)?;
        let mut empty = Vec::new();
        self.broadcast_bytes(&mut empty, 0)
    }

    /// Gathers every rank's `data` on `root`: `Some(v)` with `v[r]` from rank `r` on the
    /// root, `None` elsewhere. The root receives in ascending rank order.
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange); `root` out of range.
    fn gather_bytes(&mut self, data: &[u8], root: usize) -> Result<Option<Vec<Vec<u8>>>> {
        check_rank("root", root, self.size())?;
        if self.rank() == root {
            let others: Vec<usize> = (0..self.size()).filter(|&r| r != root).collect();
            let mut got = self.exchange("gather", &[], &others)?.into_iter();
            Ok(Some(
                (0..self.size())
                    .map(|r| {
                        if r == root {
                            data.to_vec()
                        } else {
                            got.next().unwrap_or_default()
                        }
                    })
                    .collect(),
            ))
        } else {
            self.exchange("gather", &[(root, data)], &[])?;
            Ok(None)
        }
    }

    /// Replaces `data` on every rank by the root's `data` (the root sends to every other
    /// rank in ascending order).
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange); `root` out of range.
    fn broadcast_bytes(&mut self, data: &mut Vec<u8>, root: usize) -> Result<()> {
        check_rank("root", root, self.size())?;
        if self.rank() == root {
            let sends: Vec<(usize, &[u8])> = (0..self.size())
                .filter(|&r| r != root)
                .map(|r| (r, &data[..]))
                .collect();
            self.exchange("broadcast", &sends, &[])?;
        } else {
            let mut got = self.exchange("broadcast", &[], &[root])?;
            *data = got.pop().unwrap_or_default();
        }
        Ok(())
    }

    /// Replaces `buf` on every rank by the root's `buf`.
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange); [`CommError::Protocol`] if the root's buffer has a
    /// different length.
    fn broadcast_f64(&mut self, buf: &mut [f64], root: usize) -> Result<()> {
        let mut bytes = encode(buf);
        self.broadcast_bytes(&mut bytes, root)?;
        let me = self.rank();
        decode_into(&bytes, buf).map_err(|reason| CommError::Protocol {
            rank: me,
            peer: root,
            op: "broadcast_f64",
            reason,
        })
    }

    /// Elementwise all-reduce of `buf` in fixed rank order (see the crate docs): gather on
    /// rank 0, reduce `x₀, x₁, …` there, broadcast. Bitwise the same on every rank and
    /// every backend.
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange); [`CommError::Protocol`] if the ranks' buffers have
    /// different lengths.
    fn all_reduce_f64(&mut self, buf: &mut [f64], op: ReduceOp) -> Result<()> {
        all_reduce_impl(self, buf, op)
    }

    /// [`all_reduce_f64`](Self::all_reduce_f64) for `f32` (reduced in `f32`, rank order).
    ///
    /// # Errors
    /// As [`all_reduce_f64`](Self::all_reduce_f64).
    fn all_reduce_f32(&mut self, buf: &mut [f32], op: ReduceOp) -> Result<()> {
        all_reduce_impl(self, buf, op)
    }

    /// Sends `data` to every rank of `neighbors` and returns what each of them sent, in
    /// the order of `neighbors` (one hop of gossip over a graph).
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange) (a neighbour equal to this rank is invalid).
    fn neighbor_exchange_bytes(
        &mut self,
        neighbors: &[usize],
        data: &[u8],
    ) -> Result<Vec<Vec<u8>>> {
        let sends: Vec<(usize, &[u8])> = neighbors.iter().map(|&j| (j, data)).collect();
        self.exchange("neighbor_exchange", &sends, neighbors)
    }

    /// [`neighbor_exchange_bytes`](Self::neighbor_exchange_bytes) of an `f64` vector
    /// (`8·len` bytes per neighbour).
    ///
    /// # Errors
    /// As [`neighbor_exchange_bytes`](Self::neighbor_exchange_bytes); a neighbour's vector of
    /// a different length is a [`CommError::Protocol`].
    fn neighbor_exchange_f64(
        &mut self,
        neighbors: &[usize],
        data: &[f64],
    ) -> Result<Vec<Vec<f64>>> {
        let got = self.neighbor_exchange_bytes(neighbors, &encode(data))?;
        let me = self.rank();
        got.iter()
            .zip(neighbors)
            .map(|(b, &j)| {
                let mut v = vec![0.0; data.len()];
                decode_into(b, &mut v).map_err(|reason| CommError::Protocol {
                    rank: me,
                    peer: j,
                    op: "neighbor_exchange_f64",
                    reason,
                })?;
                Ok(v)
            })
            .collect()
    }

    /// Gathers every rank's bit-packed sign vector on `root` (the uplink of a majority
    /// vote): `Some(v)` with `v[r]` from rank `r` on the root.
    ///
    /// # Errors
    /// As [`gather_bytes`](Self::gather_bytes); an undecodable message is a
    /// [`CommError::Protocol`].
    fn gather_signs(
        &mut self,
        signs: &PackedSigns,
        root: usize,
    ) -> Result<Option<Vec<PackedSigns>>> {
        let me = self.rank();
        match self.gather_bytes(&signs.encode(), root)? {
            None => Ok(None),
            Some(all) => all
                .iter()
                .enumerate()
                .map(|(r, b)| {
                    PackedSigns::decode(b).map_err(|reason| CommError::Protocol {
                        rank: me,
                        peer: r,
                        op: "gather_signs",
                        reason,
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
        }
    }

    /// Broadcasts the root's bit-packed sign vector (the downlink of a majority vote).
    ///
    /// # Errors
    /// As [`broadcast_bytes`](Self::broadcast_bytes); an undecodable message is a
    /// [`CommError::Protocol`].
    fn broadcast_signs(&mut self, signs: &mut PackedSigns, root: usize) -> Result<()> {
        let mut bytes = signs.encode();
        self.broadcast_bytes(&mut bytes, root)?;
        let me = self.rank();
        *signs = PackedSigns::decode(&bytes).map_err(|reason| CommError::Protocol {
            rank: me,
            peer: root,
            op: "broadcast_signs",
            reason,
        })?;
        Ok(())
    }

    /// Checks that every rank holds the same configuration: rank 0 gathers the ranks'
    /// `hash`es, compares them with its own and broadcasts the verdict, so **every** rank
    /// returns the same `Ok` or [`CommError::ConfigMismatch`] (naming the lowest rank that
    /// differs) before any work starts.
    ///
    /// # Errors
    /// [`CommError::ConfigMismatch`]; as [`exchange`](Self::exchange).
    fn check_config(&mut self, hash: u64) -> Result<()> {
        let me = self.rank();
        // Verdict: [flag (0 ok, 1 mismatch), rank, hash, root hash] as 4 × u64.
        let mut verdict = vec![0u8; 32];
        if let Some(all) = self.gather_bytes(&hash.to_le_bytes(), 0)? {
            for (r, b) in all.iter().enumerate() {
                let h = <[u8; 8]>::try_from(&b[..])
                    .map(u64::from_le_bytes)
                    .map_err(|_| CommError::Protocol {
                        rank: me,
                        peer: r,
                        op: "check_config",
                        reason: format!("expected an 8-byte hash, got {} bytes", b.len()),
                    })?;
                if h != hash {
                    verdict = [1u64, r as u64, h, hash]
                        .iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect();
                    break;
                }
            }
        }
        self.broadcast_bytes(&mut verdict, 0)?;
        let field = |i: usize| -> u64 {
            verdict
                .get(8 * i..8 * i + 8)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map_or(0, u64::from_le_bytes)
        };
        if field(0) == 0 {
            Ok(())
        } else {
            Err(CommError::ConfigMismatch {
                rank: field(1) as usize,
                hash: field(2),
                root_hash: field(3),
            })
        }
    }
}

impl<C: Communicator + ?Sized> Communicator for &mut C {
    fn rank(&self) -> usize {
        (**self).rank()
    }
    fn size(&self) -> usize {
        (**self).size()
    }
    fn timeout(&self) -> Duration {
        (**self).timeout()
    }
    fn stats(&self) -> WireStats {
        (**self).stats()
    }
    fn exchange(
        &mut self,
        op: &'static str,
        sends: &[(usize, &[u8])],
        recv_from: &[usize],
    ) -> Result<Vec<Vec<u8>>> {
        (**self).exchange(op, sends, recv_from)
    }
}

pub(crate) fn check_rank(field: &'static str, r: usize, size: usize) -> Result<()> {
    if r < size {
        Ok(())
    } else {
        Err(CommError::Invalid {
            field,
            value: r,
            allowed: format!("a rank in [0, {size})"),
        })
    }
}

/// A fixed-width number that travels as little-endian bytes.
trait Elem: Copy + PartialOrd {
    const WIDTH: usize;
    const ZERO: Self;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
    fn add(self, o: Self) -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! elem {
    ($t:ty, $w:expr) => {
        impl Elem for $t {
            const WIDTH: usize = $w;
            const ZERO: Self = 0.0;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; $w];
                a.copy_from_slice(b);
                <$t>::from_le_bytes(a)
            }
            fn add(self, o: Self) -> Self {
                self + o
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}
elem!(f64, 8);
elem!(f32, 4);

fn encode<T: Elem>(x: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() * T::WIDTH);
    for &v in x {
        v.put(&mut out);
    }
    out
}

fn decode_into<T: Elem>(b: &[u8], out: &mut [T]) -> std::result::Result<(), String> {
    if b.len() != out.len() * T::WIDTH {
        return Err(format!(
            "expected {} values ({} bytes), got {} bytes",
            out.len(),
            out.len() * T::WIDTH,
            b.len()
        ));
    }
    for (o, c) in out.iter_mut().zip(b.chunks_exact(T::WIDTH)) {
        *o = T::get(c);
    }
    Ok(())
}

fn all_reduce_impl<C: Communicator + ?Sized, T: Elem>(
    comm: &mut C,
    buf: &mut [T],
    op: ReduceOp,
) -> Result<()> {
    let me = comm.rank();
    let mut bytes = encode(buf);
    if let Some(all) = comm.gather_bytes(&bytes, 0)? {
        let n = buf.len();
        let mut acc = vec![T::ZERO; n];
        let mut x = vec![T::ZERO; n];
        for (r, b) in all.iter().enumerate() {
            decode_into(b, &mut x).map_err(|reason| CommError::Protocol {
                rank: me,
                peer: r,
                op: "all_reduce",
                reason,
            })?;
            match op {
                ReduceOp::Sum => {
                    for (a, v) in acc.iter_mut().zip(&x) {
                        *a = a.add(*v);
                    }
                }
                ReduceOp::Max => {
                    for (a, v) in acc.iter_mut().zip(&x) {
                        if r == 0 || a.is_nan() || v.is_nan() || *v > *a {
                            *a = if a.is_nan() && r > 0 { *a } else { *v };
                        }
                    }
                }
            }
        }
        bytes = encode(&acc);
    }
    comm.broadcast_bytes(&mut bytes, 0)?;
    decode_into(&bytes, buf).map_err(|reason| CommError::Protocol {
        rank: me,
        peer: 0,
        op: "all_reduce",
        reason,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;

    const T: Duration = Duration::from_secs(20);

    #[test]
    fn all_reduce_is_rank_ordered_and_bitwise_equal_on_every_rank() {
        // Values whose sum depends on the order: the rank-ordered left fold is the answer.
        let vals = [1e16, 1.0, -1e16, 1.0, 3.5e-3];
        let serial = vals.iter().fold(0.0_f64, |a, v| a + v);
        let other_order = vals.iter().rev().fold(0.0_f64, |a, v| a + v);
        assert_ne!(
            serial, other_order,
            "the test values must be order-sensitive"
        );
        let out = InProcess::run(5, T, |c| {
            let r = c.rank();
            let mut x = [vals[r], -(r as f64), f64::from(r as u32) * 0.25];
            c.all_reduce_f64(&mut x, ReduceOp::Sum)?;
            let mut y = [vals[r] as f32, r as f32];
            c.all_reduce_f32(&mut y, ReduceOp::Max)?;
            Ok::<_, CommError>((x, y))
        })
        .unwrap();
        for o in out {
            let (x, y) = o.unwrap();
            assert_eq!(x[0].to_bits(), serial.to_bits());
            assert_eq!(x[1], -10.0);
            assert_eq!(x[2], 2.5);
            assert_eq!(y, [1e16_f32, 4.0]);
        }
    }

    #[test]
    fn max_propagates_nan() {
        let out = InProcess::run(3, T, |c| {
            let mut x = [if c.rank() == 1 { f64::NAN } else { 1.0 }, c.rank() as f64];
            c.all_reduce_f64(&mut x, ReduceOp::Max).map(|()| x)
        })
        .unwrap();
        for o in out {
            let x = o.unwrap();
            assert!(x[0].is_nan());
            assert_eq!(x[1], 2.0);
        }
    }

    #[test]
    fn broadcast_gather_neighbors_and_bytes_counted() {
        // Ring of 4: each rank sends its id vector to both neighbours.
        let out = InProcess::run(4, T, |c| {
            let r = c.rank();
            let mut b = vec![r as f64; 3];
            c.broadcast_f64(&mut b, 2)?;
            let before = c.stats();
            let nb = [(r + 3) % 4, (r + 1) % 4];
            let got = c.neighbor_exchange_f64(&nb, &[r as f64, 10.0 * r as f64])?;
            let sent = c.stats().since(before);
            c.barrier()?;
            Ok::<_, CommError>((b, got, sent))
        })
        .unwrap();
        for (r, o) in out.into_iter().enumerate() {
            let (b, got, sent) = o.unwrap();
            assert_eq!(b, vec![2.0; 3]);
            let (left, right) = ((r + 3) % 4, (r + 1) % 4);
            assert_eq!(got[0], vec![left as f64, 10.0 * left as f64]);
            assert_eq!(got[1], vec![right as f64, 10.0 * right as f64]);
            // Two messages of two doubles.
            assert_eq!(
                sent,
                WireStats {
                    messages: 2,
                    bytes: 32
                }
            );
        }
    }

    #[test]
    fn config_mismatch_is_reported_on_every_rank() {
        let out =
            InProcess::run(4, T, |c| c.check_config(if c.rank() == 2 { 7 } else { 5 })).unwrap();
        for o in out {
            assert_eq!(
                o.unwrap_err(),
                CommError::ConfigMismatch {
                    rank: 2,
                    hash: 7,
                    root_hash: 5
                }
            );
        }
        let ok = InProcess::run(3, T, |c| c.check_config(9)).unwrap();
        assert!(ok.iter().all(|o| o.is_ok()));
    }

    #[test]
    fn sign_vote_round_trip() {
        let out = InProcess::run(3, T, |c| {
            let r = c.rank();
            let q: Vec<f64> = (0..19)
                .map(|k| {
                    if (k + r) % 5 == 0 {
                        0.0
                    } else if (k * (r + 1)) % 3 == 0 {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect();
            let gathered = c.gather_signs(&PackedSigns::from_signs(&q), 0)?;
            let mut s = PackedSigns::from_signs(&[0.0; 19]);
            if let Some(all) = &gathered {
                let mut sum = vec![0.0; 19];
                for p in all {
                    let mut v = vec![9.0; 19];
                    p.to_signs(&mut v);
                    for (a, b) in sum.iter_mut().zip(v) {
                        *a += b;
                    }
                }
                s = PackedSigns::from_signs(&sum);
            }
            c.broadcast_signs(&mut s, 0)?;
            Ok::<_, CommError>((q, gathered, s))
        })
        .unwrap();
        let qs: Vec<Vec<f64>> = out.iter().map(|o| o.as_ref().unwrap().0.clone()).collect();
        let root = out[0].as_ref().unwrap().1.as_ref().unwrap();
        for (r, p) in root.iter().enumerate() {
            let mut v = vec![0.0; 19];
            p.to_signs(&mut v);
            assert_eq!(v, qs[r]);
        }
        for o in &out {
            let mut v = vec![0.0; 19];
            o.as_ref().unwrap().2.to_signs(&mut v);
            for k in 0..19 {
                let sum: f64 = qs.iter().map(|q| q[k]).sum();
                assert_eq!(
                    v[k],
                    if sum > 0.0 {
                        1.0
                    } else if sum < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                );
            }
        }
    }
}

#[cfg(test)]
mod send_sync {
    fn send_sync_debug<T: Send + Sync + std::fmt::Debug>() {}
    fn send_debug<T: Send + std::fmt::Debug>() {}

    #[test]
    fn public_types_are_send_sync_debug() {
        use super::*;
        send_sync_debug::<CommError>();
        send_sync_debug::<WireStats>();
        send_sync_debug::<ReduceOp>();
        send_sync_debug::<PackedSigns>();
        send_sync_debug::<FaultAction>();
        // A rank's endpoint moves to its thread; it is not shared (mpsc receivers are !Sync).
        send_debug::<InProcess>();
        send_debug::<FaultInjection<InProcess>>();
    }
}
