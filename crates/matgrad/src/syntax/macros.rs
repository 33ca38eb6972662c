//! Macros of pasted documents: `\def`, `\newcommand` (and `\renewcommand`,
//! `\providecommand`) and `\DeclareMathOperator`, defined anywhere in the math of a page and
//! expanded from their definition on, in page order.
//!
//! [`expand`] turns one math block into its *expansion*: a new text in which every macro
//! use is replaced by its body (recursively, within [`MAX_EXPANSIONS`] and [`MAX_TOKENS`]),
//! definitions are removed, `\eqalign{…}` is unwrapped and the `\begin`/`\end` of the
//! arranging environments are dropped, so that what follows reads the expansion exactly
//! as it reads a block without macros. The expansion carries a map back to the document.
//!
//! Invariant: every span of the expansion maps to a span of the original document
//! ([`Expansion::span`]). A token that expansion left alone maps character by character (a
//! block without macros maps exactly onto itself); a token a macro produced maps to the
//! whole use of the outermost macro (`\grad{L}{A}`), never to the definition, so carets
//! point where the reader sees the text.
//!
//! Expansion is iterative (a stack of tokens, never recursion), so a deep or endless macro
//! is an error, not a stack overflow or a hang.

use std::collections::HashMap;
use std::rc::Rc;

use super::latex;
use super::lexer::{lex, Token, TokenKind as K};
use crate::error::{Error, Span};

/// The most macro uses one block may expand.
pub const MAX_EXPANSIONS: usize = 10_000;

/// The most tokens expansion may add to a block.
pub const MAX_TOKENS: usize = 200_000;

/// The most macro uses, and the most tokens they add, on a whole page: a page of many
/// blocks that each expand without end must still be read quickly.
pub const MAX_PAGE_EXPANSIONS: usize = 100_000;
pub const MAX_PAGE_TOKENS: usize = 2_000_000;

/// The macros defined so far on a page, by name with its backslash (`\LR`), and what the
/// page has spent on expansion.
#[derive(Default)]
pub struct Macros {
    table: HashMap<String, Rc<Macro>>,
    expansions: usize,
    tokens: usize,
}

struct Macro {
    /// How many arguments it takes (`#1` … `#9`).
    parameters: usize,
    /// The default of the first argument, which is then optional (`\newcommand{\a}[2][x]`).
    default: Option<Vec<Piece>>,
    body: Vec<Piece>,
}

/// A token on its way through expansion.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Its kind, and where its text is: in the document, possibly inside a definition.
    token: Token,
    /// Text that replaces the token's own (`\DeclareMathOperator` makes `\operatorname`).
    text: Option<&'static str>,
    /// Where it comes from in the block: itself, or the whole use of the macro that made it.
    origin: Span,
}

impl Piece {
    fn own(token: Token) -> Piece {
        Piece { token, text: None, origin: token.span }
    }
}

/// A math block after expansion: its text, and the way back to the document.
#[derive(Debug, Clone)]
pub struct Expansion {
    pub text: String,
    segments: Vec<Segment>,
    /// Macro uses that could not expand (missing arguments, endless macros), at the use;
    /// the use is kept in the text as it was written.
    errors: Vec<Error>,
}

/// One token of the expansion.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Where it is in the expansion.
    start: usize,
    end: usize,
    /// Where it comes from in the document.
    origin: Span,
    /// Whether its text is the document's text at `origin`, so offsets map one to one.
    exact: bool,
}

impl Expansion {
    /// The first error of a macro use inside `span` (a span of the document), if any.
    pub fn error_within(&self, span: Span) -> Option<&Error> {
        self.errors.iter().find(|d| d.span.is_some_and(|s| s.start >= span.start && s.end <= span.end))
    }

