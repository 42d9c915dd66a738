//! End-to-end tests of the distributed backends without MPI: `--backend threads` (one
//! thread per agent/worker) writes the same numbers as the single-process simulation; bad
//! backends and failing ranks end with one clear error line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;
mod dist_configs;
use dist_configs::{DGD_RING, SSVR_MV};

use std::path::Path;
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// A `.npy` (format 1.0, `<f8`, C order) of an `n × c` matrix.
fn npy(data: &[f64], n: usize, c: usize) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, {c}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn decentral_threads_equal_single_bitwise() {
    let d = scratch("dist-dgd");
    let cfg = write(&d, "ring.json", DGD_RING);
    let a = gdlab(
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
    assert!(a.status.success(), "{}", stderr(&a));
    let b = gdlab(
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
    assert!(b.status.success(), "{}", stderr(&b));
    // Same bits: serde_json writes the shortest round-trip form, so equal files.
    assert_eq!(
        read(&d.join("single/result.json")),
        read(&d.join("threads/result.json"))
    );
    assert_eq!(
        read(&d.join("single/curves.csv")),
        read(&d.join("threads/curves.csv"))
    );
    let w: serde_json::Value = serde_json::from_str(&read(&d.join("threads/wire.json"))).unwrap();
    // DGD on a ring of 4: 8 directed edges × 2 vectors × 8·300 bytes per round.
    assert_eq!(
        w["runs"][0]["algorithm_bytes_per_round"],
        8.0 * 2.0 * 8.0 * 300.0
    );
    assert_eq!(w["runs"][0]["algorithm_messages"], 8 * 200);
    assert_eq!(w["runs"][2]["algorithm_bytes"], 0); // cgd: rank 0 alone
}

#[test]
fn optim_distributed_threads_equal_single_bitwise() {
    let d = scratch("dist-mv");
    let cfg = write(&d, "mv.json", SSVR_MV);
    let a = gdlab(
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
    assert!(a.status.success(), "{}", stderr(&a));
    let b = gdlab(
        &["optim", "distributed", "--config", &cfg, "--out", "threads"],
        &d,
    );
    assert!(b.status.success(), "{}", stderr(&b));
    assert!(
        stdout(&b).contains("with 4 workers (threads)"),
        "{}",
        stdout(&b)
    );
    assert_eq!(
        read(&d.join("single/outcome.json")),
        read(&d.join("threads/outcome.json"))
    );
    let o: serde_json::Value =
        serde_json::from_str(&read(&d.join("threads/outcome.json"))).unwrap();
    assert_eq!(o["comm"]["rounds"], 300);
    assert!(o["trace"]["grad_l1"].as_array().unwrap().len() == 31);
}

#[test]
fn optim_distributed_reads_shard_files() {
    let d = scratch("dist-files");
    std::fs::create_dir_all(d.join("shards")).unwrap();
    // Rows (x₁, x₂, label ±1), written as little-endian f64 .npy (format 1.0).
    let rows = |s: f64| -> Vec<f64> {
        (0..6)
            .flat_map(|i| {
                let x = f64::from(i) * 0.1 + s;
                [x, 1.0 - x, if i % 2 == 0 { 1.0 } else { -1.0 }]
            })
            .collect()
    };
    std::fs::write(d.join("shards/shard-0.npy"), npy(&rows(0.0), 6, 3)).unwrap();
    std::fs::write(d.join("shards/shard-1.npy"), npy(&rows(0.5), 6, 3)).unwrap();
    let cfg = write(
        &d,
        "f.json",
        r#"{"optimizer": {"n_workers": 2, "method": {"kind": "sign_sgd_mv"}, "learning_rate": 0.01, "batch_size": 2, "n_steps": 40},
        "data": {"dir": {"dir": "shards", "reg": 0.1}}, "record_every": 5}"#,
    );
    let o = gdlab(
        &[
            "optim",
            "distributed",
            "--config",
            &cfg,
            "--out",
            "o",
            "--json",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["backend"], "threads");
    assert!(j["final_grad_l1"].as_f64().unwrap().is_finite());
    // A missing shard is one clear error naming the file.
    let cfg3 = write(
        &d,
        "f3.json",
        &read(&d.join("f.json")).replace("\"n_workers\": 2", "\"n_workers\": 3"),
    );
    let e = gdlab(
        &["optim", "distributed", "--config", &cfg3, "--out", "o3"],
        &d,
    );
    assert_clean_error(&e, "shard-2.npy");
}

/// A `.npy` (format 1.0, `<f8`, C order) of a vector.
fn npy1(data: &[f64]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        data.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[test]
fn decentral_reads_shard_files_and_matches_generated_data() {
    let d = scratch("dist-dshards");
    // The ring experiment without `cgd` (which needs all the data on rank 0).
    let no_cgd: String = DGD_RING
        .lines()
        .filter(|l| !l.contains("\"cgd\""))
        .collect::<Vec<_>>()
        .join("\n");
    let cfg_path = write(&d, "ring.json", &no_cgd);
    let cfg: gdlab_decentral::ExperimentConfig = serde_json::from_str(&no_cgd).unwrap();
    let p = cfg.problem.generate(gdlab_core::Seed(cfg.seed)).unwrap();
    std::fs::create_dir_all(d.join("shards")).unwrap();
    let dim = p.dim();
    for (r, a) in p.agents().iter().enumerate() {
        let rows: Vec<f64> = (0..a.n_samples())
            .flat_map(|i| a.x[i * dim..(i + 1) * dim].iter().copied().chain([a.y[i]]))
            .collect();
        std::fs::write(
            d.join(format!("shards/shard-{r}.npy")),
            npy(&rows, a.n_samples(), dim + 1),
        )
        .unwrap();
    }
    std::fs::write(d.join("shards/w_star.npy"), npy1(p.w_star())).unwrap();
    let g = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg_path,
            "--out",
            "gen",
            "--backend",
            "threads",
        ],
        &d,
    );
    assert!(g.status.success(), "{}", stderr(&g));
    let f = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg_path,
            "--out",
            "files",
            "--backend",
            "threads",
            "--shards",
            "shards",
        ],
        &d,
    );
    assert!(f.status.success(), "{}", stderr(&f));
    assert!(
        stdout(&f).contains("no rank held all the data"),
        "{}",
        stdout(&f)
    );
    let a: serde_json::Value = serde_json::from_str(&read(&d.join("gen/result.json"))).unwrap();
    let b: serde_json::Value = serde_json::from_str(&read(&d.join("files/result.json"))).unwrap();
    assert_eq!(a["runs"], b["runs"], "the same data gives the same traces");
    assert!(b.get("oracle_err").is_none());
    // `cgd` with shard files, a wrong shard shape, and --shards with the simulation.
    let with_cgd = write(&d, "cgd.json", DGD_RING);
    let e = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &with_cgd,
            "--backend",
            "threads",
            "--shards",
            "shards",
        ],
        &d,
    );
    assert_clean_error(&e, "`cgd` needs all the data");
    std::fs::write(d.join("shards/shard-1.npy"), npy(&[1.0; 6], 2, 3)).unwrap();
    let e = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg_path,
            "--backend",
            "threads",
            "--shards",
            "shards",
        ],
        &d,
    );
    assert_clean_error(&e, "shard-1.npy");
    let e = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg_path,
            "--shards",
            "shards",
        ],
        &d,
    );
    assert_clean_error(&e, "--shards");
}

