//! The syntax tree: what the user wrote, in any of the three spellings, with spans.
//!
//! The parser resolves spelling (ASCII, Unicode, LaTeX) and nothing else: `A x`, `A*x`
//! and LaTeX `Ax` are all `Binary(Mul, A, x)` (`A·x` is `Binary(Dot, A, x)`); `‖w‖`, `\|w\|` and `norm2(w)` are all
//! `Call("norm2", [w])`. Whether `*` is a matrix product or a scaling is decided by shapes,
//! later, in `ir::lower`.

use crate::error::Span;

/// A whole program: declarations and assignments in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
    /// Text of a pasted document that was neither a statement nor a declaration (prose,
    /// inline math that is not a declaration); `check` reports it so nothing is lost silently.
    pub ignored: Vec<Span>,
    /// Displayed equations of a pasted document that are not model statements (claimed
    /// derivatives, differentials, continuation rows, identities), in page order; recorded
    /// so that a later check can verify them, never parsed further.
    pub asides: Vec<Aside>,
}

/// A displayed equation of a pasted document that is not a model statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Aside {
    /// The whole equation as written (one row of an alignment, or one of the equations an
    /// arrow or a `, \qquad` separates on a row), in the original text.
    pub span: Span,
    pub kind: AsideKind,
    /// Each side of the equation as written, in order: a chain `a = b = c` has three, a
    /// continuation row `&= b` has an empty first side (a zero-length span at the `=`).
    /// Spans point at the use of a macro, not at its definition.
    pub sides: Vec<Span>,
    /// Each side's text with the page's macros expanded, for a checker to read.
    pub texts: Vec<String>,
}

/// What an aside claims, judged from its left side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsideKind {
    /// A derivative on the left: `\frac{dL}{dA} = …`, `\frac{\partial L}{\partial A} = …`,
    /// `∂L/∂A = …`, `\nabla_A L = …`.
    Derivative,
    /// A differential on the left: `dy = dA\,x + A\,dx`, `\tfrac12\,dL = w:dw`.
    Differential,
    /// A row `&= …` with an empty left side: it continues the equation of the row before.
    Continuation,
    /// Any other equation: `A:B = \operatorname{Tr}(A^TB)`, `f(x) = …`.
    Equation,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `y = A*x`
    Assign { name: Name, value: Expr, span: Span },
    /// `A, B: matrix(K, K)`, `x ∈ ℝ^K`, `$x \in \mathbb{R}^k$`
    Declare { names: Vec<Name>, ty: TypeSpec, span: Span },
}

/// A variable name as the user spelled it, canonicalised: LaTeX `W_{1}` is `W_1`, `\alpha`
/// and `α` are `alpha`, `\mathbf{x}` is `x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSpec {
    Scalar,
    Vector(DimSpec),
    Matrix(DimSpec, DimSpec),
}

/// A dimension as written: a symbol (`K`, `n`) or a number (`3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimSpec {
    pub kind: DimSpecKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimSpecKind {
    Symbol(String),
    Number(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// The number of operations and leaves in the tree, the size of the expression as
    /// written: a name, a number and `𝟙` are one each, an operator or a function one plus
    /// its operands, and the constructors `ones(n)`, `zeros(m, n)`, `eye(n)` are leaves (their
    /// arguments are sizes, not operands). Brackets and bold type add nothing.
    pub fn size(&self) -> usize {
        crate::stack::deep(|| self.size_here())
    }

    fn size_here(&self) -> usize {
        match &self.kind {
            ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Ones(_) => 1,
            ExprKind::Neg(a) | ExprKind::Transpose(a) => 1 + a.size(),
            ExprKind::Bold(a) => a.size(),
            ExprKind::Binary(_, a, b) => 1 + a.size() + b.size(),
            ExprKind::Call { name, .. } if matches!(name.as_str(), "ones" | "zeros" | "eye") => 1,
            ExprKind::Call { args, .. } | ExprKind::Derivative { args, .. } => {
                1 + args.iter().map(Expr::size).sum::<usize>()
            }
            ExprKind::IndexSum { body, .. } => 1 + body.size(),
            ExprKind::Entry { base, .. } => 1 + base.size(),
        }
    }

    /// The operands of a chain of one operator, `a + b + c` or `a b c`, in order (the
    /// expression itself where it is not that operator).
    pub fn chain(&self, op: BinOp) -> Vec<&Expr> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            match &expr.kind {
                ExprKind::Binary(o, a, b) if *o == op => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => out.push(expr),
            }
        }
        out
    }

    /// The operands of this node, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Ones(_) => Vec::new(),
            ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Bold(a) => vec![a],
            ExprKind::IndexSum { body: a, .. } | ExprKind::Entry { base: a, .. } => vec![a],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::Call { args, .. } | ExprKind::Derivative { args, .. } => args.iter().collect(),
        }
    }

    /// The operands of this node, in source order, to change in place.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Ones(_) => Vec::new(),
            ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Bold(a) => vec![a],
            ExprKind::IndexSum { body: a, .. } | ExprKind::Entry { base: a, .. } => vec![a],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::Call { args, .. } | ExprKind::Derivative { args, .. } => args.iter_mut().collect(),
        }
    }
}

