//! `grad`'s report: the closed forms of every gradient, the introduced names they use,
//! and at a point their values and the finite-difference check.

use std::collections::HashMap;
use std::fmt::Write;

use indexmap::IndexMap;
use serde::Serialize;

use super::values::show;
use super::{readings, shape_of, At, Extent, Forms, Reading, Tensor};
use crate::eval::evaluate;
use crate::gradient::LAYOUT;
use crate::print::{latex_name, unicode_name};
use crate::{Array, Error, Gradient, Point};

/// The gradients of a program's output.
#[derive(Debug, Clone, Serialize)]
pub struct GradReport {
    pub output: String,
    /// The output's own expression.
    #[serde(skip)]
    pub expression: Forms,
    pub inputs: IndexMap<String, Reading>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Tensor>,
    pub wrt: Vec<String>,
    pub layout: &'static str,
    pub gradients: IndexMap<String, GradientEntry>,
    /// Introduced names for repeated subexpressions, in definition order.
    pub definitions: IndexMap<String, Forms>,
    #[serde(flatten)]
    pub at: Option<At>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// `# inputs …` lines, for text.
    #[serde(skip)]
    pub inputs_header: String,
    /// Whether simplification stopped at its budget: the closed forms are then correct but
    /// may be longer than they would be.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub simplification_stopped: bool,
}

/// One gradient: its shape (the variable's), closed form and value.
#[derive(Debug, Clone, Serialize)]
pub struct GradientEntry {
    pub shape: Vec<Extent>,
    #[serde(flatten)]
    pub forms: Forms,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Tensor>,
    /// The simplification rules that shaped the closed form, each with its identity: why it
    /// reads as it does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleUse>,
}

/// A simplification rule, by name and identity.
#[derive(Debug, Clone, Serialize)]
pub struct RuleUse {
    pub name: &'static str,
    pub identity: &'static str,
}

/// The finite-difference check: the largest relative error per variable, and the tolerance
/// they must meet.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub tolerance: f64,
    pub passed: bool,
    /// A non-finite error (a value undefined at the point) is a string, as for arrays.
    #[serde(serialize_with = "crate::array::serialize_numbers")]
    pub errors: IndexMap<String, f64>,
}

impl Gradient {
    /// The report: closed forms always; with a point, the values there; with a tolerance
    /// as well, the check against finite differences.
    pub fn report(&self, point: Option<&Point>, tolerance: Option<f64>) -> Result<GradReport, Error> {
        if let Some(tolerance) = tolerance.filter(|t| !(*t > 0.0 && t.is_finite())) {
            return Err(Error::request(format!("the tolerance {tolerance} is not a positive number"))
                .with_hint("a tolerance is a largest relative error, such as 1e-6"));
        }
        let program = &self.program;
        let output = program.output_statement();
        let values = match point {
            Some(point) => Some(self.values(point)?),
            None => None,
        };
        let value = |id, axes| values.as_ref().map(|v: &HashMap<_, Array>| Tensor::of(&v[&id], axes));
        let sizes = point.map(|p| &p.sizes);
        let gradients = self
            .wrt
            .iter()
            .map(|w| {
                let shape = shape_of(program, w.node, sizes);
                let entry = GradientEntry {
                    value: value(w.gradient, shape.len()),
                    shape,
                    forms: Forms::of(|notation| self.closed_form(w, notation)),
                    rules: crate::simplify::rules_behind(&program.graph, w.gradient)
                        .into_iter()
                        .map(|rule| RuleUse { name: rule.name, identity: rule.identity })
                        .collect(),
                };
                (w.name.clone(), entry)
            })
            .collect();
        let definitions =
            self.definitions.iter().map(|(id, name)| (name.clone(), Forms::of(|n| self.expression(*id, n)))).collect();
        let check = match (point, tolerance) {
            (Some(point), Some(tolerance)) => {
                let errors: IndexMap<String, f64> = self.check(&point.sizes, &point.inputs)?.into_iter().collect();
                let passed = errors.values().all(|&e| e <= tolerance);
                Some(Check { tolerance, passed, errors })
            }
            _ => None,
        };
        Ok(GradReport {
            output: output.name.clone(),
            expression: Forms::of(|notation| self.expression(output.node, notation)),
            inputs: readings(program),
            value: value(output.node, 0),
            wrt: self.wrt.iter().map(|w| w.name.clone()).collect(),
            layout: LAYOUT,
            gradients,
            definitions,
            at: point.map(At::of),
            check,
            inputs_header: program.inputs_header(),
            simplification_stopped: program.graph.simplifier.exhausted(),
        })
    }

