//! Explanations: the three views for a few programs, every step checked numerically.

use super::common;

use crate::explain::{check, render, Format};
use common::{parse, random_inputs, sizes};

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text explanation with its checks, after asserting every check passes.
fn explained(file: &str) -> String {
    let explanation = parse(&example(file)).explain(&[]).expect("a scalar output");
    let graph = &explanation.gradient.program.graph;
    let sizes = sizes(graph, 3);
    let inputs = random_inputs(graph, &sizes, 11);
    let program_inputs = explanation.gradient.program.inputs.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    let inputs = inputs.into_iter().filter(|(name, _)| program_inputs.contains(name)).collect();
    let checked = check(&explanation, &sizes, &inputs).expect("evaluates");
    assert!(checked.worst() <= 1e-6, "{file}: a step disagrees by {:e}", checked.worst());
    // The backpropagation and differential views give the same gradients.
    assert_eq!(checked.read_off.len(), explanation.gradient.wrt.len());
    render(&explanation, Format::Text, Some(&checked), None)
}

#[test]
fn the_backprop_example() {
    insta::assert_snapshot!(explained("backprop.mg"));
}

#[test]
fn a_two_layer_network() {
    insta::assert_snapshot!(explained("mlp2.mg"));
}

#[test]
fn logistic_regression() {
    insta::assert_snapshot!(explained("logistic_regression.mg"));
}

#[test]
fn a_shared_weight() {
    insta::assert_snapshot!(explained("shared_weight.mg"));
}

#[test]
fn markdown_and_html_formats() {
    let explanation = parse(&example("backprop.mg")).explain(&[]).expect("scalar");
    let markdown = render(&explanation, Format::Markdown, None, None);
    assert!(markdown.contains("\\bar{A} &= \\bar{w}\\frac{\\partial w}{\\partial A} + \\bar{z}\\frac{\\partial z}{\\partial A} + \\bar{y}\\frac{\\partial y}{\\partial A}"), "{markdown}");
    let html = render(&explanation, Format::Html, None, Some("<svg></svg>"));
    assert!(
        html.starts_with("<!DOCTYPE html>")
            && html.contains("<math display=\"block\">")
            && html.contains("<svg></svg>")
    );
    // Standalone: nothing is fetched.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}
