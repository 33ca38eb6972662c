//! The language: spellings, listings, error messages, evaluation, and robustness.

use super::common;

use std::collections::HashMap;

use crate::eval::{evaluate, Sizes};
use crate::print::{listing, print, show_name, Notation};
use crate::{Array, Program};
use common::{cases, error, eval1, parse, program_structure, random_inputs, random_program, sizes};
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
    let program = match crate::syntax::parse(source) {
        Ok(program) => program,
        Err(diagnostic) => return diagnostic.render("page.txt", source),
    };
    let text = |span: crate::error::Span| source[span.range()].replace('\n', " ");
    let mut out = String::new();
    for item in &program.items {
        let span = match item {
            crate::syntax::Item::Assign { span, .. } | crate::syntax::Item::Declare { span, .. } => *span,
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
    let sizes = Sizes::bind(&program.graph, &[], &given, None, crate::MEMORY_BUDGET).expect("sizes from the inputs");
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
    let error = Sizes::bind(&program.graph, &[], &given, None, crate::MEMORY_BUDGET).expect_err("mismatch");
    insta::assert_snapshot!(error.message, @"input `A` should be a K×K matrix (K = 2 from input `x`), but the given array is 3×3");
}

/// Every statement's value at random inputs (sizes 4), by name.
fn random_values(program: &Program, seed: u64) -> HashMap<String, Array> {
    let sizes = sizes(&program.graph, 4);
    let inputs = random_inputs(&program.graph, &sizes, seed);
    let nodes: Vec<_> = program.statements.iter().map(|s| s.node).collect();
    let results = evaluate(&program.graph, &sizes, &inputs, &nodes).expect("evaluates");
    program.statements.iter().map(|s| s.name.clone()).zip(results).collect()
}

#[track_caller]
fn assert_close(a: &Array, b: &Array, what: &str) {
    assert_eq!((a.rows, a.cols), (b.rows, b.cols), "{what}: shapes");
    for (x, y) in a.data.iter().zip(&b.data) {
        assert!((x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())), "{what}: {x} vs {y}\n{a:?}\n{b:?}");
    }
}

/// Each pair of statements `(left, right)` has the same value at random inputs.
#[track_caller]
fn check_equal_values(source: &str, pairs: &[(&str, &str)]) {
    let program = parse(source);
    let values = random_values(&program, 11);
    for (left, right) in pairs {
        assert_close(&values[*left], &values[*right], &format!("{left} vs {right} in {source}"));
    }
}

#[test]
fn notation_means_what_it_says_numerically() {
    // The Frobenius product is tr(AᵀB); ⟨x, y⟩ is xᵀy; `·` of vectors is xᵀy.
    check_equal_values(
        "A, B: matrix(m, n)\nx, y: vector(n)\ns = A : B\nt = tr(A'*B)\np = ⟨x, y⟩\nq = x'*y\nr = x · y\nf = 2A : B\ng = 2*tr(A'*B)",
        &[("s", "t"), ("p", "q"), ("r", "q"), ("f", "g")],
    );
    // Juxtaposition binds tighter than ⊙ and ⊘.
    check_equal_values(
        "M, A, B: matrix(n, n)\nu, x: vector(n)\nP = M ⊙ A B\nQ = M.*(A*B)\nv = u ⊙ A x\nw = u.*(A*x)\nd = u ⊘ A x + 3\nh = u./(A*x + 3)",
        &[("P", "Q"), ("v", "w")],
    );
    // `e^x`, the identity and ones.
    check_equal_values("x: vector(n)\nu = e^x\nv = exp(x)", &[("u", "v")]);
    check_equal_values(
        "A: matrix(n, n)\nx: vector(n)\nB = A + I\nC = A + eye(n)\nD = A*I_n\nE = A + 0*A\ny = x + 𝟙\nz = x + ones(n)\nw = x + 𝟙ₙ\nM = 𝟙ₙ 𝟙_Kᵀ\nN = ones(n, K)\nt = x + \\mathbf{1}_n",
        &[("B", "C"), ("D", "E"), ("y", "z"), ("w", "z"), ("M", "N"), ("t", "z")],
    );
    // Functions without parentheses.
    check_equal_values(
        "$$x, y \\in \\mathbb{R}^n$$\n$$a = \\exp x^\\top y$$\n$$b = \\exp(x^\\top y)$$\n$$c = \\sin x^\\top y \\cos x^\\top y$$\n$$d = \\sin(x^\\top y) \\cos(x^\\top y)$$",
        &[("a", "b"), ("c", "d")],
    );
}