#[test]
fn bad_backend_use_and_failing_rank_are_clear_errors() {
    let d = scratch("dist-bad");
    let cfg = write(&d, "ring.json", DGD_RING);
    if !cfg!(feature = "mpi") {
        let e = gdlab(
            &["decentral", "run", "--config", &cfg, "--backend", "mpi"],
            &d,
        );
        assert_clean_error(&e, "--features mpi");
    }
    let e = gdlab(
        &[
            "decentral",
            "run",
            "--config",
            &cfg,
            "--backend",
            "threads",
            "--comm-timeout",
            "0",
        ],
        &d,
    );
    assert_clean_error(&e, "--comm-timeout");
    // Rank 2 fails after 30 collectives: the error names it, nothing hangs.
    let o = Command::new(env!("CARGO_BIN_EXE_gdlab"))
        .args(["decentral", "run", "--config", &cfg, "--backend", "threads"])
        .env("GDLAB_COMM_FAULT", "2:30")
        .current_dir(&d)
        .output()
        .unwrap();
    assert_clean_error_all(&o, &["rank 2", "injected failure"]);
    let o = Command::new(env!("CARGO_BIN_EXE_gdlab"))
        .args([
            "optim",
            "distributed",
            "--config",
            &write(&d, "mv.json", SSVR_MV),
        ])
        .env("GDLAB_COMM_FAULT", "nonsense")
        .current_dir(&d)
        .output()
        .unwrap();
    assert_clean_error(&o, "GDLAB_COMM_FAULT");
    let bad = write(
        &d,
        "bad.json",
        &SSVR_MV.replace("\"n_workers\": 4", "\"n_workers\": 0"),
    );
    let e = gdlab(&["optim", "distributed", "--config", &bad], &d);
    assert_clean_error(&e, "n_workers");
}
