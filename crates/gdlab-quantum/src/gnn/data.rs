//! Node-classification datasets: the synthetic SBM of spec §5.1 Part B **\[design\]**, and
//! readers for Cora-style files and the OGB raw layout (spec §5.2). No downloads.

use std::path::{Path, PathBuf};

use gdlab_core::{normal::fill_normals, normal::uniform, ConfigError, GdRng, Seed};

use crate::error::{QuantumError, Result};
use crate::gnn::graph::Graph;

/// Node indices of the train / validation / test sets.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Split {
    /// Training nodes.
    pub train: Vec<usize>,
    /// Validation nodes.
    pub val: Vec<usize>,
    /// Test nodes.
    pub test: Vec<usize>,
}

/// A node-classification dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeDataset {
    /// The graph.
    pub graph: Graph,
    /// Row-major `n_nodes × n_features` features.
    pub features: Vec<f64>,
    /// Feature dimension.
    pub n_features: usize,
    /// Class of every node, in `0..n_classes`.
    pub labels: Vec<usize>,
    /// Number of classes.
    pub n_classes: usize,
    /// Class names (Cora label strings), or `"0"`, `"1"`, ….
    pub class_names: Vec<String>,
    /// The split.
    pub split: Split,
}

impl NodeDataset {
    /// Number of nodes.
    #[must_use]
    pub fn n_nodes(&self) -> usize {
        self.labels.len()
    }

    /// Checks shapes, label range, split range and disjointness, finiteness.
    ///
    /// # Errors
    /// [`QuantumError::BadState`] naming the problem.
    pub fn validate(&self) -> Result<()> {
        let n = self.labels.len();
        let bad = |reason: String| QuantumError::BadState {
            field: "dataset",
            reason,
        };
        if self.graph.n_nodes() != n {
            return Err(bad(format!(
                "graph has {} nodes, labels {n}",
                self.graph.n_nodes()
            )));
        }
        if self.features.len() != n * self.n_features {
            return Err(bad(format!(
                "features have {} entries, expected {n} × {}",
                self.features.len(),
                self.n_features
            )));
        }
        if let Some(l) = self.labels.iter().find(|&&l| l >= self.n_classes) {
            return Err(bad(format!("label {l} ≥ n_classes = {}", self.n_classes)));
        }
        if self.features.iter().any(|v| !v.is_finite()) {
            return Err(bad("non-finite feature".into()));
        }
        let mut seen = vec![false; n];
        for (name, set) in [
            ("train", &self.split.train),
            ("val", &self.split.val),
            ("test", &self.split.test),
        ] {
            if set.is_empty() {
                return Err(bad(format!("the {name} split is empty")));
            }
            for &i in set {
                if i >= n {
                    return Err(bad(format!("{name} index {i} ≥ n_nodes = {n}")));
                }
                if seen[i] {
                    return Err(bad(format!(
                        "node {i} is in more than one split (seen again in {name})"
                    )));
                }
                seen[i] = true;
            }
        }
        Ok(())
    }
}

/// The spec §5.1 Part B stochastic block model **\[design\]**.
#[derive(Clone, Debug, PartialEq)]
pub struct SbmConfig {
    /// Class sizes (spec: 240 / 180 / 120 / 60, deliberately unequal).
    pub class_sizes: Vec<usize>,
    /// Edge probability inside a class (0.05).
    pub p_in: f64,
    /// Edge probability across classes (0.005).
    pub p_out: f64,
    /// Feature dimension (32).
    pub n_features: usize,
    /// Feature noise std (0.8).
    pub noise_std: f64,
    /// Train / validation fractions (0.2 / 0.3; the rest is test).
    pub train_frac: f64,
    /// Validation fraction.
    pub val_frac: f64,
    /// Add self-loops (spec: yes).
    pub self_loops: bool,
}

impl Default for SbmConfig {
    /// Spec §5.1 Part B.
    fn default() -> Self {
        SbmConfig {
            class_sizes: vec![240, 180, 120, 60],
            p_in: 0.05,
            p_out: 0.005,
            n_features: 32,
            noise_std: 0.8,
            train_frac: 0.2,
            val_frac: 0.3,
            self_loops: true,
        }
    }
}

