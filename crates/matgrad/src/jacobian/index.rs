//! Index notation: a block as the coefficient of each entry of the tangent, a sum of
//! products of entries and Kronecker deltas, such as H[i,j,k,l] = (A + Aᵀ)[i,k] δ[j,l].
//!
//! A linear map's expression is translated entry by entry (a product Σₘ A[i,m] B[m,j], a
//! transpose swaps indices, Diag(a)[i,j] = a[i] δ[i,j], a sum or a trace sums), the tangent
//! entry dX[a,b] is replaced by δ[a,k] δ[b,l], and deltas over summed indices are
//! eliminated. Subexpressions that do not depend on the tangent stay whole, printed by name
//! or in brackets. Where a term is not linear in the tangent (it never is in a
//! derivative's map, but the translation says so rather than assume it), the block is
//! written as the map applied to a basis matrix, which always exists: so index notation
//! never fails. The Kronecker (vec) form is read from the same terms where every term is a
//! product F[i,k] G[l,j].

use std::collections::{HashMap, HashSet};

use crate::ir::shape::ONE;
use crate::ir::{Dim, Graph, NodeId, Op};
use crate::print::{print, show_name, Notation};
use crate::simplify::build;

/// An index variable.
pub(crate) type Index = u32;

/// One factor of a term.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Factor {
    /// An entry of a value that does not depend on the tangent: indices for its axes
    /// (none for a scalar, one for a vector).
    Entry(NodeId, Vec<Index>),
    /// δ[a,b]
    Delta(Index, Index),
    /// An entry of the tangent.
    Tangent(Vec<Index>),
}

/// c · Σ_{sums} Π factors.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    coefficient: f64,
    sums: Vec<Index>,
    factors: Vec<Factor>,
}

/// A block in index notation: the entry at the output's indices and the variable's.
#[derive(Debug, Clone)]
pub(crate) struct IndexForm {
    /// The block's free indices: the output's axes, then the variable's.
    free: Vec<Index>,
    /// Each free index's dimension (for the identity of a δ in the Kronecker form).
    dims: Vec<Dim>,
    /// The terms, or None when the map is not a sum of terms linear in the tangent.
    terms: Option<Vec<Term>>,
    /// The map and its tangent, for the fallback.
    map: Option<NodeId>,
    tangent: NodeId,
    /// How many axes the output has.
    output_axes: usize,
}

/// Which axes of a value carry an index: those of size other than 1.
fn axes(graph: &Graph, id: NodeId) -> (bool, bool) {
    let shape = graph.shape(id);
    (graph.dims.resolve(shape.rows) != ONE, graph.dims.resolve(shape.cols) != ONE)
}

/// The index form of the block whose map is `map` (None: zero) in the direction `tangent`,
/// for an output shaped like `output`.
pub(crate) fn index_form(graph: &mut Graph, output: NodeId, map: Option<NodeId>, tangent: NodeId) -> IndexForm {
    let mut free = Vec::new();
    let mut dims = Vec::new();
    // The block's axes are its sides' (a row vector's two, `[1, n]`, as in its shape); an
    // axis of size 1 carries no index in the expression.
    let slots = |id: NodeId, free: &mut Vec<Index>, dims: &mut Vec<Dim>| {
        let shape = graph.shape(id);
        let (rows, cols) = axes(graph, id);
        let mut index = [None, None];
        for (axis, (dim, carried)) in [(shape.rows, rows), (shape.cols, cols)].into_iter().enumerate() {
            if axis < super::axes(graph, id) {
                free.push(free.len() as Index);
                dims.push(dim);
                if carried {
                    index[axis] = Some(free.len() as Index - 1);
                }
            }
        }
        index
    };
    let out = slots(output, &mut free, &mut dims);
    let output_axes = free.len();
    let wrt = slots(tangent, &mut free, &mut dims);
    let terms = match map {
        None => Some(Vec::new()),
        Some(map) => {
            let dependent = depends_on(graph, map, tangent);
            let mut translator = Translator { graph, dependent: &dependent, tangent, next: free.len() as Index };
            translator.node(map, out).and_then(|terms| extract(terms, wrt))
        }
    };
    IndexForm { free, dims, terms, map, tangent, output_axes }
}

