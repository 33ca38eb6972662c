//! The compiled plan against the interpreter: every derivative rule's program, the examples
//! and random programs give the interpreter's values and gradients to 1e-12 relative (to the
//! larger of the result and the terms of its last operation), at
//! sizes small and large enough to cross the kernels' blocks and thresholds; and the API's
//! errors are values that name what is wrong.

use super::common;

use std::collections::HashMap;

use crate::check::relative_error;
use crate::eval::{evaluate, Sizes};
use crate::ir::NodeId;
use crate::{Array, Error, Gradient, Program};
use common::{example, parse, random_inputs, random_program, sizes, RULE_TABLE};

const TOLERANCE: f64 = 1e-12;

fn buffers(inputs: &HashMap<String, Array>) -> Vec<(&str, &[f64])> {
    inputs.iter().map(|(name, array)| (name.as_str(), array.data.as_slice())).collect()
}

/// Compiles the value and every gradient of `gradient` with every dimension at `size`, runs
/// it at random points, and compares each result with the interpreter's. Returns how many
/// points had finite values (a random composition can overflow; such a point is skipped).
fn agrees_with_interpreter(label: &str, gradient: &Gradient, size: usize, seeds: std::ops::Range<u64>) -> usize {
    let graph = &gradient.program.graph;
    let sizes: Sizes = sizes(graph, size);
    let dims: Vec<(&str, usize)> = sizes.iter().collect();
    let compiled = gradient.compile(&dims).unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut nodes: Vec<NodeId> = vec![gradient.program.output_node()];
    nodes.extend(gradient.wrt.iter().map(|w| w.gradient));
    let names: Vec<&str> = std::iter::once("value").chain(gradient.wrt.iter().map(|w| w.name.as_str())).collect();
    // One set of outputs for every point: a run must not depend on what the last one left.
    let mut outputs = compiled.outputs();
    let mut finite = 0;
    for seed in seeds {
        let inputs = random_inputs(graph, &sizes, seed);
        compiled.run(&buffers(&inputs), &mut outputs).unwrap_or_else(|e| panic!("{label}: {e}"));
        let expected = evaluate(graph, &sizes, &inputs, &nodes).expect("the interpreter evaluates");
        if expected.iter().any(|a| a.data.iter().any(|v| !v.is_finite() || v.abs() > 1e12)) {
            continue;
        }
        finite += 1;
        // The two evaluators sum in different orders, so they may differ by rounding in the
        // terms of the last operation: where a result is the small difference of large
        // terms, their size, not the result's, is the scale of agreement.
        let scales: Vec<f64> = nodes
            .iter()
            .map(|&id| {
                let children = graph.op(id).children();
                let terms = evaluate(graph, &sizes, &inputs, children.as_slice()).expect("the interpreter evaluates");
                terms.iter().fold(0.0_f64, |m, a| m.max(a.max_abs()))
            })
            .collect();
        let got = std::iter::once(outputs.value()).chain(outputs.gradients().map(|(_, a)| a));
        for (((name, got), expected), &scale) in names.iter().zip(got).zip(&expected).zip(&scales) {
            assert_eq!((got.rows, got.cols), (expected.rows, expected.cols), "{label}: shape of {name}");
            let error = relative_error(got, expected, scale);
            assert!(
                error <= TOLERANCE,
                "{label} (size {size}, seed {seed}): {name} differs from the interpreter by {error:e}\n\
                 compiled:    {:?}\ninterpreter: {:?}",
                &got.data[..got.data.len().min(6)],
                &expected.data[..expected.data.len().min(6)],
            );
        }
    }
    finite
}

#[test]
fn every_rule_table_program_agrees_with_the_interpreter() {
    for (name, source) in RULE_TABLE {
        let gradient = parse(source).gradient(&[]).expect("a scalar output");
        // 1 is degenerate, 3 tiny; 37 spans several blocks of a flat loop; 200 crosses the
        // column length of a block and the thresholds for two threads.
        for size in [1, 3, 37, 200] {
            // A 1×1 "matrix" makes some rows ill-posed (logdet of a random 1×1, say); the
            // finite points are still compared.
            agrees_with_interpreter(name, &gradient, size, 0..2);
        }
    }
}

#[test]
fn the_examples_agree_with_the_interpreter() {
    for file in [
        "backprop.mg",
        "backprop.tex",
        "logistic_regression.mg",
        "softmax_cross_entropy.mg",
        "mlp.mg",
        "least_squares.mg",
    ] {
        let gradient = parse(&example(file)).gradient(&[]).expect("a scalar output");
        for size in [2, 16, 257] {
            assert!(agrees_with_interpreter(file, &gradient, size, 0..2) > 0, "{file}: no finite point");
        }
    }
}