    /// The document span that a span of the expansion comes from.
    pub fn span(&self, span: Span) -> Span {
        let Some(last) = self.segments.last() else { return Span::new(0, 0) };
        // The segment holding `span.start` (or the first one after it), and the one holding
        // the last byte of `span`.
        let first_index = self.segments.partition_point(|s| s.end <= span.start).min(self.segments.len() - 1);
        let first = self.segments[first_index];
        let start = if first.exact && span.start >= first.start && span.start < first.end {
            first.origin.start + (span.start - first.start)
        } else {
            first.origin.start
        };
        let end = if span.end <= span.start {
            start
        } else {
            let last_index = self.segments.partition_point(|s| s.start < span.end).saturating_sub(1);
            let segment = self.segments.get(last_index).copied().unwrap_or(*last);
            if segment.exact && span.end <= segment.end {
                segment.origin.start + (span.end - segment.start)
            } else {
                segment.origin.end
            }
        };
        Span::new(start, end.max(start))
    }
}

/// Expands the math in `source[range]` with the macros defined so far, and records the
/// definitions it makes in `macros` (also when it fails, up to the error).
pub fn expand(source: &str, range: Span, macros: &mut Macros) -> Result<Expansion, Error> {
    let tokens = lex_math(source, range);
    let limit = tokens.len() + MAX_TOKENS;
    let pending = tokens.into_iter().rev().map(Piece::own).collect();
    let mut expander = Expander { source, macros, pending, out: Vec::new(), expansions: 0, errors: Vec::new(), limit };
    expander.run()?;
    Ok(expander.finish())
}

/// Lexes math, where `#1` is a macro parameter (the lexer would take `#` for a comment):
/// each `#` with its digit becomes one `Unknown` token; `%` comments are skipped.
fn lex_math(source: &str, range: Span) -> Vec<Token> {
    let bytes = source.as_bytes();
    let end = range.end.min(source.len());
    let mut tokens = Vec::new();
    let mut start = range.start;
    let mut i = range.start;
    while i < end {
        match bytes[i] {
            // An escaped character (`\#`, `\%`) or a command: the lexer reads it.
            b'\\' => i += 2,
            b'%' => {
                tokens.extend(lex(source, Span::new(start, i)));
                let rest = &source[i..end];
                i += rest.find(['\n', '\r']).unwrap_or(rest.len());
                start = i;
            }
            b'#' => {
                tokens.extend(lex(source, Span::new(start, i)));
                let length = if bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()) && i + 1 < end { 2 } else { 1 };
                tokens.push(Token { kind: K::Unknown, span: Span::new(i, i + length) });
                i += length;
                start = i;
            }
            _ => i += 1,
        }
    }
    tokens.extend(lex(source, Span::new(start.min(end), end)));
    tokens
}

struct Expander<'a> {
    source: &'a str,
    macros: &'a mut Macros,
    /// Tokens still to read, next last.
    pending: Vec<Piece>,
    out: Vec<Piece>,
    expansions: usize,
    /// Uses that could not expand.
    errors: Vec<Error>,
    /// The most tokens `pending` and `out` may hold together.
    limit: usize,
}

