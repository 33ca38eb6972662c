//! Gradients: the motivating example against its hand derivation, every derivative rule
//! against finite differences at first and second order, Matrix Cookbook identities, the
//! simplification rules, and random programs.

use super::common;

use std::collections::{HashMap, HashSet};

use crate::check::{check_gradients, relative_error};
use crate::diff::grad;
use crate::eval::Sizes;
use crate::gradient::Gradient;
use crate::ir::{Func, Graph, NodeId, Op};
use crate::print::Notation;
use crate::simplify::RULES;
use crate::{Array, Program};
use common::{eval1, example, parse, random_inputs, random_program, sizes, RULE_TABLE};

const TOLERANCE: f64 = 1e-6;

/// Every gradient of `source`'s output, printed in Unicode, with the definitions.
fn closed_forms(gradient: &Gradient) -> String {
    let mut out = String::new();
    for wrt in &gradient.wrt {
        out.push_str(&format!("∂L/∂{} = {}\n", wrt.name, gradient.closed_form(wrt, Notation::Unicode)));
    }
    for (id, name) in &gradient.definitions {
        out.push_str(&format!("  {name} = {}\n", gradient.expression(*id, Notation::Unicode)));
    }
    out
}

/// Checks the gradient of `program`'s output with respect to every input against finite
/// differences at `points` random points; returns the gradient for further checks.
fn check_first_order(source: &str, size: usize, points: u64) -> Gradient {
    let gradient = parse(source).gradient(&[]).expect("a scalar output");
    let graph = &gradient.program.graph;
    let sizes = sizes(graph, size);
    let pairs: Vec<(NodeId, NodeId)> = gradient.wrt.iter().map(|w| (w.node, w.gradient)).collect();
    for seed in 0..points {
        let inputs = random_inputs(graph, &sizes, seed);
        let errors =
            check_gradients(graph, gradient.program.output_node(), &pairs, &sizes, &inputs).expect("evaluates");
        for (name, error) in errors {
            assert!(
                error <= TOLERANCE,
                "{source}\n∂/∂{name}: relative error {error:e} at seed {seed}\n{}",
                closed_forms(&gradient)
            );
        }
    }
    gradient
}

/// Second order: for each input x, differentiates s = sum(c ⊙ ∂L/∂x) (c a random probe) again
/// with respect to every input, and checks that against finite differences of s.
fn check_second_order(source: &str, size: usize, points: u64) {
    let first = parse(source).gradient(&[]).expect("a scalar output");
    let mut graph = first.program.graph.clone();
    let inputs: Vec<NodeId> = first.wrt.iter().map(|w| w.node).collect();
    for wrt in &first.wrt {
        let shape = graph.shape(wrt.node);
        let probe = graph.add_input(&format!("probe_{}", wrt.name), shape);
        let product = graph.add(Op::Mul(probe, wrt.gradient)).expect("same shape");
        let s = graph.add(Op::Sum(product)).expect("a sum");
        let second = grad(&mut graph, s, &inputs).expect("s is a scalar");
        let sizes = sizes(&graph, size);
        for seed in 0..points {
            let values = random_inputs(&graph, &sizes, 100 + seed);
            let errors = check_gradients(&graph, s, &second.gradients, &sizes, &values).expect("evaluates");
            for (name, error) in errors {
                assert!(error <= 1e-5, "{source}\n∂²L/∂{name}∂{}: relative error {error:e} at seed {seed}", wrt.name);
            }
        }
    }
}

#[test]
fn every_rule_agrees_with_finite_differences_at_first_order() {
    for (name, source) in RULE_TABLE {
        eprintln!("first order: {name}");
        check_first_order(source, 3, 3);
    }
}

#[test]
fn every_rule_agrees_with_finite_differences_at_second_order() {
    for (name, source) in RULE_TABLE {
        eprintln!("second order: {name}");
        check_second_order(source, 3, 2);
    }
}

/// The variants of `enum Op`, read from its source, so that a new operation is known here
/// without a list kept by hand.
fn op_variants() -> Vec<&'static str> {
    let source = include_str!("../src/ir/op.rs");
    let body = source.split_once("pub enum Op {").and_then(|(_, rest)| rest.split_once("\n}")).expect("enum Op").0;
    body.lines()
        .map(str::trim)
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| line.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or(line))
        .collect()
}

/// Every operation and every elementwise function appears in a row of the rule table, so
/// that the tests above check its derivative at first and second order (and forward mode
/// and the compiled plan on it): a new one fails here until it has a row.
#[test]
fn the_rule_table_has_a_row_for_every_op_and_function() {
    let (mut ops, mut functions) = (HashSet::new(), HashSet::new());
    for (_, source) in RULE_TABLE {
        let graph = parse(source).graph;
        for id in (0..graph.len()).map(|i| NodeId(i as u32)) {
            let op = graph.op(id);
            ops.insert(format!("{op:?}").split('(').next().unwrap_or_default().to_string());
            if let Op::Map(f, _) = op {
                functions.insert(f);
            }
        }
    }
    let variants = op_variants();
    assert!(variants.len() >= 20, "read the variants of Op: {variants:?}");
    let missing_ops: Vec<&str> = variants.into_iter().filter(|op| !ops.contains(*op)).collect();
    let missing_functions: Vec<Func> = Func::ALL.into_iter().filter(|f| !functions.contains(f)).collect();
    assert!(
        missing_ops.is_empty() && missing_functions.is_empty(),
        "no row of the rule table (tests/common/mod.rs) uses the operations {missing_ops:?} or the functions \
         {missing_functions:?}: add one each"
    );
}

