//! Elementwise expressions as sums of monomials, for the rule that cancels and expands:
//! `p ⊙ (1 − p) ⊙ ((t − 1) ⊘ (1 − p) + t ⊘ p) = t − p`, the logistic loss's gradient.
//!
//! An unnamed tree of `+`, `−`, `⊙`, `⊘`, small integer powers and constants is read as
//! `Σ c · Π aᵢ^eᵢ` with integer exponents over *atoms*: named nodes, inputs, and every other
//! operation (a matrix product, a function, a transpose). A sum that stands in a denominator
//! is read as one atom wherever it appears, so that it cancels against itself as a factor;
//! where it no longer divides anything it is expanded like any other sum. Reading is
//! bounded (nodes visited, terms held), so a large tree is left as it is, and the result is
//! used only when it is written with fewer operations than the tree it came from.
//!
//! Cancelling `a ⊘ a` to 1 extends the expression to the points where `a` is zero, as a person
//! does on paper: the two agree wherever the original is defined.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::ir::{Constant, Graph, NodeId, Op};

use super::build;

/// The most nodes a reading visits, and the most terms it holds: beyond these the rule does
/// not apply (a derivative's cancellation happens in a handful of terms).
const MAX_VISITS: usize = 64;
const MAX_TERMS: usize = 16;
/// The largest exponent a reading holds: nested powers multiply exponents (`((x²)²)²…`), and a
/// reading that needs more is given up rather than overflowing or expanding for long.
const MAX_EXPONENT: i32 = 16;

/// The atoms of one monomial with their non-zero exponents, in id order.
type Powers = Vec<(NodeId, i32)>;

/// `Σ coefficient · Π atom^exponent`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Polynomial {
    terms: BTreeMap<Powers, f64>,
}

impl Polynomial {
    fn constant(c: f64) -> Polynomial {
        let mut p = Polynomial::default();
        p.add_term(Vec::new(), c);
        p
    }

    fn atom(id: NodeId, exponent: i32) -> Polynomial {
        let mut p = Polynomial::default();
        p.add_term(vec![(id, exponent)], 1.0);
        p
    }

    fn add_term(&mut self, powers: Powers, coefficient: f64) {
        let entry = self.terms.entry(powers).or_insert(0.0);
        *entry += coefficient;
        // Like terms that cancel leave nothing behind (`x − x` is no term at all).
        if *entry == 0.0 {
            self.terms.retain(|_, c| *c != 0.0);
        }
    }

    fn plus(mut self, other: Polynomial, sign: f64) -> Option<Polynomial> {
        for (powers, c) in other.terms {
            self.add_term(powers, sign * c);
        }
        (self.terms.len() <= MAX_TERMS).then_some(self)
    }

    fn times(&self, other: &Polynomial) -> Option<Polynomial> {
        if self.terms.len() * other.terms.len() > MAX_TERMS * MAX_TERMS {
            return None;
        }
        let mut product = Polynomial::default();
        for (a, ca) in &self.terms {
            for (b, cb) in &other.terms {
                product.add_term(multiply(a, b)?, ca * cb);
            }
        }
        (product.terms.len() <= MAX_TERMS).then_some(product)
    }

    fn power(&self, k: u32) -> Option<Polynomial> {
        if k > MAX_EXPONENT as u32 {
            return None;
        }
        let mut result = Polynomial::constant(1.0);
        for _ in 0..k {
            result = result.times(self)?;
        }
        Some(result)
    }

    /// The reciprocal of a single term; None for a sum.
    fn reciprocal(&self) -> Option<Polynomial> {
        let [(powers, c)] = self.terms.iter().collect::<Vec<_>>()[..] else { return None };
        let inverted = powers.iter().map(|&(atom, e)| (atom, -e)).collect();
        let mut p = Polynomial::default();
        p.add_term(inverted, 1.0 / c);
        Some(p)
    }

    /// This polynomial with `atom^e` (e > 0) replaced by `expansion^e` in every term.
    fn substitute(&self, atom: NodeId, expansion: &Polynomial) -> Option<Polynomial> {
        let mut result = Polynomial::default();
        for (powers, &c) in &self.terms {
            let e = powers.iter().find(|&&(a, _)| a == atom).map_or(0, |&(_, e)| e);
            let rest: Powers = powers.iter().copied().filter(|&(a, _)| a != atom).collect();
            let mut term = Polynomial::default();
            term.add_term(rest, c);
            let term = if e > 0 { term.times(&expansion.power(e as u32)?)? } else { term };
            result = result.plus(term, 1.0)?;
        }
        Some(result)
    }

