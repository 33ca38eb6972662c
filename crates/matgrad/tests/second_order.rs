//! Jacobians and Hessians: the table of `data/second_order.txt` (Matrix Cookbook identities,
//! quadratic forms, least squares, logistic regression, softmax cross-entropy, log-sum-exp,
//! log det, traces, the question's model, an MLP, shared weights), every block's forms as a
//! snapshot, its numbers checked against finite differences and its matrix form against its
//! linear map; and the numbers of `data/jax_blocks.json`, computed once with JAX.

use std::collections::HashMap;

use super::common::cases;
use crate::jacobian::Blocks;
use crate::print::{unicode_name, Notation};
use crate::report::jacobian::Evaluation;
use crate::{Array, Point, Program};

/// One row of the table (also run as generated code, `codegen.rs`).
pub(super) struct Case {
    pub name: String,
    pub hessian: bool,
    of: Option<String>,
    pub wrt: Vec<String>,
    dims: Vec<(String, usize)>,
    source: String,
}

pub(super) fn table() -> Vec<Case> {
    let text = include_str!("data/second_order.txt");
    cases(text)
        .into_iter()
        .map(|(name, body)| {
            let (header, source) = body.split_once('\n').expect("a header and a program");
            let mut words = header.strip_prefix("% ").expect("a `% …` header").split_whitespace();
            let hessian = words.next() == Some("hessian");
            let (mut of, mut wrt, mut dims) = (None, Vec::new(), Vec::new());
            while let (Some(option), Some(value)) = (words.next(), words.next()) {
                match option {
                    "--of" => of = Some(value.to_string()),
                    "--wrt" => wrt = value.split(',').map(str::to_string).collect(),
                    "--dims" => {
                        dims = value
                            .split(',')
                            .map(|d| {
                                let (n, s) = d.split_once('=').expect("K=3");
                                (n.to_string(), s.parse().expect("a size"))
                            })
                            .collect()
                    }
                    other => panic!("{name}: unknown option {other}"),
                }
            }
            Case { name, hessian, of, wrt, dims, source: source.to_string() }
        })
        .collect()
}

impl Case {
    pub(super) fn program(&self) -> Program {
        let mut program = super::common::parse(&self.source);
        if let Some(of) = &self.of {
            program.set_output(of).expect("an assigned name");
        }
        program
    }

    pub(super) fn blocks(&self) -> Blocks {
        let wrt: Vec<&str> = self.wrt.iter().map(String::as_str).collect();
        let program = self.program();
        if self.hessian {
            program.hessian(&wrt).expect("a Hessian").blocks
        } else {
            program.jacobian(&wrt).expect("a Jacobian").blocks
        }
    }

    pub(super) fn point(&self, inputs: HashMap<String, Array>, seed: u64) -> Point {
        self.program().point(&self.dims, inputs, seed).expect("a point")
    }
}

/// Every block of every case in each of its forms: matrix notation where it has one, the
/// linear map and index notation always, the Kronecker form where it is unambiguous.
#[test]
fn every_block_is_displayable() {
    let mut out = String::new();
    for case in table() {
        let blocks = case.blocks();
        out.push_str(&format!("=== {}\n", case.name));
        for block in &blocks.blocks {
            let q = &blocks.wrt[block.q].name;
            let name = match block.p {
                Some(p) => format!("∂²L/∂{}∂{}", unicode_name(&blocks.wrt[p].name), unicode_name(q)),
                None => format!("∂{}/∂{}", unicode_name(blocks.program.output_name()), unicode_name(q)),
            };
            match blocks.matrix(block, Notation::Unicode) {
                Some(matrix) => out.push_str(&format!("{name} = {matrix}\n")),
                None => out.push_str(&format!("{name}\n")),
            }
            out.push_str(&format!(
                "  map:   {}\n  index: {}\n",
                blocks.map(block, Notation::Unicode),
                blocks.index(block, Notation::Unicode)
            ));
            if let Some(vec) = blocks.kronecker(block, Notation::Unicode) {
                out.push_str(&format!("  vec:   {vec}\n"));
            }
            for notation in [Notation::Latex, Notation::Ascii, Notation::MathMl] {
                // Every notation prints something (the snapshot holds Unicode only).
                assert!(blocks.matrix(block, notation).is_none_or(|m| !m.is_empty()), "{}: {name}", case.name);
            }
            assert!(!blocks.index(block, Notation::Latex).contains("Σ"), "{}: {name}", case.name);
            // A Kronecker product of identities is the identity.
            let vec = blocks.kronecker(block, Notation::Unicode).unwrap_or_default();
            assert!(!vec.contains("I ⊗ I"), "{}: {name}: {vec}", case.name);
        }
        if !blocks.definitions.is_empty() {
            out.push_str("where\n");
            for (id, name) in &blocks.definitions {
                out.push_str(&format!("  {} = {}\n", unicode_name(name), blocks.expression(*id, Notation::Unicode)));
            }
        }
        out.push('\n');
        assert!(!out.contains("Cannot display"), "{}", case.name);
    }
    insta::assert_snapshot!(out);
}

