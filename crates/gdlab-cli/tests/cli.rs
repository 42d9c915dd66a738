//! End-to-end tests of the `gdlab` binary: outputs, exit codes, and one clear error line
//! (never a panic, never partial output) for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

#[test]
fn study_list_names_every_study() {
    let d = scratch("list");
    let o = gdlab(&["study", "list"], &d);
    assert!(o.status.success());
    assert!(stdout(&o).contains("random-reshuffling"));
    assert!(stdout(&o).contains("claim:"));
}

#[test]
fn study_run_prints_pass_and_the_headline_numbers() {
    let d = scratch("run");
    let o = gdlab(
        &[
            "study",
            "run",
            "random-reshuffling",
            "--out",
            "out",
            "--quiet",
            "--strict",
            "--threads",
            "2",
        ],
        &d,
    );
    let text = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(text.starts_with("random-reshuffling: PASS"), "{text}");
    assert!(
        text.contains("‖E_WR‖ = 1 at n = 5 (measured 1.000000000000000)"),
        "{text}"
    );
    assert!(
        text.contains("‖E_RR‖ = 19/16 = 1.1875 at n = 5 (measured 1.187500000000000)"),
        "{text}"
    );
    assert!(
        text.contains("‖E_RR‖ = 8/9 at n = 4 (measured 0.888888888888889)"),
        "{text}"
    );
    for f in [
        "report.md",
        "report.html",
        "metrics.json",
        "rr-norm-vs-n.svg",
        "averaged-model-error.svg",
    ] {
        assert!(d.join("out/random-reshuffling").join(f).is_file(), "{f}");
    }
}

#[test]
fn bare_gdlab_runs_every_study_and_writes_the_index() {
    let d = scratch("bare");
    let o = gdlab(&[], &d);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("gdlab-out/summary.json")).unwrap()).unwrap();
    let studies = summary["studies"].as_array().unwrap();
    assert!(studies
        .iter()
        .any(|s| s["id"] == "random-reshuffling" && s["verdict"] == "PASS"));
    let html = std::fs::read_to_string(d.join("gdlab-out/index.html")).unwrap();
    assert!(html.contains("random-reshuffling/report.html"));
}

#[test]
fn bad_study_input_is_one_line_and_exit_2() {
    let d = scratch("bad-study");
    assert_clean_error(
        &gdlab(&["study", "run", "no-such-study", "--out", "o"], &d),
        "unknown study `no-such-study`",
    );
    assert!(
        !d.join("o").exists(),
        "an output folder was created for a bad request"
    );
    assert_clean_error(&gdlab(&["study", "run", "all", "--bogus"], &d), "--bogus");
    assert_clean_error(
        &gdlab(&["study", "run", "all", "--threads", "0"], &d),
        "threads",
    );
    assert_clean_error(&gdlab(&["study", "run", "all", "--seed", "-3"], &d), "-3");
    std::fs::write(d.join("afile"), b"keep me").unwrap();
    assert_clean_error(
        &gdlab(&["study", "run", "all", "--out", "afile"], &d),
        "not a directory",
    );
    assert_eq!(std::fs::read(d.join("afile")).unwrap(), b"keep me");
}

#[derive(serde::Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}
#[derive(serde::Deserialize)]
struct Case {
    name: String,
    spec: String,
    params: Vec<Vec<f64>>,
}

