//! A scaled term seen as `coefficient · Π numerator / Π denominator · core`: a constant, the
//! scalar factors above and below, and at most one non-scalar factor.
//!
//! Rules read terms through this view so that `(2 n) (w / n)`, `2 (w n) / n` and `2 w` are
//! recognised as one term, and rebuild them in one canonical shape (constant first,
//! scalars in id order, the core last, one division), which the view reads back unchanged:
//! rebuilding is idempotent, so rules that use it terminate.

use crate::ir::{Graph, NodeId, Op};

/// The most nodes one reading visits. A longer product is read as one atom, so that reading
/// takes bounded time and stack: the adjoint at the start of a chain of 10 000 scalar
/// statements is a product of 10 000 factors, and each new factor would otherwise re-read
/// all of them. Terms that rules rewrite have a handful of factors.
const MAX_VISITS: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct Monomial {
    pub coefficient: f64,
    pub numerator: Vec<NodeId>,
    pub denominator: Vec<NodeId>,
    /// The non-scalar factor; None for a scalar term.
    pub core: Option<NodeId>,
}

impl Monomial {
    fn constant(coefficient: f64) -> Monomial {
        Monomial { coefficient, numerator: Vec::new(), denominator: Vec::new(), core: None }
    }

    /// The view of `id`. Named nodes (the user's `y`, `u`, …) are atoms: looking inside them
    /// would rebuild their expression and lose the name. So is a term too long to read
    /// ([`MAX_VISITS`]).
    pub fn of(graph: &Graph, id: NodeId) -> Monomial {
        let mut budget = MAX_VISITS;
        Monomial::read(graph, id, &mut budget).unwrap_or_else(|| Monomial::atom(graph, id))
    }

    /// The view of `id`'s own operation, even when `id` is named (its children are still
    /// read as [`Monomial::of`] reads them): what a rule sees of the node it rewrites.
    pub fn of_node(graph: &Graph, id: NodeId) -> Monomial {
        match graph.op(id) {
            Op::Const(c) => Monomial::constant(c.0),
            Op::Neg(a) => Monomial::of(graph, a).negated(),
            Op::Mul(a, b) if graph.is_scalar(a) || graph.is_scalar(b) => {
                Monomial::of(graph, a).times(Monomial::of(graph, b))
            }
            Op::Div(a, b) if graph.is_scalar(b) => Monomial::quotient(Monomial::of(graph, a), Monomial::of(graph, b))
                .unwrap_or_else(|| Monomial::atom(graph, id)),
            _ => Monomial::atom(graph, id),
        }
    }

    /// [`Monomial::of`] within `budget` nodes; None when the term has more.
    fn read(graph: &Graph, id: NodeId, budget: &mut usize) -> Option<Monomial> {
        *budget = budget.checked_sub(1)?;
        if graph.name(id).is_some() {
            return Some(Monomial::atom(graph, id));
        }
        Some(match graph.op(id) {
            Op::Const(c) => Monomial::constant(c.0),
            Op::Neg(a) => Monomial::read(graph, a, budget)?.negated(),
            Op::Mul(a, b) if graph.is_scalar(a) || graph.is_scalar(b) => {
                let left = Monomial::read(graph, a, budget)?;
                left.times(Monomial::read(graph, b, budget)?)
            }
            Op::Div(a, b) if graph.is_scalar(b) => {
                let divisor = Monomial::read(graph, b, budget)?;
                Monomial::quotient(Monomial::read(graph, a, budget)?, divisor)
                    .unwrap_or_else(|| Monomial::atom(graph, id))
            }
            _ => Monomial::atom(graph, id),
        })
    }

    fn negated(mut self) -> Monomial {
        self.coefficient = -self.coefficient;
        self
    }

    /// `dividend / divisor`; None for a divisor with a zero or infinite coefficient, which
    /// stays a division.
    fn quotient(dividend: Monomial, divisor: Monomial) -> Option<Monomial> {
        if divisor.coefficient == 0.0 || !divisor.coefficient.is_finite() {
            return None;
        }
        Some(dividend.times(divisor.reciprocal()))
    }

    fn atom(graph: &Graph, id: NodeId) -> Monomial {
        let mut m = Monomial::constant(1.0);
        if graph.is_scalar(id) {
            m.numerator.push(id);
        } else {
            m.core = Some(id);
        }
        m
    }

    pub fn times(mut self, other: Monomial) -> Monomial {
        self.coefficient *= other.coefficient;
        self.numerator.extend(other.numerator);
        self.denominator.extend(other.denominator);
        // Shape inference allows at most one non-scalar factor in a scaling.
        self.core = self.core.or(other.core);
        self.cancel();
        self
    }

    pub fn reciprocal(self) -> Monomial {
        Monomial {
            coefficient: 1.0 / self.coefficient,
            numerator: self.denominator,
            denominator: self.numerator,
            core: None,
        }
    }

    /// Removes factors that stand both above and below, and sorts both lists.
    fn cancel(&mut self) {
        self.numerator.sort();
        self.denominator.sort();
        let mut i = 0;
        while i < self.numerator.len() {
            if let Some(j) = self.denominator.iter().position(|&d| d == self.numerator[i]) {
                self.numerator.remove(i);
                self.denominator.remove(j);
            } else {
                i += 1;
            }
        }
    }

    /// Whether two terms differ only in their coefficient.
    pub fn same_factors(&self, other: &Monomial) -> bool {
        self.numerator == other.numerator && self.denominator == other.denominator && self.core == other.core
    }

    /// Whether the term carries a minus sign.
    pub fn is_negative(&self) -> bool {
        self.coefficient < 0.0
    }

    /// True when the term is a plain node, with nothing to pull out.
    pub fn is_bare(&self) -> bool {
        self.coefficient == 1.0 && self.denominator.is_empty() && self.numerator.len() + self.core.iter().len() == 1
    }

    /// The scalar part alone: `coefficient · Π numerator / Π denominator`.
    pub fn scalar_part(&self) -> Monomial {
        Monomial { core: None, ..self.clone() }
    }

    /// The term with `core` as its core and the same scalar part.
    pub fn with_core(&self, core: NodeId) -> Monomial {
        Monomial { core: Some(core), ..self.clone() }
    }

    /// Builds the canonical node: `−(c · s₁ s₂ · core / (d₁ d₂))`, with parts left out when
    /// trivial. Uses `Graph::add` directly: every part is already simplified.
    pub fn build(&self, graph: &mut Graph) -> NodeId {
        let add =
            |graph: &mut Graph, op: Op| graph.add(op).expect("a monomial rebuilds with the shapes it was read with");
        let magnitude = self.coefficient.abs();
        let mut top: Option<NodeId> =
            (magnitude != 1.0 || self.numerator.is_empty() && self.core.is_none()).then(|| graph.constant(magnitude));
        for &factor in self.numerator.iter().chain(self.core.iter()) {
            top = Some(match top {
                None => factor,
                Some(t) => add(graph, Op::Mul(t, factor)),
            });
        }
        let mut top = top.expect("a monomial has a constant or a factor");
        if !self.denominator.is_empty() {
            let mut bottom = self.denominator[0];
            for &factor in &self.denominator[1..] {
                bottom = add(graph, Op::Mul(bottom, factor));
            }
            top = add(graph, Op::Div(top, bottom));
        }
        if self.coefficient < 0.0 {
            top = add(graph, Op::Neg(top));
        }
        top
    }
}
