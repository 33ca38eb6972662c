//! Dense `f64` arrays as matgrad's API hands them in and out (column-major, like the
//! kernels), independent of the linear-algebra crate used inside `eval`.
//!
//! In JSON (serde) an array is what NumPy's `tolist()` gives: a scalar is a number, a
//! vector (one column) a list of numbers, a matrix a list of rows. JSON has no NaN or
//! infinity, so a non-finite entry is written as the string `"NaN"`, `"Infinity"` or
//! `"-Infinity"` (what JavaScript's `Number()` reads), and read back the same way.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A `rows × cols` array; vectors are `n × 1`, scalars `1 × 1`. Stored column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Array {
    pub fn zeros(rows: usize, cols: usize) -> Array {
        Array { rows, cols, data: vec![0.0; rows * cols] }
    }

    pub fn scalar(value: f64) -> Array {
        Array { rows: 1, cols: 1, data: vec![value] }
    }

    pub fn vector(values: Vec<f64>) -> Array {
        Array { rows: values.len(), cols: 1, data: values }
    }

    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Array {
        let mut data = Vec::with_capacity(rows * cols);
        for j in 0..cols {
            for i in 0..rows {
                data.push(f(i, j));
            }
        }
        Array { rows, cols, data }
    }

    /// From `rows × cols` entries listed row after row (C order, NumPy's default).
    pub fn from_row_major(rows: usize, cols: usize, data: &[f64]) -> Option<Array> {
        (data.len() == rows * cols).then(|| Array::from_fn(rows, cols, |i, j| data[i * cols + j]))
    }

    /// From `rows × cols` entries listed column after column (Fortran order, as stored).
    pub fn from_column_major(rows: usize, cols: usize, data: Vec<f64>) -> Option<Array> {
        (data.len() == rows * cols).then_some(Array { rows, cols, data })
    }

    /// From a list of rows, all of one length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Option<Array> {
        let cols = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != cols) {
            return None;
        }
        Some(Array::from_fn(rows.len(), cols, |i, j| rows[i][j]))
    }

    pub fn get(&self, row: usize, col: usize) -> f64 {
        self.data[col * self.rows + row]
    }

    pub fn set(&mut self, row: usize, col: usize, value: f64) {
        self.data[col * self.rows + row] = value;
    }

    pub fn to_rows(&self) -> Vec<Vec<f64>> {
        (0..self.rows).map(|i| (0..self.cols).map(|j| self.get(i, j)).collect()).collect()
    }

    pub fn is_scalar(&self) -> bool {
        self.rows == 1 && self.cols == 1
    }

    /// The largest absolute entry (0 for an empty array).
    pub fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    /// The Frobenius norm.
    pub fn norm(&self) -> f64 {
        self.data.iter().map(|v| v * v).sum::<f64>().sqrt()
    }
}

impl Serialize for Array {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Array {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Array, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Array::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl Array {
    /// The array as JSON: a number, a list, or a list of rows.
    pub fn to_json(&self) -> Value {
        if self.is_scalar() {
            number(self.data[0])
        } else if self.cols == 1 {
            Value::Array(self.data.iter().map(|&v| number(v)).collect())
        } else {
            Value::Array(
                self.to_rows().into_iter().map(|row| Value::Array(row.into_iter().map(number).collect())).collect(),
            )
        }
    }

    /// An array from JSON: a number, a non-empty list of numbers, or a non-empty list of
    /// rows of one length; the error says what is wrong, for a person.
    pub fn from_json(value: &Value) -> Result<Array, String> {
        let number = |v: &Value| match v {
            Value::String(s) if s == "NaN" => Ok(f64::NAN),
            Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
            Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => v.as_f64().ok_or_else(|| format!("expected a number, found {v}")),
        };
        let is_number = |v: &Value| v.is_number() || number(v).is_ok();
        match value {
            Value::Number(_) | Value::String(_) => Ok(Array::scalar(number(value)?)),
            Value::Array(items) if items.is_empty() => Err("an empty list is not an array".to_string()),
            Value::Array(items) if items.iter().all(is_number) => {
                Ok(Array::vector(items.iter().map(number).collect::<Result<_, _>>()?))
            }
            Value::Array(rows) if rows.iter().all(Value::is_array) => {
                let rows: Vec<Vec<f64>> = rows
                    .iter()
                    .map(|row| row.as_array().into_iter().flatten().map(number).collect::<Result<_, _>>())
                    .collect::<Result<_, _>>()?;
                if rows[0].is_empty() {
                    return Err("a matrix needs at least one column".to_string());
                }
                Array::from_rows(&rows).ok_or_else(|| "the rows of a matrix must all have the same length".to_string())
            }
            other => Err(format!("expected a number or a list, found {other}")),
        }
    }
}

/// A number as JSON: itself, or for a non-finite one the string JavaScript reads as it.
pub(crate) fn number(value: f64) -> Value {
    match serde_json::Number::from_f64(value) {
        Some(n) => Value::Number(n),
        None if value.is_nan() => Value::String("NaN".into()),
        None if value > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

/// Serialises a map of numbers as [`number`] writes each.
pub(crate) fn serialize_numbers<S: Serializer>(
    values: &indexmap::IndexMap<String, f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(values.len()))?;
    for (name, &value) in values {
        map.serialize_entry(name, &number(value))?;
    }
    map.end()
}
