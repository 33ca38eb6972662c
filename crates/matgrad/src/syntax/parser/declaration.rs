//! Declarations and their types: `A, B: matrix(m, n)`, `x ∈ ℝ^K`, `ℝᵐˣⁿ`,
//! `x \in \mathbb{R^k}` (the size inside the braces, as the motivating question writes it).

use super::{fail, greek_name, Delim, Mode, Open, Parser, Result};
use crate::error::{Error, Span};
use crate::syntax::ast::{DimSpec, DimSpecKind, Item, Name, TypeSpec};
use crate::syntax::latex::{self, Command};
use crate::syntax::lexer::{small_script_text, Token, TokenKind as K};
use crate::syntax::names;

const TYPE_HINT: &str = "types are `scalar`, `vector(n)` and `matrix(m, n)`, or `ℝ`, `ℝ^n` and `ℝ^{m×n}`";
const SIZE_HINT: &str = "a size is a name like `n` or a positive whole number like `3`";

impl Parser<'_> {
    /// `x, y: vector(n)`, `x ∈ ℝ^K, A, B ∈ ℝ^{K×K}`: a `,` after a type starts the next
    /// declaration.
    pub(super) fn declarations(&mut self) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        loop {
            let names = self.declared_names()?;
            let last = names.last().map_or(self.end_span(), |n| n.span);
            let separator = match self.peek() {
                Some(token) if matches!(token.kind, K::Colon | K::In) => self.bump(),
                found => return fail(self.expected("`:` or `∈` after the names to declare", last, found)),
            };
            let (ty, ty_span) = self.type_spec(separator)?;
            let span = names.first().map_or(ty_span, |n| n.span).to(ty_span);
            items.push(Item::Declare { names, ty, span });
            match self.peek() {
                None => return Ok(items),
                Some(token) if token.kind == K::Comma => {
                    self.bump();
                }
                Some(token) => return fail(self.unexpected(token)),
            }
        }
    }

    fn declared_names(&mut self) -> Result<Vec<Name>> {
        let mut names = Vec::new();
        let mut comma: Option<Token> = None;
        loop {
            match self.peek() {
                Some(token) if self.opens_operand(token) => {}
                found => {
                    return fail(match comma {
                        Some(comma) => self.expected("a name after `,`", comma.span, found),
                        None => self.expected("a name to declare", self.end_span(), found),
                    })
                }
            }
            let node = self.primary()?;
            let Some(text) = super::name_of(&node.expr).map(str::to_string) else {
                return fail(
                    Error::new(node.expr.span, "expected a name to declare")
                        .with_hint("write `x: vector(n)` or `x ∈ ℝ^n`"),
                );
            };
            names.push(Name { text, span: node.expr.span });
            match self.peek() {
                Some(token) if token.kind == K::Comma => comma = Some(self.bump()),
                _ => return Ok(names),
            }
        }
    }

    // ---- types ----

    fn type_spec(&mut self, separator: Token) -> Result<(TypeSpec, Span)> {
        let what = format!("a type after `{}`", self.text(separator));
        let Some(token) = self.peek() else {
            return fail(self.expected(&what, separator.span, None).with_hint(TYPE_HINT));
        };
        let text = self.text(token);
        match token.kind {
            K::Reals => {
                self.bump();
                self.real_space(token.span)
            }
            K::Command if matches!(latex::command(&text[1..]), Some(Command::Blackboard | Command::Bold)) => {
                self.bump();
                self.blackboard(token)
            }
            K::Word => match text {
                "R" => {
                    self.bump();
                    self.real_space(token.span)
                }
                "scalar" | "real" => {
                    self.bump();
                    if self.at(K::LParen) {
                        return fail(
                            Error::new(token.span, format!("`{text}` takes no size"))
                                .with_hint("write `x: scalar`, or `x: vector(n)` for a vector"),
                        );
                    }
                    Ok((TypeSpec::Scalar, token.span))
                }
                "vector" | "matrix" => {
                    self.bump();
                    self.sized_type(token)
                }
                _ => fail(unknown_type(text, token.span)),
            },
            _ => fail(self.expected(&what, separator.span, Some(token)).with_hint(TYPE_HINT)),
        }
    }

    /// `vector(n)`, `matrix(m, n)`.
    fn sized_type(&mut self, keyword: Token) -> Result<(TypeSpec, Span)> {
        let name = self.text(keyword);
        let example = if name == "vector" { "vector(n)" } else { "matrix(m, n)" };
        let open = match self.peek() {
            Some(token) if token.kind == K::LParen => self.bump(),
            found => {
                return fail(
                    self.expected(&format!("`(` after `{name}`"), keyword.span, found)
                        .with_hint(format!("write `{example}`")),
                )
            }
        };
        self.open.push(Open { delim: Delim::Paren, token: open });
        let mut sizes = vec![self.dim(open)?];
        while self.at(K::Comma) {
            let comma = self.bump();
            sizes.push(self.dim(comma)?);
        }
        let close = self.close()?;
        let span = keyword.span.to(close.span);
        let count = sizes.len();
        let mut sizes = sizes.into_iter();
        match (name, sizes.next(), sizes.next()) {
            ("vector", Some(length), None) => Ok((TypeSpec::Vector(length), span)),
            ("matrix", Some(rows), Some(columns)) if count == 2 => Ok((TypeSpec::Matrix(rows, columns), span)),
            ("vector", ..) => fail(
                Error::new(span, "vector takes one size (its length)")
                    .with_hint("write `vector(n)`, or `matrix(m, n)` for a matrix"),
            ),
            _ => fail(
                Error::new(span, "matrix takes two sizes (rows, columns)")
                    .with_hint("write `matrix(m, n)`, or `vector(n)` for a vector"),
            ),
        }
    }

    /// After `ℝ`: nothing (a scalar), `^n`, `^{m×n}`, or superscripts `ℝⁿ`, `ℝᵐˣⁿ`.
    fn real_space(&mut self, start: Span) -> Result<(TypeSpec, Span)> {
        let (sizes, span) = match self.peek() {
            Some(token) if token.kind == K::Caret => {
                let caret = self.bump();
                self.sizes(caret)?
            }
            Some(token) if matches!(token.kind, K::SupNumber | K::SupLetters | K::SupT) => self.superscript_sizes()?,
            _ => return Ok((TypeSpec::Scalar, start)),
        };
        Ok((space_type(sizes), start.to(span)))
    }

    /// `\mathbb{R}^n`, `\mathbb R^n`, and `\mathbb{R^n}` (the size inside the braces, as
    /// people write it).
    fn blackboard(&mut self, command: Token) -> Result<(TypeSpec, Span)> {
        match self.peek() {
            Some(open) if open.kind == K::LBrace => {
                self.bump();
                self.open.push(Open { delim: Delim::Brace, token: open });
                self.reals_letter(command)?;
                let inner = if self.at(K::Caret) {
                    let caret = self.bump();
                    Some(self.sizes(caret)?)
                } else {
                    None
                };
                let close = self.close()?;
                let span = command.span.to(close.span);
                match inner {
                    Some((sizes, _)) => Ok((space_type(sizes), span)),
                    None => self.real_space(span),
                }
            }
            Some(token) if token.kind == K::Word => {
                self.reals_letter(command)?;
                self.real_space(command.span.to(token.span))
            }
            found => fail(
                self.expected(&format!("`{{R}}` after `{}`", self.text(command)), command.span, found)
                    .with_hint(r"write `\mathbb{R}^n`"),
            ),
        }
    }

    fn reals_letter(&mut self, command: Token) -> Result<()> {
        match self.peek() {
            Some(token) if token.kind == K::Word && self.text(token) == "R" => {
                self.bump();
                Ok(())
            }
            found => fail(
                self.expected(&format!("`R` after `{}`", self.text(command)), command.span, found)
                    .with_hint(r"matgrad works over the real numbers: write `\mathbb{R}^n`"),
            ),
        }
    }

    /// The sizes after `^` in a space: one (`^n`, `^{n}`) or two (`^{m×n}`, `^(m x n)`).
    fn sizes(&mut self, caret: Token) -> Result<(Vec<DimSpec>, Span)> {
        let Some(token) = self.peek() else {
            return fail(self.expected("a size after `^`", caret.span, None).with_hint(SIZE_HINT));
        };
        let delim = match token.kind {
            K::LBrace => Delim::Brace,
            K::LParen => Delim::Paren,
            K::LBracket => Delim::Bracket,
            _ => {
                let size = self.dim(caret)?;
                let span = size.span;
                return Ok((vec![size], span));
            }
        };
        self.bump();
        self.open.push(Open { delim, token });
        let mut sizes = vec![self.dim(token)?];
        while let Some(separator) = self.size_separator() {
            sizes.push(self.dim(separator)?);
        }
        let close = self.close()?;
        let span = token.span.to(close.span);
        if sizes.len() > 2 {
            return fail(Error::new(span, "a space has at most two sizes (rows × columns)"));
        }
        Ok((sizes, span))
    }

    /// `×`, `\times`, `*`, `,` or the letter `x` between two sizes.
    fn size_separator(&mut self) -> Option<Token> {
        let token = self.peek()?;
        match token.kind {
            K::Times | K::Star | K::Comma => Some(self.bump()),
            K::Word if self.text(token) == "x" => Some(self.bump()),
            K::Word if self.mode == Mode::Latex && self.text(token).starts_with('x') => {
                self.split(1);
                Some(self.bump())
            }
            _ => None,
        }
    }

    /// `ℝⁿ`, `ℝ³`, `ℝᵐˣⁿ`: superscript sizes, a superscript `ˣ` between two.
    fn superscript_sizes(&mut self) -> Result<(Vec<DimSpec>, Span)> {
        let first = self.bump();
        let mut span = first.span;
        let mut text = small_script_text(self.text(first));
        while let Some(token) = self.peek() {
            if !matches!(token.kind, K::SupNumber | K::SupLetters | K::SupT) || token.span.start != span.end {
                break;
            }
            self.bump();
            text.push_str(&small_script_text(self.text(token)));
            span = span.to(token.span);
        }
        let cut = text.char_indices().find(|&(i, c)| c == 'x' && i > 0 && i + 1 < text.len()).map(|(i, _)| i);
        let parts = match cut {
            Some(i) => vec![&text[..i], &text[i + 1..]],
            None => vec![text.as_str()],
        };
        let mut sizes = Vec::new();
        for part in parts {
            let kind = if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                DimSpecKind::Number(positive_size(part, span)?)
            } else if part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                DimSpecKind::Symbol(part.to_string())
            } else {
                return fail(Error::new(span, format!("unsupported size `{part}`")).with_hint(SIZE_HINT));
            };
            sizes.push(DimSpec { kind, span });
        }
        Ok((sizes, span))
    }

    /// One size: a name (`n`, `K`, `d_{model}`) or a positive whole number.
    fn dim(&mut self, after: Token) -> Result<DimSpec> {
        let Some(token) = self.peek() else {
            return fail(
                self.expected(&format!("a size after `{}`", self.text(after)), after.span, None).with_hint(SIZE_HINT),
            );
        };
        let text = self.text(token);
        let (kind, span) = match token.kind {
            K::Number => {
                self.bump();
                (DimSpecKind::Number(positive_size(text, token.span)?), token.span)
            }
            K::Word => {
                let (name, span) = match self.mode {
                    Mode::Ascii => {
                        self.bump();
                        (text.to_string(), token.span)
                    }
                    Mode::Latex => {
                        let (letter, span) = self.letter();
                        self.subscripts(letter, span)?
                    }
                };
                (DimSpecKind::Symbol(name), span)
            }
            K::Greek => {
                self.bump();
                let name = greek_name(text);
                (DimSpecKind::Symbol(name.to_string()), token.span)
            }
            K::Command if matches!(latex::command(&text[1..]), Some(Command::Greek(_))) => {
                self.bump();
                let name = names::greek_command(&text[1..]).unwrap_or("");
                (DimSpecKind::Symbol(name.to_string()), token.span)
            }
            _ => {
                return fail(
                    self.expected(&format!("a size after `{}`", self.text(after)), after.span, Some(token))
                        .with_hint(SIZE_HINT),
                )
            }
        };
        Ok(DimSpec { kind, span })
    }
}

