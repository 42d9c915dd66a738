//! The `tail-index` study alone: validation checks pass and the run is bitwise identical
//! with 1 and 4 threads (the registry-wide test covers it too; this one runs in ~1 min).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

use std::path::PathBuf;

use gdlab_core::Seed;
use gdlab_studies::study::{run_study, Mode, RunOpts};
use gdlab_studies::{registry, CheckKind};

fn run(threads: usize, name: &str) -> (gdlab_studies::study::StudyOutcome, PathBuf) {
    let dir = std::env::temp_dir().join(format!("gdlab-ti-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let study = registry::find("tail-index").unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = RunOpts {
        seed: Seed(0),
        mode: Mode::Quick,
        ..RunOpts::default()
    };
    let o = pool
        .install(|| run_study(study.as_ref(), &opts, &dir))
        .unwrap();
    (o, dir)
}

#[test]
fn tail_index_validates_and_is_deterministic_across_threads() {
    let (one, d1) = run(1, "t1");
    let (four, d4) = run(4, "t4");
    assert_eq!(one.verdict.checks.len(), 10);
    for c in one.verdict.of_kind(CheckKind::Validation) {
        assert!(
            c.pass,
            "{}: {} {} {}",
            c.claim,
            c.observed,
            c.cmp.symbol(),
            c.threshold
        );
    }
    let m1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.dir.join("metrics.json")).unwrap()).unwrap();
    let m4: serde_json::Value =
        serde_json::from_slice(&std::fs::read(four.dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m1["checks"], m4["checks"]);
    assert_eq!(m1["metrics"], m4["metrics"]);
    assert_eq!(m1["metrics"]["runs"].as_array().unwrap().len(), 12);
    for f in [
        "runs.csv",
        "alpha_vs_gap.csv",
        "recovery.csv",
        "alpha_vs_gap.svg",
    ] {
        assert_eq!(
            std::fs::read(one.dir.join(f)).unwrap(),
            std::fs::read(four.dir.join(f)).unwrap(),
            "{f}"
        );
    }
    std::fs::remove_dir_all(d1).unwrap();
    std::fs::remove_dir_all(d4).unwrap();
}

/// A CIFAR-format directory (3073-byte records: 1 label byte + 3072 pixel bytes) of
/// `per_batch` images per training file and `n_test` test images, written by the test.
fn tiny_cifar(dir: &std::path::Path, per_batch: usize, n_test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let records = |n: usize, salt: usize| {
        let mut v = Vec::with_capacity(n * 3073);
        for i in 0..n {
            v.push(((i * 7 + salt) % 10) as u8);
            v.extend((0..3072).map(|j| ((i * 131 + j * 17 + salt * 13) % 251) as u8));
        }
        v
    };
    for b in 1..=5 {
        std::fs::write(
            dir.join(format!("data_batch_{b}.bin")),
            records(per_batch, b),
        )
        .unwrap();
    }
    std::fs::write(dir.join("test_batch.bin"), records(n_test, 9)).unwrap();
}

/// Full mode with a CIFAR-10 directory runs Part C (the spec §5.2 grid) end to end on a
/// tiny CIFAR-format directory with a small size override: the paper's LeNet(2,2) and
/// LeNet(0,2) and a VGG4 narrowed to 8 channels, 3 epochs, B = 16; the report, CSVs and
/// metrics come out, and the run is bitwise identical with 1 and 4 threads.
#[test]
fn full_mode_trains_the_cifar10_grid_from_a_directory() {
    use gdlab_studies::tail_index::config::{CifarConfig, CifarModel, Config};
    use gdlab_studies::tail_index::TailIndexWithConfig;
    let root = std::env::temp_dir().join(format!("gdlab-ti-cifar-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    tiny_cifar(&root.join("data"), 16, 24);
    let mut cfg = Config::for_mode(Mode::Full);
    cfg.cifar = CifarConfig {
        models: vec![
            CifarModel::LeNet {
                n_convs: 2,
                n_linear: 2,
            },
            CifarModel::LeNet {
                n_convs: 0,
                n_linear: 2,
            },
            CifarModel::Vgg { depth: 4 },
        ],
        vgg_width_divisor: 64,
        etas: vec![0.01, 0.05],
        batch_sizes: vec![16],
        vgg_epochs: 3,
        lenet_epochs: 3,
        min_record_steps: 120,
        ..CifarConfig::default()
    };
    let study = TailIndexWithConfig(cfg);
    let opts = RunOpts {
        seed: Seed(0),
        mode: Mode::Full,
        cifar10_dir: Some(root.join("data")),
    };
    let mut metrics = Vec::new();
    for threads in [1, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let out = root.join(format!("out{threads}"));
        let o = pool.install(|| run_study(&study, &opts, &out)).unwrap();
        for c in o.verdict.of_kind(CheckKind::Validation) {
            assert!(c.pass, "{}: {}", c.claim, c.observed);
        }
        // A1 ×5, A3, A2 ×3, and one Part C claim (no Part B).
        assert_eq!(o.verdict.checks.len(), 10);
        let claim: Vec<_> = o.verdict.of_kind(CheckKind::Claim).collect();
        assert!(
            claim[0].claim.starts_with("C: Spearman"),
            "{}",
            claim[0].claim
        );
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(o.dir.join("metrics.json")).unwrap()).unwrap();
        let runs = m["metrics"]["cifar10_runs"].as_array().unwrap();
        assert_eq!(runs.len(), 6);
        assert_eq!(m["metrics"]["cifar10_data"]["n_train"], 80);
        assert_eq!(m["metrics"]["cifar10_data"]["n_test"], 24);
        for r in runs {
            // 80 images, B = 16: 5 steps per epoch; 120 recorded steps (min_record_steps),
            // the generic K1 rule's sz = 120.
            assert_eq!(r["n_iterates"], 120);
            assert_eq!(r["sz"], 120, "{r}");
            assert!(r["alpha_mean"].as_f64().unwrap().is_finite(), "{r}");
            assert!(!r["alpha_per_layer"].as_array().unwrap().is_empty());
        }
        assert_eq!(runs[0]["model"], "LeNet(2,2)");
        // LeNet(2,2) on CIFAR: conv 3→6 (5×5), conv 6→16 (5×5), 400→120→10.
        assert_eq!(
            runs[0]["n_params"],
            3 * 6 * 25 + 6 + 6 * 16 * 25 + 16 + 400 * 120 + 120 + 120 * 10 + 10
        );
        let report = std::fs::read_to_string(o.dir.join("report.md")).unwrap();
        assert!(report.contains("Part C"), "{report}");
        assert!(report.contains("would take about"), "{report}");
        assert!(!report.contains("Part B:"));
        for f in [
            "runs_cifar10.csv",
            "alpha_vs_gap_cifar10.svg",
            "alpha_per_layer_cifar10.csv",
        ] {
            assert!(o.dir.join(f).exists(), "{f}");
        }
        metrics.push((
            m["checks"].clone(),
            m["metrics"].clone(),
            std::fs::read(o.dir.join("runs_cifar10.csv")).unwrap(),
        ));
    }
    assert_eq!(metrics[0], metrics[1]);
    std::fs::remove_dir_all(&root).unwrap();
}
