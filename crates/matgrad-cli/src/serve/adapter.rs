//! TEMPORARY: a stand-in for `matgrad::api` (being written on main) with its contract's
//! names and shapes, built from the command's own printers, so that the server and the page
//! can be written and tested before it lands. Delete this file when merging main and use
//! `matgrad::api::{answer, Query, Question}` instead.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use matgrad::explain::{check, render, Format};
use matgrad::print::diagram::to_svg;
use matgrad::print::Notation;
use matgrad::program::line_column;
use matgrad::{Diagnostic, Program};
use serde_json::{json, Value};

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    pub source: String,
    pub of: Option<String>,
    pub wrt: Vec<String>,
    pub dims: BTreeMap<String, usize>,
    pub seed: u64,
    pub inputs: BTreeMap<String, Value>,
    pub check: bool,
    pub tol: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
pub enum Question {
    Check,
    Grad,
    Explain,
    Verify,
}

impl FromStr for Question {
    type Err = ();
    fn from_str(text: &str) -> Result<Question, ()> {
        match text {
            "check" => Ok(Question::Check),
            "grad" => Ok(Question::Grad),
            "explain" => Ok(Question::Explain),
            "verify" => Ok(Question::Verify),
            _ => Err(()),
        }
    }
}

pub struct Report(Value);

impl Report {
    pub fn to_json(&self) -> String {
        format!("{}\n", serde_json::to_string_pretty(&self.0).unwrap_or_default())
    }
}

pub struct Error {
    internal: bool,
    errors: Vec<Value>,
}

impl Error {
    pub fn is_internal(&self) -> bool {
        self.internal
    }

    pub fn to_json(&self) -> String {
        let document = json!({"error": self.errors[0], "errors": self.errors});
        format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())
    }

    fn placeless(kind: &str, message: String, hint: Option<String>) -> Error {
        let error = json!({"kind": kind, "message": message, "hint": hint, "label": null, "line": null,
            "column": null, "end_line": null, "end_column": null, "span": null, "rendered": null});
        Error { internal: false, errors: vec![error] }
    }

    fn diagnostic(diagnostic: &Diagnostic, source: &str) -> Error {
        let (line, column) = line_column(source, diagnostic.span.start);
        let (end_line, end_column) = line_column(source, diagnostic.span.end);
        let kind = match diagnostic.kind {
            matgrad::ErrorKind::Reading => "reading",
            matgrad::ErrorKind::Shape => "shape",
        };
        let error = json!({"kind": kind, "message": diagnostic.message, "hint": diagnostic.hint,
            "label": diagnostic.label, "line": line, "column": column, "end_line": end_line,
            "end_column": end_column, "span": {"start": diagnostic.span.start, "end": diagnostic.span.end},
            "rendered": diagnostic.render("<input>", source)});
        Error { internal: false, errors: vec![error] }
    }
}

impl From<matgrad::eval::InputError> for Error {
    fn from(error: matgrad::eval::InputError) -> Error {
        Error::placeless("input", error.message, error.hint)
    }
}

impl From<matgrad::gradient::GradientError> for Error {
    fn from(error: matgrad::gradient::GradientError) -> Error {
        Error::placeless("request", error.message, error.hint)
    }
}

