//! One graph node as a Python expression, for each target library.
//!
//! Vectors are 1-D arrays and scalars 0-d, so a row vector (a transposed vector) is the
//! same 1-D array as its column: a transpose of a vector prints as nothing, a product of a
//! column and a row as `outer`, a product with a 1×1 factor as `*`. Nodes with a local
//! name print as the name; everything else is written inline, parenthesised by Python's
//! precedence, so a product prints with the association the graph holds (`A @ (B @ x)`).

use std::collections::HashMap;

use crate::ir::shape::ONE;
use crate::ir::{Dim, Graph, NodeId, Op};
use crate::jacobian::{Contraction, Index, Operand};

use super::Target;

/// Python's binding powers, loosest first.
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const UNARY: u8 = 3;
const POWER: u8 = 4;
const ATOM: u8 = 5;

/// How a value is laid out as an array: 0-d, 1-D or 2-D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar,
    Column,
    Row,
    Matrix,
}

pub(crate) fn kind(graph: &Graph, id: NodeId) -> Kind {
    let shape = graph.shape(id);
    let one = |d: Dim| graph.dims.resolve(d) == ONE;
    match (one(shape.rows), one(shape.cols)) {
        (true, true) => Kind::Scalar,
        (false, true) => Kind::Column,
        (true, false) => Kind::Row,
        (false, false) => Kind::Matrix,
    }
}

/// What an expression needs from around it: each node's local name, and the Python
/// spelling of a dimension and of a tensor's `dtype`/`device` (PyTorch).
pub(crate) struct Context<'a> {
    pub graph: &'a Graph,
    pub target: Target,
    pub name: &'a dyn Fn(NodeId) -> Option<String>,
    /// The local holding a dimension's size (`K`), or its number.
    pub dim: &'a dyn Fn(Dim) -> String,
    /// `, dtype=x.dtype, device=x.device` for PyTorch's constructors; empty otherwise.
    pub like: &'a str,
}