#[test]
fn batched_programs_agree_with_the_interpreter() {
    // Matrices of samples, as the benchmark writes its workloads: products of every shape.
    let sources = [
        "X, T: matrix(d, b)\nW1, W2: matrix(d, d)\nH = tanh(W1*X)\nY = W2*H\nL = norm2(Y - T)^2/2",
        "X: matrix(b, d)\nt: vector(b)\nw: vector(d)\ns = X*w\nL = sum(softplus(s) - t.*s)",
        "A, B, C: matrix(d, d)\nx: vector(d)\nL = x'*A*B*C*x + tr(A*B') + sum(diag(x)*A*diag(x))",
        "A: matrix(d, b)\nu: vector(d)\nv: vector(b)\nc: scalar\nL = sum((c*u*v' - 2*A).^2) + norm1(A'*u)",
    ];
    for source in sources {
        let gradient = parse(source).gradient(&[]).expect("a scalar output");
        // 420: each thread's half of a 420 × 420 matrix–vector product is past the size at
        // which the kernel changes its loop order, with rows and columns not whole vectors.
        for size in [3, 40, 300, 420] {
            assert!(agrees_with_interpreter(source, &gradient, size, 0..2) > 0, "{source}: no finite point");
        }
    }
}

#[test]
fn random_programs_agree_with_the_interpreter() {
    let mut compared = 0;
    for seed in 0..150u64 {
        let source = random_program(seed, 1 + (seed % 8) as usize);
        let gradient = parse(&source).gradient(&[]).expect("a scalar output");
        for size in [3, 20] {
            compared += agrees_with_interpreter(&source, &gradient, size, seed..seed + 1);
        }
    }
    assert!(compared >= 250, "only {compared} of 300 random points were finite");
}

#[test]
fn a_product_and_its_transpose_share_one_pass_and_agree() {
    // `Xᵀ w` then `X f(Xᵀ w)`, with and without a pointwise program between, with elementwise
    // parts, with a run-time scale computed after the first product (moved before the pass);
    // 300 spans two blocks and runs on two threads, 40 is one block on one.
    let sources = [
        "X: matrix(d, b)\nt: vector(b)\nw: vector(d)\ns = X'*w\nL = sum(softplus(s) - t.*s)",
        "A: matrix(n, m)\nb: vector(m)\nx: vector(n)\nL = norm2(A'*x - b)^2 + sum(x)",
        "A: matrix(n, n)\nx: vector(n)\nc: scalar\nL = c*sum((A'*x).^2)",
    ];
    for source in sources {
        let text = plan(source, 300);
        assert!(text.contains("one pass over") && text.contains("2 threads"), "{source}\n{text}");
        let gradient = parse(source).gradient(&[]).expect("a scalar output");
        for size in [3, 40, 300] {
            assert!(agrees_with_interpreter(source, &gradient, size, 0..2) > 0, "{source}: no finite point");
        }
    }
}

#[test]
fn an_infinite_entry_gives_the_same_value_in_every_loop_order() {
    // One infinite entry in the last column of a large A: tanh(∞) = 1. The column-sweep
    // kernel once padded a short last group of columns with zero coefficients, and 0 · ∞ made
    // the result NaN (found in review). 201 and 203 columns leave a short group; 208 none.
    let source = "A: matrix(n, m)\nx: vector(m)\nL = sum(tanh(A*x))";
    for (n, m) in [(1000, 201), (1000, 203), (1000, 208)] {
        let f = parse(source).compile(&[("n", n), ("m", m)]).expect("compiles");
        let mut a = vec![0.001; n * m];
        a[(m - 1) * n] = f64::INFINITY;
        let x = vec![1.0; m];
        let mut out = f.outputs();
        f.run(&[("A", &a), ("x", &x)], &mut out).expect("runs");
        let expected = 1.0 + (n - 1) as f64 * (0.001 * m as f64).tanh();
        let got = out.scalar().expect("a scalar");
        assert!((got - expected).abs() <= 1e-9 * expected, "{m} columns: {got}, expected {expected}");
    }
}

