//! The state vector: `N = 2ⁿ` complex f64 amplitudes and the gates the model class needs.
//!
//! **Qubit order**: little-endian, as in Qiskit. Basis index `j` ↔ `|j⟩`, and qubit `q` is
//! bit `q` of `j` (qubit 0 is the least-significant bit). A Qiskit label `'01'` (qubit 1
//! = 0, qubit 0 = 1) is index 1 here.
//!
//! **Parallelism and determinism**: every gate is an element-wise or pair-wise update
//! whose result does not depend on how the work is split, so gates are bitwise identical
//! for any rayon thread count. Reductions (norms, expectations) sum fixed-size chunks of
//! [`REDUCE_CHUNK`] amplitudes in index order and then add the chunk sums in index order,
//! so they too are independent of the thread count.
//!
//! **Memory**: a register of `n` qubits takes `16·2ⁿ` bytes. [`StateVector::zeros`] checks
//! the request against a [`MemoryBudget`] *before* allocating and returns
//! [`QuantumError::TooManyQubits`] when it does not fit.

use num_complex::Complex64;
use rayon::prelude::*;

use crate::error::{QuantumError, Result};

/// Chunk length of the ordered reductions (and of the parallel work split).
pub const REDUCE_CHUNK: usize = 1 << 14;

/// Registers below this length run serially (rayon overhead dominates).
const PAR_MIN: usize = 1 << 15;

/// The largest register the simulator ever accepts, whatever the memory budget
/// (`2⁴⁰` amplitudes would be 16 TiB).
pub const MAX_QUBITS: usize = 40;

/// Bytes per amplitude.
pub const BYTES_PER_AMPLITUDE: u64 = 16;

/// How much memory the simulator may use; requests beyond it are refused up front.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Budget in bytes.
    pub bytes: u64,
}

/// 24 GiB: the machine size the project targets (spec/issue: "≥ 24 qubits on a 24 GiB
/// machine").
pub const DEFAULT_BUDGET_BYTES: u64 = 24 << 30;

impl Default for MemoryBudget {
    /// [`MemoryBudget::detect`].
    fn default() -> Self {
        Self::detect()
    }
}

impl MemoryBudget {
    /// A fixed budget.
    #[must_use]
    pub const fn bytes(bytes: u64) -> Self {
        MemoryBudget { bytes }
    }

    /// `MemAvailable` from `/proc/meminfo` when readable, capped at
    /// [`DEFAULT_BUDGET_BYTES`]; [`DEFAULT_BUDGET_BYTES`] otherwise.
    #[must_use]
    pub fn detect() -> Self {
        let avail = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .map(|kb| kb.saturating_mul(1024))
        });
        MemoryBudget {
            bytes: avail.map_or(DEFAULT_BUDGET_BYTES, |a| a.min(DEFAULT_BUDGET_BYTES)),
        }
    }

    /// Checks that `copies` registers of `n_qubits` (plus `extra_bytes`) fit.
    ///
    /// # Errors
    /// [`QuantumError::TooManyQubits`] when they do not, or when `n_qubits > MAX_QUBITS`.
    pub fn check(
        &self,
        n_qubits: usize,
        copies: u64,
        extra_bytes_per_amplitude: u64,
        what: &'static str,
    ) -> Result<()> {
        let per_amp = u128::from(BYTES_PER_AMPLITUDE * copies.max(1) + extra_bytes_per_amplitude);
        let needed = if n_qubits >= 100 {
            u128::MAX
        } else {
            per_amp.saturating_mul(1u128 << n_qubits)
        };
        if n_qubits > MAX_QUBITS || needed > u128::from(self.bytes) {
            let mut max_qubits = 0;
            while max_qubits < MAX_QUBITS
                && per_amp * (1u128 << (max_qubits + 1)) <= u128::from(self.bytes)
            {
                max_qubits += 1;
            }
            return Err(QuantumError::TooManyQubits {
                n_qubits,
                needed_bytes: needed,
                budget_bytes: self.bytes,
                max_qubits,
                what,
            });
        }
        Ok(())
    }
}

/// An `n`-qubit pure state as `2ⁿ` complex amplitudes (little-endian qubit order).
#[derive(Clone, Debug, PartialEq)]
pub struct StateVector {
    n_qubits: usize,
    amps: Vec<Complex64>,
}

/// A 2×2 complex matrix `[[m00, m01], [m10, m11]]`.
pub type Mat2 = [[Complex64; 2]; 2];

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// Standard single-qubit gate matrices (Qiskit conventions).
pub mod gates {
    use super::{c, Mat2};
    use std::f64::consts::FRAC_1_SQRT_2;

