//! Sums over indices: `\sum_i w_i^2`, `\sum_{i=1}^{m}\sum_{j=1}^{n} A_{ij} B_{ij}`,
//! `\sum_j A_{ij} x_j` inside a sum over i. They are lowered to the matrix operations they
//! mean (sum(w ⊙ w), sum(A ⊙ B), A x), so that differentiation, evaluation and printing
//! never see an index.
//!
//! A summand is read as a value with axes: every entry `A_{ij}` is the matrix A with its
//! rows on axis i and its columns on axis j, `w_i` the vector w on axis i, and the summand's
//! arithmetic is entrywise over the axes, broadcasting where one side lacks an axis. A value
//! has at most two axes (a matrix), so each sum is reduced one index at a time, the factors
//! that contain the index first contracted by a matrix product where that is what they are
//! (Σⱼ A_{ij} x_j = (A x)_i). A summand that needs three axes at once is refused.

use crate::error::{Error, Span};
use crate::ir::kinds::capital;
use crate::ir::op::{Constant, Func, Op};
use crate::ir::shape::{is_number, is_size_name, number_size, Dim, Shape, ONE};
use crate::ir::NodeId;
use crate::syntax::ast::{self, BinOp, Expr, ExprKind};

use super::{builtin, Binding, Builtin, Lowerer};

/// An index of a sum being lowered.
pub(super) struct Bound {
    name: String,
    /// Its size: what it runs over, unified with every axis it indexes.
    dim: Dim,
    /// The first entry it indexes, for messages.
    first: Option<Span>,
    range: Option<ast::Range>,
}

/// A value with axes: `node` is a scalar for no axes, a column vector (rows on the axis)
/// for one, a matrix (rows on the first, columns on the second) for two.
#[derive(Clone)]
struct Indexed {
    node: NodeId,
    axes: Vec<String>,
}

const AT_MOST_TWO: &str =
    "matgrad reads a summand whose indices form at most a matrix at once; sum one index first, as in `\\sum_i x_i \\sum_j A_{ij} y_j`";