fn unit_gaussian(rng: &mut GdRng, d: usize) -> Vec<f64> {
    let mut v = vec![0.0; d];
    fill_normals(rng, &mut v);
    let s = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    v.iter_mut().for_each(|a| *a /= s);
    v
}

/// A seeded random permutation of `0..n` (Fisher–Yates on `uniform`).
#[must_use]
pub fn permutation(n: usize, rng: &mut GdRng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = ((uniform(rng) * (i + 1) as f64) as usize).min(i);
        p.swap(i, j);
    }
    p
}

/// Generates the SBM dataset: undirected edges per pair with `p_in` / `p_out`, features
/// `μ_c + N(0, σ²)` with random unit class means, seeded 20/30/50 split.
///
/// Streams: `seed.derive("sbm-edges")`, `"sbm-means"`, `"sbm-noise"`, `"sbm-split"`.
///
/// # Errors
/// [`ConfigError`] for probabilities outside [0, 1], fewer than 2 classes, an empty class,
/// zero features, a negative noise std or fractions that leave no test set.
pub fn sbm(cfg: &SbmConfig, seed: Seed) -> Result<NodeDataset> {
    ConfigError::check_closed("p_in", cfg.p_in, 0.0, 1.0, "[0, 1]")?;
    ConfigError::check_closed("p_out", cfg.p_out, 0.0, 1.0, "[0, 1]")?;
    ConfigError::check_non_negative("noise_std", cfg.noise_std)?;
    if cfg.class_sizes.len() < 2 || cfg.class_sizes.contains(&0) || cfg.n_features == 0 {
        return Err(ConfigError::Invalid {
            field: "class_sizes / n_features".into(),
            reason: "need ≥ 2 non-empty classes and ≥ 1 feature".into(),
        }
        .into());
    }
    if !(cfg.train_frac > 0.0 && cfg.val_frac > 0.0 && cfg.train_frac + cfg.val_frac < 1.0) {
        return Err(ConfigError::Invalid {
            field: "train_frac / val_frac".into(),
            reason: "need train, val > 0 and train + val < 1".into(),
        }
        .into());
    }
    let labels: Vec<usize> = cfg
        .class_sizes
        .iter()
        .enumerate()
        .flat_map(|(c, &s)| std::iter::repeat_n(c, s))
        .collect();
    let n = labels.len();
    let mut rng = seed.derive("sbm-edges").rng();
    let mut edges = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            let p = if labels[i] == labels[j] {
                cfg.p_in
            } else {
                cfg.p_out
            };
            if uniform(&mut rng) < p {
                edges.push((i as u32, j as u32));
            }
        }
    }
    let mut graph = Graph::from_undirected(n, &edges)?;
    if cfg.self_loops {
        graph = graph.with_self_loops();
    }
    let mut mrng = seed.derive("sbm-means").rng();
    let means: Vec<Vec<f64>> = (0..cfg.class_sizes.len())
        .map(|_| unit_gaussian(&mut mrng, cfg.n_features))
        .collect();
    let mut nrng = seed.derive("sbm-noise").rng();
    let mut features = vec![0.0; n * cfg.n_features];
    fill_normals(&mut nrng, &mut features);
    for (i, row) in features.chunks_mut(cfg.n_features).enumerate() {
        for (f, m) in row.iter_mut().zip(&means[labels[i]]) {
            *f = m + cfg.noise_std * *f;
        }
    }
    let perm = permutation(n, &mut seed.derive("sbm-split").rng());
    let n_train = (cfg.train_frac * n as f64).round() as usize;
    let n_val = (cfg.val_frac * n as f64).round() as usize;
    let split = Split {
        train: perm[..n_train].to_vec(),
        val: perm[n_train..n_train + n_val].to_vec(),
        test: perm[n_train + n_val..].to_vec(),
    };
    let ds = NodeDataset {
        graph,
        features,
        n_features: cfg.n_features,
        n_classes: cfg.class_sizes.len(),
        class_names: (0..cfg.class_sizes.len()).map(|c| c.to_string()).collect(),
        labels,
        split,
    };
    ds.validate()?;
    Ok(ds)
}