/// An index a sum runs over: `i` in `\sum_i`, `\sum_{i=1}^{n}`, `\sum_{i,j}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// One letter.
    pub name: String,
    pub span: Span,
    /// The bounds as written, when they are: `1` and `n` in `\sum_{i=1}^{n}`.
    pub range: Option<Range>,
}

/// `i = from` … `to` as written; lowering decides what sizes they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub from: String,
    pub to: String,
    /// From the `=`'s left side to the end of the upper bound.
    pub span: Span,
}

impl Range {
    /// The number of values the range has, as written, when it is a whole axis: `n` of
    /// `1 … n` and of `0 … n-1`; `None` for any other range (part of an axis): a size is a
    /// whole number or a name, so `1 … n-1` is n − 1 of n values, not all of them.
    pub fn size(&self) -> Option<&str> {
        let size = match self.from.as_str() {
            "1" => Some(self.to.as_str()),
            "0" => self.to.strip_suffix("-1"),
            _ => None,
        }?;
        let number = !size.is_empty() && size.chars().all(|c| c.is_ascii_digit());
        let name = size.starts_with(char::is_alphabetic) && size.chars().all(|c| c.is_alphanumeric() || c == '_');
        (number || name).then_some(size)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A finite literal: `2`, `0.5`, `1e-3`.
    Number(f64),
    /// A variable: an input or an earlier assignment.
    Var(String),
    /// Unary minus.
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `A'`, `Aᵀ`, `A^T`, `A^\top`
    Transpose(Box<Expr>),
    /// `\mathbf{1}`, `\mathbb{1}`, `𝟙`: a vector of ones whose length is found from its use;
    /// `𝟙ₙ`, `𝟙_K`, `\mathbf{1}_{3}`: with its length written, a size's name or a number.
    Ones(Option<String>),
    /// `\mathbf{x}`, `\boldsymbol{W}_1`, `\bm`, `\pmb` around a name: the name in bold type,
    /// which means the name itself (bold may later hint at its kind).
    Bold(Box<Expr>),
    /// `σ'(y)`, `σ′(y)`, `\sigma^\prime(y)`, `\tanh'(x)`, `relu'(x)`: the derivative of a
    /// known elementwise function, applied to the arguments.
    Derivative {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    /// `f(a, b)`; also what norms, `σ(·)`, `\sqrt{·}` and `\frac`-free LaTeX functions become.
    /// `name_span` covers the function's name, for "unknown function" errors.
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    /// `\sum_i w_i^2`, `\sum_{i=1}^{n} \sum_j A_{ij} x_j`, `∑ᵢ`: the sum over the indices of
    /// a summand written for one entry.
    IndexSum {
        indices: Vec<Index>,
        body: Box<Expr>,
    },
    /// One entry, inside a sum over its indices: `w_i`, `A_{ij}`, `A_{ii}`, `(A x)_i`.
    /// `written` is the name the entry would be as a variable (`w_i`, `A_ij`), for a base
    /// that is a name; lowering refuses the entry when the program has such a variable.
    Entry {
        base: Box<Expr>,
        indices: Vec<String>,
        written: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    /// `*` (ASCII, Unicode), juxtaposition, `×`, `\times`: matrix product, or a scaling
    /// when one side is a scalar.
    Mul,
    /// `·`, `⋅`, `\cdot`: the inner product xᵀy when both sides are vectors, otherwise the
    /// product [`BinOp::Mul`].
    Dot,
    /// `.*`, `⊙`, `∘`, `\odot`, `\circ`, and `*` inside LaTeX.
    ElemMul,
    /// `./`, `⊘`, `\oslash`
    ElemDiv,
    /// `A : B`, `⟨A, B⟩`, `\langle A, B \rangle`: the Frobenius product tr(AᵀB) = sum(A ⊙ B),
    /// of two operands of one shape.
    Frobenius,
    /// `/`, `\frac{a}{b}`: division by a scalar (elementwise when both are scalars).
    Div,
    /// `^`, superscripts (`²`, `⁻¹`), LaTeX `^{…}`: scalar power, or matrix power for a
    /// square matrix and an integer exponent (`-1` is the inverse).
    Pow,
    /// `.^`
    ElemPow,
}

impl BinOp {
    /// The operator as tests and messages show it: ASCII, except `·` (which has no ASCII
    /// spelling; `check` prints the product or `x'*y` instead).
    #[cfg(test)]
    pub fn ascii(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Dot => "·",
            BinOp::Frobenius => ":",
            BinOp::ElemMul => ".*",
            BinOp::ElemDiv => "./",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::ElemPow => ".^",
        }
    }
}
