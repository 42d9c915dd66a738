//! Expected epoch operators of with-replacement sampling and random reshuffling.
//!
//! Given `n` square matrices `A_1, …, A_n` of one size `d` (the linear update of each
//! example; `n` and `d` are independent), one epoch multiplies `n` of them together:
//!
//! | scheme | expected epoch operator | here |
//! |---|---|---|
//! | with replacement (WR) | $E_{WR} = \big(\tfrac1n \sum_k A_k\big)^n$ | [`wr_epoch_operator`] |
//! | random reshuffling (RR) | $E_{RR} = \tfrac1{n!} \sum_\sigma A_{\sigma(1)} \cdots A_{\sigma(n)}$ | [`rr_epoch_operator_dp`], [`rr_epoch_operator_enumerate`] |
//! | shuffle once, `K` epochs | $\tfrac1{n!} \sum_\sigma P_\sigma^K$ | [`shuffle_once_operator`] |
//! | RR second moment | $\mathbb E_\sigma[P_\sigma^\top P_\sigma]$ | [`rr_second_moment`] |
//! | WR second moment | $\mathbb E[P^\top P]$, i.i.d. indices | [`wr_second_moment`] |
//!
//! [`epoch_norms`] compares the spectral norms of `E_WR` and `E_RR`; the AM-GM
//! (Recht–Ré) conjecture says `‖E_RR‖ ≤ ‖E_WR‖` for PSD inputs, and
//! [`crate::amgm::counterexample_family`] breaks it.
//!
//! # Conventions
//!
//! * **Product order.** When the matrices are SGD steps `x ← A_k x` applied in the order
//!   `σ(1), σ(2), …`, one epoch is `P_σ = A_{σ(n)} ⋯ A_{σ(1)}`: the first-applied step is
//!   innermost, next to `x`. Every function here averages over *all* orders with equal
//!   weight, and reversing a permutation is a bijection, so first-moment operators
//!   (`E_RR`, shuffle-once) do not depend on this convention, and neither does
//!   `E_σ[P_σᵀ P_σ]`. The transpose does matter for non-symmetric inputs: second moments
//!   are `E[PᵀP]` (what `E‖P x‖²` needs), not `E[P Pᵀ]`.
//! * **Indices** are 0-based in the API (`matrices[0]` is the paper's `A_1`).
//! * **Normalisation.** The subset DP keeps the *mean* over orderings,
//!   `F̃[S] = F[S] / |S|!`, so intermediate values stay bounded for any `n`; this is the
//!   spec's `F[full] / n!` computed without the large intermediate factor.
//!
//! # Determinism
//!
//! The DP computes each popcount layer's masks in parallel (rayon), but every `F̃[mask]`
//! is summed over `k` in increasing order with faer's sequential kernels, so results are
//! bitwise independent of the thread count. The enumeration splits by the first index and
//! reduces the `n` partial sums in index order.
//!
//! # References
//!
//! C. De Sa, "Random Reshuffling is Not Always Better", NeurIPS 2020; spec
//! `random-reshuffling-amgm.md` §1 (definitions) and §2.2 (algorithms). Yun, Sra &
//! Jadbabaie, COLT 2021 open problem, eqs. (1)–(4) (expected iterates after K epochs).

use faer::linalg::matmul::matmul;
use faer::{Accum, Par};
use gdlab_core::linalg::{identity, matrix_power, spectral_norm, sym_spectral_norm, Matrix};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SamplingError};

/// Largest `n` accepted by [`rr_epoch_operator_enumerate`] (`10! ≈ 3.6·10⁶` products).
pub const ENUMERATE_MAX_N: usize = 10;
/// Largest `n` accepted by the subset DP ([`rr_epoch_operator_dp`], [`rr_second_moment`]):
/// `O(2ⁿ · n · d³)` time.
pub const DP_MAX_N: usize = 22;
/// Largest `n` accepted by [`shuffle_once_operator`] and the other shuffle-once
/// enumerations (`8! = 40320` permutations).
pub const SHUFFLE_ONCE_MAX_N: usize = 8;
/// Working-memory limit of the subset DP: it keeps two popcount layers of `d × d` matrices
/// (at most `C(n, ⌊n/2⌋) + C(n, ⌊n/2⌋ − 1)` of them, 8 bytes per entry).
pub const DP_MEMORY_LIMIT_BYTES: u128 = 8 << 30;

/// Checks a list of matrices: non-empty, each square with `dim ≥ 1`, all of one size,
/// all entries finite. Returns the common dimension.
pub(crate) fn check_matrices(
    op: &'static str,
    field: &'static str,
    mats: &[Matrix],
) -> Result<usize> {
    let first = mats.first().ok_or(SamplingError::Empty { op, field })?;
    let d = first.nrows();
    for (index, a) in mats.iter().enumerate() {
        if a.nrows() != a.ncols() || a.nrows() == 0 {
            return Err(SamplingError::NotSquare {
                op,
                field,
                index,
                rows: a.nrows(),
                cols: a.ncols(),
            });
        }
        if a.nrows() != d {
            return Err(SamplingError::Dim {
                op,
                field: format!("{field}[{index}]"),
                expected: d,
                got: a.nrows(),
            });
        }
        if !all_finite(a) {
            return Err(SamplingError::NonFinite { op, field, index });
        }
    }
    Ok(d)
}

/// Checks one square matrix with `dim ≥ 1` and finite entries; returns its dimension.
pub(crate) fn check_square(op: &'static str, field: &'static str, a: &Matrix) -> Result<usize> {
    check_matrices(op, field, std::slice::from_ref(a))
}

fn all_finite(a: &Matrix) -> bool {
    (0..a.ncols()).all(|j| (0..a.nrows()).all(|i| a[(i, j)].is_finite()))
}

