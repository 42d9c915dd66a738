//! Parallel SGD with one-shot model averaging on linear steps: the algorithm of the
//! **derived benchmark** of spec §2.3b, plus its exact expectations.
//!
//! `K` workers start from the same `x_0` and run `T` epochs of SGD `x ← C_k x`
//! independently (each with its own sampling stream); the output is the averaged model
//! `x̄_t = (1/K) Σ_w x_t^{(w)}`. As `K → ∞`, `x̄_t → E[x_t] = E_epochᵗ x_0`, so the
//! algorithm exposes the *first-moment* (expected-iterate) operator, where with-replacement
//! sampling beats random reshuffling on the AM-GM counterexample. The mean-square error
//! `E‖x_t‖²` (a second moment) favours RR on the same instance (spec §2.3b caveat); both
//! are reported.
//!
//! | function | what |
//! |---|---|
//! | [`run_averaged_sgd`] | Monte Carlo: averaged model, its norm, mean-square norm, standard errors |
//! | [`expected_iterate`] | exact `E x_t = Eᵗ x_0` from an epoch operator |
//! | [`expected_moments`] | exact `E x_t` and `E‖x_t‖²` for a sampling scheme |
//!
//! # Provenance
//!
//! The paper's own learning task and algorithm were **not recovered** (spec §2.3a). The
//! quadratic is a third-party corollary of De Sa's matrices; *parallel SGD with one-shot
//! averaging* is the spec's own choice. Outputs must be labelled as a derived benchmark.
//!
//! # Determinism
//!
//! Worker `w` draws its epoch orders from
//! `Sampler::new(n, replacement, seed.index(w))`, epoch `e` from `epoch_order(e)`.
//! Workers are split by index into chunks of [`WORKER_CHUNK`]; each chunk sums its
//! workers in index order and chunk results are merged in chunk order, so every output is
//! bitwise independent of the number of threads.

use gdlab_core::linalg::Matrix;
use gdlab_core::sampler::{IndexSampler, Replacement, Sampler};
use gdlab_core::seed::Seed;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::epoch::{
    check_matrices, check_square, matvec, rr_epoch_operator_dp, rr_second_moment_map,
    shuffle_once_trajectory_moments, wr_epoch_operator, wr_second_moment_map,
};
use crate::error::{Result, SamplingError};

/// Workers per chunk: the unit of parallel work and of the deterministic reduction.
pub const WORKER_CHUNK: usize = 256;
/// Largest accepted [`AveragedSgdConfig::n_workers`].
pub const MAX_WORKERS: usize = 1_000_000_000;
/// Largest accepted number of epochs (outputs hold `T + 1` vectors).
pub const MAX_EPOCHS: usize = 100_000;
/// Working-memory budget for chunks in flight (per-chunk buffers scale with `T·d`).
const BATCH_MEMORY_BYTES: usize = 256 << 20;
/// Most chunks simulated per parallel batch.
const MAX_CHUNK_BATCH: usize = 64;

/// Configuration of [`run_averaged_sgd`].
///
/// `Default` is spec §5 Quick, item 5: `K = 20000` workers, `T = 3` epochs, random
/// reshuffling, seed 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AveragedSgdConfig {
    /// Number of independent workers `K` (`1 ≤ K ≤` [`MAX_WORKERS`]).
    pub n_workers: usize,
    /// Number of epochs `T` (`0 ≤ T ≤` [`MAX_EPOCHS`]); one epoch is `n` steps.
    pub n_epochs: usize,
    /// How each worker orders its steps within an epoch (`With` = WR, `Without` = RR).
    pub replacement: Replacement,
    /// Root seed; worker `w` uses `seed.index(w)`.
    pub seed: Seed,
}

impl Default for AveragedSgdConfig {
    fn default() -> Self {
        AveragedSgdConfig {
            n_workers: 20_000,
            n_epochs: 3,
            replacement: Replacement::Without,
            seed: Seed(0),
        }
    }
}

