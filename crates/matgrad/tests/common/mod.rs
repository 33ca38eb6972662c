//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod shapes;

use std::collections::HashMap;

use crate::eval::{evaluate, Sizes};
use crate::ir::{Graph, NodeId, Op};
use crate::{Array, Program};

/// Parses `source`, failing the test with the rendered diagnostic.
pub fn parse(source: &str) -> Program {
    match Program::parse(source) {
        Ok(program) => program,
        Err(diagnostic) => panic!("{}", diagnostic.render("test.mg", source)),
    }
}

/// The rendered error for a program that must not parse.
pub fn error(source: &str) -> String {
    match Program::parse(source) {
        Ok(_) => panic!("expected an error for:\n{source}"),
        Err(diagnostic) => diagnostic.render("test.mg", source),
    }
}

/// A bundled example's text.
pub fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every dimension symbol of the graph at `size`.
pub fn sizes(graph: &Graph, size: usize) -> Sizes {
    let pairs: Vec<(String, usize)> = graph.dims.symbols().map(|(_, n)| (n.to_string(), size)).collect();
    let pairs: Vec<(&str, usize)> = pairs.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    Sizes::from_pairs(&pairs)
}

/// Standard normal values for every input of the graph, from the generator of every
/// random point (`Program::point`'s).
pub fn random_inputs(graph: &Graph, sizes: &Sizes, seed: u64) -> HashMap<String, Array> {
    let mut inputs = HashMap::new();
    let drawn = crate::point::draw(graph, sizes, &mut inputs, seed);
    assert_eq!(drawn.len(), graph.inputs().len(), "every dimension sized");
    inputs
}

pub fn eval1(graph: &Graph, sizes: &Sizes, inputs: &HashMap<String, Array>, node: NodeId) -> Array {
    evaluate(graph, sizes, inputs, &[node]).expect("evaluates").remove(0)
}

/// The structure of `id` as an S-expression, with inputs by name and shapes resolved, so
/// that graphs built in different orders can be compared.
pub fn structure(graph: &Graph, id: NodeId) -> String {
    let shape = graph.dims.show_shape(graph.shape(id));
    let op = graph.op(id);
    let children: Vec<String> = op.children().into_iter().map(|c| structure(graph, c)).collect();
    let head = match op {
        Op::Input(i) => return format!("{}:{shape}", graph.input(i).name),
        Op::Const(c) => return format!("{}", c.0),
        Op::Eye(n) => format!("eye {}", graph.dims.show(n)),
        Op::Fill(c, _) => format!("fill {}", c.0),
        Op::Map(f, _) => f.name().to_string(),
        Op::MatPow(_, k) => format!("matpow {k}"),
        other => format!("{other:?}").split('(').next().unwrap_or("").to_string(),
    };
    format!("({head}:{shape} {})", children.join(" "))
}

/// The structure of every statement of a program, one per line.
pub fn program_structure(program: &Program) -> String {
    program.statements.iter().map(|s| format!("{} = {}\n", s.name, structure(&program.graph, s.node))).collect()
}

/// Cases in a data file: blocks that start with a line `=== name`.
pub fn cases(text: &str) -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for block in text.split("\n=== ").map(|b| b.trim_start_matches("=== ")) {
        let (name, body) = block.split_once('\n').unwrap_or((block, ""));
        if !name.trim().is_empty() && !name.starts_with('#') {
            cases.push((name.trim().to_string(), body.trim_end().to_string()));
        }
    }
    cases
}

