//! End-to-end tests of `gdlab decentral`: outputs, files, and exit code 2 with one clear
//! error line for bad input (disconnected graph, ρ ≥ 1, s > d, η ≤ 0, malformed edge list).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

use std::process::Output;

fn json_of(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn ring_rho_matches_closed_form() {
    let d = scratch("ring");
    let j = json_of(&gdlab(
        &[
            "decentral",
            "graph",
            "--kind",
            "ring",
            "--nodes",
            "10",
            "--json",
        ],
        &d,
    ));
    let exact = (1.0 + 2.0 * (2.0 * std::f64::consts::PI / 10.0).cos()) / 3.0;
    assert!((j["rho"].as_f64().unwrap() - exact).abs() < 1e-12);
    assert_eq!(j["degree"]["max"], 2);
    assert_eq!(j["n_edges"], 10);
}

#[test]
fn every_kind_prints_rho() {
    let d = scratch("kinds");
    for kind in ["path", "star", "complete", "grid", "torus"] {
        let j = json_of(&gdlab(
            &[
                "decentral",
                "graph",
                "--kind",
                kind,
                "--nodes",
                "16",
                "--json",
            ],
            &d,
        ));
        let rho = j["rho"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&rho), "{kind}: {rho}");
    }
    let a = gdlab(
        &[
            "decentral",
            "graph",
            "--kind",
            "er",
            "--nodes",
            "12",
            "--p",
            "0.4",
            "--seed",
            "3",
            "--json",
        ],
        &d,
    );
    let b = gdlab(
        &[
            "decentral",
            "graph",
            "--kind",
            "er",
            "--nodes",
            "12",
            "--p",
            "0.4",
            "--seed",
            "3",
            "--json",
        ],
        &d,
    );
    assert_eq!(a.stdout, b.stdout);
    let t = json_of(&gdlab(
        &[
            "decentral",
            "graph",
            "--kind",
            "er",
            "--nodes",
            "20",
            "--target-rho",
            "0.5",
            "--json",
        ],
        &d,
    ));
    assert!((t["rho"].as_f64().unwrap() - 0.5).abs() < 0.05);
    std::fs::write(d.join("tri.txt"), "# triangle\n0 1\n1 2\n2 0\n").unwrap();
    let f = json_of(&gdlab(
        &[
            "decentral",
            "graph",
            "--kind",
            "file",
            "--file",
            "tri.txt",
            "--json",
        ],
        &d,
    ));
    assert_eq!(f["n_nodes"], 3);
    // Complete graph, Metropolis weights = J/m: ρ = 0.
    assert!(f["rho"].as_f64().unwrap() < 1e-12);
}

#[test]
fn bad_graphs_exit_2() {
    let d = scratch("badgraph");
    std::fs::write(d.join("dis.txt"), "0 1\n2 3\n").unwrap();
    assert_clean_error(
        &gdlab(
            &["decentral", "graph", "--kind", "file", "--file", "dis.txt"],
            &d,
        ),
        "disconnected",
    );
    std::fs::write(d.join("bad.txt"), "0 1\n1 2 7\n").unwrap();
    assert_clean_error(
        &gdlab(
            &["decentral", "graph", "--kind", "file", "--file", "bad.txt"],
            &d,
        ),
        "line 2",
    );
    std::fs::write(d.join("neg.txt"), "0 -1\n").unwrap();
    assert_clean_error(
        &gdlab(
            &["decentral", "graph", "--kind", "file", "--file", "neg.txt"],
            &d,
        ),
        "line 1",
    );
    assert_clean_error(
        &gdlab(
            &[
                "decentral",
                "graph",
                "--kind",
                "er",
                "--nodes",
                "10",
                "--target-rho",
                "1.0",
            ],
            &d,
        ),
        "target_rho",
    );
    assert_clean_error(
        &gdlab(
            &[
                "decentral",
                "graph",
                "--kind",
                "er",
                "--nodes",
                "10",
                "--p",
                "1.5",
            ],
            &d,
        ),
        "`p`",
    );
    assert_clean_error(
        &gdlab(
            &[
                "decentral",
                "graph",
                "--kind",
                "er",
                "--nodes",
                "30",
                "--p",
                "0",
            ],
            &d,
        ),
        "connected",
    );
    assert_clean_error(
        &gdlab(
            &["decentral", "graph", "--kind", "ring", "--nodes", "2"],
            &d,
        ),
        "n_nodes",
    );
    assert_clean_error(
        &gdlab(&["decentral", "graph", "--kind", "ring"], &d),
        "--nodes",
    );
    assert_clean_error(
        &gdlab(
            &["decentral", "graph", "--kind", "torus", "--nodes", "7"],
            &d,
        ),
        "torus",
    );
}

