//! What workers send ([`WorkerCompression`]) and how the server combines it ([`ServerRule`]).

use gdlab_core::GdRng;
use rand::Rng;

use crate::kernel::{sign, stochastic_sign_into};

/// How a worker compresses its estimate `v` into the ±1 message `q` it sends.
///
/// | variant | `q` | used by |
/// |---|---|---|
/// | [`Sign`](WorkerCompression::Sign) | `sign(v)` (`sign(0) = 0`) | signSGD-MV |
/// | [`ClippedStochasticSign`](WorkerCompression::ClippedStochasticSign) | `S_R(clip_{[−R,R]}(v))` | SSVR-MV Option 1 |
/// | [`ProjectedStochasticSign`](WorkerCompression::ProjectedStochasticSign) | `S_R(Π_{‖·‖₂≤R}(v))` | SSVR-MV Option 2 \[inferred\] |
///
/// The stochastic sign `S_R` (spec §2.4, verified via the follow-up paper): coordinate `k`
/// is `+1` with probability `(1 + v_k/R)/2`, else `−1`, so `E[S_R(v)] = v/R` when
/// `‖v‖_∞ ≤ R`. The theory assumes `‖v‖_∞ ≤ R` (Theorem 3's `R = 4G`, `β = 1/2` makes it
/// automatic); when it fails, Option 1 clips each coordinate to `[−R, R]` (then
/// `E[q_k] = clip(v_k)/R`, a biased message) and the clipping is counted
/// ([`CompressInfo`]); Option 2 projects onto the ℓ2 ball, which also bounds `‖·‖_∞`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkerCompression {
    /// `q = sign(v)`.
    Sign,
    /// `q = S_R(clip(v))`, clipping coordinates with `|v_k| > R`.
    ClippedStochasticSign {
        /// `R > 0`.
        radius: f64,
    },
    /// `q = S_R(Π(v))` with `Π` the Euclidean projection onto `{‖u‖₂ ≤ R}`.
    ///
    /// Computed as `S_{max(R, ‖v‖₂)}(v)`, which has the same distribution: projecting
    /// scales `v` by `R/‖v‖₂`, so `(1 + Π(v)_k/R)/2 = (1 + v_k/‖v‖₂)/2`.
    ProjectedStochasticSign {
        /// `R > 0`.
        radius: f64,
    },
}

/// What [`WorkerCompression::compress_into`] observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompressInfo {
    /// Whether the input was altered before the sign: a coordinate was clipped
    /// (`ClippedStochasticSign`) or the vector was projected (`ProjectedStochasticSign`).
    pub altered: bool,
    /// Coordinates with `|v_k| > R` (0 for `Sign`).
    pub coords_out_of_range: u64,
}

impl WorkerCompression {
    /// Writes the message `q` for estimate `v` into `out`.
    ///
    /// `Sign` draws nothing; the stochastic signs draw one uniform per coordinate from
    /// `rng`, in index order.
    ///
    /// # Panics
    /// If `out.len() != v.len()` (a programmer error).
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_optim::majority_vote::WorkerCompression;
    /// let mut rng = Seed(0).rng();
    /// let mut q = [0.0; 3];
    /// let info = WorkerCompression::ClippedStochasticSign { radius: 1.0 }
    ///     .compress_into(&[5.0, -5.0, 0.5], &mut rng, &mut q);
    /// assert_eq!(&q[..2], &[1.0, -1.0]); // clipped to ±R: the sign is then deterministic
    /// assert_eq!(info.coords_out_of_range, 2);
    /// assert!(q[2] == 1.0 || q[2] == -1.0);
    /// ```
    pub fn compress_into(&self, v: &[f64], rng: &mut GdRng, out: &mut [f64]) -> CompressInfo {
        assert_eq!(v.len(), out.len(), "compress_into: length mismatch");
        match *self {
            WorkerCompression::Sign => {
                for (o, &x) in out.iter_mut().zip(v) {
                    *o = sign(x);
                }
                CompressInfo::default()
            }
            WorkerCompression::ClippedStochasticSign { radius } => {
                let n = count_out_of_range(v, radius);
                // The kernel clips v_k/R to [−1, 1] before sampling.
                stochastic_sign_into(v, radius, rng, out);
                CompressInfo {
                    altered: n > 0,
                    coords_out_of_range: n,
                }
            }
            WorkerCompression::ProjectedStochasticSign { radius } => {
                let n = count_out_of_range(v, radius);
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                let projected = norm > radius;
                stochastic_sign_into(v, if projected { norm } else { radius }, rng, out);
                CompressInfo {
                    altered: projected,
                    coords_out_of_range: n,
                }
            }
        }
    }
}

