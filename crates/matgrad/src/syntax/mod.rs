//! Text to syntax tree, for the three spellings of a program: ASCII (matrixcalculus.org
//! style), Unicode math, and LaTeX (also pasted documents with prose around the math).
//!
//! ```text
//! y = A*x; u = sigmoid(y); z = A*(u.*v); L = norm2(w)^2        ASCII
//! y = A x;  u = σ(y);       z = A (u ⊙ v);  L = ‖w‖²           Unicode
//! $$y = Ax$$ $$u = \sigma(y)$$ $$z = A (u * v)$$ $$L = ||w||^2$$  LaTeX
//! ```
//!
//! All three give the same [`Program`] (up to spans), and may be mixed in one text.
//!
//! # Which spelling a statement is read in
//!
//! - If the text contains a pair of `$`, a `\[` or a `\begin{` (outside `#` comments), it
//!   is a **document**: only its math is read, always as LaTeX, with the page's macros
//!   expanded; the prose around it is recorded in [`Program::ignored`], and displayed
//!   equations that are not model statements (derivatives, differentials, identities) in
//!   [`Program::asides`] (see `document.rs` for what counts as a statement).
//! - Otherwise it is a **program**: statements are separated by newlines, `;` or `\\`,
//!   and each statement is read on its own. A statement that contains a LaTeX command (a
//!   backslash) or sits next to a `\\` is read as **LaTeX**: single letters are
//!   variables (`Ax` is `A·x`), `*` is the elementwise product, `^2` takes one character.
//!   Any other statement is read as **ASCII/Unicode**: names have several letters (`W1`,
//!   `beta`), `*` is the matrix product, `^` takes an operand (`x^10`, `2^-1`). Unicode
//!   symbols (`⊙`, `‖`, `²`, `ℝ`, Greek letters) mean the same in both.
//!
//! A newline does not end a statement inside brackets, after a binary operator, or before
//! a line that starts with one.
//!
//! # Module map
//!
//! - `lexer`: logos tokens with spans in the original text.
//! - `latex`: the LaTeX command table; removes typesetting commands.
//! - `statement`: cuts tokens into statements, tells what each one is.
//! - `parser`: precedence climbing and assignments; `parser/declaration.rs`: declarations
//!   and types.
//! - `document`: finds math blocks in pasted prose and reads them.
//! - `macros`: `\def`, `\newcommand`, `\DeclareMathOperator`: expansion of a math block
//!   into a new text, with a map back to the document.
//! - `equation`: cuts a row of display math into equations and their sides; tells a model
//!   statement from an aside.
//! - `names`: known functions and Greek letters.

pub mod ast;
mod document;
mod equation;
mod latex;
mod lexer;
mod macros;
mod names;
mod parser;
mod statement;

#[cfg(test)]
mod tests;

pub use ast::*;
pub use document::is_document;
pub use lexer::subscript_of;
pub(crate) use names::letter_function;
#[cfg(test)]
pub use names::FUNCTIONS;
pub use names::{greek_latex, greek_letter};
#[cfg(test)]
pub use parser::{too_deep_message, MAX_DEPTH};

use crate::error::{Error, Span};
use lexer::TokenKind;
use parser::Mode;
use statement::{Newlines, StatementKind};

/// Parses a program or a pasted document into its statements and declarations.
///
/// Never panics. Fails with every statement's error (the first, with the others in
/// [`Error::others`]), and on a text with no statement at all ("empty program: no
/// statements").
pub fn parse(source: &str) -> Result<Program, Error> {
    let is_document = document::is_document(source);
    let program = if is_document { document::parse(source)? } else { parse_program(source)? };
    if program.items.is_empty() {
        let hint = if is_document {
            r"write statements in display math, as in `$$y = Ax$$`, and declarations in inline math, as in `$x \in \mathbb{R}^n$`"
        } else {
            "write a statement such as `y = A*x`, or a declaration such as `x: vector(n)`"
        };
        return Err(Error::new(Span::new(0, 0), "empty program: no statements").with_hint(hint));
    }
    Ok(program)
}

/// Parses `text` as one LaTeX expression, all of it: a side of an equation a page claims
/// (`2P + 2(U - U^2)qx^T`). Spans point into `text`.
pub fn parse_latex_expression(text: &str) -> Result<Expr, Error> {
    let tokens = lexer::lex(text, Span::new(0, text.len()));
    parser::parse_expression(text, &tokens, Mode::Latex)
}

/// Parses `text` as one ASCII or Unicode expression, all of it: a printed closed form
/// read back (`2*A'*x`, `2 Aᵀ x`). Spans point into `text`.
pub fn parse_expression(text: &str) -> Result<Expr, Error> {
    let tokens = lexer::lex(text, Span::new(0, text.len()));
    parser::parse_expression(text, &tokens, Mode::Ascii)
}

/// A program: statements on lines, each in the spelling its tokens call for.
fn parse_program(source: &str) -> Result<Program, Error> {
    let tokens = lexer::lex(source, Span::new(0, source.len()));
    let pieces = statement::split_statements(source, &tokens, Newlines::Separate);
    // Text with no `=`, `:` or `∈` anywhere (prose, a lone expression) has no statement.
    let kinds = pieces.iter().map(|piece| statement::statement_kind(source, &piece.tokens));
    if let (Some(first), true) = (pieces.first(), kinds.clone().all(|k| k == StatementKind::Other)) {
        let span = match (first.tokens.first(), first.tokens.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => Span::new(0, 0),
        };
        return Err(Error::new(span, "empty program: no statements")
            .with_hint("no line assigns (`y = A*x`) or declares (`x: vector(n)`, `x ∈ ℝ^n`) anything"));
    }
    let mut items = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    let mut after_line_break = false;
    for piece in pieces {
        let has_command = piece.tokens.iter().any(|t| matches!(t.kind, TokenKind::Command | TokenKind::Escape));
        let before_line_break = piece.separator.is_some_and(|t| t.kind == TokenKind::LineBreak);
        let mode = if has_command || before_line_break || after_line_break { Mode::Latex } else { Mode::Ascii };
        after_line_break = before_line_break;
        let end = match piece.separator {
            Some(separator) if separator.kind != TokenKind::Newline => {
                format!("`{}`", &source[separator.span.range()])
            }
            _ => "end of line".to_string(),
        };
        // Statements are read one by one, so an error in one leaves the next readable: all
        // of them are reported, as an editor shows them.
        match parser::parse_statement(source, &piece.tokens, mode, &end) {
            Ok(parsed) => items.extend(parsed),
            Err(error) => errors.push(error),
        }
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        Some(first) => Err(first.with_others(errors.collect())),
        None => Ok(Program { items, ignored: Vec::new(), asides: Vec::new() }),
    }
}