/// How to split a dataset read from files.
#[derive(Clone, Debug, PartialEq)]
pub enum SplitRule {
    /// `per_class` training labels per class, then `n_val` and `n_test` nodes, seeded
    /// (spec §5.2 Cora default: 20 / 500 / 1000, Planetoid-style but not the official
    /// indices).
    PerClass {
        /// Training nodes per class.
        per_class: usize,
        /// Validation nodes.
        n_val: usize,
        /// Test nodes.
        n_test: usize,
    },
    /// Random fractions (train, val, test), seeded.
    Random(f64, f64, f64),
    /// Explicit index files `train.csv`, `valid.csv`, `test.csv` (one index per line) in
    /// this folder.
    Files(PathBuf),
}

fn io_err(path: &Path, source: std::io::Error) -> QuantumError {
    QuantumError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn parse_err(path: &Path, line: usize, reason: impl Into<String>) -> QuantumError {
    QuantumError::Parse {
        path: path.display().to_string(),
        line,
        reason: reason.into(),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| io_err(path, e))
}

/// Applies a [`SplitRule`].
///
/// # Errors
/// [`QuantumError`] for unreadable or malformed index files, fractions outside (0, 1) or
/// not summing to at most 1, or more requested nodes than available.
pub fn make_split(
    labels: &[usize],
    n_classes: usize,
    rule: &SplitRule,
    seed: Seed,
) -> Result<Split> {
    let n = labels.len();
    let perm = permutation(n, &mut seed.derive("split").rng());
    match rule {
        SplitRule::PerClass {
            per_class,
            n_val,
            n_test,
        } => {
            let mut count = vec![0usize; n_classes];
            let (mut train, mut rest) = (Vec::new(), Vec::new());
            for &i in &perm {
                if count[labels[i]] < *per_class {
                    count[labels[i]] += 1;
                    train.push(i);
                } else {
                    rest.push(i);
                }
            }
            if rest.len() < n_val + n_test {
                return Err(ConfigError::Invalid {
                    field: "split".into(),
                    reason: format!(
                        "{} nodes left after the training set, {n_val} + {n_test} requested",
                        rest.len()
                    ),
                }
                .into());
            }
            Ok(Split {
                train,
                val: rest[..*n_val].to_vec(),
                test: rest[*n_val..n_val + n_test].to_vec(),
            })
        }
        SplitRule::Random(a, b, c) => {
            for (f, v) in [
                ("train fraction", *a),
                ("val fraction", *b),
                ("test fraction", *c),
            ] {
                ConfigError::check_closed(f, v, 0.0, 1.0, "[0, 1]")?;
            }
            if a + b + c > 1.0 + 1e-9 {
                return Err(ConfigError::OutOfRange {
                    field: "split fractions (sum)",
                    value: a + b + c,
                    allowed: "≤ 1",
                }
                .into());
            }
            let nt = (a * n as f64).round() as usize;
            let nv = (b * n as f64).round() as usize;
            let ns = ((c * n as f64).round() as usize).min(n - nt - nv);
            Ok(Split {
                train: perm[..nt].to_vec(),
                val: perm[nt..nt + nv].to_vec(),
                test: perm[nt + nv..nt + nv + ns].to_vec(),
            })
        }
        SplitRule::Files(dir) => {
            let one = |name: &str| -> Result<Vec<usize>> {
                let p = dir.join(name);
                read_index_list(&p, n)
            };
            Ok(Split {
                train: one("train.csv")?,
                val: one("valid.csv")?,
                test: one("test.csv")?,
            })
        }
    }
}

fn read_index_list(path: &Path, n: usize) -> Result<Vec<usize>> {
    let text = read(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let v: usize = t
            .parse()
            .map_err(|_| parse_err(path, i + 1, format!("expected a node index, got `{t}`")))?;
        if v >= n {
            return Err(parse_err(
                path,
                i + 1,
                format!("node index {v} ≥ n_nodes = {n}"),
            ));
        }
        out.push(v);
    }
    Ok(out)
}

/// Reads a Cora-style dataset: `<dir>/<name>.content` (id, features…, label string;
/// tab- or whitespace-separated) and `<dir>/<name>.cites` ("cited citing" per line).
/// The graph is undirected; self-loops only when `self_loops` (spec §5.2: none by default).
///
/// # Errors
/// [`QuantumError::Io`] for unreadable files; [`QuantumError::Parse`] with the line number
/// for a line with the wrong number of fields, a non-numeric feature, a duplicate id or a
/// citation naming an unknown id; [`QuantumError::BadState`] for an empty file.
pub fn read_cora(
    dir: &Path,
    name: &str,
    self_loops: bool,
    rule: &SplitRule,
    seed: Seed,
) -> Result<NodeDataset> {
    let content = dir.join(format!("{name}.content"));
    let cites = dir.join(format!("{name}.cites"));
    let text = read(&content)?;
    let mut ids = std::collections::HashMap::new();
    let mut features = Vec::new();
    let mut label_names: Vec<String> = Vec::new();
    let mut labels = Vec::new();
    let mut width: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 3 {
            return Err(parse_err(
                &content,
                i + 1,
                format!(
                    "expected `id features… label`, got {} field(s)",
                    fields.len()
                ),
            ));
        }
        let w = fields.len() - 2;
        match width {
            None => width = Some(w),
            Some(w0) if w0 != w => {
                return Err(parse_err(
                    &content,
                    i + 1,
                    format!("{w} features, but the first line has {w0}"),
                ))
            }
            _ => {}
        }
        let id = fields[0].to_string();
        if ids.insert(id.clone(), labels.len()).is_some() {
            return Err(parse_err(
                &content,
                i + 1,
                format!("duplicate node id `{id}`"),
            ));
        }
        for (k, f) in fields[1..=w].iter().enumerate() {
            let v: f64 = f.parse().map_err(|_| {
                parse_err(
                    &content,
                    i + 1,
                    format!("feature {} is `{f}`, not a number", k + 1),
                )
            })?;
            if !v.is_finite() {
                return Err(parse_err(
                    &content,
                    i + 1,
                    format!("feature {} is not finite", k + 1),
                ));
            }
            features.push(v);
        }
        let lab = fields[w + 1];
        let c = match label_names.iter().position(|l| l == lab) {
            Some(c) => c,
            None => {
                label_names.push(lab.to_string());
                label_names.len() - 1
            }
        };
        labels.push(c);
    }
    let n = labels.len();
    if n == 0 {
        return Err(QuantumError::BadState {
            field: "cora content",
            reason: format!("{} has no nodes", content.display()),
        });
    }
    // classes in sorted label order (deterministic regardless of file order)
    let mut order: Vec<usize> = (0..label_names.len()).collect();
    order.sort_by(|&a, &b| label_names[a].cmp(&label_names[b]));
    let mut remap = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old] = new;
    }
    let labels: Vec<usize> = labels.iter().map(|&l| remap[l]).collect();
    let class_names: Vec<String> = order.iter().map(|&o| label_names[o].clone()).collect();
    let ctext = read(&cites)?;
    let mut edges = Vec::new();
    for (i, line) in ctext.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 2 {
            return Err(parse_err(
                &cites,
                i + 1,
                format!("expected `cited citing`, got {} field(s)", f.len()),
            ));
        }
        let look = |s: &str| {
            ids.get(s)
                .copied()
                .ok_or_else(|| parse_err(&cites, i + 1, format!("unknown node id `{s}`")))
        };
        let (a, b) = (look(f[0])?, look(f[1])?);
        edges.push((a as u32, b as u32));
    }
    let mut graph = Graph::from_undirected(n, &edges)?;
    if self_loops {
        graph = graph.with_self_loops();
    }
    let n_classes = class_names.len();
    let split = make_split(&labels, n_classes, rule, seed)?;
    let ds = NodeDataset {
        graph,
        features,
        n_features: width.unwrap_or(0),
        labels,
        n_classes,
        class_names,
        split,
    };
    ds.validate()?;
    Ok(ds)
}

