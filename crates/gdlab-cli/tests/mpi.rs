//! The MPI backend end to end (built and run only with `--features mpi`, by `.ci/run`):
//! `mpirun -np 4` runs of DGD on a ring and of SSVR-MV with 4 workers give the same
//! numbers as the single-process and threaded runs; a configuration that differs across
//! ranks, a rank that dies and a rank that hangs each end the job with a clear error.
//!
//! Needs `mpirun` (Debian: `openmpi-bin`) on the `PATH`. The flags `--allow-run-as-root`
//! (containers run as root) and `--oversubscribe` (more ranks than cores) are passed
//! always; `btl_vader_single_copy_mechanism none` avoids the CMA/ptrace copy that
//! containers forbid.
#![cfg(feature = "mpi")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod dist_configs;
use dist_configs::{DGD_RING, SSVR_MV};

const MPI_FLAGS: [&str; 5] = [
    "--allow-run-as-root",
    "--oversubscribe",
    "--mca",
    "btl_vader_single_copy_mechanism",
    "none",
];

fn mpirun(np: usize, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Output, Duration) {
    let mut c = Command::new("mpirun");
    c.args(MPI_FLAGS).arg("-np").arg(np.to_string());
    for (k, _) in env {
        c.arg("-x").arg(k);
    }
    c.arg(env!("CARGO_BIN_EXE_gdlab"))
        .args(args)
        .current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    let t0 = Instant::now();
    let o = c
        .output()
        .expect("running mpirun (is openmpi-bin installed?)");
    (o, t0.elapsed())
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn dgd_on_a_ring_of_4_ranks_equals_the_in_process_run() {
    let d = scratch("mpi-dgd");
    let cfg = write(&d, "ring.json", DGD_RING);
    let s = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg,
            "--out",
            "single",
            "--backend",
            "single",
        ],
        &d,
    );
    assert!(s.status.success(), "{}", stderr(&s));
    let t = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg,
            "--out",
            "threads",
            "--backend",
            "threads",
        ],
        &d,
    );
    assert!(t.status.success(), "{}", stderr(&t));
    let (m, _) = mpirun(
        4,
        &["decentral", "run", "--config", &cfg, "--out", "mpi"],
        &[],
        &d,
    );
    assert!(m.status.success(), "{}\n{}", stdout(&m), stderr(&m));
    let (a, b, c) = (
        json(&d.join("single/result.json")),
        json(&d.join("threads/result.json")),
        json(&d.join("mpi/result.json")),
    );
    for k in 0..4 {
        let fin = |j: &serde_json::Value| {
            let e = j["runs"][k]["trace"]["err_agents"].as_array().unwrap();
            e.last().unwrap().as_f64().unwrap()
        };
        // The acceptance tolerance is 1e-12; the runs agree bitwise.
        assert!(
            (fin(&a) - fin(&c)).abs() <= 1e-12,
            "{k}: {} vs {}",
            fin(&a),
            fin(&c)
        );
        assert_eq!(fin(&a), fin(&c));
        assert_eq!(fin(&b), fin(&c));
    }
    assert_eq!(a, c, "the whole result is the same");
    let w = json(&d.join("mpi/wire.json"));
    assert_eq!(w["backend"], "mpi");
    assert_eq!(
        w["runs"][0]["algorithm_bytes_per_round"],
        8.0 * 2.0 * 8.0 * 300.0
    );
}

#[test]
fn ssvr_mv_with_4_worker_processes_equals_the_in_process_run() {
    let d = scratch("mpi-ssvr");
    let cfg = write(&d, "mv.json", SSVR_MV);
    let s = gdlab(
        &[
            "optim",
            "distributed",
            "--config",
            &cfg,
            "--out",
            "single",
            "--backend",
            "single",
        ],
        &d,
    );
    assert!(s.status.success(), "{}", stderr(&s));
    let t = gdlab(
        &["optim", "distributed", "--config", &cfg, "--out", "threads"],
        &d,
    );
    assert!(t.status.success(), "{}", stderr(&t));
    let (m, _) = mpirun(
        4,
        &["optim", "distributed", "--config", &cfg, "--out", "mpi"],
        &[],
        &d,
    );
    assert!(m.status.success(), "{}\n{}", stdout(&m), stderr(&m));
    let (a, b, c) = (
        json(&d.join("single/outcome.json")),
        json(&d.join("threads/outcome.json")),
        json(&d.join("mpi/outcome.json")),
    );
    let fin = |j: &serde_json::Value| {
        j["trace"]["grad_l1"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_f64()
            .unwrap()
    };
    assert!(
        (fin(&a) - fin(&c)).abs() <= 1e-12,
        "{} vs {}",
        fin(&a),
        fin(&c)
    );
    assert_eq!(a, c);
    assert_eq!(b, c);
    assert_eq!(json(&d.join("mpi/result.json"))["backend"], "mpi");
}

#[test]
fn mismatched_configuration_across_ranks_is_a_clear_error() {
    let d = scratch("mpi-mismatch");
    let a = write(&d, "a.json", DGD_RING);
    let b = write(
        &d,
        "b.json",
        &DGD_RING.replace("\"seed\": 5", "\"seed\": 6"),
    );
    // MPMD: ranks 0-1 read a.json, ranks 2-3 read b.json.
    let t0 = Instant::now();
    let o = Command::new("mpirun")
        .args(MPI_FLAGS)
        .args([
            "-np",
            "2",
            env!("CARGO_BIN_EXE_gdlab"),
            "decentral",
            "run",
            "--config",
            &a,
            ":",
        ])
        .args([
            "-np",
            "2",
            env!("CARGO_BIN_EXE_gdlab"),
            "decentral",
            "run",
            "--config",
            &b,
        ])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(60));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("configuration mismatch: rank 2 has configuration hash"),
        "{err}"
    );
    assert!(!d.join("gdlab-out/decentral-run/result.json").exists());
}

#[test]
fn a_rank_that_dies_ends_the_job() {
    let d = scratch("mpi-die");
    let cfg = write(&d, "ring.json", DGD_RING);
    let (o, took) = mpirun(
        4,
        &["decentral", "run", "--config", &cfg, "--comm-timeout", "20"],
        &[("GDLAB_COMM_FAULT", "2:50")],
        &d,
    );
    assert!(!o.status.success());
    assert!(took < Duration::from_secs(60), "{took:?}");
    let err = stderr(&o);
    assert!(
        err.contains("rank 2: injected failure after 50 collectives"),
        "{err}"
    );
}

#[test]
fn a_rank_that_hangs_makes_the_others_time_out() {
    let d = scratch("mpi-hang");
    let cfg = write(&d, "mv.json", SSVR_MV);
    let (o, took) = mpirun(
        4,
        &[
            "optim",
            "distributed",
            "--config",
            &cfg,
            "--comm-timeout",
            "3",
        ],
        &[("GDLAB_COMM_FAULT", "1:40:hang")],
        &d,
    );
    assert!(!o.status.success());
    assert!(took < Duration::from_secs(60), "{took:?}");
    let err = stderr(&o);
    assert!(err.contains("no message from rank 1 within 3 s"), "{err}");
}