/// Sums over indices against the loops they stand for, at inputs of distinct sizes (3 × 4
/// matrices, so that a transposed reading cannot pass), and against the matrix forms.
#[test]
fn index_sums_are_the_loops_they_write() {
    let entry = |seed: usize| move |i: usize, j: usize| ((seed * 7 + i * 5 + j * 3) % 11) as f64 / 4.0 - 1.2;
    let a = Array::from_fn(3, 4, entry(1));
    let b = Array::from_fn(3, 4, entry(2));
    let c = Array::from_fn(4, 3, entry(3));
    let s = Array::from_fn(3, 3, entry(4));
    let x = Array::from_fn(3, 1, entry(5));
    let y = Array::from_fn(4, 1, entry(6));
    let inputs =
        [("A", a.clone()), ("B", b.clone()), ("C", c.clone()), ("S", s.clone()), ("x", x.clone()), ("y", y.clone())];
    let source = [
        r"$$p = \sum_{i=1}^{m}\sum_{j=1}^{n} A_{ij}B_{ij}$$",
        r"$$q = \sum_{i,j} A_{ij} x_i y_j$$",
        r"$$r = \sum_i x_i \sum_j A_{ij} y_j$$",
        r"$$t = \sum_{i,j,k} A_{ij} C_{jk} S_{ki}$$",
        r"$$u = \sum_j (\sum_i x_i A_{ij})^2$$",
        r"$$v = \sum_i \log(1 + e^{-x_i (A y)_i})$$",
        r"$$w = \sum_{i,j} (A_{ij} - x_i y_j)^2 + \sum_i S_{ii}$$",
        r"$$z = -\sum_{j=0}^{n-1} \sum_i C_{ji} S_{ii} x_i$$",
        // The inner sum's matrix is not summed whole while another factor has the outer
        // index (it was y·sum(A), a vector).
        r"$$s = \sum_i \sum_j A_{ij} x_i$$",
    ]
    .join("\n");
    let got = values(&source, &inputs);
    let (m, n) = (3, 4);
    let sum = |f: &dyn Fn(usize, usize) -> f64, rows: usize, cols: usize| -> f64 {
        (0..rows).flat_map(|i| (0..cols).map(move |j| (i, j))).map(|(i, j)| f(i, j)).sum()
    };
    let ay = |i: usize| (0..n).map(|j| a.get(i, j) * y.get(j, 0)).sum::<f64>();
    let expected = [
        ("p", sum(&|i, j| a.get(i, j) * b.get(i, j), m, n)),
        ("q", sum(&|i, j| a.get(i, j) * x.get(i, 0) * y.get(j, 0), m, n)),
        ("r", (0..m).map(|i| x.get(i, 0) * ay(i)).sum()),
        (
            "t",
            (0..m)
                .map(|i| {
                    (0..n).map(|j| (0..m).map(|k| a.get(i, j) * c.get(j, k) * s.get(k, i)).sum::<f64>()).sum::<f64>()
                })
                .sum(),
        ),
        ("u", (0..n).map(|j| (0..m).map(|i| x.get(i, 0) * a.get(i, j)).sum::<f64>().powi(2)).sum()),
        ("v", (0..m).map(|i| (1.0 + (-x.get(i, 0) * ay(i)).exp()).ln()).sum()),
        (
            "w",
            sum(&|i, j| (a.get(i, j) - x.get(i, 0) * y.get(j, 0)).powi(2), m, n)
                + (0..m).map(|i| s.get(i, i)).sum::<f64>(),
        ),
        ("z", -sum(&|j, i| c.get(j, i) * s.get(i, i) * x.get(i, 0), n, m)),
        ("s", sum(&|i, j| a.get(i, j) * x.get(i, 0), m, n)),
    ];
    for (name, value) in expected {
        assert_close(&got[name], &Array::scalar(value), &format!("`{name}` in\n{source}"));
    }
    // And the readings are the matrix forms, whatever the sizes.
    check_equal_values(
        "$$p = \\sum_{i,j} A_{ij} B_{ij}$$\n$$P = A : B$$\n$$q = \\sum_{i,j} A_{ij} x_i y_j$$\n$$Q = x^T A y$$\n$$t = \\sum_i (A y)_i x_i$$\n$$r = \\sum_{i=1}^{n} 2$$\n$$R = 2 n$$\n$$s = \\sum_i w_i^2$$\n$$S = w^T w$$\n$$A, B \\in \\mathbb{R}^{m \\times n}, x \\in \\mathbb{R}^m, y \\in \\mathbb{R}^n$$",
        &[("p", "P"), ("q", "Q"), ("t", "Q"), ("r", "R"), ("s", "S")],
    );
}