/// The names the blocks print beside the program's — the symbol of index notation (`J`,
/// `H`), the Kronecker delta (`δ`) and the introduced names of the where-list — are none of
/// the program's names (its inputs, statements and sizes) nor print like one, nor like each
/// other; and none is `d`, which would read as a differential's d beside `dx`.
#[test]
fn the_names_blocks_introduce_are_fresh() {
    for case in table() {
        let blocks = case.blocks();
        let program = &blocks.program;
        let own: Vec<String> = program.names_in_use().iter().map(|n| unicode_name(n)).collect();
        let mut introduced = vec![blocks.symbol.clone(), blocks.delta.clone()];
        introduced.extend(blocks.definitions.iter().map(|(_, name)| name.clone()));
        for (n, name) in introduced.iter().enumerate() {
            let shown = unicode_name(name);
            assert!(!own.contains(&shown), "{}: `{shown}` is also the program's", case.name);
            assert!(shown != "d", "{}: `d` reads as a differential's d", case.name);
            let again = introduced[..n].iter().find(|other| unicode_name(other) == shown);
            assert!(again.is_none(), "{}: `{shown}` is introduced twice", case.name);
        }
        // What is printed says so: each index form starts with the symbol.
        for block in &blocks.blocks {
            let index = blocks.index(block, Notation::Unicode);
            let symbol = index.split(['[', ' ']).next().unwrap_or_default().to_string();
            assert_eq!(symbol, unicode_name(&blocks.symbol), "{}: {index}", case.name);
        }
    }
}

/// Every LaTeX form of every block (its matrix form, map, index form and Kronecker form,
/// as the JSON report holds them), the where-list's and the whole `--format latex` text
/// are ASCII: pdflatex rejects a `−` (U+2212), a Greek letter, a `⊗` or a subscript `₁`,
/// for which the LaTeX printer writes `-`, `\delta`, `\otimes` and `_{1}`. The Kronecker
/// form's label names the value and the variable: ∂vec(Y)/∂vec(X), ∂²L/∂vec(p)∂vec(q).
#[test]
fn every_latex_and_ascii_form_is_ascii_and_vec_is_labelled() {
    fn latex_fields<'a>(value: &'a serde_json::Value, at: &str, out: &mut Vec<(String, &'a str)>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (key, field) in fields {
                    let at = format!("{at}.{key}");
                    match field.as_str() {
                        // The LaTeX forms, and the ASCII ones (pasteable as a program).
                        Some(text) if key.contains("latex") || key == "ascii" => out.push((at, text)),
                        _ => latex_fields(field, &at, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| latex_fields(item, at, out)),
            _ => {}
        }
    }
    let (mut labels, mut ascii_fields) = (0, 0);
    for case in table() {
        let wrt: Vec<&str> = case.wrt.iter().map(String::as_str).collect();
        let program = case.program();
        let (json, latex) = if case.hessian {
            let report = program.hessian(&wrt).expect("a Hessian").report(None, None).expect("a report");
            (crate::report::to_json(&report), report.latex())
        } else {
            let report = program.jacobian(&wrt).expect("a Jacobian").report(None, None).expect("a report");
            (crate::report::to_json(&report), report.latex())
        };
        let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let mut fields = Vec::new();
        latex_fields(&json, "", &mut fields);
        assert!(fields.iter().any(|(at, _)| at.ends_with("index_latex")), "{}: no LaTeX found", case.name);
        ascii_fields += fields.iter().filter(|(at, _)| at.ends_with("ascii")).count();
        fields.push(("--format latex".to_string(), &latex));
        for (at, text) in fields {
            let foreign: String = text.chars().filter(|c| !c.is_ascii()).collect();
            assert!(foreign.is_empty(), "{}: {at} holds {foreign:?}: {text}", case.name);
        }
        for line in latex.lines().filter(|l| l.contains("\\operatorname{vec}")) {
            let unnamed = line.matches("\\operatorname{vec}").count() != line.matches("\\operatorname{vec}(").count();
            assert!(!unnamed, "{}: a vec of nothing: {line}", case.name);
            labels += 1;
        }
    }
    assert!(labels >= 4, "only {labels} Kronecker forms labelled");
    assert!(ascii_fields >= 40, "only {ascii_fields} ASCII forms read");
}