/// The nodes below `root` that depend on `tangent`.
fn depends_on(graph: &Graph, root: NodeId, tangent: NodeId) -> HashSet<NodeId> {
    let mut dependent = HashSet::new();
    for id in graph.reachable(&[root]) {
        if id == tangent || graph.op(id).children().into_iter().any(|c| dependent.contains(&c)) {
            dependent.insert(id);
        }
    }
    dependent
}

struct Translator<'a> {
    graph: &'a mut Graph,
    dependent: &'a HashSet<NodeId>,
    tangent: NodeId,
    next: Index,
}

fn scaled(terms: Vec<Term>, by: f64) -> Vec<Term> {
    terms.into_iter().map(|t| Term { coefficient: t.coefficient * by, ..t }).collect()
}

fn product(left: Vec<Term>, right: Vec<Term>) -> Vec<Term> {
    let mut out = Vec::new();
    for a in &left {
        for b in &right {
            out.push(Term {
                coefficient: a.coefficient * b.coefficient,
                sums: a.sums.iter().chain(&b.sums).copied().collect(),
                factors: a.factors.iter().chain(&b.factors).cloned().collect(),
            });
        }
    }
    out
}

fn single(factor: Factor) -> Vec<Term> {
    vec![Term { coefficient: 1.0, sums: Vec::new(), factors: vec![factor] }]
}

fn present(index: [Option<Index>; 2]) -> Vec<Index> {
    index.into_iter().flatten().collect()
}

impl Translator<'_> {
    fn fresh(&mut self) -> Index {
        self.next += 1;
        self.next - 1
    }

    /// `id`'s entry at `index` (rows, columns; None for an axis of size 1).
    fn node(&mut self, id: NodeId, index: [Option<Index>; 2]) -> Option<Vec<Term>> {
        if !self.dependent.contains(&id) {
            return Some(self.entry(id, index));
        }
        let [row, col] = index;
        // A child's index: a scalar operand of a broadcast has none.
        let of = |graph: &Graph, child: NodeId| if graph.is_scalar(child) { [None, None] } else { index };
        Some(match self.graph.op(id) {
            Op::Input(_) if id == self.tangent => single(Factor::Tangent(present(index))),
            Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..) => return None,
            Op::Neg(a) => scaled(self.node(a, index)?, -1.0),
            Op::Add(a, b) => {
                let (ia, ib) = (of(self.graph, a), of(self.graph, b));
                let mut terms = self.node(a, ia)?;
                terms.extend(self.node(b, ib)?);
                terms
            }
            Op::Mul(a, b) => {
                let (ia, ib) = (of(self.graph, a), of(self.graph, b));
                product(self.node(a, ia)?, self.node(b, ib)?)
            }
            Op::Div(a, b) => {
                if self.dependent.contains(&b) {
                    return None;
                }
                let (ia, ib) = (of(self.graph, a), of(self.graph, b));
                let one = self.graph.constant(1.0);
                let reciprocal = build(self.graph, Op::Div(one, b));
                product(self.node(a, ia)?, self.entry(reciprocal, ib))
            }
            Op::MatMul(a, b) => {
                let inner = self.graph.dims.resolve(self.graph.shape(a).cols) != ONE;
                let m = inner.then(|| self.fresh());
                let mut terms = product(self.node(a, [row, m])?, self.node(b, [m, col])?);
                if let Some(m) = m {
                    terms.iter_mut().for_each(|t| t.sums.push(m));
                }
                terms
            }
            Op::Transpose(a) => self.node(a, [col, row])?,
            Op::Sum(a) => {
                let (rows, cols) = axes(self.graph, a);
                let index = [rows.then(|| self.fresh()), cols.then(|| self.fresh())];
                let mut terms = self.node(a, index)?;
                terms.iter_mut().for_each(|t| t.sums.extend(present(index)));
                terms
            }
            Op::Trace(a) => {
                let m = self.fresh();
                let mut terms = self.node(a, [Some(m), Some(m)])?;
                terms.iter_mut().for_each(|t| t.sums.push(m));
                terms
            }
            Op::Diag(a) => {
                let (Some(i), Some(j)) = (row, col) else { return None };
                product(self.node(a, [Some(i), None])?, single(Factor::Delta(i, j)))
            }
            Op::DiagPart(a) => self.node(a, [row, row])?,
            // Not linear: a map's expression applies these to independent values only.
            Op::Pow(..)
            | Op::Map(..)
            | Op::MatPow(..)
            | Op::Norm1(_)
            | Op::Norm2(_)
            | Op::Det(_)
            | Op::LogDet(_)
            | Op::Inv(_)
            | Op::Softmax(_)
            | Op::LogSumExp(_) => return None,
        })
    }

    /// The entry of a value that does not depend on the tangent: a constant, a δ for the
    /// identity, a transpose's entry with its indices swapped, or the value's own entry.
    fn entry(&mut self, id: NodeId, index: [Option<Index>; 2]) -> Vec<Term> {
        let [row, col] = index;
        match self.graph.op(id) {
            Op::Const(c) | Op::Fill(c, _) if self.graph.name(id).is_none() => {
                if c.0 == 0.0 {
                    Vec::new()
                } else {
                    vec![Term { coefficient: c.0, sums: Vec::new(), factors: Vec::new() }]
                }
            }
            Op::Eye(_) => match (row, col) {
                (Some(i), Some(j)) => single(Factor::Delta(i, j)),
                _ => vec![Term { coefficient: 1.0, sums: Vec::new(), factors: Vec::new() }],
            },
            Op::Transpose(a) if self.graph.name(id).is_none() => self.entry(a, [col, row]),
            Op::Neg(a) if self.graph.name(id).is_none() => scaled(self.entry(a, index), -1.0),
            _ => single(Factor::Entry(id, present(index))),
        }
    }
}

