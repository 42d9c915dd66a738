//! Trajectory recording: every iterate of a chosen window of training, per layer, kept in
//! memory or streamed to disk.
//!
//! [`TrajectoryRecorder`] is a [`gdlab_core::runner::Observer`]: pass it to
//! [`GdOptimizer::step_with_loss`](crate::GdOptimizer::step_with_loss) (or
//! [`backward_step_observed`](crate::GdOptimizer::backward_step_observed)) and it copies
//! the selected parameter tensors after every update while it is active
//! ([`TrajectoryRecorder::set_active`], e.g. for the last epoch). Each tensor becomes a
//! `T × D` matrix (rows = iterates in time order, `D` = the tensor's element count,
//! row-major) — the input of the tail-index estimators.
//!
//! With [`RecordSink::Disk`] each tensor streams to `DIR/<name>.npy` (NumPy format 1.0,
//! little-endian, C order; the row count in the header is patched on
//! [`TrajectoryRecorder::finish`]), so long runs need no memory and the files feed
//! `gdlab diagnostics tail-index --input` directly.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use gdlab_core::error::ObserveError;
use gdlab_core::runner::{Observer, StepRecord};

use crate::error::{NnError, Result};
use crate::params::ParamSet;
use crate::real::NnReal;

/// Where recorded iterates go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordSink {
    /// Keep every row in memory.
    Memory,
    /// Stream rows to `DIR/<tensor name>.npy` (the directory is created).
    Disk(PathBuf),
}

/// One recorded tensor: `n_rows` iterates of `dim` elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory<F> {
    /// The tensor's name in the [`ParamSet`].
    pub name: String,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// Number of iterates (rows).
    pub n_rows: usize,
    /// Elements per iterate (`Π shape`).
    pub dim: usize,
    /// `n_rows × dim`, row-major.
    pub data: Vec<F>,
}

impl<F: Copy> Trajectory<F> {
    /// Iterate `t` (a row).
    ///
    /// # Panics
    /// If `t ≥ n_rows`.
    #[must_use]
    pub fn row(&self, t: usize) -> &[F] {
        &self.data[t * self.dim..(t + 1) * self.dim]
    }
}

struct Group<F> {
    name: String,
    shape: Vec<usize>,
    range: Range<usize>,
    memory: Vec<F>,
    file: Option<(PathBuf, BufWriter<File>)>,
    scratch: Vec<u8>,
}

/// Records selected parameter tensors after every update while active.
///
/// # Examples
/// ```
/// use candle_core::{Device, Tensor};
/// use gdlab_core::Seed;
/// use gdlab_nn::{cross_entropy, GdOptimizer, Mlp, MlpConfig, Model, RecordSink, TrajectoryRecorder};
/// use gdlab_optim::{alias::sgd, transform::MomentumConfig};
/// let dev = Device::Cpu;
/// let mlp = Mlp::new::<f32>(&MlpConfig::relu(&[2, 4, 2]), Seed(0), &dev).unwrap();
/// let mut opt = GdOptimizer::<f32, _>::new(sgd(0.1, MomentumConfig::default(), 0.0).unwrap(), mlp.params()).unwrap();
/// let mut rec = TrajectoryRecorder::<f32>::matrices(mlp.params(), RecordSink::Memory).unwrap();
/// let x = Tensor::new(&[[1.0_f32, 0.0]], &dev).unwrap();
/// let y = Tensor::new(&[1_u32], &dev).unwrap();
/// for _ in 0..3 {
///     let loss = cross_entropy(&mlp.forward(&x).unwrap(), &y).unwrap();
///     opt.backward_step_observed(&loss, &mut [&mut rec]).unwrap();
/// }
/// let tr = rec.finish().unwrap();
/// assert_eq!(tr.len(), 2); // the two weight matrices; biases are not recorded
/// assert_eq!((tr[0].n_rows, tr[0].dim), (3, 8));
/// assert_eq!(tr[0].row(2), &opt.params_flat()[..8]);
/// ```
pub struct TrajectoryRecorder<F> {
    groups: Vec<Group<F>>,
    active: bool,
    n_rows: usize,
    sink: RecordSink,
}

impl<F: NnReal> std::fmt::Debug for TrajectoryRecorder<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrajectoryRecorder")
            .field(
                "tensors",
                &self.groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
            )
            .field("active", &self.active)
            .field("n_rows", &self.n_rows)
            .field("sink", &self.sink)
            .finish()
    }
}