/// Every block agrees with finite differences (of the output for a Jacobian, of the
/// gradient for a Hessian) at two random points, and where it has a matrix form, that form
/// evaluates to what its map gives on every basis direction.
#[test]
fn every_block_agrees_with_finite_differences_and_with_its_map() {
    for case in table() {
        let blocks = case.blocks();
        for seed in 0..2 {
            let point = case.point(HashMap::new(), seed);
            let (_, common) = blocks.entries(Some(&point), Some(1e-6)).expect("evaluates");
            let check = common.check.expect("checked");
            assert!(check.passed, "{} at seed {seed}: {:?}", case.name, check.errors);
            let closed = blocks.jacobians(&point, Evaluation::ClosedForm).expect("evaluates");
            let mapped = blocks.jacobians(&point, Evaluation::Map).expect("evaluates");
            for ((block, a), b) in blocks.blocks.iter().zip(&closed).zip(&mapped) {
                let error = crate::check::relative_error(a, b, 1e-12);
                assert!(error < 1e-12, "{}: block {} of {}: {error:e}", case.name, block.q, blocks.wrt.len());
            }
        }
    }
}

/// The blocks' numbers in JAX's layout equal `jax.jacobian`'s and `jax.hessian`'s, computed
/// once by `data/jax_blocks.py` at the inputs stored with them.
#[test]
fn blocks_have_the_numbers_jax_computes() {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("data/jax_blocks.json")).expect("the JAX numbers are JSON");
    let table = table();
    let mut compared = 0;
    for expected in data["cases"].as_array().expect("cases") {
        let name = expected["name"].as_str().expect("a name");
        let case = table.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no case `{name}`"));
        let inputs: HashMap<String, Array> = expected["inputs"]
            .as_object()
            .expect("inputs")
            .iter()
            .map(|(k, v)| (k.clone(), Array::from_json(v).expect("an array")))
            .collect();
        let blocks = case.blocks();
        let point = case.point(inputs, 0);
        let (entries, _) = blocks.entries(Some(&point), None).expect("evaluates");
        for (block, entry) in blocks.blocks.iter().zip(&entries) {
            let q = &blocks.wrt[block.q].name;
            let jax = match block.p {
                Some(p) => &expected["blocks"][&blocks.wrt[p].name][q],
                None => &expected["blocks"][q],
            };
            let ours = serde_json::to_value(entry.value.as_ref().expect("a value")).expect("JSON");
            let (mut a, mut b) = (Vec::new(), Vec::new());
            flatten(&ours, &mut a);
            flatten(jax, &mut b);
            assert_eq!(a.len(), b.len(), "{name}: block {q}: {ours} vs {jax}");
            let scale = b.iter().fold(1e-12_f64, |m, v| m.max(v.abs()));
            let error = a.iter().zip(&b).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs())) / scale;
            assert!(error < 1e-10, "{name}: block {q} differs from JAX's by {error:e}:\n{ours}\n{jax}");
            assert_eq!(shape(&ours), shape(jax), "{name}: block {q}: JAX's layout");
            compared += 1;
        }
    }
    assert!(compared >= 30, "only {compared} blocks compared");
}

fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        other => out.push(other.as_f64().expect("a number")),
    }
}

fn shape(value: &serde_json::Value) -> Vec<usize> {
    match value {
        serde_json::Value::Array(items) => {
            let mut axes = vec![items.len()];
            axes.extend(items.first().map(shape).unwrap_or_default());
            axes
        }
        _ => Vec::new(),
    }
}