    /// Hadamard.
    #[must_use]
    pub fn h() -> Mat2 {
        let s = FRAC_1_SQRT_2;
        [[c(s, 0.0), c(s, 0.0)], [c(s, 0.0), c(-s, 0.0)]]
    }
    /// Pauli X.
    #[must_use]
    pub fn x() -> Mat2 {
        [[c(0.0, 0.0), c(1.0, 0.0)], [c(1.0, 0.0), c(0.0, 0.0)]]
    }
    /// Pauli Y.
    #[must_use]
    pub fn y() -> Mat2 {
        [[c(0.0, 0.0), c(0.0, -1.0)], [c(0.0, 1.0), c(0.0, 0.0)]]
    }
    /// Pauli Z.
    #[must_use]
    pub fn z() -> Mat2 {
        [[c(1.0, 0.0), c(0.0, 0.0)], [c(0.0, 0.0), c(-1.0, 0.0)]]
    }
    /// Phase gate `P(λ) = diag(1, e^{iλ})` (S = P(π/2), T = P(π/4)).
    #[must_use]
    pub fn p(lambda: f64) -> Mat2 {
        [
            [c(1.0, 0.0), c(0.0, 0.0)],
            [c(0.0, 0.0), c(lambda.cos(), lambda.sin())],
        ]
    }
    /// `RX(θ) = exp(−iθX/2)`.
    #[must_use]
    pub fn rx(theta: f64) -> Mat2 {
        let (s, co) = (theta / 2.0).sin_cos();
        [[c(co, 0.0), c(0.0, -s)], [c(0.0, -s), c(co, 0.0)]]
    }
    /// `RY(θ) = exp(−iθY/2)`.
    #[must_use]
    pub fn ry(theta: f64) -> Mat2 {
        let (s, co) = (theta / 2.0).sin_cos();
        [[c(co, 0.0), c(-s, 0.0)], [c(s, 0.0), c(co, 0.0)]]
    }
    /// `RZ(θ) = exp(−iθZ/2) = diag(e^{−iθ/2}, e^{iθ/2})`.
    #[must_use]
    pub fn rz(theta: f64) -> Mat2 {
        let (s, co) = (theta / 2.0).sin_cos();
        [[c(co, -s), c(0.0, 0.0)], [c(0.0, 0.0), c(co, s)]]
    }
    /// Qiskit's `U(θ, φ, λ)`.
    #[must_use]
    pub fn u(theta: f64, phi: f64, lambda: f64) -> Mat2 {
        let (s, co) = (theta / 2.0).sin_cos();
        let e = |a: f64| c(a.cos(), a.sin());
        [
            [c(co, 0.0), -e(lambda) * s],
            [e(phi) * s, e(phi + lambda) * co],
        ]
    }
}

/// Ordered sum of `f(j, chunk)` over fixed chunks: thread-count independent.
fn ordered_sum<T, F>(data: &[T], f: F) -> f64
where
    T: Sync,
    F: Fn(usize, &[T]) -> f64 + Sync,
{
    if data.len() < PAR_MIN {
        let parts: Vec<f64> = data
            .chunks(REDUCE_CHUNK)
            .enumerate()
            .map(|(i, ch)| f(i * REDUCE_CHUNK, ch))
            .collect();
        return parts.iter().sum();
    }
    let parts: Vec<f64> = data
        .par_chunks(REDUCE_CHUNK)
        .enumerate()
        .map(|(i, ch)| f(i * REDUCE_CHUNK, ch))
        .collect();
    parts.iter().sum()
}

/// Ordered complex sum of `f(j, a_chunk, b_chunk)` over fixed chunks of two vectors.
fn ordered_sum2<F>(a: &[Complex64], b: &[Complex64], f: F) -> Complex64
where
    F: Fn(usize, &[Complex64], &[Complex64]) -> Complex64 + Sync,
{
    let parts: Vec<Complex64> = if a.len() < PAR_MIN {
        a.chunks(REDUCE_CHUNK)
            .zip(b.chunks(REDUCE_CHUNK))
            .enumerate()
            .map(|(i, (x, y))| f(i * REDUCE_CHUNK, x, y))
            .collect()
    } else {
        a.par_chunks(REDUCE_CHUNK)
            .zip(b.par_chunks(REDUCE_CHUNK))
            .enumerate()
            .map(|(i, (x, y))| f(i * REDUCE_CHUNK, x, y))
            .collect()
    };
    parts.iter().fold(Complex64::new(0.0, 0.0), |s, p| s + p)
}

