//! Pasted documents: prose with LaTeX math, as on Math StackExchange or in a paper.
//!
//! Display math (`$$…$$`, `\[…\]`, `\begin{align}…\end{align}` and the other environments
//! in [`latex::ENVIRONMENTS`]) holds equations, separated by `\\` or `;` (newlines inside
//! it are spaces), and on one row by arrows (`\implies`) or by `, \qquad` before a new
//! `name =` (see `equation.rs`). An equation `NAME = expression` with a single name on the
//! left is a model statement; any other equation is an aside, recorded in
//! [`Program::asides`] and not parsed (a derivative `\frac{dL}{dA} = …`, a differential
//! `dL = 2w^Tdw`, a continuation row `&= …`, an identity `A:B = B:A`). A displayed piece
//! with no `=` and no `∈ ℝ…` (a formula shown for reference, such as
//! `$$\frac{\partial L}{\partial W}$$`) is ignored. Inline math (`$…$`, `\(…\)`) that
//! declares something over the reals (`$x \in \mathbb{R}^k$`) is a declaration; any other
//! inline math is prose. Everything ignored is recorded in [`Program::ignored`], one span
//! per contiguous run, so nothing is dropped silently.
//!
//! Macros (`\def`, `\newcommand`, `\DeclareMathOperator`) defined in any math of the page
//! apply from there on (see `macros.rs`). Each math block is expanded into a new text that
//! is read like a block without macros; every span read from it is mapped back, so spans
//! point into the document itself.

use super::ast::{Aside, Expr, ExprKind, Item, Program, TypeSpec};
use super::equation::{self, Role};
use super::latex;
use super::lexer::{lex, Token};
use super::macros::{self, Expansion, Macros};
use super::parser::{self, Mode};
use super::statement::{self, Newlines, StatementKind};
use crate::error::{Error, Span};

/// Whether the text is a document (prose with math) rather than a program: it has a pair
/// of `$`, a `\[` or a `\begin{` outside `#` comments (a program may say `# x is $x$`, and
/// a lone `$` is a typo in a program, not math). `%` is not taken for a comment here: in
/// prose it is more often a percent sign.
pub fn is_document(source: &str) -> bool {
    let mut dollars = 0;
    source.split(['\n', '\r']).any(|line| {
        // `#1` after a `\def` or `\newcommand` is a macro parameter (`\def\LR#1{…}`);
        // another `#` starts a comment (`# 1 is one`, `y = 2  #1`).
        let definer = [line.find(r"\def"), line.find("command")].into_iter().flatten().min();
        let parameter =
            |at: usize| line[at + 1..].starts_with(|c: char| c.is_ascii_digit()) && definer.is_some_and(|d| d < at);
        let comment = line.match_indices('#').find(|&(at, _)| !parameter(at));
        let code = comment.map_or(line, |(at, _)| &line[..at]);
        dollars += code.matches('$').count();
        dollars >= 2 || code.contains(r"\[") || code.contains(r"\begin{")
    })
}

/// A piece of math found in a document.
struct Block {
    display: bool,
    /// With the delimiters.
    outer: Span,
    /// Between the delimiters.
    inner: Span,
    /// The closing delimiter, for messages ("found `$$`").
    close: String,
}

/// What a document has yielded so far.
#[derive(Default)]
struct Reading {
    items: Vec<Item>,
    ignored: Vec<Span>,
    asides: Vec<Aside>,
    /// Each statement that does not read; the others are still read, so that every error
    /// of the page is reported.
    errors: Vec<Error>,
}

impl Reading {
    fn take(&mut self, items: Result<Vec<Item>, Error>) {
        match items {
            Ok(items) => self.items.extend(items),
            Err(error) => self.errors.push(error),
        }
    }
}

