//! `matgrad explain`: the computation graph, backpropagation and differentials, each step
//! checked at a point.

use matgrad::explain::{check, render, Explanation, Format};
use matgrad::print::diagram::{to_dot, to_svg};

use crate::Failure;
use matgrad::Point;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Markdown,
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Svg,
}

/// The explanation (or, with `graph`, only the graph) checked at `point`, and the steps
/// that failed their check.
pub fn run(
    explanation: &Explanation,
    point: &Point,
    format: ExplainFormat,
    graph: Option<GraphFormat>,
) -> Result<(String, Vec<String>), Failure> {
    let checked = check(explanation, &point.sizes, &point.inputs)?;
    let failures = checked.failures(explanation);
    let diagram = matgrad::explain::diagram(explanation, &checked);
    if let Some(graph) = graph {
        let text = match graph {
            GraphFormat::Dot => to_dot(&diagram),
            GraphFormat::Svg => to_svg(&diagram),
        };
        return Ok((text, failures));
    }
    let header = format!("{}{}", matgrad::print::inputs_header(&explanation.gradient.program), point.header());
    let text = match format {
        ExplainFormat::Text => format!("{header}{}", render(explanation, Format::Text, Some(&checked), None)),
        ExplainFormat::Markdown => render(explanation, Format::Markdown, Some(&checked), None),
        ExplainFormat::Html => render(explanation, Format::Html, Some(&checked), Some(&to_svg(&diagram))),
    };
    Ok((text, failures))
}
