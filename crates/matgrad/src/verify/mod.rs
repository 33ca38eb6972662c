//! `verify`: a pasted derivation checked claim by claim against the model.
//!
//! A page's model is its statements (see [`Program`]); everything else it displays is a
//! **claim**, and each gets a verdict:
//!
//! - a **gradient**, `\frac{\partial L}{\partial A} = …`, `∂L/∂A = …`, `\nabla_A L = …`: the
//!   right side against matgrad's gradient (an intermediate held as a leaf). A claim that
//!   holds only transposed fails, and says so: the layout is part of the answer.
//! - a **differential**, `dy = dA\,x + A\,dx`, `\tfrac12\,dL = w : dw`: both sides evaluated
//!   with random directions dA, dx for the inputs and the true differentials dy, du, … of the
//!   model's values (forward mode, as graph nodes).
//! - a **chain rule** in Leibniz notation, `\frac{dL}{dA} = \frac{dL}{dw}\frac{\partial w}
//!   {\partial A} + …`: the sum must run over exactly the values that use A, and each term
//!   is the pull-back of that value's adjoint through its edge, so the sum is `explain`'s
//!   backpropagation step for A, checked the same way.
//! - an **equation**: any other equality (`A:B = B:A`), both sides evaluated; names the model
//!   does not have (`C`) are random arrays of the shape their use gives them.
//! - a **statement** restated (`y = Ax` again): the same meaning as the model's.
//! - a **definition** the page makes for its derivation (`U = Diag(u)`): evaluated, and usable
//!   by every later claim.
//!
//! A chain `a = b = c` (also over `&= …` rows) is the claims a = b and b = c, each checked on
//! its own, so a wrong step is caught where it is made. Every comparison is one
//! [`check::equations`] call at one random point: the mechanism `explain`'s checks use.

mod render;

pub use render::{render, summary};

use std::collections::{HashMap, HashSet};

use crate::check::{self, noise_floor, random_array};
use crate::diff::differential;
use crate::error::{ErrorKind, Span};
use crate::eval::{evaluate, Sizes};
use crate::explain::STEP_TOLERANCE;
use crate::gradient::Gradient;
use crate::ir::lower::lower_claim;
use crate::ir::{Constant, NodeId, Op};
use crate::print::{unicode_name, Notation};
use crate::program::{line_column, Meaning, Program, Variable};
use crate::syntax::{self, AsideKind, BinOp, Expr, ExprKind};
use crate::Array;
use crate::Error;
use serde::Serialize;

/// What a claim asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    Gradient,
    Differential,
    Equation,
    Statement,
    ChainRule,
    Definition,
}

impl ClaimKind {
    /// The name in JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Gradient => "gradient",
            ClaimKind::Differential => "differential",
            ClaimKind::Equation => "equation",
            ClaimKind::Statement => "statement",
            ClaimKind::ChainRule => "chain_rule",
            ClaimKind::Definition => "definition",
        }
    }
}

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Holds,
    Fails,
    /// matgrad could not check it; the note says why.
    Unchecked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Unchecked => "unchecked",
        }
    }
}

/// One claim of the page and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Where the claim's right side starts, 1-based.
    pub line: usize,
    pub column: usize,
    /// The claim as written on the page (left side to right side, macros unexpanded).
    pub source: String,
    pub kind: ClaimKind,
    pub verdict: Verdict,
    /// The relative error of one side against the other, where both were evaluated.
    pub relative_error: Option<f64>,
    /// Why it fails or could not be checked, what is true instead, or what it defines.
    pub note: String,
    /// Where it starts on the page, for ordering.
    #[serde(skip)]
    start: usize,
}

/// Every claim of a page, in page order.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The model's output.
    pub output: String,
    pub claims: Vec<Claim>,
}

impl Claim {
    /// The claim as written, on one line and cut to `limit` characters, for a message.
    pub fn excerpt(&self, limit: usize) -> String {
        crate::print::one_line(&self.source, limit)
    }
}

impl Verification {
    /// The first claim that fails, if any.
    pub fn first_failure(&self) -> Option<&Claim> {
        self.claims.iter().find(|c| c.verdict == Verdict::Fails)
    }
}

/// One side of a claim, read: an expression with differentials `ⅆA` and derivatives
/// `∂L/∂A` as names (its spans point into `text`), or why it cannot be read.
#[derive(Debug, Clone)]
struct Side {
    expr: Result<Expr, String>,
    /// The side with the page's macros expanded.
    text: String,
}

/// The name that stands for the differential of `name` in a claim.
fn differential_name(name: &str) -> String {
    format!("{}{name}", crate::print::DIFFERENTIAL)
}

/// The name that stands for the derivative ∂`of`/∂`by` in a claim.
fn derivative_name(of: &str, by: &str) -> String {
    format!("∂{of}/∂{by}")
}

/// The name that stands for the operator ∂/∂`by` in a claim (`\frac{\partial}{\partial x} f`).
fn operator_name(by: &str) -> String {
    format!("∂/∂{by}")
}

fn split_derivative(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix('∂')?.split_once("/∂")
}

/// Reads a side of a claim: LaTeX with the page's macros expanded. `\partial` and `∂` are
/// the differential `d`; `\nabla_A L` is ∂L/∂A.
fn read_side(text: &str, names: &HashSet<String>) -> Side {
    let text = rewrite_nabla(&slashed_derivatives(&text.replace(r"\partial", "∂")).replace('∂', " d "));
    let expr = if text.trim().is_empty() {
        Err("an empty side".to_string())
    } else {
        syntax::parse_latex_expression(&text).map(|e| differentials(without_bold(e), names)).map_err(|d| d.message)
    };
    Side { expr, text }
}