/// A sample of a matrix in a sum, `x_i^\top \beta` as in least squares written by sample:
/// the i-th row or column of X, whichever the index's size and the vector's tell, at
/// distinct sizes (A is 3 × 4), and `x_i` the lower case of a matrix X that has no `x`.
#[test]
fn samples_of_a_matrix_in_sums_are_its_rows_or_columns() {
    let entry = |seed: usize| move |i: usize, j: usize| ((seed * 7 + i * 5 + j * 3) % 11) as f64 / 4.0 - 1.2;
    let (a, c) = (Array::from_fn(3, 4, entry(1)), Array::from_fn(4, 3, entry(2)));
    let (x, y) = (Array::from_fn(3, 1, entry(3)), Array::from_fn(4, 1, entry(4)));
    let inputs = [("A", a.clone()), ("C", c.clone()), ("x", x.clone()), ("y", y.clone())];
    let source = [
        // Rows of A (i over its 3 rows, y has its 4 columns' size).
        r"$$p = \sum_{i=1}^{m} (x_i - a_i^\top y)^2$$",
        // Columns of A, the vector first.
        r"$$q = \sum_j (y_j - x^\top a_j)^2$$",
        // A scalar before the sample, the columns of C by both sizes.
        r"$$r = \sum_i x_i c_i^\top y$$",
        r"$$t = \sum_i \log(1 + \exp(-x_i \, a_i^\top y))$$",
        // The inner product written with a dot, the vector on either side.
        r"$$u = \sum_i (a_i \cdot y)^2 + \sum_i x_i (y \cdot a_i)$$",
        r"$$A \in \mathbb{R}^{m \times n}, C \in \mathbb{R}^{n \times m}, x \in \mathbb{R}^m, y \in \mathbb{R}^n$$",
    ]
    .join("\n");
    let got = values(&source, &inputs);
    let ay = |i: usize| (0..4).map(|j| a.get(i, j) * y.get(j, 0)).sum::<f64>();
    let atx = |j: usize| (0..3).map(|i| a.get(i, j) * x.get(i, 0)).sum::<f64>();
    let cty = |i: usize| (0..4).map(|k| c.get(k, i) * y.get(k, 0)).sum::<f64>();
    let expected = [
        ("p", (0..3).map(|i| (x.get(i, 0) - ay(i)).powi(2)).sum::<f64>()),
        ("q", (0..4).map(|j| (y.get(j, 0) - atx(j)).powi(2)).sum()),
        ("r", (0..3).map(|i| x.get(i, 0) * cty(i)).sum()),
        ("t", (0..3).map(|i| (1.0 + (-x.get(i, 0) * ay(i)).exp()).ln()).sum()),
        ("u", (0..3).map(|i| ay(i).powi(2) + x.get(i, 0) * ay(i)).sum()),
    ];
    for (name, value) in expected {
        assert_close(&got[name], &Array::scalar(value), &format!("`{name}` in\n{source}"));
    }
    check_equal_values(
        "X: matrix(n, d)\ny: vector(n)\nb: vector(d)\nL = \\sum_{i=1}^{n} (y_i - x_i^\\top b)^2\nM = norm2(y - X*b)^2",
        &[("L", "M")],
    );
    // A Greek capital's samples (φᵢ of Φ), and the columns of a d × n X.
    check_equal_values(
        "\\Phi: matrix(n, d)\ny: vector(n)\nw: vector(d)\nL = \\sum_i (y_i - \\phi_i^\\top w)^2\nM = \\|y - \\Phi w\\|^2\nX: matrix(d, n)\nP = \\sum_{i=1}^{n} \\exp(x_i^\\top w)\nQ = sum(exp(X'*w))",
        &[("L", "M"), ("P", "Q")],
    );
}

