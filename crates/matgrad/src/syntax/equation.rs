//! Equations of pasted documents: cutting a row of display math into equations, cutting
//! an equation into its sides, and telling a model statement from an aside.
//!
//! A row may hold several equations: `y &= Ax \quad\implies\quad dy = dA\,x` (an arrow
//! separates them), `P = wz^T, \qquad q = VA^Tw` (a comma or a quad does, when what follows
//! starts a new equation). A model statement is `NAME = expression` with a single name on
//! the left; every other equation is an aside ([`AsideKind`]), judged from its left side.
//!
//! Everything here reads raw tokens (before [`super::latex::prepare`]), at the top level
//! (outside brackets and braces), so nothing inside a function argument is ever cut.

use super::ast::AsideKind;
use super::latex;
use super::lexer::{Token, TokenKind as K};
use super::names;
use super::parser::{self, Mode};
use super::statement;

/// What an equation of a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `NAME = expression`, to be parsed (and its errors reported).
    Statement,
    Aside(AsideKind),
}

/// Relations that separate two equations on one row.
const ARROWS: &[&str] = &[
    r"\implies",
    r"\impliedby",
    r"\iff",
    r"\Rightarrow",
    r"\Longrightarrow",
    r"\Leftarrow",
    r"\Longleftarrow",
    r"\Leftrightarrow",
    r"\Longleftrightarrow",
    r"\therefore",
    r"\because",
    "⇒",
    "⟹",
    "⇔",
    "⟺",
    "∴",
];

/// How far past a comma or a quad to look for the `=` of a new equation.
const LOOKAHEAD: usize = 64;

fn text<'a>(source: &'a str, token: &Token) -> &'a str {
    source.get(token.span.range()).unwrap_or("")
}

fn is_arrow(source: &str, token: &Token) -> bool {
    matches!(token.kind, K::Command | K::Unknown) && ARROWS.contains(&text(source, token))
}

fn is_quad(source: &str, token: &Token) -> bool {
    token.kind == K::Command && matches!(text(source, token), r"\quad" | r"\qquad")
}

/// Alignment, line breaks and spacing: what an equation may start or end with and still
/// be the same equation.
fn is_blank(source: &str, token: &Token) -> bool {
    match token.kind {
        K::Ampersand | K::Newline | K::Tilde => true,
        K::Command | K::Escape => {
            let text = text(source, token);
            latex::is_spacing(text) && !matches!(text, r"\left" | r"\right") && !text.starts_with(r"\big")
                || matches!(text, r"\displaystyle" | r"\textstyle")
        }
        _ => false,
    }
}

/// Where a token stream is: how deep inside brackets and braces, and whether inside a
/// norm `\|…\|` (whose bars open and close alike).
#[derive(Default)]
struct Nesting {
    depth: usize,
    norm: bool,
}

impl Nesting {
    fn top(&self) -> bool {
        self.depth == 0 && !self.norm
    }

    /// Steps over `token`; false for a closer with nothing open.
    fn step(&mut self, source: &str, token: &Token) -> bool {
        match token.kind {
            K::LParen | K::LBracket | K::LBrace => self.depth += 1,
            K::RParen | K::RBracket | K::RBrace => match self.depth.checked_sub(1) {
                Some(depth) => self.depth = depth,
                None => return false,
            },
            K::NormBar | K::DoubleBar => self.norm = !self.norm,
            K::Command | K::Escape if latex::means(text(source, token), K::NormBar) => self.norm = !self.norm,
            _ => {}
        }
        true
    }
}