/// `true` when `a` is square and equal to its transpose, bit for bit.
#[must_use]
pub fn is_exactly_symmetric(a: &Matrix) -> bool {
    a.nrows() == a.ncols()
        && (0..a.nrows()).all(|i| (0..i).all(|j| a[(i, j)].to_bits() == a[(j, i)].to_bits()))
}

/// `n!` as `f64`; exact for `n ≤ 22` (the odd part of `22!` is below `2⁵³`).
pub(crate) fn factorial(n: usize) -> f64 {
    (1..=n).fold(1.0, |acc, k| acc * k as f64)
}

fn add_assign(acc: &mut Matrix, b: &Matrix) {
    for j in 0..acc.ncols() {
        for i in 0..acc.nrows() {
            acc[(i, j)] += b[(i, j)];
        }
    }
}

fn scale_in_place(acc: &mut Matrix, c: f64) {
    for j in 0..acc.ncols() {
        for i in 0..acc.nrows() {
            acc[(i, j)] *= c;
        }
    }
}

/// Arithmetic mean `(1/n) Σ_k A_k`, summed in index order.
///
/// # Errors
/// As [`wr_epoch_operator`].
pub fn mean_matrix(matrices: &[Matrix]) -> Result<Matrix> {
    let d = check_matrices("mean_matrix", "matrices", matrices)?;
    Ok(mean_unchecked(matrices, d))
}

fn mean_unchecked(matrices: &[Matrix], d: usize) -> Matrix {
    let mut acc = Matrix::zeros(d, d);
    for a in matrices {
        add_assign(&mut acc, a);
    }
    scale_in_place(&mut acc, 1.0 / matrices.len() as f64);
    acc
}

fn u32_epochs(op: &'static str, field: &'static str, n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| SamplingError::TooLarge {
        op,
        field,
        value: n,
        max: u32::MAX as usize,
        hint: "matrix powers take a 32-bit exponent",
    })
}

/// The with-replacement epoch operator `E_WR = ((1/n) Σ_k A_k)ⁿ`.
///
/// With `n` i.i.d. uniform indices `j_1, …, j_n`, independence factors the expectation:
///
/// $$ E_{WR} = \mathbb E\big[A_{j_1} \cdots A_{j_n}\big] = \Big(\frac1n \sum_{k=1}^n A_k\Big)^n. $$
///
/// # Errors
/// [`SamplingError::Empty`] for an empty list, [`SamplingError::NotSquare`] /
/// [`SamplingError::Dim`] for non-square or ragged inputs, [`SamplingError::NonFinite`]
/// for NaN/∞ entries.
///
/// # Examples
/// ```
/// use gdlab_core::linalg::{from_rows, max_abs_diff};
/// use gdlab_sampling::epoch::wr_epoch_operator;
/// // mean of diag(1, 0) and diag(0, 1) is I/2, squared: I/4.
/// let a = from_rows(&[vec![1.0, 0.0], vec![0.0, 0.0]]);
/// let b = from_rows(&[vec![0.0, 0.0], vec![0.0, 1.0]]);
/// let e = wr_epoch_operator(&[a, b])?;
/// let quarter = from_rows(&[vec![0.25, 0.0], vec![0.0, 0.25]]);
/// assert!(max_abs_diff(&e, &quarter) < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §1 and §2.2 (`e_wr`); Yun–Sra–Jadbabaie 2021, eq. (2).
pub fn wr_epoch_operator(matrices: &[Matrix]) -> Result<Matrix> {
    let op = "wr_epoch_operator";
    let d = check_matrices(op, "matrices", matrices)?;
    let power = u32_epochs(op, "n", matrices.len())?;
    Ok(matrix_power(&mean_unchecked(matrices, d), power))
}

/// Visits every permutation's product `A_{σ(0)} ⋯ A_{σ(n−1)}` (depth-first with shared
/// prefixes), split into `n` tasks by the first index; returns the per-task states in
/// index order.
fn for_each_permutation_product<S, I, L>(matrices: &[Matrix], d: usize, init: I, leaf: L) -> Vec<S>
where
    S: Send,
    I: Fn() -> S + Sync,
    L: Fn(&mut S, &Matrix) + Sync,
{
    let n = matrices.len();
    (0..n)
        .into_par_iter()
        .map(|first| {
            let mut state = init();
            let mut prefixes: Vec<Matrix> = (0..n).map(|_| Matrix::zeros(d, d)).collect();
            prefixes[0] = matrices[first].clone();
            let mut used = vec![false; n];
            used[first] = true;
            permutation_dfs(matrices, 1, &mut prefixes, &mut used, &mut state, &leaf);
            state
        })
        .collect()
}

fn permutation_dfs<S, L>(
    matrices: &[Matrix],
    depth: usize,
    prefixes: &mut [Matrix],
    used: &mut [bool],
    state: &mut S,
    leaf: &L,
) where
    L: Fn(&mut S, &Matrix),
{
    let n = matrices.len();
    if depth == n {
        leaf(state, &prefixes[n - 1]);
        return;
    }
    for j in 0..n {
        if used[j] {
            continue;
        }
        used[j] = true;
        let (done, rest) = prefixes.split_at_mut(depth);
        matmul(
            rest[0].as_mut(),
            Accum::Replace,
            done[depth - 1].as_ref(),
            matrices[j].as_ref(),
            1.0,
            Par::Seq,
        );
        gdlab_core::linalg::clear_simd_state();
        permutation_dfs(matrices, depth + 1, prefixes, used, state, leaf);
        used[j] = false;
    }
}