impl AveragedSgdConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`SamplingError::OutOfRangeInt`] naming `n_workers` (must be in `[1, 10⁹]`) or
    /// `n_epochs` (must be in `[0, 100000]`).
    ///
    /// # Examples
    /// ```
    /// use gdlab_sampling::averaged_sgd::AveragedSgdConfig;
    /// let bad = AveragedSgdConfig { n_workers: 0, ..AveragedSgdConfig::default() };
    /// assert!(bad.validate().unwrap_err().to_string().contains("n_workers"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_WORKERS).contains(&self.n_workers) {
            return Err(SamplingError::OutOfRangeInt {
                field: "n_workers",
                value: self.n_workers,
                allowed: "[1, 10^9]",
            });
        }
        check_epochs(self.n_epochs)
    }
}

fn check_epochs(n_epochs: usize) -> Result<()> {
    if n_epochs > MAX_EPOCHS {
        return Err(SamplingError::OutOfRangeInt {
            field: "n_epochs",
            value: n_epochs,
            allowed: "[0, 100000]",
        });
    }
    Ok(())
}

fn check_x0(op: &'static str, x0: &[f64], d: usize) -> Result<()> {
    if x0.len() != d {
        return Err(SamplingError::Dim {
            op,
            field: "x0".to_owned(),
            expected: d,
            got: x0.len(),
        });
    }
    if let Some(index) = x0.iter().position(|v| !v.is_finite()) {
        return Err(SamplingError::NonFinite {
            op,
            field: "x0",
            index,
        });
    }
    Ok(())
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The Monte Carlo result of [`run_averaged_sgd`]; every vector is indexed by the epoch
/// `t = 0..=T` (`t = 0` is `x_0`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AveragedOutcome {
    /// The averaged model `x̄_t = (1/K) Σ_w x_t^{(w)}`.
    pub mean_iterates: Vec<Vec<f64>>,
    /// `‖x̄_t‖`: distance of the averaged model to the optimum `0`.
    pub mean_iterate_norms: Vec<f64>,
    /// `(1/K) Σ_w ‖x_t^{(w)}‖²`: Monte Carlo estimate of `E‖x_t‖²`.
    pub mean_square_norms: Vec<f64>,
    /// Standard error of each coordinate of `x̄_t`, `√(s²/K)` with the unbiased sample
    /// variance `s²`; `None` when `K = 1`.
    pub mean_iterate_std_errs: Option<Vec<Vec<f64>>>,
    /// Standard error of each entry of [`mean_square_norms`](Self::mean_square_norms);
    /// `None` when `K = 1`.
    pub mean_square_std_errs: Option<Vec<f64>>,
    /// The number of workers `K`.
    pub n_workers: usize,
}

/// Running statistics of a set of workers over `len = T + 1` epochs of dimension `d`.
struct Stats {
    count: usize,
    /// Plain sums of the iterates, `len·d`, in worker order.
    sum: Vec<f64>,
    /// Plain sums of `‖x_t‖²`, `len`.
    sq_sum: Vec<f64>,
    /// Welford means and sums of squared deviations of the iterates.
    mean: Vec<f64>,
    m2: Vec<f64>,
    /// The same for `‖x_t‖²`.
    sq_mean: Vec<f64>,
    sq_m2: Vec<f64>,
}

impl Stats {
    fn new(len: usize, d: usize) -> Self {
        Stats {
            count: 0,
            sum: vec![0.0; len * d],
            sq_sum: vec![0.0; len],
            mean: vec![0.0; len * d],
            m2: vec![0.0; len * d],
            sq_mean: vec![0.0; len],
            sq_m2: vec![0.0; len],
        }
    }

    /// Adds one worker's trajectory (`len·d`) and its squared norms (`len`).
    fn push(&mut self, traj: &[f64], sq: &[f64]) {
        self.count += 1;
        let c = self.count as f64;
        welford(&mut self.sum, &mut self.mean, &mut self.m2, traj, c);
        welford(&mut self.sq_sum, &mut self.sq_mean, &mut self.sq_m2, sq, c);
    }

