//! `matgrad explain`: the computation graph, backpropagation and differentials, each step
//! checked at a point.

use matgrad::explain::{check, render, Checked, Explanation, Format, VertexKind};
use matgrad::print::diagram::{to_dot, to_svg, Diagram, DiagramNode, NodeKind};
use matgrad::print::unicode_name;

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
    let diagram = diagram(explanation, &checked);
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

/// The graph of named values, with each value's norm and its adjoint's norm.
fn diagram(explanation: &Explanation, checked: &Checked) -> Diagram {
    let graph = explanation.graph();
    let nodes = explanation
        .vertices
        .iter()
        .enumerate()
        .map(|(i, v)| DiagramNode {
            title: unicode_name(&v.name),
            lines: vec![
                graph.dims.show_shape(graph.shape(v.node)),
                format!("‖{}‖ = {:.4}", unicode_name(&v.name), checked.values[i].norm()),
                format!("‖{}\u{304}‖ = {:.4}", unicode_name(&v.name), checked.adjoints[i].norm()),
            ],
            kind: match v.kind {
                VertexKind::Input => NodeKind::Input,
                VertexKind::Intermediate => NodeKind::Intermediate,
                VertexKind::Output => NodeKind::Output,
            },
        })
        .collect();
    let edges = explanation
        .vertices
        .iter()
        .enumerate()
        .flat_map(|(parent, v)| v.uses.iter().map(move |&child| (child, parent)))
        .collect();
    Diagram { nodes, edges }
}