fn check_enumerable(
    op: &'static str,
    matrices: &[Matrix],
    max: usize,
    hint: &'static str,
) -> Result<usize> {
    let d = check_matrices(op, "matrices", matrices)?;
    if matrices.len() > max {
        return Err(SamplingError::TooLarge {
            op,
            field: "n",
            value: matrices.len(),
            max,
            hint,
        });
    }
    Ok(d)
}

/// `E_RR` by brute force: the sum of all `n!` permutation products, divided by `n!`.
///
/// $$ E_{RR} = \frac{1}{n!} \sum_{\sigma \in S_n} A_{\sigma(1)} A_{\sigma(2)} \cdots A_{\sigma(n)} $$
///
/// An independent check of [`rr_epoch_operator_dp`]: products are formed depth-first with
/// shared prefixes (about `e · n!` products of `d × d` matrices), so keep `n` small.
///
/// # Errors
/// [`SamplingError::TooLarge`] when `n >` [`ENUMERATE_MAX_N`]; otherwise as
/// [`wr_epoch_operator`].
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::counterexample_family;
/// use gdlab_sampling::epoch::{rr_epoch_operator_dp, rr_epoch_operator_enumerate};
/// use gdlab_core::linalg::max_abs_diff;
/// let a = counterexample_family(5)?;
/// let brute = rr_epoch_operator_enumerate(&a)?; // 120 permutations
/// assert!(max_abs_diff(&brute, &rr_epoch_operator_dp(&a)?) < 1e-12);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.2 (`e_rr_enumerate`).
pub fn rr_epoch_operator_enumerate(matrices: &[Matrix]) -> Result<Matrix> {
    let d = check_enumerable(
        "rr_epoch_operator_enumerate",
        matrices,
        ENUMERATE_MAX_N,
        "n! products; use rr_epoch_operator_dp for larger n",
    )?;
    let partial = for_each_permutation_product(matrices, d, || Matrix::zeros(d, d), add_assign);
    let mut total = Matrix::zeros(d, d);
    for p in &partial {
        add_assign(&mut total, p);
    }
    scale_in_place(&mut total, 1.0 / factorial(matrices.len()));
    Ok(total)
}

/// Binomial coefficients `C(a, b)` for `a, b ≤ n`.
fn binomials(n: usize) -> Vec<Vec<usize>> {
    let mut c = vec![vec![0usize; n + 1]; n + 1];
    for a in 0..=n {
        c[a][0] = 1;
        for b in 1..=a {
            c[a][b] = c[a - 1][b - 1] + if b < a { c[a - 1][b] } else { 0 };
        }
    }
    c
}

/// Masks of `n` bits with exactly `k` set, in increasing numeric order (Gosper's hack).
fn masks_with_popcount(n: usize, k: usize) -> Vec<u32> {
    if k == 0 {
        return vec![0];
    }
    let limit = 1u64 << n;
    let mut out = Vec::new();
    let mut m: u64 = (1u64 << k) - 1;
    while m < limit {
        out.push(m as u32);
        let c = m & m.wrapping_neg();
        let r = m + c;
        m = (((r ^ m) >> 2) / c) | r;
    }
    out
}

/// Colexicographic rank of `mask` among masks with the same popcount; equals its position
/// in increasing numeric order: `Σ_i C(b_i, i + 1)` over its set bits `b_0 < b_1 < …`.
fn colex_rank(mask: u32, binom: &[Vec<usize>]) -> usize {
    let mut rank = 0;
    let mut i = 0;
    let mut m = mask;
    while m != 0 {
        let b = m.trailing_zeros() as usize;
        rank += binom[b].get(i + 1).copied().unwrap_or(0);
        i += 1;
        m &= m - 1;
    }
    rank
}

fn check_dp(op: &'static str, matrices: &[Matrix]) -> Result<usize> {
    let d = check_enumerable(
        op,
        matrices,
        DP_MAX_N,
        "the subset DP costs O(2^n · n · d³) time",
    )?;
    let n = matrices.len();
    let binom = binomials(n);
    let widest = (1..=n)
        .map(|k| binom[n][k] + binom[n][k - 1])
        .max()
        .unwrap_or(1) as u128;
    let required = (widest + n as u128 + 2) * (d as u128) * (d as u128) * 8;
    if required > DP_MEMORY_LIMIT_BYTES {
        return Err(SamplingError::MemoryLimit {
            op,
            required_bytes: required,
            limit_bytes: DP_MEMORY_LIMIT_BYTES,
            n,
            dim: d,
        });
    }
    Ok(d)
}

/// The layered subset DP shared by the first- and second-moment operators.
///
/// `layer[k]` holds one matrix per `k`-subset (colex order). `accumulate(out, scratch,
/// prev, j, weight)` adds `weight ·` (the contribution of appending index `j` to the subset
/// whose value is `prev`) to `out`; it is called for `j` in increasing order.
fn subset_dp<F>(matrices: &[Matrix], d: usize, start: Matrix, accumulate: F) -> Matrix
where
    F: Fn(&mut Matrix, &mut Matrix, &Matrix, usize, f64) + Sync,
{
    let n = matrices.len();
    let binom = binomials(n);
    let mut prev: Vec<Matrix> = vec![start];
    for k in 1..=n {
        let weight = 1.0 / k as f64;
        let masks = masks_with_popcount(n, k);
        let prev_ref = &prev;
        let binom_ref = &binom;
        let acc_ref = &accumulate;
        let cur: Vec<Matrix> = masks
            .par_iter()
            .map_init(
                || Matrix::zeros(d, d),
                |scratch, &mask| {
                    let mut out = Matrix::zeros(d, d);
                    for j in 0..n {
                        if mask & (1 << j) != 0 {
                            let sub = mask & !(1u32 << j);
                            let r = colex_rank(sub, binom_ref);
                            debug_assert!(r < prev_ref.len());
                            acc_ref(&mut out, scratch, &prev_ref[r], j, weight);
                        }
                    }
                    out
                },
            )
            .collect();
        prev = cur;
    }
    prev.pop().unwrap_or_else(|| identity(d))
}

