//! Reading numeric arrays from JSON (`[..]`, `[[..],..]`, `[[[..],..],..]`) or `.npy`
//! (1-D to 3-D, f64/f32, C or Fortran order).

use std::path::Path;

use anyhow::{bail, Context, Result};

/// A dense array with its shape (row-major data).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Array {
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<f64>,
    /// `"f64"`, `"f32"` or `"json"`.
    pub(crate) dtype: &'static str,
}

impl Array {
    /// The array as a vector, requiring one dimension.
    pub(crate) fn into_vector(self, what: &str, path: &Path) -> Result<Vec<f64>> {
        if self.shape.len() != 1 {
            bail!(
                "{what} {}: expected a 1-D array, got shape {:?}",
                path.display(),
                self.shape
            );
        }
        Ok(self.data)
    }

    /// The array as rows, requiring two dimensions with `cols` columns.
    pub(crate) fn into_rows(self, what: &str, path: &Path, cols: usize) -> Result<Vec<Vec<f64>>> {
        if self.shape.len() != 2 || self.shape[1] != cols {
            bail!(
                "{what} {}: expected shape (n_steps, {cols}) to match the parameters, got {:?}",
                path.display(),
                self.shape
            );
        }
        if self.shape[0] == 0 {
            bail!(
                "{what} {}: no rows (n_steps must be at least 1)",
                path.display()
            );
        }
        Ok(self.data.chunks(cols).map(<[f64]>::to_vec).collect())
    }

    /// The array as steps of `layout.len()` rows of `dim` columns, requiring the shape
    /// `(n_steps, layout.len(), dim)`; `optimizer` and `layout` name what the rows are in the
    /// error message.
    pub(crate) fn into_steps(
        self,
        what: &str,
        path: &Path,
        optimizer: &str,
        layout: &[&str],
        dim: usize,
    ) -> Result<Vec<Vec<Vec<f64>>>> {
        let k = layout.len();
        if self.shape.len() != 3 || self.shape[1] != k || self.shape[2] != dim {
            bail!(
                "{what} {}: `{optimizer}` takes gradients of shape (n_steps, {k}, {dim}) \
                 (rows [{}] per step, {dim} = the parameters' length), got {:?}",
                path.display(),
                layout.join(", "),
                self.shape
            );
        }
        if self.shape[0] == 0 {
            bail!(
                "{what} {}: no steps (n_steps must be at least 1)",
                path.display()
            );
        }
        Ok(self
            .data
            .chunks(k * dim)
            .map(|step| step.chunks(dim).map(<[f64]>::to_vec).collect())
            .collect())
    }
}

/// Arrays of more dimensions are not read.
const MAX_NDIM: usize = 3;

/// Loads a `.npy` file (by extension) or JSON (anything else). Every value must be finite.
pub(crate) fn load_array(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let arr = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        parse_npy(&bytes).with_context(|| format!("parsing .npy file {}", path.display()))?
    } else {
        parse_json(&bytes).with_context(|| format!("parsing JSON array {}", path.display()))?
    };
    if let Some(i) = arr.data.iter().position(|v| !v.is_finite()) {
        bail!(
            "{}: element {i} is not finite ({}); inputs must be finite numbers",
            path.display(),
            arr.data[i]
        );
    }
    Ok(arr)
}

fn parse_json(bytes: &[u8]) -> Result<Array> {
    let v: serde_json::Value = serde_json::from_slice(bytes)?;
    // The shape is read along the first elements, then every element is checked against it.
    let mut shape = Vec::new();
    let mut first = &v;
    while let serde_json::Value::Array(items) = first {
        shape.push(items.len());
        match items.first() {
            Some(x) => first = x,
            None => break,
        }
    }
    if shape.is_empty() {
        bail!("expected a JSON array of numbers or of rows");
    }
    if shape.len() > MAX_NDIM {
        bail!(
            "expected a 1-D, 2-D or 3-D array, got {} nested levels",
            shape.len()
        );
    }
    let mut data = Vec::new();
    let mut index = Vec::new();
    flatten_json(&v, &shape, &mut index, &mut data)?;
    Ok(Array {
        shape,
        data,
        dtype: "json",
    })
}

/// Appends the numbers of `v` (at position `index`) to `data`, checking it has `shape`.
fn flatten_json(
    v: &serde_json::Value,
    shape: &[usize],
    index: &mut Vec<usize>,
    data: &mut Vec<f64>,
) -> Result<()> {
    let at = |index: &[usize]| index.iter().map(|i| format!("[{i}]")).collect::<String>();
    let depth = index.len();
    if depth == shape.len() {
        let x = v.as_f64().with_context(|| {
            if v.is_array() {
                format!(
                    "ragged array: element {} is an array, expected a number",
                    at(index)
                )
            } else {
                format!(
                    "every element must be a number; element {} is not",
                    at(index)
                )
            }
        })?;
        data.push(x);
        return Ok(());
    }
    let items = v.as_array().with_context(|| {
        format!(
            "ragged array: element {} is not an array (rows must be arrays)",
            at(index)
        )
    })?;
    if items.len() != shape[depth] {
        if depth == 1 && shape.len() == 2 {
            bail!(
                "ragged rows: row 0 has {} elements, row {} has {}",
                shape[1],
                index[0],
                items.len()
            );
        }
        bail!(
            "ragged array: element {} has {} entries, but element {} has {}",
            at(index),
            items.len(),
            at(&vec![0; depth]),
            shape[depth]
        );
    }
    for (i, x) in items.iter().enumerate() {
        index.push(i);
        flatten_json(x, shape, index, data)?;
        index.pop();
    }
    Ok(())
}

