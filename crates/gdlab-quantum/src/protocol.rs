//! Protocols and their communication counts (spec §2.1–§2.3).
//!
//! Every protocol returns a [`CommunicationReport`]: qubits and classical bits sent across
//! the Alice–Bob cut and the number of rounds (alternations of the sender, with the state
//! copies of the repeated protocols sent in parallel). Counts are exact integers computed
//! from the spec's formulas; the shadow-tomography count (G2) is a **theoretical count**
//! from a literature bound whose constants and exponents are unverified and exposed as
//! parameters ([`ShadowParams`]).
//!
//! | protocol | qubits | source |
//! |---|---|---|
//! | inference (repeat and measure) | `S·m·n`, `S = ⌈2 ln(2/δ)/ε²⌉` (Z₀) or `⌈ln(2/δ)/(2ε²)⌉` (P₀), `m = 2L` (or `2L − 1` under amplitude encoding) | §2.1 (Hoeffding; the paper's own estimator unverified) |
//! | G1 parameter shift | `2·P·L·S·m·n` | §2.2 **\[design\]** |
//! | G2 shadow tomography | `L·C·2L·(n+1)`, `C = ⌈c_st·log₂²P·log₂D/ε⁴⌉`, `D = 2^{n+1}` | §2.2, bound from memory, unverified: theoretical count |
//! | trivial classical inference | `min(N·b, L·P·b)` bits | §2.3 |
//! | trivial classical gradient | `min(N·b, 2·L·P·b)` bits | §2.3 (see [`classical_gradient_trivial`]) |

use serde::{Deserialize, Serialize};

use crate::error::{QuantumError, Result};
use crate::model::{DataEncoding, Observable};
use gdlab_core::{normal::uniform, ConfigError, GdRng};

/// Whether a count is exact for the protocol as run, or a formula from a literature bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBasis {
    /// The protocol's own count (what the simulated protocol would send).
    Exact,
    /// A formula from a literature bound (not simulated): "theoretical count".
    Theoretical,
}

/// The communication of one protocol run: the first-class result of every protocol here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationReport {
    /// Protocol name.
    pub protocol: String,
    /// Qubits sent across the cut.
    pub qubits: u64,
    /// Classical bits sent across the cut.
    pub classical_bits: u64,
    /// Rounds: alternations of the sender (copies sent in parallel).
    pub rounds: u64,
    /// Number of state copies (shots) or 1 for classical protocols.
    pub copies: u64,
    /// Exact or theoretical.
    pub basis: CountBasis,
}

impl CommunicationReport {
    /// Qubits plus classical bits (one qubit counted as one unit of communication).
    #[must_use]
    pub fn total(&self) -> u64 {
        self.qubits.saturating_add(self.classical_bits)
    }
}

/// The accuracy target of an estimate: `|estimate − ℒ| ≤ ε` with probability `≥ 1 − δ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    eps: f64,
    delta: f64,
}

impl Accuracy {
    /// Checks `ε ∈ (0, 1)` and `δ ∈ (0, 1)`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming `eps` or `delta`.
    pub fn new(eps: f64, delta: f64) -> Result<Self> {
        for (field, v) in [("eps", eps), ("delta", delta)] {
            if !(v > 0.0 && v < 1.0) {
                return Err(ConfigError::OutOfRange {
                    field,
                    value: v,
                    allowed: "(0, 1)",
                }
                .into());
            }
        }
        Ok(Accuracy { eps, delta })
    }

    /// ε.
    #[must_use]
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// δ.
    #[must_use]
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// Hoeffding shot count: `⌈2 ln(2/δ)/ε²⌉` for ±1 outcomes (Z₀),
    /// `⌈ln(2/δ)/(2ε²)⌉` for {0, 1} outcomes (P₀) (spec §2.1).
    ///
    /// # Examples
    /// ```
    /// use gdlab_quantum::{model::Observable, protocol::Accuracy};
    /// // spec §3 check 4: ε = δ = 0.05 → S = ⌈2·ln 40/0.0025⌉ = 2952
    /// assert_eq!(Accuracy::new(0.05, 0.05).unwrap().shots(Observable::Z0), 2952);
    /// ```
    #[must_use]
    pub fn shots(&self, observable: Observable) -> u64 {
        let l = (2.0 / self.delta).ln();
        let s = match observable {
            Observable::Z0 => 2.0 * l / (self.eps * self.eps),
            Observable::P0 => l / (2.0 * self.eps * self.eps),
        };
        s.ceil() as u64
    }
}