#[test]
fn a_gradient_too_large_for_the_caches_is_written_exactly() {
    // ∂L/∂A = x yᵀ + 2 x zᵀ: at 2048 × 2048 (32 MiB) the thin product writes past the caches
    // with streaming stores, on two threads; 2047 rows are not all 16-byte aligned and take
    // the ordinary stores. Each entry is x_i (y_j + 2 z_j) to rounding either way.
    let source = "A: matrix(m, n)\nx: vector(m)\ny, z: vector(n)\nL = x'*A*y + 2*x'*A*z";
    for (m, n) in [(2048, 2048), (2047, 2048)] {
        let f = parse(source).gradient(&["A"]).expect("a gradient").compile(&[("m", m), ("n", n)]).expect("compiles");
        let x: Vec<f64> = (0..m).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = (0..n).map(|j| (j as f64 * 0.11).cos()).collect();
        let z: Vec<f64> = (0..n).map(|j| 1.0 / (1.0 + j as f64)).collect();
        let a = vec![0.5; m * n];
        let mut out = f.outputs();
        // Twice: the second run writes over the first's result.
        for _ in 0..2 {
            f.run(&[("A", &a), ("x", &x), ("y", &y), ("z", &z)], &mut out).expect("runs");
        }
        let gradient = out.gradient("A").expect("∂L/∂A");
        for j in 0..n {
            for (i, &xi) in x.iter().enumerate() {
                let expected = xi * y[j] + 2.0 * xi * z[j];
                let got = gradient.data[i + j * m];
                let scale = xi.abs() * (y[j].abs() + 2.0 * z[j].abs());
                assert!((got - expected).abs() <= 1e-15 * scale, "{m}×{n} at ({i}, {j}): {got} ≠ {expected}");
            }
        }
    }
}

#[test]
fn value_only_compilation_agrees_with_the_interpreter() {
    let program = parse(&example("backprop.mg"));
    let sizes = sizes(&program.graph, 33);
    let inputs = random_inputs(&program.graph, &sizes, 7);
    let compiled = program.compile(&[("K", 33)]).expect("compiles");
    let mut outputs = compiled.outputs();
    compiled.run(&buffers(&inputs), &mut outputs).expect("runs");
    let expected = evaluate(&program.graph, &sizes, &inputs, &[program.output_node()]).expect("evaluates");
    assert!(relative_error(outputs.value(), &expected[0], 0.0) <= TOLERANCE);
    assert_eq!(outputs.gradients().count(), 0);
}

#[test]
fn the_documented_call_chain_works_with_question_marks() -> Result<(), Error> {
    let source = "x: vector(K)\nA, B: matrix(K, K)\nL = norm2(A*x + B*x)^2";
    let f = Program::parse(source)?.gradient(&["A", "B"])?.compile(&[("K", 2)])?;
    let (a, b, x) = (vec![1.0, 0.0, 0.0, 1.0], vec![0.0; 4], vec![1.0, 2.0]);
    let mut out = f.outputs();
    f.run(&[("A", &a), ("B", &b), ("x", &x)], &mut out)?;
    assert!((out.scalar().expect("a scalar") - 5.0).abs() < 1e-12);
    // ∂L/∂A = 2 (A + B) x xᵀ
    assert_eq!(out.gradient("A").map(|g| g.data.clone()), Some(vec![2.0, 4.0, 4.0, 8.0]));
    assert!(out.gradient("x").is_none());
    Ok(())
}

fn example_function() -> (crate::Compiled, Vec<f64>, Vec<f64>) {
    let f =
        parse(&example("backprop.mg")).gradient(&["A", "B"]).expect("scalar").compile(&[("K", 3)]).expect("compiles");
    (f, vec![0.5; 9], vec![1.0; 3])
}

fn message(error: Error) -> String {
    error.to_string()
}

#[test]
fn a_buffer_of_the_wrong_length_is_an_error_naming_the_input_and_both_sizes() {
    let (f, a, x) = example_function();
    let mut out = f.outputs();
    let short = vec![0.0; 8];
    let error = f.run(&[("A", &a), ("B", &short), ("x", &x)], &mut out).expect_err("B is too short");
    assert_eq!(
        message(error),
        "input `B` should have 9 entries (3×3), but its buffer has 8 (hint: buffers are column-major, rows · cols entries)"
    );
}