const CONFIG: &str = r#"{"graph": {"kind": "ring", "n_nodes": 5},
 "problem": {"dim": 200, "sparsity": 3, "n_agents": 5, "samples_per_agent": 30, "noise_std": 0.5, "magnitude": 1.0},
 "algorithms": [{"algorithm": "dgd", "step_size": 0.05, "init_scale": 1e-6, "n_rounds": 200},
                {"algorithm": "cgd", "step_size": 0.05, "init_scale": 1e-6, "n_rounds": 200},
                {"algorithm": "lasso", "method": {"method": "prox_atc", "lambda": 0.1}, "step_size": 0.01, "n_rounds": 100}],
 "seed": 4}"#;

#[test]
fn run_writes_curves() {
    let d = scratch("run");
    std::fs::write(d.join("exp.json"), CONFIG).unwrap();
    let j = json_of(&gdlab(
        &[
            "decentral",
            "run",
            "--config",
            "exp.json",
            "--out",
            "o",
            "--json",
        ],
        &d,
    ));
    assert_eq!(j["runs"].as_array().unwrap().len(), 3);
    let csv = std::fs::read_to_string(d.join("o/curves.csv")).unwrap();
    assert!(csv.starts_with("algorithm,round,err_agents"));
    // 201 + 201 + 101 rows plus the header.
    assert_eq!(csv.lines().count(), 1 + 201 + 201 + 101);
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("o/result.json")).unwrap()).unwrap();
    assert_eq!(
        r["runs"][0]["trace"]["err_agents"]
            .as_array()
            .unwrap()
            .len(),
        201
    );
    // Same config, same numbers.
    let again = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            "exp.json",
            "--out",
            "o2",
            "--json",
        ],
        &d,
    );
    assert!(again.status.success());
    assert_eq!(
        std::fs::read(d.join("o/curves.csv")).unwrap(),
        std::fs::read(d.join("o2/curves.csv")).unwrap()
    );
}

#[test]
fn bad_configs_exit_2() {
    let d = scratch("badrun");
    let cases = [
        (
            CONFIG.replace("\"sparsity\": 3", "\"sparsity\": 300"),
            "sparsity",
        ),
        (
            CONFIG.replacen("\"step_size\": 0.05", "\"step_size\": 0", 1),
            "step_size",
        ),
        (
            CONFIG.replacen("\"step_size\": 0.05", "\"step_size\": -1", 1),
            "step_size",
        ),
        (
            CONFIG.replace("\"n_nodes\": 5", "\"n_nodes\": 6"),
            "n_agents",
        ),
        (
            CONFIG.replace("\"seed\": 4", "\"seed\": 4, \"typo\": 1"),
            "typo",
        ),
        (
            CONFIG.replace(
                "{\"kind\": \"ring\", \"n_nodes\": 5}",
                "{\"kind\": \"edges\", \"n_nodes\": 5, \"edges\": [[0, 1], [2, 3]]}",
            ),
            "disconnected",
        ),
    ];
    for (i, (cfg, needle)) in cases.iter().enumerate() {
        let f = format!("bad{i}.json");
        std::fs::write(d.join(&f), cfg).unwrap();
        assert_clean_error(
            &gdlab(&["decentral", "run", "--config", &f, "--out", "o"], &d),
            needle,
        );
    }
    assert!(!d.join("o").exists(), "nothing written on error");
    assert_clean_error(
        &gdlab(&["decentral", "run", "--config", "missing.json"], &d),
        "missing.json",
    );
}