    /// The operations it takes to write: per term, one product per factor after the first
    /// (a repeated factor is one power), one for a coefficient other than ±1, one for a
    /// division, and those inside its atoms (`atom_operations`); one addition
    /// between terms and one negation per negative term.
    fn operations(&self, atom_operations: &HashMap<NodeId, usize>) -> usize {
        let mut count = self.terms.len().saturating_sub(1);
        for (powers, &c) in &self.terms {
            count += powers.iter().map(|(atom, _)| atom_operations.get(atom).copied().unwrap_or(0)).sum::<usize>();
            count += powers.len().saturating_sub(1);
            count += powers.iter().filter(|(_, e)| e.abs() > 1).count();
            count += usize::from(c.abs() != 1.0 && !powers.is_empty());
            count += usize::from(powers.iter().any(|&(_, e)| e < 0));
            count += usize::from(c < 0.0);
        }
        count
    }
}

/// The product of two monomials' atoms; None when an exponent grows past [`MAX_EXPONENT`].
fn multiply(a: &Powers, b: &Powers) -> Option<Powers> {
    let mut merged: BTreeMap<NodeId, i32> = a.iter().copied().collect();
    for &(atom, e) in b {
        let exponent = merged.entry(atom).or_insert(0);
        *exponent += e;
        if exponent.abs() > MAX_EXPONENT {
            return None;
        }
    }
    Some(merged.into_iter().filter(|&(_, e)| e != 0).collect())
}

/// Reads a tree as a polynomial, with the sums in `denominators` as atoms.
struct Reader<'g> {
    graph: &'g Graph,
    denominators: HashSet<NodeId>,
    visits: usize,
    /// The node being rewritten, read by its operation even when it is named.
    root: NodeId,
}

impl Reader<'_> {
    fn read(&mut self, id: NodeId) -> Option<Polynomial> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return None;
        }
        if self.graph.name(id).is_some() && id != self.root {
            return Some(Polynomial::atom(id, 1));
        }
        match self.graph.op(id) {
            Op::Const(c) | Op::Fill(c, _) => Some(Polynomial::constant(c.0)),
            Op::Neg(a) => Polynomial::default().plus(self.read(a)?, -1.0),
            Op::Add(a, b) if !self.denominators.contains(&id) => self.read(a)?.plus(self.read(b)?, 1.0),
            Op::Mul(a, b) => self.read(a)?.times(&self.read(b)?),
            Op::Div(a, b) => {
                let numerator = self.read(a)?;
                let denominator = self.read(b)?;
                // A denominator that reads as a sum (it was not recognised as one atom)
                // stays whole: its own node to the power −1.
                let reciprocal = denominator.reciprocal().unwrap_or_else(|| Polynomial::atom(b, -1));
                numerator.times(&reciprocal)
            }
            Op::Pow(a, b) => match small_integer(self.graph, b) {
                Some(k) if k > 0 => self.read(a)?.power(k as u32),
                // The reciprocal of a sum stays a power of the whole node.
                Some(k) if k < 0 => {
                    Some(self.read(a)?.power(k.unsigned_abs())?.reciprocal().unwrap_or_else(|| Polynomial::atom(id, 1)))
                }
                _ => Some(Polynomial::atom(id, 1)),
            },
            _ => Some(Polynomial::atom(id, 1)),
        }
    }
}

fn small_integer(graph: &Graph, id: NodeId) -> Option<i32> {
    match graph.op(id) {
        Op::Const(c) if c.0.fract() == 0.0 && c.0.abs() <= 4.0 => Some(c.0 as i32),
        _ => None,
    }
}

/// What a look over the tree under `id` finds before it is read.
#[derive(Default)]
struct Survey {
    /// Operations as written (a shared subtree counted at each use).
    operations: usize,
    /// The unnamed sums it divides by.
    denominators: HashSet<NodeId>,
    /// Whether there is anything to cancel or expand: a quotient, or a product with a sum.
    promising: bool,
    visits: usize,
    /// The node being rewritten, read by its operation even when it is named.
    root: Option<NodeId>,
}

impl Survey {
    fn visit(&mut self, graph: &Graph, id: NodeId) -> Option<()> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return None;
        }
        if graph.name(id).is_some() && self.root != Some(id) {
            return Some(());
        }
        let is_sum = |x: NodeId| graph.name(x).is_none() && matches!(graph.op(x), Op::Add(..));
        let children = match graph.op(id) {
            Op::Const(_) | Op::Fill(..) => return Some(()),
            Op::Neg(a) => vec![a],
            Op::Add(a, b) => vec![a, b],
            Op::Mul(a, b) => {
                self.promising |= is_sum(a) || is_sum(b);
                vec![a, b]
            }
            Op::Div(a, b) => {
                self.promising = true;
                if is_sum(b) {
                    self.denominators.insert(b);
                }
                vec![a, b]
            }
            Op::Pow(a, b) if small_integer(graph, b).is_some() => vec![a],
            _ => return Some(()),
        };
        self.operations += 1;
        children.into_iter().try_for_each(|child| self.visit(graph, child))
    }
}