/// The coefficient of the tangent's entry at `wrt`: each term's tangent factor dX[a,b]
/// becomes δ[a,k] δ[b,l], deltas over summed indices are eliminated, and like terms are
/// collected. None when a term is not linear in the tangent.
fn extract(terms: Vec<Term>, wrt: [Option<Index>; 2]) -> Option<Vec<Term>> {
    let wrt = present(wrt);
    let mut out: Vec<Term> = Vec::new();
    for mut term in terms {
        let tangents = term.factors.iter().filter(|f| matches!(f, Factor::Tangent(_))).count();
        if tangents != 1 {
            return None;
        }
        let mut factors = Vec::new();
        for factor in term.factors {
            match factor {
                Factor::Tangent(indices) => {
                    if indices.len() != wrt.len() {
                        return None;
                    }
                    factors.extend(indices.iter().zip(&wrt).map(|(&a, &k)| Factor::Delta(a, k)));
                }
                other => factors.push(other),
            }
        }
        term.factors = factors;
        eliminate_deltas(&mut term);
        canonical(&mut term);
        match out.iter_mut().find(|t| t.sums == term.sums && t.factors == term.factors) {
            Some(like) => like.coefficient += term.coefficient,
            None => out.push(term),
        }
    }
    out.retain(|t| t.coefficient != 0.0);
    Some(out)
}

/// δ[m,j] summed over m: m becomes j everywhere and the δ goes; δ[i,i] of a free i is 1.
fn eliminate_deltas(term: &mut Term) {
    loop {
        let found = term.factors.iter().enumerate().find_map(|(at, f)| match *f {
            Factor::Delta(a, b) if a == b && !term.sums.contains(&a) => Some((at, a, b)),
            Factor::Delta(a, b) if a != b && term.sums.contains(&a) => Some((at, a, b)),
            Factor::Delta(a, b) if a != b && term.sums.contains(&b) => Some((at, b, a)),
            _ => None,
        });
        let Some((at, gone, kept)) = found else { break };
        term.factors.remove(at);
        if gone != kept {
            term.sums.retain(|&s| s != gone);
            for factor in term.factors.iter_mut() {
                rename(factor, gone, kept);
            }
        }
    }
}

fn rename(factor: &mut Factor, from: Index, to: Index) {
    let swap = |i: &mut Index| {
        if *i == from {
            *i = to
        }
    };
    match factor {
        Factor::Entry(_, indices) | Factor::Tangent(indices) => indices.iter_mut().for_each(swap),
        Factor::Delta(a, b) => {
            swap(a);
            swap(b);
        }
    }
}

