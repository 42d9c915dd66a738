//! End-to-end tests of `gdlab quantum`: the communication table, the JSON-circuit simulator
//! against Qiskit's `Statevector` (fixture made by `scripts/reference/quantum_statevector.py`,
//! qiskit 2.6.2; acceptance tolerance 1e-12), and one clear error line (exit 2) for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn comm_json_has_the_spec_numbers() {
    let d = scratch("q-comm");
    let o = gdlab(
        &[
            "quantum", "comm", "--qubits", "12", "--layers", "2", "--json",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // spec §3 check 4: S = 2952, Q_infer(2^12) = 141 696 qubits, C_triv = 32·4096, N* = 2^13
    assert_eq!(j["shots"], 2952);
    assert_eq!(j["protocols"][0]["qubits"], 141_696);
    assert_eq!(j["protocols"][3]["classical_bits"], 131_072);
    assert_eq!(j["inference_crossover_n_qubits"], 13);
    assert_eq!(j["protocols"][2]["basis"], "theoretical");
    let text = gdlab(&["quantum", "comm", "--qubits", "4", "--layers", "1"], &d);
    assert!(stdout(&text).contains("classical lower bound: poly(N) (see paper)"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn simulate_matches_qiskit_statevector() {
    let d = scratch("q-sim");
    let root = repo_root();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root.join("crates/gdlab-quantum/tests/fixtures/qiskit_statevector.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let circuit = root.join(case["circuit"].as_str().unwrap());
        let o = gdlab(
            &[
                "quantum",
                "simulate",
                "--circuit",
                circuit.to_str().unwrap(),
                "--json",
            ],
            &d,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let (got, want) = (
            r["amplitudes"].as_array().unwrap(),
            case["amplitudes"].as_array().unwrap(),
        );
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            for k in 0..2 {
                let (a, b) = (g[k].as_f64().unwrap(), w[k].as_f64().unwrap());
                assert!((a - b).abs() <= 1e-12, "{}: {a} vs {b}", circuit.display());
            }
        }
        for (g, w) in r["expect_z"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["expect_z"].as_array().unwrap())
        {
            assert!((g.as_f64().unwrap() - w.as_f64().unwrap()).abs() <= 1e-12);
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    let d = scratch("q-bad");
    let write = |name: &str, text: &str| {
        std::fs::write(d.join(name), text).unwrap();
        d.join(name).to_string_lossy().into_owned()
    };
    let unknown = write(
        "u.json",
        r#"{"n_qubits": 2, "gates": [{"name": "toffoli", "qubits": [0, 1]}]}"#,
    );
    assert_clean_error(
        &gdlab(&["quantum", "simulate", "--circuit", &unknown], &d),
        "unknown gate `toffoli`",
    );
    let range = write(
        "r.json",
        r#"{"n_qubits": 3, "gates": [{"name": "cx", "qubits": [0, 3]}]}"#,
    );
    assert_clean_error_all(
        &gdlab(&["quantum", "simulate", "--circuit", &range], &d),
        &["qubit 3 out of range", "3 qubits"],
    );
    let big = write(
        "b.json",
        r#"{"n_qubits": 38, "gates": [{"name": "h", "qubits": [0]}]}"#,
    );
    assert_clean_error_all(
        &gdlab(&["quantum", "simulate", "--circuit", &big], &d),
        &["38 qubits need", "memory budget"],
    );
    let broken = write("x.json", r#"{"n_qubits": 2, "gates": [ }"#);
    assert_clean_error(
        &gdlab(&["quantum", "simulate", "--circuit", &broken], &d),
        "x.json",
    );
    assert_clean_error(
        &gdlab(&["quantum", "simulate", "--circuit", "no-such.json"], &d),
        "reading circuit no-such.json",
    );
    for (flag, v) in [
        ("--eps", "0"),
        ("--eps", "1.2"),
        ("--delta", "1"),
        ("--delta", "-0.1"),
    ] {
        let o = gdlab(
            &["quantum", "comm", "--qubits", "8", "--layers", "2", flag, v],
            &d,
        );
        assert_clean_error_all(&o, &[flag.trim_start_matches('-'), "(0, 1)"]);
    }
    assert_clean_error(
        &gdlab(&["quantum", "comm", "--qubits", "0", "--layers", "2"], &d),
        "--qubits",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn gnn_reads_cora_and_rejects_malformed_files() {
    let d = scratch("q-gnn");
    // a tiny Cora-style graph: two classes, features correlated with the class, a ring
    let mut content = String::new();
    let mut cites = String::new();
    for i in 0..60 {
        let c = i % 2;
        content.push_str(&format!(
            "p{i}\t{}\t{}\t{}\tlabel_{c}\n",
            c,
            1 - c,
            (i / 3) % 2
        ));
        cites.push_str(&format!("p{i}\tp{}\n", (i + 2) % 60));
    }
    std::fs::write(d.join("cora.content"), &content).unwrap();
    std::fs::write(d.join("cora.cites"), &cites).unwrap();
    let dir = d.to_string_lossy().into_owned();
    let o = gdlab(
        &[
            "quantum",
            "gnn",
            "--cora",
            &dir,
            "--hops",
            "1",
            "--hidden",
            "4",
            "--epochs",
            "20",
            "--lr",
            "0.05",
            "--split",
            "random:0.5,0.25,0.25",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["n_nodes"], 60);
    assert_eq!(j["n_classes"], 2);
    // features reveal the class exactly: the model separates it
    assert!(
        j["outcome"]["test_node_acc"].as_f64().unwrap() >= 0.9,
        "{j}"
    );
    // malformed: a line with a missing feature
    std::fs::write(
        d.join("cora.content"),
        "p0\t1\t0\t1\tlabel_0\np1\t1\tlabel_1\n",
    )
    .unwrap();
    assert_clean_error_all(
        &gdlab(&["quantum", "gnn", "--cora", &dir, "--epochs", "1"], &d),
        &["cora.content:2", "features"],
    );
    // malformed: a citation of an unknown paper
    std::fs::write(d.join("cora.content"), &content).unwrap();
    std::fs::write(d.join("cora.cites"), "p0\tp1\np0\tnobody\n").unwrap();
    assert_clean_error_all(
        &gdlab(&["quantum", "gnn", "--cora", &dir, "--epochs", "1"], &d),
        &["cora.cites:2", "unknown node id `nobody`"],
    );
    std::fs::remove_dir_all(&d).unwrap();
}
