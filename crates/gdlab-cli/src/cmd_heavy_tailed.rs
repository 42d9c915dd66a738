//! `gdlab heavy-tailed ...`: the heavy-tailed class-imbalance comparison on a user's corpus.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use gdlab_core::Seed;
use gdlab_imbalance::text::TokenFormat;
use gdlab_studies::heavy_tailed::text::{run_text, TextOptions};

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum HeavyTailedCmd {
    /// Train the bigram softmax model (previous token one-hot → next token, full batch) on
    /// a corpus with GD, Adam and sign descent at tuned step sizes, and write the
    /// 10-group per-frequency report (Kunstner et al., NeurIPS 2024, spec §5b option A).
    /// The file is streamed from disk twice; memory is bounded by the model (V² + V
    /// parameters and the optimizers' state).
    Text(TextArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Whitespace-separated non-negative integer token ids.
    Ids,
    /// Raw UTF-8 text; whitespace-separated words are tokens.
    Text,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TextArgs {
    /// The corpus file.
    #[arg(long)]
    tokens: PathBuf,
    /// How the file is written.
    #[arg(long, value_enum, default_value_t = Format::Ids)]
    format: Format,
    /// Keep the N most frequent tokens (the rest map to one UNK id), 1 ≤ N ≤ 10000.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    vocab: u32,
    /// Full-batch steps per run, 1 ≤ T ≤ 100000.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    steps: u32,
    /// Output folder for the report.
    #[arg(long, default_value = "gdlab-out/heavy-tailed-text")]
    out: PathBuf,
    /// Seed of the model initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub(crate) fn dispatch(cmd: HeavyTailedCmd) -> Result<Outcome> {
    match cmd {
        HeavyTailedCmd::Text(a) => text(&a),
    }
}

fn text(a: &TextArgs) -> Result<Outcome> {
    let opts = TextOptions {
        tokens: a.tokens.clone(),
        format: match a.format {
            Format::Ids => TokenFormat::Ids,
            Format::Text => TokenFormat::Text,
        },
        vocab: a.vocab as usize,
        n_steps: a.steps as usize,
        seed: Seed(a.seed),
    };
    let outcome = run_text(&opts, &a.out)
        .with_context(|| format!("heavy-tailed text --tokens {}", a.tokens.display()))?;
    let mut s = format!(
        "vocabulary {} (incl. UNK if any), {} bigrams, {} steps\n",
        outcome.vocab_size, outcome.n_bigrams, a.steps
    );
    for (m, l) in &outcome.final_losses {
        s.push_str(&format!(
            "  {:<6} final loss {}\n",
            m.label(),
            l.map_or("diverged / no stable step size".to_string(), |v| format!(
                "{v:.6}"
            ))
        ));
    }
    for c in &outcome.verdict.checks {
        s.push_str(&format!(
            "  [{}] {}: observed {} {} {}\n",
            if c.pass { "pass" } else { "FAIL" },
            c.claim,
            if c.non_finite {
                "n/a".to_string()
            } else {
                format!("{:.6}", c.observed)
            },
            c.cmp.symbol(),
            c.threshold
        ));
    }
    s.push_str(&format!(
        "report: {}\n",
        outcome.dir.join("report.html").display()
    ));
    out(&s)?;
    Ok(Outcome::Ok)
}
