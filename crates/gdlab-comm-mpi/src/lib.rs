//! # gdlab-comm-mpi
//!
//! The MPI backend of [`gdlab_comm::Communicator`]: one rank per process, over rsmpi
//! (the `mpi` crate, `default-features = false`) built against the system's MPI (Debian:
//! `apt-get install -y libopenmpi-dev openmpi-bin libclang-dev`).
//!
//! It lives in its own crate, not behind a feature of `gdlab-comm`, so that enabling MPI
//! (the CLI's `mpi` feature) recompiles only this crate and the binary: a feature on
//! `gdlab-comm` would change the build of every crate that depends on it
//! (`gdlab-decentral`, `gdlab-optim`, `gdlab-studies`, …).
//!
//! ## How [`exchange`](gdlab_comm::Communicator::exchange) maps to MPI
//!
//! The sends are `MPI_Isend`s tagged with the collective's sequence number (mod 32 000),
//! so a rank never blocks on a receiver and a ring of ranks that all send first cannot
//! deadlock. Each receive polls `MPI_Improbe` for that source and tag (spinning briefly,
//! then yielding the CPU) until the message is there or the timeout has passed, and
//! receives it with `MPI_Mrecv`; then the sends are completed with `MPI_Test` under the
//! same deadline. Collectives are the provided methods of the trait (rank-ordered
//! reductions), not MPI's own collectives, so they have timeouts and give the same bits as
//! the in-process backend.
//!
//! ## Failures
//!
//! A timeout inside an exchange is fatal: MPI cannot cancel the pending sends safely, so
//! the rank prints the [`CommError`] as one `error:` line on stderr and calls `MPI_Abort`,
//! which ends every rank of the job (exit code 3). A rank that dies is detected by
//! `mpirun` itself (it then terminates the job) or by the others' timeouts.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use gdlab_comm::{CommError, Communicator, Result, WireStats};
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::topology::{Communicator as _, SimpleCommunicator};

/// Exit code of a job aborted by a communication failure.
pub const ABORT_CODE: i32 = 3;

/// Largest tag used (MPI guarantees `MPI_TAG_UB ≥ 32767`).
const TAG_MODULUS: u64 = 32_000;

/// Spins before the polling loop starts yielding the CPU.
const SPINS: u32 = 2_000;

/// A rank of `MPI_COMM_WORLD`.
///
/// Create it once per process with [`Mpi::init`]; dropping it finalizes MPI.
pub struct Mpi {
    world: SimpleCommunicator,
    seq: u64,
    timeout: Duration,
    stats: WireStats,
    // Dropped last: finalizes MPI.
    _universe: mpi::environment::Universe,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpi")
            .field("rank", &self.world.rank())
            .field("size", &self.world.size())
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Mpi {
    /// Initializes MPI (single-threaded) and returns this process's rank of the world.
    ///
    /// # Errors
    /// [`CommError::Backend`] if MPI was already initialized in this process.
    pub fn init(timeout: Duration) -> Result<Self> {
        let universe = mpi::initialize().ok_or_else(|| {
            CommError::Backend("MPI is already initialized in this process".into())
        })?;
        let world = universe.world();
        Ok(Mpi {
            world,
            seq: 0,
            timeout,
            stats: WireStats::default(),
            _universe: universe,
        })
    }

    /// Whether this process was started by an MPI launcher (`mpirun`/`mpiexec`/`srun`),
    /// judged from the environment variables they set (OpenMPI's `OMPI_COMM_WORLD_SIZE`,
    /// PMIx's `PMIX_RANK`, MPICH/Hydra's `PMI_SIZE`).
    #[must_use]
    pub fn launched() -> bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
    }

    /// Prints `error: {msg}` on stderr (if given) and ends every rank of the job
    /// (`MPI_Abort` with `code`).
    pub fn abort(&self, msg: Option<&str>, code: i32) -> ! {
        if let Some(m) = msg {
            error_line(m);
        }
        self.world.abort(code)
    }

    /// MPI's wall clock (`MPI_Wtime`), seconds.
    #[must_use]
    pub fn wtime() -> f64 {
        mpi::environment::time()
    }
}

impl Communicator for Mpi {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
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
        let (rank, size) = (self.rank(), self.size());
        for &p in sends.iter().map(|(d, _)| d).chain(recv_from) {
            if p >= size || p == rank {
                return Err(CommError::Invalid {
                    field: "peer",
                    value: p,
                    allowed: format!("a rank in [0, {size}) other than this one ({rank})"),
                });
            }
        }
        let tag = (seq % TAG_MODULUS) as i32;
        let timeout = self.timeout;
        let world = &self.world;
        let fatal = |e: CommError| -> ! {
            error_line(&e.to_string());
            world.abort(ABORT_CODE)
        };
        let out = mpi::request::scope(|scope| {
            let mut pending: Vec<_> = sends
                .iter()
                .map(|&(dest, data)| {
                    world
                        .process_at_rank(dest as i32)
                        .immediate_send_with_tag(scope, data, tag)
                })
                .collect();
            let deadline = Instant::now() + timeout;
            let mut out = Vec::with_capacity(recv_from.len());
            for &src in recv_from {
                let p = world.process_at_rank(src as i32);
                let mut spins = 0u32;
                loop {
                    if let Some(m) = p.immediate_matched_probe_with_tag(tag) {
                        let (v, _status) = m.matched_receive_vec::<u8>();
                        out.push(v);
                        break;
                    }
                    if Instant::now() > deadline {
                        fatal(CommError::Timeout {
                            rank,
                            peer: src,
                            op,
                            seq,
                            timeout_s: timeout.as_secs_f64(),
                        });
                    }
                    spins += 1;
                    if spins < SPINS {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
            while let Some(req) = pending.pop() {
                let mut req = req;
                let mut spins = 0u32;
                loop {
                    match req.test() {
                        Ok(_) => break,
                        Err(r) => req = r,
                    }
                    if Instant::now() > deadline {
                        fatal(CommError::Timeout {
                            rank,
                            peer: usize::MAX,
                            op,
                            seq,
                            timeout_s: timeout.as_secs_f64(),
                        });
                    }
                    spins += 1;
                    if spins < SPINS {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
            out
        });
        for (_, data) in sends {
            self.stats.messages += 1;
            self.stats.bytes += data.len() as u64;
        }
        Ok(out)
    }
}

/// Writes `error: {msg}\n` to stderr in one `write` call, so that the lines of several ranks
/// sharing mpirun's stderr do not interleave mid-line (`eprintln!` may write in pieces).
fn error_line(msg: &str) {
    let line = format!("error: {msg}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