impl Context<'_> {
    /// `id` written in full (even if it has a name): what its local is assigned.
    pub fn definition(&self, id: NodeId) -> String {
        crate::stack::deep(|| self.write(id)).0
    }

    fn operand(&self, id: NodeId, at_least: u8) -> String {
        let (text, power) = match (self.name)(id) {
            Some(name) => (name, ATOM),
            None => crate::stack::deep(|| self.write(id)),
        };
        if power >= at_least {
            text
        } else {
            format!("({text})")
        }
    }

    /// An operand anywhere a comma-separated argument may go.
    fn argument(&self, id: NodeId) -> String {
        self.operand(id, 0)
    }

    fn call(&self, function: &str, id: NodeId) -> (String, u8) {
        (format!("{function}({})", self.argument(id)), ATOM)
    }

    fn infix(&self, a: NodeId, op: &str, b: NodeId, power: u8) -> (String, u8) {
        (format!("{} {op} {}", self.operand(a, power), self.operand(b, power + 1)), power)
    }

    /// The array library's namespace, and its linear-algebra one.
    fn library(&self) -> (&'static str, &'static str) {
        match self.target {
            Target::Numpy => ("np", "np.linalg"),
            Target::Jax => ("jnp", "jnp.linalg"),
            Target::Torch => ("torch", "torch.linalg"),
        }
    }

    fn shape_of(&self, id: NodeId) -> String {
        let shape = self.graph.shape(id);
        match kind(self.graph, id) {
            Kind::Scalar => "()".to_string(),
            Kind::Column => format!("({},)", (self.dim)(shape.rows)),
            Kind::Row => format!("({},)", (self.dim)(shape.cols)),
            Kind::Matrix => format!("({}, {})", (self.dim)(shape.rows), (self.dim)(shape.cols)),
        }
    }

    fn write(&self, id: NodeId) -> (String, u8) {
        let graph = self.graph;
        let (np, linalg) = self.library();
        match graph.op(id) {
            Op::Input(i) => ((self.name)(id).unwrap_or_else(|| graph.input(i).name.clone()), ATOM),
            Op::Const(c) => literal(c.0),
            Op::Eye(n) => (format!("{np}.eye({}{})", (self.dim)(n), self.like), ATOM),
            Op::Size(n) => ((self.dim)(n), ATOM),
            Op::Fill(c, _) => {
                let shape = self.shape_of(id);
                if shape == "()" {
                    return literal(c.0);
                }
                let text = match c.0 {
                    0.0 => format!("{np}.zeros({shape}{})", self.like),
                    1.0 => format!("{np}.ones({shape}{})", self.like),
                    value => format!("{np}.full({shape}, {}{})", float(value), self.like),
                };
                (text, ATOM)
            }
            Op::Neg(a) => (format!("-{}", self.operand(a, UNARY)), UNARY),
            Op::Add(..) if self.target != Target::Jax && self.outer_products(id, true).is_some_and(|t| t.len() > 1) => {
                self.stacked(id)
            }
            Op::Add(a, b) => match graph.op(b) {
                Op::Neg(c) => self.infix(a, "-", c, SUM),
                _ => self.infix(a, "+", b, SUM),
            },
            Op::Mul(a, b) => match self.scaled_outer(a, b).or_else(|| self.scaled_outer(b, a)) {
                // `s u vᵀ` as `outer(s * u, v)`: the scalar scales a vector, not the matrix
                // (one pass over K entries instead of K², measured 1.3× on the example at
                // K = 256).
                Some((s, u, v)) => {
                    let scaled = self.infix(s, "*", u, PRODUCT).0;
                    (format!("{np}.outer({scaled}, {})", self.argument(v)), ATOM)
                }
                None => self.infix(a, "*", b, PRODUCT),
            },
            Op::Div(a, b) => self.infix(a, "/", b, PRODUCT),
            Op::Pow(a, b) => match self.squared_norm(a, b) {
                // ‖v‖² as the sum of squares, one pass and no square root (`norm(w) ** 2`
                // costs a call more and rounds twice).
                Some(v) => {
                    let v = self.argument(v);
                    match self.target {
                        // `v` once, as an argument: `v * v` would write an inline `v` twice
                        // and, unbracketed, misread `A @ x - b` (found by the torch tests).
                        Target::Torch => (format!("torch.sum(torch.square({v}))"), ATOM),
                        Target::Numpy | Target::Jax => (format!("{np}.vdot({v}, {v})"), ATOM),
                    }
                }
                None => (format!("{} ** {}", self.operand(a, POWER + 1), self.operand(b, UNARY)), POWER),
            },
            Op::MatMul(a, b) => self.product(a, b),
            Op::Transpose(a) => match kind(graph, a) {
                Kind::Matrix => (format!("{}.T", self.operand(a, ATOM)), ATOM),
                Kind::Scalar | Kind::Column | Kind::Row => match (self.name)(a) {
                    Some(name) => (name, ATOM),
                    None => self.write(a),
                },
            },
            Op::Map(f, a) => {
                let python = f.info().python;
                let template = match self.target {
                    Target::Numpy => python.numpy,
                    Target::Jax => python.jax,
                    Target::Torch => python.torch,
                };
                (template.replace("{}", &self.argument(a)), ATOM)
            }
            Op::MatPow(a, k) => (format!("{linalg}.matrix_power({}, {k})", self.argument(a)), ATOM),
            Op::Sum(a) => self.call(&format!("{np}.sum"), a),
            Op::Norm1(a) => (format!("{np}.sum({np}.abs({}))", self.argument(a)), ATOM),
            Op::Norm2(a) => self.call(&format!("{linalg}.norm"), a),
            Op::Trace(a) => self.call(&format!("{np}.trace"), a),
            Op::Det(a) => self.call(&format!("{linalg}.det"), a),
            // slogdet gives (sign, log|det|).
            Op::LogDet(a) => (format!("{linalg}.slogdet({})[1]", self.argument(a)), ATOM),
            Op::Inv(a) => self.call(&format!("{linalg}.inv"), a),
            Op::Diag(a) => self.call(&format!("{np}.diag"), a),
            Op::DiagPart(a) => self.call(&format!("{np}.diagonal"), a),
            Op::Softmax(a) => match self.target {
                Target::Numpy => self.call("_softmax", a),
                Target::Jax => self.call("jax.nn.softmax", a),
                Target::Torch => (format!("torch.softmax({}, dim=0)", self.argument(a)), ATOM),
            },
            Op::LogSumExp(a) => match self.target {
                Target::Numpy => self.call("_logsumexp", a),
                Target::Jax => self.call("jax.nn.logsumexp", a),
                Target::Torch => (format!("torch.logsumexp({}, dim=0)", self.argument(a)), ATOM),
            },
        }
    }

    /// The terms ±a bᵀ of a sum of outer products of vectors (through unnamed sums and
    /// negations), each as (negated, column, row); None if another term is met.
    fn outer_products(&self, id: NodeId, top: bool) -> Option<Vec<(bool, NodeId, NodeId)>> {
        if !top && (self.name)(id).is_some() {
            return None;
        }
        let graph = self.graph;
        match graph.op(id) {
            Op::Add(a, b) => {
                // The right operand first: in a long sum it is a single term, so a sum that is
                // not of outer products is told at once, not after a walk down the whole sum.
                let right = self.outer_products(b, false)?;
                let mut terms = self.outer_products(a, false)?;
                terms.extend(right);
                Some(terms)
            }
            Op::Neg(a) => Some(self.outer_products(a, false)?.into_iter().map(|(n, a, b)| (!n, a, b)).collect()),
            _ => self.outer_factors(id).map(|(a, b)| vec![(false, a, b)]),
        }
    }

    /// Σ ±aᵢ bᵢᵀ as one product of thin matrices, `stack((a₁, a₂), axis=1) @ stack((b₁, b₂))`:
    /// one pass over the result where a sum of `outer`s makes a pass per term and per sum.
    /// (JAX fuses the sum into one loop by itself, so its code keeps the `outer`s.)
    fn stacked(&self, id: NodeId) -> (String, u8) {
        let (np, _) = self.library();
        let terms = self.outer_products(id, true).unwrap_or_default();
        let columns: Vec<String> = terms
            .iter()
            .map(|&(negated, a, _)| match negated {
                true => format!("-{}", self.operand(a, UNARY)),
                false => self.argument(a),
            })
            .collect();
        let rows: Vec<String> = terms.iter().map(|&(_, _, b)| self.argument(b)).collect();
        let axis = if self.target == Target::Torch { "dim" } else { "axis" };
        (format!("{np}.stack(({}), {axis}=1) @ {np}.stack(({}))", columns.join(", "), rows.join(", ")), PRODUCT)
    }

    /// `v` where `a ** b` is `‖v‖²`: `a` an unnamed norm, `b` the constant 2.
    fn squared_norm(&self, a: NodeId, b: NodeId) -> Option<NodeId> {
        match (self.graph.op(a), self.graph.op(b)) {
            (Op::Norm2(v), Op::Const(c)) if c.0 == 2.0 && (self.name)(a).is_none() => Some(v),
            _ => None,
        }
    }

    /// `(u, vᵀ)` where `m` is a product of a column and a row, `u vᵀ`.
    fn outer_factors(&self, m: NodeId) -> Option<(NodeId, NodeId)> {
        match self.graph.op(m) {
            Op::MatMul(u, v) if kind(self.graph, u) == Kind::Column && kind(self.graph, v) == Kind::Row => Some((u, v)),
            _ => None,
        }
    }

    /// `(s, u, vᵀ)` where `s` is a scalar and `m` an unnamed outer product `u vᵀ`.
    fn scaled_outer(&self, s: NodeId, m: NodeId) -> Option<(NodeId, NodeId, NodeId)> {
        if kind(self.graph, s) != Kind::Scalar || (self.name)(m).is_some() {
            return None;
        }
        self.outer_factors(m).map(|(u, v)| (s, u, v))
    }

    /// `a·b` by the operands' layouts: `@`, `*` with a 1×1 factor, `outer` of a column and a
    /// row, and a diagonal factor as a broadcast (`v[:, None] * M`, `M * v`), never formed.
    fn product(&self, a: NodeId, b: NodeId) -> (String, u8) {
        let graph = self.graph;
        let (np, _) = self.library();
        let unnamed_diag = |id: NodeId| match graph.op(id) {
            Op::Diag(v) if (self.name)(id).is_none() => Some(v),
            _ => None,
        };
        let transposed = |id: NodeId| match graph.op(id) {
            Op::Transpose(m) if (self.name)(id).is_none() && kind(graph, m) == Kind::Matrix => Some(m),
            _ => None,
        };
        match (kind(graph, a), kind(graph, b)) {
            (Kind::Scalar, _) | (_, Kind::Scalar) => self.infix(a, "*", b, PRODUCT),
            // XLA on the CPU forms the transpose of `A.T @ v` (27 ms against 0.5 for `v @ A`
            // at K = 1024, measured), so JAX's code writes Aᵀv as `v @ A`.
            (Kind::Matrix, Kind::Column) if self.target == Target::Jax && transposed(a).is_some() => {
                let m = transposed(a).unwrap_or(a);
                self.infix(b, "@", m, PRODUCT)
            }
            (Kind::Column, Kind::Row) => (format!("{np}.outer({}, {})", self.argument(a), self.argument(b)), ATOM),
            (left, right) => match (unnamed_diag(a), unnamed_diag(b)) {
                (Some(v), _) if right == Kind::Matrix => {
                    (format!("{}[:, None] * {}", self.operand(v, ATOM), self.operand(b, PRODUCT + 1)), PRODUCT)
                }
                (Some(v), _) => self.infix(v, "*", b, PRODUCT),
                (_, Some(v)) if left == Kind::Matrix || left == Kind::Row => self.infix(a, "*", v, PRODUCT),
                _ => self.infix(a, "@", b, PRODUCT),
            },
        }
    }
}