impl<F: NnReal> TrajectoryRecorder<F> {
    /// Records the tensors `names` of `params` (active from the start).
    ///
    /// # Errors
    /// [`NnError::Shape`] for an unknown name; [`NnError::Io`] if a disk file cannot be
    /// created.
    pub fn new(params: &ParamSet, names: &[String], sink: RecordSink) -> Result<Self> {
        let layout = params.layout();
        if let RecordSink::Disk(dir) = &sink {
            std::fs::create_dir_all(dir).map_err(|e| NnError::io("creating", dir, e))?;
        }
        let mut groups = Vec::new();
        for name in names {
            let (Some(range), Some(var)) = (layout.get(name), params.get(name)) else {
                return Err(NnError::Shape {
                    op: "TrajectoryRecorder::new",
                    expected: "names of parameters in the set".into(),
                    got: format!("`{name}`"),
                });
            };
            let shape = var.dims().to_vec();
            let file = match &sink {
                RecordSink::Memory => None,
                RecordSink::Disk(dir) => {
                    let path = dir.join(format!("{name}.npy"));
                    let f = File::create(&path).map_err(|e| NnError::io("creating", &path, e))?;
                    let mut w = BufWriter::new(f);
                    w.write_all(&npy_header::<F>(0, range.len()))
                        .map_err(|e| NnError::io("writing", &path, e))?;
                    Some((path, w))
                }
            };
            groups.push(Group {
                name: name.clone(),
                shape,
                range,
                memory: Vec::new(),
                file,
                scratch: Vec::new(),
            });
        }
        Ok(TrajectoryRecorder {
            groups,
            active: true,
            n_rows: 0,
            sink,
        })
    }

    /// Records every tensor with at least two dimensions (weights, kernels; no biases).
    ///
    /// # Errors
    /// As [`TrajectoryRecorder::new`].
    pub fn matrices(params: &ParamSet, sink: RecordSink) -> Result<Self> {
        Self::new(params, &params.matrix_names(), sink)
    }

    /// Starts (`true`) or pauses (`false`) recording.
    pub fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    /// Whether updates are being recorded.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Iterates recorded so far.
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Records one flat parameter vector (laid out as the [`ParamSet`]).
    ///
    /// # Errors
    /// [`ObserveError`] on a short buffer or a write failure.
    pub fn record(&mut self, params: &[F]) -> std::result::Result<(), ObserveError> {
        for g in &mut self.groups {
            let Some(row) = params.get(g.range.clone()) else {
                return Err(ObserveError::Other(format!(
                    "trajectory recorder: parameter buffer of {} elements has no range {:?} (`{}`)",
                    params.len(),
                    g.range,
                    g.name
                )));
            };
            match &mut g.file {
                None => g.memory.extend_from_slice(row),
                Some((_, w)) => {
                    g.scratch.clear();
                    for x in row {
                        push_le_bytes(&mut g.scratch, *x);
                    }
                    w.write_all(&g.scratch)?;
                }
            }
        }
        self.n_rows += 1;
        Ok(())
    }

    /// Stops recording and returns the trajectories (read back from disk for
    /// [`RecordSink::Disk`], whose files stay in place, completed).
    ///
    /// # Errors
    /// [`NnError::Io`] on a write or read failure.
    pub fn finish(self) -> Result<Vec<Trajectory<F>>> {
        let n_rows = self.n_rows;
        let mut out = Vec::new();
        for g in self.groups {
            let dim = g.range.len();
            let data = match g.file {
                None => g.memory,
                Some((path, w)) => {
                    let mut f = w
                        .into_inner()
                        .map_err(|e| NnError::io("writing", &path, e.into_error()))?;
                    f.seek(SeekFrom::Start(0))
                        .and_then(|_| f.write_all(&npy_header::<F>(n_rows, dim)))
                        .and_then(|()| f.sync_all())
                        .map_err(|e| NnError::io("writing", &path, e))?;
                    read_own_npy::<F>(&path, n_rows * dim)?
                }
            };
            out.push(Trajectory {
                name: g.name,
                shape: g.shape,
                n_rows,
                dim,
                data,
            });
        }
        Ok(out)
    }
}

impl<F: NnReal> Observer<F> for TrajectoryRecorder<F> {
    fn on_step(&mut self, rec: &StepRecord<'_, F>) -> std::result::Result<(), ObserveError> {
        if self.active {
            self.record(rec.params)
        } else {
            Ok(())
        }
    }
}