/// Factors in a fixed order and summed indices numbered by first use, so that equal terms
/// compare equal: deltas written δ[a,b] with a < b, entries before deltas.
fn canonical(term: &mut Term) {
    for factor in term.factors.iter_mut() {
        if let Factor::Delta(a, b) = factor {
            if a > b {
                std::mem::swap(a, b);
            }
        }
    }
    // Sort with summed indices hidden, then renumber them in order of appearance.
    let sums: HashSet<Index> = term.sums.iter().copied().collect();
    let key = |f: &Factor| -> (u8, u32, Vec<Option<Index>>) {
        let hide = |i: &Index| (!sums.contains(i)).then_some(*i);
        match f {
            Factor::Entry(id, ix) => (0, id.0, ix.iter().map(hide).collect()),
            Factor::Delta(a, b) => (1, 0, vec![hide(a), hide(b)]),
            Factor::Tangent(ix) => (2, 0, ix.iter().map(hide).collect()),
        }
    };
    term.factors.sort_by_key(key);
    let base = Index::MAX / 2;
    let mut order: Vec<Index> = Vec::new();
    for factor in &term.factors {
        let indices: Vec<Index> = match factor {
            Factor::Entry(_, ix) | Factor::Tangent(ix) => ix.clone(),
            Factor::Delta(a, b) => vec![*a, *b],
        };
        for i in indices {
            if sums.contains(&i) && !order.contains(&i) {
                order.push(i);
            }
        }
    }
    let renumbered: HashMap<Index, Index> = order.iter().enumerate().map(|(n, &i)| (i, base + n as Index)).collect();
    for factor in term.factors.iter_mut() {
        for (&from, &to) in &renumbered {
            rename(factor, from, to);
        }
    }
    term.sums = (0..order.len()).map(|n| base + n as Index).collect();
}

/// One operand of a contraction (an einsum's): a value that does not depend on the tangent,
/// the identity for a δ, or ones for a free index no factor carries (a block constant
/// along that axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operand {
    Value(NodeId),
    Identity(Dim),
    Ones(Dim),
}

/// One term of a block as a contraction: c · Σ over the indices not in the output of the
/// product of the operands, each with its indices (one per array axis it has).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Contraction {
    pub coefficient: f64,
    pub operands: Vec<(Operand, Vec<Index>)>,
}

/// The output's indices, each with its dimension, as [`IndexForm::contractions`] gives them.
pub(crate) type OutputIndices = Vec<(Index, Dim)>;

impl IndexForm {
    /// The block as a sum of contractions over its terms, and the output's indices: the
    /// free indices of size other than 1, so a vector's side has one axis and a scalar's
    /// none (the arrays generated code uses). None where the block has no terms (its index
    /// form is the map on a basis matrix).
    pub(crate) fn contractions(&self, graph: &Graph) -> Option<(OutputIndices, Vec<Contraction>)> {
        let terms = self.terms.as_ref()?;
        let output: Vec<(Index, Dim)> = self
            .free
            .iter()
            .zip(&self.dims)
            .filter(|(_, &dim)| graph.dims.resolve(dim) != ONE)
            .map(|(&index, &dim)| (index, dim))
            .collect();
        let mut contractions = Vec::new();
        for term in terms {
            let mut operands: Vec<(Operand, Vec<Index>)> = Vec::new();
            for factor in &term.factors {
                operands.push(match factor {
                    Factor::Entry(id, indices) => (Operand::Value(*id), indices.clone()),
                    // Deltas over a summed index were eliminated, so a δ's indices are free.
                    Factor::Delta(a, b) => {
                        let &(_, dim) = output.iter().find(|(i, _)| i == a || i == b)?;
                        (Operand::Identity(dim), vec![*a, *b])
                    }
                    // `extract` replaced every tangent entry by deltas.
                    Factor::Tangent(_) => return None,
                });
            }
            for &(index, dim) in &output {
                if !operands.iter().any(|(_, indices)| indices.contains(&index)) {
                    operands.push((Operand::Ones(dim), vec![index]));
                }
            }
            contractions.push(Contraction { coefficient: term.coefficient, operands });
        }
        Some((output, contractions))
    }
}