fn first_existing(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.exists())
}

fn read_csv_rows(path: &Path) -> Result<Vec<Vec<f64>>> {
    let text = read(path)?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let row: Vec<f64> = t
            .split(',')
            .map(|f| {
                f.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        parse_err(
                            path,
                            i + 1,
                            format!("`{}` is not a finite number", f.trim()),
                        )
                    })
            })
            .collect::<Result<_>>()?;
        rows.push(row);
    }
    Ok(rows)
}

fn read_npy_matrix(path: &Path) -> Result<(Vec<f64>, usize, usize)> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let file = npyz::NpyFile::new(&bytes[..]).map_err(|e| parse_err(path, 0, e.to_string()))?;
    let shape = file.shape().to_vec();
    if shape.len() != 2 {
        return Err(parse_err(
            path,
            0,
            format!("expected a 2-D array, got shape {shape:?}"),
        ));
    }
    if file.order() == npyz::Order::Fortran {
        return Err(parse_err(path, 0, "Fortran-order arrays are not supported"));
    }
    let data: Vec<f64> = match file.try_data::<f64>() {
        Ok(r) => r
            .collect::<std::io::Result<_>>()
            .map_err(|e| io_err(path, e))?,
        Err(file) => match file.try_data::<f32>() {
            Ok(r) => r
                .map(|x| x.map(f64::from))
                .collect::<std::io::Result<_>>()
                .map_err(|e| io_err(path, e))?,
            Err(_) => return Err(parse_err(path, 0, "dtype must be float32 or float64")),
        },
    };
    Ok((data, shape[0] as usize, shape[1] as usize))
}