    /// Merges `other` into `self` (Chan et al.'s pairwise update).
    fn merge(&mut self, other: &Stats) {
        if other.count == 0 {
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        chan(
            &mut self.mean,
            &mut self.m2,
            &other.mean,
            &other.m2,
            na,
            nb,
            n,
        );
        chan(
            &mut self.sq_mean,
            &mut self.sq_m2,
            &other.sq_mean,
            &other.sq_m2,
            na,
            nb,
            n,
        );
        self.sum
            .iter_mut()
            .zip(&other.sum)
            .for_each(|(a, b)| *a += b);
        self.sq_sum
            .iter_mut()
            .zip(&other.sq_sum)
            .for_each(|(a, b)| *a += b);
        self.count += other.count;
    }
}

fn welford(sum: &mut [f64], mean: &mut [f64], m2: &mut [f64], x: &[f64], count: f64) {
    for (((s, m), q), v) in sum
        .iter_mut()
        .zip(mean.iter_mut())
        .zip(m2.iter_mut())
        .zip(x)
    {
        *s += v;
        let delta = v - *m;
        *m += delta / count;
        *q += delta * (v - *m);
    }
}

fn chan(mean: &mut [f64], m2: &mut [f64], mean_b: &[f64], m2_b: &[f64], na: f64, nb: f64, n: f64) {
    for (((ma, qa), mb), qb) in mean.iter_mut().zip(m2.iter_mut()).zip(mean_b).zip(m2_b) {
        let delta = mb - *ma;
        *ma += delta * (nb / n);
        *qa += qb + delta * delta * (na * nb / n);
    }
}

/// Simulates workers `first..first + count`, in index order.
fn simulate_chunk(
    rows: &[Vec<f64>],
    d: usize,
    x0: &[f64],
    cfg: &AveragedSgdConfig,
    first: usize,
    count: usize,
) -> Result<Stats> {
    let len = cfg.n_epochs + 1;
    let n = rows.len();
    let mut stats = Stats::new(len, d);
    let mut traj = vec![0.0; len * d];
    let mut sq = vec![0.0; len];
    let mut order = Vec::with_capacity(n);
    let mut x = vec![0.0; d];
    let mut y = vec![0.0; d];
    for w in first..first + count {
        let sampler = Sampler::new(n, cfg.replacement, cfg.seed.index(w as u64))?;
        x.copy_from_slice(x0);
        for t in 0..len {
            if t > 0 {
                sampler.epoch_order((t - 1) as u64, &mut order);
                for &k in &order {
                    let c = &rows[k];
                    for (i, yi) in y.iter_mut().enumerate() {
                        let r = &c[i * d..(i + 1) * d];
                        *yi = r.iter().zip(&x).fold(0.0, |acc, (a, b)| acc + a * b);
                    }
                    std::mem::swap(&mut x, &mut y);
                }
            }
            traj[t * d..(t + 1) * d].copy_from_slice(&x);
            sq[t] = x.iter().map(|v| v * v).sum();
        }
        stats.push(&traj, &sq);
    }
    Ok(stats)
}

/// Runs `K` independent SGD workers for `T` epochs and averages their models.
///
/// Each worker `w` starts at `x_0` and, in epoch `e`, applies `x ← C_k x` for `k` in the
/// order `Sampler::new(n, replacement, seed.index(w)).epoch_order(e)`:
///
/// $$ x^{(w)}_{t+1} = C_{k_n} \cdots C_{k_1} x^{(w)}_t, \qquad \bar x_t = \frac1K \sum_{w=1}^K x^{(w)}_t . $$
///
/// For the derived benchmark pass [`crate::amgm::learning_task_steps`]; any list of
/// square steps works. Expansive steps may overflow to `±∞`; the outcome then contains
/// non-finite numbers (check before reporting).
///
/// # Errors
/// [`SamplingError::OutOfRangeInt`] from [`AveragedSgdConfig::validate`]; the input
/// errors of [`crate::epoch::wr_epoch_operator`] for `steps`; [`SamplingError::Dim`] /
/// [`SamplingError::NonFinite`] when `x0` does not have length `d` or is not finite.
///
/// # Examples
/// ```
/// use gdlab_core::sampler::Replacement;
/// use gdlab_core::seed::Seed;
/// use gdlab_sampling::amgm::learning_task_steps;
/// use gdlab_sampling::averaged_sgd::{run_averaged_sgd, AveragedSgdConfig};
/// let steps = learning_task_steps(5, 1.0)?;
/// let x0 = vec![1.0 / 5f64.sqrt(); 5];
/// let cfg = AveragedSgdConfig { n_workers: 2000, n_epochs: 1, replacement: Replacement::Without, seed: Seed(1) };
/// let out = run_averaged_sgd(&steps, &x0, &cfg)?;
/// // E x_1 = E_RR x_0 = −(19/512) x_0; the average is close to it.
/// let se = out.mean_iterate_std_errs.as_ref().unwrap();
/// assert!((out.mean_iterates[1][0] + 19.0 / 512.0 * x0[0]).abs() < 5.0 * se[1][0]);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.3b (derived benchmark, algorithm \[inferred\]) and §5 Quick, item 5.
pub fn run_averaged_sgd(
    steps: &[Matrix],
    x0: &[f64],
    cfg: &AveragedSgdConfig,
) -> Result<AveragedOutcome> {
    let op = "run_averaged_sgd";
    cfg.validate()?;
    let d = check_matrices(op, "steps", steps)?;
    check_x0(op, x0, d)?;
    let rows: Vec<Vec<f64>> = steps
        .iter()
        .map(|c| {
            (0..d)
                .flat_map(|i| (0..d).map(move |j| c[(i, j)]))
                .collect()
        })
        .collect();
    let len = cfg.n_epochs + 1;
    let k = cfg.n_workers;
    let n_chunks = k.div_ceil(WORKER_CHUNK);
    let per_chunk_bytes = 8 * len * (5 * d + 4);
    let batch = (BATCH_MEMORY_BYTES / per_chunk_bytes.max(1)).clamp(1, MAX_CHUNK_BATCH);
    let mut total = Stats::new(len, d);
    let mut start = 0;
    while start < n_chunks {
        let end = (start + batch).min(n_chunks);
        let results: Vec<Stats> = (start..end)
            .into_par_iter()
            .map(|c| {
                let first = c * WORKER_CHUNK;
                let count = WORKER_CHUNK.min(k - first);
                simulate_chunk(&rows, d, x0, cfg, first, count)
            })
            .collect::<Result<Vec<_>>>()?;
        for s in &results {
            total.merge(s);
        }
        start = end;
    }
    let kf = k as f64;
    let mean_iterates: Vec<Vec<f64>> = total
        .sum
        .chunks(d)
        .map(|s| s.iter().map(|v| v / kf).collect())
        .collect();
    let mean_iterate_norms = mean_iterates.iter().map(|x| norm(x)).collect();
    let mean_square_norms = total.sq_sum.iter().map(|v| v / kf).collect();
    let se = |m2: f64| (m2 / (kf - 1.0) / kf).sqrt();
    let (mean_iterate_std_errs, mean_square_std_errs) = if k >= 2 {
        (
            Some(
                total
                    .m2
                    .chunks(d)
                    .map(|q| q.iter().map(|&v| se(v)).collect())
                    .collect(),
            ),
            Some(total.sq_m2.iter().map(|&v| se(v)).collect()),
        )
    } else {
        (None, None)
    };
    Ok(AveragedOutcome {
        mean_iterates,
        mean_iterate_norms,
        mean_square_norms,
        mean_iterate_std_errs,
        mean_square_std_errs,
        n_workers: k,
    })
}

/// The exact expected iterates `E x_t = Eᵗ x_0`, `t = 0..=T`, and their norms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectedIterate {
    /// `Eᵗ x_0` for `t = 0..=T`.
    pub iterates: Vec<Vec<f64>>,
    /// `‖Eᵗ x_0‖`.
    pub norms: Vec<f64>,
}

