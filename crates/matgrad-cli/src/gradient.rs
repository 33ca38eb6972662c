//! What `grad` prints: closed forms (Unicode text, LaTeX, JSON), values and the check.

use std::collections::HashMap;
use std::fmt::Write;

use matgrad::eval::evaluate;
use matgrad::gradient::{Gradient, LAYOUT};
use matgrad::ir::NodeId;
use matgrad::print::{inputs_header, latex_name, unicode_name, Notation};
use matgrad::Array;
use serde_json::{json, Map, Value};

use crate::output::{array_json, show};
use crate::Failure;
use matgrad::Point;

/// The check's largest relative error per variable, and the tolerance they must meet.
pub struct Checked {
    pub errors: Vec<(String, f64)>,
    pub tolerance: f64,
}

impl Checked {
    pub fn passed(&self) -> bool {
        self.errors.iter().all(|&(_, error)| error <= self.tolerance)
    }
}

/// The values, and the check when asked for.
pub type Numbers = (Point, HashMap<NodeId, Array>, Option<Checked>);

/// The output, every gradient and every definition, evaluated at `point`.
pub fn values(gradient: &Gradient, point: &Point) -> Result<HashMap<NodeId, Array>, Failure> {
    let mut nodes = vec![gradient.program.output_node()];
    nodes.extend(gradient.wrt.iter().map(|w| w.gradient));
    nodes.extend(gradient.definitions.iter().map(|(id, _)| *id));
    let values = evaluate(&gradient.program.graph, &point.sizes, &point.inputs, &nodes)?;
    Ok(nodes.into_iter().zip(values).collect())
}

pub fn check(gradient: &Gradient, point: &Point) -> Result<Vec<(String, f64)>, Failure> {
    Ok(gradient.check(&point.sizes, &point.inputs)?)
}

fn partial(gradient: &Gradient, name: &str) -> String {
    format!("∂{}/∂{}", unicode_name(gradient.output_name()), unicode_name(name))
}

pub fn text(gradient: &Gradient, numbers: Option<&Numbers>) -> String {
    let program = &gradient.program;
    let output = program.output_statement();
    let mut out = String::new();
    let definition = gradient.expression(output.node, Notation::Unicode);
    let _ = writeln!(out, "# gradients of {} = {definition}", unicode_name(&output.name));
    out.push_str(&inputs_header(program));
    let _ = writeln!(out, "# layout: {}", LAYOUT.replace('L', &unicode_name(&output.name)));
    out.push('\n');
    for wrt in &gradient.wrt {
        let _ = writeln!(out, "{} = {}", partial(gradient, &wrt.name), gradient.closed_form(wrt, Notation::Unicode));
    }
    if !gradient.definitions.is_empty() {
        out.push_str("\nwhere\n");
        for (id, name) in &gradient.definitions {
            let _ = writeln!(out, "  {} = {}", unicode_name(name), gradient.expression(*id, Notation::Unicode));
        }
    }
    let Some((point, values, errors)) = numbers else { return out };
    out.push('\n');
    out.push_str(&point.header());
    let _ = writeln!(out, "{}", show(&output.name, &values[&output.node]));
    for wrt in &gradient.wrt {
        let _ = writeln!(out, "{}", show(&partial(gradient, &wrt.name), &values[&wrt.gradient]));
    }
    if let Some(checked) = errors {
        let _ = writeln!(
            out,
            "\n# finite-difference check: largest relative error per variable (central differences, tolerance {:e})",
            checked.tolerance
        );
        for (name, error) in &checked.errors {
            let _ = writeln!(out, "{} {name}: {error:.1e}", if *error <= checked.tolerance { "✓" } else { "✗" });
        }
    }
    out
}