#[test]
fn missing_unknown_and_repeated_inputs_are_errors() {
    let (f, a, x) = example_function();
    let mut out = f.outputs();
    let error = f.run(&[("A", &a), ("x", &x)], &mut out).expect_err("B is missing");
    assert_eq!(message(error), "no buffer for input `B` (3×3)");
    let error = f.run(&[("A", &a), ("B", &a), ("x", &x), ("Q", &x)], &mut out).expect_err("Q is unknown");
    assert_eq!(message(error), "`Q` is not an input of the program (hint: its inputs are: x, A, B)");
    let error = f.run(&[("A", &a), ("B", &a), ("x", &x), ("A", &a)], &mut out).expect_err("A twice");
    assert_eq!(message(error), "input `A` is given twice");
}

#[test]
fn sizes_and_mismatched_outputs_are_errors() {
    let gradient = parse(&example("backprop.mg")).gradient(&[]).expect("scalar");
    let error = gradient.compile(&[]).expect_err("K has no size");
    assert_eq!(message(error), "no size for dimension `K` (hint: give every dimension a size, e.g. (\"K\", 64))");
    let error = gradient.compile(&[("K", 3), ("Q", 2)]).expect_err("there is no Q");
    assert!(message(error).starts_with("the program has no dimension `Q`"));
    let error = gradient.compile(&[("K", 0)]).expect_err("K = 0");
    assert_eq!(message(error), "dimension `K` must be at least 1");
    let (f, a, x) = example_function();
    let (other, _, _) = example_function();
    let mut out = other.outputs();
    let error = f.run(&[("A", &a), ("B", &a), ("x", &x)], &mut out).expect_err("outputs of another function");
    assert!(message(error).starts_with("these outputs were made by a different compiled function"));
}

#[test]
fn parse_gradient_and_size_errors_are_one_error_type_with_their_kind() {
    use crate::ErrorKind;
    let kind = |result: Result<crate::Compiled, Error>| result.expect_err("an error").kind;
    let compile = |source: &str, dims: &[(&str, usize)]| -> Result<crate::Compiled, Error> {
        Program::parse(source)?.gradient(&[])?.compile(dims)
    };
    assert_eq!(kind(compile("y = A*", &[])), ErrorKind::Reading);
    assert_eq!(kind(compile("x: vector(n)\ny = A*x", &[])), ErrorKind::Request);
    assert_eq!(kind(compile("x: vector(n)\nL = sum(x)", &[])), ErrorKind::Input);
}

#[test]
fn inputs_list_what_a_run_needs() {
    let (f, _, _) = example_function();
    let inputs: Vec<(&str, (usize, usize))> = f.inputs().collect();
    assert_eq!(inputs, vec![("x", (3, 1)), ("A", (3, 3)), ("B", (3, 3))]);
}

/// The compiled plan of `source` (every dimension at `size`), one step per line.
fn plan(source: &str, size: usize) -> String {
    let gradient = parse(source).gradient(&[]).expect("a scalar output");
    let dims: Vec<(String, usize)> =
        gradient.program.graph.dims.symbols().map(|(_, n)| (n.to_string(), size)).collect();
    let dims: Vec<(&str, usize)> = dims.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    gradient.compile(&dims).expect("compiles").describe().join("\n") + "\n"
}

#[test]
fn the_backprop_plan_shares_fuses_and_packs() {
    // Each product once (forward and backward share y, u, v, z, w), the three outer products
    // of ∂L/∂A as one thin product with the 2 folded in, transposes as views, and the
    // elementwise chain of the derivative in one loop; the outer products last.
    insta::assert_snapshot!(plan(&example("backprop.mg"), 8));
}

#[test]
fn the_backprop_plan_reads_b_first_and_then_a_six_times_in_a_row() {
    // At 64 the matrices are worth ordering for: B x first (B is read twice, A six times),
    // then every pass over A, ∂L/∂x's product with A before the one with B, and the outer
    // products last.
    insta::assert_snapshot!(plan(&example("backprop.mg"), 64));
}

#[test]
fn a_product_reached_by_two_associations_is_computed_once() {
    // The value is (xᵀ A) y = xᵀ (A y), ordered by cost; ∂L/∂x = A y is the same product: one
    // pass over A for it, one for ∂L/∂y = Aᵀ x, and a copy.
    let source = "A: matrix(n, n)\nx, y: vector(n)\nL = x'*A*y";
    let text = plan(source, 64);
    assert_eq!(text.matches("A·y").count(), 1, "{text}");
    insta::assert_snapshot!(text);
    let gradient = parse(source).gradient(&[]).expect("a scalar output");
    for size in [3, 64, 300] {
        assert!(agrees_with_interpreter(source, &gradient, size, 0..2) > 0);
    }
}