/// σ′, tanh′, … against central differences of the function itself.
#[test]
fn derivatives_of_elementwise_functions_match_finite_differences() {
    let h = 1e-6;
    for function in
        ["sigmoid", "tanh", "exp", "log", "sin", "cos", "tan", "sqrt", "softplus", "relu", "abs", "sign", "step"]
    {
        // Positive points keep log and sqrt defined; tan stays away from its poles.
        let x = Array::vector(vec![0.3, 0.7, 1.1, 1.4]);
        let source =
            format!("x, xp, xm: vector(n)\nd = {function}'(x)\nf = ({function}(xp) - {function}(xm))/{}", 2.0 * h);
        let xp = Array::vector(x.data.iter().map(|v| v + h).collect());
        let xm = Array::vector(x.data.iter().map(|v| v - h).collect());
        let v = values(&source, &[("x", x), ("xp", xp), ("xm", xm)]);
        for (d, f) in v["d"].data.iter().zip(&v["f"].data) {
            assert!((d - f).abs() < 1e-6 * (1.0 + f.abs()), "{function}′: {d} vs finite difference {f}");
        }
    }
    // σ′(y) = σ(y) ⊙ (1 − σ(y)) in every spelling.
    let spellings =
        "x: vector(n)\na = σ'(x)\nb = σ′(x)\nc = sigmoid'(x)\nd = sigmoid(x).*(1 - sigmoid(x))\ne = \\sigma^\\prime(x)";
    check_equal_values(spellings, &[("a", "d"), ("b", "d"), ("c", "d"), ("e", "d")]);
}