/// A random well-typed program in canonical ASCII, from a seed.
pub fn random_program(seed: u64, statements: usize) -> String {
    let mut rng = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let mut pool = vec![
        ("x".to_string(), 'v'),
        ("y".to_string(), 'v'),
        ("A".to_string(), 'm'),
        ("B".to_string(), 'm'),
        ("c".to_string(), 's'),
    ];
    let mut lines = vec!["x, y: vector(n)".to_string(), "A, B: matrix(n, n)".to_string(), "c: scalar".to_string()];
    fn pick(pool: &[(String, char)], kind: char, r: usize) -> String {
        let of_kind: Vec<&String> = pool.iter().filter(|(_, k)| *k == kind).map(|(n, _)| n).collect();
        of_kind[r % of_kind.len()].clone()
    }
    for i in 0..statements {
        let kind = ['s', 'v', 'm'][next(3)];
        let (s, v, m) = (pick(&pool, 's', next(99)), pick(&pool, 'v', next(99)), pick(&pool, 'm', next(99)));
        let (v2, m2) = (pick(&pool, 'v', next(99)), pick(&pool, 'm', next(99)));
        // Every op of the language appears; logs, roots and inverses get arguments that
        // keep them defined and well-conditioned at random points.
        let expr = match (kind, next(10)) {
            ('s', 0) => format!("{v}'*{v2} + {s}"),
            ('s', 1) => format!("sum(sigmoid({v})) * {s}"),
            ('s', 2) => format!("norm2({v})^2 - tr({m})"),
            ('s', 3) => format!("logsumexp({v}) / (1 + {s}^2)"),
            ('s', 4) => format!("-{s}^2 + {v}'*{m}*{v2}"),
            ('s', 5) => format!("norm1({m}) + exp(-{s}^2)"),
            ('s', 6) => format!("logdet({m}*{m}' + eye(n)) + det({m2})/10"),
            ('s', 7) => format!("{v}'*inv({m}*{m}' + eye(n))*{v2}"),
            ('s', 8) => format!("sqrt(1 + {s}^2) + norm1({v})"),
            ('s', _) => format!("sum(log(1 + {v}.^2)) * cos({s})"),
            ('v', 0) => format!("{m}*{v} + {s}*{v2}"),
            ('v', 1) => format!("tanh({v}).*{v2}"),
            ('v', 2) => format!("softmax({v}) - {v2}./(1 + {v}.^2)"),
            ('v', 3) => format!("diag({m}) + {m}'*{v}"),
            ('v', 4) => format!("-{v} + sin({v2})"),
            ('v', 5) => format!("({m} + {m2})*({v} - {s})"),
            ('v', 6) => format!("relu({v}) + softplus({v2}) + abs({v})"),
            ('v', 7) => format!("sqrt(1 + {v}.^2) - exp(-{v2}.^2)"),
            ('v', 8) => format!("{v}/(1 + norm2({v2})) + cos({v})*{s}"),
            ('v', _) => format!("inv({m}*{m}' + eye(n))*{v} + sign({v2}).*{v}"),
            (_, 0) => format!("{m}*{m2} - {m}'"),
            (_, 1) => format!("{v}*{v2}' + {s}*{m}"),
            (_, 2) => format!("{m}.*{m2} + diag({v})"),
            (_, 3) => format!("{m}^2 / (2 + {s}^2)"),
            (_, 4) => format!("tanh({m}) + eye(n)"),
            (_, 5) => format!("-({m} + {m2}')"),
            (_, 6) => format!("inv({m}*{m}' + eye(n)) + ones(n, n)*{s}"),
            (_, 7) => format!("sigmoid({m})./(1 + {m2}.^2)"),
            (_, 8) => format!("{m}^3/10 - {m2}.^2"),
            (_, _) => format!("tan({m}/4) + zeros(n, n)"),
        };
        let name = format!("t{i}");
        lines.push(format!("{name} = {expr}"));
        pool.push((name, kind));
    }
    let last: Vec<String> = pool
        .iter()
        .skip(5)
        .map(|(n, k)| match k {
            's' => n.clone(),
            'v' => format!("sum({n})"),
            _ => format!("tr({n})"),
        })
        .collect();
    lines.push(format!("L = {}", if last.is_empty() { "c".to_string() } else { last.join(" + ") }));
    lines.join("\n")
}

