//! Graph → steps: gives every reachable node a [`Form`] and materialises forms only where a
//! buffer is needed (see the module docs of `plan`).
//!
//! The rules, by op: inputs and transposes are views; constants, `Fill`, `Eye` and
//! `Diag(v)` are never written out unless requested (a product with `Diag(v)` scales rows
//! or columns inside an elementwise loop, or inside a weighted product when the scaled matrix
//! is itself multiplied; a product with `Eye` is its other factor);
//! elementwise ops build expressions; `MatMul` builds a chain of factors (association
//! chosen by cost when it is materialised); `+`, `−` and scaling of products extend a lazy
//! sum of products; reductions reduce an expression; `tr(L R)` is `sum(L ⊙ Rᵀ)`, never the
//! product; `ones(m, k) B` is `𝟙 (𝟙ᵀ B)`; `L (Diag(w) R)` is one weighted product, never
//! writing `Diag(w) R` out (a matrix times a sum holding such terms is distributed over it);
//! `inv(A) B` is a solve. A node used more than once is computed once, into a buffer, unless
//! it is a matrix product used only by other products.

use std::collections::HashMap;

use crate::ir::{Graph, NodeId, Op};

use super::super::sizes::Sizes;
use super::elementwise::{Binary, Expr, ExprId, Exprs, Kernel, Leaf, Scalar, Sink, Unary, MAX_DEPTH};
use super::memory::ValueInfo;
use super::products::{self, chain_order, Products, Scale, Term};
use super::special::{Routine, Special};
use super::{InputShape, Source, Step, ValueId, View};
use crate::Error;

/// The most factors a chain collects before part of it is computed.
const MAX_CHAIN: usize = 12;

/// How a node's value is available to its consumers.
#[derive(Debug, Clone)]
enum Form {
    /// An array in memory (an input, or a value computed earlier), read through a view.
    Dense(View),
    /// Every entry is the constant (a scalar when the node is 1×1).
    Fill(f64),
    Identity,
    /// The diagonal matrix of a vector.
    Diag(View),
    /// `Diag(w) M` (`rows`: M's rows scaled) or `M Diag(w)`, not yet computed: an elementwise
    /// expression to every consumer but a product, which takes `L Diag(w) R` as one weighted
    /// product and so never writes the scaled matrix out (`X Diag(p ⊙ (1 − p)) Xᵀ`).
    Scaled(Scaling),
    /// An elementwise expression, not yet computed.
    Expr(ExprId),
    /// A sum of matrix products plus an elementwise rest, not yet computed.
    Sum(Sum),
    /// A reduction (to 1×1) of an expression over `rows × cols`, not yet computed.
    Reduce {
        expr: ExprId,
        rows: usize,
        cols: usize,
        sink: Sink,
    },
    /// A dense routine of a materialised operand, not yet computed.
    Call(Routine, View),
    /// `A⁻¹ B` of materialised operands, not yet computed.
    Solve(View, View),
}

impl Form {
    /// Whether using the form twice costs nothing (so it is never materialised for reuse).
    fn is_free(&self) -> bool {
        matches!(self, Form::Dense(_) | Form::Fill(_) | Form::Identity | Form::Diag(_))
    }

    /// Whether the form is a lone product of factors, which a consumer can extend (a
    /// weighted product is not: extending it writes out its scaled factor).
    fn is_chain(&self) -> bool {
        matches!(self, Form::Sum(sum) if sum.lone_chain().is_some_and(|c| c.weights.is_none()))
    }
}

/// `Diag(w) M` (`rows`: M's rows scaled) or `M Diag(w)`.
#[derive(Debug, Clone, Copy)]
struct Scaling {
    weights: View,
    matrix: View,
    rows: bool,
}

impl Scaling {
    /// (Diag(w) M)ᵀ = Mᵀ Diag(w)
    fn transpose(self) -> Scaling {
        Scaling { weights: self.weights, matrix: self.matrix.transpose(), rows: !self.rows }
    }
}

/// Σ αᵢ (product of the factors of chain i) + Σ βⱼ (scaled matrix j) + γ Diag(v) + rest.
/// The scaled matrices and the diagonal are kept apart from the elementwise rest only so
/// that a product can distribute over them: `Aᵀ (Diag(p) A − p pᵀ A)` is
/// `Aᵀ Diag(p) A − (Aᵀ p)(pᵀ A)`, and `(Diag(p) − p pᵀ) A` is `Diag(p) A − p (pᵀ A)`, so
/// neither writes its `m × n` sum out. Every other consumer reads them as part of the rest.
#[derive(Debug, Clone)]
struct Sum {
    chains: Vec<Chain>,
    scaled: Vec<(Scale, Scaling)>,
    diagonal: Option<(Scale, View)>,
    rest: Option<ExprId>,
}

impl Sum {
    fn of(chains: Vec<Chain>, rest: Option<ExprId>) -> Sum {
        Sum { chains, scaled: Vec::new(), diagonal: None, rest }
    }