/// The expression under `id` with its quotients cancelled and its products of sums
/// expanded, if that is written with fewer operations; see the module's comment.
pub(super) fn cancel_and_expand(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    if !matches!(graph.op(id), Op::Mul(..) | Op::Div(..)) || WRITING.with(Cell::get) {
        return None;
    }
    let mut survey = Survey { root: Some(id), ..Survey::default() };
    survey.visit(graph, id)?;
    if !survey.promising {
        return None;
    }
    let written = survey.operations;
    let mut reader = Reader { graph, denominators: survey.denominators, visits: 0, root: id };
    let mut polynomial = reader.read(id)?;
    // Sums that no longer divide anything are expanded, each read without itself as an atom.
    let mut atoms: Vec<NodeId> = reader.denominators.iter().copied().collect();
    atoms.sort();
    for atom in atoms {
        let divides = polynomial.terms.keys().any(|powers| powers.iter().any(|&(a, e)| a == atom && e < 0));
        if divides {
            continue;
        }
        reader.denominators.remove(&atom);
        reader.visits = 0;
        let expansion = reader.read(atom)?;
        polynomial = polynomial.substitute(atom, &expansion)?;
    }
    // An atom that is itself an unnamed elementwise expression (a sum left in a denominator,
    // a denominator that did not reduce to one term) is written out at each of its uses, as
    // the tree's count has it.
    let mut atom_operations = HashMap::new();
    for powers in polynomial.terms.keys() {
        for &(atom, _) in powers {
            if let std::collections::hash_map::Entry::Vacant(entry) = atom_operations.entry(atom) {
                let mut inner = Survey::default();
                inner.visit(graph, atom)?;
                entry.insert(inner.operations);
            }
        }
    }
    if polynomial.operations(&atom_operations) >= written {
        return None;
    }
    let shape = graph.shape(id);
    // The nodes of the result are simplified by the other rules as they are built, not by
    // this one: the result is already this rule's answer, and its own quotients would read
    // back as themselves.
    WRITING.with(|w| w.set(true));
    let result = write(graph, &polynomial, shape);
    WRITING.with(|w| w.set(false));
    result.filter(|&result| graph.shape(result) == shape)
}

thread_local! {
    /// Whether [`cancel_and_expand`] is building its result.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// Builds the polynomial: terms with a positive coefficient first, each
/// `c · Π numerator ⊘ Π denominator`.
fn write(graph: &mut Graph, polynomial: &Polynomial, shape: crate::ir::Shape) -> Option<NodeId> {
    let mut terms: Vec<(&Powers, f64)> = polynomial.terms.iter().map(|(p, &c)| (p, c)).collect();
    terms.sort_by_key(|&(_, c)| c < 0.0);
    let mut sum: Option<NodeId> = None;
    for (powers, c) in terms {
        let product = |graph: &mut Graph, sign: i32| {
            let mut acc: Option<NodeId> = None;
            for &(atom, e) in powers.iter().filter(|&&(_, e)| e.signum() == sign) {
                let factor = if e.abs() == 1 {
                    atom
                } else {
                    let k = graph.constant(f64::from(e.abs()));
                    build(graph, Op::Pow(atom, k))
                };
                acc = Some(match acc {
                    None => factor,
                    Some(acc) => build(graph, Op::Mul(acc, factor)),
                });
            }
            acc
        };
        let magnitude = c.abs();
        let mut term = match (product(graph, 1), magnitude == 1.0) {
            (Some(p), true) => p,
            (Some(p), false) => {
                let k = graph.constant(magnitude);
                build(graph, Op::Mul(k, p))
            }
            (None, _) => graph.constant(magnitude),
        };
        if let Some(denominator) = product(graph, -1) {
            term = build(graph, Op::Div(term, denominator));
        }
        sum = Some(match (sum, c < 0.0) {
            (None, false) => term,
            (None, true) => build(graph, Op::Neg(term)),
            (Some(s), false) => build(graph, Op::Add(s, term)),
            (Some(s), true) => {
                let negative = build(graph, Op::Neg(term));
                build(graph, Op::Add(s, negative))
            }
        });
    }
    Some(match sum {
        Some(s) if graph.dims.is_scalar(graph.shape(s)) && !graph.dims.is_scalar(shape) => {
            // Only constants and scalars remain: the same value in every entry.
            let value = match graph.op(s) {
                Op::Const(c) => c.0,
                _ => return None,
            };
            graph.add(Op::Fill(Constant(value), shape)).ok()?
        }
        Some(s) => s,
        None if graph.dims.is_scalar(shape) => graph.constant(0.0),
        None => graph.add(Op::Fill(Constant(0.0), shape)).ok()?,
    })
}
