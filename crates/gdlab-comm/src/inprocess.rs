//! The in-process backend: one thread per rank, one channel per ordered pair of ranks.

use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::error::{CommError, Result};
use crate::{check_rank, Communicator, WireStats};

/// One message: the sender's collective number and the payload.
#[derive(Debug)]
struct Msg {
    seq: u64,
    data: Vec<u8>,
}

/// A rank of an in-process group: threads of one process talking over `std::sync::mpsc`
/// channels (unbounded, so sends never block; receives wait at most the timeout).
///
/// Deterministic: a rank's result depends only on its inputs and the messages it
/// receives, which arrive per sender in order, and every reduction is in rank order
/// (see the crate docs), so a run gives the same bits as the MPI backend.
///
/// A rank whose thread ends (returns or panics) drops its endpoint; a peer waiting for it
/// then gets [`CommError::PeerGone`] (after reading whatever it had already sent).
///
/// # Examples
/// ```
/// use gdlab_comm::{Communicator, InProcess};
/// use std::time::Duration;
/// let ids = InProcess::run(3, Duration::from_secs(5), |c| (c.rank(), c.size())).unwrap();
/// assert_eq!(ids, vec![(0, 3), (1, 3), (2, 3)]);
/// ```
#[derive(Debug)]
pub struct InProcess {
    rank: usize,
    size: usize,
    /// `to[j]`: channel to rank `j` (`None` for self).
    to: Vec<Option<Sender<Msg>>>,
    /// `from[j]`: channel from rank `j` (`None` for self).
    from: Vec<Option<Receiver<Msg>>>,
    seq: u64,
    timeout: Duration,
    stats: WireStats,
}

impl InProcess {
    /// The `size` connected endpoints of a new group, endpoint `r` being rank `r`.
    ///
    /// # Errors
    /// [`CommError::Invalid`] if `size == 0`.
    pub fn endpoints(size: usize, timeout: Duration) -> Result<Vec<InProcess>> {
        if size == 0 {
            return Err(CommError::Invalid {
                field: "size",
                value: 0,
                allowed: "≥ 1".into(),
            });
        }
        let mut to: Vec<Vec<Option<Sender<Msg>>>> = (0..size)
            .map(|_| (0..size).map(|_| None).collect())
            .collect();
        let mut from: Vec<Vec<Option<Receiver<Msg>>>> = (0..size)
            .map(|_| (0..size).map(|_| None).collect())
            .collect();
        for i in 0..size {
            for j in 0..size {
                if i != j {
                    let (tx, rx) = channel();
                    to[i][j] = Some(tx);
                    from[j][i] = Some(rx);
                }
            }
        }
        Ok(to
            .into_iter()
            .zip(from)
            .enumerate()
            .map(|(rank, (to, from))| InProcess {
                rank,
                size,
                to,
                from,
                seq: 0,
                timeout,
                stats: WireStats::default(),
            })
            .collect())
    }

    /// Runs `f` on `size` ranks, one scoped thread each, and returns the results in rank
    /// order.
    ///
    /// # Errors
    /// [`CommError::Invalid`] if `size == 0`; [`CommError::Backend`] if a thread could not
    /// be started (the ranks already started then see [`CommError::PeerGone`]) or a rank's
    /// thread panicked (the other ranks then see [`CommError::PeerGone`] or time out).
    pub fn run<R, F>(size: usize, timeout: Duration, f: F) -> Result<Vec<R>>
    where
        R: Send,
        F: Fn(&mut InProcess) -> R + Sync,
    {
        let eps = Self::endpoints(size, timeout)?;
        std::thread::scope(|s| {
            let mut handles = Vec::with_capacity(size);
            for (r, mut ep) in eps.into_iter().enumerate() {
                let f = &f;
                let h = std::thread::Builder::new()
                    .name(format!("rank-{r}"))
                    .spawn_scoped(s, move || f(&mut ep))
                    .map_err(|e| CommError::Backend(format!("starting rank {r}'s thread: {e}")))?;
                handles.push(h);
            }
            handles
                .into_iter()
                .enumerate()
                .map(|(r, h)| {
                    h.join()
                        .map_err(|_| CommError::Backend(format!("rank {r}'s thread panicked")))
                })
                .collect()
        })
    }
}

impl Communicator for InProcess {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn stats(&self) -> WireStats {
        self.stats
    }

