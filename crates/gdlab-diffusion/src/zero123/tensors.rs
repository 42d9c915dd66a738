//! Weight files without memory maps: a safetensors header reader, a lazy tensor file
//! (`.safetensors` or a PyTorch `.ckpt`/`.pth` through candle's pickle reader), a renaming
//! [`VarBuilder`] backend, and the pre-flight check of a model's required tensors against a
//! file's header.
//!
//! The check runs the model's constructor once against a *recording* backend (every
//! `(key, shape)` the constructor asks for is noted; the returned tensors are stride-0
//! broadcasts of one scalar, so nothing is allocated), then compares the list with the
//! file's header. A missing tensor or a wrong shape becomes a
//! [`DiffusionError::Weights`] naming the file, the key, the expected and the found shape,
//! before any weight is read.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;

use crate::error::{DiffusionError, Result};
use crate::sd::shape_only::ShapeOnlyBackend;

/// Largest safetensors header accepted (the format's own limit is 100 MB).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// One tensor in a safetensors header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetensorsEntry {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<usize>,
    /// Byte range `[start, end)` relative to the start of the data section.
    pub offsets: (usize, usize),
}

fn parse_dtype(s: &str) -> Option<DType> {
    Some(match s {
        "F16" => DType::F16,
        "BF16" => DType::BF16,
        "F32" => DType::F32,
        "F64" => DType::F64,
        "I64" => DType::I64,
        "I32" => DType::I32,
        "I16" => DType::I16,
        "U32" => DType::U32,
        "U8" | "BOOL" => DType::U8,
        _ => return None,
    })
}

/// Parses the JSON header of a safetensors file (the bytes after the 8-byte length) and
/// checks every entry: known dtype, `end − start = numel · size(dtype)`, ranges inside
/// `data_len` bytes. The `__metadata__` entry is skipped.
///
/// # Errors
/// A message describing the first malformed entry.
///
/// # Examples
/// ```
/// use gdlab_diffusion::zero123::tensors::parse_safetensors_header;
/// let h = br#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#;
/// let m = parse_safetensors_header(h, 24).unwrap();
/// assert_eq!(m["w"].shape, vec![2, 3]);
/// assert!(parse_safetensors_header(h, 20).is_err()); // data section too short
/// ```
pub fn parse_safetensors_header(
    json: &[u8],
    data_len: usize,
) -> std::result::Result<BTreeMap<String, SafetensorsEntry>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("header is not JSON: {e}"))?;
    let obj = v.as_object().ok_or("header is not a JSON object")?;
    let mut out = BTreeMap::new();
    for (name, e) in obj {
        if name == "__metadata__" {
            continue;
        }
        let bad = |what: &str| format!("tensor `{name}`: {what}");
        let dtype_s = e
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| bad("no dtype"))?;
        let dtype = parse_dtype(dtype_s).ok_or_else(|| bad(&format!("dtype {dtype_s}")))?;
        let shape = e
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(|| bad("no shape"))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("shape is not a list of sizes"))?;
        let offs = e
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((a[0].as_u64()? as usize, a[1].as_u64()? as usize)))
            .ok_or_else(|| bad("data_offsets is not [start, end]"))?;
        let numel: usize = shape.iter().product();
        let bytes = if dtype_s == "BOOL" {
            numel
        } else {
            numel * dtype.size_in_bytes()
        };
        if offs.1 < offs.0 || offs.1 - offs.0 != bytes || offs.1 > data_len {
            return Err(bad(&format!(
                "data_offsets {offs:?} do not hold {bytes} bytes inside the {data_len}-byte data section"
            )));
        }
        out.insert(
            name.clone(),
            SafetensorsEntry {
                dtype,
                shape,
                offsets: offs,
            },
        );
    }
    Ok(out)
}

enum Store {
    Safetensors {
        data_start: u64,
        entries: BTreeMap<String, SafetensorsEntry>,
    },
    Pth(candle_core::pickle::PthTensors),
}

/// A weight file read lazily: `.safetensors` (header parsed on open, each tensor read with
/// one seek) or a PyTorch zip checkpoint (`.ckpt`, `.pth`, `.pt`, `.bin`; a Lightning
/// checkpoint's `state_dict` is used when present).
pub struct TensorFile {
    path: PathBuf,
    store: Store,
}

impl std::fmt::Debug for TensorFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TensorFile({}, {} tensors)",
            self.path.display(),
            self.len()
        )
    }
}