#[test]
fn the_backprop_example_has_the_hand_derived_closed_form() {
    let ascii = check_first_order(&example("backprop.mg"), 4, 3);
    insta::assert_snapshot!(closed_forms(&ascii));
    for other in ["backprop.unicode.mg", "backprop.tex"] {
        let gradient = parse(&example(other)).gradient(&[]).expect("scalar");
        assert_eq!(closed_forms(&gradient), closed_forms(&ascii), "{other}");
    }
}

/// Small dense helpers for the hand derivation.
fn mat(a: &Array, b: &Array) -> Array {
    Array::from_fn(a.rows, b.cols, |i, j| (0..a.cols).map(|k| a.get(i, k) * b.get(k, j)).sum())
}
fn t(a: &Array) -> Array {
    Array::from_fn(a.cols, a.rows, |i, j| a.get(j, i))
}
fn diag(v: &Array) -> Array {
    Array::from_fn(v.rows, v.rows, |i, j| if i == j { v.data[i] } else { 0.0 })
}
fn scale(a: f64, x: &Array) -> Array {
    Array::from_fn(x.rows, x.cols, |i, j| a * x.get(i, j))
}
fn lin(a: f64, x: &Array, b: f64, y: &Array) -> Array {
    Array::from_fn(x.rows, x.cols, |i, j| a * x.get(i, j) + b * y.get(i, j))
}

#[test]
fn the_backprop_gradients_equal_the_briefs_formula() {
    for file in ["backprop.mg", "backprop.unicode.mg", "backprop.tex"] {
        let gradient = parse(&example(file)).gradient(&["A", "B", "x"]).expect("scalar");
        let graph = &gradient.program.graph;
        for (size, seed) in [(4, 1), (7, 2), (16, 3)] {
            let sizes = sizes(graph, size);
            let inputs = random_inputs(graph, &sizes, seed);
            let node = |name: &str| gradient.program.lookup(name).expect("a variable");
            let value = |name: &str| eval1(graph, &sizes, &inputs, node(name));
            let (a, b, x) = (&inputs["A"], &inputs["B"], &inputs["x"]);
            let (u, v, z, w) = (value("u"), value("v"), value("z"), value("w"));
            let (du, dv) = (diag(&u), diag(&v));
            // P = w zᵀ + Aᵀ w uᵀ V, q = V Aᵀ Aᵀ w, r = U Aᵀ Aᵀ w
            let atatw = mat(&t(a), &mat(&t(a), &w));
            let p = lin(1.0, &mat(&w, &t(&z)), 1.0, &mat(&mat(&mat(&t(a), &w), &t(&u)), &dv));
            let q = mat(&dv, &atatw);
            let r = mat(&du, &atatw);
            let u_minus_u2 = lin(1.0, &du, -1.0, &mat(&du, &du));
            let expected_a = lin(2.0, &p, 2.0, &mat(&mat(&u_minus_u2, &q), &t(x)));
            let expected_b = scale(2.0, &mat(&r, &t(x)));
            let expected_x = lin(2.0, &mat(&t(b), &r), 2.0, &mat(&mat(&t(a), &u_minus_u2), &q));
            for (name, expected) in [("A", expected_a), ("B", expected_b), ("x", expected_x)] {
                let wrt = gradient.wrt.iter().find(|w| w.name == name).expect("requested");
                let got = eval1(graph, &sizes, &inputs, wrt.gradient);
                let error = relative_error(&got, &expected, 0.0);
                assert!(error <= 1e-10, "{file} K={size}: ∂L/∂{name} relative error {error:e}");
            }
        }
    }
}

/// Matrix Cookbook identities: the printed gradient, and a numerical check of each.
pub(crate) const COOKBOOK: &[(&str, &str, &str)] = &[
    ("∂tr(AXB)/∂X = AᵀBᵀ", "A, X, B: matrix(n, n)\nL = tr(A*X*B)", "X"),
    ("∂xᵀAx/∂x = (A + Aᵀ)x", "x: vector(n)\nA: matrix(n, n)\nL = x'*A*x", "x"),
    ("∂aᵀXb/∂X = abᵀ", "a, b: vector(n)\nX: matrix(n, n)\nL = a'*X*b", "X"),
    ("∂log|det X|/∂X = X⁻ᵀ", "X: matrix(n, n)\nL = logdet(X)", "X"),
    ("∂det X/∂X = det(X) X⁻ᵀ", "X: matrix(n, n)\nL = det(X)", "X"),
    ("∂‖Ax − b‖²/∂x = 2Aᵀ(Ax − b)", "A: matrix(m, n)\nx: vector(n)\nb: vector(m)\nL = norm2(A*x - b)^2", "x"),
    ("∂aᵀX⁻¹b/∂X = −X⁻ᵀabᵀX⁻ᵀ", "a, b: vector(n)\nX: matrix(n, n)\nL = a'*inv(X)*b", "X"),
    ("∂tr(XᵀX)/∂X = 2X", "X: matrix(m, n)\nL = tr(X'*X)", "X"),
    ("∂tr(X²)/∂X = 2Xᵀ", "X: matrix(n, n)\nL = tr(X^2)", "X"),
    ("∂‖X‖_F²/∂X = 2X", "X: matrix(m, n)\nL = norm2(X)^2", "X"),
    ("∂sum(x)/∂x = 𝟙", "x: vector(n)\nL = sum(x)", "x"),
    ("∂(logsumexp(s) − tᵀs)/∂s = softmax(s) − t", "s, t: vector(n)\nL = logsumexp(s) - t'*s", "s"),
    ("∂‖x‖/∂x = x/‖x‖", "x: vector(n)\nL = norm2(x)", "x"),
    ("∂tr(AX⁻¹B)/∂X = −X⁻ᵀAᵀBᵀX⁻ᵀ", "A, X, B: matrix(n, n)\nL = tr(A*inv(X)*B)", "X"),
];

