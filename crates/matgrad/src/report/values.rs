//! `eval`'s report, and how a value is written for a person.

use std::fmt::Write;

use indexmap::IndexMap;
use serde::Serialize;

use super::{readings, shape_of, At, Reading, Tensor};
use crate::eval::evaluate;
use crate::{Array, Error, Point, Program};

/// Every statement's value at a point, and the inputs it was computed from.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub output: String,
    /// Each statement's value, by name.
    pub values: IndexMap<String, Tensor>,
    /// Each input's value.
    pub inputs: IndexMap<String, Tensor>,
    /// How each input was read.
    pub reading: IndexMap<String, Reading>,
    #[serde(flatten)]
    pub at: At,
}

impl Program {
    /// Every statement's value at `point`.
    pub fn evaluate(&self, point: &Point) -> Result<EvalReport, Error> {
        let mut wanted: Vec<_> = self.statements.iter().map(|s| s.node).collect();
        wanted.extend(self.inputs.iter().map(|v| v.node));
        let mut values = evaluate(&self.graph, &point.sizes, &point.inputs, &wanted)?.into_iter();
        let mut entry = |name: &str, node| {
            let value = values.next().expect("one value per node");
            (name.to_string(), Tensor::of(&value, shape_of(self, node, None).len()))
        };
        let statements = self.statements.iter().map(|s| entry(&s.name, s.node)).collect();
        let inputs = self.inputs.iter().map(|v| entry(&v.name, v.node)).collect();
        Ok(EvalReport {
            output: self.output_statement().name.clone(),
            values: statements,
            inputs,
            reading: readings(self),
            at: At::of(point),
        })
    }
}

impl EvalReport {
    /// For a terminal: where it was evaluated, then every statement's value.
    pub fn text(&self) -> String {
        let mut out = self.at.header.clone();
        for (name, value) in &self.values {
            let _ = writeln!(out, "{}", show(name, &value.matrix(1)));
        }
        out
    }
}

/// `name = value`, with a matrix on following lines; large arrays are shown in part.
pub fn show(name: &str, array: &Array) -> String {
    const MAX: usize = 8;
    if array.data.len() != array.rows * array.cols {
        return format!("{name} = (a {}×{} array holding {} entries)", array.rows, array.cols, array.data.len());
    }
    if array.is_scalar() {
        return format!("{name} = {}", number(array.data[0]));
    }
    let shown_cols = array.cols.min(MAX);
    let cells: Vec<Vec<String>> =
        (0..array.rows.min(MAX)).map(|i| (0..shown_cols).map(|j| number(array.get(i, j))).collect()).collect();
    let width = cells.iter().flatten().map(|c| c.chars().count()).max().unwrap_or(1);
    let row = |i: usize| {
        let mut line: Vec<String> = cells[i].iter().map(|c| format!("{c:>width$}")).collect();
        if array.cols > MAX {
            line.push("…".to_string());
        }
        line.join("  ")
    };
    let more = if array.rows > MAX || array.cols > MAX {
        format!("  # {}×{}, first {MAX}×{MAX} shown; the JSON report has every entry", array.rows, array.cols)
    } else {
        String::new()
    };
    if array.cols == 1 {
        let mut cells: Vec<String> = (0..array.rows.min(MAX)).map(|i| number(array.get(i, 0))).collect();
        if array.rows > MAX {
            cells.push(format!("… ({} entries)", array.rows));
        }
        return format!("{name} = [{}]", cells.join(", "));
    }
    let mut text = format!("{name} ={more}\n");
    for i in 0..array.rows.min(MAX) {
        let _ = writeln!(text, "  [ {} ]", row(i));
    }
    if array.rows > MAX {
        text.push_str("  …\n");
    }
    text.trim_end().to_string()
}

/// Six significant digits, as people read them.
fn number(value: f64) -> String {
    if value == 0.0 || (1e-4..1e6).contains(&value.abs()) {
        let text = format!("{value:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text == "-0" {
            "0".to_string()
        } else {
            text.to_string()
        }
    } else {
        format!("{value:.5e}")
    }
}