/// Exact expected iterates from an expected epoch operator: `E x_t = Eᵗ x_0`.
///
/// Epochs are independent and the steps linear, so the expectation of a product of
/// epochs is the product of expectations (Yun–Sra–Jadbabaie 2021, eqs. (2)–(4)). Pass
/// [`crate::epoch::rr_epoch_operator_dp`] for random reshuffling and
/// [`crate::epoch::wr_epoch_operator`] for with-replacement sampling. (Shuffle once is
/// *not* a power of one operator; use [`expected_moments`].)
///
/// # Errors
/// [`SamplingError::NotSquare`] / [`SamplingError::NonFinite`] for a bad operator;
/// [`SamplingError::Dim`] / [`SamplingError::NonFinite`] for a bad `x0`;
/// [`SamplingError::OutOfRangeInt`] when `n_epochs >` [`MAX_EPOCHS`].
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::learning_task_steps;
/// use gdlab_sampling::averaged_sgd::expected_iterate;
/// use gdlab_sampling::epoch::rr_epoch_operator_dp;
/// // Spec §2.3b: ‖E x_3‖ = (19/512)³ for x_0 = 1/√5 (α = 1, n = 5).
/// let op = rr_epoch_operator_dp(&learning_task_steps(5, 1.0)?)?;
/// let e = expected_iterate(&op, &vec![1.0 / 5f64.sqrt(); 5], 3)?;
/// assert!((e.norms[3] / (19.0f64 / 512.0).powi(3) - 1.0).abs() < 1e-12);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn expected_iterate(
    epoch_operator: &Matrix,
    x0: &[f64],
    n_epochs: usize,
) -> Result<ExpectedIterate> {
    let op = "expected_iterate";
    let d = check_square(op, "epoch_operator", epoch_operator)?;
    check_x0(op, x0, d)?;
    check_epochs(n_epochs)?;
    let iterates = power_trajectory(epoch_operator, x0, n_epochs);
    let norms = iterates.iter().map(|x| norm(x)).collect();
    Ok(ExpectedIterate { iterates, norms })
}