/// The compiled Hessian-vector product of every Hessian case, at two points and two
/// directions each: its value and gradients are the interpreter's, and H v equals the dense
/// blocks (evaluated from their closed forms) times v and central differences of the
/// gradient along v.
#[test]
fn compiled_hessian_vector_products_agree_with_the_blocks_and_finite_differences() {
    let mut products = 0;
    for case in table().into_iter().filter(|c| c.hessian) {
        let wrt: Vec<&str> = case.wrt.iter().map(String::as_str).collect();
        let program = case.program();
        let gradient = program.gradient(&wrt).expect("a gradient");
        let blocks = program.hessian(&wrt).expect("a Hessian").blocks;
        let dims: Vec<(&str, usize)> = case.dims.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let hvp = gradient.compile_hvp(&dims).expect("compiles");
        let mut out = hvp.outputs();
        for seed in 0..2 {
            let point = case.point(HashMap::new(), seed);
            let inputs: Vec<(&str, &[f64])> = point.inputs.iter().map(|(n, a)| (n.as_str(), &a.data[..])).collect();
            let dense = blocks.jacobians(&point, Evaluation::ClosedForm).expect("evaluates");
            let size = |name: &str| hvp.directions().find(|(n, _)| *n == name).expect("a direction").1;
            let graph = &gradient.program.graph;
            let gradients: Vec<(crate::ir::NodeId, crate::ir::NodeId)> =
                gradient.wrt.iter().map(|w| (w.node, w.gradient)).collect();
            let expected = crate::eval::evaluate(
                graph,
                &point.sizes,
                &point.inputs,
                &[vec![gradient.program.output_node()], gradients.iter().map(|g| g.1).collect()].concat(),
            )
            .expect("evaluates");
            for direction_seed in 0..2 {
                let directions: Vec<Array> = gradient
                    .wrt
                    .iter()
                    .enumerate()
                    .map(|(k, w)| {
                        let (rows, cols) = size(&w.name);
                        crate::check::random_array(rows, cols, 1000 * seed + 10 * direction_seed + k as u64)
                    })
                    .collect();
                let given: Vec<(&str, &[f64])> =
                    gradient.wrt.iter().zip(&directions).map(|(w, d)| (w.name.as_str(), &d.data[..])).collect();
                hvp.run(&inputs, &given, &mut out).expect("runs");
                let floor = crate::check::noise_floor(expected[0].data[0]);
                assert!(
                    crate::check::relative_error(out.value(), &expected[0], 1e-12) < 1e-10,
                    "{}: the value",
                    case.name
                );
                for (w, g) in gradient.wrt.iter().zip(&expected[1..]) {
                    let ours = out.gradient(&w.name).expect("a gradient");
                    assert!(crate::check::relative_error(ours, g, floor) < 1e-10, "{}: ∂L/∂{}", case.name, w.name);
                }
                let by_differences = crate::check::hessian_vector_by_differences(
                    graph,
                    &gradients,
                    &directions,
                    &point.sizes,
                    &point.inputs,
                )
                .expect("evaluates");
                for (p, w) in gradient.wrt.iter().enumerate() {
                    let ours = out.hvp(&w.name).expect("H v");
                    // Σ_q J_pq v_q from the dense blocks (column-major, len(p) × len(q)).
                    let mut from_blocks = Array::zeros(ours.rows, ours.cols);
                    for (block, jacobian) in blocks.blocks.iter().zip(&dense).filter(|(b, _)| b.p == Some(p)) {
                        let v = &directions[block.q];
                        for (b, vb) in v.data.iter().enumerate() {
                            for (a, e) in from_blocks.data.iter_mut().enumerate() {
                                *e += jacobian.data[b * jacobian.rows + a] * vb;
                            }
                        }
                    }
                    let error = crate::check::relative_error(ours, &from_blocks, 1e-12);
                    assert!(error < 1e-10, "{}: (H v)[{}] against the blocks: {error:e}", case.name, w.name);
                    let error = crate::check::relative_error(ours, &by_differences[p], floor);
                    assert!(error < 1e-6, "{}: (H v)[{}] against finite differences: {error:e}", case.name, w.name);
                    products += 1;
                }
            }
        }
    }
    assert!(products >= 40, "only {products} products compared");
}

/// A compiled full Hessian: every block from its matrix form, through the plan, equals the
/// interpreter's evaluation of the same closed form; a block without a matrix form is a
/// mistake to compile, said as such.
#[test]
fn compiled_hessians_equal_the_interpreted_blocks() {
    let mut compiled_cases = 0;
    for case in table().into_iter().filter(|c| c.hessian) {
        let wrt: Vec<&str> = case.wrt.iter().map(String::as_str).collect();
        let hessian = case.program().hessian(&wrt).expect("a Hessian");
        let dims: Vec<(&str, usize)> = case.dims.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let blocks = &hessian.blocks;
        let compiled = match hessian.compile(&dims) {
            Ok(compiled) => compiled,
            Err(error) => {
                assert!(blocks.blocks.iter().any(|b| b.matrix.is_none()), "{}: {error}", case.name);
                assert!(error.to_string().contains("no matrix form"), "{}: {error}", case.name);
                continue;
            }
        };
        let point = case.point(HashMap::new(), 0);
        let inputs: Vec<(&str, &[f64])> = point.inputs.iter().map(|(n, a)| (n.as_str(), &a.data[..])).collect();
        let mut out = compiled.outputs();
        compiled.run(&inputs, &mut out).expect("runs");
        let dense = blocks.jacobians(&point, Evaluation::ClosedForm).expect("evaluates");
        for (block, expected) in blocks.blocks.iter().zip(&dense) {
            let (p, q) = (&blocks.wrt[block.p.expect("a Hessian's")].name, &blocks.wrt[block.q].name);
            let ours = out.block(p, q).expect("a block");
            assert_eq!(ours.data.len(), expected.data.len(), "{}: block {p}|{q}", case.name);
            let error = crate::check::relative_error(
                &Array { rows: expected.rows, cols: expected.cols, data: ours.data.clone() },
                expected,
                1e-12,
            );
            assert!(error < 1e-10, "{}: block {p}|{q}: {error:e}", case.name);
        }
        compiled_cases += 1;
    }
    assert!(compiled_cases >= 4, "only {compiled_cases} cases compiled");
}

