//! End-to-end tests of `gdlab wasserstein`: outputs, exit codes, one clear error line for bad
//! input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

const INTERACTION: &str = r#"{"functional": {"kind": "interaction", "kernel": "double-well", "sigma": [[100, 0], [0, 1]]},
 "scheme": SCHEME, "step_size": 0.1, "n_iterations": 20,
 "particles": {"init": "gaussian", "n": 30, "dim": 2, "scale": 0.25}, "seed": 3}"#;

fn config(scheme: &str) -> String {
    INTERACTION.replace("SCHEME", scheme)
}

#[test]
fn interaction_flow_writes_every_output() {
    let d = scratch("w-run");
    std::fs::write(
        d.join("c.json"),
        config(r#"{"kind": "mirror-interaction", "kernel": "k4", "sigma": [[100, 0], [0, 1]]}"#),
    )
    .unwrap();
    let o = gdlab(
        &["wasserstein", "run", "--config", "c.json", "--out-dir", "o"],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("o/energies.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "iteration,time,value,mean_pair_energy");
    assert_eq!(lines.len(), 1 + 21);
    // value = ½ · mean pair energy; energies decrease (descent lemma, τ = 0.1 ≤ 1/β)
    let row = |l: &str| -> Vec<f64> { l.split(',').map(|c| c.parse().unwrap()).collect() };
    let (first, last) = (row(lines[1]), row(lines[21]));
    assert!((first[2] - 0.5 * first[3]).abs() < 1e-15);
    assert!(last[3] < first[3]);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o/summary.json")).unwrap()).unwrap();
    assert_eq!(s["newton"]["max_iterations"], 100);
    assert!(s["newton"]["max_final_residual"].as_f64().unwrap() < 1e-12);
    assert_eq!(s["n_particles"], 30);
    let svg = std::fs::read_to_string(d.join("o/scatter.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("final"));
    assert_eq!(
        std::fs::read_to_string(d.join("o/final_particles.csv"))
            .unwrap()
            .lines()
            .count(),
        30
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn k2_sigma_mirror_equals_preconditioned_gd_up_to_translation() {
    let d = scratch("w-k2");
    std::fs::write(
        d.join("md.json"),
        config(r#"{"kind": "mirror-interaction", "kernel": "k2", "sigma": [[100, 0], [0, 1]]}"#),
    )
    .unwrap();
    std::fs::write(
        d.join("pgd.json"),
        config(r#"{"kind": "pgd", "preconditioner": {"kind": "linear", "p": [[100, 0], [0, 1]]}}"#),
    )
    .unwrap();
    for (c, o) in [("md.json", "md"), ("pgd.json", "pgd")] {
        let r = gdlab(&["wasserstein", "run", "--config", c, "--out-dir", o], &d);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    let e = |o: &str| std::fs::read_to_string(d.join(o).join("energies.csv")).unwrap();
    let (a, b) = (e("md"), e("pgd"));
    for (x, y) in a.lines().skip(1).zip(b.lines().skip(1)) {
        let fx: f64 = x.split(',').nth(3).unwrap().parse().unwrap();
        let fy: f64 = y.split(',').nth(3).unwrap().parse().unwrap();
        assert!((fx - fy).abs() < 1e-12, "{fx} vs {fy}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sinkhorn_divergence_flow_decreases_and_bad_epsilon_is_an_error() {
    let d = scratch("w-sk");
    let cfg = |eps: &str| {
        format!(
            r#"{{"functional": {{"kind": "sinkhorn-divergence", "epsilon": {eps},
                 "target": {{"init": "gaussian", "n": 15, "dim": 2, "scale": 0.5, "mean": [2.0, 0.0]}}}},
                "scheme": {{"kind": "gd"}}, "step_size": 0.5, "n_iterations": 10,
                "particles": {{"init": "gaussian", "n": 12, "dim": 2, "scale": 1.0}}, "seed": 3}}"#
        )
    };
    std::fs::write(d.join("c.json"), cfg("0.5")).unwrap();
    let r = gdlab(
        &["wasserstein", "run", "--config", "c.json", "--out-dir", "o"],
        &d,
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o/summary.json")).unwrap()).unwrap();
    let (first, last) = (
        s["initial"]["value"].as_f64().unwrap(),
        s["final"]["value"].as_f64().unwrap(),
    );
    assert!(last < 0.2 * first, "{first} → {last}");
    std::fs::write(d.join("bad.json"), cfg("0.0")).unwrap();
    let r = gdlab(
        &[
            "wasserstein",
            "run",
            "--config",
            "bad.json",
            "--out-dir",
            "b",
        ],
        &d,
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("sinkhorn.epsilon"), "{}", stderr(&r));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn mirror_map_from_csv_particles() {
    let d = scratch("w-csv");
    std::fs::write(d.join("p.csv"), "x,y\n0.1,0.2\n0.3,0.1\n0.2,0.2\n").unwrap();
    std::fs::write(
        d.join("c.json"),
        r#"{"functional": {"kind": "potential", "matrix": [[1,0],[0,1]], "centre": [0.3, 0.3]},
            "scheme": {"kind": "mirror", "map": {"kind": "entropic"}},
            "step_size": 0.1, "n_iterations": 50, "particles": {"file": "p.csv"}}"#,
    )
    .unwrap();
    let o = gdlab(
        &["wasserstein", "run", "--config", "c.json", "--out-dir", "o"],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let fin = std::fs::read_to_string(d.join("o/final_particles.csv")).unwrap();
    for l in fin.lines() {
        let v: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
        assert!(v.iter().all(|&x| x > 0.0) && v.iter().sum::<f64>() < 1.0);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bench_prints_json() {
    let d = scratch("w-bench");
    let o = gdlab(
        &[
            "wasserstein",
            "bench",
            "--n",
            "200",
            "--dim",
            "3",
            "--steps",
            "2",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 200);
    assert!(j["seconds"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_is_one_clear_error_with_exit_code_2() {
    let d = scratch("w-bad");
    let w = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    w("outside.csv", "0.5,0.6\n0.1,0.1\n");
    w("nan.csv", "0.1,0.2\nnan,0.1\n");
    w("ragged.csv", "0.1,0.2\n0.3\n");
    w(
        "outside.json",
        r#"{"functional": {"kind": "potential", "matrix": [[1,0],[0,1]]},
            "scheme": {"kind": "mirror", "map": {"kind": "entropic"}},
            "step_size": 0.1, "n_iterations": 5, "particles": {"file": "outside.csv"}}"#,
    );
    w(
        "nan.json",
        r#"{"functional": {"kind": "potential", "matrix": [[1,0],[0,1]]},
            "scheme": {"kind": "gd"}, "step_size": 0.1, "n_iterations": 5, "particles": {"file": "nan.csv"}}"#,
    );
    w(
        "ragged.json",
        r#"{"functional": {"kind": "potential", "matrix": [[1,0],[0,1]]},
            "scheme": {"kind": "gd"}, "step_size": 0.1, "n_iterations": 5, "particles": {"file": "ragged.csv"}}"#,
    );
    w(
        "notpd.json",
        &INTERACTION
            .replace("[[100, 0], [0, 1]]", "[[1, 2], [2, 1]]")
            .replace("SCHEME", r#"{"kind": "gd"}"#),
    );
    w(
        "tau.json",
        &config(r#"{"kind": "gd"}"#).replace("\"step_size\": 0.1", "\"step_size\": 0"),
    );
    w(
        "tauneg.json",
        &config(r#"{"kind": "gd"}"#).replace("\"step_size\": 0.1", "\"step_size\": -1"),
    );
    w(
        "dims.json",
        &config(r#"{"kind": "gd"}"#).replace("\"dim\": 2", "\"dim\": 3"),
    );
    w(
        "newton.json",
        &config(
            r#"{"kind": "mirror-interaction", "kernel": "k4", "tol": 1e-300, "max_iterations": 2}"#,
        ),
    );
    w(
        "unknown.json",
        &config(r#"{"kind": "gd"}"#).replace("\"seed\"", "\"sed\""),
    );
    w(
        "ball.json",
        &config(r#"{"kind": "mirror", "map": {"kind": "ball", "radius_sq": -1, "gamma": 1}}"#),
    );
    let cases: [(&str, &[&str]); 11] = [
        ("outside.json", &["particle 0", "entropic", "domain"]),
        ("nan.json", &["line 2", "not finite"]),
        ("ragged.json", &["line 2", "same dimension"]),
        (
            "notpd.json",
            &["symmetric positive definite", "smallest eigenvalue"],
        ),
        ("tau.json", &["`step_size` must be in (0, ∞), got 0"]),
        ("tauneg.json", &["`step_size`", "got -1"]),
        ("dims.json", &["dimension mismatch"]),
        ("newton.json", &["did not converge", "cap 2"]),
        ("unknown.json", &["sed"]),
        ("ball.json", &["`radius_sq` must be in (0, ∞)"]),
        ("missing.json", &["missing.json"]),
    ];
    for (c, needles) in cases {
        assert_clean_error_all(&gdlab(&["wasserstein", "run", "--config", c], &d), needles);
    }
    assert!(!d.join("wasserstein-out").exists(), "no partial output");
    std::fs::remove_dir_all(&d).unwrap();
}