pub fn answer(question: Question, query: &Query) -> Result<Report, Error> {
    if query.source.contains("PANIC-FOR-TEST") {
        panic!("a planted panic");
    }
    let source = &query.source;
    let mut program = Program::parse(source).map_err(|d| Error::diagnostic(&d, source))?;
    if let Some(of) = &query.of {
        program.set_output(of).map_err(|m| Error::placeless("request", m, None))?;
    }
    let wrt: Vec<&str> = query.wrt.iter().map(String::as_str).collect();
    let dims: Vec<(String, usize)> = query.dims.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let mut inputs = HashMap::new();
    for (name, value) in &query.inputs {
        let array = crate::inputs::json_array(value)
            .map_err(|m| Error::placeless("input", format!("input `{name}`: {m}"), None))?;
        inputs.insert(name.clone(), array);
    }
    let report = match question {
        Question::Check => check_report(&program),
        Question::Grad => {
            let gradient = program.gradient(&wrt)?;
            let point = gradient.program.point(&dims, inputs, query.seed)?;
            let values = crate::gradient::values(&gradient, &point).map_err(failure)?;
            let errors = if query.check {
                Some(crate::gradient::Checked {
                    errors: gradient.check(&point.sizes, &point.inputs)?,
                    tolerance: query.tol.unwrap_or(1e-6),
                })
            } else {
                None
            };
            let mut value: Value =
                serde_json::from_str(&crate::gradient::json(&gradient, Some(&(point, values, errors)))).unwrap();
            for wrt in &gradient.wrt {
                let mathml = math(&gradient.closed_form(wrt, Notation::MathMl));
                value["gradients"][&wrt.name]["mathml"] = json!(mathml);
            }
            for (id, name) in &gradient.definitions {
                value["definitions"][name]["mathml"] = json!(math(&gradient.expression(*id, Notation::MathMl)));
            }
            value
        }
        Question::Explain => {
            let explanation = program.explain(&wrt)?;
            let point = explanation.gradient.program.point(&dims, inputs, query.seed)?;
            let checked = check(&explanation, &point.sizes, &point.inputs)?;
            let failures = checked.failures(&explanation);
            let svg = to_svg(&matgrad::explain::diagram(&explanation, &checked));
            let html = render(&explanation, Format::Html, Some(&checked), Some(&svg));
            let body = html.split("<body>").nth(1).unwrap_or("").split("</body>").next().unwrap_or("");
            let sections: Vec<Value> = body
                .split("<h2>")
                .skip(1)
                .map(|part| {
                    let (title, html) = part.split_once("</h2>").unwrap_or((part, ""));
                    let title = title.split_once(". ").map_or(title, |(_, t)| t);
                    json!({"title": title, "html": html})
                })
                .collect();
            json!({"output": explanation.gradient.program.output_statement().name,
                "inputs": crate::output::inputs_json(&explanation.gradient.program),
                "wrt": explanation.gradient.wrt.iter().map(|w| &w.name).collect::<Vec<_>>(),
                "seed": point.seed, "random_inputs": point.random,
                "passed": failures.is_empty(), "failures": failures, "svg": svg, "sections": sections,
                "text": render(&explanation, Format::Text, Some(&checked), None)})
        }
        Question::Verify => {
            let point = program.point(&dims, inputs, query.seed)?;
            let verification = program.verify(&point.sizes, &point.inputs)?;
            let mut value: Value = serde_json::from_str(&crate::verify::json(&verification)).unwrap();
            let count = |v: &str| verification.claims.iter().filter(|c| c.verdict.as_str() == v).count();
            value["summary"] =
                json!(format!("{} hold, {} fail, {} unchecked", count("holds"), count("fails"), count("unchecked")));
            value["html"] = json!(matgrad::verify::render(&verification, Format::Html, ""));
            value
        }
    };
    Ok(Report(report))
}

fn failure(_: crate::Failure) -> Error {
    Error { internal: true, errors: vec![json!({"kind": "internal", "message": "internal"})] }
}

fn math(inner: &str) -> String {
    format!("<math display=\"block\"><mrow>{inner}</mrow></math>")
}

fn check_report(program: &Program) -> Value {
    let graph = &program.graph;
    let namer = |id| graph.name(id).map(str::to_string);
    let in_model = program.in_model();
    let statements: Vec<Value> = program
        .statements
        .iter()
        .zip(&in_model)
        .map(|(s, used)| {
            let (line, column) = line_column(&program.source, s.span.start);
            let print = |n| matgrad::print::print(graph, s.node, n, &namer);
            json!({"name": s.name, "shape": graph.dims.show_type(graph.shape(s.node)), "expr": print(Notation::Unicode),
                "latex": print(Notation::Latex), "ascii": print(Notation::Ascii),
                "mathml": math(&format!("{}<mo>=</mo>{}", matgrad::print::mathml_name(&s.name), print(Notation::MathMl))),
                "line": line, "column": column, "in_model": used})
        })
        .collect();
    let mut inputs = crate::output::inputs_json(program);
    if let Value::Object(map) = &mut inputs {
        for variable in &program.inputs {
            if let Some(Value::Object(entry)) = map.get_mut(&variable.name) {
                let note = format!("{} (stand-in note)", variable.origin.as_str());
                entry.insert("note".into(), json!(note));
            }
        }
    }
    json!({"output": program.output_statement().name, "inputs": inputs, "statements": statements,
        "listing": matgrad::print::listing(program, &program.source)})
}