impl Context<'_> {
    /// Σ c · einsum(…) over a block's terms, the output's axes `output`; zeros of its shape
    /// where there are none. A term's scalar factors multiply the einsum, a δ is the
    /// identity, and ones stand for an axis along which the term is constant.
    pub fn contractions(&self, output: &[(Index, Dim)], terms: &[Contraction]) -> String {
        let (np, _) = self.library();
        if terms.is_empty() {
            let sizes: Vec<String> = output.iter().map(|&(_, d)| (self.dim)(d)).collect();
            return match sizes.len() {
                0 => "0.0".to_string(),
                1 => format!("{np}.zeros(({},){})", sizes[0], self.like),
                _ => format!("{np}.zeros(({}){})", sizes.join(", "), self.like),
            };
        }
        let mut out = String::new();
        for (n, term) in terms.iter().enumerate() {
            out.push_str(match (n, term.coefficient < 0.0) {
                (0, false) => "",
                (0, true) => "-",
                (_, false) => " + ",
                (_, true) => " - ",
            });
            let mut factors: Vec<String> = Vec::new();
            let magnitude = term.coefficient.abs();
            if magnitude != 1.0 {
                factors.push(literal(magnitude).0);
            }
            // Letters by first use, the output's first.
            let mut letters: HashMap<Index, char> = HashMap::new();
            let mut letter = |index: Index| {
                let next = letters.len();
                *letters.entry(index).or_insert_with(|| LETTERS.chars().nth(next).unwrap_or('Z'))
            };
            let result: String = output.iter().map(|&(i, _)| letter(i)).collect();
            let mut subscripts: Vec<String> = Vec::new();
            let mut arrays: Vec<String> = Vec::new();
            for (operand, indices) in &term.operands {
                match operand {
                    Operand::Value(id) if indices.is_empty() => factors.push(self.operand(*id, PRODUCT + 1)),
                    Operand::Value(id) => arrays.push(self.argument(*id)),
                    Operand::Identity(d) => arrays.push(format!("{np}.eye({}{})", (self.dim)(*d), self.like)),
                    Operand::Ones(d) => arrays.push(format!("{np}.ones({}{})", (self.dim)(*d), self.like)),
                }
                if !indices.is_empty() || !matches!(operand, Operand::Value(_)) {
                    subscripts.push(indices.iter().map(|&i| letter(i)).collect());
                }
            }
            if !arrays.is_empty() {
                // NumPy contracts a product of three or more one loop at a time only when told.
                let optimize = if self.target == Target::Numpy && arrays.len() > 2 { ", optimize=True" } else { "" };
                factors.push(format!(
                    "{np}.einsum(\"{}->{result}\", {}{optimize})",
                    subscripts.join(","),
                    arrays.join(", ")
                ));
            }
            if factors.is_empty() {
                factors.push("1.0".to_string());
            }
            out.push_str(&factors.join(" * "));
        }
        out
    }
}

/// Index letters of an einsum.
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A constant: integers without a point (`2 * x`, `x ** 3`), negatives as unary minus.
fn literal(value: f64) -> (String, u8) {
    let text = if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { float(value) };
    let power = if text.starts_with('-') { UNARY } else { ATOM };
    (text, power)
}

/// A float literal Python reads back to the same `f64`.
pub(crate) fn float(value: f64) -> String {
    if value.is_nan() {
        "float(\"nan\")".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "float(\"inf\")" } else { "-float(\"inf\")" }.to_string()
    } else {
        format!("{value:?}")
    }
}