impl Lowerer<'_> {
    /// A sum over indices at `expr`, outside any other: a scalar.
    pub(super) fn index_sum(&mut self, expr: &Expr) -> Result<NodeId, Error> {
        let outer = std::mem::take(&mut self.scope);
        let result = self.summed(expr);
        self.scope = outer;
        let factors = result?;
        let value = self.product(factors, expr)?;
        debug_assert!(value.axes.is_empty(), "every index is summed at its sum");
        Ok(value.node)
    }

    /// The factors a sum (at `expr`, an `IndexSum`) leaves once its own indices are summed:
    /// values with the axes of the sums around it.
    fn summed(&mut self, expr: &Expr) -> Result<Vec<Indexed>, Error> {
        // `\sum_i \sum_j body` is one sum over i and j, so the contraction order can be chosen
        // over both.
        let mut indices: Vec<&ast::Index> = Vec::new();
        let mut body = expr;
        while let ExprKind::IndexSum { indices: own, body: inner } = &body.kind {
            indices.extend(own);
            body = inner;
        }
        let outer = self.scope.len();
        for index in &indices {
            let dim = self.graph.dims.unknown(&format!("range({})", index.name));
            self.scope.push(Bound { name: index.name.clone(), dim, first: None, range: index.range.clone() });
        }
        let result = self.summed_body(&indices, body, expr);
        self.scope.truncate(outer);
        result
    }

    fn summed_body(&mut self, indices: &[&ast::Index], body: &Expr, whole: &Expr) -> Result<Vec<Indexed>, Error> {
        let mut factors = Vec::new();
        let mut negated = false;
        self.factors(body, &mut factors, &mut negated)?;
        let outer = self.scope.len() - indices.len();
        for (n, index) in indices.iter().enumerate() {
            self.check_range(outer + n, index)?;
        }
        // Innermost first: `\sum_i\sum_j` sums j, then i. Summing a matrix whole sums two
        // indices at once, so each step may take more than its own off the list.
        let mut pending: Vec<String> = indices.iter().map(|index| index.name.clone()).collect();
        while let Some(k) = pending.pop() {
            let n = indices.iter().position(|index| index.name == k).expect("an index of this sum");
            factors = self.reduce(factors, outer + n, &mut pending, indices[n], whole)?;
        }
        if negated {
            match factors.first_mut() {
                Some(first) => first.node = self.add(Op::Neg(first.node), whole, &[])?,
                None => factors.push(Indexed { node: self.graph.constant(-1.0), axes: vec![] }),
            }
        }
        Ok(factors)
    }

    /// The factors of a summand's product (`a_i b_i`, `A_{ij} ⊙ x_j`, `−x_i y_i`): a part
    /// without entries is one factor, a scalar.
    fn factors(&mut self, expr: &Expr, factors: &mut Vec<Indexed>, negated: &mut bool) -> Result<(), Error> {
        match &expr.kind {
            _ if !has_entries(expr) => factors.push(self.index_free(expr)?),
            ExprKind::Binary(BinOp::Mul, ..) => {
                self.product_factors(&expr.chain(BinOp::Mul), factors, negated)?;
            }
            // `x_i \cdot w` (or `w \cdot x_i`), a sample's inner product with a vector.
            ExprKind::Binary(op @ (BinOp::ElemMul | BinOp::Dot), a, b) => {
                if *op == BinOp::Dot {
                    if let Some((sample, vector)) = self.dot_sample(a, b)? {
                        if let Some(product) = self.sample_product(sample, &[vector], false)? {
                            factors.push(product);
                            return Ok(());
                        }
                    }
                }
                self.factors(a, factors, negated)?;
                self.factors(b, factors, negated)?;
            }
            ExprKind::Bold(inner) => self.factors(inner, factors, negated)?,
            ExprKind::Neg(inner) => {
                *negated = !*negated;
                self.factors(inner, factors, negated)?;
            }
            ExprKind::IndexSum { .. } => factors.extend(self.summed(expr)?),
            _ => factors.push(self.indexed(expr)?),
        }
        Ok(())
    }

    /// The factors of a product's operands, where a sample of a matrix meets a vector:
    /// `x_i^\top \beta` (or `\beta^\top x_i`) is (X β)_i when x_i is X's i-th row, (Xᵀ β)_i
    /// when it is its i-th column, which X's sizes tell (`X: matrix(n, d)` and i over n:
    /// rows). Any other operand is a factor of its own.
    fn product_factors(
        &mut self,
        operands: &[&Expr],
        factors: &mut Vec<Indexed>,
        negated: &mut bool,
    ) -> Result<(), Error> {
        let free_run = |from: usize| from + operands[from..].iter().take_while(|e| !has_entries(e)).count();
        let mut at = 0;
        while at < operands.len() {
            let operand = operands[at];
            if let ExprKind::Transpose(inner) = &operand.kind {
                let end = free_run(at + 1);
                if end > at + 1 {
                    if let Some(sample) = self.sample(inner)? {
                        if let Some(product) = self.sample_product(sample, &operands[at + 1..end], false)? {
                            factors.push(product);
                            at = end;
                            continue;
                        }
                    }
                }
            }
            if !has_entries(operand) {
                let end = free_run(at);
                if let Some(sample) = operands.get(end).map(|e| self.sample(e)).transpose()?.flatten() {
                    if let Some(product) = self.sample_product(sample, &operands[at..end], true)? {
                        factors.push(product);
                        at = end + 1;
                        continue;
                    }
                }
                for operand in &operands[at..end] {
                    self.factors(operand, factors, negated)?;
                }
                at = end;
                continue;
            }
            self.factors(operand, factors, negated)?;
            at += 1;
        }
        Ok(())
    }

    /// `x_i` as a sample of a matrix: one index on a matrix, the program's `x` or, where the
    /// program has no `x`, its `X` (a matrix's samples in the lower case, as on paper:
    /// X = [x₁ … xₙ]ᵀ). `None` for any other operand.
    fn sample<'e>(&mut self, expr: &'e Expr) -> Result<Option<Sample<'e>>, Error> {
        let ExprKind::Entry { base, indices, written } = &expr.kind else { return Ok(None) };
        let ([index], ExprKind::Var(name)) = (indices.as_slice(), &base.kind) else { return Ok(None) };
        // A variable named `x_i` makes the entry ambiguous: `entry` says so.
        if written.as_deref().is_some_and(|w| !self.is_free(w)) {
            return Ok(None);
        }
        let matrix = match capital(name) {
            _ if !self.is_free(name) => name.clone(),
            Some(upper) if !self.is_free(&upper) => upper,
            _ => return Ok(None),
        };
        let node = self.expr(&Expr { kind: ExprKind::Var(matrix.clone()), span: base.span })?;
        let shape = self.graph.shape(node);
        let dims = &self.graph.dims;
        if dims.resolve(shape.rows) == ONE || dims.resolve(shape.cols) == ONE {
            return Ok(None);
        }
        Ok(Some(Sample { node, matrix, index, whole: expr }))
    }

    /// `node` as the signs and scalar factors around a non-scalar core, outermost first
    /// (`None` a minus, `Some(s)` a factor s), and the core: `−2 βᵀ` is [−, 2] and βᵀ.
    fn scalings(&self, mut node: NodeId) -> (Vec<Option<NodeId>>, NodeId) {
        let mut scalings = Vec::new();
        loop {
            let (scaling, inner) = match self.graph.op(node) {
                Op::Neg(a) => (None, a),
                Op::Mul(s, a) if self.graph.is_scalar(s) && !self.graph.is_scalar(a) => (Some(s), a),
                _ => return (scalings, node),
            };
            scalings.push(scaling);
            node = inner;
        }
    }

    /// The sample and the other operand of `a · b`, where one is a sample and the other
    /// has no entries ([`Lowerer::sample_product`] sees whether it is a vector).
    fn dot_sample<'e>(&mut self, a: &'e Expr, b: &'e Expr) -> Result<Option<(Sample<'e>, &'e Expr)>, Error> {
        for (sample, vector) in [(a, b), (b, a)] {
            if has_entries(vector) {
                continue;
            }
            if let Some(found) = self.sample(sample)? {
                return Ok(Some((found, vector)));
            }
        }
        Ok(None)
    }

    /// `x_iᵀ v` (`before`: `vᵀ x_i`, the vector's operands before the sample) as the entry
    /// i of X v or Xᵀ v; `None` where the operands are not a vector (`2 x_i`), for the
    /// entry's own message.
    fn sample_product(&mut self, sample: Sample, operands: &[&Expr], before: bool) -> Result<Option<Indexed>, Error> {
        let span = operands.iter().fold(operands[0].span, |span, e| span.to(e.span));
        // The operands' product as written, so that its own mistakes are told in its text.
        let product_expr = operands[1..].iter().fold(operands[0].clone(), |product, &e| Expr {
            span: product.span.to(e.span),
            kind: ExprKind::Binary(BinOp::Mul, Box::new(product), Box::new(e.clone())),
        });
        let written = self.expr(&product_expr)?;
        let dims = &self.graph.dims;
        let shape = self.graph.shape(written);
        let (rows, cols) = (dims.resolve(shape.rows), dims.resolve(shape.cols));
        // The signs and scalars stay outside the product, as the writer put them outside the
        // vector: −(X w) for `-w^\top x_i`, not X (−wᵀ)ᵀ.
        let (scalings, core) = self.scalings(written);
        let vector = match (before, rows, cols) {
            (false, _, ONE) if rows != ONE => core,
            // vᵀ x_i: the vector is v, the row as written with its transpose taken back.
            (true, ONE, _) if cols != ONE => match self.graph.op(core) {
                Op::Transpose(v) => v,
                _ => self.add(Op::Transpose(core), &product_expr, &[])?,
            },
            _ => return Ok(None),
        };
        let whole_span = span.to(sample.whole.span);
        let (text, entry) = (self.text(whole_span), self.text(sample.whole.span));
        let (x, i) = (sample.matrix.as_str(), sample.index.as_str());
        let dims = &self.graph.dims;
        let shape = self.graph.shape(sample.node);
        let (rows, cols) = (dims.resolve(shape.rows), dims.resolve(shape.cols));
        let length = dims.resolve(self.graph.shape(vector).rows);
        let known = |d: Dim| !matches!(d, Dim::Unknown(_));
        // The index's size so far, else the one its bounds name (checked after the summand).
        let bound = self.scope.iter().rev().find(|b| b.name == i).and_then(|b| {
            let dim = dims.resolve(b.dim);
            let written = b.range.as_ref().and_then(|r| r.size()).and_then(|size| match number_size(size) {
                Some(n) => Some(n),
                None => dims.find_symbol(size),
            });
            if known(dim) {
                Some(dim)
            } else {
                written.map(|d| dims.resolve(d))
            }
        });
        // Which axis i runs over: the one of the index's size, the other of the vector's.
        let by_index = match bound.filter(|&b| known(b)) {
            Some(b) if (rows == b) != (cols == b) => Some(rows == b),
            _ => None,
        };
        let by_vector = match known(length) && (cols == length) != (rows == length) {
            true => Some(cols == length),
            false => None,
        };
        // The index's size decides where both tell; the vector then has to fit.
        let fits_neither = known(length) && known(rows) && known(cols) && length != rows && length != cols;
        if by_index.is_none() && fits_neither {
            return Err(Error::shape(
                whole_span,
                format!(
                    "`{text}`: `{entry}` is a row or a column of `{x}` ({}), but the vector has {} entries",
                    dims.show_shape(shape),
                    dims.show(length)
                ),
            )
            .with_hint(format!(
                "a row of `{x}` has {} entries, a column {}",
                dims.show(cols),
                dims.show(rows)
            )));
        }
        let Some(on_rows) = by_index.or(by_vector) else {
            return Err(Error::shape(
                whole_span,
                format!("`{text}`: `{entry}` could be a row or a column of `{x}` ({})", dims.show_shape(shape)),
            )
            .with_hint(format!(
                "write the entry of a product: `({x} v)_{i}` for its rows, `({x}^\\top v)_{i}` for its columns"
            )));
        };
        let (axis, other, what) = if on_rows { (rows, cols, "rows") } else { (cols, rows, "columns") };
        if known(length) && known(other) && length != other {
            return Err(Error::shape(
                whole_span,
                format!(
                    "`{text}`: `{entry}` is {} of `{x}` ({}), with {} entries, but the vector has {}",
                    if on_rows { "a row" } else { "a column" },
                    dims.show_shape(shape),
                    dims.show(other),
                    dims.show(length)
                ),
            )
            .with_hint(format!(
                "`{i}` runs over the {what} of `{x}`: the vector needs one entry per {}",
                if on_rows { "column" } else { "row" }
            )));
        }
        let matrix = match on_rows {
            true => sample.node,
            false => self.add(Op::Transpose(sample.node), sample.whole, &[])?,
        };
        let whole = Expr { span: whole_span, ..sample.whole.clone() };
        let mut node = self.add(Op::MatMul(matrix, vector), &whole, &[])?;
        for scaling in scalings.into_iter().rev() {
            node = match scaling {
                None => self.add(Op::Neg(node), &whole, &[])?,
                Some(s) => self.add(Op::Mul(s, node), &whole, &[])?,
            };
        }
        self.index_dim(i, axis, what, x, sample.whole)?;
        Ok(Some(Indexed { node, axes: vec![i.to_string()] }))
    }

    /// A part of a summand without entries: a scalar, the same for every term.
    fn index_free(&mut self, expr: &Expr) -> Result<Indexed, Error> {
        let node = self.expr(expr)?;
        if !self.graph.is_scalar(node) {
            let names: Vec<&str> = self.scope.iter().map(|b| b.name.as_str()).collect();
            return Err(self
                .misuse(expr, "a summand over indices is a scalar, written for one entry", expr, node)
                .with_hint(format!(
                    "write its entry with the sum's index ({}), as in `w_{i}` or `(A x)_{i}`",
                    names.join(", "),
                    i = names.last().copied().unwrap_or("i")
                )));
        }
        Ok(Indexed { node, axes: vec![] })
    }

    /// A part of a summand with entries, as a value with axes.
    fn indexed(&mut self, expr: &Expr) -> Result<Indexed, Error> {
        if !has_entries(expr) {
            return self.index_free(expr);
        }
        match &expr.kind {
            ExprKind::Entry { base, indices, written } => self.entry(base, indices, written.as_deref(), expr),
            ExprKind::IndexSum { .. } => {
                let factors = self.summed(expr)?;
                self.product(factors, expr)
            }
            ExprKind::Binary(BinOp::Mul | BinOp::ElemMul | BinOp::Dot, ..) | ExprKind::Neg(_) | ExprKind::Bold(_) => {
                let mut factors = Vec::new();
                let mut negated = false;
                self.factors(expr, &mut factors, &mut negated)?;
                let value = self.product(factors, expr)?;
                if !negated {
                    return Ok(value);
                }
                let node = self.add(Op::Neg(value.node), expr, &[])?;
                Ok(Indexed { node, axes: value.axes })
            }
            ExprKind::Binary(op, a, b) => self.entrywise(*op, a, b, expr),
            ExprKind::Call { name, args, .. } => self.entry_call(name, args, expr),
            ExprKind::Derivative { name, args, .. } => {
                let f = match builtin(name) {
                    Some(Builtin::Elementwise(f)) if args.len() == 1 => f,
                    _ => return Err(self.not_entrywise(expr)),
                };
                let a = self.indexed(&args[0])?;
                let value = self.add(Op::Map(f, a.node), expr, &[&args[0]])?;
                let node = match crate::diff::derivative(&mut self.graph, f, a.node, value) {
                    Some(slope) => slope,
                    None => self.graph.constant(0.0),
                };
                Ok(Indexed { node, axes: a.axes })
            }
            ExprKind::Transpose(inner) => {
                let text = self.text(inner.span);
                if let Some(sample) = self.sample(inner)? {
                    let x = sample.matrix;
                    return Err(Error::new(
                        expr.span,
                        format!("`{}`: matgrad reads a sample `{text}` of `{x}` only in a product with a vector", self.text(expr.span)),
                    )
                    .with_hint(format!("write `{text}^\\top w` or `w^\\top {text}` with w a vector, or the matrix form: Σᵢ xᵢᵀ A xᵢ is `\\operatorname{{tr}}({x} A {x}^\\top)` for the rows of {x}")));
                }
                Err(Error::new(expr.span, format!("`{}`: `{text}` is an entry, a number; it has no transpose", self.text(expr.span)))
                    .with_hint("inside a sum over i, `x_i` is the i-th entry of x; drop the transpose, or for a row of a matrix write `(X w)_i`"))
            }
            ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Ones(_) => unreachable!("has no entries"),
        }
    }

    /// `w_i`, `A_{ij}`, `A_{ii}`, `(A x)_i`: the value at `base` with its axes on the indices.
    fn entry(
        &mut self,
        base: &Expr,
        indices: &[String],
        written: Option<&str>,
        whole: &Expr,
    ) -> Result<Indexed, Error> {
        let text = self.text(whole.span);
        // `w` of `w_i` (whose base has the entry's span), `A x` of `(A x)_i`.
        let base_text = match &base.kind {
            ExprKind::Var(name) => name.clone(),
            _ => self.text(base.span),
        };
        if let Some(written) = written.filter(|w| !self.is_free(w)) {
            return Err(Error::new(
                whole.span,
                format!(
                    "`{text}` is ambiguous: the variable `{written}`, or an entry of `{base_text}` (inside a sum over {})",
                    indices.join(", ")
                ),
            )
            .with_hint(format!("rename the variable `{written}`, or sum over another letter")));
        }
        // `x_i` where the program has X and no x: X's sample, which is a number only in a
        // product with a vector; read as a new input x, it would silently be something else.
        if let Some((name, upper)) = base_name(base).and_then(|name| Some((name, capital(name)?))) {
            let matrix = match self.bindings.get(&upper) {
                Some(Binding::Input(node, _) | Binding::Assigned(node, _)) => {
                    let (shape, dims) = (self.graph.shape(*node), &self.graph.dims);
                    dims.resolve(shape.rows) != ONE && dims.resolve(shape.cols) != ONE
                }
                None => false,
            };
            let lone = matrix && self.is_free(name) && !self.readings.contains_key(name);
            if let (true, [i, j]) = (lone, indices) {
                let hint = format!(
                    "for an entry of `{upper}` write `{upper}_{{{i}{j}}}`; for an input of its own, declare `{name}`"
                );
                return Err(Error::new(whole.span, format!("`{text}`: the program has no `{name}`")).with_hint(hint));
            }
            if let (true, [i]) = (lone, indices) {
                return Err(Error::new(
                    whole.span,
                    format!("`{text}`: the program has no `{name}`, and `{name}_{i}` as a sample of `{upper}` (its row or column {i}) is a vector, not a number"),
                )
                .with_hint(format!(
                    "a sample is read in a product with a vector, `{name}_{i}^\\top w` or `w^\\top {name}_{i}`; for an input of its own, declare `{name}`"
                )));
            }
        }
        let node = self.expr(base)?;
        let shape = self.graph.shape(node);
        let dims = &self.graph.dims;
        let (rows, cols) = (dims.resolve(shape.rows), dims.resolve(shape.cols));
        let what = dims.describe(shape);
        let (node, axes): (NodeId, Vec<(String, Dim, &str)>) = match indices {
            _ if rows == ONE && cols == ONE => {
                return Err(Error::shape(whole.span, format!("`{text}`: `{base_text}` {what}; it has no entries to index")))
            }
            [i] if cols == ONE => (node, vec![(i.clone(), rows, "entries")]),
            [i] if rows == ONE => (self.add(Op::Transpose(node), whole, &[base])?, vec![(i.clone(), cols, "entries")]),
            [i] => {
                return Err(Error::shape(
                    whole.span,
                    format!("`{text}`: `{base_text}` {what}; one index on a matrix could mean its row or its column"),
                )
                .with_hint(format!("write an entry with two indices, `{base_text}_{{{i}j}}`, or the entry of a product, `({base_text} w)_{i}`")))
            }
            [i, j] if rows == ONE || cols == ONE => {
                return Err(Error::shape(whole.span, format!("`{text}`: `{base_text}` {what}; its entries have one index"))
                    .with_hint(format!("write `{base_text}_{i}`")))
            }
            [i, j] if i == j => {
                self.graph.dims.unify(rows, cols);
                let node = self.add(Op::DiagPart(node), whole, &[base])?;
                (node, vec![(i.clone(), rows, "rows")])
            }
            [i, j] => (node, vec![(i.clone(), rows, "rows"), (j.clone(), cols, "columns")]),
            _ => {
                return Err(Error::shape(whole.span, format!("`{text}`: `{base_text}` {what}; an entry has at most two indices")))
            }
        };
        for (index, dim, what) in &axes {
            self.index_dim(index, *dim, what, &base_text, whole)?;
        }
        Ok(Indexed { node, axes: axes.into_iter().map(|(index, ..)| index).collect() })
    }

    /// Unifies the size of `index` with the axis of `base` it indexes (its `what`: rows,
    /// columns, entries).
    fn index_dim(&mut self, index: &str, dim: Dim, what: &str, base: &str, whole: &Expr) -> Result<(), Error> {
        let at = self.scope.iter().rposition(|b| b.name == index).expect("an entry's indices are bound by the parser");
        let bound = self.scope[at].dim;
        if self.graph.dims.unify(bound, dim) {
            self.scope[at].first.get_or_insert(whole.span);
            return Ok(());
        }
        let dims = &self.graph.dims;
        let earlier =
            self.scope[at].first.map_or_else(|| "its bounds".to_string(), |span| format!("`{}`", self.text(span)));
        Err(Error::shape(
            whole.span,
            format!(
                "`{}`: `{index}` runs over the {} {what} of `{base}`, but over {} in {earlier}",
                self.text(whole.span),
                dims.show(dim),
                dims.show(bound)
            ),
        )
        .with_hint("an index runs over one range: use another letter for an axis of another size"))
    }

    /// The bounds of a sum's index, as written (`\sum_{i=1}^{n}`, `\sum_{i=0}^{n-1}`): its size.
    fn check_range(&mut self, at: usize, index: &ast::Index) -> Result<(), Error> {
        let Some(range) = self.scope[at].range.clone() else { return Ok(()) };
        let Some(size) = range.size() else { return Err(self.partial(&range, index)) };
        let dim = self.scope[at].dim;
        let written = if is_number(size) {
            match number_size(size) {
                Some(n) => Some(n),
                None => {
                    return Err(Error::new(
                        range.span,
                        format!("`{size}` cannot be the size of a sum: a whole number from 1 to 10⁹"),
                    ))
                }
            }
        } else if let Some(symbol) = self.graph.dims.find_symbol(size) {
            Some(symbol)
        } else if !self.is_free(size) {
            return Err(Error::new(range.span, format!("the bound `{size}` is a variable of the program, not a size"))
                .with_hint("a sum runs over a size of the declarations, as `n` in `x: vector(n)`"));
        } else if matches!(self.graph.dims.resolve(dim), Dim::Unknown(_)) {
            // A new size's name, of the index alone so far: the index's axes have it.
            match self.written_size(size) {
                Some(dim) => Some(dim),
                None => {
                    return Err(Error::new(range.span, format!("`{size}` cannot be the size of a sum"))
                        .with_hint("a bound is a whole number or a size's letter, as in `\\sum_{i=1}^{n}`"))
                }
            }
        } else {
            // A name the program does not have, for an axis whose size is known: the page's
            // own name for that size (`\sum_{i=1}^{m}` over the rows of a K×K matrix).
            None
        };
        if let Some(size) = written {
            if !self.graph.dims.unify(dim, size) {
                let dims = &self.graph.dims;
                let first = self.scope[at].first.map_or_else(String::new, |span| format!(" in `{}`", self.text(span)));
                return Err(Error::shape(
                    range.span,
                    format!(
                        "the sum runs `{}` over {} values, but it indexes {} of them{first}",
                        index.name,
                        dims.show(size),
                        dims.show(dim)
                    ),
                )
                .with_hint("a sum over an index runs over the whole axis it indexes"));
            }
        }
        Ok(())
    }

    fn partial(&self, range: &ast::Range, index: &ast::Index) -> Error {
        Error::new(
            range.span,
            format!("`{}` = {} … {}: a sum over part of an axis is not supported", index.name, range.from, range.to),
        )
        .with_hint("matgrad reads sums over a whole axis: `\\sum_{i=1}^{n}`, `\\sum_{i=0}^{n-1}`, or `\\sum_i`")
    }

    /// Sums index `scope[at]` out of `factors`, leaving the others (`pending`: the sum's
    /// indices still to be summed after it).
    fn reduce(
        &mut self,
        factors: Vec<Indexed>,
        at: usize,
        pending: &mut Vec<String>,
        index: &ast::Index,
        whole: &Expr,
    ) -> Result<Vec<Indexed>, Error> {
        let k = index.name.as_str();
        let (mut with, mut rest): (Vec<Indexed>, Vec<Indexed>) =
            factors.into_iter().partition(|f| f.axes.iter().any(|a| a == k));
        if with.is_empty() {
            // Σᵢ c = n c: the summand does not depend on i.
            let dim = self.graph.dims.resolve(self.scope[at].dim);
            if matches!(dim, Dim::Unknown(_)) {
                return Err(Error::new(
                    index.span,
                    format!("the summand does not depend on `{k}`, so the sum's size is not known"),
                )
                .with_hint(format!("give the range, as in `\\sum_{{{k}=1}}^{{n}}`, or index an entry with `{k}`")));
            }
            let count = match dim {
                Dim::Number(n) => self.graph.constant(n as f64),
                n => self.graph.add(Op::Size(n)).expect("a size is a scalar"),
            };
            rest.push(Indexed { node: count, axes: vec![] });
            return Ok(rest);
        }
        while with.len() > 2 {
            // Multiply first the pair with the fewest axes between them.
            let mut best = (usize::MAX, 0, 1);
            for a in 0..with.len() {
                for b in a + 1..with.len() {
                    let size = union(&with[a].axes, &with[b].axes).len();
                    if size < best.0 {
                        best = (size, a, b);
                    }
                }
            }
            let (_, a, b) = best;
            let right = with.remove(b);
            let left = with.remove(a);
            with.push(self.times(left, right, whole)?);
        }
        // The indices the other factors still carry: not to be summed with this one.
        let carried: Vec<String> = rest.iter().flat_map(|f| f.axes.iter().cloned()).collect();
        let summed = match <[Indexed; 2]>::try_from(with) {
            Ok([a, b]) => self.contract(a, b, k, pending, &carried, whole)?,
            Err(mut one) => {
                let f = one.pop().expect("one factor");
                self.sum_axis(f, k, pending, &carried, whole)?
            }
        };
        rest.push(summed);
        Ok(rest)
    }

    /// Σₖ a b: a matrix product where a and b share no other axis (xᵀy, A x, A B), else
    /// the entrywise product summed over k.
    fn contract(
        &mut self,
        a: Indexed,
        b: Indexed,
        k: &str,
        pending: &mut Vec<String>,
        carried: &[String],
        whole: &Expr,
    ) -> Result<Indexed, Error> {
        let other = |f: &Indexed| -> Vec<String> { f.axes.iter().filter(|x| *x != k).cloned().collect() };
        let (p, q) = (other(&a), other(&b));
        let shared = p.iter().any(|x| q.contains(x));
        if shared || p.len() > 1 || q.len() > 1 {
            let product = self.times(a, b, whole)?;
            return self.sum_axis(product, k, pending, carried, whole);
        }
        let (p, q) = (p.first().cloned(), q.first().cloned());
        let node = match (&p, &q) {
            (Some(_), None) => {
                let left = self.oriented(&a, p.as_deref(), Some(k), whole)?;
                let right = self.oriented(&b, Some(k), None, whole)?;
                self.add(Op::MatMul(left, right), whole, &[])?
            }
            (None, Some(_)) => {
                let left = self.oriented(&b, q.as_deref(), Some(k), whole)?;
                let right = self.oriented(&a, Some(k), None, whole)?;
                self.add(Op::MatMul(left, right), whole, &[])?
            }
            _ => {
                let left = self.oriented(&a, p.as_deref(), Some(k), whole)?;
                let right = self.oriented(&b, Some(k), q.as_deref(), whole)?;
                self.add(Op::MatMul(left, right), whole, &[])?
            }
        };
        Ok(Indexed { node, axes: p.into_iter().chain(q).collect() })
    }

    /// Σₖ f: the sum of all entries when every axis of f is summed here (and no other factor,
    /// `carried` their indices, has the other), else the sum of its rows or columns.
    fn sum_axis(
        &mut self,
        f: Indexed,
        k: &str,
        pending: &mut Vec<String>,
        carried: &[String],
        whole: &Expr,
    ) -> Result<Indexed, Error> {
        let other = f.axes.iter().find(|x| *x != k).cloned();
        let whole_sum = match &other {
            None => true,
            // Σᵢⱼ Fᵢⱼ at once when the other index is this sum's too, to be summed next, and
            // no other factor has it (Σᵢ Σⱼ Kᵢⱼ yᵢ is yᵀ K 𝟙, not y sum(K)).
            Some(other) if carried.contains(other) => false,
            Some(other) => match pending.iter().position(|x| x == other) {
                Some(at) => {
                    pending.remove(at);
                    true
                }
                None => false,
            },
        };
        if whole_sum {
            let node = self.add(Op::Sum(f.node), whole, &[])?;
            return Ok(Indexed { node, axes: vec![] });
        }
        let other = other.expect("a second axis");
        let row = self.oriented(&f, Some(&other), Some(k), whole)?;
        let n = self.graph.shape(row).cols;
        let ones = self.add(Op::Fill(Constant(1.0), Shape::vector(n)), whole, &[])?;
        let node = self.add(Op::MatMul(row, ones), whole, &[])?;
        Ok(Indexed { node, axes: vec![other] })
    }

    /// f's node laid out with `rows` on its rows and `cols` on its columns (None: size 1).
    fn oriented(&mut self, f: &Indexed, rows: Option<&str>, cols: Option<&str>, whole: &Expr) -> Result<NodeId, Error> {
        let axes: Vec<&str> = f.axes.iter().map(String::as_str).collect();
        let want: Vec<&str> = rows.into_iter().chain(cols).collect();
        let straight = match (axes.as_slice(), rows, cols) {
            ([a], Some(r), None) => a == &r,
            ([a], None, Some(c)) => a != &c,
            ([], ..) => true,
            _ => axes == want,
        };
        if straight {
            Ok(f.node)
        } else {
            self.add(Op::Transpose(f.node), whole, &[])
        }
    }

    /// The entrywise product of two values with axes, broadcast over the axes one lacks.
    fn times(&mut self, a: Indexed, b: Indexed, whole: &Expr) -> Result<Indexed, Error> {
        let (a, b, axes) = self.aligned(a, b, whole)?;
        let node = self.add(Op::Mul(a, b), whole, &[])?;
        Ok(Indexed { node, axes })
    }

    /// Two values laid out on the union of their axes (a scalar stays a scalar: it
    /// broadcasts), for an entrywise operation.
    fn aligned(&mut self, a: Indexed, b: Indexed, whole: &Expr) -> Result<(NodeId, NodeId, Vec<String>), Error> {
        let axes = union(&a.axes, &b.axes);
        if axes.len() > 2 {
            return Err(Error::new(
                whole.span,
                format!("`{}` has the indices {} at once", self.text(whole.span), axes.join(", ")),
            )
            .with_hint(AT_MOST_TWO));
        }
        let a_node = self.broadcast(&a, &axes, b.axes.is_empty(), whole)?;
        let b_node = self.broadcast(&b, &axes, a.axes.is_empty(), whole)?;
        Ok((a_node, b_node, axes))
    }

    /// f laid out on `axes` (a superset of its own), repeated along an axis it lacks; a
    /// scalar is left to broadcast, and so is everything when `alone` (the other side is a
    /// scalar).
    fn broadcast(&mut self, f: &Indexed, axes: &[String], alone: bool, whole: &Expr) -> Result<NodeId, Error> {
        if f.axes.is_empty() || alone || f.axes.len() == axes.len() {
            return match axes {
                [r, c] => self.oriented(f, Some(r), Some(c), whole),
                _ => Ok(f.node),
            };
        }
        // One axis of two: the vector times a row (or column) of ones.
        let own = &f.axes[0];
        let other = axes.iter().find(|x| *x != own).expect("two axes");
        let dim = self.scope.iter().rfind(|b| &b.name == other).expect("a bound index").dim;
        let ones = self.add(Op::Fill(Constant(1.0), Shape::vector(dim)), whole, &[])?;
        let (left, right) = if &axes[0] == own { (f.node, ones) } else { (ones, f.node) };
        let right = self.add(Op::Transpose(right), whole, &[])?;
        self.add(Op::MatMul(left, right), whole, &[])
    }

    /// The product of values with axes, multiplied entrywise.
    fn product(&mut self, factors: Vec<Indexed>, whole: &Expr) -> Result<Indexed, Error> {
        let mut factors = factors.into_iter();
        let first = match factors.next() {
            Some(first) => first,
            None => Indexed { node: self.graph.constant(1.0), axes: vec![] },
        };
        factors.try_fold(first, |value, factor| self.times(value, factor, whole))
    }

    /// `x_i + y_i`, `x_i / n`, `(y_i - μ)^2`, `e^{x_i}`: entrywise arithmetic on entries.
    fn entrywise(&mut self, op: BinOp, left: &Expr, right: &Expr, whole: &Expr) -> Result<Indexed, Error> {
        if matches!(op, BinOp::Pow | BinOp::ElemPow)
            && matches!(&left.kind, ExprKind::Var(name) if name == "e")
            && self.is_free("e")
        {
            let x = self.indexed(right)?;
            let node = self.add(Op::Map(Func::Exp, x.node), whole, &[right])?;
            return Ok(Indexed { node, axes: x.axes });
        }
        let a = self.indexed(left)?;
        let b = self.indexed(right)?;
        let (a, b, axes) = self.aligned(a, b, whole)?;
        let operands = [left, right];
        let node = match op {
            BinOp::Add => self.add(Op::Add(a, b), whole, &operands)?,
            BinOp::Sub => {
                let negated = self.add(Op::Neg(b), right, &[right])?;
                self.add(Op::Add(a, negated), whole, &operands)?
            }
            BinOp::Div | BinOp::ElemDiv => self.add(Op::Div(a, b), whole, &operands)?,
            BinOp::Pow | BinOp::ElemPow => self.add(Op::Pow(a, b), whole, &operands)?,
            BinOp::Frobenius => return Err(self.not_entrywise(whole)),
            BinOp::Mul | BinOp::ElemMul | BinOp::Dot => unreachable!("a product's factors are read by `factors`"),
        };
        Ok(Indexed { node, axes })
    }

    /// `\log(1 + e^{x_i})`, `|x_i|`, `σ(w_i)`: an elementwise function of entries.
    fn entry_call(&mut self, name: &str, args: &[Expr], whole: &Expr) -> Result<Indexed, Error> {
        let f = match builtin(name) {
            Some(Builtin::Elementwise(f)) => f,
            // The norm of a number is its absolute value.
            Some(Builtin::Norm1 | Builtin::Norm2) => Func::Abs,
            _ => return Err(self.not_entrywise(whole)),
        };
        if args.len() != 1 {
            return Err(Error::new(
                whole.span,
                format!("`{name}` takes 1 argument, but {} given", super::given(args.len())),
            ));
        }
        let a = self.indexed(&args[0])?;
        let node = self.add(Op::Map(f, a.node), whole, &[&args[0]])?;
        Ok(Indexed { node, axes: a.axes })
    }

    fn not_entrywise(&self, whole: &Expr) -> Error {
        Error::new(
            whole.span,
            format!(
                "`{}`: inside a sum over indices, this operation of entries is not supported",
                self.text(whole.span)
            ),
        )
        .with_hint(
            "a summand over indices combines entries with + − · / powers and elementwise functions (exp, log, σ, …)",
        )
    }
}