pub fn latex(gradient: &Gradient) -> String {
    let output = gradient.program.output_statement();
    let l = latex_name(&output.name);
    let mut out = format!("% layout: {}\n\\begin{{aligned}}\n", LAYOUT);
    for wrt in &gradient.wrt {
        let _ = writeln!(
            out,
            "\\frac{{\\partial {l}}}{{\\partial {}}} &= {} \\\\",
            latex_name(&wrt.name),
            gradient.closed_form(wrt, Notation::Latex)
        );
    }
    if !gradient.definitions.is_empty() {
        out.push_str("&\\text{where} \\\\\n");
        for (id, name) in &gradient.definitions {
            let _ = writeln!(out, "{} &= {} \\\\", latex_name(name), gradient.expression(*id, Notation::Latex));
        }
    }
    out.push_str("\\end{aligned}\n");
    out
}

pub fn json(gradient: &Gradient, numbers: Option<&Numbers>) -> String {
    let program = &gradient.program;
    let graph = &program.graph;
    let shape = |id: NodeId| -> Value {
        let s = graph.shape(id);
        match numbers.and_then(|(point, _, _)| point.sizes.shape(graph, s)) {
            // As NumPy gives it: () for a scalar, (n,) for a vector, (m, n) for a matrix.
            Some(_) if graph.dims.is_scalar(s) => json!([]),
            Some((rows, _)) if graph.dims.is_vector(s) => json!([rows]),
            Some((rows, cols)) => json!([rows, cols]),
            None if graph.dims.is_scalar(s) => json!([]),
            None if graph.dims.is_vector(s) => json!([graph.dims.show(s.rows)]),
            None => json!([graph.dims.show(s.rows), graph.dims.show(s.cols)]),
        }
    };
    let value = |id: NodeId| numbers.map(|(_, values, _)| array_json(&values[&id]));
    let mut gradients = Map::new();
    for wrt in &gradient.wrt {
        let mut entry = Map::new();
        entry.insert("shape".into(), shape(wrt.node));
        entry.insert("expr".into(), json!(gradient.closed_form(wrt, Notation::Unicode)));
        entry.insert("latex".into(), json!(gradient.closed_form(wrt, Notation::Latex)));
        entry.insert("ascii".into(), json!(gradient.closed_form(wrt, Notation::Ascii)));
        if let Some(v) = value(wrt.gradient) {
            entry.insert("value".into(), v);
        }
        gradients.insert(wrt.name.clone(), Value::Object(entry));
    }
    let mut definitions = Map::new();
    for (id, name) in &gradient.definitions {
        let mut entry = Map::new();
        entry.insert("expr".into(), json!(gradient.expression(*id, Notation::Unicode)));
        entry.insert("latex".into(), json!(gradient.expression(*id, Notation::Latex)));
        entry.insert("ascii".into(), json!(gradient.expression(*id, Notation::Ascii)));
        definitions.insert(name.clone(), Value::Object(entry));
    }
    let mut document = Map::new();
    document.insert("output".into(), json!(program.output_statement().name));
    document.insert("inputs".into(), crate::output::inputs_json(program));
    if let Some(v) = value(program.output_node()) {
        document.insert("value".into(), v);
    }
    document.insert("wrt".into(), json!(gradient.wrt.iter().map(|w| &w.name).collect::<Vec<_>>()));
    document.insert("layout".into(), json!(LAYOUT));
    document.insert("gradients".into(), Value::Object(gradients));
    document.insert("definitions".into(), Value::Object(definitions));
    if let Some((point, _, errors)) = numbers {
        let sizes: Map<String, Value> = point.sizes.iter().map(|(n, s)| (n.to_string(), json!(s))).collect();
        document.insert("sizes".into(), Value::Object(sizes));
        document.insert("random_inputs".into(), json!(point.random));
        document.insert("seed".into(), json!(point.seed));
        if let Some(checked) = errors {
            let errors: Map<String, Value> = checked.errors.iter().map(|(n, e)| (n.clone(), json!(e))).collect();
            document.insert(
                "check".into(),
                json!({"tolerance": checked.tolerance, "passed": checked.passed(), "errors": errors}),
            );
        }
    }
    format!("{}\n", serde_json::to_string_pretty(&Value::Object(document)).unwrap_or_default())
}