/// The sizes a protocol count depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProtocolSize {
    /// Number of qubits `n` of the data register.
    pub n_qubits: u32,
    /// Layers `L`.
    pub n_layers: u64,
    /// Parameters per Alice unitary `P`.
    pub params_per_layer: u64,
    /// Data encoding (amplitude encoding drops the first Alice→Bob message).
    pub encoding: DataEncoding,
    /// Observable (sets the Hoeffding constant).
    pub observable: Observable,
}

impl ProtocolSize {
    /// The spec's comm-table setting: `P = N = 2ⁿ` (diagonal layers), phase encoding, Z₀.
    #[must_use]
    pub fn diagonal(n_qubits: u32, n_layers: u64) -> Self {
        ProtocolSize {
            n_qubits,
            n_layers,
            params_per_layer: 1u64 << n_qubits.min(63),
            encoding: DataEncoding::Phase,
            observable: Observable::Z0,
        }
    }

    /// Messages per state copy: `2L`, or `2L − 1` when Bob prepares the first state.
    #[must_use]
    pub fn messages_per_copy(&self) -> u64 {
        match self.encoding {
            DataEncoding::Phase => 2 * self.n_layers,
            DataEncoding::Amplitude => (2 * self.n_layers).saturating_sub(1),
        }
    }

    /// `N = 2ⁿ` as f64 (exact up to n = 1023).
    #[must_use]
    pub fn dim_f64(&self) -> f64 {
        f64::from(self.n_qubits).exp2()
    }
}

fn mul(what: &'static str, xs: &[u64]) -> Result<u64> {
    xs.iter().try_fold(1u64, |acc, &x| {
        acc.checked_mul(x)
            .ok_or(QuantumError::CountOverflow { what })
    })
}

/// Repeat-and-measure inference (spec §2.1): `Q = S · m · n` qubits, 0 classical bits.
///
/// # Errors
/// [`QuantumError::CountOverflow`].
///
/// # Examples
/// ```
/// use gdlab_quantum::protocol::{inference, Accuracy, ProtocolSize};
/// let r = inference(&ProtocolSize::diagonal(12, 2), &Accuracy::new(0.05, 0.05).unwrap()).unwrap();
/// assert_eq!(r.qubits, 141_696); // spec §3 check 4 at N = 2^12
/// ```
pub fn inference(size: &ProtocolSize, acc: &Accuracy) -> Result<CommunicationReport> {
    let s = acc.shots(size.observable);
    let m = size.messages_per_copy();
    Ok(CommunicationReport {
        protocol: "quantum inference (repeat and measure)".into(),
        qubits: mul("inference", &[s, m, u64::from(size.n_qubits)])?,
        classical_bits: 0,
        rounds: m,
        copies: s,
        basis: CountBasis::Exact,
    })
}

/// Protocol G1, parameter shift **\[design\]**: each of the `2·P·L` shifted losses is
/// estimated with `S` shots, `Q_G1 = 2·P·L·S·m·n` (linear in P).
///
/// # Errors
/// [`QuantumError::CountOverflow`].
pub fn gradient_parameter_shift(
    size: &ProtocolSize,
    acc: &Accuracy,
) -> Result<CommunicationReport> {
    let s = acc.shots(size.observable);
    let m = size.messages_per_copy();
    let copies = mul("G1 copies", &[2, size.params_per_layer, size.n_layers, s])?;
    Ok(CommunicationReport {
        protocol: "quantum gradient G1 (parameter shift)".into(),
        qubits: mul("G1", &[copies, m, u64::from(size.n_qubits)])?,
        classical_bits: 0,
        rounds: m,
        copies,
        basis: CountBasis::Exact,
    })
}

/// Constants of the shadow-tomography copy bound
/// `C = ⌈c_st · (log₂P)^{a} · (log₂D)^{b} / ε^{e}⌉` (Bădescu–O'Donnell 2021 as recalled by
/// the spec; from memory, unverified).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowParams {
    /// `c_st` (default 1).
    pub constant: f64,
    /// Exponent of `log₂P` (default 2).
    pub log_p_exponent: f64,
    /// Exponent of `log₂D` (default 1).
    pub log_d_exponent: f64,
    /// Exponent of `1/ε` (default 4).
    pub eps_exponent: f64,
}

