//! `gdlab quantum ...`: communication counts of the quantum protocols (spec §2.1–2.3) and
//! a small JSON-circuit state-vector simulator.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_quantum::circuit::Circuit;
use gdlab_quantum::model::{DataEncoding, Observable};
use gdlab_quantum::protocol::{
    classical_gradient_trivial, classical_inference_trivial, gradient_parameter_shift,
    gradient_shadow, inference, Accuracy, CommunicationReport, ProtocolSize, ShadowParams,
    CLASSICAL_LOWER_BOUND_NOTE,
};
use gdlab_quantum::state::MemoryBudget;
use serde_json::json;

use crate::{out, Outcome};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EncodingArg {
    Phase,
    Amplitude,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ObservableArg {
    Z0,
    P0,
}

#[derive(Debug, Subcommand)]
pub(crate) enum QuantumCmd {
    /// Communication table for one inference / gradient step at n qubits (N = 2^n):
    /// quantum inference, G1 (parameter shift), G2 (shadow tomography, theoretical count),
    /// and the trivial classical protocols (spec §2.1–2.3).
    Comm {
        /// Number of qubits n of the data register (N = 2^n), 1 ≤ n ≤ 60.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=60))]
        qubits: u32,
        /// Number of layers L, 1 ≤ L ≤ 10⁶.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        layers: u64,
        /// Accuracy ε ∈ (0, 1).
        #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
        eps: f64,
        /// Failure probability δ ∈ (0, 1).
        #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
        delta: f64,
        /// Parameters per Alice unitary P (default N, the diagonal-phase layers).
        #[arg(long)]
        params_per_layer: Option<u64>,
        /// Bits per real number in the classical protocols.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
        bits_per_real: u64,
        /// Data encoding (amplitude: Bob prepares the first state, 2L − 1 messages).
        #[arg(long, value_enum, default_value = "phase")]
        encoding: EncodingArg,
        /// Observable (sets the Hoeffding constant).
        #[arg(long, value_enum, default_value = "z0")]
        observable: ObservableArg,
        /// Training steps T for the amortised totals (spec §7 pitfall 2).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        steps: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a JSON circuit (gates by name, qubits, angles; little-endian as Qiskit) and print
    /// the final amplitudes and expectation values.
    Simulate {
        /// The circuit file.
        #[arg(long)]
        circuit: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn dispatch(cmd: QuantumCmd) -> Result<Outcome> {
    match cmd {
        QuantumCmd::Comm {
            qubits,
            layers,
            eps,
            delta,
            params_per_layer,
            bits_per_real,
            encoding,
            observable,
            steps,
            json,
        } => {
            let acc = Accuracy::new(eps, delta)?;
            let mut size = ProtocolSize::diagonal(qubits, layers);
            if let Some(p) = params_per_layer {
                anyhow::ensure!(p >= 1, "`--params-per-layer` must be ≥ 1, got {p}");
                size.params_per_layer = p;
            }
            size.encoding = match encoding {
                EncodingArg::Phase => DataEncoding::Phase,
                EncodingArg::Amplitude => DataEncoding::Amplitude,
            };
            size.observable = match observable {
                ObservableArg::Z0 => Observable::Z0,
                ObservableArg::P0 => Observable::P0,
            };
            let rows: Vec<CommunicationReport> = vec![
                inference(&size, &acc)?,
                gradient_parameter_shift(&size, &acc)?,
                gradient_shadow(&size, &acc, &ShadowParams::default())?,
                classical_inference_trivial(&size, bits_per_real)?,
                classical_gradient_trivial(&size, bits_per_real)?,
            ];
            let n_big = 1u128 << qubits;
            let data_once = n_big * u128::from(bits_per_real);
            let g2_total = u128::from(rows[2].qubits) * u128::from(steps);
            let crossover = inference_crossover(&size, &acc, bits_per_real)?;
            if json {
                let j = json!({
                    "n_qubits": qubits,
                    "dim": n_big.to_string(),
                    "layers": layers,
                    "params_per_layer": size.params_per_layer,
                    "eps": eps,
                    "delta": delta,
                    "shots": acc.shots(size.observable),
                    "bits_per_real": bits_per_real,
                    "protocols": rows,
                    "training_steps": steps,
                    "g2_total_qubits_over_steps": g2_total.to_string(),
                    "classical_ship_data_once_bits": data_once.to_string(),
                    "inference_crossover_n_qubits": crossover,
                    "classical_lower_bound": CLASSICAL_LOWER_BOUND_NOTE,
                });
                out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
            } else {
                let mut s = format!(
                    "n = {qubits} qubits (N = {n_big}), L = {layers}, P = {}, ε = {eps}, δ = {delta}, S = {} shots, b = {bits_per_real} bits/real\n\n",
                    size.params_per_layer,
                    acc.shots(size.observable)
                );
                s.push_str(&format!(
                    "{:<62} {:>22} {:>22} {:>7} {:>14}  {}\n",
                    "protocol", "qubits", "classical bits", "rounds", "copies", "basis"
                ));
                for r in &rows {
                    s.push_str(&format!(
                        "{:<62} {:>22} {:>22} {:>7} {:>14}  {:?}\n",
                        r.protocol, r.qubits, r.classical_bits, r.rounds, r.copies, r.basis
                    ));
                }
                s.push_str(&format!("\n{CLASSICAL_LOWER_BOUND_NOTE}\n"));
                s.push_str(&format!(
                    "over T = {steps} training step(s): G2 sends {g2_total} qubits (theoretical count); shipping the data once costs {data_once} bits\n"
                ));
                match crossover {
                    Some(nq) => s.push_str(&format!(
                        "first N = 2^n where quantum inference < trivial classical inference (same L, ε, δ, P = N): N* = 2^{nq}\n"
                    )),
                    None => s.push_str("no crossover N* ≤ 2^60 for quantum inference\n"),
                }
                out(&s)?;
            }
            Ok(Outcome::Ok)
        }
        QuantumCmd::Simulate { circuit, json } => {
            let path = circuit.display().to_string();
            let text = std::fs::read_to_string(&circuit)
                .with_context(|| format!("reading circuit {path}"))?;
            let c = Circuit::from_json(&text, &path)?;
            let r = c
                .run(&MemoryBudget::detect())
                .with_context(|| format!("running circuit {path}"))?;
            if json {
                out(&(serde_json::to_string_pretty(&r)? + "\n"))?;
            } else {
                let n = r.n_qubits;
                let mut s = format!(
                    "{n} qubits, {} gates; little-endian (qubit 0 = rightmost bit)\n\n",
                    c.gates.len()
                );
                s.push_str(&format!(
                    "{:>8} {:>w$} {:>24} {:>24} {:>12}\n",
                    "index",
                    "basis",
                    "re",
                    "im",
                    "probability",
                    w = n.max(5)
                ));
                for (j, a) in r.amplitudes.iter().enumerate() {
                    let p = a[0] * a[0] + a[1] * a[1];
                    if p < 1e-30 && r.amplitudes.len() > 64 {
                        continue;
                    }
                    s.push_str(&format!(
                        "{j:>8} {:>w$} {:>24.16e} {:>24.16e} {:>12.6}\n",
                        format!("{j:0n$b}"),
                        a[0],
                        a[1],
                        p,
                        w = n.max(5)
                    ));
                }
                s.push('\n');
                for (q, z) in r.expect_z.iter().enumerate() {
                    s.push_str(&format!("<Z_{q}> = {z:.16}\n"));
                }
                s.push_str(&format!(
                    "<P0 on qubit 0> = {:.16}\n‖ψ‖ = {:.16}\n",
                    r.expect_p0, r.norm
                ));
                out(&s)?;
            }
            Ok(Outcome::Ok)
        }
    }
}

/// The first n (N = 2^n) at which quantum inference sends fewer qubits than the trivial
/// classical protocol sends bits, with P = N (spec §3 check 4), searching n = 1..=60.
fn inference_crossover(size: &ProtocolSize, acc: &Accuracy, b: u64) -> Result<Option<u32>> {
    for nq in 1..=60u32 {
        let s = ProtocolSize {
            n_qubits: nq,
            params_per_layer: 1u64 << nq,
            ..*size
        };
        let q = inference(&s, acc)?.qubits;
        let c = classical_inference_trivial(&s, b)?.classical_bits;
        if q < c {
            return Ok(Some(nq));
        }
    }
    Ok(None)
}