/// Applies `f(offset, chunk)` to fixed chunks in parallel (element-wise updates).
fn for_chunks<F>(data: &mut [Complex64], chunk: usize, f: F)
where
    F: Fn(usize, &mut [Complex64]) + Sync,
{
    if data.len() < PAR_MIN {
        for (i, ch) in data.chunks_mut(chunk).enumerate() {
            f(i * chunk, ch);
        }
    } else {
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, ch)| f(i * chunk, ch));
    }
}

/// Applies the 2×2 matrix to every amplitude pair `(j, j + 2^q)` with bit `q` of `j` clear
/// and `(j & cmask) == cmask` (controls). `base` is the global index of `data[0]`.
fn pair_kernel(data: &mut [Complex64], base: usize, q: usize, cmask: usize, m: &Mat2) {
    let h = 1usize << q;
    for (bi, block) in data.chunks_mut(2 * h).enumerate() {
        let (lo, hi) = block.split_at_mut(h);
        let b0 = base + bi * 2 * h;
        for (k, (a0, a1)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
            if (b0 + k) & cmask == cmask {
                let (x0, x1) = (*a0, *a1);
                *a0 = m[0][0] * x0 + m[0][1] * x1;
                *a1 = m[1][0] * x0 + m[1][1] * x1;
            }
        }
    }
}

impl StateVector {
    /// `|0…0⟩` on `n_qubits` qubits, after checking `budget`.
    ///
    /// # Errors
    /// [`QuantumError::TooManyQubits`] when `16·2ⁿ` bytes exceed the budget (checked before
    /// allocating), or `n_qubits > MAX_QUBITS`.
    ///
    /// # Examples
    /// ```
    /// use gdlab_quantum::state::{MemoryBudget, StateVector};
    /// let psi = StateVector::zeros(3, &MemoryBudget::bytes(1 << 20)).unwrap();
    /// assert_eq!(psi.len(), 8);
    /// assert!((psi.expect_z(0) - 1.0).abs() < 1e-15);
    /// assert!(StateVector::zeros(40, &MemoryBudget::bytes(1 << 30)).is_err());
    /// ```
    pub fn zeros(n_qubits: usize, budget: &MemoryBudget) -> Result<Self> {
        budget.check(n_qubits, 1, 0, "one state vector")?;
        let len = 1usize << n_qubits;
        let mut amps = Vec::new();
        amps.try_reserve_exact(len)
            .map_err(|_| QuantumError::TooManyQubits {
                n_qubits,
                needed_bytes: u128::from(BYTES_PER_AMPLITUDE) << n_qubits,
                budget_bytes: budget.bytes,
                max_qubits: n_qubits.saturating_sub(1),
                what: "one state vector (allocation refused)",
            })?;
        amps.resize(len, Complex64::new(0.0, 0.0));
        amps[0] = Complex64::new(1.0, 0.0);
        Ok(StateVector { n_qubits, amps })
    }

    /// The state with the given amplitudes (length must be a power of two ≥ 2), normalised.
    ///
    /// # Errors
    /// [`QuantumError::BadState`] for a length that is not `2ⁿ`, a non-finite entry or a
    /// zero vector.
    pub fn from_amplitudes(amps: Vec<Complex64>) -> Result<Self> {
        let len = amps.len();
        if len < 2 || !len.is_power_of_two() {
            return Err(QuantumError::BadState {
                field: "amplitudes",
                reason: format!("length must be a power of two ≥ 2, got {len}"),
            });
        }
        if amps.iter().any(|a| !a.re.is_finite() || !a.im.is_finite()) {
            return Err(QuantumError::BadState {
                field: "amplitudes",
                reason: "contains NaN or infinity".into(),
            });
        }
        let mut s = StateVector {
            n_qubits: len.trailing_zeros() as usize,
            amps,
        };
        let norm = s.norm();
        if norm.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !norm.is_finite() {
            return Err(QuantumError::BadState {
                field: "amplitudes",
                reason: format!("norm must be positive and finite, got {norm}"),
            });
        }
        let inv = 1.0 / norm;
        for_chunks(&mut s.amps, REDUCE_CHUNK, |_, ch| {
            ch.iter_mut().for_each(|a| *a *= inv);
        });
        Ok(s)
    }