/// `E_RR` by the subset dynamic program of spec §2.2.
///
/// With `F̃[∅] = I` and, for every non-empty subset `S` of indices (by increasing size),
///
/// $$ \tilde F(S) = \frac{1}{|S|} \sum_{k \in S} \tilde F(S \setminus \{k\})\, A_k, \qquad E_{RR} = \tilde F(\{1..n\}), $$
///
/// where `F̃[S]` is the mean over the `|S|!` orderings of `S` of their products (the
/// spec's `F[S] / |S|!`). Cost `O(2ⁿ · n · d³)` time; memory two popcount layers.
///
/// # Errors
/// [`SamplingError::TooLarge`] when `n >` [`DP_MAX_N`];
/// [`SamplingError::MemoryLimit`] when two layers exceed [`DP_MEMORY_LIMIT_BYTES`];
/// otherwise as [`wr_epoch_operator`].
///
/// # Examples
/// ```
/// use gdlab_core::linalg::{from_rows, max_abs_diff};
/// use gdlab_sampling::epoch::rr_epoch_operator_dp;
/// // n = 2: E_RR = (A₁A₂ + A₂A₁)/2.
/// let a = from_rows(&[vec![1.0, 2.0], vec![0.0, 1.0]]);
/// let b = from_rows(&[vec![0.0, 1.0], vec![1.0, 0.0]]);
/// let expected = (&a * &b + &b * &a) * faer::Scale(0.5);
/// let e = rr_epoch_operator_dp(&[a, b])?;
/// assert!(max_abs_diff(&e, &expected) < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.2 (`e_rr_subset_dp`).
pub fn rr_epoch_operator_dp(matrices: &[Matrix]) -> Result<Matrix> {
    let d = check_dp("rr_epoch_operator_dp", matrices)?;
    Ok(subset_dp(
        matrices,
        d,
        identity(d),
        |out, _scratch, prev, j, weight| {
            matmul(
                out.as_mut(),
                Accum::Add,
                prev.as_ref(),
                matrices[j].as_ref(),
                weight,
                Par::Seq,
            );
            gdlab_core::linalg::clear_simd_state();
        },
    ))
}

/// `E_σ[Pᵀ X P]` over uniform permutations, with `P = C_{σ(n)} ⋯ C_{σ(1)}` one RR epoch
/// of steps `x ← C_k x`.
///
/// The map `X ↦ E_σ[Pᵀ X P]` is the second-moment operator of one epoch:
/// `E‖x_t‖² = x_0ᵀ Φᵗ(I) x_0` with fresh permutations every epoch. The DP of spec §2.2
/// with `G̃[∅] = X`:
///
/// $$ \tilde G(S) = \frac1{|S|} \sum_{k \in S} C_k^\top\, \tilde G(S \setminus \{k\})\, C_k, $$
///
/// where `k` is the first-applied step among `S` (outermost in `PᵀXP`).
///
/// # Errors
/// [`SamplingError::Dim`] / [`SamplingError::NotSquare`] / [`SamplingError::NonFinite`]
/// if `inner` is not a finite `d × d` matrix; otherwise as [`rr_epoch_operator_dp`].
///
/// # Examples
/// ```
/// use gdlab_core::linalg::{identity, max_abs_diff};
/// use gdlab_sampling::epoch::{rr_second_moment, rr_second_moment_map};
/// use gdlab_sampling::amgm::learning_task_steps;
/// let c = learning_task_steps(5, 1.0)?;
/// let g = rr_second_moment_map(&c, &identity(5))?;
/// assert!(max_abs_diff(&g, &rr_second_moment(&c)?) == 0.0); // same computation, bitwise
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.2 (`rr_second_moment`) and §2.3b caveat.
pub fn rr_second_moment_map(steps: &[Matrix], inner: &Matrix) -> Result<Matrix> {
    let op = "rr_second_moment_map";
    let d = check_dp(op, steps)?;
    check_inner(op, inner, d)?;
    Ok(subset_dp(
        steps,
        d,
        inner.clone(),
        |out, scratch, prev, j, weight| {
            let c = &steps[j];
            matmul(
                scratch.as_mut(),
                Accum::Replace,
                prev.as_ref(),
                c.as_ref(),
                1.0,
                Par::Seq,
            );
            gdlab_core::linalg::clear_simd_state();
            matmul(
                out.as_mut(),
                Accum::Add,
                c.transpose(),
                scratch.as_ref(),
                weight,
                Par::Seq,
            );
            gdlab_core::linalg::clear_simd_state();
        },
    ))
}

fn check_inner(op: &'static str, inner: &Matrix, d: usize) -> Result<()> {
    let di = check_square(op, "inner", inner)?;
    if di != d {
        return Err(SamplingError::Dim {
            op,
            field: "inner".to_owned(),
            expected: d,
            got: di,
        });
    }
    Ok(())
}

/// The RR second moment `E_σ[PᵀP]`, `P = C_{σ(n)} ⋯ C_{σ(1)}` (first-applied step
/// innermost in `P`, so outermost in `PᵀP`): `E‖x_1‖² = x_0ᵀ E_σ[PᵀP] x_0`.
///
/// Equal to [`rr_second_moment_map`] with `X = I`.
///
/// # Errors
/// As [`rr_epoch_operator_dp`].
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::learning_task_steps;
/// use gdlab_sampling::epoch::rr_second_moment;
/// use gdlab_core::linalg::sym_spectral_norm;
/// // Spec §2.3b caveat: at α = 1 the RR second moment has norm 421/131072.
/// let g = rr_second_moment(&learning_task_steps(5, 1.0)?)?;
/// assert!((sym_spectral_norm(&g)? - 421.0 / 131072.0).abs() < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn rr_second_moment(steps: &[Matrix]) -> Result<Matrix> {
    let d = check_dp("rr_second_moment", steps)?;
    rr_second_moment_map(steps, &identity(d))
}

