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

/// One row of the table.
struct Case {
    name: String,
    hessian: bool,
    of: Option<String>,
    wrt: Vec<String>,
    dims: Vec<(String, usize)>,
    source: String,
}

fn table() -> Vec<Case> {
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
    fn program(&self) -> Program {
        let mut program = super::common::parse(&self.source);
        if let Some(of) = &self.of {
            program.set_output(of).expect("an assigned name");
        }
        program
    }

    fn blocks(&self) -> Blocks {
        let wrt: Vec<&str> = self.wrt.iter().map(String::as_str).collect();
        let program = self.program();
        if self.hessian {
            program.hessian(&wrt).expect("a Hessian").blocks
        } else {
            program.jacobian(&wrt).expect("a Jacobian").blocks
        }
    }

    fn point(&self, inputs: HashMap<String, Array>, seed: u64) -> Point {
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