/// Cuts one row (a piece between `\\` or `;`) into its equations: at arrows, and at a
/// comma, a quad or an alignment `&` followed by the start of a new equation (`q = …`,
/// never `b` in `y = a, b`). The separators themselves are dropped; empty pieces are left out.
pub fn split_row(source: &str, tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut equations = Vec::new();
    let mut current = Vec::new();
    let mut nesting = Nesting::default();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if nesting.top() && is_arrow(source, &token) {
            flush(source, &mut current, &mut equations);
            i += 1;
            continue;
        }
        if nesting.top() && (matches!(token.kind, K::Comma | K::Ampersand) || is_quad(source, &token)) {
            let next = separator_end(source, tokens, i);
            if starts_equation(source, &tokens[next..]) {
                flush(source, &mut current, &mut equations);
                i = next;
                continue;
            }
            // Every separator of the run would ask the same question of the same tokens
            // after it: keep the run whole (a run of 20 000 `\quad`s stays linear).
            for &separator in &tokens[i..next.max(i + 1)] {
                nesting.step(source, &separator);
                current.push(separator);
            }
            i = next.max(i + 1);
            continue;
        }
        nesting.step(source, &token);
        current.push(token);
        i += 1;
    }
    flush(source, &mut current, &mut equations);
    equations
}

fn flush(source: &str, current: &mut Vec<Token>, equations: &mut Vec<Vec<Token>>) {
    if current.iter().any(|t| !is_blank(source, t)) {
        equations.push(std::mem::take(current));
    }
    current.clear();
}

/// The index after a run of separators starting at `start`: commas, quads, spacing,
/// alignment, and words in text (`\quad\text{and}\quad`).
fn separator_end(source: &str, tokens: &[Token], start: usize) -> usize {
    let mut i = start;
    while let Some(token) = tokens.get(i) {
        if token.kind == K::Comma || is_blank(source, token) {
            i += 1;
        } else if token.kind == K::Command
            && matches!(text(source, token), r"\text" | r"\textrm" | r"\mbox")
            && tokens.get(i + 1).is_some_and(|t| t.kind == K::LBrace)
        {
            // `\text{and}`, `\text{where}`: words only.
            let words = tokens[i + 2..].iter().take_while(|t| t.kind == K::Word).count();
            if tokens.get(i + 2 + words).is_some_and(|t| t.kind == K::RBrace) {
                i += 3 + words;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    i
}

/// Whether the tokens start a new equation: a left side that is a name, a derivative or a
/// differential, then a top-level `=`, before any other separator.
fn starts_equation(source: &str, tokens: &[Token]) -> bool {
    let mut nesting = Nesting::default();
    for (i, token) in tokens.iter().enumerate().take(LOOKAHEAD) {
        if nesting.top() {
            if is_equals(source, token) {
                let left = trim(source, &tokens[..i]);
                return !left.is_empty() && role_of_left(source, left) != Role::Aside(AsideKind::Equation);
            }
            // `, \quad x \in \mathbb{R}^n`: a declaration after an equation.
            if token.kind == K::In || (token.kind == K::Command && latex::means(text(source, token), K::In)) {
                return i > 0 && statement::is_real_declaration(source, tokens);
            }
            if matches!(token.kind, K::Comma | K::LineBreak | K::Semicolon)
                || is_quad(source, token)
                || is_arrow(source, token)
            {
                return false;
            }
        }
        if !nesting.step(source, token) {
            return false;
        }
    }
    false
}

fn is_equals(source: &str, token: &Token) -> bool {
    token.kind == K::Equals || token.kind == K::Command && latex::means(text(source, token), K::Equals)
}

/// The tokens without blanks at either end.
fn trim<'t>(source: &str, tokens: &'t [Token]) -> &'t [Token] {
    let start = tokens.iter().position(|t| !is_blank(source, t)).unwrap_or(tokens.len());
    let end = tokens.iter().rposition(|t| !is_blank(source, t)).map_or(start, |i| i + 1);
    &tokens[start..end.max(start)]
}

/// The sides of an equation, split at its top-level `=` signs, each without blanks (and
/// the last without the punctuation that ends a displayed formula). An empty side is the
/// empty span at the `=` after it (or before it, for the last side).
pub fn sides(source: &str, tokens: &[Token]) -> Vec<(usize, usize)> {
    let mut sides = Vec::new();
    let mut nesting = Nesting::default();
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if nesting.top() && is_equals(source, token) {
            sides.push((start, i));
            start = i + 1;
        }
        nesting.step(source, token);
    }
    sides.push((start, tokens.len()));
    sides
}