#[test]
fn matrix_chains_are_associated_by_cost() {
    // Written (A B) x, computed A (B x): two matrix–vector products, no matrix product.
    let text = plan("x: vector(n)\nA, B: matrix(n, n)\nL = sum(A*B*x)", 50);
    assert!(!text.contains("matrix product"), "{text}");
    assert!(text.contains("B·x   [matrix–vector]"), "{text}");
}

#[test]
fn diagonal_and_identity_matrices_are_never_formed() {
    // Diag(x) A scales A's rows inside the loop; tr(A B) is sum(A ⊙ Bᵀ); eye(n) is a leaf.
    let text = plan("x: vector(n)\nA, B: matrix(n, n)\nL = sum(diag(x)*A) + tr(A*B) + sum(A + eye(n))", 20);
    assert!(!text.contains("Diag(") && !text.contains("matrix product"), "{text}");
    assert!(text.contains("x·1ᵀ"), "{text}");
}

#[test]
fn a_long_program_compiles_and_agrees() {
    // Two thousand uses of A: its gradient is a sum of that many terms, and every value of
    // the forward pass is alive when the backward pass starts. (Parsing and differentiating
    // recurse over the expression; the thread gets the stack the command line gives them.)
    let run = || {
        let mut source = String::from("x: vector(n)\nA: matrix(n, n)\nh0 = x\n");
        for i in 1..=2000 {
            source.push_str(&format!("h{i} = tanh(A*h{}) + h{}/2\n", i - 1, i - 1));
        }
        source.push_str("L = sum(h2000)\n");
        let gradient = parse(&source).gradient(&[]).expect("a scalar output");
        assert_eq!(agrees_with_interpreter("a chain of 2000 statements", &gradient, 3, 0..1), 1);
    };
    std::thread::Builder::new().stack_size(256 << 20).spawn(run).expect("starts").join().expect("runs");
}