/// Reads the OGB raw layout of spec §5.2 from `dir`: `edges.csv` (two integer columns per
/// line, `u,v`; OGB's `edge.csv` also accepted), `features.npy` or `features.csv`
/// (`node-feat.csv` accepted), `labels.csv` (one integer per line; `node-label.csv`
/// accepted), and optional `split/{train,valid,test}.csv`. Edges are made undirected.
/// Without split files `fallback` is used.
///
/// # Errors
/// [`QuantumError::Io`] / [`QuantumError::Parse`] naming the file and line;
/// [`QuantumError::BadState`] for inconsistent sizes.
pub fn read_ogb_raw(
    dir: &Path,
    self_loops: bool,
    fallback: &SplitRule,
    seed: Seed,
) -> Result<NodeDataset> {
    let missing = |what: &str| QuantumError::Io {
        path: dir.join(what).display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "file not found"),
    };
    let labels_path = first_existing(dir, &["labels.csv", "node-label.csv"])
        .ok_or_else(|| missing("labels.csv"))?;
    let mut labels = Vec::new();
    for (i, line) in read(&labels_path)?.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        labels.push(t.parse::<usize>().map_err(|_| {
            parse_err(
                &labels_path,
                i + 1,
                format!("expected a non-negative class index, got `{t}`"),
            )
        })?);
    }
    let n = labels.len();
    if n == 0 {
        return Err(parse_err(&labels_path, 0, "no labels"));
    }
    let n_classes = labels.iter().max().map_or(0, |m| m + 1);
    let (features, rows, width) = if let Some(p) = first_existing(dir, &["features.npy"]) {
        read_npy_matrix(&p)?
    } else {
        let p = first_existing(dir, &["features.csv", "node-feat.csv"])
            .ok_or_else(|| missing("features.npy"))?;
        let rows = read_csv_rows(&p)?;
        let width = rows.first().map_or(0, Vec::len);
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
            return Err(parse_err(
                &p,
                i + 1,
                format!("{} columns, first row has {width}", r.len()),
            ));
        }
        let m = rows.len();
        (rows.into_iter().flatten().collect(), m, width)
    };
    if rows != n {
        return Err(QuantumError::BadState {
            field: "ogb features",
            reason: format!("{rows} feature rows but {n} labels"),
        });
    }
    let edges_path =
        first_existing(dir, &["edges.csv", "edge.csv"]).ok_or_else(|| missing("edges.csv"))?;
    let mut edges = Vec::new();
    for (i, line) in read(&edges_path)?.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let f: Vec<&str> = t.split(',').map(str::trim).collect();
        let parse = |s: &str| -> Result<u32> {
            let v: usize = s
                .parse()
                .map_err(|_| parse_err(&edges_path, i + 1, format!("`{s}` is not a node index")))?;
            if v >= n {
                return Err(parse_err(
                    &edges_path,
                    i + 1,
                    format!("node {v} ≥ n_nodes = {n}"),
                ));
            }
            Ok(v as u32)
        };
        if f.len() != 2 {
            return Err(parse_err(
                &edges_path,
                i + 1,
                format!("expected `u,v`, got {} field(s)", f.len()),
            ));
        }
        edges.push((parse(f[0])?, parse(f[1])?));
    }
    let mut graph = Graph::from_undirected(n, &edges)?;
    if self_loops {
        graph = graph.with_self_loops();
    }
    let split_dir = dir.join("split");
    let rule = if split_dir.join("train.csv").exists() {
        SplitRule::Files(split_dir)
    } else {
        fallback.clone()
    };
    let split = make_split(&labels, n_classes, &rule, seed)?;
    let ds = NodeDataset {
        graph,
        features,
        n_features: width,
        labels,
        n_classes,
        class_names: (0..n_classes).map(|c| c.to_string()).collect(),
        split,
    };
    ds.validate()?;
    Ok(ds)
}

