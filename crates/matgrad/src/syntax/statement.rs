//! Statements before parsing: cutting a token stream into statements, and telling what
//! each one is (an assignment, a declaration, or neither) from its top-level tokens.
//!
//! Both work on raw tokens, before [`super::latex::prepare`], so a document can decide to
//! ignore a piece of math without reporting errors inside it.

use super::latex;
use super::lexer::{Token, TokenKind as K};

/// What a statement is, judged from its top-level tokens before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// It has a top-level `=`.
    Assign,
    /// It has a top-level `:` or `∈` (and no `=`).
    Declare,
    /// Neither: in a document it is ignored, in a program it is an error.
    Other,
}

/// Classifies a statement from its raw tokens (before [`latex::prepare`]).
pub fn statement_kind(source: &str, tokens: &[Token]) -> StatementKind {
    let mut depth = 0usize;
    let mut declares = false;
    for token in tokens {
        match token.kind {
            K::LParen | K::LBracket | K::LBrace => depth += 1,
            K::RParen | K::RBracket | K::RBrace => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            K::Equals => return StatementKind::Assign,
            K::Colon | K::In => declares = true,
            K::Command if latex::means(&source[token.span.range()], K::Equals) => return StatementKind::Assign,
            K::Command if latex::means(&source[token.span.range()], K::In) => declares = true,
            _ => {}
        }
    }
    if declares {
        StatementKind::Declare
    } else {
        StatementKind::Other
    }
}

/// Whether raw tokens declare something over the reals (`x \in \mathbb{R}^n`, `x ∈ ℝ`):
/// the test for inline math in a document, where `$i \in S$` is prose.
pub fn is_real_declaration(source: &str, tokens: &[Token]) -> bool {
    if statement_kind(source, tokens) != StatementKind::Declare {
        return false;
    }
    let text = |t: &Token| &source[t.span.range()];
    let significant: Vec<&Token> =
        tokens.iter().filter(|t| !(matches!(t.kind, K::Command | K::Escape) && latex::is_spacing(text(t)))).collect();
    significant.windows(2).any(|pair| {
        let is_in = pair[0].kind == K::In || (pair[0].kind == K::Command && latex::means(text(pair[0]), K::In));
        let reals = match pair[1].kind {
            K::Reals => true,
            K::Word => text(pair[1]) == "R",
            K::Command => {
                latex::means(text(pair[1]), K::Reals)
                    || matches!(text(pair[1]), r"\mathbb" | r"\Bbb" | r"\mathbbm" | r"\mathbf")
            }
            _ => false,
        };
        is_in && reals
    })
}

/// Whether newlines end statements (programs) or are spaces (math blocks of documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newlines {
    Separate,
    Ignore,
}

/// The tokens of one statement, and the token that ended it (`;`, `\\`, a newline), if any.
pub struct Piece {
    pub tokens: Vec<Token>,
    pub separator: Option<Token>,
}

/// Cuts tokens into statements at `;`, `\\` and (with [`Newlines::Separate`]) newlines.
///
/// A newline does not end a statement inside brackets, after a binary operator, or before
/// a line that starts with one (`y = a` / `  + b`); the same holds for `\\` before a line
/// that starts with an operator (`&\quad + b` in `align`). Inside brackets, a line that
/// starts like a new statement (`z = …`) does end it, so an unclosed `(` is reported on its
/// own line.
pub fn split_statements(source: &str, tokens: &[Token], newlines: Newlines) -> Vec<Piece> {
    let next = next_significant(source, tokens);
    let significant = |i: usize| next.get(i).and_then(|&j| tokens.get(j));
    // Whether the line after token `i` starts with an operator, or like a statement.
    let continues_line = |i: usize| significant(i + 1).is_some_and(|t| is_binary_operator(source, t));
    let starts_statement = |i: usize| {
        let first = significant(i + 1);
        let second = next.get(i + 1).and_then(|&j| significant(j + 1));
        matches!(
            (first.map(|t| t.kind), second.map(|t| t.kind)),
            (Some(K::Word | K::Greek), Some(K::Equals | K::Colon | K::In))
        )
    };
    let mut pieces = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut flush = |current: &mut Vec<Token>, separator: Option<Token>, depth: &mut usize| {
        if !current.is_empty() {
            pieces.push(Piece { tokens: std::mem::take(current), separator });
        }
        *depth = 0;
    };
    for (i, &token) in tokens.iter().enumerate() {
        match token.kind {
            K::LParen | K::LBracket | K::LBrace => depth += 1,
            K::RParen | K::RBracket | K::RBrace => depth = depth.saturating_sub(1),
            K::Semicolon => {
                flush(&mut current, Some(token), &mut depth);
                continue;
            }
            K::LineBreak => {
                if !continues_line(i) {
                    flush(&mut current, Some(token), &mut depth);
                }
                continue;
            }
            K::Newline => {
                let continues = newlines == Newlines::Ignore
                    || (depth > 0 && !starts_statement(i))
                    || current.last().is_some_and(|t| is_binary_operator(source, t))
                    || continues_line(i);
                if !continues {
                    flush(&mut current, Some(token), &mut depth);
                }
                continue;
            }
            _ => {}
        }
        current.push(token);
    }
    flush(&mut current, None, &mut depth);
    pieces
}

/// For each index, the index of the first token at or after it that is not a newline,
/// alignment or spacing (`tokens.len()` if none): one pass from the end, so that looking
/// ahead from every newline stays linear.
fn next_significant(source: &str, tokens: &[Token]) -> Vec<usize> {
    let mut next = vec![tokens.len(); tokens.len() + 1];
    for (i, token) in tokens.iter().enumerate().rev() {
        let skipped = match token.kind {
            K::Newline | K::Ampersand | K::Tilde => true,
            K::Command | K::Escape => latex::is_spacing(&source[token.span.range()]),
            _ => false,
        };
        next[i] = if skipped { next[i + 1] } else { i };
    }
    next
}

fn is_binary_operator(source: &str, token: &Token) -> bool {
    match token.kind {
        K::Plus
        | K::Minus
        | K::Star
        | K::Slash
        | K::DotStar
        | K::DotSlash
        | K::Caret
        | K::DotCaret
        | K::Times
        | K::Circle => true,
        K::Command => latex::is_operator(&source[token.span.range()]),
        _ => false,
    }
}