fn count_out_of_range(v: &[f64], radius: f64) -> u64 {
    v.iter().filter(|x| x.abs() > radius).count() as u64
}

/// How the server combines the workers' messages `q_1, …, q_n` into the broadcast `s`.
///
/// | variant | `s` | used by |
/// |---|---|---|
/// | [`Majority`](ServerRule::Majority) | `sign(Σ_j q_j)` | signSGD-MV, SSVR-MV Option 1 (verified) |
/// | [`RandomizedSign`](ServerRule::RandomizedSign) | `S_1((1/n) Σ_j q_j)` | SSVR-MV Option 2 (\[inferred\] form) |
///
/// **Ties**: the majority uses `sign(0) = 0`, so a coordinate where the votes cancel
/// (possible only for an even number of workers with ±1 votes, or with zero votes from
/// `sign`) is broadcast as 0 and does not move. The count of such coordinates is returned.
/// The randomized sign never outputs 0: the mean lies in `[−1, 1]`, so `S_1` is well
/// defined and unbiased for it.
///
/// Both rules sum the messages in the order given (worker order), so the result never
/// depends on how workers were scheduled; sums of ±1/0 entries are exact in `f64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerRule {
    /// `s = sign(Σ_j q_j)`.
    Majority,
    /// `s = S_1((1/n) Σ_j q_j)`.
    RandomizedSign,
}

impl ServerRule {
    /// Writes the broadcast `s` into `out` and returns the number of zero coordinates.
    ///
    /// `rng` is used by `RandomizedSign` only (one uniform per coordinate, in index order).
    ///
    /// # Panics
    /// If `messages` is empty or a message's length differs from `out.len()` (a programmer
    /// error).
    ///
    /// # Examples
    /// ```
    /// use gdlab_core::Seed;
    /// use gdlab_optim::majority_vote::ServerRule;
    /// let (a, b, c) = ([1.0, 1.0, -1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]);
    /// let mut s = [0.0; 3];
    /// let zeros = ServerRule::Majority.aggregate_into(&[&a, &b, &c], &mut Seed(0).rng(), &mut s);
    /// assert_eq!((s, zeros), ([1.0, 1.0, -1.0], 0));
    /// // Two workers that disagree: a tie, broadcast as 0.
    /// let zeros = ServerRule::Majority.aggregate_into(&[&a, &b], &mut Seed(0).rng(), &mut s);
    /// assert_eq!((s, zeros), ([1.0, 0.0, -1.0], 1));
    /// ```
    pub fn aggregate_into(&self, messages: &[&[f64]], rng: &mut GdRng, out: &mut [f64]) -> u64 {
        assert!(!messages.is_empty(), "aggregate_into: no messages");
        out.iter_mut().for_each(|o| *o = 0.0);
        for q in messages {
            assert_eq!(q.len(), out.len(), "aggregate_into: length mismatch");
            for (o, &x) in out.iter_mut().zip(q.iter()) {
                *o += x;
            }
        }
        match self {
            ServerRule::Majority => {
                out.iter_mut().for_each(|o| *o = sign(*o));
            }
            ServerRule::RandomizedSign => {
                let inv = 1.0 / messages.len() as f64;
                for o in out.iter_mut() {
                    let p_plus = 0.5 * (1.0 + (*o * inv).clamp(-1.0, 1.0));
                    let u: f64 = rng.random::<f64>();
                    *o = if u < p_plus { 1.0 } else { -1.0 };
                }
            }
        }
        out.iter().filter(|&&o| o == 0.0).count() as u64
    }
}