fn parse_npy(bytes: &[u8]) -> Result<Array> {
    let file = npyz::NpyFile::new(bytes)?;
    let shape: Vec<usize> = file
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).context("dimension too large"))
        .collect::<Result<_>>()?;
    if shape.is_empty() || shape.len() > MAX_NDIM {
        bail!("expected a 1-D, 2-D or 3-D array, got shape {shape:?}");
    }
    let fortran = file.order() == npyz::Order::Fortran;
    let dtype = format!("{:?}", file.dtype());
    let (data, dtype): (Vec<f64>, &'static str) = match file.try_data::<f64>() {
        Ok(r) => (r.collect::<std::io::Result<_>>()?, "f64"),
        Err(file) => match file.try_data::<f32>() {
            Ok(r) => (
                r.map(|x| x.map(f64::from))
                    .collect::<std::io::Result<_>>()?,
                "f32",
            ),
            Err(_) => bail!("unsupported dtype {dtype}: expected float64 or float32"),
        },
    };
    let expected: usize = shape.iter().product();
    if data.len() != expected {
        bail!(
            "truncated data: shape {shape:?} needs {expected} values, found {}",
            data.len()
        );
    }
    let data = if fortran && shape.len() > 1 {
        fortran_to_c(&data, &shape)
    } else {
        data
    };
    Ok(Array { shape, data, dtype })
}

/// Reorders column-major (Fortran) data of `shape` into row-major (C) order.
fn fortran_to_c(data: &[f64], shape: &[usize]) -> Vec<f64> {
    // Column-major strides: the first index varies fastest.
    let mut strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        strides[k] = strides[k - 1] * shape[k - 1];
    }
    (0..data.len())
        .map(|mut c| {
            // Decompose the row-major index c (last index fastest).
            let mut offset = 0;
            for k in (0..shape.len()).rev() {
                offset += (c % shape[k]) * strides[k];
                c /= shape[k];
            }
            data[offset]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes() {
        let a = parse_json(b"[[1, 2], [3, 4.5]]").unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.5]);
        assert!(parse_json(b"[[1, 2], [3]]").is_err());
        assert!(parse_json(b"{\"a\": 1}").is_err());
        assert!(parse_json(b"[1, \"x\"]").is_err());
    }

    #[test]
    fn json_3d_and_ragged_errors() {
        let a = parse_json(b"[[[1, 2], [3, 4]], [[5, 6], [7, 8.5]], [[0, 0], [0, 0]]]").unwrap();
        assert_eq!(a.shape, vec![3, 2, 2]);
        assert_eq!(a.data[..8], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.5]);
        let e = parse_json(b"[[[1, 2], [3, 4]], [[5, 6]]]").unwrap_err();
        assert!(
            format!("{e:#}").contains("element [1] has 1 entries"),
            "{e:#}"
        );
        let e = parse_json(b"[[[1, 2], [3, 4]], [[5, 6], [7]]]").unwrap_err();
        assert!(
            format!("{e:#}").contains("element [1][1] has 1 entries"),
            "{e:#}"
        );
        let e = parse_json(b"[[[1, 2], [3, 4]], [5, [7, 8]]]").unwrap_err();
        assert!(
            format!("{e:#}").contains("element [1][0] is not an array"),
            "{e:#}"
        );
        let e = parse_json(b"[[1, [2]], [3, 4]]").unwrap_err();
        assert!(
            format!("{e:#}").contains("element [0][1] is an array"),
            "{e:#}"
        );
        let e = parse_json(b"[[[[1]]]]").unwrap_err();
        assert!(format!("{e:#}").contains("1-D, 2-D or 3-D"), "{e:#}");
        assert_eq!(parse_json(b"[]").unwrap().shape, vec![0]);
        assert!(parse_json(b"3").is_err());
    }

    #[test]
    fn fortran_order_is_reordered() {
        // A (2, 3, 2) array with value 100i + 10j + k, stored column-major.
        let shape = [2, 3, 2];
        let mut f = vec![0.0; 12];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    f[i + 2 * j + 6 * k] = (100 * i + 10 * j + k) as f64;
                }
            }
        }
        let c = fortran_to_c(&f, &shape);
        let expected: Vec<f64> = (0..2)
            .flat_map(|i| {
                (0..3).flat_map(move |j| (0..2).map(move |k| (100 * i + 10 * j + k) as f64))
            })
            .collect();
        assert_eq!(c, expected);
        // 2-D agrees with the transpose.
        assert_eq!(
            fortran_to_c(&[1.0, 3.0, 2.0, 4.0], &[2, 2]),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn steps_need_the_layout() {
        let a = parse_json(b"[[[1, 2], [3, 4]]]").unwrap();
        let s = a
            .clone()
            .into_steps(
                "--grads",
                Path::new("g.json"),
                "ssvr",
                &["g_t", "g_prev_t"],
                2,
            )
            .unwrap();
        assert_eq!(s, vec![vec![vec![1.0, 2.0], vec![3.0, 4.0]]]);
        let e = a
            .into_steps(
                "--grads",
                Path::new("g.json"),
                "ssvr_fs",
                &["a", "b", "c", "d"],
                2,
            )
            .unwrap_err();
        assert!(e.to_string().contains("(n_steps, 4, 2)"), "{e}");
        let flat = parse_json(b"[[1, 2], [3, 4]]").unwrap();
        let e = flat
            .into_steps(
                "--grads",
                Path::new("g.json"),
                "ssvr",
                &["g_t", "g_prev_t"],
                2,
            )
            .unwrap_err();
        assert!(e.to_string().contains("got [2, 2]"), "{e}");
    }

    #[test]
    fn npy_garbage_is_an_error() {
        assert!(parse_npy(b"not an npy file").is_err());
    }
}
