//! Reports: what every front end shows, as plain data.
//!
//! Each question asked of a program (what it reads as, its values, its gradients, the
//! explanation, a page's claims) is answered here with a report — the closed forms in every
//! notation, the values, the inputs' shapes and where they came from, the check verdicts —
//! that serialises with serde. `--format json` is a report serialised
//! ([`to_json`]), and a server returns the same bytes; the text a terminal shows is
//! written from the same report (`text` methods), so no front end computes anything.

mod code;
mod explain;
mod grad;
pub(crate) mod jacobian;
mod values;
mod verify;

use indexmap::IndexMap;
use serde::Serialize;

use crate::eval::Sizes;
use crate::ir::{Dim, NodeId};
use crate::print::{describe_origin, inputs_header, print, Notation};
use crate::{Point, Program};

pub use code::CodeReport;
pub use explain::{ExplainReport, Explained, Section};
pub use grad::{Check, GradReport, GradientEntry, RuleUse};
pub use jacobian::{BlockEntry, Common, HessianReport, JacobianReport, Tensor, HESSIAN_LAYOUT, JACOBIAN_LAYOUT};
pub use values::{show, EvalReport};
pub use verify::VerifyReport;

/// An expression in every notation: Unicode (`expr`), LaTeX, re-parseable ASCII, and a
/// MathML `<math>` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forms {
    pub expr: String,
    pub latex: String,
    pub ascii: String,
    pub mathml: String,
}

impl Forms {
    /// `print(notation)` in each notation.
    pub(crate) fn of(print: impl Fn(Notation) -> String) -> Forms {
        Forms {
            expr: print(Notation::Unicode),
            latex: print(Notation::Latex),
            ascii: print(Notation::Ascii),
            mathml: format!("<math><mrow>{}</mrow></math>", print(Notation::MathMl)),
        }
    }
}

/// One axis of a shape: a size, or a dimension symbol where no size is bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Extent {
    Size(usize),
    Symbol(String),
}

/// A shape as NumPy gives it: `[]` for a scalar, `[n]` for a vector, `[m, n]` for a matrix;
/// sizes where `sizes` binds them, symbols otherwise.
pub(crate) fn shape_of(program: &Program, node: NodeId, sizes: Option<&Sizes>) -> Vec<Extent> {
    let graph = &program.graph;
    let shape = graph.shape(node);
    let extent = |dim: Dim| match (sizes.and_then(|s| s.dim(graph, dim)), graph.dims.resolve(dim)) {
        (Some(size), _) => Extent::Size(size),
        (None, Dim::Number(size)) => Extent::Size(size as usize),
        (None, _) => Extent::Symbol(graph.dims.show(dim)),
    };
    if graph.dims.is_scalar(shape) {
        Vec::new()
    } else if graph.dims.is_vector(shape) {
        vec![extent(shape.rows)]
    } else {
        vec![extent(shape.rows), extent(shape.cols)]
    }
}

/// How one input was read: its shape, and where its kind came from (`declared`, `use` or
/// `letter`), said for a person in `note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reading {
    pub shape: Vec<Extent>,
    pub from: &'static str,
    pub note: String,
}

/// Every input's reading, in the program's order (symbolic shapes).
pub(crate) fn readings(program: &Program) -> IndexMap<String, Reading> {
    program
        .inputs
        .iter()
        .map(|v| {
            let reading = Reading {
                shape: shape_of(program, v.node, None),
                from: v.origin.as_str(),
                note: describe_origin(program, v, v.origin),
            };
            (v.name.clone(), reading)
        })
        .collect()
}

/// Where values were computed: the sizes, the inputs drawn at random and the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct At {
    pub sizes: IndexMap<String, usize>,
    pub random_inputs: Vec<String>,
    pub seed: u64,
    /// `# sizes: …` and `# random inputs …`, for text.
    #[serde(skip)]
    pub header: String,
}

impl At {
    pub(crate) fn of(point: &Point) -> At {
        At {
            sizes: point.sizes.iter().map(|(name, size)| (name.to_string(), size)).collect(),
            random_inputs: point.random.clone(),
            seed: point.seed,
            header: point.header(),
        }
    }
}

/// `check`: what the program reads as.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub output: String,
    pub inputs: IndexMap<String, Reading>,
    pub statements: Vec<StatementEntry>,
    /// The canonical listing, itself a program (what `matgrad check` prints).
    pub listing: String,
}

/// One statement as read.
#[derive(Debug, Clone, Serialize)]
pub struct StatementEntry {
    pub name: String,
    pub shape: Vec<Extent>,
    #[serde(flatten)]
    pub forms: Forms,
    pub line: usize,
    pub column: usize,
    /// Whether the output depends on it (a pasted page's definitions for its derivation do
    /// not).
    pub in_model: bool,
}

impl Program {
    /// What the program reads as: its inputs, statements and output.
    pub fn check_report(&self) -> CheckReport {
        let graph = &self.graph;
        let namer = |id: NodeId| graph.name(id).map(str::to_string);
        let in_model = self.in_model();
        let statements = self
            .statements
            .iter()
            .zip(in_model)
            .map(|(s, in_model)| {
                let (line, column) = self.line_column(s.span.start);
                StatementEntry {
                    name: s.name.clone(),
                    shape: shape_of(self, s.node, None),
                    // A statement whose value an earlier one computed reads as that name.
                    forms: Forms::of(|notation| match graph.name(s.node) {
                        Some(name) if name != s.name => crate::print::show_name(name, notation),
                        _ => print(graph, s.node, notation, &namer),
                    }),
                    line,
                    column,
                    in_model,
                }
            })
            .collect();
        CheckReport {
            output: self.output_statement().name.clone(),
            inputs: readings(self),
            statements,
            listing: crate::print::listing(self, &self.source),
        }
    }

    /// `# inputs, declared: …` lines: how each input was read, for text reports.
    pub fn inputs_header(&self) -> String {
        inputs_header(self)
    }
}

/// `where` and a line per introduced name, for text reports.
pub(crate) fn write_definitions(out: &mut String, definitions: &IndexMap<String, Forms>) {
    if !definitions.is_empty() {
        out.push_str("\nwhere\n");
        for (name, forms) in definitions {
            out.push_str(&format!("  {} = {}\n", crate::print::unicode_name(name), forms.expr));
        }
    }
}

/// The size of an expression as written, in ASCII or Unicode (a closed form's
/// [`Forms::ascii`], or a formula to compare it with): the operations and leaves of its syntax
/// tree. Names count as leaves, so a form that uses an introduced name (`p`) is measured
/// without the name's definition. Fails on text that is not one expression.
pub fn size(text: &str) -> Result<usize, crate::Error> {
    crate::syntax::parse_expression(text).map(|expr| expr.size())
}

/// A report as pretty-printed JSON with a final newline: what `--format json` prints and
/// what a server sends.
pub fn to_json(report: &impl Serialize) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(text) => format!("{text}\n"),
        // Reports are maps, lists, strings and numbers; serialising them cannot fail.
        Err(error) => format!("{{\"error\": {{\"kind\": \"internal\", \"message\": \"{error}\"}}}}\n"),
    }
}