impl Default for ShadowParams {
    /// `c_st = 1`, exponents 2, 1, 4 (spec §2.2).
    fn default() -> Self {
        ShadowParams {
            constant: 1.0,
            log_p_exponent: 2.0,
            log_d_exponent: 1.0,
            eps_exponent: 4.0,
        }
    }
}

/// Protocol G2, shadow-tomography gradient: **theoretical count**, not simulated.
///
/// Per layer `C` copies of `(|0⟩|μ_ℓ⟩ + |1⟩|ν_ℓ⟩)/√2` on `n + 1` qubits (`D = 2^{n+1}`),
/// each needing a forward and a backward pass (`2L` messages):
/// `Q_G2 = L · C · 2L · (n + 1)`. `log₂P` is taken as at least 1 (P = 1 would give 0).
///
/// # Errors
/// [`QuantumError::Config`] for a non-positive constant or negative exponent,
/// [`QuantumError::CountOverflow`].
pub fn gradient_shadow(
    size: &ProtocolSize,
    acc: &Accuracy,
    params: &ShadowParams,
) -> Result<CommunicationReport> {
    ConfigError::check_positive("shadow constant", params.constant)?;
    for (f, v) in [
        ("log_p_exponent", params.log_p_exponent),
        ("log_d_exponent", params.log_d_exponent),
        ("eps_exponent", params.eps_exponent),
    ] {
        ConfigError::check_non_negative(f, v)?;
    }
    let log_p = (size.params_per_layer.max(2) as f64).log2();
    let log_d = f64::from(size.n_qubits) + 1.0;
    let c =
        (params.constant * log_p.powf(params.log_p_exponent) * log_d.powf(params.log_d_exponent)
            / acc.eps.powf(params.eps_exponent))
        .ceil();
    if !(c.is_finite() && c < 9.0e18) {
        return Err(QuantumError::CountOverflow { what: "G2 copies" });
    }
    let c = c as u64;
    let copies = mul("G2 copies", &[size.n_layers, c])?;
    Ok(CommunicationReport {
        protocol: "quantum gradient G2 (shadow tomography, theoretical count)".into(),
        qubits: mul(
            "G2",
            &[copies, 2 * size.n_layers, u64::from(size.n_qubits) + 1],
        )?,
        classical_bits: 0,
        rounds: 2 * size.n_layers,
        copies,
        basis: CountBasis::Theoretical,
    })
}

/// Trivial classical inference: one party ships its whole input,
/// `C_triv = min(N·b, L·P·b)` bits, one message (spec §2.3).
///
/// # Errors
/// [`QuantumError::Config`] for `bits_per_real = 0`; [`QuantumError::CountOverflow`].
pub fn classical_inference_trivial(
    size: &ProtocolSize,
    bits_per_real: u64,
) -> Result<CommunicationReport> {
    let (data, params) = trivial_parts(size, bits_per_real)?;
    Ok(CommunicationReport {
        protocol: "classical inference (ship the smaller input)".into(),
        qubits: 0,
        classical_bits: data.min(params),
        rounds: 1,
        copies: 1,
        basis: CountBasis::Exact,
    })
}

/// Trivial classical gradient step: either Bob ships the data (`N·b` bits, Alice computes
/// the gradient locally) or Alice ships θ (`L·P·b`) and Bob returns the `L·P` gradient
/// entries (`L·P·b`): `C_grad = min(N·b, 2·L·P·b)`.
///
/// Deviation: the spec writes `min(N·b + P·L·b, P·L·b)`, which always equals `P·L·b` and
/// drops the return message it describes in words ("plus the return of P·L gradient
/// entries if the data holder computes them"); we count the return in the second option.
/// Both readings are Θ(N) when `P = N`.
///
/// # Errors
/// As [`classical_inference_trivial`].
pub fn classical_gradient_trivial(
    size: &ProtocolSize,
    bits_per_real: u64,
) -> Result<CommunicationReport> {
    let (data, params) = trivial_parts(size, bits_per_real)?;
    let ship_params = params
        .checked_mul(2)
        .ok_or(QuantumError::CountOverflow { what: "C_grad" })?;
    let bits = data.min(ship_params);
    Ok(CommunicationReport {
        protocol: "classical gradient step (ship data, or ship θ and return ∇)".into(),
        qubits: 0,
        classical_bits: bits,
        rounds: if bits == data { 1 } else { 2 },
        copies: 1,
        basis: CountBasis::Exact,
    })
}

