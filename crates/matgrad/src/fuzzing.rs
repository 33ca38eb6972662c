//! The whole pipeline on one text, for the fuzz targets (`fuzz/`) and the test that replays
//! their corpus (`tests/fuzz_corpus.rs`): not part of the API.
//!
//! Every stage may refuse the text with an `Err`; that is fine. What is a bug is a panic
//! anywhere below, and the one invariant checked here with `assert!`: the listing of a
//! program that parsed is itself a program that parses. Sizes are small (2 and 3) and the
//! memory the graph needs at them is bounded by `MEMORY_BUDGET` (64 MiB) so a run stays fast.

use std::collections::HashMap;

use crate::eval::{evaluate, Sizes};
use crate::explain::{check, render, Format};
use crate::ir::Graph;
use crate::print::{inputs_header, listing, Notation};
use crate::{Array, Program};

/// Bytes an evaluation at the fuzzing point may need (the fuzzer's memory limit is 2 GB;
/// a program such as `zeros(50000, 50000)` is refused here rather than evaluated).
pub const MEMORY_BUDGET: u64 = 64 << 20;

/// Statements beyond which a program is not explained (explaining is quadratic in them).
const EXPLAIN_LIMIT: usize = 30;

/// Runs bytes through [`pipeline`], as UTF-8 (invalid sequences replaced).
pub fn pipeline_bytes(bytes: &[u8]) {
    pipeline(&String::from_utf8_lossy(bytes));
}

/// The same text read as a pasted page: each line `$$line$$`, so that programs reach the
/// document reader (macros, display math, asides) too.
pub fn document_bytes(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let page: String = text.lines().map(|line| format!("$${line}$$\n")).collect();
    pipeline(&page);
}

/// Parse, list and re-parse the listing, take every gradient and print it, evaluate it at
/// a small point (with the interpreter and the compiled plan), and explain a small program.
pub fn pipeline(source: &str) {
    let Ok(program) = Program::parse(source) else { return };
    let listed = listing(&program, source);
    if let Err(diagnostic) = Program::parse(&listed) {
        panic!(
            "the listing does not parse again:\n{}\n--- listing ---\n{listed}\n--- source ---\n{source}",
            diagnostic.render("listing", &listed)
        );
    }
    let _ = inputs_header(&program);

    let Ok(gradient) = program.gradient(&[]) else { return };
    for notation in [Notation::Ascii, Notation::Unicode, Notation::Latex, Notation::MathMl] {
        for wrt in &gradient.wrt {
            let _ = gradient.closed_form(wrt, notation);
            let _ = gradient.expression(wrt.gradient, notation);
        }
        for (node, _) in &gradient.definitions {
            let _ = gradient.expression(*node, notation);
        }
    }

    let graph = &gradient.program.graph;
    if let Some((sizes, inputs)) = point(graph) {
        let mut wanted = vec![gradient.program.output_node()];
        wanted.extend(gradient.wrt.iter().map(|w| w.gradient));
        let _ = evaluate(graph, &sizes, &inputs, &wanted);
        let _ = gradient.check(&sizes, &inputs);
        let dims: Vec<(&str, usize)> = sizes.iter().collect();
        if let Ok(compiled) = gradient.compile(&dims) {
            let _ = compiled.describe();
            let buffers: Vec<(&str, &[f64])> = inputs.iter().map(|(n, a)| (n.as_str(), a.data.as_slice())).collect();
            let mut outputs = compiled.outputs();
            let _ = compiled.run(&buffers, &mut outputs);
        }
    }

    if program.statements.len() <= EXPLAIN_LIMIT {
        let Ok(explanation) = program.explain(&[]) else { return };
        let checked = point(explanation.graph()).and_then(|(sizes, inputs)| check(&explanation, &sizes, &inputs).ok());
        for format in [Format::Text, Format::Markdown, Format::Html] {
            let _ = render(&explanation, format, checked.as_ref(), None);
        }
    }
}

/// Sizes 2 and 3 (alternating over the dimension symbols) and deterministic values in
/// (-1, 1) for every input; None when the graph would need more than [`MEMORY_BUDGET`].
fn point(graph: &Graph) -> Option<(Sizes, HashMap<String, Array>)> {
    let names: Vec<String> = graph.dims.symbols().map(|(_, name)| name.to_string()).collect();
    let pairs: Vec<(&str, usize)> = names.iter().enumerate().map(|(i, n)| (n.as_str(), 2 + i % 2)).collect();
    let sizes = Sizes::from_pairs(&pairs);
    sizes.check_memory(graph, MEMORY_BUDGET).ok()?;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut inputs = HashMap::new();
    for input in graph.inputs() {
        let (rows, cols) = sizes.shape(graph, input.shape)?;
        inputs.insert(input.name.clone(), Array::from_fn(rows, cols, |_, _| next()));
    }
    Some((sizes, inputs))
}