/// The span of a side (the tokens `range` of `tokens`): its first to its last significant
/// token; for an empty side, the empty span at the `=` next to it.
pub fn side_span(source: &str, tokens: &[Token], (start, end): (usize, usize), last: bool) -> crate::error::Span {
    let mut side = trim(source, &tokens[start..end]);
    if last {
        while side.last().is_some_and(|t| matches!(t.kind, K::Comma | K::Dot)) {
            side = trim(source, &side[..side.len() - 1]);
        }
    }
    match (side.first(), side.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => {
            let at = match tokens.get(end) {
                Some(equals) => equals.span.start,
                None => tokens.get(start.wrapping_sub(1)).map_or(0, |t| t.span.end),
            };
            crate::error::Span::new(at, at)
        }
    }
}

/// Whether an equation (raw tokens with a top-level `=`) is a model statement or an aside,
/// from its left side.
pub fn role(source: &str, tokens: &[Token]) -> Role {
    let (start, end) = sides(source, tokens)[0];
    let left = &tokens[start..end];
    let trimmed = trim(source, left);
    if trimmed.is_empty() {
        // `&= b` continues the row above; a bare `= b` is left to the parser to report.
        return if left.iter().any(|t| t.kind == K::Ampersand) {
            Role::Aside(AsideKind::Continuation)
        } else {
            Role::Statement
        };
    }
    role_of_left(source, trimmed)
}

/// The role of an equation with this (trimmed, non-empty) left side.
fn role_of_left(source: &str, left: &[Token]) -> Role {
    if is_derivative(source, left) {
        return Role::Aside(AsideKind::Derivative);
    }
    if is_differential(source, left) {
        return Role::Aside(AsideKind::Differential);
    }
    if is_function_notation(source, left) {
        return Role::Statement;
    }
    match parser::parse_expression(source, left, Mode::Latex) {
        Ok(expr) if parser::name_of(&expr).is_some() => Role::Statement,
        _ => Role::Aside(AsideKind::Equation),
    }
}

/// `J(\theta)`, `f(X)`, `L(W_1, W_2)`: a name touching a bracket of names, as a paper names
/// its loss with its arguments.
fn is_function_notation(source: &str, left: &[Token]) -> bool {
    let [name, open, inside @ .., close] = left else { return false };
    let written = text(source, name);
    let single = match name.kind {
        K::Word => written.len() == 1,
        // `\sigma(x) = …` defines the sigmoid, not a model value.
        K::Greek => written
            .chars()
            .next()
            .and_then(names::greek_char)
            .is_none_or(|letter| names::letter_function(letter).is_none()),
        K::Command => {
            names::greek_command(&written[1..]).is_some_and(|letter| names::letter_function(letter).is_none())
        }
        _ => false,
    };
    single
        && open.kind == K::LParen
        && open.span.start == name.span.end
        && close.kind == K::RParen
        && !inside.is_empty()
        && inside.iter().all(|t| {
            matches!(
                t.kind,
                K::Word | K::Greek | K::Comma | K::Command | K::LBrace | K::RBrace | K::Underscore | K::Number
            )
        })
}

/// `\frac{dL}{dA}`, `\frac{\partial L}{\partial A}`, `∂L/∂A`, `\nabla_A L`: a derivative
/// symbol anywhere, or a fraction of two differentials.
fn is_derivative(source: &str, left: &[Token]) -> bool {
    if left.iter().any(|t| matches!(text(source, t), r"\partial" | r"\nabla" | "∂" | "∇")) {
        return true;
    }
    left.iter().enumerate().any(|(i, t)| {
        t.kind == K::Command
            && matches!(text(source, t), r"\frac" | r"\dfrac" | r"\tfrac")
            && starts_with_d(source, &left[i + 1..], true)
            && starts_with_d(source, &left[argument_end(left, i + 1)..], true)
    })
}

