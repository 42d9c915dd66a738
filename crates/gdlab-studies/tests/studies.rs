//! Every registered study, in quick mode: all `validation` checks pass, the output keeps the
//! `metrics.json` contract, and the run is bitwise deterministic across thread counts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

use std::path::{Path, PathBuf};

use gdlab_core::Seed;
use gdlab_studies::study::{run_study, Mode, RunOpts};
use gdlab_studies::{registry, CheckKind};

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gdlab-studies-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_in_pool(id: &str, threads: usize, out: &Path) -> gdlab_studies::study::StudyOutcome {
    let study = registry::find(id).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = RunOpts {
        seed: Seed(0),
        mode: Mode::Quick,
        ..RunOpts::default()
    };
    pool.install(|| run_study(study.as_ref(), &opts, out))
        .unwrap()
}

/// All `validation` checks of one run pass, and its output keeps the `metrics.json` contract.
fn assert_validations_and_contract(id: &str, o: &gdlab_studies::study::StudyOutcome) {
    assert!(!o.verdict.checks.is_empty(), "{id}: no checks");
    for c in o.verdict.of_kind(CheckKind::Validation) {
        assert!(
            c.pass,
            "{id}: validation check failed (a bug): {} — observed {} {} {}",
            c.claim,
            c.observed,
            c.cmp.symbol(),
            c.threshold
        );
    }
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o.dir.join("metrics.json")).unwrap()).unwrap();
    for key in [
        "study",
        "title",
        "paper",
        "mode",
        "seed",
        "verdict",
        "checks",
        "metrics",
        "elapsed_s",
        "version",
    ] {
        assert!(m.get(key).is_some(), "{id}: metrics.json lacks {key}");
    }
    assert_eq!(m["verdict"], o.verdict.label());
    assert_eq!(
        m["checks"].as_array().unwrap().len(),
        o.verdict.checks.len()
    );
    for f in ["report.md", "report.html"] {
        assert!(o.dir.join(f).is_file(), "{id}: {f} missing");
    }
}

/// Every file of a study's output, with `elapsed_s` masked in metrics.json and the run line
/// of the reports (which prints the wall time) removed.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap();
            let bytes = if name == "metrics.json" {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                v["elapsed_s"] = serde_json::Value::Null;
                serde_json::to_vec(&v).unwrap()
            } else if name.ends_with(".md") || name.ends_with(".html") {
                String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.contains(" s · gdlab") && !l.contains("elapsed"))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes()
            } else {
                bytes
            };
            (name, bytes)
        })
        .collect()
}

/// Every registered study, in quick mode, runs once in a 1-thread pool and once in a 4-thread
/// pool (each study runs twice, not three times, to keep CI on 2 cores short): both runs pass
/// every validation check and keep the `metrics.json` contract, and their outputs are bitwise
/// equal.
#[test]
fn every_study_validates_and_is_deterministic_across_thread_counts() {
    for study in registry::all() {
        let (a, b) = (scratch("t1"), scratch("t4"));
        let one = run_in_pool(study.id(), 1, &a);
        let four = run_in_pool(study.id(), 4, &b);
        assert_validations_and_contract(study.id(), &one);
        assert_validations_and_contract(study.id(), &four);
        let (fa, fb) = (outputs(&one.dir), outputs(&four.dir));
        assert_eq!(
            fa.iter().map(|f| &f.0).collect::<Vec<_>>(),
            fb.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "{}: different file sets",
            study.id()
        );
        for ((name, x), (_, y)) in fa.iter().zip(&fb) {
            assert!(
                x == y,
                "{}: {name} differs between 1 and 4 threads",
                study.id()
            );
        }
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }
}

#[test]
fn random_reshuffling_headline_numbers() {
    let out = scratch("rr");
    let o = run_in_pool("random-reshuffling", 2, &out);
    assert_eq!(o.verdict.label(), "PASS");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o.dir.join("metrics.json")).unwrap()).unwrap();
    let n5 = &m["metrics"]["n5"];
    gdlab_core::assert_close!(n5["e_wr_norm"].as_f64().unwrap(), 1.0, rel = 1e-12);
    gdlab_core::assert_close!(n5["e_rr_norm"].as_f64().unwrap(), 19.0 / 16.0, rel = 1e-12);
    gdlab_core::assert_close!(
        n5["e_rr_eigenvalue_on_ones"].as_f64().unwrap(),
        -19.0 / 16.0,
        rel = 1e-12
    );
    let fam = m["metrics"]["family"].as_array().unwrap();
    let n4 = fam.iter().find(|r| r["n"] == 4).unwrap();
    gdlab_core::assert_close!(n4["e_rr_norm"].as_f64().unwrap(), 8.0 / 9.0, rel = 1e-12);
    std::fs::remove_dir_all(&out).unwrap();
}