/// Full Hessians of sums over many samples (`X Diag(d) Xᵀ`, and log-sum-exp's
/// `Aᵀ (Diag(p) − p pᵀ) A`) are weighted products that never write the scaled samples out:
/// the plan's memory is within 2× of the Hessian's, not the samples' size; and the Newton
/// step H⁻¹ g equals the interpreter's solve of its closed forms.
#[test]
fn compiled_hessians_of_many_samples_need_memory_for_the_hessian_only() {
    let cases = [
        ("X: matrix(d, n)\nt: vector(n)\nw: vector(d)\ns = X'*w\nL = sum(softplus(s) - t.*s)", "w", 60),
        ("X: matrix(d, n)\nt: vector(n)\nw: vector(d)\ns = X'*w\nL = sum(exp(s) - t.*s)", "w", 60),
        ("x: vector(d)\nA: matrix(n, d)\nL = logsumexp(A*x)", "x", 60),
        // Indefinite: the Newton step by LU where a Cholesky would fail.
        ("x: vector(d)\nA: matrix(n, d)\nL = sum(sin(A*x))", "x", 60),
        // Ridge regression's Hessian: the 2λI is added after the symmetric product.
        ("X: matrix(d, n)\nt: vector(n)\nw: vector(d)\nlambda: scalar\ns = X'*w\nL = sum(softplus(s) - t.*s)/n + lambda*norm2(w)^2", "w", 60),
    ];
    for (source, wrt, d) in cases {
        let program = super::common::parse(source);
        let dims = [("d", d), ("n", 400)];
        let hessian = program.hessian(&[wrt]).expect("a Hessian");
        let compiled = hessian.compile(&dims).expect("compiles");
        let plan = compiled.describe().join("\n");
        assert!(plan.contains("[weighted product, symmetric"), "{source}:\n{plan}");
        let point = program.point(&dims.map(|(n, s)| (n.to_string(), s)), HashMap::new(), 3).expect("a point");
        let inputs: Vec<(&str, &[f64])> = point.inputs.iter().map(|(n, a)| (n.as_str(), &a.data[..])).collect();
        let mut out = compiled.outputs();
        compiled.run(&inputs, &mut out).expect("runs");
        let blocks = &hessian.blocks;
        let expected = &blocks.jacobians(&point, Evaluation::ClosedForm).expect("evaluates")[0];
        let ours = out.block(wrt, wrt).expect("the block");
        let ours = Array { rows: expected.rows, cols: expected.cols, data: ours.data.clone() };
        let error = crate::check::relative_error(&ours, expected, 1e-12);
        assert!(error < 1e-10, "{source}: {error:e}");
        // The Hessian is d × d; the samples' scaled matrix would be 400 × d on its own.
        let hessian_bytes = 8 * d * d;
        let ratio = compiled.memory_bytes() as f64 / hessian_bytes as f64;
        assert!(ratio <= 2.0, "{source}: memory {ratio:.2}× the Hessian");

        // The Newton step: H⁻¹ g by LU of the compiled H, against a solve of the
        // interpreter's H and g.
        let newton = hessian.compile_newton(&dims).expect("compiles");
        let mut out = newton.outputs();
        newton.run(&inputs, &mut out).expect("runs");
        let g = out.gradients().find(|(name, _)| *name == wrt).expect("the gradient").1.clone();
        use faer::linalg::solvers::Solve;
        let h = faer::Mat::from_fn(d, d, |i, j| expected.data[i + j * d]);
        let rhs = faer::Mat::from_fn(d, 1, |i, _| g.data[i]);
        let solved = h.partial_piv_lu().solve(&rhs);
        let step = out.newton_step(wrt).expect("the step");
        let by_interpreter = Array { rows: d, cols: 1, data: (0..d).map(|i| solved[(i, 0)]).collect() };
        let error = crate::check::relative_error(step, &by_interpreter, 1e-12);
        assert!(error < 1e-8, "{source}: Newton step differs by {error:e}");
        // H, whose LU factors take its place; the weighted product's scratch (at most half
        // of H) and the vectors of the samples.
        let ratio = newton.memory_bytes() as f64 / hessian_bytes as f64;
        assert!(ratio <= 1.5 + (8 * 8 * 400) as f64 / hessian_bytes as f64, "{source}: Newton memory {ratio:.2}×");
    }
    // A scalar variable's step is g / h; a matrix variable's is refused, naming it.
    let program = super::common::parse("x: vector(n)\nc: scalar\nL = sum(exp(c*x)) + c^4");
    let hessian = program.hessian(&["c"]).expect("a Hessian");
    let newton = hessian.compile_newton(&[("n", 5)]).expect("compiles");
    let x = [0.1, -0.2, 0.3, 0.4, -0.5];
    let c = 0.7_f64;
    let mut out = newton.outputs();
    newton.run(&[("x", &x[..]), ("c", &[c][..])], &mut out).expect("runs");
    let g: f64 = x.iter().map(|xi| xi * (c * xi).exp()).sum::<f64>() + 4.0 * c.powi(3);
    let h: f64 = x.iter().map(|xi| xi * xi * (c * xi).exp()).sum::<f64>() + 12.0 * c * c;
    let step = out.newton_step("c").expect("the step").data[0];
    assert!((step - g / h).abs() <= 1e-12 * (g / h).abs(), "{step} against {}", g / h);
    let program = super::common::parse("X: matrix(n, n)\nL = sum(exp(X))");
    let error = program.hessian(&["X"]).expect("a Hessian").compile_newton(&[("n", 3)]).expect_err("a matrix");
    assert!(error.to_string().contains("`X` is neither"), "{error}");
}

