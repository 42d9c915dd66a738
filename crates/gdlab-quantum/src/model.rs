//! The two-party model class of spec §2.0 **\[design\]**, its exact output and its gradients.
//!
//! The paper's theorems are about generic unitaries; the spec fixes this simulable family
//! (labelled **\[design\]** there, structure from the Fig. 2 caption; ordering and initial
//! state unverified):
//!
//! $$ |ψ(θ, x)⟩ = A_L(θ_L)\,B_L(x) ⋯ A_1(θ_1)\,B_1(x)\,|ψ_0⟩, \qquad ℒ(θ, x) = ⟨ψ|O|ψ⟩ $$
//!
//! - Bob's data layer `B_ℓ(x) = H_N · diag(e^{i s x_j})` (scale `s`, default π).
//!   With [`DataEncoding::Amplitude`] Bob's *first* step instead prepares
//!   `|x⟩ = Σ_j x_j|j⟩/‖x‖` (the paper's data loading **\[review\]**; our reading that it
//!   *replaces* `B_1` is **\[design\]**); layers ℓ ≥ 2 keep the phase layer.
//! - Alice's layer `A_ℓ(θ_ℓ) = H_N · diag(e^{i θ_{ℓ,j}})`, `P = N` parameters
//!   ([`AliceLayer::DiagonalPhase`]); or the small-P option [`AliceLayer::RyCz`]:
//!   `depth` sub-layers of RY on every qubit followed by a CZ ladder, `P = n·depth`.
//! - Observable `O = Z₀` (default), `P₀ = |0⟩⟨0|` on qubit 0 (the paper's symbol, Fig. 1
//!   caption; its reading as a projector is unverified), or class projectors.
//!
//! Gradients: [`Model::loss_grad`] is the adjoint method of spec §2.2 (one forward pass,
//! one backward pass carrying `ψ` and `λ = U_{>ℓ}^† O ψ_final`):
//! `∂ℒ/∂θ_{ℓ,j} = −2·Im(a_j·conj(b_j))` for the diagonal layers and
//! `∂ℒ/∂θ = Im(⟨λ|Y_q|ψ⟩)` for `RY` on qubit `q`. [`Model::parameter_shift_grad`] is
//! the shift rule `½[ℒ(θ+π/2) − ℒ(θ−π/2)]` and [`Model::finite_difference_grad`] central
//! differences, both used as checks.

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use crate::error::{QuantumError, Result};
use crate::state::{gates, MemoryBudget, StateVector};
use gdlab_core::ConfigError;

/// How Bob's data enter the circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataEncoding {
    /// Every Bob layer is `H_N·diag(e^{i s x})`, starting from `|0…0⟩` (spec default).
    #[default]
    Phase,
    /// Bob's first step prepares `|x⟩ = x/‖x‖` (amplitude encoding, the paper's way of
    /// loading data **\[review\]**); later Bob layers are phase layers **\[design\]**.
    Amplitude,
}

/// Alice's parameterized layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliceLayer {
    /// `H_N·diag(e^{iθ_j})`, `P = N` parameters per layer (spec §2.0 default).
    DiagonalPhase,
    /// `depth` × (RY on every qubit, then CZ(q, q+1) for q = 0..n−2), `P = n·depth`.
    RyCz {
        /// Number of RY + CZ-ladder sub-layers.
        depth: usize,
    },
}

/// The measured operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observable {
    /// `Z` on qubit 0, values in `[−1, 1]` (spec default).
    #[default]
    Z0,
    /// `P₀ = (I + Z₀)/2`, values in `[0, 1]`.
    P0,
}

/// Configuration of a [`Model`]; [`ModelConfig::build`] validates it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Number of qubits `n` (`N = 2ⁿ`).
    pub n_qubits: usize,
    /// Number of layers `L` (Bob–Alice pairs).
    pub n_layers: usize,
    /// Data scale `s` in `e^{i s x_j}` (spec default π).
    pub data_scale: f64,
    /// Data encoding.
    pub encoding: DataEncoding,
    /// Alice's layer type.
    pub alice: AliceLayer,
    /// Observable.
    pub observable: Observable,
}