fn trivial_parts(size: &ProtocolSize, b: u64) -> Result<(u64, u64)> {
    if b == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "bits_per_real",
            value: 0,
            allowed: "≥ 1",
        }
        .into());
    }
    if size.n_qubits >= 64 {
        return Err(QuantumError::CountOverflow { what: "N = 2^n" });
    }
    let n = 1u64 << size.n_qubits;
    Ok((
        mul("N·b", &[n, b])?,
        mul("L·P·b", &[size.n_layers, size.params_per_layer, b])?,
    ))
}

/// What the CLI prints for the classical lower bound (spec §2.3: do not claim an exponent).
pub const CLASSICAL_LOWER_BOUND_NOTE: &str =
    "classical lower bound: poly(N) (see paper); trivial protocol: Θ(N)";

/// The sampled inference estimate of spec §2.1(b): `shots` single-shot outcomes with
/// `P(+1) = (1 + ℒ)/2` (Z₀), returned as their mean.
///
/// # Errors
/// [`ConfigError::OutOfRange`] if `value ∉ [−1, 1]` (beyond 1e-12 rounding) or
/// `shots = 0`.
pub fn sample_estimate_z(value: f64, shots: u64, rng: &mut GdRng) -> Result<f64> {
    if !(-1.0 - 1e-12..=1.0 + 1e-12).contains(&value) {
        return Err(ConfigError::OutOfRange {
            field: "expectation value",
            value,
            allowed: "[-1, 1]",
        }
        .into());
    }
    if shots == 0 {
        return Err(ConfigError::OutOfRangeInt {
            field: "shots",
            value: 0,
            allowed: "≥ 1",
        }
        .into());
    }
    let p_plus = (1.0 + value.clamp(-1.0, 1.0)) / 2.0;
    let mut sum = 0i64;
    for _ in 0..shots {
        sum += if uniform(rng) < p_plus { 1 } else { -1 };
    }
    Ok(sum as f64 / shots as f64)
}

/// A sampler of computational-basis outcomes from `|ψ_j|²` (inverse CDF by binary search
/// on the cumulative probabilities: exact up to rounding of the cumulative sums).
#[derive(Clone, Debug)]
pub struct BasisSampler {
    cdf: Vec<f64>,
}

impl BasisSampler {
    /// Builds the cumulative table of `probs` (must be finite and non-negative, sum > 0).
    ///
    /// # Errors
    /// [`QuantumError::BadState`] for an empty, negative, non-finite or zero-sum vector.
    pub fn new(probs: &[f64]) -> Result<Self> {
        if probs.is_empty() || probs.iter().any(|p| !p.is_finite() || *p < 0.0) {
            return Err(QuantumError::BadState {
                field: "probabilities",
                reason: "must be non-empty, finite and non-negative".into(),
            });
        }
        let mut cdf = Vec::with_capacity(probs.len());
        let mut acc = 0.0;
        for p in probs {
            acc += p;
            cdf.push(acc);
        }
        if acc.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(QuantumError::BadState {
                field: "probabilities",
                reason: "sum to zero".into(),
            });
        }
        Ok(BasisSampler { cdf })
    }

    /// One basis-state index.
    pub fn sample(&self, rng: &mut GdRng) -> usize {
        let total = self.cdf[self.cdf.len() - 1];
        let u = uniform(rng) * total;
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }
}

