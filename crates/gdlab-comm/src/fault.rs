//! Fault injection for tests of the failure paths.

use std::time::Duration;

use crate::error::{CommError, Result};
use crate::{Communicator, WireStats};

/// What a rank does when its injected fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Return [`CommError::Backend`] from the exchange (the rank's run ends with an error).
    Error,
    /// End the whole process with `std::process::exit(code)` (a rank that dies under MPI).
    Exit(i32),
    /// Sleep forever (a stuck rank: the others must time out).
    Hang,
}

/// Wraps a communicator so that its rank fails once it has completed `after` collectives,
/// at its next [`exchange`](Communicator::exchange), as [`FaultAction`] says.
///
/// Only for testing that a job whose rank fails ends with a clear error instead of
/// hanging.
///
/// # Examples
/// ```
/// use gdlab_comm::{Communicator, FaultAction, FaultInjection, InProcess};
/// use std::time::Duration;
/// let out = InProcess::run(2, Duration::from_secs(10), |c| {
///     let rank = c.rank();
///     let mut c = FaultInjection::new(c, (rank == 1).then_some(1), FaultAction::Error);
///     c.barrier()?; // gather + broadcast: rank 1 fails at its second collective
///     c.barrier()
/// })
/// .unwrap();
/// assert!(out[0].is_err() && out[1].is_err());
/// ```
#[derive(Debug)]
pub struct FaultInjection<C> {
    inner: C,
    after: Option<u64>,
    action: FaultAction,
    done: u64,
}

impl<C: Communicator> FaultInjection<C> {
    /// `after = None` never fails (a transparent wrapper).
    pub fn new(inner: C, after: Option<u64>, action: FaultAction) -> Self {
        FaultInjection {
            inner,
            after,
            action,
            done: 0,
        }
    }

    /// The wrapped communicator.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: Communicator> Communicator for FaultInjection<C> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn timeout(&self) -> Duration {
        self.inner.timeout()
    }
    fn stats(&self) -> WireStats {
        self.inner.stats()
    }
    fn exchange(
        &mut self,
        op: &'static str,
        sends: &[(usize, &[u8])],
        recv_from: &[usize],
    ) -> Result<Vec<Vec<u8>>> {
        if self.after.is_some_and(|a| self.done >= a) {
            match self.action {
                FaultAction::Error => {}
                FaultAction::Exit(code) => {
                    eprintln!(
                        "rank {}: injected failure after {} collectives: exiting with code {code}",
                        self.inner.rank(),
                        self.done
                    );
                    std::process::exit(code);
                }
                FaultAction::Hang => {
                    eprintln!(
                        "rank {}: injected failure after {} collectives: hanging",
                        self.inner.rank(),
                        self.done
                    );
                    loop {
                        std::thread::sleep(Duration::from_secs(3600));
                    }
                }
            }
            return Err(CommError::Backend(format!(
                "rank {}: injected failure after {} collectives (in {op})",
                self.inner.rank(),
                self.done
            )));
        }
        self.done += 1;
        self.inner.exchange(op, sends, recv_from)
    }
}