fn replay_json(args: &[&str]) -> serde_json::Value {
    // One folder per call: tests run in parallel and `scratch` empties its folder.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = scratch(&format!("replay-{n}"));
    let o = gdlab(args, &d);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn replay_matches_pytorch_from_json_and_npy() {
    let fx: Fixture = serde_json::from_str(include_str!(
        "../../gdlab-optim/tests/fixtures/torch_optim.json"
    ))
    .unwrap();
    let case = fx.cases.iter().find(|c| c.name == "adam_custom").unwrap();
    let (p_json, g_json) = (fixture("replay_params.json"), fixture("replay_grads.json"));
    let (p_npy, g_npy) = (fixture("replay_params.npy"), fixture("replay_grads.npy"));
    let a = replay_json(&[
        "optim",
        "replay",
        "--optimizer",
        &case.spec,
        "--params",
        &p_json,
        "--grads",
        &g_json,
        "--json",
    ]);
    let b = replay_json(&[
        "optim",
        "replay",
        "--optimizer",
        &case.spec,
        "--params",
        &p_npy,
        "--grads",
        &g_npy,
        "--json",
    ]);
    assert_eq!(a, b, "JSON and .npy inputs must give the same trajectory");
    let ours: Vec<f64> = a["trajectory"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    gdlab_core::assert_close!(ours, case.params.concat(), rel = 1e-12);
    // f32 gradients are widened exactly; the f32 run tracks the f64 one at f32 precision.
    let g32 = fixture("replay_grads_f32.npy");
    let c = replay_json(&[
        "optim",
        "replay",
        "--optimizer",
        &case.spec,
        "--params",
        &p_npy,
        "--grads",
        &g32,
        "--dtype",
        "f32",
        "--json",
    ]);
    assert_eq!(c["dtype"], "f32");
    let ours32: Vec<f64> = c["trajectory"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    gdlab_core::assert_close!(ours32, case.params.concat(), rel = 1e-5, abs = 1e-5);
}

#[test]
fn replay_table_output() {
    let d = scratch("replay-table");
    let o = gdlab(
        &[
            "optim",
            "replay",
            "--optimizer",
            "sgd(lr=0.5)",
            "--params",
            &fixture("replay_params.json"),
            "--grads",
            &fixture("replay_grads.json"),
        ],
        &d,
    );
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.starts_with("# sgd(learning_rate=0.5"), "{text}");
    assert_eq!(text.lines().count(), 2 + 13, "{text}");
}

#[test]
fn bad_replay_input_is_one_line_and_exit_2() {
    let d = scratch("bad-replay");
    let (p, g) = (fixture("replay_params.json"), fixture("replay_grads.json"));
    let run = |spec: &str, p: &str, g: &str| {
        gdlab(
            &[
                "optim",
                "replay",
                "--optimizer",
                spec,
                "--params",
                p,
                "--grads",
                g,
            ],
            &d,
        )
    };
    assert_clean_error(&run("adam(lr=1e-3", &p, &g), "malformed optimizer spec");
    assert_clean_error(
        &run("sgd(lr=-0.1)", &p, &g),
        "`learning_rate` must be in [0, ∞), got -0.1",
    );
    assert_clean_error(&run("nadam(lr=1)", &p, &g), "unknown optimizer `nadam`");
    assert_clean_error(
        &run("adam(lr=1e-3)", &p, &fixture("replay_grads_bad.npy")),
        "expected shape (n_steps, 7)",
    );
    assert_clean_error(
        &run("adam(lr=1e-3)", &p, "does-not-exist.npy"),
        "reading does-not-exist.npy",
    );
    std::fs::write(d.join("garbage.npy"), b"\x93NUMPY garbage").unwrap();
    assert_clean_error(
        &run("adam(lr=1e-3)", &p, "garbage.npy"),
        "parsing .npy file garbage.npy",
    );
    std::fs::write(d.join("nan.json"), b"[[1e400, 0, 0, 0, 0, 0, 0]]").unwrap();
    let o = run("adam(lr=1e-3)", &p, "nan.json");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn sampling_amgm() {
    let d = scratch("amgm");
    let o = gdlab(&["sampling", "amgm", "--n", "5", "--json"], &d);
    assert!(o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    gdlab_core::assert_close!(j["e_rr_norm"].as_f64().unwrap(), 1.1875, rel = 1e-12);
    gdlab_core::assert_close!(j["e_wr_norm"].as_f64().unwrap(), 1.0, rel = 1e-12);
    assert_eq!(j["violates_amgm"], true);
    let o = gdlab(&["sampling", "amgm", "--n", "4"], &d);
    assert!(
        stdout(&o).contains("‖E_RR‖ = 0.888888888889"),
        "{}",
        stdout(&o)
    );
    assert_clean_error(&gdlab(&["sampling", "amgm", "--n", "1"], &d), "1");
    assert_clean_error(&gdlab(&["sampling", "amgm", "--n", "40"], &d), "40");
}

#[test]
fn threads_do_not_change_the_numbers() {
    let d = scratch("threads");
    let metrics = |threads: &str| {
        let out = format!("out-{threads}");
        let o = gdlab(
            &[
                "study",
                "run",
                "random-reshuffling", // one study is enough: tests/studies.rs checks every study
                "--quiet",
                "--threads",
                threads,
                "--out",
                &out,
            ],
            &d,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let mut v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(d.join(&out).join("random-reshuffling/metrics.json")).unwrap(),
        )
        .unwrap();
        v["elapsed_s"] = serde_json::Value::Null;
        serde_json::to_string(&v).unwrap()
    };
    assert_eq!(metrics("1"), metrics("4"));
}

// ---------------------------------------------------------------------------------------
// Sign-based and variance-reduced optimizers
// ---------------------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct NumpyFixture {
    cases: Vec<NumpyCase>,
}
#[derive(serde::Deserialize)]
struct NumpyCase {
    name: String,
    spec: String,
    params0: Vec<f64>,
    params: Vec<Vec<f64>>,
}

fn numpy_case(name: &str) -> NumpyCase {
    let fx: NumpyFixture = serde_json::from_str(include_str!(
        "../../gdlab-optim/tests/fixtures/numpy_sign_vr.json"
    ))
    .unwrap();
    fx.cases.into_iter().find(|c| c.name == name).unwrap()
}

fn trajectory(v: &serde_json::Value) -> Vec<f64> {
    v["trajectory"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `gdlab optim replay` of SSVR and SSVR-FS from 3-D JSON and `.npy` (C and Fortran order)
/// inputs written by `scripts/reference/sign_vr_numpy.py --write-cli-fixtures`, against the
/// NumPy transcription's trajectory at `rel ≤ 1e-12` (f64) and `1e-5` (f32 input and run).
#[test]
fn replay_ssvr_matches_numpy_from_json_and_npy() {
    let case = numpy_case("ssvr_beta0.1");
    let p = fixture("sign_vr_params.json");
    let replay = |grads: &str, extra: &[&str]| {
        let mut args = vec![
            "optim",
            "replay",
            "--optimizer",
            &case.spec,
            "--params",
            &p,
            "--grads",
            grads,
            "--json",
        ];
        args.extend_from_slice(extra);
        replay_json(&args)
    };
    let a = replay(&fixture("ssvr_grads.json"), &[]);
    let b = replay(&fixture("ssvr_grads.npy"), &[]);
    let c = replay(&fixture("ssvr_grads_fortran.npy"), &[]);
    assert_eq!(a, b, "JSON and .npy inputs must give the same trajectory");
    assert_eq!(b, c, "C and Fortran order must give the same trajectory");
    assert_eq!(
        a["optimizer"],
        "ssvr(learning_rate=0.01,beta=0.1,initial_batch=1,batch_size=1)"
    );
    let params0: Vec<f64> = a["params0"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(params0 == case.params0);
    gdlab_core::assert_close!(trajectory(&a), case.params.concat(), rel = 1e-12);
    let d = replay(&fixture("ssvr_grads_f32.npy"), &["--dtype", "f32"]);
    assert_eq!(d["dtype"], "f32");
    gdlab_core::assert_close!(trajectory(&d), case.params.concat(), rel = 1e-5, abs = 1e-5);

    let fs = numpy_case("ssvr_fs_blend_reset");
    let fp = fixture("ssvr_fs_params.json");
    for g in ["ssvr_fs_grads.json", "ssvr_fs_grads.npy"] {
        let out = replay_json(&[
            "optim",
            "replay",
            "--optimizer",
            &fs.spec,
            "--params",
            &fp,
            "--grads",
            &fixture(g),
            "--json",
        ]);
        gdlab_core::assert_close!(trajectory(&out), fs.params.concat(), rel = 1e-12);
    }
    // The alias name is accepted and printed as `ssvr_fs`.
    let alias = fs.spec.replace("ssvr_fs(", "ssvr_finite_sum(");
    let out = replay_json(&[
        "optim",
        "replay",
        "--optimizer",
        &alias,
        "--params",
        &fp,
        "--grads",
        &fixture("ssvr_fs_grads.npy"),
        "--json",
    ]);
    assert!(out["optimizer"].as_str().unwrap().starts_with("ssvr_fs("));
    gdlab_core::assert_close!(trajectory(&out), fs.params.concat(), rel = 1e-12);
}

/// Transform-only sign methods keep the 2-D input.
#[test]
fn replay_sign_methods_take_2d_grads() {
    let d = scratch("replay-sign");
    let (p, g) = (fixture("replay_params.json"), fixture("replay_grads.json"));
    for spec in [
        "sign_sgd(lr=0.01)",
        "signum(lr=0.01)",
        "sign_momentum(lr=0.01,momentum=0.5)",
        "normalized_gd(lr=0.1)",
        "rescaled_sign(lr=0.01,momentum=0.9)",
    ] {
        let o = gdlab(
            &[
                "optim",
                "replay",
                "--optimizer",
                spec,
                "--params",
                &p,
                "--grads",
                &g,
                "--json",
            ],
            &d,
        );
        assert!(o.status.success(), "{spec}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["trajectory"].as_array().unwrap().len(), 12, "{spec}");
    }
    // sign_sgd moves every coordinate by exactly lr at the first step.
    let o = gdlab(
        &[
            "optim",
            "replay",
            "--optimizer",
            "sign_sgd(lr=0.25)",
            "--params",
            &p,
            "--grads",
            &g,
            "--json",
        ],
        &d,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let x0: Vec<f64> = v["params0"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let x1 = &trajectory(&v)[..x0.len()];
    for (a, b) in x0.iter().zip(x1) {
        gdlab_core::assert_close!((a - b).abs(), 0.25, rel = 1e-12);
    }
}

/// Bad SPEC strings for the new optimizers: one line naming the problem, exit 2, no panic.
#[test]
fn bad_sign_and_vr_specs_are_one_line_and_exit_2() {
    let d = scratch("bad-vr-spec");
    let (p, g) = (fixture("sign_vr_params.json"), fixture("ssvr_grads.json"));
    let run = |spec: &str| {
        gdlab(
            &[
                "optim",
                "replay",
                "--optimizer",
                spec,
                "--params",
                &p,
                "--grads",
                &g,
            ],
            &d,
        )
    };
    for (spec, needle) in [
        ("ssvr(lr=1e-3,beta=0)", "`beta` must be in (0, 1], got 0"),
        (
            "ssvr(lr=1e-3,beta=1.5)",
            "`beta` must be in (0, 1], got 1.5",
        ),
        (
            "ssvr(lr=-1e-3)",
            "`learning_rate` must be in [0, ∞), got -0.001",
        ),
        ("signum(lr=-1)", "`learning_rate` must be in [0, ∞), got -1"),
        (
            "signum(lr=1e-3,momentum=1)",
            "`momentum` must be in [0, 1), got 1",
        ),
        (
            "ssvr(lr=1e-3,momentum=0.9)",
            "`ssvr` has no parameter `momentum`; allowed: learning_rate (lr), beta",
        ),
        (
            "sign_sgd(lr=1e-3,beta=0.1)",
            "`sign_sgd` has no parameter `beta`",
        ),
        ("ssvr_fs(lr=1e-3,beta=2)", "`beta` must be in [0, 1], got 2"),
        (
            "ssvr_fs(lr=1e-3,period=-4)",
            "`period` must be a non-negative integer",
        ),
        (
            "ssvr(lr=1e-3,batch_size=0)",
            "`batch_size` must be in [1, ∞), got 0",
        ),
        ("ssvr(lr=1e-3,beta=0.1", "malformed optimizer spec"),
        ("signsgd(lr=1e-3)", "unknown optimizer `signsgd`"),
    ] {
        assert_clean_error(&run(spec), needle);
    }
}

/// Mis-shaped gradients for the variance-reduced optimizers: one line naming the expected
/// shape (n_steps, k, dim), exit 2.
#[test]
fn misshaped_vr_grads_are_one_line_and_exit_2() {
    let d = scratch("bad-vr-grads");
    let p = fixture("sign_vr_params.json");
    let run = |spec: &str, p: &str, g: &str| {
        gdlab(
            &[
                "optim",
                "replay",
                "--optimizer",
                spec,
                "--params",
                p,
                "--grads",
                g,
            ],
            &d,
        )
    };
    let ssvr = "ssvr(lr=1e-3,beta=0.1)";
    // A 2-D gradient file (one row per step) is not enough for ssvr.
    assert_clean_error(
        &run(
            ssvr,
            &fixture("replay_params.json"),
            &fixture("replay_grads.json"),
        ),
        "`ssvr` takes gradients of shape (n_steps, 2, 7) (rows [g_t, g_prev_t] per step",
    );
    // 3 rows per step.
    assert_clean_error(
        &run(ssvr, &p, &fixture("ssvr_grads_bad.npy")),
        "shape (n_steps, 2, 6)",
    );
    // ssvr_fs given ssvr's 2-row steps.
    assert_clean_error(
        &run("ssvr_fs(lr=1e-3,period=4)", &p, &fixture("ssvr_grads.npy")),
        "`ssvr_fs` takes gradients of shape (n_steps, 4, 6) (rows [g_t, g_prev_t, g_snap_t, mu_t]",
    );
    // The parameters' length must match the last axis.
    assert_clean_error(
        &run(
            ssvr,
            &fixture("replay_params.json"),
            &fixture("ssvr_grads.npy"),
        ),
        "shape (n_steps, 2, 7)",
    );
    // A plain optimizer given 3-D gradients.
    assert_clean_error(
        &run("sign_sgd(lr=1e-3)", &p, &fixture("ssvr_grads.npy")),
        "expected shape (n_steps, 6)",
    );
    // Ragged 3-D JSON and an empty step list.
    std::fs::write(
        d.join("ragged.json"),
        b"[[[1,2,3,4,5,6],[1,2,3,4,5,6]],[[1,2,3,4,5,6]]]",
    )
    .unwrap();
    assert_clean_error(&run(ssvr, &p, "ragged.json"), "ragged array");
    std::fs::write(d.join("deep.json"), b"[[[[1]]]]").unwrap();
    assert_clean_error(&run(ssvr, &p, "deep.json"), "1-D, 2-D or 3-D");
    // ssvr_fs needs an explicit period to be replayed.
    assert_clean_error(
        &run("ssvr_fs(lr=1e-3)", &p, &fixture("ssvr_fs_grads.npy")),
        "`period` must be in [1, ∞) for a replay",
    );
}

#[test]
fn majority_vote_verb_validates_and_runs() {
    let d = scratch("mv");
    let run = |extra: &[&str]| {
        let mut args = vec!["optim", "majority-vote", "--steps", "20"];
        args.extend_from_slice(extra);
        gdlab(&args, &d)
    };
    assert_clean_error(
        &run(&["--workers", "0"]),
        "`n_workers` must be in [1, ∞), got 0",
    );
    assert_clean_error(
        &run(&["--radius", "0"]),
        "`radius` must be in (0, ∞), got 0",
    );
    assert_clean_error(&run(&["--radius", "-1"]), "`radius`");
    assert_clean_error(&run(&["--beta", "0"]), "`beta` must be in (0, 1], got 0");
    assert_clean_error(&run(&["--beta", "1.5"]), "`beta`");
    assert_clean_error(&run(&["--lr", "-1"]), "learning_rate");
    assert_clean_error(&run(&["--option", "3"]), "`option` must be 1 or 2");
    let o = run(&["--json", "--workers", "3", "--method", "sign-sgd-mv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["method"], "sign_sgd_mv");
    // 1 bit per coordinate per worker up, one broadcast down: d = 50, T = 20.
    assert_eq!(j["bits_up"], 3 * 50 * 20);
    assert_eq!(j["bits_down"], 50 * 20);
    assert!(j["tail_mean_grad_l1"].as_f64().unwrap() > 0.0);
}

#[test]
fn privacy_factorize_bsr_matches_spec_table() {
    let d = scratch("privacy-factorize");
    let o = gdlab(
        &[
            "privacy",
            "factorize",
            "--workload",
            "momentum",
            "--alpha",
            "1",
            "--beta",
            "0",
            "--n",
            "200",
            "--participations",
            "2",
            "--separation",
            "100",
            "--strategy",
            "bsr",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // spec §6.3: BSR E = 3.645 at (1,0), n = 200, b = 100, k = 2
    assert!((j["rmse"].as_f64().unwrap() - 3.645).abs() < 5e-4);
    assert_eq!(j["bandwidth"], 100);
    assert_eq!(j["sensitivity"]["kind"], "exact");
    assert!(j["lower_bound"].as_f64().unwrap() < j["rmse"].as_f64().unwrap());
    assert!(j["seconds"].as_f64().unwrap() >= 0.0);
    let t = gdlab(
        &[
            "privacy",
            "factorize",
            "--n",
            "100",
            "--strategy",
            "identity",
        ],
        &d,
    );
    assert!(t.status.success());
    assert!(stdout(&t).contains("E = ‖B‖_F·sens/√n = 7.10"));
}

#[test]
fn privacy_calibrate_json_labels_both_methods() {
    let d = scratch("privacy-calibrate");
    let o = gdlab(
        &[
            "privacy",
            "calibrate",
            "--epsilon",
            "1",
            "--delta",
            "1e-5",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // fixture dp_calibrate.json (dp_accounting PLD): 3.7306316348182786
    let a = j["analytic"]["noise_multiplier"].as_f64().unwrap();
    assert!((a / 3.730_631_634_818_278_6 - 1.0).abs() < 1e-6);
    assert_eq!(j["classical"]["method"], "classical");
    let c = gdlab(
        &[
            "privacy",
            "calibrate",
            "--epsilon",
            "8",
            "--delta",
            "1e-5",
            "--sensitivity",
            "2",
        ],
        &d,
    );
    assert!(c.status.success());
    assert!(stdout(&c).contains("only proven for ε < 1"));
}

#[test]
fn privacy_bad_input_is_a_clean_error() {
    let d = scratch("privacy-bad");
    let f = |extra: &[&str]| {
        let mut v = vec!["privacy", "factorize", "--strategy", "bsr"];
        v.extend_from_slice(extra);
        gdlab(&v, &d)
    };
    assert_clean_error(&f(&["--n", "100", "--alpha", "1.5"]), "alpha");
    assert_clean_error(
        &f(&["--n", "100", "--alpha", "0.9", "--beta", "0.95"]),
        "beta",
    );
    assert_clean_error(&f(&["--n", "100", "--beta", "-0.1"]), "beta");
    assert_clean_error(&f(&["--n", "100", "--bandwidth", "0"]), "bandwidth");
    assert_clean_error(&f(&["--n", "100", "--bandwidth", "101"]), "bandwidth");
    assert_clean_error(
        &f(&["--n", "400", "--participations", "5", "--separation", "100"]),
        "max_participations",
    );
    assert_clean_error(
        &f(&["--n", "400", "--separation", "100"]),
        "--participations",
    );
    assert_clean_error(
        &f(&["--n", "400", "--participations", "2", "--separation", "0"]),
        "min_sep",
    );
    assert_clean_error(&f(&["--n", "0"]), "--n");
    let c = |extra: &[&str]| {
        let mut v = vec!["privacy", "calibrate"];
        v.extend_from_slice(extra);
        gdlab(&v, &d)
    };
    assert_clean_error(&c(&["--epsilon", "0", "--delta", "1e-5"]), "epsilon");
    assert_clean_error(&c(&["--epsilon", "-1", "--delta", "1e-5"]), "epsilon");
    assert_clean_error(&c(&["--epsilon", "1", "--delta", "1"]), "delta");
    assert_clean_error(&c(&["--epsilon", "1", "--delta", "0"]), "delta");
    assert_clean_error(
        &c(&["--epsilon", "1", "--delta", "1e-5", "--sensitivity", "0"]),
        "sensitivity",
    );
}