impl Expander<'_> {
    fn text(&self, piece: Piece) -> &str {
        piece.text.unwrap_or_else(|| self.source.get(piece.token.span.range()).unwrap_or(""))
    }

    /// The macro parameter a token is (`#2` is 2), if it is one.
    fn parameter(&self, piece: Piece) -> Option<usize> {
        let text = self.text(piece);
        let digit = text.strip_prefix('#')?;
        if piece.token.kind != K::Unknown {
            return None;
        }
        Some(digit.parse().unwrap_or(0))
    }

    fn run(&mut self) -> Result<(), Error> {
        while let Some(piece) = self.pending.pop() {
            if !matches!(piece.token.kind, K::Command | K::Escape) || piece.text.is_some() {
                self.out.push(piece);
                continue;
            }
            match self.text(piece) {
                r"\def" | r"\gdef" | r"\edef" | r"\xdef" => self.def(piece)?,
                r"\newcommand" | r"\renewcommand" => self.newcommand(piece, true)?,
                r"\providecommand" => self.newcommand(piece, false)?,
                r"\DeclareMathOperator" => self.declare_operator(piece)?,
                // Presentation around an equation: `\boxed{a = b}`, `\color{red}{a = b}` are
                // the equation (so that `=` stands at the top level of the row).
                r"\eqalign" => self.unwrap_group(piece)?,
                r"\boxed" => self.boxed(piece)?,
                r"\color" | r"\textcolor" => self.colour(piece)?,
                r"\begin" | r"\end" => self.environment(piece),
                name => match self.macros.table.get(name).cloned() {
                    Some(definition) => {
                        self.expand_use(piece, &definition)?;
                    }
                    None => self.out.push(piece),
                },
            }
        }
        Ok(())
    }

    fn finish(self) -> Expansion {
        let mut text = String::new();
        let mut segments = Vec::with_capacity(self.out.len());
        let mut previous: Option<Piece> = None;
        for piece in &self.out {
            // A parameter outside a definition is an error if the math is read; `\#` reads
            // as an unknown command, where `#` would start a comment.
            let stray = self.parameter(*piece).is_some();
            let own = self.text(*piece);
            let piece_text = if stray { r"\#" } else { own };
            let touches = previous.is_some_and(|p| {
                p.text.is_none() && piece.text.is_none() && p.token.span.end == piece.token.span.start
            });
            if previous.is_some() && !touches {
                text.push(' ');
            }
            let start = text.len();
            text.push_str(piece_text);
            let exact = !stray && piece.text.is_none() && piece.origin == piece.token.span;
            segments.push(Segment { start, end: text.len(), origin: piece.origin, exact });
            previous = Some(if stray { Piece { text: Some(r"\#"), ..*piece } } else { *piece });
        }
        Expansion { text, segments, errors: self.errors }
    }

    // ---- reading ----

    /// The next token that is not a line break, without taking it.
    fn peek(&self) -> Option<Piece> {
        self.pending.iter().rev().find(|p| p.token.kind != K::Newline).copied()
    }

    /// The next token that is not a line break.
    fn next(&mut self) -> Option<Piece> {
        while let Some(piece) = self.pending.pop() {
            if piece.token.kind != K::Newline {
                return Some(piece);
            }
        }
        None
    }

    fn next_is(&self, kind: K) -> bool {
        self.peek().is_some_and(|p| p.token.kind == kind)
    }

    /// The tokens up to the `}` that closes `open` (already taken), and that `}`.
    fn group(&mut self, open: Piece) -> Result<(Vec<Piece>, Piece), Error> {
        let mut depth = 0usize;
        let mut inside = Vec::new();
        while let Some(piece) = self.pending.pop() {
            match piece.token.kind {
                K::LBrace => depth += 1,
                K::RBrace if depth == 0 => return Ok((inside, piece)),
                K::RBrace => depth -= 1,
                _ => {}
            }
            inside.push(piece);
        }
        Err(Error::new(open.origin, "unclosed `{`").with_hint("add the `}` that closes it"))
    }

    /// The tokens up to the `]` that closes `open` (already taken) outside braces, and it.
    fn bracket(&mut self, open: Piece) -> Result<(Vec<Piece>, Piece), Error> {
        let mut depth = 0usize;
        let mut inside = Vec::new();
        while let Some(piece) = self.pending.pop() {
            match piece.token.kind {
                K::LBrace => depth += 1,
                K::RBrace => depth = depth.saturating_sub(1),
                K::RBracket if depth == 0 => return Ok((inside, piece)),
                _ => {}
            }
            inside.push(piece);
        }
        Err(Error::new(open.origin, "unclosed `[`").with_hint("add the `]` that closes it"))
    }

    /// A braced group `{…}` after `after` (a command that needs one): its inside.
    fn braced(&mut self, after: Piece, what: &str) -> Result<(Vec<Piece>, Piece), Error> {
        match self.next() {
            Some(open) if open.token.kind == K::LBrace => self.group(open),
            found => {
                let command = self.text(after).to_string();
                let found = found.map_or("the end of the math".to_string(), |p| format!("`{}`", self.text(p)));
                Err(Error::new(after.origin, format!("expected {what} in braces after `{command}`, found {found}")))
            }
        }
    }

    /// Whether `count` macro arguments follow, without taking them. An unclosed group
    /// counts, for [`Self::group`] to report.
    fn has_arguments(&self, count: usize) -> bool {
        let mut rest = self.pending.iter().rev().map(|p| p.token.kind).filter(|&kind| kind != K::Newline);
        for _ in 0..count {
            match rest.next() {
                Some(K::LBrace) => {
                    let mut depth = 1usize;
                    while depth > 0 {
                        match rest.next() {
                            Some(K::LBrace) => depth += 1,
                            Some(K::RBrace) => depth -= 1,
                            Some(_) => {}
                            None => return true,
                        }
                    }
                }
                Some(K::RBrace) | None => return false,
                Some(_) => {}
            }
        }
        true
    }

    /// One macro argument, known to be there ([`Self::has_arguments`]): a braced group
    /// (without its braces) or a single token.
    fn argument(&mut self, at: Piece) -> Result<(Vec<Piece>, Piece), Error> {
        match self.next() {
            Some(open) if open.token.kind == K::LBrace => self.group(open),
            Some(piece) => Ok((vec![piece], piece)),
            None => Ok((Vec::new(), at)),
        }
    }

    /// A use that cannot expand stays as written; its error is reported only if the
    /// equation holding it is read as a statement (an aside or prose never is).
    fn cannot_expand(&mut self, piece: Piece, diagnostic: Error) {
        self.errors.push(diagnostic);
        self.out.push(piece);
    }

    // ---- definitions ----

    /// The name being defined: `\name`, or `{\name}`.
    fn defined_name(&mut self, definer: Piece) -> Result<String, Error> {
        let definer_text = self.text(definer).to_string();
        let missing = |span: Span| {
            Error::new(span, format!("expected a macro name after `{definer_text}`"))
                .with_hint(format!(r"write `{definer_text}{{\name}}{{…}}`"))
        };
        match self.next() {
            Some(piece) if matches!(piece.token.kind, K::Command | K::Escape) => Ok(self.text(piece).to_string()),
            Some(open) if open.token.kind == K::LBrace => {
                let (inside, close) = self.group(open)?;
                match inside.as_slice() {
                    [piece] if matches!(piece.token.kind, K::Command | K::Escape) => Ok(self.text(*piece).to_string()),
                    _ => Err(missing(open.origin.to(close.origin))),
                }
            }
            Some(piece) => Err(missing(piece.origin)),
            None => Err(missing(definer.origin)),
        }
    }

    /// `\def\name#1#2{body}`.
    fn def(&mut self, definer: Piece) -> Result<(), Error> {
        let name = self.defined_name(definer)?;
        let mut parameters = 0;
        while let Some(piece) = self.peek().filter(|p| p.token.kind != K::LBrace) {
            if self.parameter(piece) != Some(parameters + 1) {
                return Err(Error::new(
                    piece.origin,
                    format!("unsupported parameter text in the definition of `{name}`"),
                )
                .with_hint(r"write the parameters as `#1#2…` before the body, as in `\def\f#1{…}`"));
            }
            self.next();
            parameters += 1;
        }
        let (body, _) = self.braced(definer, "the body")?;
        self.define(name, parameters, None, body, true)
    }

    /// `\newcommand{\name}[2][default]{body}`; `replace` is false for `\providecommand`,
    /// which keeps an existing definition.
    fn newcommand(&mut self, definer: Piece, replace: bool) -> Result<(), Error> {
        if self.next_is(K::Star) {
            self.next();
        }
        let name = self.defined_name(definer)?;
        let mut parameters = 0;
        let mut default = None;
        if let Some(open) = self.peek().filter(|p| p.token.kind == K::LBracket) {
            self.next();
            let (inside, close) = self.bracket(open)?;
            let count: String = inside.iter().map(|p| self.text(*p)).collect();
            parameters = match count.trim().parse::<usize>() {
                Ok(n @ 0..=9) => n,
                _ => {
                    return Err(Error::new(
                        open.origin.to(close.origin),
                        format!("expected a number of arguments from 0 to 9 for `{name}`"),
                    ))
                }
            };
            if let Some(open) = self.peek().filter(|p| p.token.kind == K::LBracket) {
                self.next();
                default = Some(self.bracket(open)?.0);
            }
        }
        let (body, _) = self.braced(definer, "the body")?;
        self.define(name, parameters, default, body, replace)
    }

    /// `\DeclareMathOperator{\Tr}{Tr}` (or starred): `\Tr` reads as `\operatorname{Tr}`.
    fn declare_operator(&mut self, definer: Piece) -> Result<(), Error> {
        if self.next_is(K::Star) {
            self.next();
        }
        let name = self.defined_name(definer)?;
        let open = match self.next() {
            Some(open) if open.token.kind == K::LBrace => open,
            _ => {
                return Err(Error::new(
                    definer.origin,
                    format!("expected the operator's name in braces after `{name}`"),
                ))
            }
        };
        let (inside, close) = self.group(open)?;
        let operator = Piece { text: Some(r"\operatorname"), ..definer };
        let body = std::iter::once(operator).chain([open]).chain(inside).chain([close]).collect();
        self.define(name, 0, None, body, true)
    }

    fn define(
        &mut self,
        name: String,
        parameters: usize,
        default: Option<Vec<Piece>>,
        body: Vec<Piece>,
        replace: bool,
    ) -> Result<(), Error> {
        if let Some(piece) = body.iter().find(|p| self.parameter(**p).is_some_and(|n| n == 0 || n > parameters)) {
            let takes = match parameters {
                1 => "1 argument".to_string(),
                n => format!("{n} arguments"),
            };
            return Err(Error::new(
                piece.origin,
                format!("`{}` in the definition of `{name}`, which takes {takes}", self.text(*piece)),
            ));
        }
        if replace || !self.macros.table.contains_key(&name) {
            self.macros.table.insert(name, Rc::new(Macro { parameters, default, body }));
        }
        Ok(())
    }

    // ---- uses ----

    /// Replaces a use of `definition` (the macro token `piece`) by its body, to be read again.
    fn expand_use(&mut self, piece: Piece, definition: &Macro) -> Result<(), Error> {
        let name = self.text(piece).to_string();
        self.expansions += 1;
        self.macros.expansions += 1;
        self.macros.tokens += definition.body.len();
        let added = definition.body.len() + self.pending.len() + self.out.len();
        if self.expansions > MAX_EXPANSIONS
            || added > self.limit
            || self.macros.expansions > MAX_PAGE_EXPANSIONS
            || self.macros.tokens > MAX_PAGE_TOKENS
        {
            let limit = if self.expansions > MAX_EXPANSIONS {
                format!("{MAX_EXPANSIONS} macro uses in one formula")
            } else {
                "the macro uses a page may make".to_string()
            };
            let diagnostic = Error::new(piece.origin, format!("the macro `{name}` does not finish expanding"))
                .with_hint(format!(
                    r"a macro that uses itself, as in `\def\a{{\a}}`, never ends; expansion stops after {limit}"
                ));
            self.cannot_expand(piece, diagnostic);
            return Ok(());
        }
        let mut last = piece;
        let mut arguments: Vec<(Vec<Piece>, bool)> = Vec::with_capacity(definition.parameters);
        if let Some(default) = definition.default.as_ref().filter(|_| definition.parameters > 0) {
            match self.peek().filter(|p| p.token.kind == K::LBracket) {
                Some(open) => {
                    self.next();
                    let (inside, close) = self.bracket(open)?;
                    last = close;
                    arguments.push((inside, false));
                }
                None => arguments.push((default.clone(), true)),
            }
        }
        let mandatory = definition.parameters - arguments.len();
        if !self.has_arguments(mandatory) {
            let diagnostic = Error::new(piece.origin, format!("missing argument of the macro `{name}`"))
                .with_hint(format!("write its arguments in braces after it, as in `{name}{{x}}`"));
            self.cannot_expand(piece, diagnostic);
            return Ok(());
        }
        for _ in 0..mandatory {
            let (argument, end) = self.argument(piece)?;
            last = end;
            arguments.push((argument, false));
        }
        let origin = piece.origin.to(last.origin);
        let mut produced = Vec::with_capacity(definition.body.len());
        for token in &definition.body {
            match self.parameter(*token) {
                Some(n) => {
                    let (argument, from_definition) = &arguments[n - 1];
                    if *from_definition {
                        produced.extend(argument.iter().map(|p| Piece { origin, ..*p }));
                    } else {
                        produced.extend(argument.iter().copied());
                    }
                }
                None => produced.push(Piece { origin, ..*token }),
            }
        }
        if produced.len() + self.pending.len() + self.out.len() > self.limit {
            let diagnostic = Error::new(origin, format!("the macro `{name}` expands to too much text"))
                .with_hint(format!("expansion stops at {MAX_TOKENS} tokens in one formula"));
            self.cannot_expand(piece, diagnostic);
            return Ok(());
        }
        self.pending.extend(produced.into_iter().rev());
        Ok(())
    }

    /// `\boxed{a = b}`: the boxed equation, so that its `=` stands at the top level of the
    /// row; `\boxed{a + b}^2` keeps its group (a box is a bracket), for `prepare` to drop
    /// the command.
    fn boxed(&mut self, piece: Piece) -> Result<(), Error> {
        match self.peek() {
            Some(open) if open.token.kind == K::LBrace => {
                self.next();
                let (inside, close) = self.group(open)?;
                let mut depth = 0usize;
                let equation = inside.iter().any(|p| {
                    match p.token.kind {
                        K::LBrace | K::LParen | K::LBracket => depth += 1,
                        K::RBrace | K::RParen | K::RBracket => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    depth == 0 && p.token.kind == K::Equals
                });
                if equation {
                    self.pending.extend(inside.into_iter().rev());
                } else {
                    self.out.push(piece);
                    self.out.push(open);
                    self.pending.push(close);
                    self.pending.extend(inside.into_iter().rev());
                }
            }
            _ => self.out.push(piece),
        }
        Ok(())
    }

    /// `\color{red}{x}` and `\textcolor{red}{x}`: `x`; `\color{red} x`: `x`.
    fn colour(&mut self, piece: Piece) -> Result<(), Error> {
        match self.peek() {
            Some(open) if open.token.kind == K::LBrace => {
                self.next();
                self.group(open)?;
                if self.peek().is_some_and(|next| next.token.kind == K::LBrace) {
                    let next = self.next().expect("peeked");
                    let (inside, _) = self.group(next)?;
                    self.pending.extend(inside.into_iter().rev());
                }
            }
            _ => self.out.push(piece),
        }
        Ok(())
    }

    /// `\eqalign{rows}` (plain TeX): the rows, as if written without it.
    fn unwrap_group(&mut self, piece: Piece) -> Result<(), Error> {
        match self.peek() {
            Some(open) if open.token.kind == K::LBrace => {
                self.next();
                let (inside, _) = self.group(open)?;
                self.pending.extend(inside.into_iter().rev());
            }
            _ => self.out.push(piece),
        }
        Ok(())
    }

    /// `\begin{aligned}`, `\end{split}`: dropped for the environments that only arrange
    /// equations; any other is kept for the parser to report.
    fn environment(&mut self, piece: Piece) {
        let mut name = String::new();
        let mut taken = 0;
        let mut closed = false;
        for (n, next) in self.pending.iter().rev().enumerate().take(6) {
            match next.token.kind {
                K::LBrace if n == 0 => {}
                K::RBrace if n > 0 => {
                    taken = n + 1;
                    closed = true;
                    break;
                }
                _ if n > 0 => name.push_str(self.text(*next)),
                _ => break,
            }
        }
        if closed && latex::ENVIRONMENTS.contains(&name.as_str()) {
            let keep = self.pending.len() - taken;
            self.pending.truncate(keep);
        } else {
            self.out.push(piece);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion of the math `source`, with `source`'s own definitions.
    fn expanded(source: &str) -> Result<String, String> {
        let mut macros = Macros::default();
        let expansion = expand(source, Span::new(0, source.len()), &mut macros).map_err(|d| d.message)?;
        match expansion.errors.first() {
            Some(error) => Err(error.message.clone()),
            None => Ok(expansion.text),
        }
    }

    #[test]
    fn expands_in_order_with_parameters() {
        let rows: &[(&str, &str)] = &[
            (r"\def\s{\sigma} \s(y)", r"\sigma (y)"),
            (r"\def\LR#1{\left(#1\right)} \LR{a+b}", r"\left( a+b \right)"),
            (r"\def\p{\partial}\def\grad#1#2{\frac{\p #1}{\p #2}} \grad{L}{A}", r"\frac{ \partial L }{ \partial A }"),
            (r"\newcommand{\dv}[1]{\operatorname{d}\!{#1}} \dv{x_i}", r"\operatorname{d}\!{ x_i }"),
            (r"\newcommand\foo{x} \foo", "x"),
            (r"\newcommand{\a}{x} \renewcommand{\a}{y} \a", "y"),
            (r"\newcommand{\a}{x} \providecommand{\a}{y} \providecommand{\b}{z} \a\b", "x z"),
            (r"\newcommand{\a}[2][x]{#1+#2} \a{y} \a[z]{y}", "x + y z + y"),
            (r"\DeclareMathOperator{\Tr}{Tr} \Tr(A)", r"\operatorname {Tr} (A)"),
            (r"\DeclareMathOperator*{\argmin}{arg\,min} \argmin", r"\operatorname {arg\,min}"),
            (r"\eqalign{ a &= b \\ c &= d }", r"a &= b \\ c &= d"),
            (r"\begin{aligned} a &= b \end{aligned}", "a &= b"),
            (r"\begin{bmatrix} a \end{bmatrix}", r"\begin{bmatrix} a \end{bmatrix}"),
            (r"\s", r"\s"),
            // A use before the definition is not expanded.
            (r"\s \def\s{\sigma} \s", r"\s \sigma"),
            // Macro names end at the first non-letter.
            (r"\def\a{x}\a_1", "x _1"),
        ];
        for (input, output) in rows {
            assert_eq!(expanded(input).as_deref(), Ok(*output), "{input}");
        }
    }

    #[test]
    fn endless_or_broken_macros_are_errors() {
        let rows: &[(&str, &str)] = &[
            (r"\def\a{\a} \a", r"the macro `\a` does not finish expanding"),
            (r"\def\a{\a\a} \a", r"the macro `\a` does not finish expanding"),
            (r"\def\a{x\a} \a", r"the macro `\a` does not finish expanding"),
            (r"\def\LR#1{(#1)} \LR", r"missing argument of the macro `\LR`"),
            (r"\def\a#1{#2}", r"`#2` in the definition of `\a`, which takes 1 argument"),
            (r"\def\a{x", "unclosed `{`"),
            (r"\def", r"expected a macro name after `\def`"),
            (r"\def\a", r"expected the body in braces after `\def`, found the end of the math"),
            (r"\def\a.{x}", r"unsupported parameter text in the definition of `\a`"),
            (r"\newcommand{\a}[x]{y}", r"expected a number of arguments from 0 to 9 for `\a`"),
        ];
        for (input, message) in rows {
            assert_eq!(expanded(input).err().as_deref(), Some(*message), "{input}");
        }
    }

    #[test]
    fn spans_map_back_to_the_use() {
        let source = r"\def\LR#1{\left(#1\right)} y = \LR{Ax}";
        let mut macros = Macros::default();
        let expansion = expand(source, Span::new(0, source.len()), &mut macros).expect("expands");
        assert_eq!(expansion.text, r"y = \left( Ax \right)");
        let back = |from: usize, to: usize| &source[expansion.span(Span::new(from, to)).range()];
        assert_eq!(back(0, 1), "y");
        // `A` inside the argument maps exactly; the body's `\left(` maps to the whole use.
        assert_eq!(back(11, 12), "A");
        assert_eq!(back(11, 13), "Ax");
        assert_eq!(back(4, 10), r"\LR{Ax}");
        assert_eq!(back(4, expansion.text.len()), r"\LR{Ax}");
        assert_eq!(back(0, expansion.text.len()), r"y = \LR{Ax}");
    }
}