#[test]
fn weighted_products_and_solves_agree_with_the_interpreter() {
    // Products with a diagonal between two matrices are weighted products (symmetric when
    // the factors are a matrix and its transpose: the triangle is computed and mirrored
    // before anything else is added, here a matrix A that is not symmetric); a product of a
    // matrix and a sum holding Diag(w) M is distributed over the sum (here the sum is shared,
    // so it is written out, scaled rows and all; the distributed case is log-sum-exp's
    // Hessian, in `second_order.rs`); inv(A) B is a solve; a diagonal in a sum is distributed
    // as well. Each at sizes on both sides of the thresholds.
    let sources = [
        "X: matrix(d, b)\nw: vector(b)\nL = sum((X*diag(w)*X').^2)",
        "X: matrix(d, b)\nw: vector(b)\nA: matrix(d, d)\nL = sum(exp((X*diag(w)*X' + A)/b))",
        "X: matrix(d, b)\nw: vector(b)\nA: matrix(d, d)\nL = sum((A*X*diag(w)*X').^2)",
        "A, B: matrix(n, n)\nw: vector(n)\nC = A*(diag(w)*B)\nL = sum(C.*C) + tr(A*diag(w)*B)",
        "A, B: matrix(n, n)\nw: vector(n)\nC = (A'*diag(w))*B'\nL = sum(exp(C/n))",
        "A: matrix(m, n)\np: vector(m)\nH = A'*(diag(p)*A - p*p'*A)\nL = sum(H.*H)",
        "A: matrix(m, n)\np: vector(m)\nH = (A'*diag(p) - A'*p*p')*A\nL = sum(sin(H))",
        "A: matrix(n, n)\nb: vector(n)\nx = inv(A)*b\nL = sum(x.*x)",
        "A, B: matrix(n, n)\nb: vector(n)\nx = inv(A)*B*b + inv(A)*b\nL = sum(x.*x) + sum(inv(A))",
        "A: matrix(m, n)\nw: vector(m)\nx, y: vector(n)\nM = A'*diag(w)*A\nL = x'*M*y",
        "A: matrix(n, n)\nX: matrix(n, m)\nz: vector(m)\nv: vector(n)\nL = sum(inv(A)*X*z) + sum(inv(A)*diag(v))",
        "A: matrix(m, n)\np, q: vector(m)\nH = A'*(diag(p)*A + diag(q)*A)\nL = sum(sin(H))",
        "X: matrix(d, n)\nL = sum(diag(X*X').^2) + sum(diag(X'*X))",
        // A diagonal in a sum, distributed: softmax's Hessian written by hand, the diagonal
        // first and second, scaled, times a vector, transposed, and two diagonals.
        "A: matrix(m, n)\np: vector(m)\nH = A'*(diag(p) - p*p')*A\nL = sum(H.*H)",
        "A: matrix(m, n)\np, u: vector(m)\nH = A'*(u*p' + diag(p))*A\nL = sum(sin(H))",
        "A: matrix(m, n)\np: vector(m)\nc: scalar\nH = c*A'*(2*(diag(p) - p*p'))*A\nL = sum(H.*H)",
        "p, u, x: vector(n)\ny = (diag(p) - u*p')*x\nL = sum(y.*y)",
        "A: matrix(m, n)\np, q: vector(m)\nH = ((diag(p) - p*p' + diag(q))*A)'\nL = sum(sin(H*A))",
        // An LU factors a computed matrix in its place only where nothing reads it later:
        // here M is read after its solve and its log-determinant.
        "A: matrix(n, n)\nb: vector(n)\nM = A*A' + A\nx = inv(M)*b\nL = sum(x.*x) + sum(M.*M)",
        "A: matrix(n, n)\nM = A*A' + A\nL = logdet(M) + sum(inv(M)) + sum(M)",
    ];
    for source in sources {
        let gradient = parse(source).gradient(&[]).expect("a scalar output");
        for size in [3, 12, 40, 300] {
            assert!(agrees_with_interpreter(source, &gradient, size, 0..2) > 0, "{source}: no finite point");
        }
    }
    // The plans take the new steps.
    let symmetric = plan(sources[0], 40);
    assert!(symmetric.contains("X·Diag(w)·Xᵀ   [weighted product, symmetric"), "{symmetric}");
    let after_init = plan(sources[1], 40);
    assert!(after_init.contains("A + 0.025·X·Diag(w)·Xᵀ   [weighted product, symmetric, by tiles"), "{after_init}");
    // ∂L/∂w = diag(Xᵀ G X)/b: the row sums of (Xᵀ ⊙ (G X)ᵀ), one matrix–vector product, not
    // the b × b product and its diagonal.
    let gradient_w = after_init.lines().find(|l| l.starts_with("∂L/∂w")).expect("∂L/∂w");
    assert!(gradient_w.contains("[matrix–vector"), "{after_init}");
    assert_eq!(after_init.matches("matrix product").count(), 2, "{after_init}");
    // A weighted product that two products extend writes Diag(w) A out once and stays a
    // chain: xᵀ Aᵀ (Diag(w) A y) and the gradients are matrix–vector products only.
    let shared = plan(sources[9], 40);
    assert!(!shared.contains("matrix product") && !shared.contains("weighted"), "{shared}");
    let value_only = |source: &str| parse(source).compile(&[("n", 40)]).expect("compiles").describe().join("\n");
    let compile = |source: &str, dims: &[(&str, usize)]| parse(source).compile(dims).expect("compiles");
    // A right-hand side wider than A is not solved for: inv(A) (X z) is cheaper.
    let wide = compile(sources[10], &[("n", 10), ("m", 100)]).describe().join("\n");
    assert!(!wide.contains("LU solve") && wide.contains("inv(A)"), "{wide}");
    // diag(X Xᵀ) of a wide X is not written out entry by entry (10 × 1000 entries).
    let diagonal = compile("X: matrix(d, n)\nL = sum(diag(X*X').^2)", &[("d", 10), ("n", 1000)]);
    assert!(diagonal.memory_bytes() < 8 * 10 * 1000, "{}", diagonal.describe().join("\n"));
    // (Diag(p) − p pᵀ) A is Diag(p) A − p (pᵀ A): the m × m sum is not written out (where
    // nothing else uses it: the gradient with respect to A does).
    let softmax = compile(sources[13], &[("m", 40), ("n", 40)]).describe().join("\n");
    assert!(softmax.contains("weighted product, symmetric") && !softmax.contains("matrix product"), "{softmax}");
    let solve = value_only(sources[7]);
    assert!(solve.contains("[LU solve]") && !solve.contains("inv(A)"), "{solve}");
    // A computed matrix that only its solve reads is factored in place: M once, not M and
    // its factors (n = 100: 80 000 bytes for M).
    let in_place = compile("A: matrix(n, n)\nb: vector(n)\nM = A*A' + A\nL = sum(inv(M)*b)", &[("n", 100)]);
    assert!(in_place.memory_bytes() < 8 * 100 * 100 * 3 / 2, "{}", in_place.describe().join("\n"));
}