/// `dy`, `dL`, `d\sigma`, `\operatorname{d}x`, `\tfrac12\,dL`: a left side whose first
/// factor, after a numeric coefficient, is a differential.
fn is_differential(source: &str, left: &[Token]) -> bool {
    let mut i = 0;
    while let Some(token) = left.get(i) {
        match token.kind {
            K::Number | K::Minus => i += 1,
            K::Command if matches!(text(source, token), r"\frac" | r"\dfrac" | r"\tfrac") => {
                match numeric_fraction_end(source, left, i + 1) {
                    Some(end) => i = end,
                    None => return false,
                }
            }
            _ if is_blank(source, token) => i += 1,
            _ => break,
        }
    }
    starts_with_d(source, &left[i.min(left.len())..], false)
}

/// The index after the arguments of a numeric fraction (`\tfrac12`, `\frac{1}{2}`) that
/// start at `start`, if they are numbers.
fn numeric_fraction_end(source: &str, tokens: &[Token], start: usize) -> Option<usize> {
    let number = |t: &Token| t.kind == K::Number;
    // `\tfrac12`: one number token holds both arguments.
    if tokens.get(start).is_some_and(|t| number(t) && text(source, t).len() == 2) {
        return Some(start + 1);
    }
    let mut end = start;
    for _ in 0..2 {
        let next = argument_end(tokens, end);
        let inside = tokens.get(end..next)?;
        if next == end || !inside.iter().all(|t| number(t) || matches!(t.kind, K::LBrace | K::RBrace)) {
            return None;
        }
        end = next;
    }
    Some(end)
}

/// The index after the LaTeX argument starting at `start`: a braced group or one token.
fn argument_end(tokens: &[Token], start: usize) -> usize {
    if tokens.get(start).is_none_or(|t| t.kind != K::LBrace) {
        return (start + 1).min(tokens.len());
    }
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(start) {
        match token.kind {
            K::LBrace => depth += 1,
            K::RBrace => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// Whether the tokens start with a differential `d`: a word `dL`; a `d` followed by what it
/// applies to (`d\sigma`, `d(AB)`; alone only in a fraction, `\frac{d}{dx}`); an upright
/// `\operatorname{d}`, `\mathrm{d}`, `{\rm d}`.
fn starts_with_d(source: &str, tokens: &[Token], in_fraction: bool) -> bool {
    let mut i = 0;
    let mut upright = false;
    while let Some(token) = tokens.get(i) {
        match token.kind {
            K::LBrace => i += 1,
            K::Command
                if matches!(
                    text(source, token),
                    r"\operatorname" | r"\mathrm" | r"\text" | r"\textrm" | r"\rm" | r"\mathit" | r"\it"
                ) =>
            {
                upright = true;
                i += 1;
            }
            _ if is_blank(source, token) => i += 1,
            _ => break,
        }
    }
    let Some(word) = tokens.get(i).filter(|t| t.kind == K::Word) else { return false };
    let word_text = text(source, word);
    if upright {
        return word_text == "d" && (in_fraction || tokens.len() > i + 1);
    }
    if word_text.len() >= 2 {
        return word_text.starts_with('d') && word_text[1..].starts_with(|c: char| c.is_ascii_alphabetic());
    }
    if word_text != "d" {
        return false;
    }
    match tokens.get(i + 1) {
        None => in_fraction,
        Some(next) => {
            matches!(next.kind, K::Word | K::Greek | K::LParen | K::LBrace | K::Command)
                || (in_fraction && next.kind == K::RBrace)
        }
    }
}