/// Hessian-vector products of matrices large enough for the plan to pair its matrix–vector
/// products (a point's beside its tangent's, in one pass over the matrix): every output of
/// the compiled product equals the interpreter's evaluation of the same graph. Odd sizes,
/// so that the two threads' halves of the columns are not whole groups of eight, and
/// samples as rows and as columns, so that both orientations pair.
#[test]
fn paired_matrix_vector_products_agree_with_the_interpreter() {
    use super::common::random_inputs;
    use crate::compiled::Role;
    use crate::eval::{evaluate, Sizes};
    let logistic = "X: matrix(n, d)\nt: vector(n)\nw: vector(d)\ns = X*w\nL = sum(softplus(s) - t.*s)";
    let layer = "W: matrix(h, d)\nx: vector(d)\ny: vector(h)\nL = norm2(tanh(W*x) - y)^2";
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, usize)]);
    let cases: [Case; 4] = [
        (&super::common::example("backprop.mg"), &[], &[("K", 761)]),
        (&super::common::example("backprop.mg"), &["A", "x"], &[("K", 730)]),
        (logistic, &[], &[("n", 1501), ("d", 399)]),
        (layer, &["W", "x"], &[("h", 1503), ("d", 401)]),
    ];
    for (source, wrt, dims) in cases {
        let gradient = super::common::parse(source).gradient(wrt).expect("a gradient");
        let hvp = gradient.compile_hvp(dims).expect("compiles");
        let plan = hvp.describe().join("\n");
        assert!(plan.contains("matrix–vector products in one pass over"), "{source}\n{plan}");
        let crate::compiled::HvpGraph { program, wanted, directions } = gradient.hvp_graph();
        let sizes = Sizes::from_pairs(dims);
        let mut out = hvp.outputs();
        for seed in 0..2 {
            let drawn = random_inputs(&program.graph, &sizes, seed);
            let inputs: Vec<(&str, &[f64])> = hvp.inputs().map(|(name, _)| (name, &drawn[name].data[..])).collect();
            let tangent_names: Vec<String> = directions
                .iter()
                .map(|&(node, _)| match program.graph.op(node) {
                    crate::ir::Op::Input(i) => program.graph.input(i).name.clone(),
                    other => panic!("a direction is an input, not {other:?}"),
                })
                .collect();
            let given: Vec<(&str, &[f64])> = directions
                .iter()
                .zip(&tangent_names)
                .map(|((_, variable), tangent)| (variable.as_str(), &drawn[tangent].data[..]))
                .collect();
            hvp.run(&inputs, &given, &mut out).expect("runs");
            let nodes: Vec<crate::ir::NodeId> = wanted.iter().map(|&(_, node)| node).collect();
            let expected = evaluate(&program.graph, &sizes, &drawn, &nodes).expect("evaluates");
            for ((role, _), expected) in wanted.iter().zip(&expected) {
                let got = match role {
                    Role::Value => out.value(),
                    Role::Gradient(name) => out.gradient(name).expect("a gradient"),
                    Role::Hvp(name) => out.hvp(name).expect("a product"),
                    other => panic!("{other:?} is not an output of a Hessian-vector product"),
                };
                let error = crate::check::relative_error(got, expected, 1e-300);
                assert!(error < 1e-10, "{source} at {dims:?}, seed {seed}: {role:?} differs by {error:e}");
            }
        }
    }
}