    fn exchange(
        &mut self,
        op: &'static str,
        sends: &[(usize, &[u8])],
        recv_from: &[usize],
    ) -> Result<Vec<Vec<u8>>> {
        let seq = self.seq;
        self.seq += 1;
        let (rank, size) = (self.rank, self.size);
        let peer_ok = |p: usize| -> Result<()> {
            check_rank("peer", p, size)?;
            if p == rank {
                return Err(CommError::Invalid {
                    field: "peer",
                    value: p,
                    allowed: format!("a rank other than this one ({rank})"),
                });
            }
            Ok(())
        };
        for &(dest, data) in sends {
            peer_ok(dest)?;
            let tx = self.to[dest].as_ref().ok_or(CommError::PeerGone {
                rank,
                peer: dest,
                op,
                seq,
            })?;
            tx.send(Msg {
                seq,
                data: data.to_vec(),
            })
            .map_err(|_| CommError::PeerGone {
                rank,
                peer: dest,
                op,
                seq,
            })?;
            self.stats.messages += 1;
            self.stats.bytes += data.len() as u64;
        }
        let deadline = Instant::now() + self.timeout;
        let mut out = Vec::with_capacity(recv_from.len());
        for &src in recv_from {
            peer_ok(src)?;
            let rx = self.from[src].as_ref().ok_or(CommError::PeerGone {
                rank,
                peer: src,
                op,
                seq,
            })?;
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = rx.recv_timeout(left).map_err(|e| match e {
                RecvTimeoutError::Timeout => CommError::Timeout {
                    rank,
                    peer: src,
                    op,
                    seq,
                    timeout_s: self.timeout.as_secs_f64(),
                },
                RecvTimeoutError::Disconnected => CommError::PeerGone {
                    rank,
                    peer: src,
                    op,
                    seq,
                },
            })?;
            if msg.seq != seq {
                return Err(CommError::Protocol {
                    rank,
                    peer: src,
                    op,
                    reason: format!(
                        "expected a message of collective #{seq}, got one of #{}",
                        msg.seq
                    ),
                });
            }
            out.push(msg.data);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ReduceOp;

    #[test]
    fn a_rank_that_ends_early_is_reported_not_waited_for() {
        let out = InProcess::run(3, Duration::from_secs(30), |c| {
            if c.rank() == 1 {
                return Err(CommError::Backend("rank 1 quits".into()));
            }
            let mut x = [1.0];
            c.all_reduce_f64(&mut x, ReduceOp::Sum)
        })
        .unwrap();
        // Rank 0 gathers and finds rank 1 gone; rank 2 waits for rank 0's broadcast and
        // finds it gone too (rank 0 returned its error).
        assert!(
            matches!(out[0], Err(CommError::PeerGone { peer: 1, .. })),
            "{:?}",
            out[0]
        );
        assert!(
            matches!(out[2], Err(CommError::PeerGone { peer: 0, .. })),
            "{:?}",
            out[2]
        );
    }

    #[test]
    fn a_stuck_rank_times_out() {
        let t0 = Instant::now();
        let out = InProcess::run(2, Duration::from_millis(200), |c| {
            if c.rank() == 1 {
                std::thread::sleep(Duration::from_millis(1500));
                return Ok(());
            }
            c.barrier()
        })
        .unwrap();
        assert!(
            matches!(
                out[0],
                Err(CommError::Timeout {
                    rank: 0,
                    peer: 1,
                    ..
                })
            ),
            "{:?}",
            out[0]
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn drifted_ranks_are_a_protocol_error() {
        let out = InProcess::run(2, Duration::from_secs(30), |c| {
            // Rank 0: broadcast, barrier. Rank 1: barrier, broadcast (swapped order).
            let mut x = [0.0];
            if c.rank() == 1 {
                c.barrier()?;
                c.broadcast_f64(&mut x, 0)
            } else {
                c.broadcast_f64(&mut x, 0)?;
                c.barrier()
            }
        })
        .unwrap();
        assert!(
            out.iter()
                .all(|o| matches!(o, Err(CommError::Protocol { .. }))),
            "{out:?}"
        );
        assert!(InProcess::endpoints(0, Duration::from_secs(1)).is_err());
        let bad = InProcess::run(2, Duration::from_secs(1), |c| {
            let me = c.rank();
            c.neighbor_exchange_bytes(&[me], &[1])
        })
        .unwrap();
        assert!(bad
            .iter()
            .all(|o| matches!(o, Err(CommError::Invalid { .. }))));
    }
}