impl Default for ModelConfig {
    /// n = 4, L = 2, s = π, phase encoding, diagonal Alice layers, O = Z₀ (spec §2.0).
    fn default() -> Self {
        ModelConfig {
            n_qubits: 4,
            n_layers: 2,
            data_scale: std::f64::consts::PI,
            encoding: DataEncoding::Phase,
            alice: AliceLayer::DiagonalPhase,
            observable: Observable::Z0,
        }
    }
}

impl ModelConfig {
    /// Validates the configuration against `budget` (the adjoint gradient holds two
    /// registers plus the `L·P` parameters).
    ///
    /// # Errors
    /// [`QuantumError::Config`] for `n_qubits = 0`, `n_layers = 0`, `depth = 0` or a
    /// non-finite scale; [`QuantumError::TooManyQubits`] when the registers do not fit.
    pub fn build(&self, budget: &MemoryBudget) -> Result<Model> {
        if self.n_qubits == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_qubits",
                value: 0,
                allowed: "[1, 40]",
            }
            .into());
        }
        if self.n_layers == 0 {
            return Err(ConfigError::OutOfRangeInt {
                field: "n_layers",
                value: 0,
                allowed: "≥ 1",
            }
            .into());
        }
        if let AliceLayer::RyCz { depth: 0 } = self.alice {
            return Err(ConfigError::OutOfRangeInt {
                field: "depth",
                value: 0,
                allowed: "≥ 1",
            }
            .into());
        }
        if !self.data_scale.is_finite() {
            return Err(ConfigError::OutOfRange {
                field: "data_scale",
                value: self.data_scale,
                allowed: "finite",
            }
            .into());
        }
        // two registers (ψ, λ) + the data and (for diagonal layers) L·N parameters, f64
        let extra = 8
            * (1 + match self.alice {
                AliceLayer::DiagonalPhase => self.n_layers as u64,
                AliceLayer::RyCz { .. } => 0,
            });
        budget.check(
            self.n_qubits,
            2,
            extra,
            "model state, adjoint and parameters",
        )?;
        Ok(Model {
            cfg: *self,
            budget: *budget,
        })
    }
}

/// One operation of the model circuit.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `H_N`.
    Hadamard,
    /// Bob's `diag(e^{i s x})`.
    DataPhase,
    /// Alice's `diag(e^{iθ})` for the `P = N` parameters starting at `offset`.
    ParamPhase { offset: usize },
    /// `RY(θ[param])` on `qubit`.
    Ry { qubit: usize, param: usize },
    /// CZ(q, q+1) for q = 0..n−2.
    CzLadder,
}

/// A validated model of the §2.0 class.
#[derive(Clone, Debug)]
pub struct Model {
    cfg: ModelConfig,
    budget: MemoryBudget,
}

impl Model {
    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// `N = 2ⁿ`.
    #[must_use]
    pub fn dim(&self) -> usize {
        1 << self.cfg.n_qubits
    }

    /// `P`: parameters per Alice unitary.
    #[must_use]
    pub fn params_per_layer(&self) -> usize {
        match self.cfg.alice {
            AliceLayer::DiagonalPhase => self.dim(),
            AliceLayer::RyCz { depth } => self.cfg.n_qubits * depth,
        }
    }

