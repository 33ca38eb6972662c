//! `explain`'s report: the explanation checked at a point, in each of its forms.

use indexmap::IndexMap;
use serde::Serialize;

use super::{readings, At, Reading};
use crate::explain::{check, diagram, render, sections, Checked, Explanation, Format};
use crate::print::diagram::{to_dot, to_svg};
use crate::{Error, Point};

/// An explanation with every step checked at a point; ask it for the form to show.
#[derive(Debug, Clone)]
pub struct Explained {
    explanation: Explanation,
    checked: Checked,
    at: At,
}

/// The explanation as data: its views as HTML fragments and its graph as SVG, the text a
/// terminal shows, and which steps failed their check.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainReport {
    pub output: String,
    pub inputs: IndexMap<String, Reading>,
    pub wrt: Vec<String>,
    #[serde(flatten)]
    pub at: At,
    /// Whether every step agrees with what it must equal.
    pub passed: bool,
    /// The steps that do not, named for a person ("the adjoint of y", "dz").
    pub failures: Vec<String>,
    pub svg: String,
    pub sections: Vec<Section>,
    pub text: String,
}

/// One view of the explanation: a title and an HTML fragment (MathML for the math).
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub html: String,
}

impl Explanation {
    /// Every step evaluated at `point`.
    pub fn at(self, point: &Point) -> Result<Explained, Error> {
        let checked = check(&self, &point.sizes, &point.inputs)?;
        Ok(Explained { explanation: self, checked, at: At::of(point) })
    }
}

impl Explained {
    /// The steps that failed their check, named for a person; empty when all agree.
    pub fn failures(&self) -> Vec<String> {
        self.checked.failures(&self.explanation)
    }

    /// For a terminal: how the inputs were read, the point, then the explanation.
    pub fn text(&self) -> String {
        let program = &self.explanation.gradient.program;
        let body = render(&self.explanation, Format::Text, Some(&self.checked), None);
        format!("{}{}{body}", program.inputs_header(), self.at.header)
    }

    /// Markdown with `$$` LaTeX.
    pub fn markdown(&self) -> String {
        render(&self.explanation, Format::Markdown, Some(&self.checked), None)
    }

    /// One standalone HTML page with MathML and the graph.
    pub fn html(&self) -> String {
        render(&self.explanation, Format::Html, Some(&self.checked), Some(&self.svg()))
    }

    /// The computation graph as a standalone SVG, each value with its norm and its
    /// adjoint's.
    pub fn svg(&self) -> String {
        to_svg(&diagram(&self.explanation, &self.checked))
    }

    /// The computation graph as Graphviz DOT.
    pub fn dot(&self) -> String {
        to_dot(&diagram(&self.explanation, &self.checked))
    }

    pub fn report(&self) -> ExplainReport {
        let program = &self.explanation.gradient.program;
        let svg = self.svg();
        let failures = self.failures();
        let sections = sections(&self.explanation, Some(&self.checked), Some(&svg))
            .into_iter()
            .map(|(title, html)| Section { title, html })
            .collect();
        ExplainReport {
            output: program.output_statement().name.clone(),
            inputs: readings(program),
            wrt: self.explanation.gradient.wrt.iter().map(|w| w.name.clone()).collect(),
            at: self.at.clone(),
            passed: failures.is_empty(),
            failures,
            svg,
            sections,
            text: self.text(),
        }
    }
}