/// `E[Pᵀ X P]` for one with-replacement epoch (`n` i.i.d. uniform steps).
///
/// Independence gives `n` applications of `X ← (1/n) Σ_k C_kᵀ X C_k` (summed in index
/// order), starting from `X = inner`.
///
/// # Errors
/// As [`rr_second_moment_map`], without the limit on `n`.
///
/// # Examples
/// ```
/// use gdlab_core::linalg::{from_rows, identity, max_abs_diff};
/// use gdlab_sampling::epoch::wr_second_moment_map;
/// // One step c·I (n = 1): E[PᵀXP] = c² X.
/// let c = from_rows(&[vec![0.5, 0.0], vec![0.0, 0.5]]);
/// let g = wr_second_moment_map(&[c], &identity(2))?;
/// assert!(max_abs_diff(&g, &from_rows(&[vec![0.25, 0.0], vec![0.0, 0.25]])) < 1e-16);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn wr_second_moment_map(steps: &[Matrix], inner: &Matrix) -> Result<Matrix> {
    let op = "wr_second_moment_map";
    let d = check_matrices(op, "steps", steps)?;
    check_inner(op, inner, d)?;
    let n = steps.len();
    let weight = 1.0 / n as f64;
    let mut x = inner.clone();
    let mut scratch = Matrix::zeros(d, d);
    for _ in 0..n {
        let mut next = Matrix::zeros(d, d);
        for c in steps {
            matmul(
                scratch.as_mut(),
                Accum::Replace,
                x.as_ref(),
                c.as_ref(),
                1.0,
                Par::Seq,
            );
            gdlab_core::linalg::clear_simd_state();
            matmul(
                next.as_mut(),
                Accum::Add,
                c.transpose(),
                scratch.as_ref(),
                weight,
                Par::Seq,
            );
            gdlab_core::linalg::clear_simd_state();
        }
        x = next;
    }
    Ok(x)
}

/// The with-replacement second moment `E[PᵀP]` over `n` i.i.d. uniform steps.
///
/// Equal to [`wr_second_moment_map`] with `X = I`.
///
/// # Errors
/// As [`wr_epoch_operator`].
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::learning_task_steps;
/// use gdlab_sampling::epoch::wr_second_moment;
/// use gdlab_core::linalg::sym_spectral_norm;
/// // Spec §2.3b caveat: at α = 1 the WR second moment has norm 91/8192.
/// let g = wr_second_moment(&learning_task_steps(5, 1.0)?)?;
/// assert!((sym_spectral_norm(&g)? - 91.0 / 8192.0).abs() < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn wr_second_moment(steps: &[Matrix]) -> Result<Matrix> {
    let d = check_matrices("wr_second_moment", "steps", steps)?;
    wr_second_moment_map(steps, &identity(d))
}

/// The shuffle-once (single shuffling) operator after `n_epochs` epochs:
/// `E_σ[P_σ^K]`, one permutation drawn once and reused every epoch.
///
/// $$ E_{SO}^{(K)} = \frac{1}{n!} \sum_{\sigma} \big(A_{\sigma(1)} \cdots A_{\sigma(n)}\big)^K $$
///
/// This is **not** `E_RRᴷ` (fresh permutations every epoch); for `K = 1` the two agree.
///
/// # Errors
/// [`SamplingError::TooLarge`] when `n >` [`SHUFFLE_ONCE_MAX_N`]; otherwise as
/// [`wr_epoch_operator`].
///
/// # Examples
/// ```
/// use gdlab_sampling::amgm::counterexample_family;
/// use gdlab_sampling::epoch::{rr_epoch_operator_dp, shuffle_once_operator};
/// use gdlab_core::linalg::max_abs_diff;
/// let a = counterexample_family(4)?;
/// let once = shuffle_once_operator(&a, 1)?;
/// assert!(max_abs_diff(&once, &rr_epoch_operator_dp(&a)?) < 1e-12);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Yun, Sra & Jadbabaie, COLT 2021 (single-shuffle operator); spec §7.
pub fn shuffle_once_operator(matrices: &[Matrix], n_epochs: u32) -> Result<Matrix> {
    let d = check_enumerable(
        "shuffle_once_operator",
        matrices,
        SHUFFLE_ONCE_MAX_N,
        "enumerates n! permutations",
    )?;
    let partial = for_each_permutation_product(
        matrices,
        d,
        || Matrix::zeros(d, d),
        |acc, product| add_assign(acc, &matrix_power(product, n_epochs)),
    );
    let mut total = Matrix::zeros(d, d);
    for p in &partial {
        add_assign(&mut total, p);
    }
    scale_in_place(&mut total, 1.0 / factorial(matrices.len()));
    Ok(total)
}

