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

/// The second order of an explanation (`explain --hessian`) at a point: every step checked,
/// the read-off Hessian-vector products against finite differences of the gradient.
fn explained_second_order(file: &str, wrt: &[&str]) -> (crate::explain::Explanation, crate::explain::Checked) {
    let explanation = parse(&example(file)).explain_hessian(wrt).expect("a scalar output");
    let graph = &explanation.gradient.program.graph;
    let sizes = sizes(graph, 3);
    let inputs = random_inputs(graph, &sizes, 11);
    let program_inputs = explanation.gradient.program.inputs.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    let inputs = inputs.into_iter().filter(|(name, _)| program_inputs.contains(name)).collect();
    let checked = check(&explanation, &sizes, &inputs).expect("evaluates");
    (explanation, checked)
}

#[test]
fn the_second_order_of_logistic_regression() {
    let (explanation, checked) = explained_second_order("logistic_regression.mg", &["w", "b"]);
    let second = checked.second.as_ref().expect("a second order");
    assert!(checked.worst() <= 1e-6, "a step disagrees by {:e}: {:?}", checked.worst(), second);
    assert_eq!(second.read_off.len(), explanation.gradient.wrt.len());
    let text = render(&explanation, Format::Text, Some(&checked), None);
    let start = text.find("4. Second order").expect("the second-order section");
    insta::assert_snapshot!(text[start..].to_string());
}

#[test]
fn every_second_order_step_of_the_examples_agrees() {
    for (file, wrt) in [("backprop.mg", &["A", "B", "x"][..]), ("mlp2.mg", &[]), ("shared_weight.mg", &[])] {
        let (explanation, checked) = explained_second_order(file, wrt);
        let second = checked.second.as_ref().expect("a second order");
        assert!(checked.failures(&explanation).is_empty(), "{file}: {:?}", checked.failures(&explanation));
        assert_eq!(second.reverse.len(), explanation.backprop.len(), "{file}");
        assert!(second.read_off.iter().all(|(_, e)| *e < 1e-6), "{file}: {second:?}");
    }
}

/// The check can fail: a Hessian-vector product that is wrong by a factor is caught, both
/// in its own step and against the finite differences of the gradient.
#[test]
fn a_wrong_second_order_step_fails_its_check() {
    let (mut explanation, _) = explained_second_order("logistic_regression.mg", &[]);
    let second = explanation.second.as_mut().expect("a second order");
    let step = second.reverse.last_mut().expect("a step");
    let graph = &mut explanation.gradient.program.graph;
    let two = graph.constant(2.0);
    step.closed = crate::simplify::build(graph, crate::ir::Op::Mul(two, step.closed));
    let graph = &explanation.gradient.program.graph;
    let sizes = sizes(graph, 3);
    let program_inputs = explanation.gradient.program.inputs.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    let inputs =
        random_inputs(graph, &sizes, 11).into_iter().filter(|(name, _)| program_inputs.contains(name)).collect();
    let checked = check(&explanation, &sizes, &inputs).expect("evaluates");
    let failures = checked.failures(&explanation);
    assert!(failures.iter().any(|f| f.starts_with("the differential of the adjoint of")), "{failures:?}");
    assert!(failures.iter().any(|f| f.contains("against finite differences of the gradient")), "{failures:?}");
}
