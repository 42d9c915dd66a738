//! `gdlab quantum ...`: communication counts of the quantum protocols (spec §2.1–2.3) and
//! a small JSON-circuit state-vector simulator.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_core::Seed;
use gdlab_quantum::circuit::Circuit;
use gdlab_quantum::gnn::data::{read_cora, read_ogb_raw, SplitRule};
use gdlab_quantum::gnn::qmodel::{train_node_classifier, Activation, QModelConfig, TrainConfig};
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

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ActArg {
    Prelu,
    Poly,
    Identity,
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
    /// Train the shallow SIGN QModel (spec §2.5) on a Cora-style folder or an OGB raw-layout
    /// folder and print node and decision accuracy (test at the best validation).
    Gnn {
        /// Folder with `<name>.content` and `<name>.cites` (Cora style).
        #[arg(long, conflicts_with = "ogb")]
        cora: Option<PathBuf>,
        /// File stem of the Cora-style files.
        #[arg(long, default_value = "cora")]
        name: String,
        /// Folder in the OGB raw layout (edges.csv, features.npy|csv, labels.csv, split/).
        #[arg(long)]
        ogb: Option<PathBuf>,
        /// Activation.
        #[arg(long, value_enum, default_value = "poly")]
        act: ActArg,
        /// Polynomial degree (poly only).
        #[arg(long, default_value_t = 2)]
        poly_deg: usize,
        /// Hops R.
        #[arg(long, default_value_t = 5)]
        hops: usize,
        /// Hidden units per block.
        #[arg(long, default_value_t = 512)]
        hidden: usize,
        /// Epochs.
        #[arg(long, default_value_t = 1000)]
        epochs: usize,
        /// Adam learning rate.
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
        /// Input dropout.
        #[arg(long, default_value_t = 0.3)]
        input_dropout: f64,
        /// Dropout on the concatenation.
        #[arg(long, default_value_t = 0.4)]
        dropout: f64,
        /// Add self-loops (Cora and ogbn-products: off in the authors' code).
        #[arg(long)]
        self_loops: bool,
        /// Split: `per-class` (20 per class / 500 / 1000), `random:A,B,C` fractions, or
        /// `files:DIR` (train.csv, valid.csv, test.csv). OGB folders with split/ use it.
        #[arg(long, default_value = "per-class")]
        split: String,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
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
        QuantumCmd::Gnn {
            cora,
            name,
            ogb,
            act,
            poly_deg,
            hops,
            hidden,
            epochs,
            lr,
            input_dropout,
            dropout,
            self_loops,
            split,
            seed,
            json,
        } => {
            let rule = parse_split(&split)?;
            let seed = Seed(seed);
            let ds = match (&cora, &ogb) {
                (Some(dir), None) => {
                    read_cora(dir, &name, self_loops, &rule, seed).with_context(|| {
                        format!("reading the Cora-style dataset in {}", dir.display())
                    })?
                }
                (None, Some(dir)) => read_ogb_raw(dir, self_loops, &rule, seed)
                    .with_context(|| format!("reading the OGB raw layout in {}", dir.display()))?,
                _ => anyhow::bail!("give exactly one of `--cora DIR` or `--ogb DIR`"),
            };
            let activation = match act {
                ActArg::Prelu => Activation::Prelu,
                ActArg::Poly => Activation::Poly { degree: poly_deg },
                ActArg::Identity => Activation::Identity,
            };
            let mc = QModelConfig {
                hops,
                hidden,
                input_dropout,
                dropout,
                activation,
            };
            let tc = TrainConfig {
                learning_rate: lr,
                epochs,
                ..TrainConfig::default()
            };
            let r = train_node_classifier(&ds, &mc, &tc, seed)?;
            if json {
                let j = json!({
                    "n_nodes": ds.n_nodes(),
                    "n_features": ds.n_features,
                    "n_classes": ds.n_classes,
                    "model": mc,
                    "train": tc,
                    "outcome": r,
                });
                out(&(serde_json::to_string_pretty(&j)? + "\n"))?;
            } else {
                out(&format!(
                    "{} nodes, {} features, {} classes; split {}/{}/{}\nQModel: R = {hops}, hidden {hidden}, act {}, input dropout {input_dropout}, dropout {dropout}; Adam lr {lr}, {epochs} epochs\ntest node accuracy {:.4} (best val {:.4}); test decision accuracy {:.4} (best val {:.4}){}\n",
                    ds.n_nodes(),
                    ds.n_features,
                    ds.n_classes,
                    ds.split.train.len(),
                    ds.split.val.len(),
                    ds.split.test.len(),
                    activation.name(),
                    r.test_node_acc,
                    r.best_val_node_acc,
                    r.test_decision_acc,
                    r.best_val_decision_acc,
                    r.diverged_at
                        .map_or(String::new(), |e| format!("; diverged at epoch {e}"))
                ))?;
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

fn parse_split(s: &str) -> Result<SplitRule> {
    if s == "per-class" {
        return Ok(SplitRule::PerClass {
            per_class: 20,
            n_val: 500,
            n_test: 1000,
        });
    }
    if let Some(rest) = s.strip_prefix("random:") {
        let f: Vec<f64> = rest
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .with_context(|| format!("`--split {s}`: expected random:A,B,C with numbers"))?;
        anyhow::ensure!(f.len() == 3, "`--split {s}`: expected three fractions");
        return Ok(SplitRule::Random(f[0], f[1], f[2]));
    }
    if let Some(dir) = s.strip_prefix("files:") {
        return Ok(SplitRule::Files(PathBuf::from(dir)));
    }
    anyhow::bail!("`--split {s}`: expected per-class, random:A,B,C or files:DIR")
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