fn weights_err(path: &Path, message: impl Into<String>) -> DiffusionError {
    DiffusionError::Weights {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl TensorFile {
    /// Opens `path`, reading only its tensor index.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] naming the path if the file is missing, unreadable or
    /// malformed.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(weights_err(path, "no such file"));
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let store = if ext == "safetensors" {
            let mut f = std::fs::File::open(path).map_err(|e| weights_err(path, e.to_string()))?;
            let len = f
                .metadata()
                .map_err(|e| weights_err(path, e.to_string()))?
                .len();
            let mut n = [0u8; 8];
            f.read_exact(&mut n)
                .map_err(|_| weights_err(path, "not a safetensors file (shorter than 8 bytes)"))?;
            let n = u64::from_le_bytes(n);
            if n > MAX_HEADER_BYTES || 8 + n > len {
                return Err(weights_err(
                    path,
                    format!("not a safetensors file (header length {n}, file length {len})"),
                ));
            }
            let mut json = vec![0u8; n as usize];
            f.read_exact(&mut json)
                .map_err(|e| weights_err(path, e.to_string()))?;
            let entries = parse_safetensors_header(&json, (len - 8 - n) as usize)
                .map_err(|m| weights_err(path, m))?;
            Store::Safetensors {
                data_start: 8 + n,
                entries,
            }
        } else if ["ckpt", "pth", "pt", "bin"].contains(&ext.as_str()) {
            let open = |key| candle_core::pickle::PthTensors::new(path, key);
            let pth = open(Some("state_dict"))
                .or_else(|_| open(None))
                .map_err(|e| weights_err(path, format!("reading the PyTorch checkpoint: {e}")))?;
            Store::Pth(pth)
        } else {
            return Err(weights_err(
                path,
                "unknown weight format (expected .safetensors, .ckpt, .pth, .pt or .bin)",
            ));
        };
        Ok(TensorFile {
            path: path.to_path_buf(),
            store,
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of tensors in the file.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Safetensors { entries, .. } => entries.len(),
            Store::Pth(p) => p.tensor_infos().len(),
        }
    }

    /// Whether the file holds no tensor.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key with its shape, sorted by key.
    #[must_use]
    pub fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        match &self.store {
            Store::Safetensors { entries, .. } => entries
                .iter()
                .map(|(k, e)| (k.clone(), e.shape.clone()))
                .collect(),
            Store::Pth(p) => p
                .tensor_infos()
                .iter()
                .map(|(k, i)| (k.clone(), i.layout.shape().dims().to_vec()))
                .collect(),
        }
    }

    /// The shape of `key`, if present.
    #[must_use]
    pub fn shape(&self, key: &str) -> Option<Vec<usize>> {
        match &self.store {
            Store::Safetensors { entries, .. } => entries.get(key).map(|e| e.shape.clone()),
            Store::Pth(p) => p
                .tensor_infos()
                .get(key)
                .map(|i| i.layout.shape().dims().to_vec()),
        }
    }

    /// Reads `key` and converts it to `dtype` on `device`.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] if the key is absent or the bytes cannot be read.
    pub fn load(&self, key: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        let missing = || weights_err(&self.path, format!("missing tensor `{key}`"));
        let t = match &self.store {
            Store::Safetensors {
                data_start,
                entries,
            } => {
                let e = entries.get(key).ok_or_else(missing)?;
                let mut f = std::fs::File::open(&self.path)
                    .map_err(|err| weights_err(&self.path, err.to_string()))?;
                f.seek(SeekFrom::Start(data_start + e.offsets.0 as u64))
                    .map_err(|err| weights_err(&self.path, err.to_string()))?;
                let mut buf = vec![0u8; e.offsets.1 - e.offsets.0];
                f.read_exact(&mut buf)
                    .map_err(|err| weights_err(&self.path, format!("reading `{key}`: {err}")))?;
                Tensor::from_raw_buffer(&buf, e.dtype, &e.shape, &Device::Cpu)?
            }
            Store::Pth(p) => p
                .get(key)
                .map_err(|err| weights_err(&self.path, format!("reading `{key}`: {err}")))?
                .ok_or_else(missing)?,
        };
        Ok(t.to_dtype(dtype)?.to_device(device)?)
    }
}

/// How a requested tensor is obtained from a stored one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// As stored.
    Same,
    /// Rows `start..start + len` of dimension 0 (a slice of a fused `in_proj_weight`).
    Rows {
        /// First row.
        start: usize,
        /// Number of rows.
        len: usize,
    },
    /// The transpose of a stored matrix (OpenAI CLIP's `proj` is `x @ proj`).
    Transpose,
}