/// Per-epoch statistics of shuffle once, starting from `x0`, for `t = 0..=n_epochs`:
/// the mean iterate `E_σ[P_σᵗ x0]` (flattened, `(T+1)·d`) and `E_σ‖P_σᵗ x0‖²`.
pub(crate) fn shuffle_once_trajectory_moments(
    steps: &[Matrix],
    x0: &[f64],
    n_epochs: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let d = check_enumerable(
        "shuffle_once_trajectory_moments",
        steps,
        SHUFFLE_ONCE_MAX_N,
        "enumerates n! permutations",
    )?;
    let len = n_epochs + 1;
    let partial = for_each_permutation_product(
        steps,
        d,
        || (vec![0.0; len * d], vec![0.0; len]),
        |(mean, sq), product| {
            let mut x = x0.to_vec();
            let mut y = vec![0.0; d];
            for t in 0..len {
                if t > 0 {
                    matvec(product, &x, &mut y);
                    std::mem::swap(&mut x, &mut y);
                }
                for (m, v) in mean[t * d..(t + 1) * d].iter_mut().zip(&x) {
                    *m += v;
                }
                sq[t] += x.iter().map(|v| v * v).sum::<f64>();
            }
        },
    );
    let mut mean = vec![0.0; len * d];
    let mut sq = vec![0.0; len];
    for (pm, ps) in &partial {
        mean.iter_mut().zip(pm).for_each(|(a, b)| *a += b);
        sq.iter_mut().zip(ps).for_each(|(a, b)| *a += b);
    }
    let inv = 1.0 / factorial(steps.len());
    mean.iter_mut().for_each(|v| *v *= inv);
    sq.iter_mut().for_each(|v| *v *= inv);
    Ok((mean, sq))
}

/// `y = A x` with the sum over columns in increasing order.
pub(crate) fn matvec(a: &Matrix, x: &[f64], y: &mut [f64]) {
    debug_assert_eq!(a.ncols(), x.len());
    debug_assert_eq!(a.nrows(), y.len());
    y.iter_mut().for_each(|v| *v = 0.0);
    for (j, xj) in x.iter().enumerate() {
        for (i, yi) in y.iter_mut().enumerate() {
            *yi += a[(i, j)] * xj;
        }
    }
}

/// Spectral norm with the right solver: `max |λ|` from the symmetric eigen-solver when
/// `a` is exactly symmetric, the largest singular value otherwise.
///
/// Never the largest *signed* eigenvalue: the AM-GM violation is a negative eigenvalue
/// (spec §7).
///
/// # Errors
/// [`SamplingError::Core`] if the eigen-solver or SVD fails.
///
/// # Examples
/// ```
/// use gdlab_core::linalg::from_rows;
/// use gdlab_sampling::epoch::operator_norm;
/// let a = from_rows(&[vec![-3.0, 0.0], vec![0.0, 1.0]]);
/// assert!((operator_norm(&a)? - 3.0).abs() < 1e-15);
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
pub fn operator_norm(a: &Matrix) -> Result<f64> {
    if is_exactly_symmetric(a) {
        Ok(sym_spectral_norm(a)?)
    } else {
        Ok(spectral_norm(a)?)
    }
}

/// Spectral norms of the two expected epoch operators and their ratio.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochNorms {
    /// `‖E_WR‖`, with-replacement sampling.
    pub wr: f64,
    /// `‖E_RR‖`, random reshuffling.
    pub rr: f64,
    /// `‖E_RR‖ / ‖E_WR‖`: above 1 means RR's expected epoch operator is larger (the AM-GM
    /// inequality fails). `+∞` when `wr = 0 < rr`, and 1 when both are 0.
    pub ratio: f64,
}