/// Decision-problem accuracy (spec §2.5, authors' `decision_acc` **\[code\]**): average the
/// raw logits over `nodes` (`ȳ ∈ R^C`); for each pair `i < j` predict `ȳ_i − ȳ_j > 0`;
/// the label is 1 iff class `i` has **strictly** more nodes than class `j` in `nodes`.
/// Returns the fraction of the `C(C−1)/2` pairs predicted correctly.
///
/// # Panics
/// If `logits.len() != n_nodes · n_classes` for the indices used (programmer error).
///
/// # Examples
/// ```
/// use gdlab_quantum::gnn::data::decision_accuracy;
/// // 3 nodes, 2 classes; labels 0, 0, 1 → class 0 has more nodes (label 1 for pair (0,1))
/// let logits = [2.0, 0.0, 1.0, 0.5, 0.0, 3.0]; // mean = (1.0, 1.1667) → predicts 0
/// assert_eq!(decision_accuracy(&logits, 2, &[0, 0, 1], &[0, 1, 2]), 0.0);
/// ```
#[must_use]
pub fn decision_accuracy(
    logits: &[f64],
    n_classes: usize,
    labels: &[usize],
    nodes: &[usize],
) -> f64 {
    let mut mean = vec![0.0; n_classes];
    let mut count = vec![0usize; n_classes];
    for &i in nodes {
        for (m, l) in mean
            .iter_mut()
            .zip(&logits[i * n_classes..(i + 1) * n_classes])
        {
            *m += l;
        }
        count[labels[i]] += 1;
    }
    let inv = 1.0 / nodes.len().max(1) as f64;
    mean.iter_mut().for_each(|m| *m *= inv);
    let (mut right, mut total) = (0usize, 0usize);
    for i in 0..n_classes {
        for j in i + 1..n_classes {
            let pred = mean[i] - mean[j] > 0.0;
            let label = count[i] > count[j];
            right += usize::from(pred == label);
            total += 1;
        }
    }
    right as f64 / total.max(1) as f64
}