/// Parses the statements and declarations of a document.
pub fn parse(source: &str) -> Result<Program, Error> {
    let mut reading = Reading::default();
    let mut macros = Macros::default();
    // The end of the last piece of the document that was used; the text between it and the
    // next used piece is ignored.
    let mut used_until = 0;
    for block in find_blocks(source)? {
        let end = format!("`{}`", block.close);
        if block.display {
            ignore(source, Span::new(used_until, block.outer.start), &mut reading.ignored);
            used_until = block.outer.end;
            match macros::expand(source, block.inner, &mut macros) {
                Ok(expansion) => display(source, &expansion, &end, &mut reading),
                Err(error) => reading.errors.push(error),
            }
        } else {
            // Inline math is prose unless it declares: a macro that fails to expand in it
            // leaves it prose (its definitions before the failure still hold).
            let Ok(expansion) = macros::expand(source, block.inner, &mut macros) else { continue };
            let text = expansion.text.as_str();
            let tokens = lex(text, Span::new(0, text.len()));
            if statement::is_real_declaration(text, &tokens) {
                ignore(source, Span::new(used_until, block.outer.start), &mut reading.ignored);
                used_until = block.outer.end;
                for piece in statement::split_statements(text, &tokens, Newlines::Ignore) {
                    let whole = document_span(&expansion, &piece.tokens);
                    let items =
                        read(&expansion, whole, || parser::parse_statement(text, &piece.tokens, Mode::Latex, &end));
                    reading.take(items);
                }
            }
        }
    }
    ignore(source, Span::new(used_until, source.len()), &mut reading.ignored);
    reading.ignored.sort_by_key(|span| span.start);
    let mut errors = reading.errors.into_iter();
    match errors.next() {
        Some(first) => Err(first.with_others(errors.collect())),
        None => Ok(Program { items: reading.items, ignored: reading.ignored, asides: reading.asides }),
    }
}

/// Reads the equations of one display block: statements, declarations and asides.
fn display(source: &str, expansion: &Expansion, end: &str, reading: &mut Reading) {
    let text = expansion.text.as_str();
    let tokens = lex(text, Span::new(0, text.len()));
    for piece in statement::split_statements(text, &tokens, Newlines::Ignore) {
        for row in equation::split_row(text, &piece.tokens) {
            let span = |tokens: &[Token]| document_span(expansion, tokens);
            match statement::statement_kind(text, &row) {
                StatementKind::Assign => match equation::role(text, &row) {
                    Role::Statement => {
                        let items =
                            read(expansion, span(&row), || parser::parse_statement(text, &row, Mode::Latex, end));
                        reading.take(items);
                    }
                    Role::Aside(kind) => {
                        let ranges = equation::sides(text, &row);
                        let last = ranges.len() - 1;
                        let expanded: Vec<Span> = ranges
                            .iter()
                            .enumerate()
                            .map(|(i, &range)| equation::side_span(text, &row, range, i == last))
                            .collect();
                        let sides: Vec<Span> = expanded.iter().map(|&side| expansion.span(side)).collect();
                        let texts =
                            expanded.iter().map(|side| text.get(side.range()).unwrap_or("").to_string()).collect();
                        let whole = sides.iter().fold(sides[0], |all, side| all.to(*side));
                        reading.asides.push(Aside { span: whole, kind, sides, texts });
                    }
                },
                StatementKind::Declare if statement::is_real_declaration(text, &row) => {
                    let items = read(expansion, span(&row), || parser::parse_statement(text, &row, Mode::Latex, end));
                    reading.take(items);
                }
                _ => ignore(source, span(&row), &mut reading.ignored),
            }
        }
    }
}

/// The span of the document that tokens of an expansion come from.
fn document_span(expansion: &Expansion, tokens: &[Token]) -> Span {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => expansion.span(first.span.to(last.span)),
        _ => Span::default(),
    }
}

/// Reads the statement at `span` of the document with `parse` (on the expansion): the
/// error of a macro use in it that could not expand, or what `parse` gives, with its spans
/// mapped back to the document.
fn read(
    expansion: &Expansion,
    span: Span,
    parse: impl FnOnce() -> Result<Vec<Item>, Error>,
) -> Result<Vec<Item>, Error> {
    if let Some(error) = expansion.error_within(span) {
        return Err(error.clone());
    }
    let map = |span: Span| expansion.span(span);
    match parse() {
        Ok(mut items) => {
            for item in &mut items {
                map_item(item, &map);
            }
            Ok(items)
        }
        Err(mut diagnostic) => {
            diagnostic.span = diagnostic.span.map(map);
            Err(diagnostic)
        }
    }
}

fn map_item(item: &mut Item, map: &impl Fn(Span) -> Span) {
    match item {
        Item::Assign { name, value, span } => {
            name.span = map(name.span);
            map_expr(value, map);
            *span = map(*span);
        }
        Item::Declare { names, ty, span } => {
            for name in names {
                name.span = map(name.span);
            }
            match ty {
                TypeSpec::Scalar => {}
                TypeSpec::Vector(n) => n.span = map(n.span),
                TypeSpec::Matrix(m, n) => {
                    m.span = map(m.span);
                    n.span = map(n.span);
                }
            }
            *span = map(*span);
        }
    }
}

