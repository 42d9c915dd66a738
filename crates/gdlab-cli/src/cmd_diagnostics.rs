//! `gdlab diagnostics ...`: tail-index estimation of trajectories and samples
//! (`gdlab-diagnostics`, spec `papers/tail-index-hausdorff.md`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gdlab_core::Seed;
use gdlab_diagnostics::k1::K1Rule;
use gdlab_diagnostics::trajectory::{tail_index, Mode, TailIndex, TailIndexConfig};
use gdlab_diagnostics::{Estimator, LayerAgg};
use serde::Serialize;

use crate::{out, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum DiagnosticsCmd {
    /// Estimate the tail index α̂ of a trajectory (rows = time steps, columns =
    /// coordinates) with the Mohammadi–Mohammadpour–Ogata estimator, per column group and
    /// overall.
    ///
    /// FILE is CSV (one row per time step, optional header; a header name `group:coord`
    /// puts the column in group `group`, other names are their own group) or `.npy`
    /// (1-D: one column; 2-D: T × D, one group; 3-D: T × G × D, group g = slice g).
    TailIndex(TailIndexArgs),
    /// Validate and summarise a user-supplied image dataset: a CIFAR-10 binary directory
    /// (`data_batch_1..5.bin`, `test_batch.bin`) or an MNIST IDX directory.
    Dataset(DatasetArgs),
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct DatasetArgs {
    /// Directory with the CIFAR-10 binary version.
    #[arg(long)]
    cifar10_dir: Option<PathBuf>,
    /// Directory with the four MNIST IDX files.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TailIndexArgs {
    /// Input file (.csv or .npy).
    #[arg(long)]
    input: PathBuf,
    /// Estimator mode: projected (the paper's), full, mean, scalar, increments.
    #[arg(long, default_value = "projected")]
    mode: String,
    /// Block sizes K1, comma-separated (default: the reference table for the row count,
    /// else the generic rule, which needs ≥ 120 rows).
    #[arg(long, value_delimiter = ',')]
    k1: Option<Vec<usize>>,
    /// Random directions for the projected modes.
    #[arg(long, default_value_t = 10)]
    directions: usize,
    /// Keep every k-th row (reduces autocorrelation).
    #[arg(long, default_value_t = 1)]
    thin: usize,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Use only the last N rows (after --thin), so that trajectories of different lengths
    /// are compared on equal samples with the same K1 list (spec §7 pitfall 7, e.g. 196).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    fixed_sz: Option<u64>,
    /// How the per-group (per-layer) estimates become one network-level number: mean (the
    /// spec's default) or median. Printed next to the per-group values and the estimate on
    /// all columns.
    #[arg(long, default_value = "mean", value_parser = ["mean", "median"])]
    layer_agg: String,
    /// The MMO corollary: cor24 (mean of log-norms, the paper's) or cor22 (order
    /// statistics, the authors' `alpha_estimator2`, at the level --quantile).
    #[arg(long, default_value = "cor24", value_parser = ["cor24", "cor22"])]
    estimator: String,
    /// Quantile level k/K2 of the cor22 estimator, in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    quantile: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn dispatch(cmd: DiagnosticsCmd) -> Result<Outcome> {
    match cmd {
        DiagnosticsCmd::TailIndex(a) => run_tail_index(&a),
        DiagnosticsCmd::Dataset(a) => run_dataset(&a),
    }
}

fn run_dataset(a: &DatasetArgs) -> Result<Outcome> {
    let (name, split) = match (&a.cifar10_dir, &a.mnist_dir) {
        (Some(d), _) => ("CIFAR-10", gdlab_nn::datasets::load_cifar10(d)?),
        (None, Some(d)) => ("MNIST", gdlab_nn::datasets::load_mnist(d)?),
        (None, None) => bail!("give --cifar10-dir or --mnist-dir"),
    };
    let counts = |d: &gdlab_nn::Dataset<f32>| {
        let mut c = vec![0usize; d.n_classes()];
        for &y in d.labels() {
            c[y as usize] += 1;
        }
        c
    };
    out(&format!(
        "{name}: {} training and {} test examples of shape {:?}\ntrain label counts {:?}\ntest label counts {:?}\n",
        split.train.len(),
        split.test.len(),
        split.train.example_shape(),
        counts(&split.train),
        counts(&split.test)
    ))?;
    Ok(Outcome::Ok)
}

/// A trajectory read from a file: `rows × cols`, row-major, with column groups.
#[derive(Debug)]
struct Table {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
    /// (group name, column indices) in first-appearance order.
    groups: Vec<(String, Vec<usize>)>,
}

#[derive(Serialize)]
struct GroupOut {
    name: String,
    columns: usize,
    result: TailIndex,
}

#[derive(Serialize)]
struct Output<'a> {
    input: String,
    rows: usize,
    columns: usize,
    mode: &'a str,
    estimator: Estimator,
    fixed_sz: Option<usize>,
    groups: Vec<GroupOut>,
    /// The per-group values aggregated (one group: its value).
    layer_agg: AggOut,
    overall: TailIndex,
}

#[derive(Serialize)]
struct AggOut {
    method: LayerAgg,
    n_groups: usize,
    value: Option<f64>,
}

fn run_tail_index(a: &TailIndexArgs) -> Result<Outcome> {
    let mode: Mode = a.mode.parse().context("--mode")?;
    let agg: LayerAgg = a.layer_agg.parse().context("--layer-agg")?;
    let estimator = match a.estimator.as_str() {
        "cor22" => Estimator::Cor22 {
            quantile: a.quantile,
        },
        _ => Estimator::Cor24,
    };
    estimator.validate().context("--quantile")?;
    let fixed_sz = a
        .fixed_sz
        .map(|n| usize::try_from(n).context("--fixed-sz is too large"))
        .transpose()?;
    let table = read_table(&a.input)?;
    let cfg = TailIndexConfig {
        mode,
        n_directions: a.directions,
        k1: match &a.k1 {
            Some(list) => K1Rule::Fixed(list.clone()),
            None => K1Rule::Reference,
        },
        thin: a.thin,
        seed: Seed(a.seed),
        fixed_sz,
        estimator,
    };
    let what = |name: &str| format!("estimating α̂ of {} ({name})", a.input.display());
    let overall = tail_index(&table.data, table.rows, table.cols, &cfg)
        .with_context(|| what("all columns"))?;
    let mut groups = Vec::new();
    if table.groups.len() > 1 {
        for (name, cols) in &table.groups {
            let sub: Vec<f64> = table
                .data
                .chunks_exact(table.cols)
                .flat_map(|row| cols.iter().map(|&c| row[c]))
                .collect();
            let r = tail_index(&sub, table.rows, cols.len(), &cfg)
                .with_context(|| what(&format!("group `{name}`")))?;
            groups.push(GroupOut {
                name: name.clone(),
                columns: cols.len(),
                result: r,
            });
        }
    }
    for r in groups.iter().map(|g| &g.result).chain([&overall]) {
        if r.estimate.value.is_nan() {
            bail!("the estimate is NaN (every block size was degenerate)");
        }
    }
    let group_values: Vec<f64> = if groups.is_empty() {
        vec![overall.estimate.value]
    } else {
        groups.iter().map(|g| g.result.estimate.value).collect()
    };
    let agg_value = agg.apply(&group_values);
    let agg_out = AggOut {
        method: agg,
        n_groups: group_values.len(),
        value: agg_value.is_finite().then_some(agg_value),
    };
    if a.json {
        let o = Output {
            input: a.input.display().to_string(),
            rows: table.rows,
            columns: table.cols,
            mode: mode.name(),
            estimator,
            fixed_sz,
            groups,
            layer_agg: agg_out,
            overall,
        };
        out(&(serde_json::to_string_pretty(&o)? + "\n"))?;
        return Ok(Outcome::Ok);
    }
    let mut s = format!(
        "tail index of {} ({} rows × {} columns), mode {mode}\n",
        a.input.display(),
        table.rows,
        table.cols
    );
    s += &format!(
        "rows used sz = {} (the last ones{}), K1 = {:?} ({:?}), estimator {}\n",
        overall.plan.sz,
        fixed_sz.map_or_else(String::new, |n| format!(
            ", of the last {n} kept by --fixed-sz"
        )),
        overall.plan.k1s,
        overall.plan.source,
        match estimator {
            Estimator::Cor22 { quantile } =>
                format!("Cor. 2.2 (order statistics at level {quantile})"),
            _ => "Cor. 2.4 (mean of log-norms)".to_string(),
        }
    );
    s += &format!(
        "{:<24} {:>8} {:>10} {:>10} {:>12}\n",
        "group", "columns", "alpha_hat", "max_dir", "degenerate"
    );
    let line = |name: &str, cols: usize, r: &TailIndex| {
        format!(
            "{:<24} {:>8} {:>10.4} {:>10} {:>12}\n",
            name,
            cols,
            r.estimate.value,
            r.max_over_directions
                .map_or_else(|| "-".to_string(), |m| format!("{m:.4}")),
            r.n_degenerate
        )
    };
    for g in &groups {
        s += &line(&g.name, g.columns, &g.result);
    }
    s += &line("overall", table.cols, &overall);
    s += &format!(
        "{:<24} {:>8} {:>10.4}\n",
        format!("{} over {} groups", agg.name(), group_values.len()),
        "",
        agg_value
    );
    out(&s)?;
    Ok(Outcome::Ok)
}

fn read_table(path: &Path) -> Result<Table> {
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if is_npy {
        let arr = crate::input::load_array(path)?;
        let (rows, groups, per) = match arr.shape.as_slice() {
            [t] => (*t, 1, 1),
            [t, d] => (*t, 1, *d),
            [t, g, d] => (*t, *g, *d),
            s => bail!(
                "{}: expected a 1-D to 3-D array, got shape {s:?}",
                path.display()
            ),
        };
        let cols = groups * per;
        if rows == 0 || cols == 0 {
            bail!("{}: empty array (shape {:?})", path.display(), arr.shape);
        }
        let groups = if groups > 1 {
            (0..groups)
                .map(|g| (format!("slice{g}"), (g * per..(g + 1) * per).collect()))
                .collect()
        } else {
            vec![("all".to_string(), (0..cols).collect())]
        };
        return Ok(Table {
            rows,
            cols,
            data: arr.data,
            groups,
        });
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_csv(&text).with_context(|| format!("parsing CSV {}", path.display()))
}

fn parse_csv(text: &str) -> Result<Table> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((first_no, first)) = lines.next() else {
        bail!("no data rows");
    };
    let fields: Vec<&str> = first.split(',').map(str::trim).collect();
    let is_header = fields.iter().any(|f| f.parse::<f64>().is_err());
    let cols = fields.len();
    let names: Vec<String> = if is_header {
        fields
            .iter()
            .map(|s| s.trim_matches('"').to_string())
            .collect()
    } else {
        (0..cols).map(|c| format!("col{c}")).collect()
    };
    let mut data = Vec::new();
    let mut rows = 0;
    let mut push_row = |no: usize, line: &str| -> Result<()> {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != cols {
            bail!("line {}: {} fields, expected {cols}", no + 1, f.len());
        }
        for (c, v) in f.iter().enumerate() {
            let x: f64 = v.parse().with_context(|| {
                format!("line {}, column {}: `{v}` is not a number", no + 1, c + 1)
            })?;
            if !x.is_finite() {
                bail!(
                    "line {}, column {}: non-finite value `{v}`; inputs must be finite numbers",
                    no + 1,
                    c + 1
                );
            }
            data.push(x);
        }
        rows += 1;
        Ok(())
    };
    if !is_header {
        push_row(first_no, first)?;
    }
    for (no, line) in lines {
        push_row(no, line)?;
    }
    if rows == 0 {
        bail!("a header but no data rows");
    }
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    if is_header {
        for (c, n) in names.iter().enumerate() {
            let key = n.split_once(':').map_or(n.as_str(), |(g, _)| g).to_string();
            match groups.iter_mut().find(|(g, _)| *g == key) {
                Some((_, v)) => v.push(c),
                None => groups.push((key, vec![c])),
            }
        }
    } else {
        groups.push(("all".to_string(), (0..cols).collect()));
    }
    Ok(Table {
        rows,
        cols,
        data,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_header_groups_and_errors() {
        let t = parse_csv("a:0,a:1,b\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!((t.rows, t.cols), (2, 3));
        assert_eq!(
            t.groups,
            vec![("a".into(), vec![0, 1]), ("b".into(), vec![2])]
        );
        assert_eq!(t.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let t = parse_csv("1.5\n# comment\n2.5\n").unwrap();
        assert_eq!((t.rows, t.cols, t.groups.len()), (2, 1, 1));
        assert!(parse_csv("1,2\n3\n").is_err());
        let e = parse_csv("1\nnan\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 2"), "{e:#}");
        assert!(parse_csv("").is_err());
    }
}