/// Node accuracy of `argmax` logits over `nodes` (first maximum on ties).
#[must_use]
pub fn node_accuracy(logits: &[f64], n_classes: usize, labels: &[usize], nodes: &[usize]) -> f64 {
    let right = nodes
        .iter()
        .filter(|&&i| {
            let row = &logits[i * n_classes..(i + 1) * n_classes];
            let mut best = 0;
            for (k, v) in row.iter().enumerate() {
                if *v > row[best] {
                    best = k;
                }
            }
            best == labels[i]
        })
        .count();
    right as f64 / nodes.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gdlab-q-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn sbm_has_the_spec_shape() {
        let ds = sbm(&SbmConfig::default(), Seed(0)).unwrap();
        assert_eq!(ds.n_nodes(), 600);
        assert_eq!(ds.n_classes, 4);
        assert_eq!(
            (
                ds.split.train.len(),
                ds.split.val.len(),
                ds.split.test.len()
            ),
            (120, 180, 300)
        );
        // expected undirected intra-class edges: Σ C(s,2)·0.05 = (28680+16110+7140+1770)·0.05 ≈ 2685
        let undirected = (ds.graph.edges().len() - 600) / 2;
        assert!((2300..3400).contains(&undirected), "{undirected}");
        assert_eq!(ds, sbm(&SbmConfig::default(), Seed(0)).unwrap());
    }

    #[test]
    fn decision_accuracy_ties_count_as_zero() {
        // equal class counts: label 0 for the pair, so predicting 0 (mean_0 ≤ mean_1) is right
        let logits = [0.0, 1.0, 0.0, 1.0];
        assert!((decision_accuracy(&logits, 2, &[0, 1], &[0, 1]) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn cora_reader_accepts_good_files_and_names_bad_lines() {
        let d = tmp("cora");
        let mut content = String::new();
        for i in 0..40 {
            content.push_str(&format!(
                "n{i}\t{}\t{}\t{}\tclass_{}\n",
                i % 2,
                (i / 2) % 2,
                1,
                i % 3
            ));
        }
        std::fs::write(d.join("cora.content"), &content).unwrap();
        std::fs::write(d.join("cora.cites"), "n0\tn1\nn1\tn2\nn5 n7\n").unwrap();
        let rule = SplitRule::PerClass {
            per_class: 2,
            n_val: 10,
            n_test: 20,
        };
        let ds = read_cora(&d, "cora", false, &rule, Seed(1)).unwrap();
        assert_eq!((ds.n_nodes(), ds.n_features, ds.n_classes), (40, 3, 3));
        assert_eq!(ds.graph.edges().len(), 6);
        assert_eq!(ds.split.train.len(), 6);
        std::fs::write(d.join("cora.cites"), "n0\tn99\n").unwrap();
        let e = read_cora(&d, "cora", false, &rule, Seed(1))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cora.cites:1") && e.contains("unknown node id `n99`"),
            "{e}"
        );
        std::fs::write(d.join("cora.content"), "a\t1\t0\tx\nb\t1\tx\n").unwrap();
        let e = read_cora(&d, "cora", false, &rule, Seed(1))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cora.content:2") && e.contains("features"),
            "{e}"
        );
        std::fs::write(d.join("cora.content"), "a\t1\tzz\tx\n").unwrap();
        let e = read_cora(&d, "cora", false, &rule, Seed(1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a number"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn ogb_reader_reads_csv_and_split_files() {
        let d = tmp("ogb");
        std::fs::write(d.join("edges.csv"), "0,1\n1,2\n2,3\n3,0\n").unwrap();
        std::fs::write(d.join("features.csv"), "1,0\n0,1\n1,1\n0.5,0.5\n").unwrap();
        std::fs::write(d.join("labels.csv"), "0\n1\n1\n0\n").unwrap();
        std::fs::create_dir_all(d.join("split")).unwrap();
        std::fs::write(d.join("split/train.csv"), "0\n1\n").unwrap();
        std::fs::write(d.join("split/valid.csv"), "2\n").unwrap();
        std::fs::write(d.join("split/test.csv"), "3\n").unwrap();
        let ds = read_ogb_raw(&d, false, &SplitRule::Random(0.5, 0.25, 0.25), Seed(0)).unwrap();
        assert_eq!((ds.n_nodes(), ds.n_features, ds.n_classes), (4, 2, 2));
        assert_eq!(ds.split.train, vec![0, 1]);
        std::fs::write(d.join("edges.csv"), "0,1\n1,9\n").unwrap();
        let e = read_ogb_raw(&d, false, &SplitRule::Random(0.5, 0.25, 0.25), Seed(0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("edges.csv:2"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