/// What an index form prints: the namer of the program's values and the letters taken.
pub(crate) struct Writer<'a> {
    pub graph: &'a Graph,
    pub namer: &'a dyn Fn(NodeId) -> Option<String>,
    /// Names an index letter must not look like (variables, sizes, introduced names).
    pub taken: &'a HashSet<String>,
    /// The block's symbol (canonical): H for a Hessian, J for a Jacobian, unless the program
    /// has a value of that name.
    pub symbol: &'a str,
    /// The Kronecker delta's name (canonical): `delta`, unless the program has a `δ`.
    pub delta: &'a str,
}

const LETTERS: &str = "ijklmnopqrstuvwxyzabcdefgh";

/// The sign before the `n`th term: none or a minus first, then ` + ` or ` − ` (`-` in LaTeX,
/// where `−` is not a character pdflatex reads).
pub(crate) fn sign(n: usize, negative: bool, notation: Notation) -> &'static str {
    let latex = notation == Notation::Latex;
    match (n, negative, latex) {
        (0, false, _) => "",
        (0, true, false) => "−",
        (0, true, true) => "-",
        (_, false, _) => " + ",
        (_, true, false) => " − ",
        (_, true, true) => " - ",
    }
}

/// A name followed by an index: bracketed in LaTeX where it has a subscript of its own
/// (`(W_{1})_{ij}`), which a second subscript would clash with.
fn indexed_name(name: &str, notation: Notation) -> String {
    let shown = show_name(name, notation);
    let plain = name.chars().all(|c| c.is_alphanumeric()) && !name.chars().any(|c| c.is_ascii_digit());
    if plain || notation != Notation::Latex {
        shown
    } else {
        format!("({shown})")
    }
}