    /// `L·P`: all of Alice's parameters (layer ℓ occupies `[ℓP, (ℓ+1)P)`).
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.cfg.n_layers * self.params_per_layer()
    }

    /// The circuit as party steps: Bob's and Alice's unitaries in application order.
    fn steps(&self) -> Vec<Vec<Op>> {
        let mut steps = Vec::new();
        let p = self.params_per_layer();
        for l in 0..self.cfg.n_layers {
            let bob_prepares = l == 0 && self.cfg.encoding == DataEncoding::Amplitude;
            if !bob_prepares {
                steps.push(vec![Op::DataPhase, Op::Hadamard]);
            }
            let mut alice = Vec::new();
            match self.cfg.alice {
                AliceLayer::DiagonalPhase => {
                    alice.push(Op::ParamPhase { offset: l * p });
                    alice.push(Op::Hadamard);
                }
                AliceLayer::RyCz { depth } => {
                    for d in 0..depth {
                        for q in 0..self.cfg.n_qubits {
                            alice.push(Op::Ry {
                                qubit: q,
                                param: l * p + d * self.cfg.n_qubits + q,
                            });
                        }
                        if self.cfg.n_qubits > 1 {
                            alice.push(Op::CzLadder);
                        }
                    }
                }
            }
            steps.push(alice);
        }
        steps
    }

    fn ops(&self) -> Vec<Op> {
        self.steps().into_iter().flatten().collect()
    }

    fn check_inputs(&self, theta: &[f64], x: &[f64]) -> Result<()> {
        if theta.len() != self.n_params() {
            return Err(ConfigError::Dim {
                op: "model parameters θ",
                expected: self.n_params(),
                got: theta.len(),
            }
            .into());
        }
        if x.len() != self.dim() {
            return Err(ConfigError::Dim {
                op: "model data x",
                expected: self.dim(),
                got: x.len(),
            }
            .into());
        }
        if theta.iter().chain(x).any(|v| !v.is_finite()) {
            return Err(QuantumError::NonFinite {
                what: "model parameters or data",
            });
        }
        Ok(())
    }

    fn initial_state(&self, x: &[f64]) -> Result<StateVector> {
        match self.cfg.encoding {
            DataEncoding::Phase => StateVector::zeros(self.cfg.n_qubits, &self.budget),
            DataEncoding::Amplitude => StateVector::amplitude_encoded(x),
        }
    }

    fn apply(&self, op: Op, psi: &mut StateVector, theta: &[f64], x: &[f64], inverse: bool) {
        let sign = if inverse { -1.0 } else { 1.0 };
        let n = self.cfg.n_qubits;
        match op {
            Op::Hadamard => psi.walsh_hadamard(),
            Op::DataPhase => psi.apply_phases_scaled(x, sign * self.cfg.data_scale),
            Op::ParamPhase { offset } => {
                psi.apply_phases_scaled(&theta[offset..offset + self.dim()], sign);
            }
            Op::Ry { qubit, param } => {
                // qubit < n by construction
                let _ = psi.apply_1q(&gates::ry(sign * theta[param]), qubit);
            }
            Op::CzLadder => {
                for q in 0..n.saturating_sub(1) {
                    let _ = psi.cz(q, q + 1);
                }
            }
        }
    }

    /// The final state `|ψ(θ, x)⟩`.
    ///
    /// # Errors
    /// [`ConfigError::Dim`] for wrong lengths, [`QuantumError::NonFinite`],
    /// [`QuantumError::BadState`] for a zero data vector under amplitude encoding.
    pub fn state(&self, theta: &[f64], x: &[f64]) -> Result<StateVector> {
        self.check_inputs(theta, x)?;
        let mut psi = self.initial_state(x)?;
        for op in self.ops() {
            self.apply(op, &mut psi, theta, x, false);
        }
        Ok(psi)
    }

    /// The states after each party's step (2L states; under amplitude encoding the
    /// prepared `|x⟩` and then 2L − 1 states): used to check unitarity per layer.
    ///
    /// # Errors
    /// As [`Model::state`].
    pub fn layer_states(&self, theta: &[f64], x: &[f64]) -> Result<Vec<StateVector>> {
        self.check_inputs(theta, x)?;
        let mut psi = self.initial_state(x)?;
        let mut out = Vec::new();
        if self.cfg.encoding == DataEncoding::Amplitude {
            out.push(psi.clone());
        }
        for step in self.steps() {
            for op in step {
                self.apply(op, &mut psi, theta, x, false);
            }
            out.push(psi.clone());
        }
        Ok(out)
    }

    /// `⟨ψ|O|ψ⟩` of a state for this model's observable.
    #[must_use]
    pub fn observe(&self, psi: &StateVector) -> f64 {
        match self.cfg.observable {
            Observable::Z0 => psi.expect_z(0),
            Observable::P0 => psi.expect_p0(0),
        }
    }

    /// The exact output `ℒ(θ, x)`.
    ///
    /// # Errors
    /// As [`Model::state`].
    ///
    /// # Examples
    /// ```
    /// use gdlab_quantum::model::ModelConfig;
    /// use gdlab_quantum::state::MemoryBudget;
    /// let m = ModelConfig::default().build(&MemoryBudget::bytes(1 << 20)).unwrap();
    /// let theta = vec![0.0; m.n_params()];
    /// let x = vec![0.0; m.dim()];
    /// // θ = 0, x = 0: every layer is H·H = I, so ψ = |0⟩ and ⟨Z₀⟩ = 1.
    /// assert!((m.loss(&theta, &x).unwrap() - 1.0).abs() < 1e-12);
    /// ```
    pub fn loss(&self, theta: &[f64], x: &[f64]) -> Result<f64> {
        Ok(self.observe(&self.state(theta, x)?))
    }

    /// Class-projector expectations `⟨Π_c⟩` of the final state (low `m` qubits,
    /// see [`StateVector::class_probabilities`]).
    ///
    /// # Errors
    /// As [`Model::state`], plus an out-of-range `m`.
    pub fn class_probabilities(&self, theta: &[f64], x: &[f64], m: usize) -> Result<Vec<f64>> {
        self.state(theta, x)?.class_probabilities(m)
    }

    /// The adjoint-method gradient (spec §2.2): writes `∂ℒ/∂θ` into `grad` and returns ℒ.
    ///
    /// Forward pass to `ψ_final`; `λ = O ψ_final`; then walk the ops backwards, undoing
    /// each on both `ψ` and `λ`. Just after Alice's diagonal `D(θ_ℓ)`, `a = ψ` is the
    /// forward feature μ_ℓ and `b = λ = U_{>ℓ}^† O U_{>ℓ} a` the backward feature ν_ℓ, and
    /// `∂ℒ/∂θ_{ℓ,j} = −2 Im(a_j conj(b_j))` (from `∂a = i a_j e_j`,
    /// `∂(a†Ma) = 2 Re(a†M∂a)`). For `RY(θ)` on qubit q, with ψ just after the gate,
    /// `∂ψ = −(i/2)Yψ` gives `∂ℒ/∂θ = Im⟨λ|Y_q|ψ⟩`.
    ///
    /// # Errors
    /// As [`Model::state`], and [`ConfigError::Dim`] if `grad.len() != n_params()`.
    pub fn loss_grad(&self, theta: &[f64], x: &[f64], grad: &mut [f64]) -> Result<f64> {
        if grad.len() != self.n_params() {
            return Err(ConfigError::Dim {
                op: "gradient buffer",
                expected: self.n_params(),
                got: grad.len(),
            }
            .into());
        }
        let mut psi = self.state(theta, x)?;
        let value = self.observe(&psi);
        let mut lam = psi.clone();
        {
            let lm = lam.amplitudes_mut();
            for (j, v) in lm.iter_mut().enumerate() {
                let bit0 = j & 1;
                match self.cfg.observable {
                    Observable::Z0 => {
                        if bit0 == 1 {
                            *v = -*v;
                        }
                    }
                    Observable::P0 => {
                        if bit0 == 1 {
                            *v = Complex64::new(0.0, 0.0);
                        }
                    }
                }
            }
        }
        for op in self.ops().into_iter().rev() {
            match op {
                Op::ParamPhase { offset } => {
                    let g = &mut grad[offset..offset + self.dim()];
                    for ((gj, a), b) in g.iter_mut().zip(psi.amplitudes()).zip(lam.amplitudes()) {
                        *gj = -2.0 * (a * b.conj()).im;
                    }
                }
                Op::Ry { qubit, param } => {
                    grad[param] = y_overlap(&lam, &psi, qubit).im;
                }
                _ => {}
            }
            self.apply(op, &mut psi, theta, x, true);
            self.apply(op, &mut lam, theta, x, true);
        }
        Ok(value)
    }

    /// The exact parameter-shift gradient `½[ℒ(θ_k + π/2) − ℒ(θ_k − π/2)]` (no shots):
    /// `2·L·P` model evaluations (protocol G1 without sampling).
    ///
    /// # Errors
    /// As [`Model::loss_grad`].
    pub fn parameter_shift_grad(&self, theta: &[f64], x: &[f64], grad: &mut [f64]) -> Result<()> {
        self.shifted_grad(theta, x, grad, std::f64::consts::FRAC_PI_2, |p, m, h| {
            (p - m) / (2.0 * h.sin())
        })
    }

    /// Central finite differences with step `h`.
    ///
    /// # Errors
    /// As [`Model::loss_grad`].
    pub fn finite_difference_grad(
        &self,
        theta: &[f64],
        x: &[f64],
        h: f64,
        grad: &mut [f64],
    ) -> Result<()> {
        self.shifted_grad(theta, x, grad, h, |p, m, h| (p - m) / (2.0 * h))
    }

    fn shifted_grad(
        &self,
        theta: &[f64],
        x: &[f64],
        grad: &mut [f64],
        h: f64,
        combine: impl Fn(f64, f64, f64) -> f64,
    ) -> Result<()> {
        if grad.len() != self.n_params() {
            return Err(ConfigError::Dim {
                op: "gradient buffer",
                expected: self.n_params(),
                got: grad.len(),
            }
            .into());
        }
        let mut t = theta.to_vec();
        for k in 0..theta.len() {
            t[k] = theta[k] + h;
            let plus = self.loss(&t, x)?;
            t[k] = theta[k] - h;
            let minus = self.loss(&t, x)?;
            t[k] = theta[k];
            // For the diagonal generator |j⟩⟨j| and for Y/2 the exact shift rule is
            // ½[ℒ(+π/2) − ℒ(−π/2)] = (ℒ₊ − ℒ₋)/(2 sin(π/2)).
            grad[k] = combine(plus, minus, h);
        }
        Ok(())
    }
}