fn positive_size(text: &str, span: Span) -> std::result::Result<u64, Error> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::new(span, format!("a size must be a whole number, not `{text}`")).with_hint(SIZE_HINT));
    }
    match text.parse::<u64>() {
        Ok(0) => Err(Error::new(span, "a size must be positive").with_hint(SIZE_HINT)),
        Ok(size) => Ok(size),
        Err(_) => Err(Error::new(span, "size too large")),
    }
}

/// `ℝ^n` is a vector, `ℝ^{m×n}` a matrix (also `ℝ^{K×1}`: shapes are as written).
fn space_type(sizes: Vec<DimSpec>) -> TypeSpec {
    let mut sizes = sizes.into_iter();
    match (sizes.next(), sizes.next()) {
        (Some(rows), Some(columns)) => TypeSpec::Matrix(rows, columns),
        (Some(length), None) => TypeSpec::Vector(length),
        _ => TypeSpec::Scalar,
    }
}

fn unknown_type(word: &str, span: Span) -> Error {
    let diagnostic = Error::new(span, format!("unknown type `{word}`"));
    let nearest = ["scalar", "vector", "matrix", "real"]
        .into_iter()
        .map(|known| (strsim::damerau_levenshtein(&word.to_ascii_lowercase(), known), known))
        .min();
    match nearest {
        Some((distance, known)) if distance <= 2 => diagnostic.with_hint(format!("did you mean `{known}`?")),
        _ => diagnostic.with_hint(TYPE_HINT),
    }
}
