//! Long programs on a thread with the default 2 MiB stack: no pass recurses as deep as the
//! program is long, and none takes time or memory that grows faster than the program.

use super::common;

use std::collections::HashMap;

use crate::eval::{evaluate, Sizes};
use crate::explain::{check, render, Format};
use crate::print::Notation;
use crate::syntax::MAX_DEPTH;
use crate::{Array, Program};
use common::shapes::Shape;

/// Runs `f` on a thread with a 2 MiB stack, the size Rust gives a spawned thread.
fn on_a_small_stack(f: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new().stack_size(2 << 20).spawn(f).expect("a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Every dimension 3; square matrices a cyclic permutation, so that a product of 10 000 of
/// them neither overflows nor vanishes; other inputs a fixed pattern around 0.5.
fn point(program: &Program) -> (Sizes, HashMap<String, Array>) {
    let sizes = Sizes::bind(&program.graph, &[], &HashMap::new(), Some(3), crate::MEMORY_BUDGET).expect("sizes");
    let inputs = program
        .inputs
        .iter()
        .map(|v| {
            let (rows, cols) = sizes.shape(&program.graph, program.graph.shape(v.node)).expect("sized");
            let square = rows == cols && rows > 1;
            let entry = |r: usize, c: usize| match square {
                true => f64::from((r + 1) % rows == c),
                false => 0.5 + 0.1 * ((r + 2 * c) % 3) as f64,
            };
            (v.name.clone(), Array::from_fn(rows, cols, entry))
        })
        .collect();
    (sizes, inputs)
}

/// Parses, differentiates, prints and evaluates a program of `statements` statements of
/// `shape`; explains it when `explain`.
fn runs_through(shape: Shape, statements: usize, explain: bool) {
    let source = shape.program(statements);
    let program = Program::parse(&source).unwrap_or_else(|d| panic!("{}: {}", shape.name(), d.message));
    let gradient = program.gradient(&[]).expect("a scalar output");
    for wrt in &gradient.wrt {
        for notation in [Notation::Ascii, Notation::Unicode, Notation::Latex, Notation::MathMl] {
            assert!(!gradient.closed_form(wrt, notation).is_empty());
        }
    }
    for &(id, _) in &gradient.definitions {
        assert!(!gradient.expression(id, Notation::Unicode).is_empty());
    }
    let (sizes, inputs) = point(&gradient.program);
    let mut wanted = vec![gradient.program.output_node()];
    wanted.extend(gradient.wrt.iter().map(|w| w.gradient));
    let values = evaluate(&gradient.program.graph, &sizes, &inputs, &wanted).expect("evaluates");
    assert!(values.iter().all(|v| v.data.iter().all(|x| x.is_finite())), "{}: finite values", shape.name());
    // The compiled plan, too.
    let symbols: Vec<String> = gradient.program.graph.dims.symbols().map(|(_, name)| name.to_string()).collect();
    let dims: Vec<(&str, usize)> = symbols.iter().map(|name| (name.as_str(), 3)).collect();
    gradient.compile(&dims).expect("compiles");
    if explain {
        let explanation = program.explain(&[]).expect("an explanation");
        let (sizes, inputs) = point(&explanation.gradient.program);
        let checked = check(&explanation, &sizes, &inputs).expect("evaluates");
        // Every step agrees with the sweep. Finite differences cannot resolve a weight used
        // by every statement (the output is a polynomial of degree 10 000 in it: the step's
        // truncation error dominates), so for those shapes they are not asked to.
        let mut failures = checked.failures(&explanation);
        if matches!(shape, Shape::MatrixChain | Shape::Backprop) {
            failures.retain(|f| !f.ends_with("against finite differences"));
        }
        assert!(failures.is_empty(), "{}: {failures:?}", shape.name());
        let text = render(&explanation, Format::Text, Some(&checked), None);
        // Linear: under a kilobyte per statement, not a copy of the program per line (which would
        // be a gigabyte).
        assert!(text.len() < 1000 * statements, "{}: {} bytes of text", shape.name(), text.len());
        let html = render(&explanation, Format::Html, Some(&checked), None);
        assert!(html.len() < 10_000 * statements, "{}: {} bytes of HTML", shape.name(), html.len());
    }
}

#[test]
fn a_chain_of_100_000_statements() {
    on_a_small_stack(|| runs_through(Shape::Chain, 100_000, false));
}

#[test]
fn long_programs_of_every_shape_are_explained() {
    on_a_small_stack(|| {
        for shape in Shape::ALL {
            runs_through(shape, 10_000, true);
        }
    });
}

#[test]
fn nesting_past_the_limit_is_refused_with_a_message() {
    on_a_small_stack(|| {
        let too_deep = crate::syntax::too_deep_message();
        let refused = |source: String| Program::parse(&source).err().map(|d| d.message);
        assert_eq!(
            refused(format!("x: scalar\ny = {}x{}", "(".repeat(10_000), ")".repeat(10_000))),
            Some(too_deep.clone())
        );
        assert_eq!(
            refused(format!("x: scalar\ny = {}x{}", "sin(".repeat(10_000), ")".repeat(10_000))),
            Some(too_deep.clone())
        );
        // A sum of 100 000 terms on one line is a tree as deep as it is long.
        let terms: Vec<String> = (1..=100_000).map(|i| format!("x{i}")).collect();
        assert_eq!(refused(format!("L = {}", terms.join(" + "))), Some(too_deep));
        // Just inside the limit, everything runs.
        let nested = format!("x: scalar\nL = {}x{}", "sin(".repeat(MAX_DEPTH - 2), ")".repeat(MAX_DEPTH - 2));
        let gradient = Program::parse(&nested).expect("parses").gradient(&[]).expect("a gradient");
        assert!(gradient.closed_form(&gradient.wrt[0], Notation::Unicode).contains("cos"));
    });
}