    /// The one chain, if the sum is a product and nothing else.
    fn lone_chain(&self) -> Option<&Chain> {
        match (self.chains.as_slice(), self.scaled.is_empty() && self.diagonal.is_none(), self.rest) {
            ([chain], true, None) => Some(chain),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Chain {
    alpha: Scale,
    /// Two or more factors, each a materialised view.
    factors: Vec<View>,
    /// With weights w, the chain is two factors and its product is `L Diag(w) R`.
    weights: Option<View>,
}

impl Chain {
    fn of(alpha: Scale, factors: Vec<View>) -> Chain {
        Chain { alpha, factors, weights: None }
    }
}

/// The compiled steps and what memory planning needs.
pub(super) struct Lowered {
    pub steps: Vec<Step>,
    pub values: Vec<ValueInfo>,
    pub outputs: Vec<(usize, usize)>,
    pub inputs: Vec<InputShape>,
}

pub(super) fn lower(graph: &Graph, sizes: &Sizes, wanted: &[NodeId]) -> Result<Lowered, Error> {
    let reachable = graph.reachable(wanted);
    let mut shapes = vec![(0, 0); graph.len()];
    for &id in &reachable {
        shapes[id.index()] = sizes.shape(graph, graph.shape(id)).ok_or_else(|| {
            Error::input(format!("a dimension of `{}` has no size", graph.dims.show_shape(graph.shape(id))))
                .with_hint("give every dimension symbol a size")
        })?;
    }
    // The sizes that `Op::Size` nodes stand for, read once here where the sizes are known.
    let mut size_values = HashMap::new();
    for &id in &reachable {
        if let Op::Size(n) = graph.op(id) {
            let value = sizes.dim(graph, n).ok_or_else(|| {
                Error::input(format!("the size `{}` has no value", graph.dims.show(n)))
                    .with_hint("give every dimension symbol a size")
            })?;
            size_values.insert(id, value);
        }
    }
    let inputs = graph
        .inputs()
        .iter()
        .map(|input| {
            let (rows, cols) = sizes.shape(graph, input.shape).unwrap_or((0, 0));
            InputShape { rows, cols, needed: false }
        })
        .collect();
    let mut uses = vec![0u32; graph.len()];
    // Whether every use of a node is as a factor of a product (directly or transposed):
    // such a node can stay a lazy chain of factors, each consumer choosing its own order.
    let mut only_in_products = vec![true; graph.len()];
    for id in wanted {
        only_in_products[id.index()] = false;
    }
    for &id in reachable.iter().rev() {
        let op = graph.op(id);
        let factor = match op {
            Op::MatMul(..) => true,
            Op::Transpose(_) => only_in_products[id.index()],
            _ => false,
        };
        for child in op.children() {
            uses[child.index()] += 1;
            only_in_products[child.index()] &= factor;
        }
    }
    let mut outputs_of: HashMap<NodeId, Vec<usize>> = HashMap::new();
    for (k, &id) in wanted.iter().enumerate() {
        uses[id.index()] += 1;
        outputs_of.entry(id).or_default().push(k);
    }
    let mut lowering = Lowering {
        graph,
        shapes,
        exprs: Exprs::default(),
        steps: Vec::new(),
        values: Vec::new(),
        forms: vec![None; graph.len()],
        inputs,
        ones: HashMap::new(),
        products_made: HashMap::new(),
        uses_left: uses.clone(),
        size_values,
    };
    let outputs: Vec<(usize, usize)> = wanted.iter().map(|id| lowering.shapes[id.index()]).collect();
    let output_values: Vec<ValueId> =
        outputs.iter().enumerate().map(|(k, &(rows, cols))| lowering.value(rows * cols, Some(k))).collect();
    for &id in &reachable {
        let (rows, cols) = lowering.shapes[id.index()];
        let mut form = lowering.node(id);
        // A weighted product that several products extend (`xᵀ (Aᵀ Diag(w) A) x`) writes
        // its smaller scaled factor out once, here, and stays a lazy chain like any other.
        if uses[id.index()] > 1 && only_in_products[id.index()] && !outputs_of.contains_key(&id) {
            form = lowering.unweighted(form);
        }
        let form = match outputs_of.get(&id) {
            Some(ks) => {
                let view = lowering.materialise(form.clone(), rows, cols, Some(output_values[ks[0]]));
                for &k in &ks[1..] {
                    lowering.materialise(Form::Dense(view), rows, cols, Some(output_values[k]));
                }
                // Later readers read the output, unless the node was free to read already.
                if form.is_free() {
                    form
                } else {
                    Form::Dense(view)
                }
            }
            // A matrix product shared by several products is not formed: `(A B) x` and
            // `(A B)ᵀ y` are cheaper as `A (B x)` and `Bᵀ (Aᵀ y)` than through `A B`, and a
            // shared `1 xᵀ` times `Bᵀ` is `1 (xᵀ Bᵀ)`. (A shared vector is worth keeping.)
            None if uses[id.index()] > 1
                && !form.is_free()
                && !(form.is_chain() && only_in_products[id.index()] && rows > 1 && cols > 1) =>
            {
                Form::Dense(lowering.materialise(form, rows, cols, None))
            }
            None => form,
        };
        lowering.forms[id.index()] = Some(form);
    }
    Ok(Lowered { steps: lowering.steps, values: lowering.values, outputs, inputs: lowering.inputs })
}

struct Lowering<'g> {
    graph: &'g Graph,
    /// `(rows, cols)` of every reachable node.
    shapes: Vec<(usize, usize)>,
    exprs: Exprs,
    steps: Vec<Step>,
    values: Vec<ValueInfo>,
    forms: Vec<Option<Form>>,
    inputs: Vec<InputShape>,
    /// Vectors of ones already in memory, by length.
    ones: HashMap<usize, View>,
    /// Products `L R` already in memory, by their factors: a product that two expressions
    /// reach by different associations (`xᵀ (A y)` for the value and `A y` for a gradient)
    /// is computed once.
    products_made: HashMap<(View, View), View>,
    /// Uses of each node not yet lowered.
    uses_left: Vec<u32>,
    /// The value of each reachable `Op::Size` node.
    size_values: HashMap<NodeId, usize>,
}

impl Lowering<'_> {
    fn value(&mut self, len: usize, output: Option<usize>) -> ValueId {
        self.values.push(ValueInfo { len, output });
        ValueId(self.values.len() as u32 - 1)
    }

    /// The form of child `id`, for one of its uses: the last use takes it (a sum that
    /// collects the ten thousand terms of a long program's gradient must not be copied at
    /// every term).
    fn form(&mut self, id: NodeId) -> Form {
        let left = &mut self.uses_left[id.index()];
        *left = left.saturating_sub(1);
        let slot = &mut self.forms[id.index()];
        let form = if *left == 0 { slot.take() } else { slot.clone() };
        form.expect("children are lowered before their parents, and read once per use")
    }

    fn shape(&self, id: NodeId) -> (usize, usize) {
        self.shapes[id.index()]
    }

    fn node(&mut self, id: NodeId) -> Form {
        let (rows, cols) = self.shape(id);
        let op = self.graph.op(id);
        // The children's forms, each fetched once (see `form`), with their shapes.
        let mut children = op.children().into_iter().map(|c| (c, self.shape(c)));
        let (a, b) = (children.next(), children.next());
        let (fa, sa) = match a {
            Some((a, sa)) => (Some(self.form(a)), sa),
            None => (None, (0, 0)),
        };
        let (fb, sb) = match b {
            Some((b, sb)) => (Some(self.form(b)), sb),
            None => (None, (0, 0)),
        };
        let a = || fa.expect("the op has a first operand");
        match op {
            Op::Input(i) => {
                self.inputs[i as usize].needed = true;
                Form::Dense(View::of(Source::Input(i), rows, cols))
            }
            Op::Const(c) => Form::Fill(c.0),
            Op::Eye(_) => Form::Identity,
            Op::Size(_) => Form::Fill(self.size_values[&id] as f64),
            Op::Fill(c, _) => Form::Fill(c.0),
            Op::Neg(_) => match a() {
                Form::Fill(c) => Form::Fill(-c),
                Form::Sum(sum) => self.scaled(sum, Form::Fill(-1.0), rows, cols),
                form => {
                    let e = self.expr(form, sa, (rows, cols));
                    Form::Expr(self.exprs.unary(Unary::Neg, e))
                }
            },
            Op::Add(..) => self.add(a(), sa, fb.expect("binary"), sb, rows, cols),
            Op::Mul(..) => self.mul(a(), sa, fb.expect("binary"), sb, rows, cols),
            Op::Div(..) => match (a(), fb.expect("binary")) {
                (Form::Sum(sum), Form::Fill(c)) => self.scaled(sum, Form::Fill(1.0 / c), rows, cols),
                (fa, fb) => self.binary(Binary::Div, fa, sa, fb, sb, rows, cols),
            },
            Op::Pow(..) => match (a(), fb.expect("binary")) {
                // ‖x‖² as one sum of squares (the norm is not used elsewhere, or it would be in
                // memory already).
                (Form::Reduce { expr, rows, cols, sink: Sink::Norm2 }, Form::Fill(2.0)) => {
                    Form::Reduce { expr, rows, cols, sink: Sink::SumSquares }
                }
                (fa, fb) => self.binary(Binary::Pow, fa, sa, fb, sb, rows, cols),
            },
            Op::Map(f, _) => {
                let e = self.expr(a(), sa, (rows, cols));
                Form::Expr(self.exprs.unary(Unary::Map(f), e))
            }
            Op::MatMul(..) => self.matmul(a(), sa, fb.expect("binary"), sb, rows, cols),
            Op::Transpose(_) => self.transpose(a(), sa),
            Op::MatPow(_, k) => Form::Call(Routine::Power(k), self.dense(a(), sa)),
            Op::Sum(_) => self.reduce(a(), sa, Sink::Sum),
            Op::Norm1(_) => self.reduce(a(), sa, Sink::SumAbs),
            Op::Norm2(_) => self.reduce(a(), sa, Sink::Norm2),
            Op::Trace(_) => self.trace(a(), sa),
            Op::Det(_) => Form::Call(Routine::Det, self.dense(a(), sa)),
            Op::LogDet(_) => Form::Call(Routine::LogDet, self.dense(a(), sa)),
            Op::Inv(_) => Form::Call(Routine::Inverse, self.dense(a(), sa)),
            Op::Diag(_) => Form::Diag(self.dense(a(), sa)),
            Op::DiagPart(_) => match a() {
                Form::Diag(v) => Form::Dense(v),
                Form::Identity => Form::Fill(1.0),
                Form::Fill(c) => Form::Fill(c),
                // diag(α L R) is the row sums of α L ⊙ Rᵀ: m·k work, not the m·k·m product (and
                // no more memory, for k ≤ m).
                Form::Sum(mut sum) if sum.lone_chain().is_some_and(|c| inner_of_last(c) <= sa.0) => {
                    let (expr, (m, k)) = self.products_entries(sum.chains.remove(0));
                    if k == 1 {
                        Form::Expr(expr)
                    } else {
                        let entries = self.materialise(Form::Expr(expr), m, k, None);
                        let ones = self.ones(k);
                        Form::Sum(Sum::of(vec![Chain::of(Scale::ONE, vec![entries, ones])], None))
                    }
                }
                form => {
                    let e = self.expr(form, sa, sa);
                    Form::Expr(self.exprs.diagonal(e))
                }
            },
            Op::Softmax(_) => Form::Call(Routine::Softmax, self.dense(a(), sa)),
            Op::LogSumExp(_) => Form::Call(Routine::LogSumExp, self.dense(a(), sa)),
        }
    }

    /// `a + b`: a sum of products absorbs the other operand into its elementwise rest.
    fn add(&mut self, fa: Form, sa: (usize, usize), fb: Form, sb: (usize, usize), rows: usize, cols: usize) -> Form {
        match (fa, fb) {
            (Form::Sum(x), Form::Sum(y)) if sa == sb => {
                let mut rest = match (x.rest, y.rest) {
                    (Some(p), Some(q)) => Some(self.exprs.binary(Binary::Add, p, q)),
                    (p, q) => p.or(q),
                };
                let diagonal = match (x.diagonal, y.diagonal) {
                    (Some(d), Some(e)) => {
                        rest = Some(self.with_diagonal(rest, e));
                        Some(d)
                    }
                    (d, e) => d.or(e),
                };
                let (mut chains, mut scaled) = (x.chains, x.scaled);
                chains.extend(y.chains);
                scaled.extend(y.scaled);
                self.sum(Sum { chains, scaled, diagonal, rest }, rows, cols)
            }
            (Form::Sum(mut sum), Form::Diag(v)) | (Form::Diag(v), Form::Sum(mut sum))
                if sa == sb && sum.diagonal.is_none() =>
            {
                sum.diagonal = Some((Scale::ONE, v));
                Form::Sum(sum)
            }
            (Form::Sum(mut sum), Form::Scaled(scaling)) | (Form::Scaled(scaling), Form::Sum(mut sum))
                if sa == sb && sum.scaled.is_empty() =>
            {
                sum.scaled.push((Scale::ONE, scaling));
                Form::Sum(sum)
            }
            (Form::Sum(sum), other) if sa == (rows, cols) => self.add_to_rest(sum, other, sb, rows, cols),
            (other, Form::Sum(sum)) if sb == (rows, cols) => self.add_to_rest(sum, other, sa, rows, cols),
            (fa, fb) => {
                let ea = self.expr(fa, sa, (rows, cols));
                let eb = self.expr(fb, sb, (rows, cols));
                // x + (−y) is one subtraction.
                match self.exprs.get(eb) {
                    Expr::Unary(Unary::Neg, y) => Form::Expr(self.exprs.binary(Binary::Sub, ea, y)),
                    _ => Form::Expr(self.exprs.binary(Binary::Add, ea, eb)),
                }
            }
        }
    }

    fn add_to_rest(&mut self, sum: Sum, other: Form, shape: (usize, usize), rows: usize, cols: usize) -> Form {
        let e = self.expr(other, shape, (rows, cols));
        let rest = match sum.rest {
            Some(r) => self.exprs.binary(Binary::Add, r, e),
            None => e,
        };
        self.sum(Sum { rest: Some(rest), ..sum }, rows, cols)
    }

    /// A sum of products, computed now if its elementwise rest has grown too deep (a long
    /// run of `+` would otherwise make one deep expression).
    fn sum(&mut self, sum: Sum, rows: usize, cols: usize) -> Form {
        match sum.rest {
            Some(rest) if self.exprs.depth(rest) >= MAX_DEPTH => {
                Form::Dense(self.materialise(Form::Sum(sum), rows, cols, None))
            }
            _ => Form::Sum(sum),
        }
    }

    /// `a ⊙ b`, or a scaling: a scalar times a sum of products scales its terms.
    fn mul(&mut self, fa: Form, sa: (usize, usize), fb: Form, sb: (usize, usize), rows: usize, cols: usize) -> Form {
        match (fa, fb) {
            (Form::Sum(sum), scale) if sb == (1, 1) => self.scaled(sum, scale, rows, cols),
            (scale, Form::Sum(sum)) if sa == (1, 1) => self.scaled(sum, scale, rows, cols),
            (fa, fb) => self.binary(Binary::Mul, fa, sa, fb, sb, rows, cols),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn binary(
        &mut self,
        op: Binary,
        fa: Form,
        sa: (usize, usize),
        fb: Form,
        sb: (usize, usize),
        rows: usize,
        cols: usize,
    ) -> Form {
        let ea = self.expr(fa, sa, (rows, cols));
        let eb = self.expr(fb, sb, (rows, cols));
        Form::Expr(self.exprs.binary(op, ea, eb))
    }

    /// `scale · sum`, where `scale` is the form of a 1×1 node.
    fn scaled(&mut self, sum: Sum, scale: Form, rows: usize, cols: usize) -> Form {
        let factor = self.scale(scale);
        let chains: Option<Vec<Chain>> =
            sum.chains.iter().map(|c| c.alpha.times(factor).map(|alpha| Chain { alpha, ..c.clone() })).collect();
        let scaled: Option<Vec<(Scale, Scaling)>> =
            sum.scaled.iter().map(|&(beta, scaling)| beta.times(factor).map(|beta| (beta, scaling))).collect();
        let diagonal = match sum.diagonal {
            Some((gamma, v)) => gamma.times(factor).map(|gamma| Some((gamma, v))),
            None => Some(None),
        };
        let (Some(chains), Some(scaled), Some(diagonal)) = (chains, scaled, diagonal) else {
            // Two run-time scale factors: compute the sum, then scale it elementwise.
            let view = self.materialise(Form::Sum(sum), rows, cols, None);
            let s = self.scale_expr(factor);
            let e = self.leaf(view);
            return Form::Expr(self.exprs.binary(Binary::Mul, s, e));
        };
        let rest = sum.rest.map(|r| {
            let s = self.scale_expr(factor);
            self.exprs.binary(Binary::Mul, s, r)
        });
        self.sum(Sum { chains, scaled, diagonal, rest }, rows, cols)
    }

    /// The form of a 1×1 node as a scale factor.
    fn scale(&mut self, form: Form) -> Scale {
        match form {
            Form::Fill(c) => Scale { constant: c, runtime: None },
            Form::Identity => Scale::ONE,
            form => Scale { constant: 1.0, runtime: Some(self.dense(form, (1, 1)).source) },
        }
    }

    fn scale_expr(&mut self, scale: Scale) -> ExprId {
        let constant = self.exprs.scalar(Scalar::Const(scale.constant));
        match scale.runtime {
            None => constant,
            Some(source) => {
                let runtime = self.exprs.scalar(Scalar::Runtime(source));
                self.exprs.binary(Binary::Mul, constant, runtime)
            }
        }
    }

    fn matmul(&mut self, fa: Form, sa: (usize, usize), fb: Form, sb: (usize, usize), rows: usize, cols: usize) -> Form {
        // A product with a 1×1 factor is a scaling.
        if sa == (1, 1) || sb == (1, 1) {
            return self.mul(fa, sa, fb, sb, rows, cols);
        }
        match (fa, fb) {
            (Form::Identity, other) | (other, Form::Identity) => other,
            // inv(A) B is a solve, which needs neither the inverse's memory nor its work, when
            // B has at most n columns (a wider B is cheaper as inv(A) times the rest of its
            // chain, `inv(A) (X z)`; a diagonal B scales the inverse's columns).
            (Form::Call(Routine::Inverse, a), other)
                if sb.1 <= sa.0 && !matches!(other, Form::Diag(_) | Form::Fill(_)) =>
            {
                Form::Solve(a, self.dense(other, sb))
            }
            // Diag(v) X scales the rows of X, X Diag(v) its columns.
            (Form::Diag(v), other) => match self.in_memory(other, sb) {
                Ok(matrix) => Form::Scaled(Scaling { weights: v, matrix, rows: true }),
                Err(other) => {
                    let scale = self.exprs.leaf(broadcast(v, true));
                    let e = self.expr(other, sb, (rows, cols));
                    Form::Expr(self.exprs.binary(Binary::Mul, scale, e))
                }
            },
            (other, Form::Diag(v)) => match self.in_memory(other, sa) {
                Ok(matrix) => Form::Scaled(Scaling { weights: v, matrix, rows: false }),
                Err(other) => {
                    let e = self.expr(other, sa, (rows, cols));
                    let scale = self.exprs.leaf(broadcast(v, false));
                    Form::Expr(self.exprs.binary(Binary::Mul, e, scale))
                }
            },
            // L (Diag(w) R) and (L Diag(w)) R are one weighted product: a sum of one scaled
            // matrix, distributed.
            (Form::Dense(left), Form::Scaled(s)) if s.rows && products::weighs(rows, left.cols, cols) => {
                distributed(Sum { scaled: vec![(Scale::ONE, s)], ..Sum::of(Vec::new(), None) }, left, true)
            }
            (Form::Scaled(s), Form::Dense(right)) if !s.rows && products::weighs(rows, right.rows, cols) => {
                distributed(Sum { scaled: vec![(Scale::ONE, s)], ..Sum::of(Vec::new(), None) }, right, false)
            }
            (Form::Dense(left), Form::Sum(sum)) if distributes(&sum, true, (rows, left.cols, cols)) => {
                distributed(sum, left, true)
            }
            (Form::Sum(sum), Form::Dense(right)) if distributes(&sum, false, (rows, right.rows, cols)) => {
                distributed(sum, right, false)
            }
            (fa, fb) => {
                let (left_alpha, mut left) = self.chain(fa, sa);
                let (right_alpha, mut right) = self.chain(fb, sb);
                // Long chains are ordered in pieces (the search is cubic in their length).
                if left.len() + right.len() > MAX_CHAIN {
                    let (longer, alpha, shape) = if left.len() >= right.len() {
                        (&mut left, Scale::ONE, sa)
                    } else {
                        (&mut right, Scale::ONE, sb)
                    };
                    let product = Form::Sum(Sum::of(vec![Chain::of(alpha, std::mem::take(longer))], None));
                    *longer = vec![self.materialise(product, shape.0, shape.1, None)];
                }
                let (alpha, right) = match left_alpha.times(right_alpha) {
                    Some(alpha) => (alpha, right),
                    None => {
                        let product = Form::Sum(Sum::of(vec![Chain::of(right_alpha, right)], None));
                        (left_alpha, vec![self.materialise(product, sb.0, sb.1, None)])
                    }
                };
                Form::Sum(Sum::of(vec![Chain::of(alpha, [left, right].concat())], None))
            }
        }
    }

    /// A form that is worth keeping as a matrix in memory when it is scaled by a diagonal:
    /// one in memory already, or one that any elementwise consumer would compute first.
    fn in_memory(&mut self, form: Form, shape: (usize, usize)) -> Result<View, Form> {
        match form {
            Form::Dense(view) => Ok(view),
            form @ (Form::Sum(_) | Form::Call(..) | Form::Solve(..)) => Ok(self.dense(form, shape)),
            form => Err(form),
        }
    }

    /// A lone weighted product as a plain product of two factors, its smaller scaled factor
    /// written out; any other form as it is.
    fn unweighted(&mut self, form: Form) -> Form {
        let Form::Sum(mut sum) = form else { return form };
        let Some(weights) = sum.lone_chain().and_then(|c| c.weights) else { return Form::Sum(sum) };
        let Chain { alpha, factors, .. } = sum.chains.remove(0);
        let (left, right) = (factors[0], factors[1]);
        let factors = if left.len() <= right.len() {
            let scaled = Form::Scaled(Scaling { weights, matrix: left, rows: false });
            vec![self.dense(scaled, (left.rows, left.cols)), right]
        } else {
            let scaled = Form::Scaled(Scaling { weights, matrix: right, rows: true });
            vec![left, self.dense(scaled, (right.rows, right.cols))]
        };
        Form::Sum(Sum::of(vec![Chain::of(alpha, factors)], None))
    }

    /// The factors a `MatMul` operand contributes: a lone product's chain, or the operand.
    fn chain(&mut self, form: Form, shape: (usize, usize)) -> (Scale, Vec<View>) {
        match self.unweighted(form) {
            Form::Sum(mut sum) if sum.lone_chain().is_some() => {
                let chain = sum.chains.remove(0);
                (chain.alpha, chain.factors)
            }
            // c·𝟙𝟙ᵀ is a product of two vectors of ones: `ones(m, k) B` costs m·n, not m·k·n.
            Form::Fill(c) if shape.0 > 1 && shape.1 > 1 => {
                let (left, right) = (self.ones(shape.0), self.ones(shape.1).transpose());
                (Scale { constant: c, runtime: None }, vec![left, right])
            }
            form => (Scale::ONE, vec![self.dense(form, shape)]),
        }
    }

    /// A vector of n ones in memory, made once.
    fn ones(&mut self, n: usize) -> View {
        if let Some(&view) = self.ones.get(&n) {
            return view;
        }
        let view = self.materialise(Form::Fill(1.0), n, 1, None);
        self.ones.insert(n, view);
        view
    }

    fn transpose(&mut self, form: Form, shape: (usize, usize)) -> Form {
        if shape == (1, 1) {
            return form;
        }
        match form {
            Form::Dense(view) => Form::Dense(view.transpose()),
            Form::Fill(_) | Form::Identity | Form::Diag(_) => form,
            // (Diag(w) M)ᵀ = Mᵀ Diag(w)
            Form::Scaled(scaling) => Form::Scaled(scaling.transpose()),
            Form::Expr(e) => Form::Expr(self.exprs.transpose(e)),
            // (Σ α L R + E)ᵀ = Σ α Rᵀ Lᵀ + Eᵀ
            Form::Sum(sum) => Form::Sum(Sum {
                scaled: sum.scaled.iter().map(|&(beta, scaling)| (beta, scaling.transpose())).collect(),
                chains: sum
                    .chains
                    .into_iter()
                    .map(|c| Chain { factors: c.factors.iter().rev().map(|f| f.transpose()).collect(), ..c })
                    .collect(),
                // Diag(v)ᵀ = Diag(v)
                diagonal: sum.diagonal,
                rest: sum.rest.map(|r| self.exprs.transpose(r)),
            }),
            form @ (Form::Reduce { .. } | Form::Call(..) | Form::Solve(..)) => {
                Form::Dense(self.dense(form, shape).transpose())
            }
        }
    }

    fn reduce(&mut self, form: Form, (rows, cols): (usize, usize), sink: Sink) -> Form {
        let expr = self.expr(form, (rows, cols), (rows, cols));
        Form::Reduce { expr, rows, cols, sink }
    }

    fn trace(&mut self, form: Form, (n, _): (usize, usize)) -> Form {
        match form {
            Form::Identity => Form::Fill(n as f64),
            Form::Fill(c) => Form::Fill(c * n as f64),
            Form::Diag(v) => Form::Reduce { expr: self.exprs.leaf(strided(v)), rows: n, cols: 1, sink: Sink::Sum },
            // tr(α L R) = sum(α L ⊙ Rᵀ): the last product itself is never formed.
            Form::Sum(mut sum) if sum.lone_chain().is_some() => {
                let (expr, (rows, cols)) = self.products_entries(sum.chains.remove(0));
                Form::Reduce { expr, rows, cols, sink: Sink::Sum }
            }
            form => {
                let e = self.expr(form, (n, n), (n, n));
                Form::Reduce { expr: self.exprs.diagonal(e), rows: n, cols: 1, sink: Sink::Sum }
            }
        }
    }

    /// The `m × k` terms of the diagonal of a chain α L R (L and R its last product's
    /// factors), `α L ⊙ Rᵀ` (with weights, `α L ⊙ Rᵀ Diag(w)`): entry i of the diagonal is
    /// the sum of row i.
    fn products_entries(&mut self, chain: Chain) -> (ExprId, (usize, usize)) {
        let [l, r] = self.last_product(chain.factors);
        let (el, mut er) = (self.leaf(l), self.leaf(r.transpose()));
        if let Some(weights) = chain.weights {
            let w = self.exprs.leaf(broadcast(weights, false));
            er = self.exprs.binary(Binary::Mul, er, w);
        }
        let mut expr = self.exprs.binary(Binary::Mul, el, er);
        if chain.alpha != Scale::ONE {
            let alpha = self.scale_expr(chain.alpha);
            expr = self.exprs.binary(Binary::Mul, alpha, expr);
        }
        (expr, (l.rows, l.cols))
    }

    /// `form` (of a node of shape `shape`) as an operand of an elementwise expression over
    /// `consumer`. A 1×1 operand of a larger consumer is computed once and broadcast.
    fn expr(&mut self, form: Form, shape: (usize, usize), consumer: (usize, usize)) -> ExprId {
        let scalar_broadcast = shape == (1, 1) && consumer != (1, 1);
        match form {
            Form::Fill(c) => self.exprs.scalar(Scalar::Const(c)),
            Form::Dense(view) => self.leaf(view),
            Form::Identity if shape == (1, 1) => self.exprs.scalar(Scalar::Const(1.0)),
            Form::Identity => self.exprs.leaf(Leaf::Identity),
            Form::Diag(v) if shape == (1, 1) => self.leaf(v),
            Form::Diag(v) => self.exprs.leaf(Leaf::Diagonal { source: v.source, stride: v.step() }),
            Form::Scaled(scaling) => self.scaling(scaling),
            Form::Expr(e) if !scalar_broadcast && self.exprs.depth(e) < MAX_DEPTH => e,
            form => {
                let view = self.dense(form, shape);
                self.leaf(view)
            }
        }
    }

    /// A view as an elementwise operand: a 1×1 view is a scalar.
    fn leaf(&mut self, view: View) -> ExprId {
        if view.len() == 1 {
            self.exprs.scalar(Scalar::Runtime(view.source))
        } else {
            self.exprs.leaf(strided(view))
        }
    }

    /// `form` in memory: itself if it is already, else computed into a new value.
    fn dense(&mut self, form: Form, shape: (usize, usize)) -> View {
        self.materialise(form, shape.0, shape.1, None)
    }

    /// Computes `form` into `target` (or a new value; a view needs none) and returns a view
    /// of the result.
    fn materialise(&mut self, form: Form, rows: usize, cols: usize, target: Option<ValueId>) -> View {
        let dst = match (target, &form) {
            (Some(dst), _) => dst,
            (None, Form::Dense(view)) => return *view,
            (None, _) => self.value(rows * cols, None),
        };
        let elementwise = |lowering: &mut Self, expr: ExprId, sink: Sink, r: usize, c: usize| {
            let kernel = Kernel::compile(&lowering.exprs, expr, r, c, sink);
            lowering.steps.push(Step::Elementwise { dst, kernel });
        };
        match form {
            Form::Dense(view) => {
                let e = self.leaf(view);
                elementwise(self, e, Sink::Store, rows, cols);
            }
            // (An expression is compiled as it is, however deep: `expr` would send a deep one
            // back here.)
            Form::Expr(e) => elementwise(self, e, Sink::Store, rows, cols),
            Form::Fill(_) | Form::Identity | Form::Diag(_) | Form::Scaled(_) => {
                let e = self.expr(form, (rows, cols), (rows, cols));
                elementwise(self, e, Sink::Store, rows, cols);
            }
            Form::Reduce { expr, rows: r, cols: c, sink } => elementwise(self, expr, sink, r, c),
            Form::Sum(sum) => self.products(sum, rows, cols, dst),
            Form::Call(routine, operand) => {
                let special = Special::new(routine, operand, None, |r, c| self.value(r * c, None));
                self.steps.push(Step::Special { dst, special });
            }
            Form::Solve(a, b) => {
                let special = Special::new(Routine::Solve, a, Some(b), |r, c| self.value(r * c, None));
                self.steps.push(Step::Special { dst, special });
            }
        }
        View::of(Source::Value(dst), rows, cols)
    }

    fn products(&mut self, sum: Sum, rows: usize, cols: usize, dst: ValueId) {
        let sum = self.settled(sum);
        let mut terms = Vec::new();
        for chain in sum.chains {
            let (alpha, weights) = (chain.alpha, chain.weights);
            let [left, right] = self.last_product(chain.factors);
            terms.push(Term { alpha, left, right, weights });
        }
        // A plain product already in memory is copied, not computed again.
        let plain = match (terms.as_slice(), &sum.rest) {
            ([term], None) if term.alpha == Scale::ONE && term.weights.is_none() => Some((term.left, term.right)),
            _ => None,
        };
        if let Some(made) = plain.and_then(|(left, right)| self.made(left, right)) {
            let e = self.leaf(made);
            let kernel = Kernel::compile(&self.exprs, e, rows, cols, Sink::Store);
            self.steps.push(Step::Elementwise { dst, kernel });
            return;
        }
        let init = sum.rest.map(|rest| Kernel::compile(&self.exprs, rest, rows, cols, Sink::Store));
        let products = Products::new(rows, cols, init, terms, |len| self.value(len, None));
        self.steps.push(Step::Products { dst, products });
        if let Some(factors) = plain {
            self.products_made.insert(factors, View::of(Source::Value(dst), rows, cols));
        }
    }

    /// The product `L R` if it is in memory already, as itself or as its transpose
    /// `Rᵀ Lᵀ` (the gradient `Aᵀ p` and the row `pᵀ A` of a Hessian's outer product).
    fn made(&self, left: View, right: View) -> Option<View> {
        let made = &self.products_made;
        made.get(&(left, right))
            .copied()
            .or_else(|| made.get(&(right.transpose(), left.transpose())).map(|v| v.transpose()))
    }

    /// The sum with its scaled matrices and diagonal moved into the elementwise rest.
    fn settled(&mut self, sum: Sum) -> Sum {
        let mut rest = sum.rest;
        if let Some(diagonal) = sum.diagonal {
            rest = Some(self.with_diagonal(rest, diagonal));
        }
        for (beta, scaling) in sum.scaled {
            let mut e = self.scaling(scaling);
            if beta != Scale::ONE {
                let b = self.scale_expr(beta);
                e = self.exprs.binary(Binary::Mul, b, e);
            }
            rest = Some(match rest {
                Some(r) => self.exprs.binary(Binary::Add, r, e),
                None => e,
            });
        }
        Sum::of(sum.chains, rest)
    }

    /// `rest + γ Diag(v)` as an elementwise expression.
    fn with_diagonal(&mut self, rest: Option<ExprId>, (gamma, v): (Scale, View)) -> ExprId {
        let mut e = self.exprs.leaf(Leaf::Diagonal { source: v.source, stride: v.step() });
        if gamma != Scale::ONE {
            let g = self.scale_expr(gamma);
            e = self.exprs.binary(Binary::Mul, g, e);
        }
        match rest {
            Some(r) => self.exprs.binary(Binary::Add, r, e),
            None => e,
        }
    }

    /// `Diag(w) M` or `M Diag(w)` as an elementwise expression.
    fn scaling(&mut self, Scaling { weights, matrix, rows }: Scaling) -> ExprId {
        let (e, scale) = (self.leaf(matrix), self.exprs.leaf(broadcast(weights, rows)));
        match rows {
            true => self.exprs.binary(Binary::Mul, scale, e),
            false => self.exprs.binary(Binary::Mul, e, scale),
        }
    }

    /// The two factors of a chain's last product, each in memory: the chain computed in the
    /// order of least work up to its last product.
    fn last_product(&mut self, factors: Vec<View>) -> [View; 2] {
        let mut dims: Vec<usize> = factors.iter().map(|f| f.rows).collect();
        dims.push(factors[factors.len() - 1].cols);
        let split = chain_order(&dims);
        let last = factors.len() - 1;
        let k = split[0][last];
        [self.chain_product(&factors, &split, 0, k), self.chain_product(&factors, &split, k + 1, last)]
    }

    /// The product of `factors[i..=j]` in memory, in the order `split` chose.
    fn chain_product(&mut self, factors: &[View], split: &[Vec<usize>], i: usize, j: usize) -> View {
        if i == j {
            return factors[i];
        }
        let k = split[i][j];
        let left = self.chain_product(factors, split, i, k);
        let right = self.chain_product(factors, split, k + 1, j);
        if let Some(made) = self.made(left, right) {
            return made;
        }
        let (rows, cols) = (left.rows, right.cols);
        let dst = self.value(rows * cols, None);
        let term = Term { alpha: Scale::ONE, left, right, weights: None };
        let products = Products::new(rows, cols, None, vec![term], |len| self.value(len, None));
        self.steps.push(Step::Products { dst, products });
        let made = View::of(Source::Value(dst), rows, cols);
        self.products_made.insert((left, right), made);
        made
    }
}

/// Whether a product of a matrix and `sum` (on the sum's right when `on_left`) is better
/// distributed over the sum's terms, `(m, k, n)` being the product's sizes: when the sum
/// is one scaled matrix, which then becomes a weighted product (written once into the
/// result, instead of the sum written out and then multiplied), and a few products with a
/// vector factor (cheap with the matrix prepended, `(Aᵀ p)(pᵀ A)`), nothing elementwise.
fn distributes(sum: &Sum, on_left: bool, (m, k, n): (usize, usize, usize)) -> bool {
    let thin = |c: &Chain| c.factors.iter().any(|f| f.rows == 1 || f.cols == 1);
    // One scaled matrix, which becomes a weighted product; or a diagonal, which becomes a
    // scaled matrix (never more work than the product with the sum written out).
    let scaled = match (sum.scaled.as_slice(), sum.diagonal) {
        ([(_, s)], None) => s.rows == on_left && products::weighs(m, k, n),
        ([], Some(_)) => true,
        _ => false,
    };
    scaled
        && sum.rest.is_none()
        && sum.chains.len() <= 2
        && sum.chains.iter().all(|c| c.weights.is_none() && c.factors.len() < MAX_CHAIN && thin(c))
}

/// `factor · sum` (`on_left`) or `sum · factor`, term by term: each chain gets the factor,
/// each scaled matrix becomes a weighted product with it, and the diagonal scales it
/// (`M Diag(v)` or `Diag(v) M`). (The sum has no elementwise rest.)
fn distributed(sum: Sum, factor: View, on_left: bool) -> Form {
    debug_assert!(sum.rest.is_none());
    let with = |factors: Vec<View>| match on_left {
        true => [vec![factor], factors].concat(),
        false => [factors, vec![factor]].concat(),
    };
    let mut chains: Vec<Chain> = sum.chains.into_iter().map(|c| Chain::of(c.alpha, with(c.factors))).collect();
    chains.extend(sum.scaled.into_iter().map(|(alpha, s)| Chain {
        alpha,
        factors: with(vec![s.matrix]),
        weights: Some(s.weights),
    }));
    let scaled = sum.diagonal.map(|(gamma, v)| (gamma, Scaling { weights: v, matrix: factor, rows: !on_left }));
    Form::Sum(Sum { scaled: scaled.into_iter().collect(), ..Sum::of(chains, None) })
}

/// The inner dimension of a chain's product as a diagonal reads it: the chain's last
/// product's, which for two factors is the first's columns (longer chains: at most the
/// largest inner size).
fn inner_of_last(chain: &Chain) -> usize {
    match chain.factors.as_slice() {
        [left, _] => left.cols,
        factors => factors[..factors.len() - 1].iter().map(|f| f.cols).max().unwrap_or(0),
    }
}

/// A view as a strided leaf.
fn strided(view: View) -> Leaf {
    let (row_stride, col_stride) = view.strides();
    Leaf::Strided { source: view.source, row_stride, col_stride }
}

/// The vector `v` repeated along rows (`(i, j) ↦ vᵢ`) or along columns (`(i, j) ↦ vⱼ`).
fn broadcast(v: View, down_rows: bool) -> Leaf {
    let step = v.step();
    if down_rows {
        Leaf::Strided { source: v.source, row_stride: step, col_stride: 0 }
    } else {
        Leaf::Strided { source: v.source, row_stride: 0, col_stride: step }
    }
}