/// Largest register for [`dense_state`] (an `N × N` complex matrix per operation).
pub const DENSE_MAX_QUBITS: usize = 8;

/// The model's final state by explicit dense matrices: every operation is built as an
/// `N × N` matrix (`H_N` from its entries `(−1)^{popcount(j∧k)}/√N`, diagonals, RY as
/// `I ⊗ … ⊗ RY ⊗ … ⊗ I` by entries, the CZ ladder as a ±1 diagonal), multiplied into the
/// total unitary `U` by plain matrix products, and `U` applied to `|ψ₀⟩`. Independent of
/// the fast kernels: spec §3 check 1.
///
/// # Errors
/// As [`Model::state`]; [`QuantumError::TooManyQubits`] beyond [`DENSE_MAX_QUBITS`].
pub fn dense_state(model: &Model, theta: &[f64], x: &[f64]) -> Result<Vec<Complex64>> {
    model.check_inputs(theta, x)?;
    let n = model.cfg.n_qubits;
    if n > DENSE_MAX_QUBITS {
        return Err(QuantumError::TooManyQubits {
            n_qubits: n,
            needed_bytes: 16u128 << (2 * n),
            budget_bytes: 16 << (2 * DENSE_MAX_QUBITS),
            max_qubits: DENSE_MAX_QUBITS,
            what: "dense cross-check matrices",
        });
    }
    let dim = 1usize << n;
    let zero = Complex64::new(0.0, 0.0);
    let eye = |d: usize| {
        let mut m = vec![zero; d * d];
        for i in 0..d {
            m[i * d + i] = Complex64::new(1.0, 0.0);
        }
        m
    };
    let matmul = |a: &[Complex64], b: &[Complex64]| {
        let mut c = vec![zero; dim * dim];
        for i in 0..dim {
            for k in 0..dim {
                let aik = a[i * dim + k];
                for j in 0..dim {
                    c[i * dim + j] += aik * b[k * dim + j];
                }
            }
        }
        c
    };
    let diag = |ph: &dyn Fn(usize) -> f64| {
        let mut m = vec![zero; dim * dim];
        for j in 0..dim {
            let (s, co) = ph(j).sin_cos();
            m[j * dim + j] = Complex64::new(co, s);
        }
        m
    };
    let s = 1.0 / (dim as f64).sqrt();
    let mut hadamard = vec![zero; dim * dim];
    for r in 0..dim {
        for c in 0..dim {
            let sign = if (r & c).count_ones() % 2 == 0 { s } else { -s };
            hadamard[r * dim + c] = Complex64::new(sign, 0.0);
        }
    }
    let mut u = eye(dim);
    for op in model.ops() {
        let m = match op {
            Op::Hadamard => hadamard.clone(),
            Op::DataPhase => diag(&|j| model.cfg.data_scale * x[j]),
            Op::ParamPhase { offset } => diag(&|j| theta[offset + j]),
            Op::Ry { qubit, param } => {
                let g = gates::ry(theta[param]);
                let bit = 1usize << qubit;
                let mut m = vec![zero; dim * dim];
                for r in 0..dim {
                    for c in 0..dim {
                        if r & !bit == c & !bit {
                            m[r * dim + c] =
                                g[usize::from(r & bit != 0)][usize::from(c & bit != 0)];
                        }
                    }
                }
                m
            }
            Op::CzLadder => diag(&|j| {
                let flips = (0..n.saturating_sub(1))
                    .filter(|&q| (j >> q) & 3 == 3)
                    .count();
                if flips % 2 == 1 {
                    std::f64::consts::PI
                } else {
                    0.0
                }
            }),
        };
        u = matmul(&m, &u);
    }
    let psi0: Vec<Complex64> = match model.cfg.encoding {
        DataEncoding::Phase => (0..dim)
            .map(|j| Complex64::new(if j == 0 { 1.0 } else { 0.0 }, 0.0))
            .collect(),
        DataEncoding::Amplitude => StateVector::amplitude_encoded(x)?.amplitudes().to_vec(),
    };
    Ok((0..dim)
        .map(|r| (0..dim).fold(zero, |acc, c| acc + u[r * dim + c] * psi0[c]))
        .collect())
}