fn power_trajectory(p: &Matrix, x0: &[f64], n_epochs: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(n_epochs + 1);
    out.push(x0.to_vec());
    for t in 0..n_epochs {
        let mut y = vec![0.0; x0.len()];
        matvec(p, &out[t], &mut y);
        out.push(y);
    }
    out
}

/// One epoch's second-moment map `X ↦ E[Pᵀ X P]`.
type SecondMomentMap = fn(&[Matrix], &Matrix) -> Result<Matrix>;

/// Exact first and second moments of SGD on linear steps, per epoch `t = 0..=T`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectedMoments {
    /// `E x_t`.
    pub mean_iterates: Vec<Vec<f64>>,
    /// `‖E x_t‖`: the `K → ∞` limit of [`AveragedOutcome::mean_iterate_norms`].
    pub mean_iterate_norms: Vec<f64>,
    /// `E‖x_t‖²`: the limit of [`AveragedOutcome::mean_square_norms`].
    pub mean_square_norms: Vec<f64>,
}

/// Exact `E x_t` and `E‖x_t‖²` of SGD `x ← C_k x` under a sampling scheme.
///
/// | scheme | `E x_t` | `E‖x_t‖²` |
/// |---|---|---|
/// | `With` | `E_WRᵗ x_0` | `x_0ᵀ Φ_WRᵗ(I) x_0`, `Φ_WR(X) = E[PᵀXP]` ([`crate::epoch::wr_second_moment_map`]) |
/// | `Without` | `E_RRᵗ x_0` | `x_0ᵀ Φ_RRᵗ(I) x_0` ([`crate::epoch::rr_second_moment_map`]) |
/// | `ShuffleOnce` | `E_σ[P_σᵗ] x_0` | `E_σ‖P_σᵗ x_0‖²`, by enumeration (`n ≤ 8`) |
/// | `Fixed` | `Pᵗ x_0`, `P = C_n ⋯ C_1` | `‖Pᵗ x_0‖²` |
///
/// # Errors
/// The input errors of [`run_averaged_sgd`]; [`SamplingError::TooLarge`] when `n`
/// exceeds [`crate::epoch::DP_MAX_N`] (`Without`) or
/// [`crate::epoch::SHUFFLE_ONCE_MAX_N`] (`ShuffleOnce`);
/// [`SamplingError::OutOfRangeInt`] when `n_epochs >` [`MAX_EPOCHS`].
///
/// # Examples
/// ```
/// use gdlab_core::sampler::Replacement;
/// use gdlab_sampling::amgm::learning_task_steps;
/// use gdlab_sampling::averaged_sgd::expected_moments;
/// let steps = learning_task_steps(5, 1.0)?;
/// let x0 = vec![1.0 / 5f64.sqrt(); 5];
/// let rr = expected_moments(&steps, Replacement::Without, &x0, 1)?;
/// let wr = expected_moments(&steps, Replacement::With, &x0, 1)?;
/// // WR wins on the averaged model, RR on the mean-square error (spec §2.3b).
/// assert!(rr.mean_iterate_norms[1] > wr.mean_iterate_norms[1]);
/// assert!(rr.mean_square_norms[1] < wr.mean_square_norms[1]);
/// assert!((rr.mean_square_norms[1] - 421.0 / 131072.0).abs() < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn expected_moments(
    steps: &[Matrix],
    replacement: Replacement,
    x0: &[f64],
    n_epochs: usize,
) -> Result<ExpectedMoments> {
    let op = "expected_moments";
    let d = check_matrices(op, "steps", steps)?;
    check_x0(op, x0, d)?;
    check_epochs(n_epochs)?;
    let quad = |x: &Matrix| {
        let mut y = vec![0.0; d];
        matvec(x, x0, &mut y);
        x0.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>()
    };
    let (mean_iterates, mean_square_norms) = match replacement {
        Replacement::With | Replacement::Without => {
            let (epoch, map): (Matrix, SecondMomentMap) = if replacement == Replacement::With {
                (wr_epoch_operator(steps)?, wr_second_moment_map)
            } else {
                (rr_epoch_operator_dp(steps)?, rr_second_moment_map)
            };
            let iterates = power_trajectory(&epoch, x0, n_epochs);
            let mut x = gdlab_core::linalg::identity(d);
            let mut sq = Vec::with_capacity(n_epochs + 1);
            sq.push(quad(&x));
            for _ in 0..n_epochs {
                x = map(steps, &x)?;
                sq.push(quad(&x));
            }
            (iterates, sq)
        }
        Replacement::ShuffleOnce => {
            let (mean, sq) = shuffle_once_trajectory_moments(steps, x0, n_epochs)?;
            (mean.chunks(d).map(<[f64]>::to_vec).collect(), sq)
        }
        Replacement::Fixed => {
            let mut p = gdlab_core::linalg::identity(d);
            for c in steps {
                p = c * &p;
            }
            let iterates = power_trajectory(&p, x0, n_epochs);
            let sq = iterates
                .iter()
                .map(|x| x.iter().map(|v| v * v).sum())
                .collect();
            (iterates, sq)
        }
    };
    let mean_iterate_norms = mean_iterates.iter().map(|x| norm(x)).collect();
    Ok(ExpectedMoments {
        mean_iterates,
        mean_iterate_norms,
        mean_square_norms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amgm::learning_task_steps;
    use gdlab_core::assert_close;

    fn x0_bad_direction(n: usize) -> Vec<f64> {
        vec![1.0 / (n as f64).sqrt(); n]
    }

    fn bits(o: &AveragedOutcome) -> Vec<u64> {
        let mut v: Vec<u64> = o
            .mean_iterates
            .concat()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        v.extend(o.mean_iterate_norms.iter().map(|x| x.to_bits()));
        v.extend(o.mean_square_norms.iter().map(|x| x.to_bits()));
        if let Some(se) = &o.mean_iterate_std_errs {
            v.extend(se.concat().iter().map(|x| x.to_bits()));
        }
        if let Some(se) = &o.mean_square_std_errs {
            v.extend(se.iter().map(|x| x.to_bits()));
        }
        v
    }

    #[test]
    fn bitwise_independent_of_thread_count() {
        let steps = learning_task_steps(5, 1.0).unwrap();
        let x0 = x0_bad_direction(5);
        for replacement in [Replacement::Without, Replacement::With] {
            // 2000 workers = 7 full chunks and a partial one.
            let cfg = AveragedSgdConfig {
                n_workers: 2000,
                n_epochs: 3,
                replacement,
                seed: Seed(42),
            };
            let run = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| run_averaged_sgd(&steps, &x0, &cfg).unwrap())
            };
            let (one, four) = (run(1), run(4));
            assert_eq!(bits(&one), bits(&four));
            assert_eq!(one.mean_iterates.len(), 4);
        }
    }

    #[test]
    fn monte_carlo_within_five_standard_errors_of_exact() {
        // n = 5, α = 1, x_0 along 1, K = 4096, T = 2: every coordinate of x̄_t and every
        // E‖x_t‖² estimate within 5 standard errors, plus the round-off bound K·ε·|x_0|
        // of summing K values (the only error at t = 0, where every worker is at x_0).
        let steps = learning_task_steps(5, 1.0).unwrap();
        let x0 = x0_bad_direction(5);
        for (i, replacement) in [
            Replacement::Without,
            Replacement::With,
            Replacement::ShuffleOnce,
            Replacement::Fixed,
        ]
        .into_iter()
        .enumerate()
        {
            let cfg = AveragedSgdConfig {
                n_workers: 4096,
                n_epochs: 2,
                replacement,
                seed: Seed(7).index(i as u64),
            };
            let mc = run_averaged_sgd(&steps, &x0, &cfg).unwrap();
            let exact = expected_moments(&steps, replacement, &x0, 2).unwrap();
            let se = mc.mean_iterate_std_errs.as_ref().unwrap();
            let se_sq = mc.mean_square_std_errs.as_ref().unwrap();
            let round_off = 4096.0 * f64::EPSILON;
            for t in 0..=2 {
                for j in 0..5 {
                    let err = (mc.mean_iterates[t][j] - exact.mean_iterates[t][j]).abs();
                    let bound = 5.0 * se[t][j] + round_off * x0[j].abs();
                    assert!(err <= bound, "{replacement} t={t} j={j}: {err} > {bound}");
                }
                let err = (mc.mean_square_norms[t] - exact.mean_square_norms[t]).abs();
                let bound = 5.0 * se_sq[t] + round_off;
                assert!(err <= bound, "{replacement} t={t}: {err} > {bound}");
            }
        }
    }

    #[test]
    fn exact_expected_iterate_matches_spec() {
        // Spec §2.3b / §5 item 5: T = 3, α = 1: 5.1104e-5 (RR) vs 3.0518e-5 (WR).
        let steps = learning_task_steps(5, 1.0).unwrap();
        let x0 = x0_bad_direction(5);
        let rr = expected_iterate(&rr_epoch_operator_dp(&steps).unwrap(), &x0, 3).unwrap();
        let wr = expected_iterate(&wr_epoch_operator(&steps).unwrap(), &x0, 3).unwrap();
        for t in 0..=3 {
            assert_close!(rr.norms[t], (19.0f64 / 512.0).powi(t as i32), rel = 1e-12);
            assert_close!(wr.norms[t], (1.0f64 / 32.0).powi(t as i32), rel = 1e-12);
        }
        assert_close!(rr.norms[3], 5.1104e-5, rel = 1e-4);
        assert_close!(wr.norms[3], 3.0518e-5, rel = 1e-4);
        // expected_moments agrees with expected_iterate.
        let m = expected_moments(&steps, Replacement::Without, &x0, 3).unwrap();
        assert_close!(m.mean_iterate_norms, rr.norms, rel = 1e-12);
        // Second moment at t = 1 is x0ᵀ E[PᵀP] x0 = 421/131072 on the 1 direction.
        assert_close!(m.mean_square_norms[1], 421.0 / 131_072.0, rel = 1e-12);
        let w = expected_moments(&steps, Replacement::With, &x0, 1).unwrap();
        assert_close!(w.mean_square_norms[1], 91.0 / 8192.0, rel = 1e-12);
    }

    #[test]
    fn value_stability() {
        // Pinned: the worker streams (seed.index(w)), the chunked reduction and the step
        // order. A change here changes every study's Monte Carlo numbers.
        let steps = learning_task_steps(3, 1.0).unwrap();
        let x0 = [1.0, -0.5, 0.25];
        for (replacement, pinned) in [
            (Replacement::Without, PINNED_RR),
            (Replacement::With, PINNED_WR),
        ] {
            let cfg = AveragedSgdConfig {
                n_workers: 300,
                n_epochs: 2,
                replacement,
                seed: Seed(2024),
            };
            let out = run_averaged_sgd(&steps, &x0, &cfg).unwrap();
            let got: Vec<u64> = out.mean_iterates[2].iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, pinned.map(f64::to_bits).to_vec(), "{replacement}");
        }
    }

    const PINNED_RR: [f64; 3] = [
        0.0019910622686606467,
        8.552108703984698e-5,
        0.0013260182739009917,
    ];
    const PINNED_WR: [f64; 3] = [
        0.011954155817356165,
        -0.004749122433217939,
        -0.0014794284186494249,
    ];

    #[test]
    fn single_worker_has_no_standard_errors() {
        let steps = learning_task_steps(3, 0.5).unwrap();
        let cfg = AveragedSgdConfig {
            n_workers: 1,
            n_epochs: 0,
            ..AveragedSgdConfig::default()
        };
        let out = run_averaged_sgd(&steps, &[1.0, 2.0, 3.0], &cfg).unwrap();
        assert!(out.mean_iterate_std_errs.is_none() && out.mean_square_std_errs.is_none());
        assert_close!(out.mean_iterates[0], vec![1.0, 2.0, 3.0], abs = 0.0);
        assert_close!(out.mean_square_norms[0], 14.0, abs = 0.0);
    }

    #[test]
    fn config_round_trips_through_serde() {
        let cfg = AveragedSgdConfig::default();
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(
            serde_json::from_str::<AveragedSgdConfig>(&json).unwrap(),
            cfg
        );
        assert!(serde_json::from_str::<AveragedSgdConfig>(
            r#"{"n_workers":1,"n_epochs":1,"replacement":"with","seed":0,"extra":1}"#
        )
        .is_err());
    }

    #[test]
    fn input_errors() {
        let steps = learning_task_steps(3, 1.0).unwrap();
        let x0 = [1.0, 0.0, 0.0];
        let zero = AveragedSgdConfig {
            n_workers: 0,
            ..AveragedSgdConfig::default()
        };
        let e = run_averaged_sgd(&steps, &x0, &zero).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::OutOfRangeInt {
                    field: "n_workers",
                    value: 0,
                    ..
                }
            ),
            "{e}"
        );
        let long = AveragedSgdConfig {
            n_epochs: MAX_EPOCHS + 1,
            ..AveragedSgdConfig::default()
        };
        assert!(matches!(
            long.validate().unwrap_err(),
            SamplingError::OutOfRangeInt {
                field: "n_epochs",
                ..
            }
        ));
        let cfg = AveragedSgdConfig::default();
        let e = run_averaged_sgd(&steps, &[1.0, 0.0], &cfg).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::Dim {
                    expected: 3,
                    got: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = run_averaged_sgd(&steps, &[1.0, f64::NAN, 0.0], &cfg).unwrap_err();
        assert!(
            matches!(e, SamplingError::NonFinite { index: 1, .. }),
            "{e}"
        );
        let ragged = vec![steps[0].clone(), Matrix::zeros(2, 2)];
        assert!(run_averaged_sgd(&ragged, &x0, &cfg).is_err());
        assert!(run_averaged_sgd(&[], &x0, &cfg).is_err());
        assert!(expected_iterate(&Matrix::zeros(3, 2), &x0, 1).is_err());
        assert!(expected_iterate(&steps[0], &x0, MAX_EPOCHS + 1).is_err());
        let nine = learning_task_steps(9, 1.0).unwrap();
        let e = expected_moments(&nine, Replacement::ShuffleOnce, &[0.0; 9], 1).unwrap_err();
        assert!(matches!(e, SamplingError::TooLarge { max: 8, .. }), "{e}");
    }
}