/// The statements of a program printed in Unicode (inputs declared), which must read back.
fn unicode_listing(program: &Program) -> String {
    let graph = &program.graph;
    let namer = |id| graph.name(id).map(str::to_string);
    let mut lines: Vec<String> = program
        .inputs
        .iter()
        .map(|v| format!("{}: {}", show_name(&v.name, Notation::Unicode), graph.dims.show_type(graph.shape(v.node))))
        .collect();
    for s in &program.statements {
        let expr = match graph.name(s.node) {
            Some(name) if name != s.name => show_name(name, Notation::Unicode),
            _ => print(graph, s.node, Notation::Unicode, &namer),
        };
        lines.push(format!("{} = {expr}", show_name(&s.name, Notation::Unicode)));
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The Unicode printer's text reads back, under the parser's precedence, to a program
    /// with the same values (display notations drop brackets that only change association,
    /// `A B C` for A (B C), so the graphs may differ in shape but never in value).
    #[test]
    fn unicode_printing_reads_back_to_the_same_values(seed in any::<u64>(), statements in 1usize..8) {
        let source = random_program(seed, statements);
        let program = parse(&source);
        let printed = unicode_listing(&program);
        let again = Program::parse(&printed);
        prop_assert!(again.is_ok(), "{}\n---\n{}\n---\n{}", source, printed, again.err().map(|e| e.render("u", &printed)).unwrap_or_default());
        let again = again.expect("checked");
        let (first, second) = (random_values(&program, seed), random_values(&again, seed));
        prop_assert_eq!(program.statements.len(), again.statements.len());
        // Names change spelling (`t0` prints as `t₀`, which reads as `t_0`): statements pair
        // up by position.
        for (s, t) in program.statements.iter().zip(&again.statements) {
            let (a, b) = (&first[&s.name], &second[&t.name]);
            prop_assert_eq!((a.rows, a.cols), (b.rows, b.cols), "{}: {}\n---\n{}", s.name, source, printed);
            for (x, y) in a.data.iter().zip(&b.data) {
                prop_assert!((x - y).abs() <= 1e-8 * (1.0 + x.abs().max(y.abs())), "{}: {} vs {}\n{}\n---\n{}", s.name, x, y, source, printed);
            }
        }
    }

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

/// The seed page, pasted whole, is the question's model, and its gradients are the third
/// answer's: ∂L/∂A = 2P + 2(U − U²)qxᵀ, ∂L/∂B = 2rxᵀ, ∂L/∂x = 2Bᵀr + 2Aᵀ(U − U²)q, with the
/// page's own U, V, P, q, r (definitions the page makes after the model, evaluated here).
#[test]
fn the_seed_pages_gradients_are_the_third_answers() {
    let page = include_str!("data/pages/backprop-question.txt");
    let model = parse(page);
    assert_eq!(model.output_statement().name, "L");
    let question = parse("x: vector(k)\ny = A*x; u = sigmoid(y); v = B*x; z = A*(u.*v); w = A*z; L = norm2(w)^2");
    let in_model: Vec<String> = model
        .statements
        .iter()
        .zip(model.in_model())
        .filter(|(_, used)| *used)
        .map(|(s, _)| format!("{} = {}", s.name, common::structure(&model.graph, s.node)))
        .collect();
    let expected: Vec<String> = question
        .statements
        .iter()
        .map(|s| format!("{} = {}", s.name, common::structure(&question.graph, s.node)))
        .collect();
    assert_eq!(in_model, expected, "the page's model is the question's");
    // The answer's closed forms in its own notation, appended as display math of the page.
    let claims = r"
$$G_A = 2P+2(U - U^2)qx^T$$ $$G_B = 2rx^T$$ $$G_x = 2B^Tr + 2A^T(U-U^2)q$$";
    let program = parse(&format!("{page}{claims}"));
    let gradient = program.gradient(&["A", "B", "x"]).expect("gradients");
    for size in [3, 5] {
        let sizes = sizes(&gradient.program.graph, size);
        let inputs = random_inputs(&gradient.program.graph, &sizes, size as u64);
        for (wrt, claim) in gradient.wrt.iter().zip(["G_A", "G_B", "G_x"]) {
            let ours = eval1(&gradient.program.graph, &sizes, &inputs, wrt.gradient);
            let node = program.lookup(claim).expect("the appended claim");
            let theirs = eval1(&gradient.program.graph, &sizes, &inputs, node);
            let scale = ours.max_abs().max(1.0);
            let difference = ours.data.iter().zip(&theirs.data).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(difference / scale < 1e-10, "∂L/∂{}: {ours:?} against the answer's {theirs:?}", wrt.name);
        }
    }
}

/// The question alone, each answer after the question, and the third answer alone (whose
/// `\eqalign` restates the model) all read as the question's model, with its gradients.
#[test]
fn every_cut_of_the_seed_page_has_the_questions_gradients() {
    let page = include_str!("data/pages/backprop-question.txt");
    let at = |marker: &str| page.find(marker).unwrap_or_else(|| panic!("the page has {marker:?}"));
    let (answers, second, third) = (at("3 Answers3"), at("1\n\n$$\\frac{dL}{dA}"), at("0\n\n$ \\def\\s"));
    let question = &page[..answers];
    let cuts = [
        ("the question", question.to_string()),
        ("the first answer", format!("{question}{}", &page[answers..second])),
        ("the second answer", format!("{question}{}", &page[second..third])),
        ("the third answer", format!("{question}{}", &page[third..])),
        ("the third answer alone", page[third..].to_string()),
    ];
    let reference = parse("y = A*x; u = sigmoid(y); v = B*x; z = A*(u.*v); w = A*z; L = norm2(w)^2")
        .gradient(&["A", "B", "x"])
        .expect("gradients");
    let graph = &reference.program.graph;
    let inputs = random_inputs(graph, &sizes(graph, 4), 7);
    let expected: Vec<Array> =
        reference.wrt.iter().map(|w| eval1(graph, &sizes(graph, 4), &inputs, w.gradient)).collect();
    for (name, text) in cuts {
        let gradient = parse(&text).gradient(&["A", "B", "x"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(gradient.output_name(), "L", "{name}");
        let graph = &gradient.program.graph;
        for (wrt, expected) in gradient.wrt.iter().zip(&expected) {
            let value = eval1(graph, &sizes(graph, 4), &inputs, wrt.gradient);
            let close = value.data.iter().zip(&expected.data).all(|(p, q)| (p - q).abs() <= 1e-10 * q.abs().max(1.0));
            assert!(close, "{name}: ∂L/∂{} is {value:?}, the question's is {expected:?}", wrt.name);
        }
    }
}

/// What `check` says of the seed page: the model, the inputs and where their kinds came
/// from, the page's definitions for its derivation, every restatement and claim by line.
#[test]
fn the_seed_pages_listing() {
    let page = include_str!("data/pages/backprop-question.txt");
    insta::assert_snapshot!(listing(&parse(page), page));
}