/// Where a requested (model-side) key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The key in the file.
    pub key: String,
    /// The transformation applied.
    pub fetch: Fetch,
}

impl Source {
    /// The stored tensor `key`, unchanged.
    #[must_use]
    pub fn same(key: impl Into<String>) -> Self {
        Source {
            key: key.into(),
            fetch: Fetch::Same,
        }
    }
}

/// Whether two shapes agree, optionally up to trailing singleton dimensions (a 1×1
/// convolution `(o, i, 1, 1)` stored for a linear `(o, i)`).
#[must_use]
pub fn shapes_agree(expected: &[usize], found: &[usize], squeeze_trailing_ones: bool) -> bool {
    if expected == found {
        return true;
    }
    if !squeeze_trailing_ones {
        return false;
    }
    let strip = |s: &[usize]| {
        let mut n = s.len();
        while n > 1 && s[n - 1] == 1 {
            n -= 1;
        }
        s[..n].to_vec()
    };
    strip(expected) == strip(found)
}

/// One model component's view of a weight file: model key → stored key and transform.
#[derive(Clone, Debug)]
pub struct Component {
    file: Arc<TensorFile>,
    map: HashMap<String, Source>,
    squeeze_trailing_ones: bool,
}

impl Component {
    /// The keys of `file` that start with `prefix`, with the prefix stripped (an empty
    /// prefix takes every key).
    #[must_use]
    pub fn prefixed(file: Arc<TensorFile>, prefix: &str) -> Self {
        let map = file
            .shapes()
            .into_keys()
            .filter_map(|k| {
                k.strip_prefix(prefix)
                    .map(|s| (s.to_string(), Source::same(k.clone())))
            })
            .collect();
        Component {
            file,
            map,
            squeeze_trailing_ones: false,
        }
    }

    /// An explicit map (model key → source).
    #[must_use]
    pub fn mapped(file: Arc<TensorFile>, map: HashMap<String, Source>) -> Self {
        Component {
            file,
            map,
            squeeze_trailing_ones: false,
        }
    }

    /// Accept stored shapes that differ from the requested ones only by trailing 1s (and
    /// reshape them on load). Used for the VAE's attention projections, which old
    /// checkpoints store as 1×1 convolutions.
    #[must_use]
    pub fn squeeze_trailing_ones(mut self) -> Self {
        self.squeeze_trailing_ones = true;
        self
    }

    /// The file behind the component.
    #[must_use]
    pub fn file(&self) -> &TensorFile {
        &self.file
    }

    /// Number of model keys the component provides.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the component provides no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The model keys the component provides (unordered).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Whether the component provides model key `key`.
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The shape model key `key` will have, computed from the header (no data read).
    #[must_use]
    pub fn shape(&self, key: &str) -> Option<Vec<usize>> {
        let src = self.map.get(key)?;
        let s = self.file.shape(&src.key)?;
        Some(match src.fetch {
            Fetch::Same => s,
            Fetch::Rows { len, .. } => {
                let mut s = s;
                if let Some(d) = s.first_mut() {
                    *d = len;
                }
                s
            }
            Fetch::Transpose => s.into_iter().rev().collect(),
        })
    }

    fn describe(&self, key: &str) -> String {
        match self.map.get(key) {
            Some(s) if s.key != key => format!("`{}` (for `{key}`)", s.key),
            _ => format!("`{key}`"),
        }
    }

