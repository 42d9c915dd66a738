//! End-to-end tests of `gdlab dynamics`: outputs, exit codes, one clear error line for bad
//! input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

#[test]
fn teacher_mixture_csv_ode_and_simulation() {
    let d = scratch("tm");
    let o = gdlab(
        &[
            "dynamics",
            "teacher-mixture",
            "--t-max",
            "2",
            "--record-dt",
            "1",
            "--simulate",
            "200",
            "--seeds",
            "2",
            "--out",
            "tm.csv",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(d.join("tm.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "source,seed,t,M,R_plus,R_minus,Q,b,eps_plus,eps_minus"
    );
    assert_eq!(lines.len(), 1 + 3 * 3, "3 records × (ODE + 2 seeds)");
    // ODE at t = 2 on configuration A: ε_+ = 0.7851, ε_− = 0.6633 (spec §3)
    let row: Vec<f64> = lines[3]
        .split(',')
        .skip(2)
        .map(|c| c.parse().unwrap())
        .collect();
    assert!((row[0] - 2.0).abs() < 1e-12);
    assert!((row[6] - 0.7851).abs() < 1e-4 && (row[7] - 0.6633).abs() < 1e-4);
    assert!(lines[4].starts_with("sim,0,0.0,"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn teacher_mixture_json_with_config_file() {
    let d = scratch("tm-json");
    std::fs::write(
        d.join("c.json"),
        r#"{"model": {"rho": 0.7, "learning_rate": 0.2}, "t_max": 1, "record_dt": 0.5}"#,
    )
    .unwrap();
    let o = gdlab(
        &[
            "dynamics",
            "teacher-mixture",
            "--config",
            "c.json",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["model"]["rho"], 0.7);
    assert_eq!(
        j["model"]["delta_minus"], 4.0,
        "missing keys come from the preset"
    );
    assert_eq!(j["trajectories"][0]["t"].as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn divergence_is_reported_not_written_as_numbers() {
    let d = scratch("tm-div");
    let o = gdlab(
        &[
            "dynamics",
            "teacher-mixture",
            "--lr",
            "3",
            "--t-max",
            "400",
            "--record-dt",
            "100",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("null") && !text.contains("inf") && !text.contains("NaN"));
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(j["trajectories"][0]["diverged_at"].is_number());
    assert!(String::from_utf8_lossy(&o.stderr).contains("diverged"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn phase_diagram_writes_grid_and_heat_map() {
    let d = scratch("pd");
    let o = gdlab(
        &[
            "dynamics",
            "phase-diagram",
            "--n-rho",
            "4",
            "--n-ratio",
            "5",
            "--out-dir",
            "pd",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(d.join("pd/phase_diagram.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 20);
    let svg = std::fs::read_to_string(d.join("pd/phase_diagram.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("always +"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("diverged"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_is_one_clear_error_with_exit_code_2() {
    let d = scratch("bad");
    std::fs::write(d.join("unknown.json"), r#"{"model": {"rhoo": 0.5}}"#).unwrap();
    std::fs::write(d.join("unknown-top.json"), r#"{"t_mx": 5}"#).unwrap();
    let cases: [(&[&str], &str); 9] = [
        (
            &["dynamics", "teacher-mixture", "--rho", "1.5"],
            "`rho` must be in (0, 1)",
        ),
        (&["dynamics", "teacher-mixture", "--rho", "0"], "`rho`"),
        (
            &["dynamics", "teacher-mixture", "--delta-minus", "0"],
            "`delta_minus` must be in (0, ∞)",
        ),
        (
            &["dynamics", "teacher-mixture", "--lr", "-0.1"],
            "`learning_rate`",
        ),
        (
            &["dynamics", "teacher-mixture", "--simulate", "0"],
            "`simulate`",
        ),
        (
            &["dynamics", "teacher-mixture", "--config", "unknown.json"],
            "model.rhoo",
        ),
        (
            &[
                "dynamics",
                "teacher-mixture",
                "--config",
                "unknown-top.json",
            ],
            "t_mx",
        ),
        (
            &["dynamics", "teacher-mixture", "--config", "missing.json"],
            "missing.json",
        ),
        (
            &["dynamics", "phase-diagram", "--ratio-min", "0"],
            "`ratio_min`",
        ),
    ];
    for (args, needle) in cases {
        assert_clean_error(&gdlab(args, &d), needle);
    }
    std::fs::remove_dir_all(&d).unwrap();
}