/// `∂f/∂x` → `\frac{∂f}{∂x}`: written with a slash, the quotient of differentials would read
/// as the ambiguous `a / b c`.
fn slashed_derivatives(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('∂') {
        out.push_str(&rest[..at]);
        let after = &rest[at + '∂'.len_utf8()..];
        let name = |t: &str| -> usize {
            let t_trim = t.len() - t.trim_start().len();
            let body = &t[t_trim..];
            let mut end = body.chars().next().map_or(0, char::len_utf8);
            if let Some(command) = body.strip_prefix('\\') {
                end = 1 + command.bytes().take_while(u8::is_ascii_alphabetic).count();
            }
            if body[end..].starts_with('_') {
                end += 1;
                end += if body[end..].starts_with('{') {
                    body[end..].find('}').map_or(0, |i| i + 1)
                } else {
                    body[end..].chars().next().map_or(0, char::len_utf8)
                };
            }
            t_trim + end
        };
        let of = name(after);
        let slash = &after[of..];
        if let Some(by_text) =
            slash.trim_start().strip_prefix('/').map(str::trim_start).and_then(|t| t.strip_prefix('∂'))
        {
            let by = name(by_text);
            out.push_str(&format!("\\frac{{∂{}}}{{∂{}}}", after[..of].trim(), by_text[..by].trim()));
            rest = &by_text[by..];
        } else {
            out.push('∂');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `\nabla_A L`, `\nabla_{A} L` → `\frac{dL}{dA}`.
fn rewrite_nabla(text: &str) -> String {
    let Some(at) = text.find(r"\nabla_") else { return text.to_string() };
    let rest = &text[at + r"\nabla_".len()..];
    let (by, rest) = match rest.strip_prefix('{') {
        Some(inner) => {
            // The matching brace: `\nabla_{\mathbf{w}}` has one group inside.
            let mut depth = 1usize;
            let Some(close) = inner.char_indices().find_map(|(i, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            }) else {
                return text.to_string();
            };
            (inner[..close].trim(), &inner[close + 1..])
        }
        None => rest.split_at(rest.chars().next().map_or(0, char::len_utf8)),
    };
    let rest = rest.trim_start();
    let of_length = rest.chars().next().map_or(0, char::len_utf8);
    let (of, tail) = rest.split_at(of_length);
    format!("{}\\frac{{d{of}}}{{d{by}}}{}", &text[..at], rewrite_nabla(tail))
}

/// Rewrites `d` before a name into that name's differential (`dA` → `ⅆA`, also
/// `\operatorname{d}A`), and a quotient of differentials into a derivative (`dL/dA`).
/// `names` are the program's and the page's names: `d` itself is one only if the program
/// has a variable `d`.
fn differentials(expr: Expr, names: &HashSet<String>) -> Expr {
    let span = expr.span;
    let rebuild = |kind| Expr { kind, span };
    let is_d = |e: &Expr| matches!(&e.kind, ExprKind::Var(n) if n == "d") && !names.contains("d");
    match expr.kind {
        ExprKind::Call { name, args, .. } if name == "d" && args.len() == 1 => {
            let arg = differentials(args.into_iter().next().expect("one argument"), names);
            match arg.kind {
                ExprKind::Var(x) => rebuild(ExprKind::Var(differential_name(&x))),
                other => Expr { kind: other, span: arg.span },
            }
        }
        ExprKind::Binary(BinOp::Mul, _, _) => {
            // A product by juxtaposition, left-associated: `d A x` is ((d A) x).
            let factors: Vec<Expr> = expr.chain(BinOp::Mul).into_iter().cloned().collect();
            let mut out: Vec<Expr> = Vec::new();
            let mut iter = factors.into_iter().peekable();
            while let Some(factor) = iter.next() {
                if is_d(&factor) {
                    // `d x`, `d x^T` (the transpose binds to x before the product), and in a
                    // sum over i, `d x_i` (an entry of dx).
                    let next = iter.peek().map(|e| match &e.kind {
                        ExprKind::Var(x) => Some((x.clone(), false, None, e.span)),
                        ExprKind::Transpose(inner) => match &inner.kind {
                            ExprKind::Var(x) => Some((x.clone(), true, None, e.span)),
                            _ => None,
                        },
                        ExprKind::Entry { base, indices, .. } => match &base.kind {
                            ExprKind::Var(x) => Some((x.clone(), false, Some(indices.clone()), e.span)),
                            _ => None,
                        },
                        _ => None,
                    });
                    if let Some(Some((x, transposed, entry, s))) = next {
                        iter.next();
                        let span = factor.span.to(s);
                        let mut d = Expr { kind: ExprKind::Var(differential_name(&x)), span };
                        if let Some(indices) = entry {
                            d = Expr { kind: ExprKind::Entry { base: Box::new(d), indices, written: None }, span };
                        }
                        out.push(if transposed { Expr { kind: ExprKind::Transpose(Box::new(d)), span } } else { d });
                        continue;
                    }
                }
                out.push(differentials(factor, names));
            }
            let mut iter = out.into_iter();
            let first = iter.next().expect("a product has factors");
            iter.fold(first, |left, right| {
                let span = left.span.to(right.span);
                Expr { kind: ExprKind::Binary(BinOp::Mul, Box::new(left), Box::new(right)), span }
            })
        }
        ExprKind::Binary(BinOp::Div, left, right) => {
            let (left, right) = (differentials(*left, names), differentials(*right, names));
            let differential_of = |e: &Expr| match &e.kind {
                ExprKind::Var(n) => n.strip_prefix(crate::print::DIFFERENTIAL).map(str::to_string),
                _ => None,
            };
            match (differential_of(&left), differential_of(&right)) {
                (Some(of), Some(by)) => rebuild(ExprKind::Var(derivative_name(&of, &by))),
                // `\frac{\partial}{\partial x}`: the operator, applied to what follows it.
                (None, Some(by)) if is_d(&left) => rebuild(ExprKind::Var(operator_name(&by))),
                _ => rebuild(ExprKind::Binary(BinOp::Div, Box::new(left), Box::new(right))),
            }
        }
        ExprKind::Binary(op, left, right) => {
            rebuild(ExprKind::Binary(op, Box::new(differentials(*left, names)), Box::new(differentials(*right, names))))
        }
        ExprKind::Neg(inner) => rebuild(ExprKind::Neg(Box::new(differentials(*inner, names)))),
        ExprKind::Transpose(inner) => rebuild(ExprKind::Transpose(Box::new(differentials(*inner, names)))),
        ExprKind::Bold(inner) => differentials(*inner, names),
        ExprKind::Call { name, name_span, args } => rebuild(ExprKind::Call {
            name,
            name_span,
            args: args.into_iter().map(|a| differentials(a, names)).collect(),
        }),
        ExprKind::Derivative { name, name_span, args } => rebuild(ExprKind::Derivative {
            name,
            name_span,
            args: args.into_iter().map(|a| differentials(a, names)).collect(),
        }),
        ExprKind::IndexSum { indices, body } => {
            rebuild(ExprKind::IndexSum { indices, body: Box::new(differentials(*body, names)) })
        }
        kind @ (ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Ones(_) | ExprKind::Entry { .. }) => rebuild(kind),
    }
}

/// The expression with its typefaces removed: `d\mathbf{w}` is the differential of `w`.
fn without_bold(mut expr: Expr) -> Expr {
    strip_bold(&mut expr);
    expr
}

fn strip_bold(expr: &mut Expr) {
    while let ExprKind::Bold(inner) = &mut expr.kind {
        let inner = std::mem::replace(inner.as_mut(), Expr { kind: ExprKind::Number(0.0), span: expr.span });
        *expr = inner;
    }
    expr.children_mut().into_iter().for_each(strip_bold);
}

/// The names an expression reads.
fn names_in(expr: &Expr, out: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::Var(name) => out.push(name.clone()),
        _ => expr.children().into_iter().for_each(|a| names_in(a, out)),
    }
}

/// A claim to check: two sides of an equation, or a statement of the page.
enum Pending {
    /// `left = right` as read, with the page spans of both sides, and the inputs its chain of
    /// equalities varies.
    Pair { kind: ClaimKind, left: Box<Side>, right: Box<Side>, spans: (Span, Span), varying: Vec<String> },
    /// A model statement restated, with its meaning.
    Restated { span: Span, name: String, meaning: Meaning },
    /// A statement the output does not use.
    Definition { span: Span, name: String, node: NodeId },
    /// An adjoint whose equation does not type-check.
    Broken { span: Span, message: String, uses_broken: Option<String> },
    /// An adjoint written as a definition, `\bar{h} = W_2^T \bar{o}`: a claim that its value
    /// is ∂L/∂h.
    Adjoint { span: Span, base: String, node: NodeId },
}

/// The kind of a claim from its two sides: a derivative on the left makes a gradient (or a
/// chain rule, with derivatives on the right), a differential on either side a differential.
fn classify(left: &Side, right: &Side, chain_kind: Option<ClaimKind>) -> ClaimKind {
    let mut names = Vec::new();
    for side in [left, right] {
        if let Ok(e) = &side.expr {
            names_in(e, &mut names);
        }
    }
    let has_derivative = |side: &Side| {
        let mut found = Vec::new();
        if let Ok(e) = &side.expr {
            names_in(e, &mut found);
        }
        found.iter().any(|n| split_derivative(n).is_some())
    };
    if has_derivative(left) && has_derivative(right) {
        return ClaimKind::ChainRule;
    }
    if has_derivative(left) || has_derivative(right) {
        return ClaimKind::Gradient;
    }
    if names.iter().any(|n| n.starts_with(crate::print::DIFFERENTIAL)) {
        return ClaimKind::Differential;
    }
    chain_kind.unwrap_or(ClaimKind::Equation)
}

impl Program {
    /// Checks every claim of a pasted page (see the module documentation) at the point
    /// (`sizes`, `inputs`: a value for every input of the program).
    pub(crate) fn verify_claims(&self, sizes: &Sizes, inputs: &HashMap<String, Array>) -> Result<Verification, Error> {
        let mut names: HashSet<String> = self.inputs.iter().map(|v| v.name.clone()).collect();
        names.extend(self.statements.iter().map(|s| s.name.clone()));
        let pending = self.pending_claims(&names);
        let output = self.output_statement().name.clone();

        // Gradients with respect to every input and every value a gradient claim names.
        let mut wrt: Vec<String> = self.inputs.iter().map(|v| v.name.clone()).collect();
        let mut claimed = Vec::new();
        for p in &pending {
            if let Pending::Adjoint { base, .. } = p {
                claimed.push(derivative_name(&output, base));
            }
            if let Pending::Pair { left, right, .. } = p {
                for side in [left, right] {
                    if let Ok(e) = &side.expr {
                        names_in(e, &mut claimed);
                    }
                }
            }
        }
        for name in &claimed {
            if let Some((of, by)) = split_derivative(name) {
                if of == output && names.contains(by) && !wrt.iter().any(|w| w == by) {
                    wrt.push(by.to_string());
                }
            }
        }
        let wrt_refs: Vec<&str> = wrt.iter().map(String::as_str).collect();
        // The claims are checked in the gradient's program: an intermediate's derivative holds
        // its name apart (`Program::with_variables`), so that program has nodes of its own,
        // and the claims are read again into it.
        let held = self.with_variables(&wrt_refs).and_then(|(program, variables)| {
            let gradient = program.clone().into_gradient(variables)?;
            Ok((program, gradient))
        });
        let (program, gradient) = match held {
            Ok(held) => held,
            Err(error) => {
                return Ok(Verification {
                    output,
                    claims: pending
                        .iter()
                        .map(|p| self.unchecked(p, &format!("no gradient: {}", error.message)))
                        .collect(),
                })
            }
        };
        let pending = program.pending_claims(&names);
        let mut context = Context::new(&program, gradient, sizes, inputs)?;
        let mut page_varying: Vec<String> = Vec::new();
        for name in &claimed {
            let input = name
                .strip_prefix(crate::print::DIFFERENTIAL)
                .or_else(|| split_derivative(name).filter(|(of, _)| *of == output).map(|(_, by)| by));
            if let Some(input) = input {
                if program.inputs.iter().any(|v| v.name == input) && !page_varying.iter().any(|v| v == input) {
                    page_varying.push(input.to_string());
                }
            }
        }
        context.page_varying = page_varying;
        let mut claims: Vec<Claim> = pending.iter().map(|p| context.check(&program, p)).collect();
        claims.sort_by_key(|c| c.start);
        Ok(Verification { output, claims })
    }

    /// The claims of the page, read but not yet checked.
    fn pending_claims(&self, names: &HashSet<String>) -> Vec<Pending> {
        let mut pending = Vec::new();
        // The last side of the previous equation, for continuation rows `&= …`.
        let mut previous: Option<(Side, Span, ClaimKind)> = None;
        let mut previous_varying: Vec<String> = Vec::new();
        for aside in &self.asides {
            let mut chain: Vec<(Side, Span)> =
                aside.texts.iter().map(|t| read_side(t, names)).zip(aside.sides.iter().copied()).collect();
            // A chain keeps the kind it started with: `\tfrac12 dL = w : dw` makes every later
            // step `&= …` a differential claim, even one that reads as a plain equation.
            let mut chain_kind = None;
            if aside.kind == AsideKind::Continuation {
                match previous.take() {
                    Some((side, span, kind)) => {
                        chain[0] = (side, span);
                        chain_kind = Some(kind);
                    }
                    None => chain[0].0.expr = Err("a step with no equation before it".to_string()),
                }
            }
            // The inputs a chain varies are those whose differentials it writes: `dL = e : de
            // + λ w : dw` holds X, y and λ fixed, as the page does; with none written
            // (`dL = 2w : dw`), every input varies.
            let start = pending.len();
            let mut varying: Vec<String> = Vec::new();
            for pair in chain.windows(2) {
                let (left, right) = (&pair[0], &pair[1]);
                let kind = classify(&left.0, &right.0, chain_kind);
                chain_kind.get_or_insert(kind);
                for side in [&left.0, &right.0] {
                    let mut read = Vec::new();
                    if let Ok(e) = &side.expr {
                        names_in(e, &mut read);
                    }
                    for name in read {
                        if let Some(x) = name.strip_prefix(crate::print::DIFFERENTIAL) {
                            if self.inputs.iter().any(|v| v.name == x) && !varying.iter().any(|v| v == x) {
                                varying.push(x.to_string());
                            }
                        }
                    }
                }
                pending.push(Pending::Pair {
                    kind,
                    left: Box::new(left.0.clone()),
                    right: Box::new(right.0.clone()),
                    spans: (left.1, right.1),
                    varying: Vec::new(),
                });
            }
            if aside.kind == AsideKind::Continuation {
                // A continuation row belongs to the chain before it.
                varying.extend(previous_varying.iter().filter(|v| !varying.contains(v)).cloned().collect::<Vec<_>>());
            }
            for claim in &mut pending[start..] {
                if let Pending::Pair { varying: v, .. } = claim {
                    v.clone_from(&varying);
                }
            }
            previous_varying = varying;
            if let (Some(last), Some(kind)) = (chain.pop(), chain_kind) {
                previous = Some((last.0, last.1, kind));
            }
        }
        for broken in &self.broken {
            pending.push(Pending::Broken {
                span: broken.span,
                message: broken.message.clone(),
                uses_broken: broken.uses_broken.clone(),
            });
        }
        for restated in &self.restated {
            pending.push(Pending::Restated {
                span: restated.span,
                name: restated.name.clone(),
                meaning: restated.meaning.clone(),
            });
        }
        if self.document {
            for (statement, used) in self.statements.iter().zip(self.in_model()) {
                if used {
                    continue;
                }
                let (span, node) = (statement.span, statement.node);
                match crate::program::adjoint_base(&statement.name).filter(|base| names.contains(base)) {
                    Some(base) => pending.push(Pending::Adjoint { span, base, node }),
                    None => pending.push(Pending::Definition { span, name: statement.name.clone(), node }),
                }
            }
        }
        pending
    }

    fn unchecked(&self, pending: &Pending, note: &str) -> Claim {
        let (kind, span, right) = match pending {
            Pending::Pair { kind, spans, .. } => (*kind, spans.0.to(spans.1), spans.1),
            Pending::Restated { span, .. } => (ClaimKind::Statement, *span, *span),
            Pending::Definition { span, .. } => (ClaimKind::Definition, *span, *span),
            Pending::Adjoint { span, .. } | Pending::Broken { span, .. } => (ClaimKind::Gradient, *span, *span),
        };
        claim(&self.source, kind, span, right, Verdict::Unchecked, None, note.to_string())
    }
}

fn claim(
    source: &str,
    kind: ClaimKind,
    span: Span,
    right: Span,
    verdict: Verdict,
    relative_error: Option<f64>,
    note: String,
) -> Claim {
    let (line, column) = line_column(source, right.start);
    let text = source.get(span.range()).unwrap_or("").trim().to_string();
    Claim { line, column, source: text, kind, verdict, relative_error, note, start: span.start }
}

/// What checking needs: the gradients, the differentials of the model's values, a point.
struct Context<'a> {
    gradient: Gradient,
    sizes: &'a Sizes,
    point: HashMap<String, Array>,
    /// Differentials and derivatives by the names claims use (`ⅆA`, `∂L/∂A`).
    symbols: HashMap<String, NodeId>,
    /// Each input's name, node and differential (a random direction).
    tangents: Vec<(String, NodeId, NodeId)>,
    /// The inputs the page as a whole varies.
    page_varying: Vec<String>,
    /// The statements' names and values.
    statements: Vec<(String, NodeId)>,
    /// The values' differentials, by the set of inputs that vary and the name.
    differentials: HashMap<(Vec<String>, String), NodeId>,
    /// The point's inputs, without the claims' symbols.
    inputs: HashMap<String, Array>,
    /// Inputs that claims introduce (`C` in `C:(AB)`), with their random values.
    claim_inputs: Vec<Variable>,
    floor: f64,
    /// The backpropagation of every named value, for chain rules, once asked for.
    explanation: Option<Option<(crate::explain::Explanation, crate::explain::Checked)>>,
}

impl<'a> Context<'a> {
    fn new(
        program: &Program,
        mut gradient: Gradient,
        sizes: &'a Sizes,
        inputs: &HashMap<String, Array>,
    ) -> Result<Context<'a>, Error> {
        let output = program.output_node();
        let value = evaluate(&program.graph, sizes, inputs, &[output])?.remove(0);
        let floor = noise_floor(value.data.first().copied().unwrap_or(0.0));
        let mut point = inputs.clone();
        let mut symbols = HashMap::new();
        // Directions for the inputs' differentials; the values' differentials follow.
        let graph = &mut gradient.program.graph;
        let mut tangents = Vec::new();
        for (i, input) in program.inputs.iter().enumerate() {
            let name = differential_name(&input.name);
            let shape = graph.shape(input.node);
            let tangent = graph.add_input(&name, shape);
            if let Some((rows, cols)) = sizes.shape(graph, shape) {
                point.insert(name.clone(), random_array(rows, cols, 1 + i as u64));
            }
            tangents.push((input.name.clone(), input.node, tangent));
            symbols.insert(name, tangent);
        }
        let output_name = &program.output_statement().name;
        for wrt in &gradient.wrt {
            symbols.insert(derivative_name(output_name, &wrt.name), wrt.gradient);
        }
        let statements = program.statements.iter().map(|s| (s.name.clone(), s.node)).collect();
        Ok(Context {
            gradient,
            sizes,
            point,
            symbols,
            tangents,
            page_varying: Vec::new(),
            statements,
            differentials: HashMap::new(),
            inputs: inputs.clone(),
            claim_inputs: Vec::new(),
            floor,
            explanation: None,
        })
    }

    /// The differentials of the model's values that `names` writes (`ⅆy` → dA x + A dx),
    /// when the inputs in `varying` vary and the others are held constant; each made once.
    fn differentials_for(&mut self, varying: &[String], names: &[String]) -> HashMap<String, NodeId> {
        let tangents: Vec<(NodeId, NodeId)> = self
            .tangents
            .iter()
            .filter(|(name, _, _)| varying.contains(name))
            .map(|&(_, input, tangent)| (input, tangent))
            .collect();
        let mut found = HashMap::new();
        for name in names {
            let Some(of) = name.strip_prefix(crate::print::DIFFERENTIAL) else { continue };
            let Some(&(_, node)) = self.statements.iter().find(|(s, _)| s == of) else { continue };
            let key = (varying.to_vec(), name.clone());
            let d = match self.differentials.get(&key) {
                Some(&d) => d,
                None => {
                    let graph = &mut self.gradient.program.graph;
                    let d = match differential(graph, node, &tangents) {
                        Some(d) => d,
                        None => {
                            let shape = graph.shape(node);
                            graph.add(Op::Fill(Constant(0.0), shape)).expect("a zero of a known shape")
                        }
                    };
                    self.differentials.insert(key, d);
                    d
                }
            };
            found.insert(name.clone(), d);
        }
        found
    }

    /// The backpropagation of every named value, made the first time a chain rule needs it.
    fn explanation(&mut self, program: &Program) -> Option<&(crate::explain::Explanation, crate::explain::Checked)> {
        if self.explanation.is_none() {
            let made = program.explain(&[]).ok().and_then(|e| {
                let checked = crate::explain::check(&e, self.sizes, &self.inputs).ok()?;
                Some((e, checked))
            });
            self.explanation = Some(made);
        }
        self.explanation.as_ref().and_then(Option::as_ref)
    }

    fn check(&mut self, program: &Program, pending: &Pending) -> Claim {
        let source = &program.source;
        match pending {
            Pending::Definition { span, name, node } => {
                let value = evaluate(&self.gradient.program.graph, self.sizes, &self.point, &[*node]);
                let (verdict, note) = match value {
                    Ok(v) if v[0].data.iter().all(|x| x.is_finite()) => {
                        (Verdict::Holds, format!("defines {} for the claims after it", unicode_name(name)))
                    }
                    Ok(_) => (Verdict::Unchecked, format!("{} is not finite at this point", unicode_name(name))),
                    Err(e) => (Verdict::Unchecked, e.message),
                };
                claim(source, ClaimKind::Definition, *span, *span, verdict, None, note)
            }
            Pending::Broken { span, message, uses_broken } => {
                let (verdict, note) = match uses_broken {
                    // Wrong or not, it cannot be told while what it uses is wrong.
                    Some(name) => (Verdict::Unchecked, format!("it uses {}, whose equation fails", unicode_name(name))),
                    None => (Verdict::Fails, format!("the shapes do not fit: {message}")),
                };
                claim(source, ClaimKind::Gradient, *span, *span, verdict, None, note)
            }
            Pending::Adjoint { span, base, node } => {
                let output = &program.output_statement().name;
                let Some(&gradient) = self.symbols.get(&derivative_name(output, base)) else {
                    let note = format!("no gradient with respect to {}", unicode_name(base));
                    return claim(source, ClaimKind::Gradient, *span, *span, Verdict::Unchecked, None, note);
                };
                let left = Expr { kind: ExprKind::Var(derivative_name(output, base)), span: Span::default() };
                let (verdict, error, note) = match self.compare(*node, gradient) {
                    Ok(e) if e <= STEP_TOLERANCE => (Verdict::Holds, Some(e), String::new()),
                    Ok(e) if self.holds_transposed(gradient, *node) => {
                        (Verdict::Fails, Some(e), self.transposed_note(&left))
                    }
                    Ok(e) => (Verdict::Fails, Some(e), self.true_gradient(&left).unwrap_or_default()),
                    Err(message) => (Verdict::Unchecked, None, message),
                };
                claim(source, ClaimKind::Gradient, *span, *span, verdict, error, note)
            }
            Pending::Restated { span, name, meaning } => {
                let first = program.lookup(name).unwrap_or(NodeId(0));
                let (verdict, error, note) = match meaning {
                    Meaning::Same => (Verdict::Holds, Some(0.0), format!("the model's {}", unicode_name(name))),
                    Meaning::Different(node) => match self.compare(*node, first) {
                        Ok(e) if e <= STEP_TOLERANCE => {
                            (Verdict::Holds, Some(e), format!("the same value as the model's {}", unicode_name(name)))
                        }
                        Ok(e) => {
                            (Verdict::Fails, Some(e), format!("the model's {} is another value", unicode_name(name)))
                        }
                        Err(message) => (Verdict::Unchecked, None, message),
                    },
                    Meaning::Unreadable(message) => (Verdict::Fails, None, message.clone()),
                    Meaning::OfAnInput => (
                        Verdict::Unchecked,
                        None,
                        format!(
                            "it gives the input {} a value (an optimum?), which a random point cannot check",
                            unicode_name(name)
                        ),
                    ),
                };
                claim(source, ClaimKind::Statement, *span, *span, verdict, error, note)
            }
            Pending::Pair { kind, left, right, spans, varying } => {
                let whole = spans.0.to(spans.1);
                // A chain that writes no input's differential (`dL = -t^T (dp ⊘ p)`) varies
                // what the page varies: the inputs it differentiates by or writes d of.
                let mut varying = varying.clone();
                if varying.is_empty() {
                    varying.clone_from(&self.page_varying);
                }
                if varying.is_empty() {
                    varying = self.tangents.iter().map(|(name, _, _)| name.clone()).collect();
                }
                varying.sort();
                let mut written = Vec::new();
                for side in [left, right] {
                    if let Ok(e) = &side.expr {
                        names_in(e, &mut written);
                    }
                }
                let differentials = self.differentials_for(&varying, &written);
                for (name, node) in differentials {
                    self.symbols.insert(name, node);
                }
                let (verdict, error, note) = match (&left.expr, &right.expr) {
                    (Err(e), _) | (_, Err(e)) => (Verdict::Unchecked, None, format!("cannot read it: {e}")),
                    (Ok(l), Ok(r)) if *kind == ClaimKind::ChainRule => self.chain_rule(program, l, r),
                    (Ok(_), Ok(_)) => self.pair(*kind, left, right),
                };
                claim(source, *kind, whole, spans.1, verdict, error, note)
            }
        }
    }

    /// A side, lowered; `∂/∂x F` (the operator form) is the gradient of the claim's own F.
    fn lower_side(&mut self, side: &Expr, text: &str) -> Result<Result<NodeId, String>, String> {
        let Some((by, operand)) = operator_parts(side) else { return self.lower(side, text) };
        let f = match self.lower(&operand, text)? {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let by_expr = Expr { kind: ExprKind::Var(by.clone()), span: side.span };
        let x = match self.lower(&by_expr, text)? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let graph = &mut self.gradient.program.graph;
        match crate::diff::grad(graph, f, &[x]) {
            Ok(gradients) => Ok(Ok(gradients.gradients[0].1)),
            Err(_) => Err(format!("∂/∂{by} of something that is not a scalar")),
        }
    }

    fn compare(&self, a: NodeId, b: NodeId) -> Result<f64, String> {
        check::equations(&self.gradient.program.graph, self.sizes, &self.point, &[(a, b)], self.floor)
            .map(|e| e[0])
            .map_err(|e| e.message)
    }

    /// Lowers a side into the gradient's graph; new names get random values. A side whose
    /// shapes do not fit is a wrong claim (`Ok(Err)`: the message says why), one that
    /// cannot be lowered for another reason an unchecked one (`Err`).
    fn lower(&mut self, side: &Expr, text: &str) -> Result<Result<NodeId, String>, String> {
        let before = self.claim_inputs.len();
        let node = match lower_claim(&mut self.gradient.program, side, text, &self.symbols, &mut self.claim_inputs) {
            Ok(node) => node,
            Err(d) if d.kind == ErrorKind::Shape => return Ok(Err(d.message)),
            Err(d) => return Err(d.message),
        };
        let graph = &self.gradient.program.graph;
        for (i, input) in self.claim_inputs[before..].iter().enumerate() {
            let Some((rows, cols)) = self.sizes.shape(graph, graph.shape(input.node)) else {
                return Err(format!("the size of `{}` is not known", input.name));
            };
            self.point.insert(input.name.clone(), random_array(rows, cols, 1000 + (before + i) as u64));
        }
        Ok(Ok(node))
    }

    fn pair(&mut self, kind: ClaimKind, left_side: &Side, right_side: &Side) -> (Verdict, Option<f64>, String) {
        let (Ok(left), Ok(right)) = (&left_side.expr, &right_side.expr) else {
            return (Verdict::Unchecked, None, "cannot read it".to_string());
        };
        // Differential notation left unread (`d` alone, `\partial^2`) is not a variable.
        for side in [left, right] {
            let mut read = Vec::new();
            names_in(side, &mut read);
            if read.iter().any(|n| n == "d") && !self.statements.iter().any(|(s, _)| s == "d") {
                return (Verdict::Unchecked, None, "cannot read its differential notation".to_string());
            }
            if read.iter().any(|n| n.starts_with("∂/∂")) && operator_parts(side).is_none() {
                return (Verdict::Unchecked, None, "cannot read the derivative operator here".to_string());
            }
        }
        let (l, r) = match (self.lower_side(left, &left_side.text), self.lower_side(right, &right_side.text)) {
            (Ok(Ok(l)), Ok(Ok(r))) => (l, r),
            (Err(e), _) | (_, Err(e)) => return (Verdict::Unchecked, None, format!("cannot evaluate it: {e}")),
            (Ok(Err(e)), _) | (_, Ok(Err(e))) => return (Verdict::Fails, None, format!("the shapes do not fit: {e}")),
        };
        let graph = &self.gradient.program.graph;
        let (ls, rs) = (graph.shape(l), graph.shape(r));
        let same_shape = graph.dims.resolve_shape(ls) == graph.dims.resolve_shape(rs);
        let error = if same_shape {
            match self.compare(l, r) {
                Ok(e) => e,
                Err(message) => return (Verdict::Unchecked, None, message),
            }
        } else {
            f64::INFINITY
        };
        if error <= STEP_TOLERANCE {
            return (Verdict::Holds, Some(error), String::new());
        }
        let mut note = String::new();
        if kind == ClaimKind::Gradient {
            // Transposed: a real error of layout, said so.
            if self.holds_transposed(l, r) {
                note = self.transposed_note(left);
            }
            if note.is_empty() {
                note = self.true_gradient(left).unwrap_or_default();
            }
        } else if !same_shape {
            note = "the two sides have different shapes".to_string();
        } else if kind == ClaimKind::Differential {
            note = self.true_differential(left).unwrap_or_default();
        }
        (Verdict::Fails, error.is_finite().then_some(error), note)
    }

    /// Whether `right` transposed equals `left`.
    fn holds_transposed(&mut self, left: NodeId, right: NodeId) -> bool {
        let graph = &mut self.gradient.program.graph;
        let Ok(t) = graph.add(Op::Transpose(right)) else { return false };
        let same_shape = graph.dims.resolve_shape(graph.shape(t)) == graph.dims.resolve_shape(graph.shape(left));
        same_shape && self.compare(left, t).is_ok_and(|e| e <= STEP_TOLERANCE)
    }

    /// "∂L/∂A is …": matgrad's gradient in the page's names, for a failing gradient claim
    /// with ∂L/∂A on the left.
    fn true_gradient(&self, left: &Expr) -> Option<String> {
        let ExprKind::Var(name) = &left.kind else { return None };
        let (of, by) = split_derivative(name)?;
        let wrt = self.gradient.wrt.iter().find(|w| w.name == by)?;
        let graph = &self.gradient.program.graph;
        let namer = |id: NodeId| graph.name(id).map(str::to_string);
        let expression = crate::print::print(graph, wrt.gradient, Notation::Unicode, &namer);
        Some(format!("∂{}/∂{} is {expression}", unicode_name(of), unicode_name(by)))
    }

    /// The note for a gradient that holds only transposed.
    fn transposed_note(&self, left: &Expr) -> String {
        let (of, by) = match &left.kind {
            ExprKind::Var(name) => split_derivative(name).map(|(of, by)| (unicode_name(of), unicode_name(by))),
            _ => None,
        }
        .unwrap_or_else(|| ("L".to_string(), "X".to_string()));
        format!(
            "holds only transposed: ∂{of}/∂{by} has the shape of {by} (its (i, j) entry is ∂{of}/∂{by}ᵢⱼ), and this is its transpose"
        )
    }

    /// "dz is …": the true differential, for a failing claim with d of a value on the left,
    /// with the inputs its chain holds constant held constant.
    fn true_differential(&self, left: &Expr) -> Option<String> {
        let ExprKind::Var(name) = &left.kind else { return None };
        let of = name.strip_prefix(crate::print::DIFFERENTIAL)?;
        let &node = self.symbols.get(name)?;
        let graph = &self.gradient.program.graph;
        let namer = |id: NodeId| graph.name(id).map(str::to_string);
        Some(format!("d{} is {}", unicode_name(of), crate::print::print(graph, node, Notation::Unicode, &namer)))
    }

    /// `\frac{dL}{dA} = \sum_c \frac{dL}{dc}\frac{\partial c}{\partial A}`: over the uses of A.
    fn chain_rule(&mut self, program: &Program, left: &Expr, right: &Expr) -> (Verdict, Option<f64>, String) {
        let unread = |why: &str| (Verdict::Unchecked, None, why.to_string());
        let ExprKind::Var(name) = &left.kind else { return unread("its left side is not one derivative") };
        let Some((of, by)) = split_derivative(name) else { return unread("its left side is not one derivative") };
        let output = &program.output_statement().name;
        if of != output {
            return unread(&format!(
                "a derivative of {} rather than of the output {}",
                unicode_name(of),
                unicode_name(output)
            ));
        }
        let mut through = Vec::new();
        for term in right.chain(BinOp::Add) {
            let factors = term.chain(BinOp::Mul);
            let derivatives: Vec<(String, String)> = factors
                .iter()
                .filter_map(|f| match &f.kind {
                    ExprKind::Var(n) => split_derivative(n).map(|(a, b)| (a.to_string(), b.to_string())),
                    _ => None,
                })
                .collect();
            if factors.len() != 2 || derivatives.len() != 2 {
                return unread("a term is not a product of two derivatives");
            }
            // ∂L/∂c · ∂c/∂A, in either order.
            let c = derivatives.iter().find(|(a, _)| a == output).map(|(_, c)| c.clone());
            let Some(c) = c else { return unread("a term has no derivative of the output") };
            if !derivatives.iter().any(|(a, b)| *a == c && b == by) {
                return unread(&format!("a term is not ∂{o}/∂{c} ∂{c}/∂{by}", o = output));
            }
            through.push(c);
        }
        let Some((explanation, checked)) = self.explanation(program) else {
            return unread("no explanation of the model");
        };
        let Some(vertex) = explanation.vertices.iter().position(|v| v.name == by) else {
            return unread(&format!("{} is not a value the output depends on", unicode_name(by)));
        };
        let Some(step_index) = explanation.backprop.iter().position(|s| s.vertex == vertex) else {
            return unread(&format!("{} has no adjoint", unicode_name(by)));
        };
        let step = &explanation.backprop[step_index];
        let uses: Vec<String> = step.terms.iter().map(|t| explanation.vertices[t.parent].name.clone()).collect();
        let list = |names: &[String]| names.iter().map(|n| unicode_name(n)).collect::<Vec<_>>().join(", ");
        let missing: Vec<String> = uses.iter().filter(|u| !through.contains(u)).cloned().collect();
        let extra: Vec<String> = through.iter().filter(|c| !uses.contains(c)).cloned().collect();
        if !missing.is_empty() {
            let note = format!(
                "the sum over the uses of {by} lacks the term{} through {} ({by} is used by {})",
                if missing.len() == 1 { "" } else { "s" },
                list(&missing),
                list(&uses),
                by = unicode_name(by),
            );
            return (Verdict::Fails, None, note);
        }
        if !extra.is_empty() {
            let note = format!(
                "{} {} not use {} directly ({} is used by {})",
                list(&extra),
                if extra.len() == 1 { "does" } else { "do" },
                unicode_name(by),
                unicode_name(by),
                list(&uses)
            );
            return (Verdict::Fails, None, note);
        }
        let error = checked.backprop[step_index];
        let verdict = if error <= STEP_TOLERANCE { Verdict::Holds } else { Verdict::Fails };
        (verdict, Some(error), format!("the sum over the uses of {}: {}", unicode_name(by), list(&uses)))
    }
}

/// `∂/∂x F` written as the operator times its operand (`\frac{\partial}{\partial x} x^T A x`
/// is a product whose first factor is the operator): (x, F).
fn operator_parts(side: &Expr) -> Option<(String, Expr)> {
    let mut factors = side.chain(BinOp::Mul).into_iter().cloned();
    let ExprKind::Var(name) = factors.next()?.kind else { return None };
    let by = name.strip_prefix("∂/∂")?.to_string();
    let first = factors.next()?;
    let operand = factors.fold(first, |left, right| {
        let span = left.span.to(right.span);
        Expr { kind: ExprKind::Binary(BinOp::Mul, Box::new(left), Box::new(right)), span }
    });
    Some((by, operand))
}
