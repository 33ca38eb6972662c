//! Long programs of the shapes that find recursion and quadratic passes, shared by the
//! scale test (`tests/scale.rs`) and the scaling benchmark (`examples/scaling.rs`).
#![allow(dead_code)]

use std::fmt::Write;

/// The most terms one sum is written with: the parser refuses expressions nested deeper
/// than `syntax::MAX_DEPTH`, and `a + b + …` is a tree as deep as it is long.
const TERMS_PER_SUM: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `y1 = sin(x); y2 = sin(y1); …`: a scalar chain as deep as it is long.
    Chain,
    /// `y1 = A*x; y2 = A*y1; …; L = norm2(y)^2`: one weight used by every statement.
    MatrixChain,
    /// `L = x1 + x2 + …` over `n` scalar inputs, written as sums of at most 100 terms.
    WideSum,
    /// The backprop example (`y = A x`, `u = σ(y)`, `v = B x`, `z = A (u ⊙ v)`, `w = A z`)
    /// repeated, each copy reading the previous one's `w`.
    Backprop,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::Chain, Shape::MatrixChain, Shape::WideSum, Shape::Backprop];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Chain => "scalar chain",
            Shape::MatrixChain => "matrix chain",
            Shape::WideSum => "wide sum",
            Shape::Backprop => "backprop repeated",
        }
    }

    /// A program of about `n` statements (for the wide sum: `n` terms) of this shape.
    pub fn program(self, n: usize) -> String {
        let mut out = String::new();
        match self {
            Shape::Chain => {
                out.push_str("x: scalar\ny1 = sin(x)\n");
                for i in 2..=n {
                    let _ = writeln!(out, "y{i} = sin(y{})", i - 1);
                }
            }
            Shape::MatrixChain => {
                out.push_str("x: vector(K)\nA: matrix(K, K)\ny1 = A*x\n");
                for i in 2..n {
                    let _ = writeln!(out, "y{i} = A*y{}", i - 1);
                }
                let _ = writeln!(out, "L = norm2(y{})^2", n.max(2) - 1);
            }
            Shape::WideSum => {
                let mut terms: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
                let _ = writeln!(out, "{}: scalar", terms.join(", "));
                let mut level = 0;
                while terms.len() > TERMS_PER_SUM {
                    let groups: Vec<String> = terms.chunks(TERMS_PER_SUM).map(|g| g.join(" + ")).collect();
                    terms = Vec::new();
                    for (j, group) in groups.iter().enumerate() {
                        let name = format!("s{level}_{j}");
                        let _ = writeln!(out, "{name} = {group}");
                        terms.push(name);
                    }
                    level += 1;
                }
                let _ = writeln!(out, "L = {}", terms.join(" + "));
            }
            Shape::Backprop => {
                out.push_str("x: vector(K)\nA, B: matrix(K, K)\n");
                let mut previous = "x".to_string();
                for i in 1..=n.div_ceil(5).max(1) {
                    let _ = writeln!(
                        out,
                        "y{i} = A*{previous}\nu{i} = sigmoid(y{i})\nv{i} = B*{previous}\nz{i} = A*(u{i}.*v{i})\nw{i} = A*z{i}"
                    );
                    previous = format!("w{i}");
                }
                let _ = writeln!(out, "L = norm2({previous})^2");
            }
        }
        out
    }
}