    /// Checks that every `(key, shape)` in `required` is present with that shape.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] naming the file, the key, and the expected and found
    /// shapes of the first problem (in the order of `required`).
    pub fn check(&self, required: &[(String, Vec<usize>)]) -> Result<()> {
        for (key, want) in required {
            match self.shape(key) {
                None => {
                    let stored = self.map.get(key).map_or(key.as_str(), |s| s.key.as_str());
                    return Err(weights_err(
                        self.file.path(),
                        format!("missing tensor `{stored}` (expected shape {want:?})"),
                    ));
                }
                Some(found) if !shapes_agree(want, &found, self.squeeze_trailing_ones) => {
                    return Err(weights_err(
                        self.file.path(),
                        format!(
                            "tensor {}: expected shape {want:?}, found {found:?}",
                            self.describe(key)
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Loads model key `key` as `dtype` on `device`, with shape `shape`.
    ///
    /// # Errors
    /// [`DiffusionError::Weights`] if missing, of another shape or unreadable.
    pub fn load(
        &self,
        key: &str,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let src = self.map.get(key).ok_or_else(|| {
            weights_err(
                self.file.path(),
                format!("missing tensor {}", self.describe(key)),
            )
        })?;
        let t = self.file.load(&src.key, dtype, device)?;
        let t = match src.fetch {
            Fetch::Same => t,
            Fetch::Rows { start, len } => t.narrow(0, start, len)?.contiguous()?,
            Fetch::Transpose => t.t()?.contiguous()?,
        };
        if t.dims() == shape {
            Ok(t)
        } else if shapes_agree(shape, t.dims(), self.squeeze_trailing_ones) {
            Ok(t.reshape(shape)?)
        } else {
            Err(weights_err(
                self.file.path(),
                format!(
                    "tensor {}: expected shape {shape:?}, found {:?}",
                    self.describe(key),
                    t.dims()
                ),
            ))
        }
    }

    /// A [`VarBuilder`] reading this component (F32 unless `dtype` says otherwise).
    #[must_use]
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }
}

impl SimpleBackend for Component {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _h: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        self.load(name, s.dims(), dtype, dev)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))
    }
    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let shape = self
            .shape(name)
            .ok_or_else(|| candle_core::Error::CannotFindTensor {
                path: name.to_string(),
            })?;
        self.load(name, &shape, dtype, dev)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))
    }
    fn contains_tensor(&self, name: &str) -> bool {
        self.contains(name)
    }
}

