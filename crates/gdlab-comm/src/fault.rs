//! Fault injection for tests of the failure paths.

use std::time::Duration;

use crate::error::{CommError, Result};
use crate::{Communicator, WireStats};

/// Wraps a communicator so that its rank fails once it has completed `after` collectives:
/// the next [`exchange`](Communicator::exchange) either returns
/// [`CommError::Backend`] (`exit_code = None`) or ends the whole process with
/// `std::process::exit(code)` (`Some(code)`, to simulate a rank that dies under MPI).
///
/// Only for testing that a job whose rank fails ends with a clear error instead of
/// hanging.
///
/// # Examples
/// ```
/// use gdlab_comm::{Communicator, FaultInjection, InProcess};
/// use std::time::Duration;
/// let out = InProcess::run(2, Duration::from_secs(10), |c| {
///     let rank = c.rank();
///     let mut c = FaultInjection::new(c, if rank == 1 { Some(1) } else { None }, None);
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
    exit_code: Option<i32>,
    done: u64,
}

impl<C: Communicator> FaultInjection<C> {
    /// `after = None` never fails (a transparent wrapper).
    pub fn new(inner: C, after: Option<u64>, exit_code: Option<i32>) -> Self {
        FaultInjection {
            inner,
            after,
            exit_code,
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
            if let Some(code) = self.exit_code {
                eprintln!(
                    "rank {}: injected failure after {} collectives: exiting with code {code}",
                    self.inner.rank(),
                    self.done
                );
                std::process::exit(code);
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
