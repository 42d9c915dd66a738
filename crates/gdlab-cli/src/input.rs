//! Reading numeric arrays from JSON (`[..]`, `[[..],..]`) or `.npy` (f64/f32, C or Fortran order).

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
}

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
    let num = |x: &serde_json::Value| x.as_f64().context("every element must be a number");
    match v {
        serde_json::Value::Array(items)
            if items.iter().all(serde_json::Value::is_array) && !items.is_empty() =>
        {
            let cols = items[0].as_array().map_or(0, Vec::len);
            let mut data = Vec::new();
            for (i, row) in items.iter().enumerate() {
                let row = row.as_array().context("rows must be arrays")?;
                if row.len() != cols {
                    bail!(
                        "ragged rows: row 0 has {cols} elements, row {i} has {}",
                        row.len()
                    );
                }
                for x in row {
                    data.push(num(x)?);
                }
            }
            Ok(Array {
                shape: vec![items.len(), cols],
                data,
                dtype: "json",
            })
        }
        serde_json::Value::Array(items) => Ok(Array {
            shape: vec![items.len()],
            data: items.iter().map(num).collect::<Result<_>>()?,
            dtype: "json",
        }),
        _ => bail!("expected a JSON array of numbers or of rows"),
    }
}

fn parse_npy(bytes: &[u8]) -> Result<Array> {
    let file = npyz::NpyFile::new(bytes)?;
    let shape: Vec<usize> = file
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).context("dimension too large"))
        .collect::<Result<_>>()?;
    if shape.len() > 2 {
        bail!("expected a 1-D or 2-D array, got shape {shape:?}");
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
    let data = if fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        (0..r * c).map(|k| data[(k % c) * r + k / c]).collect()
    } else {
        data
    };
    Ok(Array { shape, data, dtype })
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
    fn npy_garbage_is_an_error() {
        assert!(parse_npy(b"not an npy file").is_err());
    }
}
