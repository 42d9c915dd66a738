//! `gdlab study list` and `gdlab study run <ID>|all`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gdlab_core::Seed;
use gdlab_studies::report::{write_index, IndexEntry, RunMeta};
use gdlab_studies::study::{run_study, Mode, RunOpts, StudyOutcome, VERSION};
use gdlab_studies::{registry, Study};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum StudyCmd {
    /// List the studies: id, paper, one-line claim.
    List,
    /// Run one study, or `all`, writing reports under --out.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A study id (see `gdlab study list`) or `all`.
    id: String,
    /// Quick sizes (the default): seconds on 2 cores.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Full-scale sizes from the paper's spec.
    #[arg(long)]
    full: bool,
    /// Root seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder; each study writes `<out>/<id>/`, `all` also writes index.html and summary.json.
    #[arg(long, default_value = "gdlab-out")]
    out: PathBuf,
    /// Exit with code 1 if any study's verdict is FAIL.
    #[arg(long)]
    strict: bool,
    /// Worker threads (results do not depend on it). Default: all cores.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// No progress bar; plain lines only.
    #[arg(long)]
    quiet: bool,
    /// CIFAR-10 binary directory (data_batch_1.bin … data_batch_5.bin, test_batch.bin) for
    /// full mode: `tail-index` then trains its spec §5.2 grid on it. Needs --full; checked
    /// before anything runs; studies that use no dataset ignore it (a note says so).
    #[arg(long, value_name = "DIR")]
    cifar10_dir: Option<PathBuf>,
}

/// The studies whose full mode reads `--cifar10-dir`.
const CIFAR10_STUDIES: &[&str] = &["tail-index"];

impl RunArgs {
    /// `gdlab study run all` with every default: what bare `gdlab` runs.
    pub(crate) fn defaults_all() -> Self {
        RunArgs {
            id: "all".into(),
            quick: false,
            full: false,
            seed: 0,
            out: PathBuf::from("gdlab-out"),
            strict: false,
            threads: None,
            quiet: false,
            cifar10_dir: None,
        }
    }
}

pub(crate) fn dispatch(cmd: StudyCmd) -> Result<Outcome> {
    match cmd {
        StudyCmd::List => {
            let mut text = String::new();
            for s in registry::all() {
                text += &format!(
                    "{}\n  paper: {}\n  claim: {}\n",
                    s.id(),
                    s.paper(),
                    s.claim()
                );
            }
            out(&text)?;
            Ok(Outcome::Ok)
        }
        StudyCmd::Run(args) => run(args),
    }
}

/// Checks `--out` before anything runs: it must be a folder or not exist yet.
fn prepare_out_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("--out {}: exists and is not a directory", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating --out {}", dir.display()))
}

pub(crate) fn run(args: RunArgs) -> Result<Outcome> {
    let studies: Vec<Box<dyn Study>> = if args.id == "all" {
        registry::all()
    } else {
        match registry::find(&args.id) {
            Some(s) => vec![s],
            None => bail!(
                "unknown study `{}`; known: {} (or `all`)",
                args.id,
                registry::ids().join(", ")
            ),
        }
    };
    if let Some(dir) = &args.cifar10_dir {
        if !args.full {
            bail!(
                "--cifar10-dir {} needs --full (the CIFAR-10 grid is the full mode of {})",
                dir.display(),
                CIFAR10_STUDIES.join(", ")
            );
        }
        // The reader's error already names the path and its cause: one line, no chain.
        let (n_train, n_test) = gdlab_nn::datasets::check_cifar10_dir(dir)
            .map_err(|e| anyhow::anyhow!("--cifar10-dir {}: {e}", dir.display()))?;
        let users: Vec<&str> = studies
            .iter()
            .map(|s| s.id())
            .filter(|id| CIFAR10_STUDIES.contains(id))
            .collect();
        if users.is_empty() {
            eprintln!(
                "note: --cifar10-dir is used only by {}; `{}` ignores it",
                CIFAR10_STUDIES.join(", "),
                args.id
            );
        } else {
            eprintln!(
                "CIFAR-10 from {}: {n_train} training and {n_test} test images (used by {})",
                dir.display(),
                users.join(", ")
            );
        }
    }
    let opts = RunOpts {
        seed: Seed(args.seed),
        mode: if args.full { Mode::Full } else { Mode::Quick },
        cifar10_dir: args.cifar10_dir.clone(),
    };
    prepare_out_dir(&args.out)?;
    // Explicit: `RAYON_NUM_THREADS` may be 1 here (see `candle_ops_single_threaded`).
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        usize::from,
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting the worker thread pool")?;

    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new(studies.len() as u64);
        pb.set_style(
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    });
    let say = |line: &str| match &bar {
        Some(pb) => pb.println(line),
        None => eprintln!("{line}"),
    };

    let started = std::time::Instant::now();
    let mut entries = Vec::new();
    let (mut any_fail, mut any_error) = (false, false);
    for (i, study) in studies.iter().enumerate() {
        let id = study.id();
        match &bar {
            Some(pb) => pb.set_message(format!("running {id} ({})", opts.mode)),
            None => say(&format!(
                "[{}/{}] running {id} ({}, seed {})",
                i + 1,
                studies.len(),
                opts.mode,
                args.seed
            )),
        }
        let result = pool.install(|| run_study(study.as_ref(), &opts, &args.out));
        if let Some(pb) = &bar {
            pb.inc(1);
        }
        match result {
            Ok(o) => {
                any_fail |= !o.verdict.passed();
                out(&describe(&o))?;
                entries.push(IndexEntry::from_verdict(
                    id,
                    study.title(),
                    study.paper(),
                    &o.verdict,
                    o.elapsed_s,
                ));
            }
            Err(e) => {
                any_error = true;
                say(&format!("error: study {id} could not finish: {e}"));
                entries.push(IndexEntry::errored(
                    id,
                    study.title(),
                    study.paper(),
                    &e.to_string(),
                    0.0,
                ));
            }
        }
    }
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    if args.id == "all" {
        let meta = RunMeta {
            version: VERSION.to_string(),
            mode: opts.mode.as_str().to_string(),
            seed: args.seed,
            elapsed_s: started.elapsed().as_secs_f64(),
        };
        write_index(&args.out, &entries, &meta)
            .with_context(|| format!("writing the index in {}", args.out.display()))?;
        say(&format!("index: {}", args.out.join("index.html").display()));
    }
    if any_error {
        bail!("some studies could not reach a verdict (see above)");
    }
    Ok(if args.strict && any_fail {
        Outcome::StrictFail
    } else {
        Outcome::Ok
    })
}

/// The lines printed for a finished study: verdict, then every check with its numbers.
fn describe(o: &StudyOutcome) -> String {
    let v = &o.verdict;
    let passed = v.checks.iter().filter(|c| c.pass).count();
    let mut s = format!(
        "{}: {} ({passed}/{} checks, {:.2} s) -> {}\n",
        o.id,
        v.label(),
        v.checks.len(),
        o.elapsed_s,
        o.dir.join("report.html").display()
    );
    for c in &v.checks {
        s += &format!(
            "  [{}] {:<10} {}: observed {} {} {}{}\n",
            if c.pass { "pass" } else { "FAIL" },
            c.kind.to_string(),
            c.claim,
            fmt_num(c.observed),
            c.cmp.symbol(),
            fmt_num(c.threshold),
            if c.non_finite { " (non-finite)" } else { "" }
        );
    }
    s
}

fn fmt_num(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}")
    }
}