/// The sizes the sums of `program` run to, as written: `n` of `\sum_{i=1}^{n}` and of
/// `\sum_{i=0}^{n-1}` (names only, not numbers).
pub(super) fn bound_sizes(program: &ast::Program) -> impl Iterator<Item = String> + '_ {
    fn walk(expr: &Expr, out: &mut Vec<String>) {
        if let ExprKind::IndexSum { indices, .. } = &expr.kind {
            let sizes = indices.iter().filter_map(|index| index.range.as_ref()?.size());
            out.extend(sizes.filter(|s| is_size_name(s) && !is_number(s)).map(str::to_string));
        }
        expr.children().into_iter().for_each(|child| walk(child, out));
    }
    program.items.iter().flat_map(|item| {
        let mut out = Vec::new();
        if let ast::Item::Assign { value, .. } = item {
            walk(value, &mut out);
        }
        out
    })
}

/// Whether `expr` has an entry or a sum over indices in it.
fn has_entries(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Entry { .. } | ExprKind::IndexSum { .. })
        || expr.children().into_iter().any(has_entries)
}

/// The name an entry's base is, `x` of `x_i`.
fn base_name(base: &Expr) -> Option<&String> {
    match &base.kind {
        ExprKind::Var(name) => Some(name),
        _ => None,
    }
}

/// `x_i`, one index on the matrix `matrix` (the program's name for it).
struct Sample<'e> {
    node: NodeId,
    matrix: String,
    index: &'e String,
    whole: &'e Expr,
}

/// The axes of `a`, then those of `b` that `a` lacks.
fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut axes = a.to_vec();
    axes.extend(b.iter().filter(|x| !a.contains(x)).cloned());
    axes
}