    /// Amplitude encoding `|x⟩ = Σ_j x_j |j⟩ / ‖x‖` of a real vector (length `2ⁿ`).
    ///
    /// The norm ‖x‖ is lost (spec §7 pitfall 5): the state depends on `x/‖x‖` only.
    ///
    /// # Errors
    /// As [`StateVector::from_amplitudes`].
    pub fn amplitude_encoded(x: &[f64]) -> Result<Self> {
        Self::from_amplitudes(x.iter().map(|&v| Complex64::new(v, 0.0)).collect())
    }

    /// Number of qubits `n`.
    #[must_use]
    pub fn n_qubits(&self) -> usize {
        self.n_qubits
    }

    /// Number of amplitudes `N = 2ⁿ`.
    #[must_use]
    pub fn len(&self) -> usize {
        self.amps.len()
    }

    /// Always false (a register has at least one amplitude).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.amps.is_empty()
    }

    /// The amplitudes.
    #[must_use]
    pub fn amplitudes(&self) -> &[Complex64] {
        &self.amps
    }

    /// Mutable amplitudes (the caller keeps the state normalised).
    pub fn amplitudes_mut(&mut self) -> &mut [Complex64] {
        &mut self.amps
    }

    fn check_qubit(&self, q: usize, op: &str) -> Result<()> {
        if q >= self.n_qubits {
            return Err(QuantumError::QubitOutOfRange {
                op: op.to_string(),
                qubit: q,
                n_qubits: self.n_qubits,
            });
        }
        Ok(())
    }

    /// ‖ψ‖ (ordered reduction).
    #[must_use]
    pub fn norm(&self) -> f64 {
        ordered_sum(&self.amps, |_, ch| ch.iter().map(Complex64::norm_sqr).sum()).sqrt()
    }

    /// ⟨self|other⟩ (ordered reduction).
    ///
    /// # Panics
    /// If the registers differ in size (programmer error).
    #[must_use]
    pub fn inner(&self, other: &StateVector) -> Complex64 {
        assert_eq!(self.len(), other.len(), "inner: register sizes differ");
        ordered_sum2(&self.amps, &other.amps, |_, a, b| {
            a.iter()
                .zip(b)
                .fold(Complex64::new(0.0, 0.0), |s, (x, y)| s + x.conj() * y)
        })
    }

    /// Applies a 2×2 unitary to qubit `q`, optionally controlled on the qubits in
    /// `controls` (all must be 1).
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`], or [`QuantumError::BadGate`] if a control equals
    /// the target.
    pub fn apply_controlled(&mut self, m: &Mat2, q: usize, controls: &[usize]) -> Result<()> {
        self.check_qubit(q, "single-qubit gate")?;
        let mut cmask = 0usize;
        for &cq in controls {
            self.check_qubit(cq, "control")?;
            if cq == q {
                return Err(QuantumError::BadGate {
                    gate: "controlled".into(),
                    index: 0,
                    reason: format!("control qubit {cq} equals the target"),
                });
            }
            cmask |= 1 << cq;
        }
        let h = 1usize << q;
        if 2 * h <= REDUCE_CHUNK {
            for_chunks(&mut self.amps, REDUCE_CHUNK, |base, ch| {
                pair_kernel(ch, base, q, cmask, m);
            });
        } else {
            // High qubit: pair the lower and upper halves of each 2h-block chunk by chunk.
            for (bi, block) in self.amps.chunks_mut(2 * h).enumerate() {
                let (lo, hi) = block.split_at_mut(h);
                let b0 = bi * 2 * h;
                let work = |(k, (l, u)): (usize, (&mut [Complex64], &mut [Complex64]))| {
                    for (t, (a0, a1)) in l.iter_mut().zip(u.iter_mut()).enumerate() {
                        if (b0 + k * REDUCE_CHUNK + t) & cmask == cmask {
                            let (x0, x1) = (*a0, *a1);
                            *a0 = m[0][0] * x0 + m[0][1] * x1;
                            *a1 = m[1][0] * x0 + m[1][1] * x1;
                        }
                    }
                };
                if h < PAR_MIN {
                    lo.chunks_mut(REDUCE_CHUNK)
                        .zip(hi.chunks_mut(REDUCE_CHUNK))
                        .enumerate()
                        .for_each(work);
                } else {
                    lo.par_chunks_mut(REDUCE_CHUNK)
                        .zip(hi.par_chunks_mut(REDUCE_CHUNK))
                        .enumerate()
                        .for_each(work);
                }
            }
        }
        Ok(())
    }

    /// Applies a 2×2 unitary to qubit `q`.
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`].
    pub fn apply_1q(&mut self, m: &Mat2, q: usize) -> Result<()> {
        self.apply_controlled(m, q, &[])
    }

    /// CNOT (CX) with control `control` and target `target`.
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`] or [`QuantumError::BadGate`] (same qubit).
    pub fn cnot(&mut self, control: usize, target: usize) -> Result<()> {
        self.apply_controlled(&gates::x(), target, &[control])
    }

    /// CZ on qubits `a`, `b` (symmetric): `−1` on the basis states with both bits set.
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`] or [`QuantumError::BadGate`] (same qubit).
    pub fn cz(&mut self, a: usize, b: usize) -> Result<()> {
        self.check_qubit(a, "cz")?;
        self.check_qubit(b, "cz")?;
        if a == b {
            return Err(QuantumError::BadGate {
                gate: "cz".into(),
                index: 0,
                reason: format!("both qubits are {a}"),
            });
        }
        let mask = (1usize << a) | (1usize << b);
        for_chunks(&mut self.amps, REDUCE_CHUNK, |base, ch| {
            for (k, v) in ch.iter_mut().enumerate() {
                if (base + k) & mask == mask {
                    *v = -*v;
                }
            }
        });
        Ok(())
    }

    /// SWAP of qubits `a` and `b`.
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`] or [`QuantumError::BadGate`] (same qubit).
    pub fn swap(&mut self, a: usize, b: usize) -> Result<()> {
        self.cnot(a, b)?;
        self.cnot(b, a)?;
        self.cnot(a, b)
    }

    /// Multiplies amplitude `j` by `e^{i·phases[j]}` (a diagonal phase layer).
    ///
    /// # Panics
    /// If `phases.len() != self.len()` (programmer error; the model checks shapes).
    pub fn apply_phases(&mut self, phases: &[f64]) {
        self.apply_phases_scaled(phases, 1.0);
    }

    /// Multiplies amplitude `j` by `e^{i·scale·phases[j]}`.
    ///
    /// # Panics
    /// If `phases.len() != self.len()`.
    pub fn apply_phases_scaled(&mut self, phases: &[f64], scale: f64) {
        assert_eq!(phases.len(), self.amps.len(), "apply_phases: length");
        for_chunks(&mut self.amps, REDUCE_CHUNK, |base, ch| {
            for (k, v) in ch.iter_mut().enumerate() {
                let (s, co) = (scale * phases[base + k]).sin_cos();
                *v *= Complex64::new(co, s);
            }
        });
    }

    /// Applies `H_N = H^{⊗n}` by the fast Walsh–Hadamard transform, `O(N log N)`.
    ///
    /// $$ (H_N ψ)_k = 2^{-n/2} \sum_j (-1)^{\mathrm{popcount}(j \wedge k)} ψ_j $$
    ///
    /// The low stages run inside cache-sized chunks; the high stages pair halves.
    pub fn walsh_hadamard(&mut self) {
        let n = self.n_qubits;
        let scale = (-(n as f64) / 2.0).exp2();
        let low = n.min(REDUCE_CHUNK.trailing_zeros() as usize);
        let chunk = (1usize << low).min(self.amps.len());
        for_chunks(&mut self.amps, chunk, |_, ch| fwht_in_place(ch, low));
        for q in low..n {
            let h = 1usize << q;
            for block in self.amps.chunks_mut(2 * h) {
                let (lo, hi) = block.split_at_mut(h);
                let work = |(l, u): (&mut [Complex64], &mut [Complex64])| {
                    for (a0, a1) in l.iter_mut().zip(u.iter_mut()) {
                        let (x0, x1) = (*a0, *a1);
                        *a0 = x0 + x1;
                        *a1 = x0 - x1;
                    }
                };
                if h < PAR_MIN {
                    lo.chunks_mut(REDUCE_CHUNK)
                        .zip(hi.chunks_mut(REDUCE_CHUNK))
                        .for_each(work);
                } else {
                    lo.par_chunks_mut(REDUCE_CHUNK)
                        .zip(hi.par_chunks_mut(REDUCE_CHUNK))
                        .for_each(work);
                }
            }
        }
        for_chunks(&mut self.amps, REDUCE_CHUNK, |_, ch| {
            ch.iter_mut().for_each(|a| *a *= scale);
        });
    }

    /// The quantum Fourier transform, computed as a unitary DFT (rustfft):
    /// `QFT|j⟩ = N^{-1/2} Σ_k e^{2πi jk/N} |k⟩`, in the little-endian basis (this is
    /// Qiskit's `QFT(n)` with its default final swaps). `inverse` applies `QFT†`.
    pub fn qft(&mut self, inverse: bool) {
        let n = self.amps.len();
        let mut planner = rustfft::FftPlanner::<f64>::new();
        // rustfft's "inverse" is the e^{+2πi jk/N} kernel, i.e. the QFT.
        let fft = if inverse {
            planner.plan_fft_forward(n)
        } else {
            planner.plan_fft_inverse(n)
        };
        fft.process(&mut self.amps);
        let s = 1.0 / (n as f64).sqrt();
        for_chunks(&mut self.amps, REDUCE_CHUNK, |_, ch| {
            ch.iter_mut().for_each(|a| *a *= s);
        });
    }

    /// ⟨Z_q⟩ = Σ_j (−1)^{bit q of j} |ψ_j|² (ordered reduction).
    ///
    /// # Panics
    /// If `q ≥ n` (use [`StateVector::try_expect_z`] for input paths).
    #[must_use]
    pub fn expect_z(&self, q: usize) -> f64 {
        assert!(q < self.n_qubits, "expect_z: qubit out of range");
        let bit = 1usize << q;
        ordered_sum(&self.amps, |base, ch| {
            ch.iter()
                .enumerate()
                .map(|(k, a)| {
                    if (base + k) & bit == 0 {
                        a.norm_sqr()
                    } else {
                        -a.norm_sqr()
                    }
                })
                .sum()
        })
    }

    /// ⟨Z_q⟩ with a checked qubit index.
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`].
    pub fn try_expect_z(&self, q: usize) -> Result<f64> {
        self.check_qubit(q, "expectation of Z")?;
        Ok(self.expect_z(q))
    }

    /// ⟨P₀⟩ on qubit `q`: the probability that qubit `q` reads 0, `(1 + ⟨Z_q⟩)/2`
    /// computed directly as `Σ_{bit q = 0} |ψ_j|²`.
    ///
    /// # Panics
    /// If `q ≥ n`.
    #[must_use]
    pub fn expect_p0(&self, q: usize) -> f64 {
        assert!(q < self.n_qubits, "expect_p0: qubit out of range");
        let bit = 1usize << q;
        ordered_sum(&self.amps, |base, ch| {
            ch.iter()
                .enumerate()
                .filter(|(k, _)| (base + k) & bit == 0)
                .map(|(_, a)| a.norm_sqr())
                .sum()
        })
    }

    /// Class-projector expectations ⟨Π_c⟩, c = 0..2^m, where Π_c projects onto the basis
    /// states whose low `m` qubits read `c` **\[design\]**. They sum to 1.
    ///
    /// # Errors
    /// [`QuantumError::QubitOutOfRange`] when `m > n` or `m == 0`.
    pub fn class_probabilities(&self, m: usize) -> Result<Vec<f64>> {
        if m == 0 || m > self.n_qubits {
            return Err(QuantumError::QubitOutOfRange {
                op: "class projectors (number of class qubits)".into(),
                qubit: m,
                n_qubits: self.n_qubits,
            });
        }
        let classes = 1usize << m;
        let mask = classes - 1;
        let partials: Vec<Vec<f64>> = if self.amps.len() < PAR_MIN {
            self.amps
                .chunks(REDUCE_CHUNK)
                .enumerate()
                .map(|(i, ch)| class_chunk(i * REDUCE_CHUNK, ch, mask))
                .collect()
        } else {
            self.amps
                .par_chunks(REDUCE_CHUNK)
                .enumerate()
                .map(|(i, ch)| class_chunk(i * REDUCE_CHUNK, ch, mask))
                .collect()
        };
        let mut out = vec![0.0; classes];
        for p in partials {
            for (o, v) in out.iter_mut().zip(p) {
                *o += v;
            }
        }
        Ok(out)
    }

    /// The probabilities `|ψ_j|²` of the computational-basis outcomes.
    #[must_use]
    pub fn probabilities(&self) -> Vec<f64> {
        self.amps.iter().map(Complex64::norm_sqr).collect()
    }
}

