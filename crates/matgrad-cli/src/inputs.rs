//! Input values for `eval` and `grad`: JSON, `.npy` and `.npz` files, and random draws for
//! whatever the user did not give.
//!
//! Random inputs are standard normal, N(0, 1), independently per entry, from ChaCha8 seeded
//! with `--seed` (default 0), drawn in the program's input order, so a run is reproducible
//! on any machine.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use matgrad::Array;

use crate::Failure;

/// Reads every `--inputs` argument: `values.json`, `arrays.npz`, or `NAME=array.npy`.
pub fn load(arguments: &[String]) -> Result<HashMap<String, Array>, Failure> {
    let mut values = HashMap::new();
    for argument in arguments {
        let loaded = match argument.split_once('=') {
            Some((name, path)) => vec![(name.trim().to_string(), read_npy_file(Path::new(path))?)],
            None if argument.ends_with(".npz") => read_npz(Path::new(argument))?,
            None if argument.ends_with(".npy") => {
                return Err(Failure::user(format!("`{argument}`: a .npy file holds one array without a name"))
                    .with_hint(format!("name it: --inputs A={argument}")))
            }
            None => read_json(Path::new(argument))?,
        };
        for (name, array) in loaded {
            if values.insert(name.clone(), array).is_some() {
                return Err(Failure::user(format!("input `{name}` is given twice")));
            }
        }
    }
    Ok(values)
}

fn read_json(path: &Path) -> Result<Vec<(String, Array)>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::io(path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::user(format!("{}: not valid JSON: {e}", path.display()))
            .with_hint(r#"inputs look like {"A": [[1, 2], [3, 4]], "x": [1, 2], "c": 0.5}"#)
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Failure::user(format!("{}: expected a JSON object of named inputs", path.display()))
            .with_hint(r#"inputs look like {"A": [[1, 2], [3, 4]], "x": [1, 2], "c": 0.5}"#));
    };
    map.into_iter()
        .map(|(name, value)| {
            let array = Array::from_json(&value).map_err(|problem| {
                Failure::user(format!("{}: input `{name}`: {problem}", path.display()))
                    .with_hint("a scalar is a number, a vector a list of numbers, a matrix a list of rows")
            })?;
            Ok((name, array))
        })
        .collect()
}

fn read_npy_file(path: &Path) -> Result<Array, Failure> {
    let file = File::open(path).map_err(|e| Failure::io(path, e))?;
    let npy = npyz::NpyFile::new(io::BufReader::new(file))
        .map_err(|e| Failure::user(format!("{}: not a .npy file: {e}", path.display())))?;
    npy_array(npy).map_err(|problem| Failure::user(format!("{}: {problem}", path.display())))
}

fn read_npz(path: &Path) -> Result<Vec<(String, Array)>, Failure> {
    let mut archive = npyz::npz::NpzArchive::open(path).map_err(|e| Failure::io(path, e))?;
    let names: Vec<String> = archive.array_names().map(str::to_string).collect();
    let mut arrays = Vec::new();
    for name in names {
        let npy = archive
            .by_name(&name)
            .map_err(|e| Failure::user(format!("{}: array `{name}`: {e}", path.display())))?
            .ok_or_else(|| Failure::internal(format!("{}: array `{name}` vanished", path.display())))?;
        let array = npy_array(npy).map_err(|p| Failure::user(format!("{}: array `{name}`: {p}", path.display())))?;
        arrays.push((name, array));
    }
    Ok(arrays)
}

/// A 0-, 1- or 2-dimensional array of floats or integers, as f64.
fn npy_array<R: Read>(npy: npyz::NpyFile<R>) -> Result<Array, String> {
    use npyz::{DType, TypeChar};
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let fortran = matches!(npy.order(), npyz::Order::Fortran);
    let DType::Plain(type_str) = npy.dtype() else {
        return Err("expected an array of numbers, not a structured array".to_string());
    };
    let error = |e: io::Error| e.to_string();
    let data: Vec<f64> = match (type_str.type_char(), type_str.num_bytes()) {
        (TypeChar::Float, Some(8)) => npy.into_vec::<f64>().map_err(error)?,
        (TypeChar::Float, Some(4)) => npy.into_vec::<f32>().map_err(error)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, Some(8)) => npy.into_vec::<i64>().map_err(error)?.into_iter().map(|v| v as f64).collect(),
        (TypeChar::Int, Some(4)) => npy.into_vec::<i32>().map_err(error)?.into_iter().map(f64::from).collect(),
        _ => return Err(format!("unsupported dtype `{type_str}`; use float64")),
    };
    match shape.as_slice() {
        [] => data.first().map(|&v| Array::scalar(v)).ok_or_else(|| "the array has no data".to_string()),
        [_] => Ok(Array::vector(data)),
        [rows, cols] if fortran => Ok(Array { rows: *rows, cols: *cols, data }),
        [rows, cols] => Ok(Array::from_fn(*rows, *cols, |i, j| data[i * cols + j])),
        more => Err(format!("expected at most 2 dimensions, found {}", more.len())),
    }
}