/// Maps the spans of an expression (recursion as deep as the tree, which the parser
/// bounds by [`parser::MAX_DEPTH`]).
fn map_expr(expr: &mut Expr, map: &impl Fn(Span) -> Span) {
    expr.span = map(expr.span);
    match &mut expr.kind {
        ExprKind::Call { name_span, .. } | ExprKind::Derivative { name_span, .. } => *name_span = map(*name_span),
        ExprKind::IndexSum { indices, .. } => {
            for index in indices {
                index.span = map(index.span);
                if let Some(range) = &mut index.range {
                    range.span = map(range.span);
                }
            }
        }
        _ => {}
    }
    for child in expr.children_mut() {
        map_expr(child, map);
    }
}

/// Records `span` as ignored, trimmed of whitespace, unless nothing but whitespace and
/// punctuation is left (the `, ` between two inline declarations).
fn ignore(source: &str, span: Span, ignored: &mut Vec<Span>) {
    let Some(text) = source.get(span.range()) else { return };
    let trimmed = text.trim_start();
    let start = span.start + (text.len() - trimmed.len());
    let trimmed = trimmed.trim_end();
    if trimmed.chars().all(|c| c.is_whitespace() || ",.;:".contains(c)) {
        return;
    }
    ignored.push(Span::new(start, start + trimmed.len()));
}

/// Finds the math blocks, in order. Unterminated display math is an error; an unpaired
/// `$` is prose (a price, say).
fn find_blocks(source: &str) -> Result<Vec<Block>, Error> {
    let bytes = source.as_bytes();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source.as_bytes()[i..];
        if rest.starts_with(b"$$") {
            let block = delimited(source, i, "$$", "$$", true)?;
            i = block.outer.end;
            blocks.push(block);
        } else if rest.starts_with(b"$") {
            // A `$` whose partner is the start of a `$$` is prose ("costs $5 and $$y = Ax$$").
            match find_unescaped(source, i + 1, "$").filter(|&close| !source[close..].starts_with("$$")) {
                Some(close) => {
                    blocks.push(Block {
                        display: false,
                        outer: Span::new(i, close + 1),
                        inner: Span::new(i + 1, close),
                        close: "$".to_string(),
                    });
                    i = close + 1;
                }
                None => i += 1,
            }
        } else if rest.starts_with(br"\[") {
            let block = delimited(source, i, r"\[", r"\]", true)?;
            i = block.outer.end;
            blocks.push(block);
        } else if rest.starts_with(br"\(") {
            let block = delimited(source, i, r"\(", r"\)", false)?;
            i = block.outer.end;
            blocks.push(block);
        } else if rest.starts_with(br"\begin{") {
            let name_start = i + r"\begin{".len();
            // Environment names are short; looking no further keeps the scan linear.
            let name = source.as_bytes()[name_start..]
                .iter()
                .take(16)
                .position(|&b| b == b'}')
                .map_or("", |length| &source[name_start..name_start + length]);
            if latex::ENVIRONMENTS.contains(&name) {
                let open = format!(r"\begin{{{name}}}");
                let close = format!(r"\end{{{name}}}");
                let block = delimited(source, i, &open, &close, true)?;
                i = block.outer.end;
                blocks.push(block);
            } else {
                i = name_start;
            }
        } else if rest.starts_with(b"\\") {
            // An escaped character (`\$`) or a command: neither opens math.
            i += 2;
        } else {
            i += 1;
        }
    }
    Ok(blocks)
}

/// The block opened by `open` at `start` and closed by the next `close`.
fn delimited(source: &str, start: usize, open: &str, close: &str, display: bool) -> Result<Block, Error> {
    let inner_start = start + open.len();
    match find_unescaped(source, inner_start, close) {
        Some(close_start) => Ok(Block {
            display,
            outer: Span::new(start, close_start + close.len()),
            inner: Span::new(inner_start, close_start),
            close: close.to_string(),
        }),
        None => Err(Error::new(Span::new(start, inner_start), format!("unterminated `{open}`"))
            .with_hint(format!("add a closing `{close}`"))),
    }
}

/// The next `needle` at or after `from` that is not escaped by a backslash (`\$`).
fn find_unescaped(source: &str, from: usize, needle: &str) -> Option<usize> {
    let mut at = from;
    while let Some(offset) = source.get(at..)?.find(needle) {
        let found = at + offset;
        // `\$` is a dollar sign, `\\$` a line break before a `$`.
        let backslashes = source.as_bytes()[..found].iter().rev().take_while(|&&b| b == b'\\').count();
        let escaped = needle.starts_with('$') && backslashes % 2 == 1;
        if !escaped {
            return Some(found);
        }
        at = found + needle.len();
    }
    None
}