impl Writer<'_> {
    /// Index names (canonical): single letters that no name of the program looks like,
    /// then numbered ones (i₁, j₁, …, canonical `i1`) when the letters run out.
    fn letters(&self, form: &IndexForm, sums: usize) -> Vec<String> {
        let wanted = form.free.len() + sums;
        let mut letters: Vec<String> =
            LETTERS.chars().map(String::from).filter(|c| !self.taken.contains(c)).take(wanted).collect();
        let mut round = 1;
        while letters.len() < wanted {
            let numbered = "ijklmn".chars().map(|c| format!("{c}{round}")).filter(|c| !self.taken.contains(c));
            letters.extend(numbered.take(wanted - letters.len()));
            round += 1;
        }
        letters
    }

    /// `H[i,j,k,l] = …` in `notation` (Unicode or LaTeX).
    pub(crate) fn write(&self, form: &IndexForm, notation: Notation) -> String {
        let most_sums = form.terms.iter().flatten().map(|t| t.sums.len()).max().unwrap_or(0);
        let letters = self.letters(form, most_sums);
        let shown: Vec<String> = letters.iter().map(|l| show_name(l, notation)).collect();
        let base = Index::MAX / 2;
        let letter = |i: Index| -> &str {
            if i >= base {
                &shown[form.free.len() + (i - base) as usize]
            } else {
                &shown[form.free.iter().position(|&f| f == i).unwrap_or(0)]
            }
        };
        // In LaTeX, letters run together (`_{ijk}`) unless one has a subscript (`i_{1}`).
        let together = shown.iter().all(|l| l.chars().count() == 1);
        let subscript = |indices: &[Index]| -> String {
            let names: Vec<&str> = indices.iter().map(|&i| letter(i)).collect();
            match notation {
                Notation::Latex => format!("_{{{}}}", names.join(if together { "" } else { "," })),
                _ => format!("[{}]", names.join(",")),
            }
        };
        let lhs = if form.free.is_empty() {
            show_name(self.symbol, notation)
        } else {
            format!("{}{}", indexed_name(self.symbol, notation), subscript(&form.free))
        };
        let Some(terms) = &form.terms else { return format!("{lhs} = {}", self.basis(form, notation, &letters)) };
        if terms.is_empty() {
            return format!("{lhs} = 0");
        }
        let delta = indexed_name(self.delta, notation);
        let mut out = String::new();
        for (n, term) in terms.iter().enumerate() {
            out.push_str(sign(n, term.coefficient < 0.0, notation));
            let magnitude = term.coefficient.abs();
            let mut parts: Vec<String> = Vec::new();
            if magnitude != 1.0 || term.factors.is_empty() {
                parts.push(number(magnitude));
            }
            if !term.sums.is_empty() {
                let names: Vec<&str> = term.sums.iter().map(|&i| letter(i)).collect();
                parts.push(match (notation, names.len()) {
                    (Notation::Latex, _) => format!("\\sum_{{{}}}", names.join(",")),
                    (_, 1) => format!("Σ_{}", names[0]),
                    _ => format!("Σ_{{{}}}", names.join(",")),
                });
            }
            for factor in &term.factors {
                parts.push(match factor {
                    Factor::Entry(id, indices) => {
                        let value = self.value(*id, notation, !indices.is_empty());
                        if indices.is_empty() {
                            value
                        } else {
                            format!("{value}{}", subscript(indices))
                        }
                    }
                    Factor::Delta(a, b) => format!("{delta}{}", subscript(&[*a, *b])),
                    Factor::Tangent(indices) => format!("d{}", subscript(indices)),
                });
            }
            out.push_str(&parts.join(if notation == Notation::Latex { "\\," } else { " " }));
        }
        let out = out.replace("\\sum", " \\sum").replace("  \\sum", " \\sum");
        format!("{lhs} = {}", out.trim_start())
    }

    /// A value that does not depend on the tangent: its name, or its expression in brackets
    /// (always when indexed, so that `(A + B)[i,j]` reads as one entry).
    fn value(&self, id: NodeId, notation: Notation, indexed: bool) -> String {
        if let Some(name) = (self.namer)(id) {
            return if indexed { indexed_name(&name, notation) } else { show_name(&name, notation) };
        }
        let text = print(self.graph, id, notation, self.namer);
        let operators = [' ', '/', '+', '−', '⊙', '⊘', '^'];
        let atomic =
            matches!(self.graph.op(id), Op::Input(_) | Op::Const(_)) || (!indexed && !text.contains(&operators[..]));
        match notation {
            _ if atomic => text,
            Notation::Latex => format!("\\left({text}\\right)"),
            _ => format!("({text})"),
        }
    }

    /// The block as its map applied to the basis matrix at the variable's indices: the
    /// index form that always exists.
    fn basis(&self, form: &IndexForm, notation: Notation, letters: &[String]) -> String {
        let Some(map) = form.map else { return "0".to_string() };
        let wrt = &letters[form.output_axes..form.free.len()];
        let basis = match wrt.len() {
            0 => "1".to_string(),
            1 => format!("e_{}", wrt[0]),
            _ => format!("E^({})", wrt.concat()),
        };
        let tangent = form.tangent;
        let namer = |id: NodeId| if id == tangent { Some(basis.clone()) } else { (self.namer)(id) };
        let text = print(self.graph, map, notation, &namer);
        let index: Vec<String> = letters[..form.output_axes].iter().map(|l| show_name(l, notation)).collect();
        if index.is_empty() {
            return text;
        }
        match notation {
            Notation::Latex => format!("\\left({text}\\right)_{{{}}}", index.join("")),
            _ => format!("({text})[{}]", index.join(",")),
        }
    }
}

/// A coefficient as people write it: 2, 0.5, 1e-08.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// c · scalars · (left ⊗ right), one term of a Kronecker form.
#[derive(Debug, Clone)]
pub(crate) struct KroneckerTerm {
    pub coefficient: f64,
    pub scalars: Vec<NodeId>,
    pub left: NodeId,
    pub right: NodeId,
}