/// An assigned name in `wrt` is held as an independent shift of its value: the Hessian's
/// blocks with respect to `y` and the variables below it are those of the program with `y`
/// moved by an input `s_y` on top of its expression (`y = A*x + s_y`, at s_y = 0), a program
/// of inputs only. This holds whatever else computes the same value (`exp(x)` written out
/// beside `e = exp(x)`: the graph shares equal expressions, which must not share uses).
#[test]
fn a_held_name_is_an_independent_shift_of_its_value() {
    let question =
        "x: vector(K)\nA, B: matrix(K, K)\ny = A*x\nu = sigmoid(y)\nv = B*x\nz = A*(u.*v)\nw = A*z\nL = norm2(w)^2";
    /// A program, its held names with their types, wrt, and the sizes.
    type Held<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], &'a [(&'a str, usize)]);
    let cases: [Held; 5] = [
        (question, &[("y", "vector(K)")], &["y", "x", "A"], &[("K", 3)]),
        ("x: vector(n)\ne = exp(x)\nL = sum(e) + sum(exp(x))", &[("e", "vector(n)")], &["e", "x"], &[("n", 3)]),
        (
            "x: vector(n)\ne = exp(x)\nL = sum(e .* log(e)) + sum(exp(x).^2)",
            &[("e", "vector(n)")],
            &["x", "e"],
            &[("n", 3)],
        ),
        (
            "x: vector(n)\nA: matrix(n, n)\ny = A*x\nu = tanh(y)\nL = sum(u.^3) + sum(tanh(A*x))",
            &[("y", "vector(n)"), ("u", "vector(n)")],
            &["u", "y", "A"],
            &[("n", 3)],
        ),
        (
            "x: vector(n)\nt: vector(m)\nW1: matrix(h, n)\nW2: matrix(m, h)\nz = W1*x\nq = sigmoid(z)\nL = norm2(W2*q - t)^2",
            &[("z", "vector(h)"), ("q", "vector(h)")],
            &["q", "W1", "z", "x"],
            &[("n", 3), ("h", 2), ("m", 2)],
        ),
    ];
    for (source, held, wrt, dims) in cases {
        let dims: Vec<(String, usize)> = dims.iter().map(|&(n, s)| (n.to_string(), s)).collect();
        let program = Program::parse(source).expect("parses");
        let point = program.point(&dims, HashMap::new(), 7).expect("a point");
        let hessian = program.hessian(wrt).expect("a Hessian").blocks;
        let (entries, common) = hessian.entries(Some(&point), Some(1e-6)).expect("evaluates");
        assert!(common.check.expect("checked").passed, "{source}: the finite-difference check");

        // The same program with each held name shifted by an input, zero at the point.
        let mut shifted: Vec<String> = held.iter().map(|(name, ty)| format!("s_{name}: {ty}")).collect();
        for line in source.lines() {
            match held.iter().find(|(name, _)| line.starts_with(&format!("{name} = "))) {
                Some((name, _)) => shifted.push(format!("{name} = ({}) + s_{name}", &line[name.len() + 3..])),
                None => shifted.push(line.to_string()),
            }
        }
        let shifted = Program::parse(&shifted.join("\n")).expect("the shifted program parses");
        let mut inputs = point.inputs.clone();
        for (name, _) in held {
            let node = program.lookup(name).expect("a statement");
            let value = crate::eval::evaluate(&program.graph, &point.sizes, &point.inputs, &[node]).expect("evaluates");
            let value = &value[0];
            inputs.insert(format!("s_{name}"), Array::from_fn(value.rows, value.cols, |_, _| 0.0));
        }
        let at = shifted.point(&dims, inputs, 0).expect("a point");
        let shift_wrt: Vec<String> = wrt
            .iter()
            .map(|name| if held.iter().any(|(h, _)| h == name) { format!("s_{name}") } else { name.to_string() })
            .collect();
        let shift_wrt: Vec<&str> = shift_wrt.iter().map(String::as_str).collect();
        let expected = shifted.hessian(&shift_wrt).expect("a Hessian").blocks;
        let (expected, _) = expected.entries(Some(&at), None).expect("evaluates");
        assert_eq!(entries.len(), expected.len());
        for (i, (ours, theirs)) in entries.iter().zip(&expected).enumerate() {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            flatten(&serde_json::to_value(ours.value.as_ref().expect("a value")).expect("JSON"), &mut a);
            flatten(&serde_json::to_value(theirs.value.as_ref().expect("a value")).expect("JSON"), &mut b);
            let scale = b.iter().fold(1e-12_f64, |m, v| m.max(v.abs()));
            let error = a.iter().zip(&b).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs())) / scale;
            assert!(a.len() == b.len() && error < 1e-10, "{source}\nwrt {wrt:?}, block {i}: {a:?} against {b:?}");
        }
    }
}