/// Builds a model on a shape-only builder ([`ShapeOnlyBackend::with_keys`]) that sees `component`'s keys and checks the requested
/// tensors plus `extra` (tensors the constructor only probes for) against the component's
/// header, before any weight is read.
///
/// # Errors
/// As [`Component::check`]; a failing constructor becomes a [`DiffusionError::Weights`]
/// naming the file.
pub fn check_component(
    component: &Component,
    extra: &[(String, Vec<usize>)],
    build: impl FnOnce(VarBuilder<'static>) -> Result<()>,
) -> Result<()> {
    let rec = ShapeOnlyBackend::with_keys(component.map.keys().cloned());
    build(rec.var_builder(DType::F32, &Device::Cpu)).map_err(|e| match e {
        e @ DiffusionError::Weights { .. } => e,
        e => weights_err(component.file.path(), format!("building the model: {e}")),
    })?;
    let mut req: Vec<(String, Vec<usize>)> = rec
        .unique_specs()
        .into_iter()
        .map(|s| (s.name, s.shape))
        .collect();
    req.extend(extra.iter().cloned());
    component.check(&req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, ts: &[(&str, Tensor)]) -> PathBuf {
        let p = dir.join(name);
        let m: HashMap<String, Tensor> =
            ts.iter().map(|(k, t)| (k.to_string(), t.clone())).collect();
        candle_core::safetensors::save(&m, &p).unwrap();
        p
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gdlab-tensors-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_safetensors_lazily_and_converts_dtype() {
        let d = scratch("read");
        let a = Tensor::arange(0f32, 6.0, &Device::Cpu)
            .unwrap()
            .reshape((2, 3))
            .unwrap();
        let b = Tensor::new(&[1.5f32, -2.0], &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap();
        let p = write(&d, "w.safetensors", &[("a", a.clone()), ("p.b", b)]);
        let f = TensorFile::open(&p).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f.shape("a"), Some(vec![2, 3]));
        let got = f.load("a", DType::F32, &Device::Cpu).unwrap();
        assert_eq!(got.to_vec2::<f32>().unwrap(), a.to_vec2::<f32>().unwrap());
        let got = f.load("p.b", DType::F32, &Device::Cpu).unwrap();
        assert_eq!(got.to_vec1::<f32>().unwrap(), vec![1.5, -2.0]);
        assert!(f.load("zz", DType::F32, &Device::Cpu).is_err());
        // A component with a prefix, rows and a transpose.
        let c = Component::prefixed(Arc::new(f), "p.");
        assert!(c.contains("b") && !c.contains("a"));
        let f = Arc::new(TensorFile::open(&p).unwrap());
        let c = Component::mapped(
            f,
            HashMap::from([
                (
                    "r".into(),
                    Source {
                        key: "a".into(),
                        fetch: Fetch::Rows { start: 1, len: 1 },
                    },
                ),
                (
                    "t".into(),
                    Source {
                        key: "a".into(),
                        fetch: Fetch::Transpose,
                    },
                ),
            ]),
        );
        assert_eq!(c.shape("t"), Some(vec![3, 2]));
        assert_eq!(
            c.load("r", &[1, 3], DType::F32, &Device::Cpu)
                .unwrap()
                .to_vec2::<f32>()
                .unwrap(),
            vec![vec![3.0, 4.0, 5.0]]
        );
        assert_eq!(
            c.load("t", &[3, 2], DType::F32, &Device::Cpu)
                .unwrap()
                .to_vec2::<f32>()
                .unwrap(),
            vec![vec![0.0, 3.0], vec![1.0, 4.0], vec![2.0, 5.0]]
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn malformed_files_name_the_path() {
        let d = scratch("bad");
        let p = d.join("x.safetensors");
        std::fs::write(&p, b"abc").unwrap();
        let e = TensorFile::open(&p).unwrap_err().to_string();
        assert!(e.contains("x.safetensors") && e.contains("shorter"), "{e}");
        std::fs::write(&p, [200u8, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(TensorFile::open(&p).is_err());
        let e = TensorFile::open(&d.join("none.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("none.safetensors") && e.contains("no such file"),
            "{e}"
        );
        let q = d.join("w.npz");
        std::fs::write(&q, b"").unwrap();
        assert!(TensorFile::open(&q)
            .unwrap_err()
            .to_string()
            .contains("unknown weight format"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn header_parser_checks_sizes() {
        let ok = br#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}}"#;
        assert_eq!(parse_safetensors_header(ok, 6).unwrap().len(), 1);
        let wrong = br#"{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#;
        assert!(parse_safetensors_header(wrong, 8)
            .unwrap_err()
            .contains("`w`"));
        let dtype = br#"{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#;
        assert!(parse_safetensors_header(dtype, 16).is_err());
        assert!(parse_safetensors_header(b"[1]", 0).is_err());
    }

    #[test]
    fn check_reports_missing_and_misshaped_tensors() {
        let d = scratch("check");
        let p = write(
            &d,
            "m.safetensors",
            &[
                (
                    "lin.weight",
                    Tensor::zeros((4, 3), DType::F32, &Device::Cpu).unwrap(),
                ),
                (
                    "conv.weight",
                    Tensor::zeros((4, 4, 1, 1), DType::F32, &Device::Cpu).unwrap(),
                ),
            ],
        );
        let c = Component::prefixed(Arc::new(TensorFile::open(&p).unwrap()), "");
        let build = |vb: VarBuilder<'static>| -> Result<()> {
            let _ = candle_nn::linear_no_bias(3, 4, vb.pp("lin"))?;
            Ok(())
        };
        check_component(&c, &[], build).unwrap();
        let lin =
            candle_nn::linear_no_bias(3, 4, c.var_builder(DType::F32, &Device::Cpu).pp("lin"))
                .unwrap();
        assert_eq!(lin.weight().dims(), &[4, 3]);
        let build_bad = |vb: VarBuilder<'static>| -> Result<()> {
            let _ = candle_nn::linear_no_bias(5, 4, vb.pp("lin"))?;
            Ok(())
        };
        let e = check_component(&c, &[], build_bad).unwrap_err().to_string();
        assert!(
            e.contains("m.safetensors")
                && e.contains("lin.weight")
                && e.contains("[4, 5]")
                && e.contains("[4, 3]"),
            "{e}"
        );
        let build_missing = |vb: VarBuilder<'static>| -> Result<()> {
            let _ = candle_nn::linear(3, 4, vb.pp("lin"))?;
            Ok(())
        };
        let e = check_component(&c, &[], build_missing)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing tensor `lin.bias`"), "{e}");
        // Trailing singleton dims: only accepted when asked for.
        let want = vec![("conv.weight".to_string(), vec![4, 4])];
        assert!(c.check(&want).is_err());
        let c = c.squeeze_trailing_ones();
        c.check(&want).unwrap();
        assert_eq!(
            c.load("conv.weight", &[4, 4], DType::F32, &Device::Cpu)
                .unwrap()
                .dims(),
            &[4, 4]
        );
        assert!(shapes_agree(&[4, 4], &[4, 4, 1, 1], true));
        assert!(!shapes_agree(&[4, 4], &[4, 1, 4], true));
        let _ = std::fs::remove_dir_all(&d);
    }
}