/// The sampled Z₀ estimate from basis-state shots of `|ψ|²`: each shot draws `j` and
/// records `(−1)^{bit 0 of j}` (what measuring qubit 0 in the Z basis returns).
pub fn sample_z0_from_basis(sampler: &BasisSampler, shots: u64, rng: &mut GdRng) -> f64 {
    let mut sum = 0i64;
    for _ in 0..shots {
        sum += if sampler.sample(rng) & 1 == 0 { 1 } else { -1 };
    }
    sum as f64 / shots.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlab_core::{assert_close, Seed};

    fn acc() -> Accuracy {
        Accuracy::new(0.05, 0.05).unwrap()
    }

    #[test]
    fn spec_check4_example_numbers() {
        // spec §3 check 4: S = 2952, Q = 11 808·n; N = 2^12: Q = 141 696 > 131 072;
        // N = 2^13: Q = 153 504 < 262 144.
        assert_eq!(acc().shots(Observable::Z0), 2952);
        let q12 = inference(&ProtocolSize::diagonal(12, 2), &acc()).unwrap();
        let q13 = inference(&ProtocolSize::diagonal(13, 2), &acc()).unwrap();
        assert_eq!((q12.qubits, q13.qubits), (141_696, 153_504));
        let c12 = classical_inference_trivial(&ProtocolSize::diagonal(12, 2), 32).unwrap();
        let c13 = classical_inference_trivial(&ProtocolSize::diagonal(13, 2), 32).unwrap();
        assert_eq!((c12.classical_bits, c13.classical_bits), (131_072, 262_144));
    }

    #[test]
    fn p0_shots_and_amplitude_messages() {
        // ln(40)/(2·0.0025) = 737.78 → 738
        assert_eq!(acc().shots(Observable::P0), 738);
        let mut s = ProtocolSize::diagonal(5, 3);
        s.encoding = DataEncoding::Amplitude;
        assert_eq!(s.messages_per_copy(), 5);
        assert_eq!(inference(&s, &acc()).unwrap().qubits, 2952 * 5 * 5);
    }

    #[test]
    fn g1_is_linear_in_p_and_g2_is_polylog() {
        let s = ProtocolSize::diagonal(10, 2);
        let g1 = gradient_parameter_shift(&s, &acc()).unwrap();
        assert_eq!(g1.qubits, 2 * 1024 * 2 * 2952 * 4 * 10);
        let g2 = gradient_shadow(&s, &acc(), &ShadowParams::default()).unwrap();
        // C = ⌈10²·11/0.05⁴⌉ = 176 000 000; Q = 2·C·4·11
        assert_eq!(g2.copies, 2 * 176_000_000);
        assert_eq!(g2.qubits, 2 * 176_000_000 * 4 * 11);
        assert_eq!(g2.basis, CountBasis::Theoretical);
    }

    #[test]
    fn classical_gradient_counts() {
        let s = ProtocolSize::diagonal(8, 2);
        // N·b = 8192, 2·L·P·b = 32768 → 8192
        assert_eq!(
            classical_gradient_trivial(&s, 32).unwrap().classical_bits,
            8192
        );
        let small = ProtocolSize {
            params_per_layer: 3,
            ..s
        };
        assert_eq!(
            classical_gradient_trivial(&small, 32)
                .unwrap()
                .classical_bits,
            384
        );
        assert!(classical_gradient_trivial(&s, 0).is_err());
    }

    #[test]
    fn accuracy_is_validated() {
        for (e, d) in [
            (0.0, 0.1),
            (1.0, 0.1),
            (0.1, 0.0),
            (0.1, 1.5),
            (f64::NAN, 0.1),
        ] {
            assert!(Accuracy::new(e, d).is_err(), "{e} {d}");
        }
    }

    #[test]
    fn overflow_is_an_error() {
        let s = ProtocolSize::diagonal(60, 1000);
        assert!(matches!(
            gradient_parameter_shift(&s, &acc()),
            Err(QuantumError::CountOverflow { .. })
        ));
    }

    #[test]
    fn sampled_estimates_are_unbiased_within_5_se() {
        let mut rng = Seed(3).rng();
        let l = 0.3;
        let shots = 200_000u64;
        let est = sample_estimate_z(l, shots, &mut rng).unwrap();
        let se = ((1.0 - l * l) / shots as f64).sqrt();
        assert!((est - l).abs() < 5.0 * se);
        let probs = [0.1, 0.2, 0.3, 0.4]; // ⟨Z₀⟩ = 0.1 − 0.2 + 0.3 − 0.4 = −0.2
        let s = BasisSampler::new(&probs).unwrap();
        let est = sample_z0_from_basis(&s, shots, &mut rng);
        let se = ((1.0 - 0.04) / shots as f64).sqrt();
        assert!((est + 0.2).abs() < 5.0 * se, "{est}");
        assert!(BasisSampler::new(&[0.0, 0.0]).is_err());
        assert_close!(f64::from(u8::from(true)), 1.0, abs = 0.0);
    }
}