#[test]
fn matrix_cookbook_identities() {
    let mut out = String::new();
    for (identity, source, wrt) in COOKBOOK {
        check_first_order(source, 3, 2);
        let gradient = parse(source).gradient(&[wrt]).expect("scalar");
        out.push_str(&format!("{identity}\n  matgrad: {}", closed_forms(&gradient)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn examples_have_checked_gradients() {
    let mut out = String::new();
    for file in ["logistic_regression.mg", "softmax_cross_entropy.mg", "mlp.mg", "least_squares.mg"] {
        let source = example(file);
        let gradient = check_first_order(&source, 3, 2);
        out.push_str(&format!("=== {file}\n{}", closed_forms(&gradient)));
    }
    insta::assert_snapshot!(out);
}

/// For each simplification rule, a node it rewrites; the rewrite must keep the value.
fn rule_example(name: &str) -> (&'static str, fn(&mut Graph, &Program) -> NodeId) {
    fn node(_: &Graph, program: &Program, name: &str) -> NodeId {
        program.lookup(name).expect("defined")
    }
    fn add(graph: &mut Graph, op: Op) -> NodeId {
        graph.add(op).expect("well shaped")
    }
    match name {
        "fold-constants" => ("E = 2 + 3*x", |g, _| {
            let (two, three) = (g.constant(2.0), g.constant(3.0));
            add(g, Op::Add(two, three))
        }),
        "zeros-and-ones" => ("E = x + zeros(n)", |g, p| node(g, p, "E")),
        "times-reciprocal" => ("E = x.*(1 ./ y)", |g, p| node(g, p, "E")),
        "negate-twice" => ("E = -(-x)", |g, p| node(g, p, "E")),
        "transpose-trivial" => ("E = A''", |g, p| node(g, p, "E")),
        "transpose-of-product" => ("E = (x'*A)'", |g, p| node(g, p, "E")),
        "inverse-twice" => ("E = inv(inv(A))", |g, p| node(g, p, "E")),
        "inverse-of-transpose" => ("E = inv(A')", |g, p| node(g, p, "E")),
        "power-of-transpose" => ("E = (A')^2", |g, p| node(g, p, "E")),
        "matrix-chain" => ("E = A*inv(A)*B*B", |g, p| node(g, p, "E")),
        "diag-of-fill" => ("E = diag(ones(n))", |g, p| node(g, p, "E")),
        "fill-arithmetic" => ("E = -ones(n)", |g, p| node(g, p, "E")),
        "fill-as-scalar" => ("E = ones(n).*x", |g, p| node(g, p, "E")),
        "product-of-fills" => ("F = ones(n)", |g, p| {
            let column = node(g, p, "F");
            let row = add(g, Op::Fill(crate::ir::Constant(2.0), g.shape(column).transposed()));
            add(g, Op::MatMul(row, column))
        }),
        "dot-with-ones" => ("F = ones(n)", |g, p| {
            let column = node(g, p, "F");
            let row = add(g, Op::Fill(crate::ir::Constant(1.0), g.shape(column).transposed()));
            let x = node(g, p, "x");
            add(g, Op::MatMul(row, x))
        }),
        "dot-as-sum" => ("E = x'*(y./x)", |g, p| node(g, p, "E")),
        "elementwise-powers" => ("E = x.^-2.*y.*x.^3", |g, p| node(g, p, "E")),
        "transpose-scaled" => ("E = (c*A)'", |g, p| node(g, p, "E")),
        "transpose-sum" => ("E = A' + B'", |g, p| node(g, p, "E")),
        "product-with-scalar" => ("s = x'*y\nE = x'", |g, p| {
            let (s, xt) = (node(g, p, "s"), node(g, p, "E"));
            add(g, Op::MatMul(s, xt))
        }),
        "product-with-identity" => ("E = eye(n)*A", |g, p| node(g, p, "E")),
        "diag-times-vector" => ("E = diag(x)*y", |g, p| node(g, p, "E")),
        "scalars-out-of-products" => ("E = (2*A)*(c*B)", |g, p| node(g, p, "E")),
        "transpose-elementwise" => ("E = x'.*y'", |g, p| node(g, p, "E")),
        "scalars-out-of-reductions" => ("E = sum(c*A)", |g, p| node(g, p, "E")),
        "sum-of-transpose" => ("E = sum(A')", |g, p| node(g, p, "E")),
        "size-of-identity" => ("E = tr(A)", |g, p| {
            let eye = g.add(Op::Eye(g.shape(p.lookup("A").expect("an input")).rows)).expect("an identity");
            add(g, Op::Sum(eye))
        }),
        "diag-of-transpose" => ("E = diag(A')", |g, p| node(g, p, "E")),
        "diag-of-outer" => ("E = diag(x*y')", |g, p| node(g, p, "E")),
        "sum-of-elementwise-product" => ("E = sum(x.*y)", |g, p| node(g, p, "E")),
        "negate-difference" => ("E = -(x - y)", |g, p| node(g, p, "E")),
        "negative-last" => ("E = -x + y", |g, p| node(g, p, "E")),
        "canonical-scaling" => ("E = (2*c)*(x/c)", |g, p| node(g, p, "E")),
        "elementwise-order" => ("E = y.*x", |g, p| node(g, p, "E")),
        "collect-like-terms" => ("E = 2*x + 3*x", |g, p| node(g, p, "E")),
        "common-scalar-factor" => ("E = c*x + c*y", |g, p| node(g, p, "E")),
        "common-core" => ("E = c*(A*x) - 2*(A*x)", |g, p| node(g, p, "E")),
        "common-matrix-factor" => ("E = A*x + A*y", |g, p| node(g, p, "E")),
        "cancel-and-expand" => ("E = x.*(1 - x).*((y - 1)./(1 - x) + y./x)", |g, p| node(g, p, "E")),
        other => panic!("rule `{other}` has no example: add one"),
    }
}

#[test]
fn every_simplification_rule_fires_on_its_example_and_keeps_the_value() {
    for rule in RULES {
        let (statements, make) = rule_example(rule.name);
        let source = format!("x, y: vector(n)\nA, B: matrix(n, n)\nc: scalar\n{statements}");
        let program = parse(&source);
        let mut graph = program.graph.clone();
        let before = make(&mut graph, &program);
        let after =
            (rule.apply)(&mut graph, before).unwrap_or_else(|| panic!("{} did not fire on {statements}", rule.name));
        assert_ne!(after, before, "{}", rule.name);
        let sizes = sizes(&graph, 4);
        for seed in 0..3 {
            let inputs = random_inputs(&graph, &sizes, seed);
            let (b, a) = (eval1(&graph, &sizes, &inputs, before), eval1(&graph, &sizes, &inputs, after));
            assert!(relative_error(&a, &b, 1e-12) <= 1e-12, "{} changed the value of {statements}", rule.name);
        }
    }
}

/// A random elementwise expression over `x`, `y` (vectors) and `c` (a scalar) with `+`, `−`,
/// `⊙`, `⊘` and small powers; some of its quotients are built to cancel (`a ⊙ (b ⊘ a + …)`).
fn random_quotient(rng: &mut u64, depth: u32) -> String {
    let mut next = |n: u64| {
        *rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*rng >> 33) % n
    };
    let leaves = ["x", "y", "c", "1", "2", "(1 - x)", "(y + c)"];
    if depth == 0 {
        return leaves[next(leaves.len() as u64) as usize].to_string();
    }
    let (a, b) = (random_quotient(rng, depth - 1), random_quotient(rng, depth - 1));
    let mut next = |n: u64| {
        *rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*rng >> 33) % n
    };
    match next(8) {
        0 => format!("({a} + {b})"),
        1 => format!("({a} - {b})"),
        2 => format!("({a}.*{b})"),
        3 => format!("({a}./{b})"),
        4 => format!("({a}).^2"),
        5 => format!("({a}).^-1"),
        6 => format!("({a}).^3 - {b}"),
        _ => format!("({b}.*({a}./{b} + {b}./(1 - x)))"),
    }
}

#[test]
fn cancel_and_expand_keeps_the_value_of_random_quotients() {
    let rule = RULES.iter().find(|r| r.name == "cancel-and-expand").expect("the rule");
    let (mut fired, mut compared) = (0, 0);
    for seed in 0..1500u64 {
        let mut rng = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let expression = random_quotient(&mut rng, 1 + (seed % 3) as u32);
        let source = format!("x, y: vector(n)\nc: scalar\nE = {expression} .* x");
        let program = parse(&source);
        let mut graph = program.graph.clone();
        let before = program.lookup("E").expect("defined");
        let Some(after) = (rule.apply)(&mut graph, before) else { continue };
        fired += 1;
        assert_eq!(graph.shape(after), graph.shape(before), "{expression}");
        let sizes = sizes(&graph, 4);
        for point in 0..3 {
            let inputs = random_inputs(&graph, &sizes, seed * 3 + point);
            let (b, a) = (eval1(&graph, &sizes, &inputs, before), eval1(&graph, &sizes, &inputs, after));
            // Near a zero of a cancelled denominator both sides lose digits (or the original
            // is undefined there); such points say nothing about the rewrite.
            if b.data.iter().any(|v| !v.is_finite() || v.abs() > 1e6) {
                continue;
            }
            compared += 1;
            let error = relative_error(&a, &b, b.max_abs().max(1.0));
            assert!(error <= 1e-8, "{expression}: {:?} became {:?} ({error:e})", b.data, a.data);
        }
    }
    assert!(fired >= 200 && compared >= 500, "the rule fired {fired} times, {compared} points compared");
}

#[test]
fn a_power_of_a_power_is_bracketed_in_unicode() {
    // `s⁴²` would read as s to the 42nd; (s⁴)² is what the gradient of (s⁴)³ holds. A
    // vector's powers are marked elementwise, and bracketed the same way.
    for (source, printed) in [("s: scalar\nL = (s^4)^3", "(s⁴)²"), ("x: vector(n)\nL = sum((x.^4).^3)", "(x^∘4)^∘2")]
    {
        let gradient = parse(source).gradient(&[]).expect("a scalar output");
        let wrt = &gradient.wrt[0];
        let text = gradient.closed_form(wrt, Notation::Unicode);
        assert!(text.contains(printed) && !text.contains("⁴²"), "{text}");
        check_first_order(source, 3, 2);
    }
}

#[test]
fn cancel_and_expand_gives_up_on_exponents_past_its_bound() {
    // Nested powers multiply exponents: 4¹⁶ once wrapped to 0 and the quotient "cancelled"
    // to 1 ⊘ y (found in review); nested powers of a cancelling sum once expanded for
    // minutes. Both are now left alone, quickly.
    let rule = RULES.iter().find(|r| r.name == "cancel-and-expand").expect("the rule");
    let nested = |inner: &str, k: usize| (0..k).fold(inner.to_string(), |e, _| format!("({e}).^4"));
    let sources = [
        format!("E = {} ./ y", nested("x", 16)),
        format!("E = (x ./ (x + y - y)) .* (x + y - y) .* {}", nested("x + y - y", 12)),
    ];
    for statement in sources {
        let program = parse(&format!("x, y: vector(n)\n{statement}"));
        let mut graph = program.graph.clone();
        let before = program.lookup("E").expect("defined");
        let start = std::time::Instant::now();
        let after = (rule.apply)(&mut graph, before);
        assert!(start.elapsed().as_secs_f64() < 1.0, "{statement}: {:?}", start.elapsed());
        assert_eq!(after, None, "{statement}");
    }
}

#[test]
fn random_programs_have_gradients_that_agree_with_finite_differences() {
    let mut checked = 0;
    for seed in 0..300u64 {
        let source = random_program(seed, 1 + (seed % 8) as usize);
        let program = parse(&source);
        let gradient = program.gradient(&[]).expect("scalar");
        let graph = &gradient.program.graph;
        let sizes: Sizes = sizes(graph, 3);
        let inputs: HashMap<String, Array> = random_inputs(graph, &sizes, seed);
        let value = eval1(graph, &sizes, &inputs, gradient.program.output_node()).data[0];
        // A random composition can overflow; such a point says nothing about derivatives.
        if !value.is_finite() || value.abs() > 1e8 {
            continue;
        }
        checked += 1;
        let pairs: Vec<(NodeId, NodeId)> = gradient.wrt.iter().map(|w| (w.node, w.gradient)).collect();
        let errors =
            check_gradients(graph, gradient.program.output_node(), &pairs, &sizes, &inputs).expect("evaluates");
        for (name, error) in errors {
            assert!(
                error <= 1e-5,
                "seed {seed}: ∂L/∂{name} relative error {error:e}\n{source}\n{}",
                closed_forms(&gradient)
            );
        }
    }
    assert!(checked >= 270, "only {checked} of 300 random programs had a finite value");
}

/// Forward mode agrees with reverse mode: for random tangents dx, the differential dL equals
/// Σₓ ⟨∂L/∂x, dx⟩, for every row of the rule table.
#[test]
fn differentials_agree_with_gradients() {
    use crate::diff::differential;
    for (name, source) in RULE_TABLE {
        let gradient = parse(source).gradient(&[]).expect("scalar");
        let mut graph = gradient.program.graph.clone();
        let tangents: Vec<(NodeId, NodeId)> = gradient
            .wrt
            .iter()
            .map(|w| {
                let shape = graph.shape(w.node);
                (w.node, graph.add_input(&format!("d{}", w.name), shape))
            })
            .collect();
        let output = gradient.program.output_node();
        let dl = differential(&mut graph, output, &tangents).expect("L depends on its inputs");
        let sizes = sizes(&graph, 3);
        for seed in 0..3 {
            let inputs = random_inputs(&graph, &sizes, 50 + seed);
            let forward = eval1(&graph, &sizes, &inputs, dl).data[0];
            let reverse: f64 = gradient
                .wrt
                .iter()
                .map(|w| {
                    let g = eval1(&graph, &sizes, &inputs, w.gradient);
                    let dx = &inputs[&format!("d{}", w.name)];
                    g.data.iter().zip(&dx.data).map(|(a, b)| a * b).sum::<f64>()
                })
                .sum();
            let scale = forward.abs().max(reverse.abs()).max(1e-12);
            assert!((forward - reverse).abs() <= 1e-9 * scale, "{name}: dL = {forward} but ⟨∇L, dx⟩ = {reverse}");
        }
    }
}

/// Issue 14's table: each program's closed forms as a careful person writes them, exactly,
/// and each checked against finite differences.
#[test]
fn closed_forms_are_as_compact_as_a_careful_persons() {
    let data = include_str!("data/simplified.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for block in data.split("\n=== ").skip(1) {
        let (title, rest) = block.split_once('\n').expect("a title line");
        let (source, expected) = rest.split_once("---\n").expect("a program, then ---, then its closed forms");
        let gradient = check_first_order(source, 3, 3);
        let printed = closed_forms(&gradient);
        if printed.trim_end() != expected.trim_end() {
            failures.push(format!("=== {title}\nexpected:\n{expected}printed:\n{printed}"));
        }
        count += 1;
    }
    assert!(count >= 14, "the table has {count} rows");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One value spelled two ways is recognised (transposes moved, products re-associated,
/// terms and factors reordered, a trace rotated), and values that differ are not; each pair
/// said equal is also equal numerically.
#[test]
fn equal_values_are_recognised_across_spellings() {
    use crate::simplify::equal::same_value;
    let source = "A, B, C: matrix(n, n)\nx, y: vector(n)\nc: scalar\n\
        P1 = (C*A)'\nQ1 = A'*C'\n\
        P2 = A*(B*C)\nQ2 = (A*B)*C\n\
        P3 = (A + A')'\nQ3 = A + A'\n\
        P4 = inv(A)'\nQ4 = inv(A')\n\
        P5 = tr(A*B*C)\nQ5 = tr(C*A*B)\n\
        P6 = tr((A*B)')\nQ6 = tr(B*A)\n\
        P7 = x'*y\nQ7 = y'*x\n\
        P8 = (c*A.*B)'\nQ8 = B'.*A'*c\n\
        P9 = sum(A*B)\nQ9 = sum(B'*A')\n\
        P10 = sigmoid(A)'\nQ10 = sigmoid(A')\n\
        N1 = A*B\nM1 = B*A\n\
        N2 = A'\nM2 = A\n\
        N3 = tr(A*B*C)\nM3 = tr(A*C*B)\n\
        N4 = A./B\nM4 = B./A\n\
        N5 = x*y'\nM5 = y*x'\n\
        N6 = sum(A*B)\nM6 = sum(B*A)\n\
        N7 = A + B'\nM7 = A + B\n\
        N8 = A^3\nM8 = A^2";
    let program = parse(source);
    // A named node is an atom: the statements' names come off, to compare their expressions.
    let mut graph = program.graph.clone();
    for statement in &program.statements {
        graph.forget_name(statement.node, &statement.name);
    }
    let graph = &graph;
    let sizes = sizes(graph, 4);
    let inputs = random_inputs(graph, &sizes, 3);
    let node = |name: &str| program.lookup(name).expect("defined");
    for i in 1..=10 {
        let (p, q) = (node(&format!("P{i}")), node(&format!("Q{i}")));
        assert!(same_value(graph, p, q), "P{i} and Q{i} are one value");
        let error = relative_error(&eval1(graph, &sizes, &inputs, p), &eval1(graph, &sizes, &inputs, q), 1e-12);
        assert!(error <= 1e-12, "P{i} ≠ Q{i} numerically: {error:e}");
    }
    for i in 1..=8 {
        let (n, m) = (node(&format!("N{i}")), node(&format!("M{i}")));
        assert!(!same_value(graph, n, m), "N{i} and M{i} differ");
    }
}

/// Whatever pairs of nodes of random programs the comparison calls one value are one value.
#[test]
fn nodes_said_equal_are_equal() {
    use crate::simplify::equal::same_value;
    let mut equal_pairs = 0;
    for seed in 0..60u64 {
        let program = parse(&random_program(seed, 6));
        let mut graph = program.graph.clone();
        for statement in &program.statements {
            graph.forget_name(statement.node, &statement.name);
        }
        let graph = &graph;
        let sizes = sizes(graph, 3);
        let inputs = random_inputs(graph, &sizes, seed);
        let nodes: Vec<NodeId> = (0..graph.len() as u32).map(NodeId).collect();
        let values = crate::eval::evaluate(graph, &sizes, &inputs, &nodes).expect("evaluates");
        for (i, &a) in nodes.iter().enumerate() {
            for &b in &nodes[..i] {
                if graph.shape(a) != graph.shape(b) || !same_value(graph, a, b) {
                    continue;
                }
                equal_pairs += 1;
                let error = relative_error(&values[a.index()], &values[b.index()], 1e-9);
                assert!(
                    error <= 1e-9 || !error.is_finite(),
                    "seed {seed}: nodes {a:?} and {b:?} said equal: {error:e}"
                );
            }
        }
    }
    assert!(equal_pairs > 0, "no pair was said equal: the test would not see a wrong answer");
}

/// Random programs' gradients printed in Unicode and in LaTeX read back, as a statement over
/// the program's inputs, to the values matgrad computed: the display forms a person copies
/// mean what the numbers are.
#[test]
fn printed_gradients_read_back_in_display_notations() {
    use crate::print::print;
    let inputs_plain = "x, y: vector(n)\nA, B: matrix(n, n)\nc: scalar";
    let inputs_latex = "$$x \\in \\mathbb{R}^{n}$$\n$$y \\in \\mathbb{R}^{n}$$\n$$A \\in \\mathbb{R}^{n \\times n}$$\n$$B \\in \\mathbb{R}^{n \\times n}$$\n$$c \\in \\mathbb{R}$$";
    let (mut compared, mut refused) = (0, Vec::new());
    // Besides random programs, the ones whose forms once read as something else: `Bᵀ −1 𝟙 𝟙ᵀ`
    // (a difference, where Bᵀ (−1 𝟙 𝟙ᵀ) was meant).
    let fixed = ["L = sum(A*B) - sum(B*A)", "L = sum(A*x) - sum(A'*x)", "L = sum(A*A') - sum(A'*A)"];
    let sources = (0..80u64)
        .map(|seed| (seed, random_program(seed, 1 + (seed % 6) as usize)))
        .chain(fixed.iter().zip(80..).map(|(statement, seed)| (seed, format!("{inputs_plain}\n{statement}"))));
    for (seed, source) in sources {
        let gradient = parse(&source).gradient(&[]).expect("scalar");
        let graph = &gradient.program.graph;
        let namer = |_: NodeId| None;
        let sizes = sizes(graph, 3);
        let inputs = random_inputs(graph, &sizes, seed);
        for wrt in &gradient.wrt {
            let expected = eval1(graph, &sizes, &inputs, wrt.gradient);
            if expected.data.iter().any(|v| !v.is_finite() || v.abs() > 1e8) {
                continue;
            }
            for notation in [Notation::Unicode, Notation::Latex] {
                let form = print(graph, wrt.gradient, notation, &namer);
                let text = match notation {
                    Notation::Latex => format!("{inputs_latex}\n$$G = {form}$$\n$$H = G + 0 {}$$", wrt.name),
                    _ => format!("{inputs_plain}\nG = {form}\nH = G + 0*{}", wrt.name),
                };
                let again = match Program::parse(&text) {
                    Ok(again) => again,
                    Err(e) => {
                        refused.push(format!("seed {seed} ∂/∂{} {notation:?}: {form}\n  {}", wrt.name, e.message));
                        continue;
                    }
                };
                let node = again.lookup("G").expect("defined");
                let value = match crate::eval::evaluate(&again.graph, &sizes, &inputs, &[node]) {
                    Ok(mut values) => values.remove(0),
                    Err(e) => {
                        refused.push(format!("seed {seed} ∂/∂{} {notation:?}: {form}\n  {}", wrt.name, e.message));
                        continue;
                    }
                };
                let error = relative_error(&value, &expected, 1e-8);
                assert!(
                    error <= 1e-8,
                    "seed {seed}, ∂/∂{} in {notation:?}: {form} reads back {error:e} away",
                    wrt.name
                );
                compared += 1;
            }
        }
    }
    // Every printed form reads back: a vector's elementwise square is written `y^∘2` (the
    // reader refuses `y²`, which could mean yᵀy), and LaTeX's `A^{\circ 2}` reads.
    eprintln!("{compared} printed forms read back");
    assert!(refused.is_empty(), "{} printed forms do not read back:\n{}", refused.len(), refused.join("\n"));
    assert!(compared >= 600, "only {compared} printed forms read back");
}

/// A closed form whose 𝟙s have several lengths writes each on it (`𝟙ₙ 𝟙ₖᵀ Wᵀ`), in every
/// display notation, and the text reads back, as a statement of the program, to the same
/// values; a closed form with 𝟙s of one length leaves it to the context (`n 𝟙`).
#[test]
fn ones_of_several_lengths_carry_them_and_read_back() {
    use crate::print::print;
    let source = "X: matrix(n, d)\nW: matrix(d, k)\nb: vector(k)\nL = sum(X*W + ones(n)*b')";
    let gradient = parse(source).gradient(&[]).expect("scalar");
    let graph = &gradient.program.graph;
    let latex_inputs =
        "$$X \\in \\mathbb{R}^{n \\times d}$$\n$$W \\in \\mathbb{R}^{d \\times k}$$\n$$b \\in \\mathbb{R}^{k}$$";
    let namer = |_: NodeId| None;
    let sizes = Sizes::from_pairs(&[("n", 4), ("d", 3), ("k", 2)]);
    let inputs = random_inputs(graph, &sizes, 5);
    let mut shown = Vec::new();
    for wrt in &gradient.wrt {
        let expected = eval1(graph, &sizes, &inputs, wrt.gradient);
        for (notation, statement) in [
            (Notation::Unicode, format!("G = {}", print(graph, wrt.gradient, Notation::Unicode, &namer))),
            (Notation::Latex, format!("$$G = {}$$", print(graph, wrt.gradient, Notation::Latex, &namer))),
        ] {
            // The gradient's context is its variable's shape, which a 𝟙 of one length takes.
            let again = match notation {
                Notation::Latex => format!("{latex_inputs}\n{statement}\n$$H = G + 0 {}$$", wrt.name),
                _ => format!("{source}\n{statement}\nH = G + 0*{}", wrt.name),
            };
            let again = parse(&again);
            let value = eval1(&again.graph, &sizes, &inputs, again.lookup("G").expect("defined"));
            assert!(relative_error(&value, &expected, 1e-12) <= 1e-12, "∂L/∂{} in {notation:?}: {statement}", wrt.name);
            shown.push(statement);
        }
    }
    assert_eq!(
        shown,
        [
            "G = 𝟙ₙ 𝟙ₖᵀ Wᵀ",
            r"$$G = \mathbf{1}_{n} \mathbf{1}_{k}^\top W^\top$$",
            "G = Xᵀ 𝟙ₙ 𝟙ₖᵀ",
            r"$$G = X^\top \mathbf{1}_{n} \mathbf{1}_{k}^\top$$",
            "G = n 𝟙",
            r"$$G = n \mathbf{1}$$",
        ]
    );
    let mathml = print(graph, gradient.wrt[0].gradient, Notation::MathMl, &namer);
    assert!(mathml.contains("<msub><mi>𝟙</mi><mi>n</mi></msub>"), "{mathml}");
    assert!(mathml.contains("<msubsup><mi>𝟙</mi><mi>k</mi><mo>⊤</mo></msubsup>"), "{mathml}");
    // A size with no Unicode subscript is written after `_`, and reads back the same way.
    let upper = parse("X: matrix(N, K)\nL = sum(X*ones(K, 3))").gradient(&[]).expect("scalar");
    let text = print(&upper.program.graph, upper.wrt[0].gradient, Notation::Unicode, &namer);
    assert_eq!(text, "3 𝟙_N 𝟙_Kᵀ");
}

/// Random programs' printed gradients are a fixed point: printed in ASCII, read back as a
/// statement of the program and simplified again, they print no longer, and keep their
/// values.
#[test]
fn printed_gradients_are_a_fixed_point_of_simplification() {
    use crate::print::print;
    let (mut compared, mut total) = (0, 0);
    for seed in 0..120u64 {
        let source = random_program(seed, 1 + (seed % 6) as usize);
        let gradient = parse(&source).gradient(&[]).expect("scalar");
        let graph = &gradient.program.graph;
        let namer = |n: NodeId| match graph.op(n) {
            Op::Input(_) => None,
            _ => graph.name(n).map(str::to_string),
        };
        for wrt in &gradient.wrt {
            total += 1;
            let first = print(graph, wrt.gradient, Notation::Ascii, &namer);
            let again = format!("{source}\nzz9 = {first}\n");
            let Ok(program) = Program::parse(&again) else { continue };
            let mut reread = program.graph.clone();
            let node = program.output_node();
            reread.forget_name(node, "zz9");
            let simplified = crate::simplify::simplify(&mut reread, node);
            let reread_namer = |n: NodeId| match reread.op(n) {
                Op::Input(_) => None,
                _ => reread.name(n).map(str::to_string),
            };
            let second = print(&reread, simplified, Notation::Ascii, &reread_namer);
            let (a, b) = (crate::report::size(&first).expect("reads"), crate::report::size(&second).expect("reads"));
            assert!(b <= a, "seed {seed}, ∂/∂{}: {first} (size {a}) became {second} (size {b})\n{source}", wrt.name);
            let sizes: Sizes = sizes(&reread, 3);
            let inputs = random_inputs(&reread, &sizes, seed);
            let before = eval1(&reread, &sizes, &inputs, node);
            let after = eval1(&reread, &sizes, &inputs, simplified);
            let error = relative_error(&after, &before, 1e-8);
            assert!(error <= 1e-9 || !error.is_finite(), "seed {seed}: {first} ≠ {second}: {error:e}");
            compared += 1;
        }
    }
    assert!(compared * 10 >= total * 9, "only {compared} of {total} printed gradients read back");
}

/// When the simplifier's budget runs out, nodes are built as asked: the gradients stay
/// correct, are not in canonical form (longer, with no budget at all), and the report says
/// that simplification stopped.
#[test]
fn a_spent_budget_leaves_gradients_correct_and_says_so() {
    let source = example("backprop.mg");
    let full = parse(&source).gradient(&[]).expect("scalar");
    assert!(!full.program.graph.simplifier.exhausted());
    for budget in [0, 10] {
        let mut program = parse(&source);
        program.graph.simplifier = crate::simplify::Simplifier::with_budget(budget);
        let gradient = program.gradient(&[]).expect("scalar");
        let graph = &gradient.program.graph;
        assert!(graph.simplifier.exhausted(), "budget {budget}");
        // With no budget at all nothing is simplified, so the forms are longer; with a little,
        // they are only not yet canonical (the same length, the 2 not yet collected).
        let (spent, canonical) = (closed_forms(&gradient), closed_forms(&full));
        if budget == 0 {
            assert!(spent.len() > canonical.len(), "budget 0:\n{spent}\n{canonical}");
        } else {
            assert_ne!(spent, canonical, "budget {budget}");
        }
        let sizes = sizes(graph, 3);
        let inputs = random_inputs(graph, &sizes, 1);
        let pairs: Vec<(NodeId, NodeId)> = gradient.wrt.iter().map(|w| (w.node, w.gradient)).collect();
        for (name, error) in check_gradients(graph, gradient.program.output_node(), &pairs, &sizes, &inputs).unwrap() {
            assert!(error <= TOLERANCE, "budget {budget}: ∂L/∂{name}: {error:e}");
        }
        let report = gradient.report(None, None).expect("a report");
        assert!(report.simplification_stopped);
    }
}

/// A gradient that is zero because large terms cancel passes the finite-difference check:
/// the differences carry the rounding of each term, not of the (zero) output, and the check's
/// floor is sized by the largest scalar the output is computed from. A wrong gradient of the
/// same program still fails by orders of magnitude.
#[test]
fn cancelling_terms_check_as_zero_and_a_wrong_gradient_still_fails() {
    let inputs_text = "A, B: matrix(n, n)";
    for statement in [
        "L = exp(sum(A)) - exp(sum(A'))",
        "L = exp(tr(A*B)) - exp(tr(B*A))",
        "L = sum(A*B)^3 - sum(B*A)^3 + sum(A)^4 - sum(A')^4",
    ] {
        check_first_order(&format!("{inputs_text}\n{statement}"), 6, 8);
    }
    // ∂L/∂A = 10⁻³ 𝟙 𝟙ᵀ beside the cancelling determinants: claimed zero, it must fail.
    let gradient =
        parse(&format!("{inputs_text}\nL = det(A*B) - det(B*A) + 0.001*sum(A)")).gradient(&[]).expect("scalar");
    let mut graph = gradient.program.graph.clone();
    let a = gradient.wrt.iter().find(|w| w.name == "A").expect("A").node;
    let shape = graph.shape(a);
    let zero = graph.add(Op::Fill(crate::ir::Constant(0.0), shape)).expect("a fill");
    let sizes = sizes(&graph, 6);
    for seed in 0..4 {
        let inputs = random_inputs(&graph, &sizes, seed);
        let errors =
            check_gradients(&graph, gradient.program.output_node(), &[(a, zero)], &sizes, &inputs).expect("evaluates");
        assert!(errors[0].1 > 1e-4, "a wrong gradient passed: relative error {:e} at seed {seed}", errors[0].1);
    }
}
