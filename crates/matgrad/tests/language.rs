//! The language: spellings, listings, error messages, evaluation, and robustness.

mod common;

use std::collections::HashMap;

use common::{cases, error, eval1, parse, program_structure, random_inputs, random_program, sizes};
use matgrad::eval::{evaluate, Sizes};
use matgrad::print::listing;
use matgrad::{Array, Program};
use proptest::prelude::*;

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn three_spellings_of_the_example_lower_to_the_same_graph() {
    let ascii = parse(&example("backprop.mg"));
    let unicode = parse(&example("backprop.unicode.mg"));
    let latex = parse(&example("backprop.tex"));
    let expected = program_structure(&ascii);
    assert_eq!(program_structure(&unicode), expected);
    assert_eq!(program_structure(&latex), expected);
    insta::assert_snapshot!(expected);
}

#[test]
fn the_questions_own_latex_parses_as_written() {
    let question = "$$y = Ax$$ $$u = \\sigma (y)$$ $$v = Bx$$ $$z = A (u * v)$$ $$w = Az$$ $$ L = ||w||^2$$\n\
                    $x \\in \\mathbb{R^k}$";
    let program = parse(question);
    let ascii = parse("x: vector(k)\ny = A*x; u = sigmoid(y); v = B*x; z = A*(u.*v); w = A*z; L = norm2(w)^2");
    assert_eq!(program_structure(&program), program_structure(&ascii));
    insta::assert_snapshot!(listing(&program, question));
}