/// `⟨λ|Y_q|ψ⟩` (ordered sum over index).
fn y_overlap(lam: &StateVector, psi: &StateVector, q: usize) -> Complex64 {
    let bit = 1usize << q;
    let (l, p) = (lam.amplitudes(), psi.amplitudes());
    let mut s = Complex64::new(0.0, 0.0);
    let i = Complex64::new(0.0, 1.0);
    for j in 0..l.len() {
        if j & bit == 0 {
            let k = j | bit;
            // (Yψ)_j = −i ψ_k, (Yψ)_k = i ψ_j
            s += l[j].conj() * (-i * p[k]) + l[k].conj() * (i * p[j]);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::{assert_close, normal::uniform, Seed};

    fn budget() -> MemoryBudget {
        MemoryBudget::bytes(1 << 30)
    }

    fn random_inputs(m: &Model, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Seed(seed).rng();
        let theta = (0..m.n_params())
            .map(|_| 2.0 * std::f64::consts::PI * uniform(&mut rng))
            .collect();
        let x = (0..m.dim())
            .map(|_| uniform(&mut rng) * 2.0 - 1.0)
            .collect();
        (theta, x)
    }

    fn configs() -> Vec<ModelConfig> {
        let mut v = Vec::new();
        for encoding in [DataEncoding::Phase, DataEncoding::Amplitude] {
            for alice in [AliceLayer::DiagonalPhase, AliceLayer::RyCz { depth: 2 }] {
                for observable in [Observable::Z0, Observable::P0] {
                    v.push(ModelConfig {
                        n_qubits: 3,
                        n_layers: 3,
                        encoding,
                        alice,
                        observable,
                        ..ModelConfig::default()
                    });
                }
            }
        }
        v
    }

    #[test]
    fn adjoint_matches_shift_rule_and_finite_differences() {
        for (i, cfg) in configs().into_iter().enumerate() {
            let m = cfg.build(&budget()).unwrap();
            let (theta, x) = random_inputs(&m, 100 + i as u64);
            let mut g = vec![0.0; m.n_params()];
            let v = m.loss_grad(&theta, &x, &mut g).unwrap();
            assert_close!(v, m.loss(&theta, &x).unwrap(), abs = 1e-14);
            let mut ps = vec![0.0; m.n_params()];
            m.parameter_shift_grad(&theta, &x, &mut ps).unwrap();
            assert_close!(g, ps, abs = 1e-12);
            let mut fd = vec![0.0; m.n_params()];
            m.finite_difference_grad(&theta, &x, 1e-5, &mut fd).unwrap();
            assert_close!(g, fd, abs = 1e-8);
        }
    }

    #[test]
    fn fast_kernels_match_dense_matrices() {
        for (i, cfg) in configs().into_iter().enumerate() {
            let m = cfg.build(&budget()).unwrap();
            let (theta, x) = random_inputs(&m, 300 + i as u64);
            let fast = m.state(&theta, &x).unwrap();
            let dense = dense_state(&m, &theta, &x).unwrap();
            let err = fast
                .amplitudes()
                .iter()
                .zip(&dense)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(err < 1e-12, "{cfg:?}: {err}");
        }
    }

    #[test]
    fn p0_is_affine_in_z0() {
        let z = ModelConfig::default().build(&budget()).unwrap();
        let p = ModelConfig {
            observable: Observable::P0,
            ..ModelConfig::default()
        }
        .build(&budget())
        .unwrap();
        let (theta, x) = random_inputs(&z, 4);
        let (lz, lp) = (z.loss(&theta, &x).unwrap(), p.loss(&theta, &x).unwrap());
        assert_close!(lp, (1.0 + lz) / 2.0, abs = 1e-14);
    }

    #[test]
    fn amplitude_encoding_depends_on_direction_only() {
        let cfg = ModelConfig {
            encoding: DataEncoding::Amplitude,
            ..ModelConfig::default()
        };
        let m = cfg.build(&budget()).unwrap();
        let (theta, x) = random_inputs(&m, 8);
        let x3: Vec<f64> = x.iter().map(|v| v * 3.0).collect();
        // the later phase layers see 3x, so compare with L = 1 where only |x⟩ enters
        let m1 = ModelConfig { n_layers: 1, ..cfg }.build(&budget()).unwrap();
        let t1 = &theta[..m1.n_params()];
        assert_close!(
            m1.loss(t1, &x).unwrap(),
            m1.loss(t1, &x3).unwrap(),
            abs = 1e-14
        );
        assert!(m1.loss(t1, &[0.0; 16]).is_err());
        let _ = m;
    }

    #[test]
    fn bad_shapes_are_errors() {
        let m = ModelConfig::default().build(&budget()).unwrap();
        assert!(m.loss(&[0.0; 3], &[0.0; 16]).is_err());
        assert!(m.loss(&vec![0.0; m.n_params()], &[0.0; 3]).is_err());
        assert!(ModelConfig {
            n_layers: 0,
            ..ModelConfig::default()
        }
        .build(&budget())
        .is_err());
        assert!(ModelConfig {
            n_qubits: 30,
            ..ModelConfig::default()
        }
        .build(&MemoryBudget::bytes(1 << 30))
        .is_err());
    }

    #[test]
    fn layers_preserve_the_norm() {
        let m = ModelConfig {
            n_qubits: 6,
            n_layers: 3,
            ..ModelConfig::default()
        }
        .build(&budget())
        .unwrap();
        let (theta, x) = random_inputs(&m, 1);
        let states = m.layer_states(&theta, &x).unwrap();
        assert_eq!(states.len(), 6);
        for s in states {
            assert_close!(s.norm(), 1.0, abs = 1e-12);
        }
    }
}
