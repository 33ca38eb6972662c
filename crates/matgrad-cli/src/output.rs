//! What the commands print: text for people, JSON for tools.

use std::collections::HashMap;
use std::fmt::Write;

use matgrad::ir::NodeId;
use matgrad::{Array, Program};
use serde_json::{json, Map, Value};

use matgrad::Point;

/// `eval` as text: the sizes and random inputs used, then every statement's value.
pub fn eval_text(program: &Program, point: &Point, values: &HashMap<NodeId, Array>) -> String {
    let mut out = point.header();
    for statement in &program.statements {
        let _ = writeln!(out, "{}", show(&statement.name, &values[&statement.node]));
    }
    out
}

/// The sizes and random inputs a result was computed with.
/// `name = value`, with a matrix on following lines; large arrays are shown in part.
pub fn show(name: &str, array: &Array) -> String {
    const MAX: usize = 8;
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
        format!("  # {}×{}, first {MAX}×{MAX} shown; --format json has every entry", array.rows, array.cols)
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

/// `eval --format json`: `{"output": "L", "values": {"L": 12.5, "y": [...]}, "inputs": {...}}`.
pub fn eval_json(program: &Program, point: &Point, values: &HashMap<NodeId, Array>) -> String {
    let mut statements = Map::new();
    for statement in &program.statements {
        statements.insert(statement.name.clone(), array_json(&values[&statement.node]));
    }
    let mut inputs = Map::new();
    for input in &program.inputs {
        inputs.insert(input.name.clone(), array_json(&values[&input.node]));
    }
    let sizes: Map<String, Value> = point.sizes.iter().map(|(name, size)| (name.to_string(), json!(size))).collect();
    let document = json!({
        "output": program.output_statement().name,
        "values": statements,
        "inputs": inputs,
        "reading": inputs_json(program),
        "sizes": sizes,
        "random_inputs": point.random,
        "seed": point.seed,
    });
    format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())
}

/// A scalar as a number, a vector as a list, a matrix as a list of rows. Non-finite values
/// become null, as JSON has no NaN.
pub fn array_json(array: &Array) -> Value {
    let number = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    if array.is_scalar() {
        number(array.data[0])
    } else if array.cols == 1 {
        Value::Array(array.data.iter().map(|&v| number(v)).collect())
    } else {
        Value::Array(
            array.to_rows().into_iter().map(|row| Value::Array(row.into_iter().map(number).collect())).collect(),
        )
    }
}

/// How each input was read: `{"b": {"shape": ["n"], "from": "use"}}`, shapes symbolic.
pub fn inputs_json(program: &Program) -> Value {
    let graph = &program.graph;
    let dim = |d| match graph.dims.resolve(d) {
        matgrad::ir::Dim::Number(n) => json!(n),
        _ => json!(graph.dims.show(d)),
    };
    let inputs: Map<String, Value> = program
        .inputs
        .iter()
        .map(|v| {
            let s = graph.shape(v.node);
            let shape = if graph.dims.is_scalar(s) {
                json!([])
            } else if graph.dims.is_vector(s) {
                json!([dim(s.rows)])
            } else {
                json!([dim(s.rows), dim(s.cols)])
            };
            (v.name.clone(), json!({"shape": shape, "from": v.origin.as_str()}))
        })
        .collect();
    Value::Object(inputs)
}