/// The Kronecker (vec) form of a block with three or four axes, a matrix or a column vector
/// with respect to a matrix or a column vector (vec stacks columns; a column vector is its
/// own vec): ∂vec(Y)/∂vec(X) = Σ c (M ⊗ F) where each term is c F[i,k] M[j,l], with i, j
/// the output's indices and k, l the variable's, and a vector's absent column index making
/// M a column (of j) or a row (of l): ∂vec(Ax)/∂vec(A) = xᵀ ⊗ I. F and M may be written
/// with one index each (`x[j] x[l]` is (x xᵀ)[j,l]). None when a term has another pattern
/// (a transposition, which needs the commutation matrix, or a sum left over): the form would
/// be ambiguous or need new notation.
pub(crate) fn kronecker(graph: &mut Graph, form: &IndexForm) -> Option<Vec<KroneckerTerm>> {
    let terms = form.terms.as_ref()?;
    // A side's axes in vec order: a matrix's two, a column vector's one (a row vector, whose
    // index is its column's, is left out rather than read in another convention).
    let side = |id: NodeId| match axes(graph, id) {
        (true, true) => Some(2),
        (true, false) => Some(1),
        _ => None,
    };
    let (a, b) = (side(form.map?)?, side(form.tangent)?);
    if a + b < 3 || terms.is_empty() || form.free.len() != a + b {
        return None;
    }
    let free = &form.free;
    let (i, j, k, l) = (free[0], (a == 2).then(|| free[1]), free[a], (b == 2).then(|| free[a + 1]));
    let pair = j.zip(l);
    let mut out = Vec::new();
    for term in terms {
        if !term.sums.is_empty() {
            return None;
        }
        // F[i,k] whole or as u[i] v[k]; M[j,l] whole or as u[j] v[l].
        let (mut f, mut f_i, mut f_k) = (None, None, None);
        let (mut m, mut m_j, mut m_l) = (None, None, None);
        let mut scalars = Vec::new();
        for factor in &term.factors {
            let (slot, node) = match factor {
                Factor::Entry(id, ix) if ix.is_empty() => {
                    scalars.push(*id);
                    continue;
                }
                Factor::Entry(id, ix) if ix[..] == [i, k] => (&mut f, *id),
                Factor::Entry(id, ix) if ix[..] == [k, i] => (&mut f, build(graph, Op::Transpose(*id))),
                Factor::Entry(id, ix) if ix[..] == [i] => (&mut f_i, *id),
                Factor::Entry(id, ix) if ix[..] == [k] => (&mut f_k, *id),
                Factor::Entry(id, ix) if pair.is_some_and(|(j, l)| ix[..] == [j, l]) => (&mut m, *id),
                Factor::Entry(id, ix) if pair.is_some_and(|(j, l)| ix[..] == [l, j]) => {
                    (&mut m, build(graph, Op::Transpose(*id)))
                }
                Factor::Entry(id, ix) if j.is_some_and(|j| ix[..] == [j]) => (&mut m_j, *id),
                Factor::Entry(id, ix) if l.is_some_and(|l| ix[..] == [l]) => (&mut m_l, *id),
                Factor::Delta(x, y) if [*x, *y] == [i, k] || [*x, *y] == [k, i] => {
                    (&mut f, build(graph, Op::Eye(form.dims[0])))
                }
                Factor::Delta(x, y) if pair.is_some_and(|(j, l)| [*x, *y] == [j, l] || [*x, *y] == [l, j]) => {
                    (&mut m, build(graph, Op::Eye(form.dims[1])))
                }
                _ => return None,
            };
            if slot.replace(node).is_some() {
                return None;
            }
        }
        let outer = |graph: &mut Graph, u: NodeId, v: NodeId| {
            let row = build(graph, Op::Transpose(v));
            build(graph, Op::MatMul(u, row))
        };
        let f = match (f, f_i, f_k) {
            (Some(f), None, None) => f,
            (None, Some(u), Some(v)) => outer(graph, u, v),
            _ => return None,
        };
        let m = match (j.is_some(), l.is_some(), m, m_j, m_l) {
            (true, true, Some(m), None, None) => m,
            (true, true, None, Some(u), Some(v)) => outer(graph, u, v),
            (true, false, None, Some(u), None) => u,
            (false, true, None, None, Some(v)) => build(graph, Op::Transpose(v)),
            _ => return None,
        };
        out.push(KroneckerTerm { coefficient: term.coefficient, scalars, left: m, right: f });
    }
    Some(out)
}