/// `E[sign(Σ_j q_j)]` for independent votes `q_j ∈ {−1, +1}` with `P(q_j = +1) = p_plus[j]`:
/// the expected coordinate of the deterministic majority ([`ServerRule::Majority`]) of
/// stochastic signs.
///
/// Computed exactly from the Poisson-binomial distribution of the number of `+1` votes
/// (an O(n²) recursion). With `p_j = (1 + v_j/R)/2` this shows the bias of Option 1: the
/// majority is **not** `sign` of the mean `v` in expectation, which is what creates the
/// heterogeneous-data floor (see [`FloorExample`](super::FloorExample)).
///
/// # Examples
/// ```
/// use gdlab_optim::majority_vote::expected_majority_vote;
/// assert_eq!(expected_majority_vote(&[0.75]), 0.5); // one vote: 2p − 1
/// assert_eq!(expected_majority_vote(&[0.5, 0.5, 0.5]), 0.0);
/// // Unanimity probability 0.9³ + 3·0.9²·0.1 = 0.972 → E = 2·0.972 − 1.
/// assert!((expected_majority_vote(&[0.9; 3]) - 0.944).abs() < 1e-15);
/// ```
#[must_use]
pub fn expected_majority_vote(p_plus: &[f64]) -> f64 {
    // dist[k] = P(exactly k votes are +1 among those seen so far).
    let n = p_plus.len();
    let mut dist = vec![0.0; n + 1];
    dist[0] = 1.0;
    for (seen, &p) in p_plus.iter().enumerate() {
        for k in (0..=seen + 1).rev() {
            let from_plus = if k > 0 { dist[k - 1] * p } else { 0.0 };
            dist[k] = dist[k] * (1.0 - p) + from_plus;
        }
    }
    // Σ q_j = 2k − n.
    dist.iter()
        .enumerate()
        .map(|(k, &pk)| pk * sign((2 * k) as f64 - n as f64))
        .sum()
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values: ±1/0 votes and sums of them are exact in f64
mod tests {
    use super::*;
    use gdlab_core::Seed;

    #[test]
    fn majority_with_ties_and_zeros() {
        let mut rng = Seed(0).rng();
        let mut s = [9.0; 4];
        // 4 workers: 2–2 ties give 0; 3–1 gives the majority.
        let q = [
            [1.0, 1.0, -1.0, 1.0],
            [1.0, -1.0, -1.0, 1.0],
            [-1.0, 1.0, -1.0, -1.0],
            [-1.0, -1.0, 1.0, 1.0],
        ];
        let msgs: Vec<&[f64]> = q.iter().map(|r| &r[..]).collect();
        let zeros = ServerRule::Majority.aggregate_into(&msgs, &mut rng, &mut s);
        assert_eq!(s, [0.0, 0.0, -1.0, 1.0]);
        assert_eq!(zeros, 2);
        // signSGD-MV: plain signs may be 0 (exactly zero gradient coordinates); zeros
        // abstain, so [+1, 0, 0] → +1 and [+1, −1, 0] → 0.
        let (a, b, c) = ([1.0, 1.0], [0.0, -1.0], [0.0, 0.0]);
        let zeros = ServerRule::Majority.aggregate_into(&[&a, &b, &c], &mut rng, &mut s[..2]);
        assert_eq!((&s[..2], zeros), (&[1.0, 0.0][..], 1));
        // Odd n with ±1 votes never ties.
        let q3: Vec<&[f64]> = q[..3].iter().map(|r| &r[..]).collect();
        assert_eq!(
            ServerRule::Majority.aggregate_into(&q3, &mut rng, &mut s),
            0
        );
        assert_eq!(s, [1.0, 1.0, -1.0, 1.0]);
    }

    #[test]
    fn randomized_sign_is_unbiased_for_the_mean_vote() {
        // Mean of the messages: [1, −1, 1/3, −1/3]; E[s] = mean. With N = 100 000 rounds
        // the empirical mean is within 5 standard errors (std ≤ 1 → 5/√N ≈ 0.0158).
        let (a, b, c) = (
            [1.0, -1.0, 1.0, -1.0],
            [1.0, -1.0, 1.0, 1.0],
            [1.0, -1.0, -1.0, -1.0],
        );
        let mean = [1.0, -1.0, 1.0 / 3.0, -1.0 / 3.0];
        let mut acc = [0.0; 4];
        let mut s = [0.0; 4];
        let n = 100_000;
        let mut rng = Seed(5).rng();
        for _ in 0..n {
            let zeros = ServerRule::RandomizedSign.aggregate_into(&[&a, &b, &c], &mut rng, &mut s);
            assert_eq!(zeros, 0);
            for k in 0..4 {
                acc[k] += s[k];
            }
        }
        for k in 0..4 {
            let m = acc[k] / f64::from(n);
            assert!((m - mean[k]).abs() < 5.0 / f64::from(n).sqrt(), "{k}: {m}");
        }
    }

    #[test]
    fn compression_counts_clipping_and_projection() {
        let mut rng = Seed(1).rng();
        let mut q = [0.0; 3];
        let v = [0.5, -3.0, 0.0];
        let info = WorkerCompression::Sign.compress_into(&v, &mut rng, &mut q);
        assert_eq!((q, info), ([1.0, -1.0, 0.0], CompressInfo::default()));
        let info = WorkerCompression::ClippedStochasticSign { radius: 2.0 }
            .compress_into(&v, &mut rng, &mut q);
        assert!(info.altered && info.coords_out_of_range == 1);
        assert!(q[1] == -1.0, "a clipped coordinate's sign is deterministic");
        assert!(q.iter().all(|x| x.abs() == 1.0), "S_R never sends 0");
        // ‖v‖₂ = √9.25 > 2: projected, though only one coordinate exceeds R.
        let info = WorkerCompression::ProjectedStochasticSign { radius: 2.0 }
            .compress_into(&v, &mut rng, &mut q);
        assert!(info.altered && info.coords_out_of_range == 1);
        // Inside the ball: nothing altered.
        let info = WorkerCompression::ProjectedStochasticSign { radius: 4.0 }
            .compress_into(&v, &mut rng, &mut q);
        assert_eq!(info, CompressInfo::default());
        let info = WorkerCompression::ClippedStochasticSign { radius: 4.0 }
            .compress_into(&v, &mut rng, &mut q);
        assert_eq!(info, CompressInfo::default());
    }

    #[test]
    fn projected_stochastic_sign_matches_its_definition() {
        // S_R(Π(v)) has P(+1) = (1 + v_k/‖v‖₂)/2 when ‖v‖₂ > R. Check the mean over
        // N = 100 000 draws against v/‖v‖₂ within 5 standard errors.
        let v = [3.0, -4.0, 0.0, 1.0];
        let norm = 26.0_f64.sqrt();
        let mut rng = Seed(8).rng();
        let (mut q, mut acc) = ([0.0; 4], [0.0; 4]);
        let n = 100_000;
        for _ in 0..n {
            WorkerCompression::ProjectedStochasticSign { radius: 1.0 }
                .compress_into(&v, &mut rng, &mut q);
            for k in 0..4 {
                acc[k] += q[k];
            }
        }
        for k in 0..4 {
            let m = acc[k] / f64::from(n);
            assert!(
                (m - v[k] / norm).abs() < 5.0 / f64::from(n).sqrt(),
                "{k}: {m}"
            );
        }
    }

    #[test]
    fn expected_majority_matches_enumeration() {
        // Brute force over the 2ⁿ vote patterns for n = 1..=5.
        let ps = [0.3, 0.9, 0.55, 0.1, 0.62];
        for n in 1..=ps.len() {
            let p = &ps[..n];
            let mut e = 0.0;
            for mask in 0u32..(1 << n) {
                let (mut prob, mut sum) = (1.0, 0.0);
                for (j, &pj) in p.iter().enumerate() {
                    if mask >> j & 1 == 1 {
                        prob *= pj;
                        sum += 1.0;
                    } else {
                        prob *= 1.0 - pj;
                        sum -= 1.0;
                    }
                }
                e += prob * sign(sum);
            }
            gdlab_core::assert_close!(expected_majority_vote(p), e, abs = 1e-15);
        }
        assert_eq!(expected_majority_vote(&[]), 0.0);
    }
}