/// `‖E_WR‖`, `‖E_RR‖` (subset DP) and their ratio.
///
/// When every input is exactly symmetric the results are symmetric and the norm is
/// `max |λ|` from the symmetric eigen-solver (the violating eigenvalue of the AM-GM
/// counterexample is negative, spec §7); otherwise the largest singular value.
///
/// # Errors
/// As [`rr_epoch_operator_dp`].
///
/// # Examples
/// ```
/// use gdlab_sampling::{amgm::counterexample_family, epoch::epoch_norms};
/// let norms = epoch_norms(&counterexample_family(5)?)?;
/// assert!((norms.wr - 1.0).abs() < 1e-12);
/// assert!((norms.rr - 19.0 / 16.0).abs() < 1e-12); // the AM-GM inequality fails
/// # Ok::<(), gdlab_sampling::SamplingError>(())
/// ```
///
/// # References
/// Spec §2.1 (table) and §5 Quick, items 2 and 4.
pub fn epoch_norms(matrices: &[Matrix]) -> Result<EpochNorms> {
    let rr_op = rr_epoch_operator_dp(matrices)?;
    let wr_op = wr_epoch_operator(matrices)?;
    let (rr, wr) = if matrices.iter().all(is_exactly_symmetric) {
        (sym_spectral_norm(&rr_op)?, sym_spectral_norm(&wr_op)?)
    } else {
        (spectral_norm(&rr_op)?, spectral_norm(&wr_op)?)
    };
    let ratio = if wr > 0.0 {
        rr / wr
    } else if rr > 0.0 {
        f64::INFINITY
    } else {
        1.0
    };
    Ok(EpochNorms { wr, rr, ratio })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amgm::{counterexample_family, learning_task_steps};
    use gdlab_core::assert_close;
    use gdlab_core::linalg::max_abs_diff;
    use gdlab_core::seed::Seed;
    use rand::Rng;

    fn random_matrices(seed: Seed, n: usize, d: usize, symmetric: bool) -> Vec<Matrix> {
        let mut rng = seed.rng();
        (0..n)
            .map(|_| {
                let m = Matrix::from_fn(d, d, |_, _| rng.random_range(-1.0..1.0));
                if symmetric {
                    Matrix::from_fn(d, d, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]))
                } else {
                    m
                }
            })
            .collect()
    }

    fn scaled_tol(a: &Matrix) -> f64 {
        // Relative 1e-12 of the largest entry, at least 1e-12 absolute.
        1e-12
            * (0..a.ncols())
                .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
                .fold(1.0_f64, |m, (i, j)| m.max(a[(i, j)].abs()))
    }

    #[test]
    fn colex_rank_is_position_in_increasing_order() {
        let binom = binomials(8);
        for k in 0..=8 {
            for (pos, &m) in masks_with_popcount(8, k).iter().enumerate() {
                assert_eq!(colex_rank(m, &binom), pos);
                assert_eq!(m.count_ones() as usize, k);
            }
            assert_eq!(masks_with_popcount(8, k).len(), binom[8][k]);
        }
    }

    #[test]
    fn enumeration_and_dp_agree_on_the_family() {
        for n in 3..=7 {
            let a = counterexample_family(n).unwrap();
            let brute = rr_epoch_operator_enumerate(&a).unwrap();
            let dp = rr_epoch_operator_dp(&a).unwrap();
            assert!(max_abs_diff(&brute, &dp) <= scaled_tol(&dp), "n = {n}");
        }
    }

    #[test]
    fn enumeration_and_dp_agree_on_random_matrices() {
        let root = Seed(20200).derive("epoch-random");
        for n in 3..=7 {
            for (s, symmetric) in [(0, true), (1, false)] {
                let a = random_matrices(root.index(10 * n as u64 + s), n, 4, symmetric);
                let brute = rr_epoch_operator_enumerate(&a).unwrap();
                let dp = rr_epoch_operator_dp(&a).unwrap();
                assert!(
                    max_abs_diff(&brute, &dp) <= scaled_tol(&dp),
                    "n = {n}, sym = {symmetric}"
                );
            }
        }
    }

    #[test]
    fn n_and_dim_are_independent() {
        // 3 matrices of size 5 and 6 matrices of size 2.
        for (n, d) in [(3, 5), (6, 2), (1, 3)] {
            let a = random_matrices(Seed(3).index(n as u64), n, d, false);
            let brute = rr_epoch_operator_enumerate(&a).unwrap();
            let dp = rr_epoch_operator_dp(&a).unwrap();
            assert_eq!((dp.nrows(), dp.ncols()), (d, d));
            assert!(max_abs_diff(&brute, &dp) <= scaled_tol(&dp));
        }
    }

    #[test]
    fn n_equals_two_closed_form() {
        // E_RR = (A₁A₂ + A₂A₁)/2 (the two orders, equally likely).
        let a = random_matrices(Seed(11), 2, 3, false);
        let expected = Matrix::from_fn(3, 3, |i, j| {
            0.5 * ((&a[0] * &a[1])[(i, j)] + (&a[1] * &a[0])[(i, j)])
        });
        assert!(max_abs_diff(&rr_epoch_operator_dp(&a).unwrap(), &expected) < 1e-15);
        assert!(max_abs_diff(&rr_epoch_operator_enumerate(&a).unwrap(), &expected) < 1e-15);
        // n = 1: E_RR = E_WR = A.
        let one = &a[..1];
        assert!(max_abs_diff(&rr_epoch_operator_dp(one).unwrap(), &a[0]) < 1e-16);
        assert!(max_abs_diff(&wr_epoch_operator(one).unwrap(), &a[0]) < 1e-16);
    }

    #[test]
    fn second_moments_match_brute_force_for_nonsymmetric_steps() {
        // E_σ[PᵀP] with P = C_{σ(n)}⋯C_{σ(1)}, and E_WR[PᵀP] over all nⁿ index sequences,
        // computed by explicit products in the applied order.
        let n = 4;
        let c = random_matrices(Seed(5), n, 3, false);
        let applied = |order: &[usize]| {
            let mut p = identity(3);
            for &k in order {
                p = &c[k] * &p; // x ← C_k x: the new step multiplies on the left
            }
            p
        };
        let gram = |p: &Matrix| p.transpose() * p;
        let mut rr = Matrix::zeros(3, 3);
        let mut count = 0;
        let mut perm: Vec<usize> = (0..n).collect();
        heap_permutations(&mut perm, n, &mut |o| {
            add_assign(&mut rr, &gram(&applied(o)));
            count += 1;
        });
        assert_eq!(count, 24);
        scale_in_place(&mut rr, 1.0 / 24.0);
        let dp = rr_second_moment(&c).unwrap();
        assert!(max_abs_diff(&dp, &rr) <= scaled_tol(&rr));

        let mut wr = Matrix::zeros(3, 3);
        for code in 0..n.pow(n as u32) {
            let order: Vec<usize> = (0..n).map(|i| code / n.pow(i as u32) % n).collect();
            add_assign(&mut wr, &gram(&applied(&order)));
        }
        scale_in_place(&mut wr, 1.0 / n.pow(n as u32) as f64);
        assert!(max_abs_diff(&wr_second_moment(&c).unwrap(), &wr) <= scaled_tol(&wr));
        // The transpose matters: E[PPᵀ] differs for non-symmetric steps.
        let mut ppt = Matrix::zeros(3, 3);
        let mut perm: Vec<usize> = (0..n).collect();
        heap_permutations(&mut perm, n, &mut |o| {
            let p = applied(o);
            add_assign(&mut ppt, &(&p * p.transpose()));
        });
        scale_in_place(&mut ppt, 1.0 / 24.0);
        assert!(max_abs_diff(&dp, &ppt) > 1e-3);
    }

    fn heap_permutations(a: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
        if k <= 1 {
            f(a);
            return;
        }
        for i in 0..k {
            heap_permutations(a, k - 1, f);
            let j = if k % 2 == 0 { i } else { 0 };
            a.swap(j, k - 1);
        }
    }

    #[test]
    fn shuffle_once_matches_brute_force_and_differs_from_rr_power() {
        let a = counterexample_family(5).unwrap();
        let so = shuffle_once_operator(&a, 3).unwrap();
        let mut brute = Matrix::zeros(5, 5);
        let mut perm: Vec<usize> = (0..5).collect();
        heap_permutations(&mut perm, 5, &mut |o| {
            let mut p = identity(5);
            for &k in o {
                p = &p * &a[k];
            }
            add_assign(&mut brute, &matrix_power(&p, 3));
        });
        scale_in_place(&mut brute, 1.0 / 120.0);
        assert!(max_abs_diff(&so, &brute) <= scaled_tol(&brute));
        let rr3 = matrix_power(&rr_epoch_operator_dp(&a).unwrap(), 3);
        assert!(max_abs_diff(&so, &rr3) > 1e-3);
    }

    #[test]
    fn dp_is_independent_of_thread_count() {
        let a = random_matrices(Seed(77), 9, 5, false);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let e = rr_epoch_operator_dp(&a).unwrap();
                    let g = rr_second_moment(&a).unwrap();
                    let e2 = rr_epoch_operator_enumerate(&a[..6]).unwrap();
                    [e, g, e2]
                        .iter()
                        .flat_map(|m| gdlab_core::linalg::to_rows(m).concat())
                        .map(f64::to_bits)
                        .collect::<Vec<u64>>()
                })
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn symmetric_inputs_use_max_abs_eigenvalue() {
        // The violating eigenvalue of E_RR is negative: −19/16 at n = 5.
        let a = counterexample_family(5).unwrap();
        let e = rr_epoch_operator_dp(&a).unwrap();
        let ev = gdlab_core::linalg::sym_eigenvalues(&e).unwrap();
        assert_close!(ev[0], -19.0 / 16.0, rel = 1e-12);
        assert_close!(ev[4], 29.0 / 64.0, rel = 1e-12);
        assert_close!(operator_norm(&e).unwrap(), 19.0 / 16.0, rel = 1e-12);
    }

    #[test]
    fn nonsymmetric_norms_use_svd() {
        let a = random_matrices(Seed(8), 4, 3, false);
        let norms = epoch_norms(&a).unwrap();
        let rr = spectral_norm(&rr_epoch_operator_dp(&a).unwrap()).unwrap();
        assert_close!(norms.rr, rr, rel = 1e-14);
        assert_close!(norms.ratio, norms.rr / norms.wr, rel = 1e-15);
    }

    #[test]
    fn zero_matrices_give_ratio_one() {
        let z = vec![Matrix::zeros(2, 2); 3];
        let norms = epoch_norms(&z).unwrap();
        assert_close!(norms.ratio, 1.0, abs = 0.0);
    }

    #[test]
    fn alpha_one_second_moments_match_spec() {
        // Spec §2.3b caveat: E_RR[PᵀP] = 1435/1048576·P⊥ + 421/131072·P₁,
        // E_WR[PᵀP] = 365/65536·P⊥ + 91/8192·P₁.
        let c = learning_task_steps(5, 1.0).unwrap();
        let rr = crate::amgm::ones_split(&rr_second_moment(&c).unwrap()).unwrap();
        assert_close!(rr.on_complement, 1435.0 / 1_048_576.0, rel = 1e-12);
        assert_close!(rr.on_ones, 421.0 / 131_072.0, rel = 1e-12);
        assert!(rr.residual < 1e-15);
        let wr = crate::amgm::ones_split(&wr_second_moment(&c).unwrap()).unwrap();
        assert_close!(wr.on_complement, 365.0 / 65536.0, rel = 1e-12);
        assert_close!(wr.on_ones, 91.0 / 8192.0, rel = 1e-12);
        assert!(wr.residual < 1e-15);
    }

    #[test]
    fn input_errors() {
        let e = rr_epoch_operator_dp(&[]).unwrap_err();
        assert!(matches!(e, SamplingError::Empty { .. }), "{e}");
        let ragged = vec![Matrix::zeros(2, 2), Matrix::zeros(3, 3)];
        let e = wr_epoch_operator(&ragged).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::Dim {
                    expected: 2,
                    got: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("matrices[1]"), "{e}");
        let e = rr_epoch_operator_dp(&[Matrix::zeros(2, 3)]).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::NotSquare {
                    rows: 2,
                    cols: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = rr_epoch_operator_dp(&[Matrix::zeros(0, 0)]).unwrap_err();
        assert!(matches!(e, SamplingError::NotSquare { .. }), "{e}");
        let mut nan = identity(2);
        nan[(0, 1)] = f64::NAN;
        let e = epoch_norms(&[identity(2), nan]).unwrap_err();
        assert!(
            matches!(e, SamplingError::NonFinite { index: 1, .. }),
            "{e}"
        );

        let eleven = vec![identity(2); 11];
        let e = rr_epoch_operator_enumerate(&eleven).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::TooLarge {
                    value: 11,
                    max: 10,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("rr_epoch_operator_dp"), "{e}");
        let e = rr_epoch_operator_dp(&vec![identity(1); 23]).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::TooLarge {
                    value: 23,
                    max: 22,
                    ..
                }
            ),
            "{e}"
        );
        let e = rr_second_moment(&vec![identity(1); 23]).unwrap_err();
        assert!(matches!(e, SamplingError::TooLarge { .. }), "{e}");
        let e = shuffle_once_operator(&vec![identity(1); 9], 2).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::TooLarge {
                    value: 9,
                    max: 8,
                    ..
                }
            ),
            "{e}"
        );
        // 22 matrices of size 400: two DP layers need far more than the limit.
        let big = vec![Matrix::zeros(400, 400); 22];
        let e = rr_epoch_operator_dp(&big).unwrap_err();
        assert!(matches!(e, SamplingError::MemoryLimit { .. }), "{e}");
        let e = rr_second_moment_map(&[identity(2)], &identity(3)).unwrap_err();
        assert!(
            matches!(
                e,
                SamplingError::Dim {
                    expected: 2,
                    got: 3,
                    ..
                }
            ),
            "{e}"
        );
    }
}
