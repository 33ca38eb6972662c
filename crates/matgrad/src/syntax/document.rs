//! Pasted documents: prose with LaTeX math, as on Math StackExchange or in a paper.
//!
//! Display math (`$$…$$`, `\[…\]`, `\begin{align}…\end{align}` and the other environments
//! in [`latex::ENVIRONMENTS`]) holds statements, separated by `\\` or `;`; newlines inside
//! it are spaces. A displayed piece with no `=` and no `∈ ℝ…` (a formula shown for
//! reference, such as `$$\frac{\partial L}{\partial W}$$`) is ignored. Inline math
//! (`$…$`, `\(…\)`) that declares something over the reals (`$x \in \mathbb{R}^k$`) is a
//! declaration; any other inline math is prose. Everything ignored is recorded in
//! [`Program::ignored`], one span per contiguous run, so nothing is dropped silently.
//!
//! Every math block is lexed in place, so spans point into the document itself.

use super::ast::Program;
use super::latex;
use super::lexer::lex;
use super::parser::{self, Mode};
use super::statement::{self, Newlines, Piece, StatementKind};
use crate::diagnostic::{Diagnostic, Span};

/// Whether the text is a document (prose with math) rather than a program: it has `$`,
/// `\[` or `\begin{` outside `#` comments (a program may say `# x is $x$`). `%` is not
/// taken for a comment here: in prose it is more often a percent sign.
pub fn is_document(source: &str) -> bool {
    source.lines().any(|line| {
        let code = line.split('#').next().unwrap_or("");
        code.contains('$') || code.contains(r"\[") || code.contains(r"\begin{")
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

/// Parses the statements and declarations of a document.
pub fn parse(source: &str) -> Result<Program, Diagnostic> {
    let mut items = Vec::new();
    let mut ignored = Vec::new();
    // The end of the last piece of the document that was used; the text between it and the
    // next used piece is ignored.
    let mut used_until = 0;
    for block in find_blocks(source)? {
        let tokens = lex(source, block.inner);
        let end = format!("`{}`", block.close);
        if block.display {
            ignore(source, Span::new(used_until, block.outer.start), &mut ignored);
            used_until = block.outer.end;
            for piece in statement::split_statements(source, &tokens, Newlines::Ignore) {
                if is_statement(source, &piece) {
                    items.extend(parser::parse_statement(source, &piece.tokens, Mode::Latex, &end)?);
                } else {
                    ignore(source, piece_span(&piece), &mut ignored);
                }
            }
        } else if statement::is_real_declaration(source, &tokens) {
            ignore(source, Span::new(used_until, block.outer.start), &mut ignored);
            used_until = block.outer.end;
            for piece in statement::split_statements(source, &tokens, Newlines::Ignore) {
                items.extend(parser::parse_statement(source, &piece.tokens, Mode::Latex, &end)?);
            }
        }
    }
    ignore(source, Span::new(used_until, source.len()), &mut ignored);
    ignored.sort_by_key(|span| span.start);
    Ok(Program { items, ignored })
}

/// Whether a piece of display math is a statement: an assignment, or a declaration over
/// the reals.
fn is_statement(source: &str, piece: &Piece) -> bool {
    match statement::statement_kind(source, &piece.tokens) {
        StatementKind::Assign => true,
        StatementKind::Declare => statement::is_real_declaration(source, &piece.tokens),
        StatementKind::Other => false,
    }
}

fn piece_span(piece: &Piece) -> Span {
    match (piece.tokens.first(), piece.tokens.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => Span::default(),
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
fn find_blocks(source: &str) -> Result<Vec<Block>, Diagnostic> {
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
fn delimited(source: &str, start: usize, open: &str, close: &str, display: bool) -> Result<Block, Diagnostic> {
    let inner_start = start + open.len();
    match find_unescaped(source, inner_start, close) {
        Some(close_start) => Ok(Block {
            display,
            outer: Span::new(start, close_start + close.len()),
            inner: Span::new(inner_start, close_start),
            close: close.to_string(),
        }),
        None => Err(Diagnostic::new(Span::new(start, inner_start), format!("unterminated `{open}`"))
            .with_hint(format!("add a closing `{close}`"))),
    }
}

/// The next `needle` at or after `from` that is not escaped by a backslash (`\$`).
fn find_unescaped(source: &str, from: usize, needle: &str) -> Option<usize> {
    let mut at = from;
    while let Some(offset) = source.get(at..)?.find(needle) {
        let found = at + offset;
        let escaped = needle.starts_with('$') && found > 0 && source.as_bytes()[found - 1] == b'\\';
        if !escaped {
            return Some(found);
        }
        at = found + needle.len();
    }
    None
}