/// Every Kronecker form printed is the block's numbers: Σ c·scalars·(M ⊗ F), evaluated,
/// equals ∂vec(Y)/∂vec(X) read from the block in JAX's layout, where entry (i + m j,
/// k + n l) is the block's [i, j, k, l] (vec stacks columns; a vector has no j or l).
#[test]
fn every_kronecker_form_is_its_blocks_numbers() {
    let mut compared = 0;
    for case in table() {
        let blocks = case.blocks();
        let point = case.point(HashMap::new(), 3);
        let (entries, _) = blocks.entries(Some(&point), None).expect("evaluates");
        for (block, entry) in blocks.blocks.iter().zip(&entries) {
            let Some(terms) = &block.kronecker else { continue };
            let tensor = entry.value.as_ref().expect("a value");
            let graph = &blocks.program.graph;
            let of =
                |id| crate::eval::evaluate(graph, &point.sizes, &point.inputs, &[id]).expect("evaluates").remove(0);
            // The output's and the variable's (rows, cols), from the block's shape.
            let output_axes = crate::jacobian::axes(graph, block.of);
            let (output, variable) = tensor.shape.split_at(output_axes);
            let side = |axes: &[usize]| (axes[0], axes.get(1).copied().unwrap_or(1));
            let ((m, p), (n, q)) = (side(output), side(variable));
            let mut kron = vec![0.0; m * p * n * q];
            for term in terms {
                let scale = term.scalars.iter().fold(term.coefficient, |c, &s| c * of(s).data[0]);
                let (left, right) = (of(term.left), of(term.right));
                assert_eq!((left.rows * right.rows, left.cols * right.cols), (m * p, n * q), "{}", case.name);
                for (r, c) in (0..m * p).flat_map(|r| (0..n * q).map(move |c| (r, c))) {
                    let (lr, rr, lc, rc) = (r / right.rows, r % right.rows, c / right.cols, c % right.cols);
                    kron[r + m * p * c] += scale * left.get(lr, lc) * right.get(rr, rc);
                }
            }
            for (i, j, k, l) in (0..m)
                .flat_map(|i| (0..p).flat_map(move |j| (0..n).flat_map(move |k| (0..q).map(move |l| (i, j, k, l)))))
            {
                let entry = tensor.data[((i * p + j) * n + k) * q + l];
                let ours = kron[(i + m * j) + m * p * (k + n * l)];
                assert!(
                    (entry - ours).abs() <= 1e-12 * (1.0 + entry.abs()),
                    "{}: [{i},{j},{k},{l}]: {ours} against {entry}",
                    case.name
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} Kronecker forms compared");
}

/// What a program calls `I` or `dx` is never printed like the identity or a differential:
/// the identity takes its size (Iₙ, `I_{n}`), and x's differential, beside a `dx`, is Δx.
#[test]
fn the_identity_and_differentials_never_print_like_a_programs_names() {
    let case = table().into_iter().find(|c| c.name.starts_with("a program's own I and dx")).expect("the case");
    let blocks = case.blocks();
    let find = |p: &str, q: &str| {
        let index = |name: &str| blocks.wrt.iter().position(|w| w.name == name).expect("a variable");
        blocks.blocks.iter().find(|b| b.p == Some(index(p)) && b.q == index(q)).expect("a block")
    };
    let xx = find("x", "x");
    assert_eq!(blocks.matrix(xx, Notation::Unicode).expect("a matrix").matches("Iₙ").count(), 1);
    assert!(blocks.matrix(xx, Notation::Latex).expect("a matrix").contains("I_{n}"));
    let map = blocks.map(xx, Notation::Unicode);
    assert!(map.starts_with("Δx ↦ ") && map.contains("Δx") && map.contains("dx"), "{map}");
    assert!(blocks.map(xx, Notation::Latex).starts_with("\\Delta x \\mapsto"));
    // Without a `dx`, x's differential is dx as ever.
    let plain = table().into_iter().find(|c| c.name.starts_with("quadratic form")).expect("the case").blocks();
    assert!(plain.map(&plain.blocks[0], Notation::Unicode).starts_with("dx ↦"));
}