/// One row per op (and per elementwise function), each read as a program over declared
/// inputs, including ops used more than once and results fed to several others. The
/// derivative tests and the compiled-plan tests share it.
pub const RULE_TABLE: &[(&str, &str)] = &[
    ("a size as a number", "x, y: vector(n)\nL = n*(x'*y) + sum(x)/n"),
    ("neg", "x, y: vector(n)\nL = sum(-x.*y)"),
    ("add with a broadcast scalar", "x, y: vector(n)\nc: scalar\nL = sum((x + c).*y)"),
    ("elementwise product and scaling", "x, y: vector(n)\nc: scalar\nL = sum(c*x.*y.*x)"),
    ("division", "x, y: vector(n)\nc: scalar\nL = sum(x./(2 + y.^2)) + sum(y/(1 + c^2)) + c/(2 + x'*x)"),
    ("elementwise power", "x: vector(n)\nc: scalar\nL = sum((1 + x.^2).^c) + sum(x.^3)"),
    ("scalar power", "x, y: vector(n)\nc: scalar\nL = (1 + c^2)^(x'*y/10) + c^4"),
    ("matrix product", "x, y: vector(n)\nA, B: matrix(n, n)\nL = x'*A*B*y"),
    ("transpose", "x, y: vector(n)\nA: matrix(n, n)\nL = sum((A'*x).*y)"),
    ("sigmoid", "x, y: vector(n)\nL = sum(sigmoid(x).*y)"),
    ("tanh", "x, y: vector(n)\nL = sum(tanh(x).*y)"),
    ("exp", "x, y: vector(n)\nL = sum(exp(x).*y)"),
    ("log", "x, y: vector(n)\nL = sum(log(1 + x.^2).*y)"),
    ("sin", "x, y: vector(n)\nL = sum(sin(x).*y)"),
    ("cos", "x, y: vector(n)\nL = sum(cos(x).*y)"),
    ("tan", "x, y: vector(n)\nL = sum(tan(x/4).*y)"),
    ("sqrt", "x, y: vector(n)\nL = sum(sqrt(1 + x.^2).*y)"),
    ("abs", "x, y: vector(n)\nL = sum(abs(x).*y)"),
    ("sign", "x, y: vector(n)\nL = sum(sign(x).*y) + x'*y"),
    ("relu", "x, y: vector(n)\nL = sum(relu(x).*y)"),
    ("softplus", "x, y: vector(n)\nL = sum(softplus(x).*y)"),
    ("step", "x, y: vector(n)\nL = sum(step(x).*y) + sum(x.*y)"),
    ("matrix power", "x: vector(n)\nA: matrix(n, n)\nL = sum(A^3*x) + tr(A^2)"),
    ("inverse power", "x: vector(n)\nA: matrix(n, n)\nB = A*A' + eye(n)\nL = x'*B^-2*x"),
    ("sum", "A: matrix(n, n)\nL = sum(A.*A)"),
    ("norm1", "x: vector(n)\nA: matrix(n, n)\nL = norm1(A*x)"),
    ("norm2", "x: vector(n)\nA: matrix(n, n)\nL = norm2(A*x) + norm2(A)"),
    ("trace", "A, B: matrix(n, n)\nL = tr(A*B)"),
    ("det", "A: matrix(n, n)\nL = det(A)"),
    ("logdet", "A: matrix(n, n)\nL = logdet(A*A' + eye(n))"),
    ("logdet of an indefinite matrix", "A: matrix(n, n)\nL = logdet(A)"),
    ("inverse", "x, y: vector(n)\nA: matrix(n, n)\nL = x'*inv(A*A' + eye(n))*y"),
    ("diag of a vector", "x, y: vector(n)\nA: matrix(n, n)\nL = sum(A.*diag(x))"),
    ("diag of a matrix", "x, y: vector(n)\nA: matrix(n, n)\nL = diag(A)'*y"),
    ("softmax", "x, y: vector(n)\nL = softmax(x)'*y"),
    ("logsumexp", "x: vector(n)\nL = logsumexp(x)"),
    ("ones and zeros", "x: vector(n)\nL = ones(n)'*x + sum(zeros(n).*x)"),
    ("identity", "A: matrix(n, n)\nL = sum((A + eye(n)).^2)"),
    ("a node used three times", "x: vector(n)\nA: matrix(n, n)\ny = A*x\nL = y'*y + sum(sigmoid(y)) + norm2(y)"),
    ("a result fed to several", "x: vector(n)\nA: matrix(n, n)\nz = tanh(A*x)\nw = A*z\nL = z'*w + sum(z)"),
];