fn push_le_bytes<F: NnReal>(out: &mut Vec<u8>, x: F) {
    // f32/f64 only (NnReal): the element's own width, exactly (f32 → f64 → f32 is exact).
    if F::NAME == "f32" {
        out.extend_from_slice(&(x.as_f64() as f32).to_le_bytes());
    } else {
        out.extend_from_slice(&x.as_f64().to_le_bytes());
    }
}

/// Width reserved for the row count, so the header length never changes when patched.
const ROWS_WIDTH: usize = 20;

/// A NumPy 1.0 header for a C-order `rows × dim` array of `F`, padded to 128 bytes.
fn npy_header<F: NnReal>(rows: usize, dim: usize) -> Vec<u8> {
    let descr = if F::NAME == "f32" { "<f4" } else { "<f8" };
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows:>w$}, {dim}), }}",
        w = ROWS_WIDTH
    );
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    let mut h = Vec::with_capacity(total);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    let hlen = u16::try_from(total - 10).unwrap_or(u16::MAX);
    h.extend_from_slice(&hlen.to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    while h.len() < total - 1 {
        h.push(b' ');
    }
    h.push(b'\n');
    h
}

fn read_own_npy<F: NnReal>(path: &Path, n: usize) -> Result<Vec<F>> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| NnError::io("reading", path, e))?;
    if bytes.len() < 10 {
        return Err(NnError::format(path, "truncated .npy header"));
    }
    let hlen = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let body = &bytes[(10 + hlen).min(bytes.len())..];
    let w = if F::NAME == "f32" { 4 } else { 8 };
    if body.len() != n * w {
        return Err(NnError::format(
            path,
            format!("expected {} data bytes, found {}", n * w, body.len()),
        ));
    }
    Ok(body
        .chunks_exact(w)
        .map(|c| {
            let v = if w == 4 {
                f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            } else {
                f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
            };
            <F as gdlab_core::Real>::from_f64(v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn set() -> ParamSet {
        let dev = Device::Cpu;
        let mut ps = ParamSet::new();
        ps.push("w", Var::from_vec(vec![0.0_f32; 6], (2, 3), &dev).unwrap())
            .unwrap();
        ps.push("b", Var::from_vec(vec![0.0_f32; 2], 2, &dev).unwrap())
            .unwrap();
        ps
    }

    #[test]
    fn disk_and_memory_agree_and_files_are_valid_npy() {
        let ps = set();
        let dir = std::env::temp_dir().join(format!("gdlab-nn-rec-{}", std::process::id()));
        let mut mem = TrajectoryRecorder::<f32>::matrices(&ps, RecordSink::Memory).unwrap();
        let mut disk = TrajectoryRecorder::<f32>::new(
            &ps,
            &["w".to_string(), "b".to_string()],
            RecordSink::Disk(dir.clone()),
        )
        .unwrap();
        for t in 0..5 {
            let row: Vec<f32> = (0..8).map(|i| (t * 10 + i) as f32 * 0.25).collect();
            mem.record(&row).unwrap();
            disk.record(&row).unwrap();
            if t == 2 {
                mem.set_active(false);
            }
        }
        // Paused recorders ignore observer calls, `record` is explicit.
        let obs_row = vec![9.0_f32; 8];
        let rec = StepRecord {
            step: 6,
            loss: 0.0,
            grad_norm: 0.0,
            params: &obs_row,
        };
        mem.on_step(&rec).unwrap();
        assert_eq!(mem.n_rows(), 5);
        let m = mem.finish().unwrap();
        let d = disk.finish().unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(d.len(), 2);
        assert_eq!(m[0], d[0]);
        assert_eq!(d[1].row(4), &[4.0f32 * 2.5 + 1.5, 4.0 * 2.5 + 1.75]);
        // The header is a valid NumPy 1.0 header with the patched row count.
        let bytes = std::fs::read(dir.join("w.npy")).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let hlen = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + hlen) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
        assert!(header.contains("'descr': '<f4'"));
        assert!(header.contains("5, 6)"), "{header}");
        assert_eq!(bytes.len(), 10 + hlen + 5 * 6 * 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_names_and_short_buffers_are_errors() {
        let ps = set();
        assert!(TrajectoryRecorder::<f32>::new(&ps, &["nope".into()], RecordSink::Memory).is_err());
        let mut r = TrajectoryRecorder::<f32>::matrices(&ps, RecordSink::Memory).unwrap();
        assert!(r.record(&[0.0; 3]).is_err());
    }
}