fn class_chunk(base: usize, ch: &[Complex64], mask: usize) -> Vec<f64> {
    let mut out = vec![0.0; mask + 1];
    for (k, a) in ch.iter().enumerate() {
        out[(base + k) & mask] += a.norm_sqr();
    }
    out
}

/// Unnormalised in-place Walsh–Hadamard butterflies on the low `stages` bits of `data`
/// (`data.len()` a multiple of `2^stages`).
fn fwht_in_place(data: &mut [Complex64], stages: usize) {
    for q in 0..stages {
        let h = 1usize << q;
        for block in data.chunks_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            for (a0, a1) in lo.iter_mut().zip(hi.iter_mut()) {
                let (x0, x1) = (*a0, *a1);
                *a0 = x0 + x1;
                *a1 = x0 - x1;
            }
        }
    }
}

/// The normalised fast Walsh–Hadamard transform of a real vector (length `2ⁿ`), in place:
/// `x ← H_N x` with `H_N = H^{⊗n}`. Used by the structured sketch of the linear case.
///
/// # Panics
/// If the length is not a power of two.
pub fn fwht_real(x: &mut [f64]) {
    let n = x.len();
    assert!(
        n.is_power_of_two(),
        "fwht_real: length must be a power of two"
    );
    let mut h = 1;
    while h < n {
        for block in x.chunks_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            for (a0, a1) in lo.iter_mut().zip(hi.iter_mut()) {
                let (x0, x1) = (*a0, *a1);
                *a0 = x0 + x1;
                *a1 = x0 - x1;
            }
        }
        h *= 2;
    }
    let s = 1.0 / (n as f64).sqrt();
    x.iter_mut().for_each(|v| *v *= s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::assert_close;

    fn budget() -> MemoryBudget {
        MemoryBudget::bytes(1 << 30)
    }

    fn random_state(n: usize, seed: u64) -> StateVector {
        let mut rng = gdlab_core::Seed(seed).rng();
        let amps = (0..1usize << n)
            .map(|_| {
                Complex64::new(
                    gdlab_core::normal::uniform(&mut rng) - 0.5,
                    gdlab_core::normal::uniform(&mut rng) - 0.5,
                )
            })
            .collect();
        StateVector::from_amplitudes(amps).unwrap()
    }

    /// Dense `H^{⊗n}` entries (−1)^{popcount(j∧k)}/√N, applied by a plain mat-vec.
    fn dense_hadamard(psi: &StateVector) -> Vec<Complex64> {
        let n = psi.len();
        let s = 1.0 / (n as f64).sqrt();
        (0..n)
            .map(|k| {
                (0..n).fold(Complex64::new(0.0, 0.0), |acc, j| {
                    let sign = if (j & k).count_ones() % 2 == 0 { s } else { -s };
                    acc + psi.amplitudes()[j] * sign
                })
            })
            .collect()
    }

    #[test]
    fn walsh_hadamard_matches_dense_and_is_an_involution() {
        for n in [1, 3, 5, 15, 16] {
            let psi = random_state(n, 7 + n as u64);
            let mut w = psi.clone();
            w.walsh_hadamard();
            if n <= 5 {
                let d = dense_hadamard(&psi);
                for (a, b) in w.amplitudes().iter().zip(&d) {
                    assert!((a - b).norm() < 1e-14);
                }
            }
            w.walsh_hadamard();
            let err = w
                .amplitudes()
                .iter()
                .zip(psi.amplitudes())
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(err < 1e-13, "n={n}: H·H ≠ I, max err {err}");
            assert_close!(w.norm(), 1.0, abs = 1e-12);
        }
    }

    #[test]
    fn fwht_equals_hadamard_on_every_qubit() {
        for n in [4, 16] {
            let psi = random_state(n, 3);
            let mut a = psi.clone();
            a.walsh_hadamard();
            let mut b = psi.clone();
            for q in 0..n {
                b.apply_1q(&gates::h(), q).unwrap();
            }
            let err = a
                .amplitudes()
                .iter()
                .zip(b.amplitudes())
                .map(|(x, y)| (x - y).norm())
                .fold(0.0, f64::max);
            assert!(err < 1e-13, "n={n} err {err}");
        }
    }

    #[test]
    fn bell_state_and_little_endian_order() {
        let mut s = StateVector::zeros(2, &budget()).unwrap();
        s.apply_1q(&gates::x(), 0).unwrap();
        // X on qubit 0 → index 1 (little-endian)
        assert_close!(s.amplitudes()[1].re, 1.0, abs = 0.0);
        let mut b = StateVector::zeros(2, &budget()).unwrap();
        b.apply_1q(&gates::h(), 0).unwrap();
        b.cnot(0, 1).unwrap();
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert_close!(b.amplitudes()[0].re, h, abs = 1e-15);
        assert_close!(b.amplitudes()[3].re, h, abs = 1e-15);
        assert_close!(b.expect_z(0), 0.0, abs = 1e-15);
        assert_close!(b.expect_p0(1), 0.5, abs = 1e-15);
    }

    #[test]
    fn cz_and_swap() {
        let psi = random_state(3, 11);
        let mut a = psi.clone();
        a.cz(0, 2).unwrap();
        for (j, (x, y)) in a.amplitudes().iter().zip(psi.amplitudes()).enumerate() {
            let want = if j & 5 == 5 { -y } else { *y };
            assert_eq!(*x, want);
        }
        let mut s = psi.clone();
        s.swap(0, 2).unwrap();
        for j in 0..8usize {
            let k = (j & 2) | ((j & 1) << 2) | ((j >> 2) & 1);
            assert!((s.amplitudes()[k] - psi.amplitudes()[j]).norm() < 1e-15);
        }
        assert!(a.cz(1, 1).is_err());
        assert!(matches!(
            a.cz(0, 3),
            Err(QuantumError::QubitOutOfRange { qubit: 3, .. })
        ));
    }

    #[test]
    fn high_qubit_gate_matches_low_path() {
        // n = 17: qubit 16 takes the split-halves path; compare with a swapped-order
        // computation through qubit 0.
        let psi = random_state(17, 5);
        let mut a = psi.clone();
        a.apply_1q(&gates::ry(0.7), 16).unwrap();
        let mut b = psi.clone();
        b.swap(0, 16).unwrap();
        b.apply_1q(&gates::ry(0.7), 0).unwrap();
        b.swap(0, 16).unwrap();
        let err = a
            .amplitudes()
            .iter()
            .zip(b.amplitudes())
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max);
        assert!(err < 1e-15, "{err}");
    }

    #[test]
    fn qft_matches_dense_dft() {
        let psi = random_state(4, 9);
        let mut q = psi.clone();
        q.qft(false);
        let n = 16usize;
        for k in 0..n {
            let want = (0..n).fold(Complex64::new(0.0, 0.0), |acc, j| {
                let ang = 2.0 * std::f64::consts::PI * (j * k) as f64 / n as f64;
                acc + psi.amplitudes()[j] * Complex64::new(ang.cos(), ang.sin())
            }) / 4.0;
            assert!((q.amplitudes()[k] - want).norm() < 1e-14);
        }
        q.qft(true);
        for (a, b) in q.amplitudes().iter().zip(psi.amplitudes()) {
            assert!((a - b).norm() < 1e-14);
        }
    }

    #[test]
    fn class_probabilities_sum_to_one_and_match_z() {
        let psi = random_state(5, 2);
        let p = psi.class_probabilities(2).unwrap();
        assert_close!(p.iter().sum::<f64>(), 1.0, abs = 1e-14);
        let p1 = psi.class_probabilities(1).unwrap();
        assert_close!(p1[0] - p1[1], psi.expect_z(0), abs = 1e-14);
        assert_close!(p1[0], psi.expect_p0(0), abs = 1e-14);
        assert!(psi.class_probabilities(6).is_err());
    }

    #[test]
    fn refuses_too_many_qubits_before_allocating() {
        let b = MemoryBudget::bytes(24 << 30);
        // 24 qubits × 16 B = 256 MiB: fits. 31 qubits = 32 GiB: refused.
        assert!(b.check(24, 1, 0, "x").is_ok());
        match StateVector::zeros(31, &b) {
            Err(QuantumError::TooManyQubits { max_qubits, .. }) => assert_eq!(max_qubits, 30),
            other => panic!("{other:?}"),
        }
        assert!(StateVector::zeros(64, &b).is_err());
        assert!(StateVector::zeros(200, &b).is_err());
    }

    #[test]
    fn parallel_results_are_thread_count_independent() {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let mut s = random_state(18, 1);
                    s.walsh_hadamard();
                    s.apply_1q(&gates::ry(0.3), 17).unwrap();
                    s.cz(3, 17).unwrap();
                    (s.expect_z(17), s.norm(), s.amplitudes().to_vec())
                })
        };
        let (a, b) = (run(1), run(4));
        assert_eq!(a.0.to_bits(), b.0.to_bits());
        assert_eq!(a.1.to_bits(), b.1.to_bits());
        assert!(a.2 == b.2);
    }

    #[test]
    fn fwht_real_matches_complex() {
        let mut x: Vec<f64> = (0..32).map(|i| (i as f64 * 0.37).sin()).collect();
        let psi = StateVector::amplitude_encoded(&x).unwrap();
        let nrm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        fwht_real(&mut x);
        let mut p = psi.clone();
        p.walsh_hadamard();
        for (a, b) in x.iter().zip(p.amplitudes()) {
            assert!((a / nrm - b.re).abs() < 1e-14 && b.im.abs() < 1e-15);
        }
    }
}
