//! Dense `f64` arrays as matgrad's API hands them in and out (column-major, like the
//! kernels), independent of the linear-algebra crate used inside `eval`.

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
