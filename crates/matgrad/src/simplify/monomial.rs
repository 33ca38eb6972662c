//! A scaled term seen as `coefficient · Π numerator / Π denominator · core`: a constant, the
//! scalar factors above and below, and at most one non-scalar factor.
//!
//! Rules read terms through this view so that `(2 n) (w / n)`, `2 (w n) / n` and `2 w` are
//! recognised as one term, and rebuild them in one canonical shape (constant first,
//! scalars in id order, the core last, one division), which the view reads back unchanged:
//! rebuilding is idempotent, so rules that use it terminate.

use crate::ir::{Graph, NodeId, Op};

use super::equal;

/// The most nodes one reading visits. A longer product is read as one atom, so that reading
/// takes bounded time and stack: the adjoint at the start of a chain of 10 000 scalar
/// statements is a product of 10 000 factors, and each new factor would otherwise re-read
/// all of them. Terms that rules rewrite have a handful of factors.
const MAX_VISITS: usize = 128;

/// The most factors of two terms compared as values (after the identical ones pair off).
const MAX_COMPARED: usize = 4;

/// `list` without one occurrence of each of `remove`, in order.
pub(super) fn without(list: &[NodeId], remove: &[NodeId]) -> Vec<NodeId> {
    let mut rest = list.to_vec();
    for x in remove {
        if let Some(i) = rest.iter().position(|y| y == x) {
            rest.remove(i);
        }
    }
    rest
}

/// The largest integer power read as repeated factors (`s⁴` is `s s s s`); a larger one is an
/// atom.
const MAX_EXPONENT: u32 = 16;

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
            Op::Pow(a, b) => Monomial::power(graph, a, b).unwrap_or_else(|| Monomial::atom(graph, id)),
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
            Op::Pow(a, b) => Monomial::power(graph, a, b).unwrap_or_else(|| Monomial::atom(graph, id)),
            _ => Monomial::atom(graph, id),
        })
    }

    /// `a^k` for a scalar `a` and a small integer `k`, as `k` factors `a` above or below: so
    /// that `c f / c⁴` is `f / c³` and `det(A) det(A)⁻²` is `1 / det(A)`.
    fn power(graph: &Graph, a: NodeId, exponent: NodeId) -> Option<Monomial> {
        let Op::Const(k) = graph.op(exponent) else { return None };
        let k = k.0;
        if !graph.is_scalar(a) || k.fract() != 0.0 || k.abs() > MAX_EXPONENT as f64 || k == 0.0 {
            return None;
        }
        let count = k.abs() as usize;
        let factors = vec![a; count];
        let mut m = Monomial::constant(1.0);
        if k > 0.0 {
            m.numerator = factors;
        } else {
            m.denominator = factors;
        }
        Some(m)
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

    /// Whether the two terms differ only in their coefficients: the same scalar factors
    /// and the same core, as values (`Aᵀ Cᵀ` and `(C A)ᵀ`, `tr(A B)` and `tr(B A)`).
    pub fn same_factors(&self, other: &Monomial, graph: &Graph) -> bool {
        // Factors that are one node pair off at once; the few left are compared as values.
        // Long lists of differing factors (a product of thousands) are not like terms.
        let same_lists = |x: &[NodeId], y: &[NodeId]| {
            if x == y {
                return true;
            }
            let rest = without(x, y);
            x.len() == y.len() && rest.len() <= MAX_COMPARED && equal::same_values(graph, &rest, &without(y, x))
        };
        let same_core = match (self.core, other.core) {
            (Some(a), Some(b)) => equal::same_value(graph, a, b),
            (a, b) => a == b,
        };
        same_core && same_lists(&self.numerator, &other.numerator) && same_lists(&self.denominator, &other.denominator)
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
        // A zero core is the whole term (a sum a rule rebuilt may cancel to zeros): scaling it
        // would print `−(2 · 0)`.
        if let Some(core) = self.core {
            match graph.op(core) {
                Op::Fill(c, _) if c.0 == 0.0 => return core,
                // `c 𝟙` alone is the fill of c, the one spelling fill-arithmetic also makes: a
                // rule that read a fill as its scalar times ones (`6 𝟙 − 6 𝟙`, `2 (6 𝟙)`)
                // writes it back as one.
                Op::Fill(c, shape)
                    if c.0 == 1.0
                        && self.numerator.is_empty()
                        && self.denominator.is_empty()
                        && self.coefficient.is_finite() =>
                {
                    return graph
                        .add(Op::Fill(crate::ir::Constant(self.coefficient), shape))
                        .expect("a fill has its own shape");
                }
                _ => {}
            }
        }
        let add =
            |graph: &mut Graph, op: Op| graph.add(op).expect("a monomial rebuilds with the shapes it was read with");
        let magnitude = self.coefficient.abs();
        let mut top: Option<NodeId> =
            (magnitude != 1.0 || self.numerator.is_empty() && self.core.is_none()).then(|| graph.constant(magnitude));
        for factor in powers(graph, &self.numerator).into_iter().chain(self.core) {
            top = Some(match top {
                None => factor,
                Some(t) => add(graph, Op::Mul(t, factor)),
            });
        }
        let mut top = top.expect("a monomial has a constant or a factor");
        let bottom = powers(graph, &self.denominator);
        if let Some((&first, rest)) = bottom.split_first() {
            let bottom = rest.iter().fold(first, |acc, &f| add(graph, Op::Mul(acc, f)));
            top = add(graph, Op::Div(top, bottom));
        }
        if self.coefficient < 0.0 {
            top = add(graph, Op::Neg(top));
        }
        top
    }
}

/// Sorted factors with runs written as powers: `[b, b, c]` is `[b², c]`.
fn powers(graph: &mut Graph, factors: &[NodeId]) -> Vec<NodeId> {
    let mut out = Vec::with_capacity(factors.len());
    let mut i = 0;
    while i < factors.len() {
        let run = factors[i..].iter().take_while(|&&f| f == factors[i]).count();
        out.push(if run == 1 {
            factors[i]
        } else {
            let k = graph.constant(run as f64);
            graph.add(Op::Pow(factors[i], k)).expect("a power of a scalar is a scalar")
        });
        i += run;
    }
    out
}