#[test]
fn programs_and_their_listings() {
    let text = include_str!("data/programs.txt");
    let mut out = String::new();
    for (name, source) in cases(text) {
        let program = parse(&source);
        let listed = listing(&program, &source);
        // The listing is itself a program with the same graph.
        let again = parse(&listed);
        assert_eq!(program_structure(&again), program_structure(&program), "{name}: the listing re-parses differently");
        out.push_str(&format!("=== {name}\n{source}\n---\n{listed}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn bad_programs_and_their_messages() {
    let text = include_str!("data/errors.txt");
    let mut out = String::new();
    for (name, source) in cases(text) {
        out.push_str(&format!("=== {name}\n{source}\n---\n{}\n", error(&source)));
    }
    insta::assert_snapshot!(out);
}

/// What the syntax reads in a pasted document: its statements as written, its asides, and
/// the prose it ignored; or the error.
fn document_reading(source: &str) -> String {
    let program = match matgrad::syntax::parse(source) {
        Ok(program) => program,
        Err(diagnostic) => return diagnostic.render("page.txt", source),
    };
    let text = |span: matgrad::diagnostic::Span| source[span.range()].replace('\n', " ");
    let mut out = String::new();
    for item in &program.items {
        let span = match item {
            matgrad::syntax::Item::Assign { span, .. } | matgrad::syntax::Item::Declare { span, .. } => *span,
        };
        out.push_str(&format!("statement  {}\n", text(span)));
    }
    for aside in &program.asides {
        let sides: Vec<String> = aside.sides.iter().map(|s| text(*s)).collect();
        out.push_str(&format!("{:<12} {}\n", format!("{:?}", aside.kind), sides.join("  |  ")));
    }
    for span in &program.ignored {
        let ignored = text(*span);
        let cut = ignored.char_indices().nth(60).map_or(ignored.len(), |(i, _)| i);
        out.push_str(&format!("ignored    {}\n", &ignored[..cut]));
    }
    out
}

#[test]
fn documents_and_what_they_read() {
    let text = include_str!("data/documents.txt");
    let mut out = String::new();
    for (name, source) in cases(text) {
        out.push_str(&format!("=== {name}\n{source}\n---\n{}\n", document_reading(&source)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn the_seed_page_reads_whole() {
    let page = include_str!("data/pages/backprop-question.txt");
    insta::assert_snapshot!(document_reading(page));
}

fn values(source: &str, inputs: &[(&str, Array)]) -> HashMap<String, Array> {
    let program = parse(source);
    let given: HashMap<String, Array> = inputs.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
    let sizes = Sizes::bind(&program.graph, &[], &given, None).expect("sizes from the inputs");
    let nodes: Vec<_> = program.statements.iter().map(|s| s.node).collect();
    let results = evaluate(&program.graph, &sizes, &given, &nodes).expect("evaluates");
    program.statements.iter().map(|s| s.name.clone()).zip(results).collect()
}

fn matrix(rows: &[&[f64]]) -> Array {
    Array::from_rows(&rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).expect("rectangular")
}

#[test]
fn evaluation_matches_values_computed_by_hand() {
    let a = matrix(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let x = Array::vector(vec![1.0, -1.0]);
    let v = values(
        "y = A*x; s = x'*y; t = tr(A) + det(A); I2 = inv(A); P = A^2; n = norm2(x)^2 + norm1(y); d = diag(A); D = diag(x)",
        &[("A", a), ("x", x)],
    );
    assert_eq!(v["y"].data, vec![-1.0, -1.0]); // [1-2, 3-4]
    assert_eq!(v["s"].data, vec![0.0]); // 1·(-1) + (-1)·(-1)
    assert!((v["t"].data[0] - (5.0 - 2.0)).abs() < 1e-12); // tr 5, det 4 - 6 = -2
    let inverse = Array::from_rows(&[vec![-2.0, 1.0], vec![1.5, -0.5]]).expect("rectangular");
    assert!(v["I2"].data.iter().zip(&inverse.data).all(|(a, b)| (a - b).abs() < 1e-12), "{:?}", v["I2"]);
    assert_eq!(v["P"].to_rows(), vec![vec![7.0, 10.0], vec![15.0, 22.0]]);
    assert_eq!(v["n"].data, vec![2.0 + 2.0]);
    assert_eq!(v["d"].data, vec![1.0, 4.0]);
    assert_eq!(v["D"].to_rows(), vec![vec![1.0, 0.0], vec![0.0, -1.0]]);
}

#[test]
fn elementwise_functions_match_their_definitions() {
    let x = Array::vector(vec![-2.0, 0.0, 0.5]);
    let v = values(
        "s = sigmoid(x); r = relu(x); g = sign(x); p = softplus(x); m = softmax(x); l = logsumexp(x); q = x.^2; e = 2 .^ x",
        &[("x", x.clone())],
    );
    for (i, &xi) in x.data.iter().enumerate() {
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(v["s"].data[i], 1.0 / (1.0 + (-xi).exp()));
        close(v["r"].data[i], xi.max(0.0));
        close(
            v["g"].data[i],
            if xi > 0.0 {
                1.0
            } else if xi < 0.0 {
                -1.0
            } else {
                0.0
            },
        );
        close(v["p"].data[i], (1.0 + xi.exp()).ln());
        let total: f64 = x.data.iter().map(|t| t.exp()).sum();
        close(v["m"].data[i], xi.exp() / total);
        close(v["l"].data[0], total.ln());
        close(v["q"].data[i], xi * xi);
        close(v["e"].data[i], 2f64.powf(xi));
    }
}

#[test]
fn the_backprop_example_evaluates_as_its_formula() {
    let program = parse(&example("backprop.mg"));
    let sizes = sizes(&program.graph, 5);
    let inputs = random_inputs(&program.graph, &sizes, 7);
    let l = eval1(&program.graph, &sizes, &inputs, program.output_node()).data[0];
    // By hand: y = A x, u = σ(y), v = B x, z = A (u ⊙ v), w = A z, L = ‖w‖².
    let (a, b, x) = (&inputs["A"], &inputs["B"], &inputs["x"]);
    let matvec =
        |m: &Array, v: &[f64]| (0..m.rows).map(|i| (0..m.cols).map(|j| m.get(i, j) * v[j]).sum()).collect::<Vec<f64>>();
    let y = matvec(a, &x.data);
    let v = matvec(b, &x.data);
    let uv: Vec<f64> = y.iter().zip(&v).map(|(y, v)| v / (1.0 + (-y).exp())).collect();
    let z = matvec(a, &uv);
    let w = matvec(a, &z);
    let expected: f64 = w.iter().map(|w| w * w).sum();
    assert!((l - expected).abs() <= 1e-12 * expected.abs(), "{l} vs {expected}");
}

#[test]
fn wrong_input_shapes_name_the_input_and_both_shapes() {
    let program = parse("x: vector(K)\nA: matrix(K, K)\ny = A*x");
    let given: HashMap<String, Array> =
        [("A".to_string(), Array::zeros(3, 3)), ("x".to_string(), Array::vector(vec![1.0, 2.0]))].into();
    let error = Sizes::bind(&program.graph, &[], &given, None).expect_err("mismatch");
    insta::assert_snapshot!(error.message, @"input `A` should be a K×K matrix (K = 2 from input `x`), but the given array is 3×3");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn printing_and_reparsing_gives_the_same_graph(seed in any::<u64>(), statements in 1usize..8) {
        let source = random_program(seed, statements);
        let program = parse(&source);
        let listed = listing(&program, &source);
        let again = parse(&listed);
        prop_assert_eq!(program_structure(&again), program_structure(&program), "{}\n---\n{}", source, listed);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Program::parse(&text);
    }

    #[test]
    fn random_token_soup_never_panics(tokens in proptest::collection::vec(0usize..40, 0..60)) {
        const TOKENS: [&str; 40] = [
            "x", "A", "y", "=", "+", "-", "*", ".*", "./", "^", ".^", "'", "(", ")", "2", "0.5", ";", "\n",
            "sigmoid(", "norm2(", "tr(", "‖", "ᵀ", "⊙", "σ", "²", "$$", "$", "\\frac{", "}", "{", "\\|",
            "||", "\\sigma", ":", "vector(n)", "∈ ℝ^{n×n}", ",", "\\in \\mathbb{R}^k", "eye(",
        ];
        let text: String = tokens.iter().map(|&t| TOKENS[t]).collect::<Vec<_>>().join(" ");
        let _ = Program::parse(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("y = {}x{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(Program::parse(&deep).is_err());
    let long = format!("y = x{}", " + x".repeat(20_000));
    // A long flat sum is fine (or a clear error), never a stack overflow.
    let _ = Program::parse(&long);
}