    /// The output, every gradient and every definition, evaluated at `point`.
    fn values(&self, point: &Point) -> Result<HashMap<crate::ir::NodeId, Array>, Error> {
        let mut nodes = vec![self.program.output_node()];
        nodes.extend(self.wrt.iter().map(|w| w.gradient));
        nodes.extend(self.definitions.iter().map(|(id, _)| *id));
        let values = evaluate(&self.program.graph, &point.sizes, &point.inputs, &nodes)?;
        Ok(nodes.into_iter().zip(values).collect())
    }
}

impl Check {
    /// `# finite-difference check: largest relative error per {what}, tolerance …)` and a
    /// line per entry, ✓ or ✗.
    pub(crate) fn write(&self, out: &mut String, what: &str) {
        let _ = writeln!(
            out,
            "\n# finite-difference check: largest relative error per {what}, tolerance {:e})",
            self.tolerance
        );
        for (name, error) in &self.errors {
            // Named as the closed forms name them (`λ`, `W₁`; a block `x|W₁`); the JSON keeps
            // the names `--wrt` takes.
            let shown: Vec<String> = name.split('|').map(crate::print::unicode_name).collect();
            let mark = if *error <= self.tolerance { "✓" } else { "✗" };
            let _ = writeln!(out, "{mark} {}: {error:.1e}", shown.join("|"));
        }
    }
}

impl GradReport {
    fn partial(&self, name: &str) -> String {
        format!("∂{}/∂{}", unicode_name(&self.output), unicode_name(name))
    }

    /// For a terminal: the closed forms in Unicode, then the values and the check.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# gradients of {} = {}", unicode_name(&self.output), self.expression.expr);
        out.push_str(&self.inputs_header);
        let _ = writeln!(out, "# layout: {}", self.layout.replace('L', &unicode_name(&self.output)));
        out.push('\n');
        for (name, gradient) in &self.gradients {
            let _ = writeln!(out, "{} = {}", self.partial(name), gradient.forms.expr);
        }
        super::write_definitions(&mut out, &self.definitions);
        let (Some(at), Some(value)) = (&self.at, &self.value) else { return out };
        out.push('\n');
        out.push_str(&at.header);
        let _ = writeln!(out, "{}", show(&self.output, &value.matrix(1)));
        for (name, gradient) in &self.gradients {
            if let Some(value) = &gradient.value {
                let _ = writeln!(out, "{}", show(&self.partial(name), &value.matrix(1)));
            }
        }
        if let Some(check) = &self.check {
            check.write(&mut out, "variable (central differences");
        }
        out
    }

    /// The closed forms as a LaTeX `aligned` block.
    pub fn latex(&self) -> String {
        let l = latex_name(&self.output);
        let mut out = format!("% layout: {}\n\\begin{{aligned}}\n", self.layout);
        for (name, gradient) in &self.gradients {
            let _ = writeln!(
                out,
                "\\frac{{\\partial {l}}}{{\\partial {}}} &= {} \\\\",
                latex_name(name),
                gradient.forms.latex
            );
        }
        if !self.definitions.is_empty() {
            out.push_str("&\\text{where} \\\\\n");
            for (name, forms) in &self.definitions {
                let _ = writeln!(out, "{} &= {} \\\\", latex_name(name), forms.latex);
            }
        }
        out.push_str("\\end{aligned}\n");
        out
    }
}
