//! Statements and expressions: precedence climbing over the tokens of one statement.
//!
//! Operators, tightest first (MATLAB's order):
//!
//! | level | forms | associativity |
//! |---|---|---|
//! | postfix | `A'`, `Aᵀ`, `x²`, `A⁻¹` | |
//! | power | `^`, `.^`, LaTeX `^{…}`; the exponent may start with `-` (`2^-1`) | left: `2^3^2` is `(2^3)^2` |
//! | prefix | unary `-`, `+` (dropped): `-s^2` is `-(s^2)` | |
//! | juxtaposition | `2x`, `A x`, `·`, `\cdot`, `×` | left |
//! | product | `*`, `.*`, `./`, `/`, `⊙`, `∘`, `⊘` | left |
//! | Frobenius | `A : B` | left |
//! | sum | `+`, `-` | left |
//!
//! Juxtaposition binds tighter than the written products, as in mathematics: `M ⊙ A B` is
//! M ⊙ (A B), `2w : dw` is (2w) : dw. A `/` whose right operand is an unbracketed
//! juxtaposition (`1/2 x`) has two readings and is refused. A function written without
//! parentheses applies to the juxtaposition that follows (`\log \det X`, `\exp x^\top y`,
//! `\sin 2x`), up to the next function (`\sin x \cos y` is sin(x)·cos(y)).
//!
//! The mode ([`Mode`]) changes three things only: in LaTeX a word is a run of one-letter
//! names (`Ax` is `A·x`), `*` is elementwise, and `^` takes one character or a braced
//! group (`x^23` is `x²·3`). Tokens are split on demand (`Ax` into `A` and `x`), through a
//! small stack in front of the token list, so splitting never copies the list.
//!
//! Nesting is limited to [`MAX_DEPTH`] levels, both the parser's recursion and the depth of
//! the tree it builds (a chain `a+a+…+a` is a tree as deep as it is long), so that neither
//! the parser nor the passes after it can overflow the stack.

mod declaration;

use super::ast::{BinOp, Expr, ExprKind, Index, Item, Name, Range};
use super::latex::{self, Command};
use super::lexer::{lex, small_script_text, Token, TokenKind as K};
use super::names::{self, LONGEST_FUNCTION};
#[cfg(doc)]
use super::statement::split_statements;
use super::statement::{statement_kind, StatementKind};
use crate::error::{Error, Span};

/// Errors are boxed, and the tree is built of boxes ([`Node`]): results stay one or two
/// words, which keeps the parser's stack frames small in debug builds, where each
/// recursion level would otherwise take over 10 KB.
type Result<T> = std::result::Result<T, Box<Error>>;

fn fail<T>(diagnostic: Error) -> Result<T> {
    Err(Box::new(diagnostic))
}

/// The deepest an expression may nest: parentheses, operator chains, function arguments.
pub const MAX_DEPTH: usize = 256;

/// How a statement is spelled. See the module documentation of [`crate::syntax`] for the
/// rule that picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// ASCII and Unicode: multi-letter names, `*` is the matrix product.
    Ascii,
    /// LaTeX: one-letter names, `*` is elementwise, commands.
    Latex,
}

/// Parses one statement (raw tokens, as [`split_statements`] cut them) into items: one
/// assignment, or one or more declarations (`x ∈ ℝ^K, A ∈ ℝ^{K×K}`).
///
/// `end` describes what follows the statement, for messages such as "found end of line".
pub fn parse_statement(source: &str, tokens: &[Token], mode: Mode, end: &str) -> std::result::Result<Vec<Item>, Error> {
    if let Some(token) = tokens.iter().find(|t| matches!(t.kind, K::Unknown | K::BadNumber)) {
        let text = &source[token.span.range()];
        if token.kind == K::BadNumber {
            return Err(Error::new(token.span, format!("malformed number `{text}`")).with_hint(
                "a number has at most one decimal point, as in `1.25`; write products with a space or `*`",
            ));
        }
        let mut diagnostic = Error::new(token.span, format!("unexpected character `{}`", printable(text)));
        if printable(text) != text && !text.contains(['\n', '\t']) {
            diagnostic = diagnostic.with_hint("an invisible character, often carried by pasted text: delete it");
        }
        if text == "$" {
            diagnostic = diagnostic.with_hint("LaTeX math goes between `$$ … $$` or `$ … $`");
        }
        return Err(diagnostic);
    }
    let kind = statement_kind(source, tokens);
    let tokens = match mode {
        Mode::Latex => latex::prepare(source, tokens)?,
        Mode::Ascii => tokens.to_vec(),
    };
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    Parser { source, tokens, pos: 0, pending: Vec::new(), mode, open: Vec::new(), depth: 0, end, bound: Vec::new() }
        .statement(kind)
        .map_err(|diagnostic| *diagnostic)
}

/// Parses raw tokens as one expression, all of them: how a document tells whether the
/// left side of a displayed equation is a single name (a model statement) or not.
pub fn parse_expression(source: &str, tokens: &[Token], mode: Mode) -> std::result::Result<Expr, Error> {
    if let Some(token) = tokens.iter().find(|t| t.kind == K::Unknown) {
        return Err(Error::new(token.span, "unexpected character"));
    }
    let tokens = match mode {
        Mode::Latex => latex::prepare(source, tokens)?,
        Mode::Ascii => tokens.to_vec(),
    };
    let mut parser = Parser {
        source,
        tokens,
        pos: 0,
        pending: Vec::new(),
        mode,
        open: Vec::new(),
        depth: 0,
        end: "`=`",
        bound: Vec::new(),
    };
    let node = parser.expr(0).map_err(|diagnostic| *diagnostic)?;
    parser.expect_end().map_err(|diagnostic| *diagnostic)?;
    Ok(*node.expr)
}

/// An expression being built, with the depth of its tree.
struct Node {
    expr: Box<Expr>,
    depth: usize,
    /// For a product written by juxtaposition without brackets (`2 x`, `a b c`), the span of
    /// its first factor; None for anything else (brackets clear it).
    juxtaposed: Option<Span>,
}

fn leaf(kind: ExprKind, span: Span) -> Node {
    Node { expr: Box::new(Expr { kind, span }), depth: 1, juxtaposed: None }
}

/// What a `^` produced: `A^T` is a transpose, anything else a power.
enum Power {
    Transpose(Span),
    /// `A^{-T}`, `A^{-\top}`: the transpose of the inverse.
    InverseTranspose(Span),
    Exponent(Node),
}

/// An exponent as a power: `^{-1}`, `^-1` and `⁻¹` are all the number -1.
fn exponent_of(node: Node) -> Power {
    if let ExprKind::Neg(inner) = &node.expr.kind {
        if let ExprKind::Number(value) = inner.kind {
            return Power::Exponent(leaf(ExprKind::Number(-value), node.expr.span));
        }
    }
    Power::Exponent(node)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delim {
    Paren,
    Bracket,
    Brace,
    Norm,
    Abs,
    Angle,
}

/// An opened delimiter waiting for its closer.
#[derive(Debug, Clone, Copy)]
struct Open {
    delim: Delim,
    token: Token,
}

#[derive(Debug, Clone, Copy)]
enum Infix {
    Op(BinOp),
    /// An operator at the level of juxtaposition: `·`, `\cdot`, `×`.
    Tight(BinOp),
    /// Two operands side by side: `2x`, `A (u ⊙ v)`.
    Juxtapose,
}

impl Infix {
    /// (left, right) binding powers: a higher number binds tighter.
    fn binding_power(self) -> (u8, u8) {
        match self {
            Infix::Op(BinOp::Add | BinOp::Sub) => SUM,
            Infix::Op(BinOp::Frobenius) => FROBENIUS,
            Infix::Op(BinOp::Pow | BinOp::ElemPow) => (POWER, POWER + 1),
            Infix::Tight(_) | Infix::Juxtapose => JUXTAPOSED,
            Infix::Op(BinOp::Mul | BinOp::Dot | BinOp::ElemMul | BinOp::ElemDiv | BinOp::Div) => PRODUCT,
        }
    }
}

/// Binding powers, (left, right): a higher number binds tighter.
const SUM: (u8, u8) = (1, 2);
const FROBENIUS: (u8, u8) = (3, 4);
const PRODUCT: (u8, u8) = (5, 6);
const JUXTAPOSED: (u8, u8) = (7, 8);
/// An unbracketed function argument: a juxtaposition (`\exp x^\top y`). Only function
/// arguments are parsed at exactly this level, which is how [`Parser::expr_loop`] knows to
/// stop before the next function (`\sin x \cos y`).
const ARGUMENT: u8 = JUXTAPOSED.0;
/// The operand of a unary minus: powers bind inside it, products do not.
const PREFIX_OPERAND: u8 = 9;
/// `^` and `.^`.
const POWER: u8 = 11;

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Tokens in front of `tokens[pos]`, last first: the pieces of split tokens.
    pending: Vec<Token>,
    mode: Mode,
    /// Delimiters opened and not yet closed, innermost last. A bar closes a norm or an
    /// absolute value only when that is the innermost open delimiter.
    open: Vec<Open>,
    /// Current recursion depth.
    depth: usize,
    /// What follows the statement, for messages ("end of line", "`;`").
    end: &'a str,
    /// The indices of the sums being read, outermost first: inside `\sum_i`, `w_i` is an
    /// entry of `w`.
    bound: Vec<String>,
}

impl<'a> Parser<'a> {
    // ---- tokens ----

    fn peek(&self) -> Option<Token> {
        self.pending.last().copied().or_else(|| self.tokens.get(self.pos).copied())
    }

    fn nth_kind(&self, n: usize) -> Option<K> {
        let pending = self.pending.len();
        let token =
            if n < pending { self.pending.get(pending - 1 - n) } else { self.tokens.get(self.pos + n - pending) };
        token.map(|t| t.kind)
    }

    fn nth_text(&self, n: usize) -> Option<&'a str> {
        let pending = self.pending.len();
        let token =
            if n < pending { self.pending.get(pending - 1 - n) } else { self.tokens.get(self.pos + n - pending) };
        token.map(|t| self.text(*t))
    }

    fn at(&self, kind: K) -> bool {
        self.peek().is_some_and(|t| t.kind == kind)
    }

    fn bump(&mut self) -> Token {
        if let Some(token) = self.pending.pop() {
            return token;
        }
        match self.tokens.get(self.pos) {
            Some(&token) => {
                self.pos += 1;
                token
            }
            // Callers peek first; an empty token at the end keeps this total.
            None => Token { kind: K::Unknown, span: self.end_span() },
        }
    }

    /// Splits the next token after `at` bytes: `Ax` into `A` and `x`, `23` into `2` and
    /// `3`, `||` into `|` and `|`.
    fn split(&mut self, at: usize) {
        let Some(token) = self.peek() else { return };
        let mid = token.span.start + at;
        if at == 0 || mid >= token.span.end || !self.source.is_char_boundary(mid) {
            return;
        }
        self.bump();
        let mut pieces = lex(self.source, Span::new(token.span.start, mid));
        let tail = Span::new(mid, token.span.end);
        let tail_text = &self.source[tail.range()];
        // The tail of a word is again a word from its first letter on, so only what comes
        // before that letter is lexed: splitting a long word letter by letter stays linear.
        match tail_text.find(|c: char| c.is_ascii_alphabetic()) {
            Some(letter) if token.kind == K::Word => {
                pieces.extend(lex(self.source, Span::new(mid, mid + letter)));
                pieces.push(Token { kind: K::Word, span: Span::new(mid + letter, tail.end) });
            }
            _ => pieces.extend(lex(self.source, tail)),
        }
        self.pending.extend(pieces.into_iter().rev());
    }

    fn text(&self, token: Token) -> &'a str {
        self.source.get(token.span.range()).unwrap_or("")
    }

    fn end_span(&self) -> Span {
        let end = self.tokens.last().map_or(0, |t| t.span.end);
        Span::new(end, end)
    }

    /// How a message names a token: "`)`", or "end of line" past the last one.
    fn describe(&self, token: Option<Token>) -> String {
        let Some(token) = token else { return self.end.to_string() };
        let text = self.text(token);
        match text.char_indices().nth(40) {
            Some((cut, _)) => format!("`{}…`", &text[..cut]),
            None if token.kind == K::Newline => "end of line".to_string(),
            None => format!("`{}`", printable(text)),
        }
    }

    // ---- errors ----

    /// "expected {what}, found …", pointing at what was found, or, at the end of the
    /// statement, at the token after which something was expected (or at an unclosed
    /// bracket, the likelier mistake).
    fn expected(&self, what: &str, after: Span, found: Option<Token>) -> Error {
        match found {
            None => match self.open.last() {
                Some(open) => self.unclosed(*open),
                None => Error::new(after, format!("expected {what}, found {}", self.end)),
            },
            Some(token) => {
                let diagnostic =
                    Error::new(token.span, format!("expected {what}, found {}", self.describe(Some(token))));
                let after_text = self.source.get(after.range()).unwrap_or("");
                match token.kind {
                    K::Star if after_text == "*" => diagnostic.with_hint("write powers with `^`, as in `x^2`"),
                    K::Top => diagnostic.with_hint(format!(
                        "`{}` marks a transpose and only follows `^`, as in `A^{}`",
                        self.text(token),
                        self.text(token)
                    )),
                    _ => diagnostic,
                }
            }
        }
    }

    /// "expected {what} after `{after}`, found …".
    fn expected_after(&self, what: &str, after: Token, found: Option<Token>) -> Error {
        self.expected(&format!("{what} after `{}`", self.text(after)), after.span, found)
    }

    fn unclosed(&self, open: Open) -> Error {
        let opener = self.text(open.token);
        let closer = self.closer_text(open);
        let hint = match open.delim {
            Delim::Norm | Delim::Abs => format!("add a closing `{closer}`"),
            _ => format!("add `{closer}`"),
        };
        Error::new(open.token.span, format!("unclosed `{opener}`")).with_hint(hint)
    }

    fn closer_text(&self, open: Open) -> &'static str {
        match (open.delim, self.text(open.token)) {
            (Delim::Paren, _) => ")",
            (Delim::Bracket, r"\lbrack") => r"\rbrack",
            (Delim::Bracket, _) => "]",
            (Delim::Brace, r"\{") => r"\}",
            (Delim::Brace, _) => "}",
            (Delim::Norm, r"\|") => r"\|",
            (Delim::Norm, r"\lVert" | r"\Vert") => r"\rVert",
            (Delim::Norm, "||") => "||",
            (Delim::Norm, "∥") => "∥",
            (Delim::Norm, _) => "‖",
            (Delim::Abs, r"\lvert" | r"\vert") => r"\rvert",
            (Delim::Abs, _) => "|",
            (Delim::Angle, r"\langle") => r"\rangle",
            (Delim::Angle, _) => "⟩",
        }
    }

    /// A token that cannot continue the statement.
    fn unexpected(&self, token: Token) -> Error {
        let text = self.text(token);
        match token.kind {
            K::RParen | K::RBracket | K::RBrace => {
                let opener = match token.kind {
                    K::RParen => "(",
                    K::RBracket => "[",
                    _ => "{",
                };
                Error::new(token.span, format!("unmatched `{text}`"))
                    .with_hint(format!("remove it, or add the `{opener}` it closes"))
            }
            K::Equals => {
                let start = self.tokens.first().map_or(0, |t| t.span.start);
                let continued = self.source.get(start..token.span.start).is_some_and(|s| s.contains('\n'));
                Error::new(token.span, "unexpected `=`: a statement assigns one name").with_hint(match self.mode {
                    Mode::Ascii if continued => "the line before ends with an operator, so this line continues it",
                    Mode::Ascii => "put each statement on its own line, or separate them with `;`",
                    Mode::Latex => r"separate statements with `\\` or `;`",
                })
            }
            K::Dot if self.mode == Mode::Ascii => Error::new(token.span, "unexpected `.`")
                .with_hint("elementwise operators are written `.*`, `./` and `.^`"),
            K::Top => Error::new(token.span, format!("unexpected `{text}`"))
                .with_hint(format!("a transpose is written `A^{text}`")),
            _ => Error::new(token.span, format!("unexpected {}", self.describe(Some(token)))),
        }
    }

    fn too_deep(&self, span: Span) -> Error {
        Error::new(span, too_deep_message()).with_hint(
            "a sum or product counts one level per term, so `x1 + x2 + … + x300` is 300 levels deep: \
             split it into named steps, each `t = …` on its own line (`s = x1 + … + x100`, then `s + x101 + …`)",
        )
    }

    // ---- building the tree ----

    fn build(&self, kind: ExprKind, span: Span, depth: usize) -> Result<Node> {
        if depth > MAX_DEPTH {
            return fail(self.too_deep(span));
        }
        Ok(Node { expr: Box::new(Expr { kind, span }), depth, juxtaposed: None })
    }

    fn binary(&self, op: BinOp, lhs: Node, rhs: Node) -> Result<Node> {
        let span = lhs.expr.span.to(rhs.expr.span);
        let depth = lhs.depth.max(rhs.depth) + 1;
        self.build(ExprKind::Binary(op, lhs.expr, rhs.expr), span, depth)
    }

    fn unary(&self, make: fn(Box<Expr>) -> ExprKind, operand: Node, span: Span) -> Result<Node> {
        self.build(make(operand.expr), span, operand.depth + 1)
    }

    fn call(&self, name: &str, name_span: Span, args: Vec<Node>, span: Span) -> Result<Node> {
        let depth = args.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
        let args = args.into_iter().map(|a| *a.expr).collect();
        self.build(ExprKind::Call { name: name.to_string(), name_span, args }, span, depth)
    }

    /// Enters one more recursion level, refusing past [`MAX_DEPTH`]; the caller leaves it
    /// (`self.depth -= 1`) when done. (Not a closure-taking helper: in debug builds every
    /// frame on the recursive path counts.)
    fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            let span = self.peek().map_or(self.end_span(), |t| t.span);
            return fail(self.too_deep(span));
        }
        self.depth += 1;
        Ok(())
    }

    // ---- statements ----

    fn statement(&mut self, kind: StatementKind) -> Result<Vec<Item>> {
        if let Some(first) = self.peek() {
            if matches!(first.kind, K::Equals | K::Colon | K::In) {
                let text = self.text(first);
                let hint = match first.kind {
                    K::Equals => "write `name = expression`, as in `y = A*x`",
                    _ => "write `name: type`, as in `x: vector(n)`",
                };
                return fail(Error::new(first.span, format!("expected a name before `{text}`")).with_hint(hint));
            }
        }
        match kind {
            StatementKind::Assign => self.assignment().map(|item| vec![item]),
            StatementKind::Declare => self.declarations(),
            StatementKind::Other => fail(self.not_a_statement()),
        }
    }

    fn assignment(&mut self) -> Result<Item> {
        // `J(\theta) = …`, `f(X) = …`: a function's name with its arguments named, as papers
        // define a loss; the statement assigns the name.
        let target = match self.function_notation() {
            Some((name, length)) => {
                let token = self.bump();
                for _ in 0..length {
                    self.bump();
                }
                leaf(ExprKind::Var(name), token.span)
            }
            None => self.expr(0)?,
        };
        let equals = match self.peek() {
            Some(token) if token.kind == K::Equals => token,
            Some(token) => return fail(self.unexpected(token)),
            None => return fail(self.expected("`=`", target.expr.span, None)),
        };
        let Some(name) = name_of(&target.expr) else {
            return fail(
                Error::new(target.expr.span, "can only assign to a name")
                    .with_hint("the left side of `=` must be a single name, as in `y = A*x`"),
            );
        };
        let name = Name { text: name.to_string(), span: target.expr.span };
        self.bump();
        let value = self.operand_after(0, equals)?;
        self.expect_end()?;
        Ok(Item::Assign { span: name.span.to(value.expr.span), name, value: *value.expr })
    }

    /// For a left side `f(x, y) =` (one name, touching `(`, names and commas inside), the
    /// number of tokens of its parenthesised arguments.
    fn function_notation(&self) -> Option<(String, usize)> {
        if !self.pending.is_empty() {
            return None;
        }
        let tokens = &self.tokens[self.pos..];
        let name = tokens.first()?;
        let text = self.text(*name);
        let canonical = match name.kind {
            K::Word if self.mode == Mode::Ascii || text.len() == 1 => text.to_string(),
            K::Greek => greek_name(text).to_string(),
            K::Command => match latex::command(&text[1..]) {
                Some(Command::Greek(greek)) => greek.to_string(),
                _ => return None,
            },
            _ => return None,
        };
        // `\sigma(x) = 1/(1 + e^{-x})` defines a function the language has: not a model name.
        if names::latex_function(&canonical).is_some() || names::letter_function(&canonical).is_some() {
            return None;
        }
        let open = tokens.get(1)?;
        if open.kind != K::LParen || open.span.start != name.span.end {
            return None;
        }
        let close = tokens.iter().position(|t| t.kind == K::RParen)?;
        let arguments = &tokens[2..close];
        let names_only = !arguments.is_empty()
            && arguments.iter().all(|t| {
                matches!(
                    t.kind,
                    K::Word | K::Greek | K::Comma | K::Command | K::LBrace | K::RBrace | K::Underscore | K::Number
                )
            });
        let equals_next = tokens.get(close + 1).is_some_and(|t| t.kind == K::Equals);
        (names_only && equals_next).then_some((canonical, close))
    }

    fn expect_end(&self) -> Result<()> {
        match self.peek() {
            Some(token) => fail(self.unexpected(token)),
            None => Ok(()),
        }
    }

    /// The error for a statement that neither assigns nor declares, after reporting any
    /// error inside it.
    fn not_a_statement(&mut self) -> Error {
        let node = match self.expr(0) {
            Ok(node) => node,
            Err(diagnostic) => return *diagnostic,
        };
        if let Some(token) = self.peek() {
            return self.unexpected(token);
        }
        let hint = "a statement is an assignment such as `y = A*x` or a declaration such as `x: vector(n)`";
        match &node.expr.kind {
            ExprKind::Var(name) => Error::new(node.expr.span, format!("expected `=` after `{name}`")).with_hint(hint),
            _ => Error::new(node.expr.span, "expected a statement, found an expression")
                .with_hint("give it a name, as in `y = …`"),
        }
    }

    // ---- expressions ----

    /// An expression whose operators bind at least as tightly as `min_bp`.
    fn expr(&mut self, min_bp: u8) -> Result<Node> {
        self.enter()?;
        let result = self.expr_loop(min_bp);
        self.depth -= 1;
        result
    }

    fn expr_loop(&mut self, min_bp: u8) -> Result<Node> {
        let mut lhs = self.prefix()?;
        while let Some(token) = self.peek() {
            // Postfix forms after a LaTeX power (`x^2'`) apply to the power.
            if is_postfix(token.kind) {
                lhs = self.postfix_op(lhs)?;
                continue;
            }
            let Some(infix) = self.infix(token) else { break };
            if infix.binding_power().0 < min_bp {
                break;
            }
            // An unbracketed argument ends where the next function starts: `\sin x \cos y`.
            if min_bp == ARGUMENT && matches!(infix, Infix::Juxtapose) && self.starts_function(token) {
                break;
            }
            lhs = self.infix_operand(lhs, infix)?;
        }
        Ok(lhs)
    }

    /// Parses the right operand of `infix` and combines it with `lhs`.
    fn infix_operand(&mut self, lhs: Node, infix: Infix) -> Result<Node> {
        let right = infix.binding_power().1;
        match infix {
            Infix::Juxtapose | Infix::Tight(_) => {
                let first = lhs.juxtaposed.unwrap_or(lhs.expr.span);
                let (op, rhs) = match infix {
                    Infix::Tight(op) => {
                        let operator = self.bump();
                        (op, self.operand_after(right, operator)?)
                    }
                    _ => (BinOp::Mul, self.expr(right)?),
                };
                let mut node = self.binary(op, lhs, rhs)?;
                node.juxtaposed = Some(first);
                Ok(node)
            }
            Infix::Op(op @ (BinOp::Pow | BinOp::ElemPow)) => {
                let caret = self.bump();
                // `X^∘2`, as the Unicode printer writes an elementwise power of a matrix.
                let op = match self.peek() {
                    Some(circle) if op == BinOp::Pow && circle.kind == K::Circle && self.text(circle) == "∘" => {
                        self.bump();
                        BinOp::ElemPow
                    }
                    _ => op,
                };
                // `A^{\circ 2}`, `A^{\odot 2}`: the Hadamard power as LaTeX writes it.
                let hadamard = matches!(self.nth_text(1), Some("∘" | "\\circ" | "\\odot"));
                if op == BinOp::Pow && self.at(K::LBrace) && self.nth_kind(1) == Some(K::Circle) && hadamard {
                    let power = self.hadamard_exponent()?;
                    return self.raise(lhs, power, BinOp::ElemPow);
                }
                self.refuse_layer_index(&lhs, caret)?;
                let power = self.exponent(caret, op)?;
                self.raise(lhs, power, op)
            }
            Infix::Op(op) => {
                let operator = self.bump();
                let rhs = self.operand_after(right, operator)?;
                if let (BinOp::Div, Some(first)) = (op, rhs.juxtaposed) {
                    return fail(self.ambiguous_division(&lhs, operator, &rhs, first));
                }
                self.binary(op, lhs, rhs)
            }
        }
    }

    /// `1/2 x` reads as (1/2)·x or as 1/(2·x): refused, with both spellings.
    fn ambiguous_division(&self, lhs: &Node, operator: Token, rhs: &Node, first: Span) -> Error {
        let text = |span: Span| self.source.get(span.range()).unwrap_or("");
        let between = |a: Span, b: Span| self.source.get(a.end..b.start).unwrap_or("");
        // The division as the user spaced it: `1/2`, `a / b`.
        let divide = format!(
            "{}{}{}{}",
            text(lhs.expr.span),
            between(lhs.expr.span, operator.span),
            text(operator.span),
            between(operator.span, rhs.expr.span)
        );
        let rest = self.source.get(first.end..rhs.expr.span.end).unwrap_or("");
        Error::new(
            lhs.expr.span.to(rhs.expr.span),
            format!(
                "`{divide}{}` is ambiguous: the division may end before the product or after it",
                text(rhs.expr.span)
            ),
        )
        .with_hint(format!("write `({divide}{}){rest}` or `{divide}({})`", text(first), text(rhs.expr.span)))
    }

    /// The binary operator `token` stands for, or juxtaposition if it starts an operand.
    fn infix(&self, token: Token) -> Option<Infix> {
        let op = match token.kind {
            K::Plus => BinOp::Add,
            K::Minus => BinOp::Sub,
            // The question this tool grew from writes `u * v` in LaTeX for the
            // elementwise product; in ASCII (matrixcalculus.org) `*` is the matrix product.
            K::Star if self.mode == Mode::Latex => BinOp::ElemMul,
            K::Star => BinOp::Mul,
            K::Times if matches!(self.text(token), "×" | r"\times") => return Some(Infix::Tight(BinOp::Mul)),
            K::Times => return Some(Infix::Tight(BinOp::Dot)),
            K::Colon => BinOp::Frobenius,
            K::DotStar | K::Circle => BinOp::ElemMul,
            K::DotSlash => BinOp::ElemDiv,
            K::Slash => BinOp::Div,
            K::Caret => BinOp::Pow,
            K::DotCaret => BinOp::ElemPow,
            _ => return self.starts_operand(token).then_some(Infix::Juxtapose),
        };
        Some(Infix::Op(op))
    }

    /// Whether `token` can start an operand (so, after an operand, means juxtaposition).
    fn starts_operand(&self, token: Token) -> bool {
        match token.kind {
            K::Number
            | K::Word
            | K::Greek
            | K::LParen
            | K::LBracket
            | K::LBrace
            | K::Sqrt
            | K::BigSum
            | K::Command
            | K::Escape
            | K::LAngle
            | K::Identity
            | K::Ones
            | K::Fraction => true,
            K::Bar | K::DoubleBar | K::NormBar => !self.closes_innermost(token),
            _ => false,
        }
    }

    /// Whether `token` can start an operand where one is required (after an operator, `(`,
    /// or a function name): there a bar always opens (`‖x - ‖y‖‖`).
    fn opens_operand(&self, token: Token) -> bool {
        self.starts_operand(token) || matches!(token.kind, K::Bar | K::DoubleBar | K::NormBar)
    }

    /// Whether a bar closes the innermost open delimiter (inside `‖…‖` a `‖` closes it,
    /// elsewhere it opens a new one).
    fn closes_innermost(&self, token: Token) -> bool {
        matches!(
            (token.kind, self.open.last().map(|o| o.delim)),
            (K::NormBar | K::DoubleBar, Some(Delim::Norm)) | (K::Bar | K::DoubleBar, Some(Delim::Abs))
        )
    }

    /// An operand after `after` (an operator, `=`, `(`): "expected an expression after
    /// `+`" if there is none.
    fn operand_after(&mut self, min_bp: u8, after: Token) -> Result<Node> {
        match self.peek() {
            Some(token) if self.opens_operand(token) || matches!(token.kind, K::Minus | K::Plus) => self.expr(min_bp),
            found => fail(self.expected_after("an expression", after, found)),
        }
    }

    fn prefix(&mut self) -> Result<Node> {
        match self.peek() {
            Some(minus) if minus.kind == K::Minus => {
                self.bump();
                let operand = self.operand_after(PREFIX_OPERAND, minus)?;
                let span = minus.span.to(operand.expr.span);
                self.unary(ExprKind::Neg, operand, span)
            }
            Some(plus) if plus.kind == K::Plus => {
                self.bump();
                self.operand_after(PREFIX_OPERAND, plus)
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Node> {
        let mut node = self.primary()?;
        while self.peek().is_some_and(|t| is_postfix(t.kind)) {
            node = self.postfix_op(node)?;
        }
        Ok(node)
    }

    /// `'`, `ᵀ`, `²`, `⁻¹`, `ⁿ` applied to `node`.
    fn postfix_op(&mut self, node: Node) -> Result<Node> {
        let token = self.bump();
        let span = node.expr.span.to(token.span);
        let text = small_script_text(self.text(token));
        match token.kind {
            K::Prime | K::SupT => self.unary(ExprKind::Transpose, node, span),
            K::SupInverseTranspose => {
                let minus_one = leaf(ExprKind::Number(-1.0), token.span);
                let inverse = self.binary(BinOp::Pow, node, minus_one)?;
                self.unary(ExprKind::Transpose, inverse, span)
            }
            K::SupNumber => {
                let exponent = leaf(ExprKind::Number(number_value(&text, token.span)?), token.span);
                self.binary(BinOp::Pow, node, exponent)
            }
            _ => {
                let exponent = match text.strip_prefix('-') {
                    Some(name) => {
                        let var = leaf(ExprKind::Var(name.to_string()), token.span);
                        self.unary(ExprKind::Neg, var, token.span)?
                    }
                    None => leaf(ExprKind::Var(text), token.span),
                };
                self.binary(BinOp::Pow, node, exponent)
            }
        }
    }

    fn primary(&mut self) -> Result<Node> {
        let Some(token) = self.peek() else {
            return fail(self.expected("an expression", self.end_span(), None));
        };
        match token.kind {
            K::Number => self.number(),
            K::Word if self.mode == Mode::Ascii => self.ascii_word(),
            K::Word => self.latex_word(),
            K::Greek => {
                self.bump();
                self.named(greek_name(self.text(token)), token.span)
            }
            K::LParen | K::LBracket | K::LBrace => self.group(),
            K::NormBar | K::DoubleBar | K::Bar => self.bars(),
            K::Sqrt => {
                self.bump();
                self.apply_function("sqrt", token.span)
            }
            K::Command | K::Escape => self.command(),
            K::LAngle => self.inner_product(),
            K::Identity => {
                self.bump();
                let (name, span) = self.subscripts("I".to_string(), token.span)?;
                Ok(leaf(ExprKind::Var(name), span))
            }
            K::Ones => {
                self.bump();
                self.ones(token.span)
            }
            K::Fraction => self.vulgar_fraction(),
            K::BigSum => {
                self.bump();
                self.big_sum(token)
            }
            _ => fail(self.not_an_operand(token)),
        }
    }

    fn number(&mut self) -> Result<Node> {
        let token = self.bump();
        let value = number_value(self.text(token), token.span)?;
        Ok(leaf(ExprKind::Number(value), token.span))
    }

    fn not_an_operand(&self, token: Token) -> Error {
        Error::new(token.span, format!("expected an expression, found {}", self.describe(Some(token))))
    }

    /// An ASCII identifier: a variable, a call `f(x)` (a name touching `(`), or a known
    /// function applied to what follows (`sigmoid (y)`, `exp x`).
    fn ascii_word(&mut self) -> Result<Node> {
        let token = self.peek().map_or(Span::default(), |t| t.span);
        let (name, span) = self.ascii_name()?;
        if span == token {
            // `log det X` is logdet, as LaTeX's `\log\det X` is.
            if name == "log" && self.peek().is_some_and(|t| t.kind == K::Word && self.text(t) == "det") {
                let det = self.bump();
                return self.apply_function("logdet", span.to(det.span));
            }
            if let Some(function) = names::ascii_function(&name) {
                if let Some(mark) = self.prime_mark() {
                    return self.derivative(function, span, mark);
                }
                if self.has_argument() {
                    return self.apply_function(function, span);
                }
            }
            if self.peek().is_some_and(|t| t.kind == K::LParen && t.span.start == span.end) {
                return self.call_with_arguments(&name, span);
            }
        }
        Ok(leaf(ExprKind::Var(name), span))
    }

    /// An ASCII identifier with its subscripts: `W_1`, `W_{1}`, `W₁`.
    fn ascii_name(&mut self) -> Result<(String, Span)> {
        let token = self.bump();
        let mut name = self.text(token).to_string();
        let mut span = token.span;
        // The lexer ends a word at `{`, so `W_{1}` arrives as `W_` and `{1}`.
        if name.ends_with('_') && self.peek().is_some_and(|t| t.kind == K::LBrace && t.span.start == span.end) {
            let (subscript, subscript_span) = self.braced_subscript()?;
            name.push_str(&subscript);
            span = span.to(subscript_span);
        }
        self.subscripts(name, span)
    }

    /// A LaTeX word: a function if its letters name one (`tr`, `ReLU`), else its first
    /// letter, a one-letter variable (the rest is left for the next operand).
    fn latex_word(&mut self) -> Result<Node> {
        let Some(token) = self.peek() else {
            return fail(self.expected("an expression", self.end_span(), None));
        };
        let text = self.text(token);
        // Function names are short: counting no further keeps long words linear.
        let letters = text.bytes().take(LONGEST_FUNCTION + 1).take_while(u8::is_ascii_alphabetic).count();
        if (2..=LONGEST_FUNCTION).contains(&letters) {
            if let Some(function) = names::latex_function(&text[..letters]) {
                self.split(letters);
                let word = self.bump();
                return self.apply_function(function, word.span);
            }
        }
        let (letter, span) = self.letter();
        let (name, span) = self.subscripts(letter, span)?;
        Ok(leaf(ExprKind::Var(name), span))
    }

    /// The first letter of the next word, splitting it off.
    fn letter(&mut self) -> (String, Span) {
        self.split(1);
        let token = self.bump();
        (self.text(token).to_string(), token.span)
    }

    /// A Greek letter (`α`, `\alpha`): a variable; `σ` and `\sigma` before `(` are sigmoid (the
    /// function table gives the letters that name functions).
    fn named(&mut self, name: &str, span: Span) -> Result<Node> {
        if let Some(function) = names::letter_function(name) {
            if self.at(K::LParen) {
                return self.apply_function(function, span);
            }
            if let Some(mark) = self.prime_mark() {
                return self.derivative(function, span, mark);
            }
            // `σ y`: the sigmoid of y, or the scalar σ times y; the lowering decides (it
            // refuses unless σ is a variable). A call named `sigma` stands for this form.
            let spaced = self.peek().is_some_and(|t| t.span.start > span.end || self.mode == Mode::Latex);
            if spaced && self.peek().is_some_and(|t| self.starts_operand(t) && t.kind != K::LParen) {
                let argument = self.expr(ARGUMENT)?;
                return self.call_on(name, span, argument);
            }
        }
        let (name, full) = self.subscripts(name.to_string(), span)?;
        if self.mode == Mode::Ascii
            && full == span
            && self.peek().is_some_and(|t| t.kind == K::LParen && t.span.start == span.end)
        {
            return self.call_with_arguments(&name, span);
        }
        Ok(leaf(ExprKind::Var(name), full))
    }

    /// Subscripts after a name: `_1`, `_{out}`, `₁`. In ASCII the `_` must touch the name.
    fn subscripts(&mut self, mut name: String, mut span: Span) -> Result<(String, Span)> {
        loop {
            if let Some((subscript, subscript_span)) = self.subscript(span)? {
                name = with_subscript(&name, &subscript);
                span = span.to(subscript_span);
                continue;
            }
            match self.peek() {
                Some(token) if token.kind == K::SupLayer && token.span.start == span.end && !name.contains("^(") => {
                    self.bump();
                    name = format!("{name}^{}", small_script_text(self.text(token)));
                    span = span.to(token.span);
                }
                Some(token) if token.kind == K::Caret && !name.contains("^(") => match self.layer_index() {
                    Some((index, end)) => {
                        name = format!("{name}^({index})");
                        span = span.to(end);
                    }
                    None => return Ok((name, span)),
                },
                _ => return Ok((name, span)),
            }
        }
    }

    /// One subscript after what ends at `span`, consumed, with its text and where it is:
    /// `_1`, `_{out}` (touching it in plain text), `₁`. None (consuming nothing) otherwise.
    fn subscript(&mut self, span: Span) -> Result<Option<(String, Span)>> {
        match self.peek() {
            Some(token)
                if token.kind == K::Underscore && (self.mode == Mode::Latex || token.span.start == span.end) =>
            {
                self.bump();
                self.subscript_text(token).map(Some)
            }
            Some(token) if token.kind == K::Subscript && token.span.start == span.end => {
                self.bump();
                Ok(Some((small_script_text(self.text(token)), token.span)))
            }
            _ => Ok(None),
        }
    }

    /// `𝟙` (at `span`) and the length written on it, if any: `𝟙ₙ`, `𝟙_K`, `\mathbf{1}_{3}`.
    fn ones(&mut self, span: Span) -> Result<Node> {
        let (length, span) = match self.subscript(span)? {
            Some((length, length_span)) => (Some(length), span.to(length_span)),
            None => (None, span),
        };
        Ok(leaf(ExprKind::Ones(length), span))
    }

    /// `^{(1)}`, `^{(l)}`, `^{(l+1)}` after a name: a layer index, part of the name (machine
    /// learning writes W^{(1)} for the first layer's weights, never for a power). Consumes it
    /// and gives its text and where it ends; None (consuming nothing) for anything else.
    fn layer_index(&mut self) -> Option<(String, Span)> {
        let kinds: Vec<Option<K>> = (0..8).map(|n| self.nth_kind(n)).collect();
        if kinds[..3] != [Some(K::Caret), Some(K::LBrace), Some(K::LParen)] {
            return None;
        }
        let is_atom = |kind: Option<K>| matches!(kind, Some(K::Word | K::Number | K::Greek));
        let length = match kinds[3..] {
            [a, Some(K::RParen), Some(K::RBrace), ..] if is_atom(a) => 6,
            [a, Some(K::Plus | K::Minus), b, Some(K::RParen), Some(K::RBrace)] if is_atom(a) && is_atom(b) => 8,
            _ => return None,
        };
        let mut index = String::new();
        let mut end = Span::default();
        for n in 0..length {
            let token = self.bump();
            end = token.span;
            if (3..length - 2).contains(&n) {
                match token.kind {
                    K::Greek => index.push_str(greek_name(self.text(token))),
                    _ => index.push_str(self.text(token)),
                }
            }
        }
        // Digits and names only: `^{(1.5)}` is not an index.
        if !index.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_')) {
            return None;
        }
        Some((index, end))
    }

    /// The text after `_`: a braced group, digits, one letter (LaTeX) or a word (ASCII), or
    /// a Greek letter.
    fn subscript_text(&mut self, underscore: Token) -> Result<(String, Span)> {
        let Some(token) = self.peek() else {
            return fail(self.expected("a subscript after `_`", underscore.span, None));
        };
        let text = self.text(token);
        match token.kind {
            K::LBrace => self.braced_subscript(),
            K::Number if text.starts_with(|c: char| c.is_ascii_digit()) => {
                let digits = text.bytes().take_while(u8::is_ascii_digit).count();
                self.split(digits);
                let token = self.bump();
                Ok((self.text(token).to_string(), token.span))
            }
            K::Word if self.mode == Mode::Latex => Ok(self.letter()),
            K::Word => {
                self.bump();
                Ok((text.to_string(), token.span))
            }
            K::Greek => {
                self.bump();
                Ok((greek_name(text).to_string(), token.span))
            }
            K::Command => match latex::command(&text[1..]) {
                Some(Command::Greek(name)) => {
                    self.bump();
                    Ok((name.to_string(), token.span))
                }
                Some(Command::Upright | Command::Operator | Command::Bold) => {
                    self.bump();
                    self.braced_word(token)
                }
                _ => fail(self.expected("a subscript after `_`", underscore.span, Some(token))),
            },
            _ => fail(self.expected("a subscript after `_`", underscore.span, Some(token))),
        }
    }

    /// `{out}`, `{12}`, `{\text{out}}`: the text of a braced subscript.
    fn braced_subscript(&mut self) -> Result<(String, Span)> {
        let open = self.bump();
        let mut text = String::new();
        loop {
            let Some(token) = self.peek() else {
                return fail(self.unclosed(Open { delim: Delim::Brace, token: open }));
            };
            let piece = self.text(token);
            match token.kind {
                K::RBrace => {
                    self.bump();
                    if text.is_empty() {
                        return fail(Error::new(open.span.to(token.span), "empty subscript"));
                    }
                    return Ok((text, open.span.to(token.span)));
                }
                K::Word | K::Underscore => text.push_str(piece),
                // `A_{i,j}`: an entry, inside a sum over i and j.
                K::Comma if !self.bound.is_empty() && !text.is_empty() => text.push_str(piece),
                K::Number if piece.bytes().all(|b| b.is_ascii_digit()) => text.push_str(piece),
                K::Greek => text.push_str(greek_name(piece)),
                K::Command => match latex::command(&piece[1..]) {
                    Some(Command::Greek(name)) => text.push_str(name),
                    Some(Command::Upright | Command::Operator | Command::Bold) => {
                        self.bump();
                        let (word, _) = self.braced_word(token)?;
                        text.push_str(&word);
                        continue;
                    }
                    _ => return fail(self.bad_subscript(token)),
                },
                _ => return fail(self.bad_subscript(token)),
            }
            self.bump();
        }
    }

    fn bad_subscript(&self, token: Token) -> Error {
        Error::new(
            token.span,
            format!("unsupported subscript: expected letters or digits, found {}", self.describe(Some(token))),
        )
        .with_hint("a subscript is part of a name, as in `W_1` or `b_{out}`")
    }

    /// The word inside `\operatorname{…}`, `\mathrm{…}`, `\text{…}`, read whole (not as
    /// one-letter names).
    fn braced_word(&mut self, command: Token) -> Result<(String, Span)> {
        let command_text = self.text(command);
        let open = match self.peek() {
            Some(token) if token.kind == K::LBrace => self.bump(),
            found => {
                return fail(
                    self.expected(&format!("`{{` after `{command_text}`"), command.span, found)
                        .with_hint(format!("write `{command_text}{{name}}`")),
                )
            }
        };
        let mut text = String::new();
        loop {
            let Some(token) = self.peek() else {
                return fail(self.unclosed(Open { delim: Delim::Brace, token: open }));
            };
            match token.kind {
                K::RBrace => {
                    self.bump();
                    if text.is_empty() {
                        return fail(Error::new(
                            command.span.to(token.span),
                            format!("expected a name inside `{command_text}{{…}}`"),
                        ));
                    }
                    return Ok((text, command.span.to(token.span)));
                }
                K::Word | K::Number | K::Underscore => {
                    self.bump();
                    text.push_str(self.text(token));
                }
                _ => {
                    return fail(Error::new(
                        token.span,
                        format!("expected a name inside `{command_text}{{…}}`, found {}", self.describe(Some(token))),
                    ))
                }
            }
        }
    }

    /// `( … )`, `[ … ]`, `{ … }`: grouping (LaTeX braces are invisible parentheses).
    fn group(&mut self) -> Result<Node> {
        let open = self.bump();
        let delim = match open.kind {
            K::LParen => Delim::Paren,
            K::LBracket => Delim::Bracket,
            _ => Delim::Brace,
        };
        self.open.push(Open { delim, token: open });
        let mut node = self.operand_after(0, open)?;
        let close = self.close()?;
        node.expr.span = open.span.to(close.span);
        node.juxtaposed = None;
        if !self.bound.is_empty() {
            return self.group_entry(node);
        }
        Ok(node)
    }

    /// `(A x)_i` inside a sum over i: an entry of the bracketed value. Any other subscript
    /// on brackets is refused (they have no name to carry it).
    fn group_entry(&mut self, node: Node) -> Result<Node> {
        let Some((subscript, span)) = self.subscript(node.expr.span)? else {
            return Ok(node);
        };
        let indices: Vec<String> = index_pieces(&subscript).unwrap_or_default();
        if indices.is_empty() || !indices.iter().all(|index| self.bound.contains(index)) {
            return fail(Error::new(
                span,
                format!("`_{subscript}` after brackets: a subscript there is an entry, but `{subscript}` is not an index of a sum"),
            )
            .with_hint("inside `\\sum_i`, `(A x)_i` is the i-th entry of A x"));
        }
        let whole = node.expr.span.to(span);
        self.build(ExprKind::Entry { base: node.expr, indices, written: None }, whole, node.depth + 1)
    }

    /// `⟨x, y⟩`, `\langle X, Y \rangle`: the inner (Frobenius) product.
    fn inner_product(&mut self) -> Result<Node> {
        let open = self.bump();
        self.open.push(Open { delim: Delim::Angle, token: open });
        let left = self.operand_after(0, open)?;
        let comma = match self.peek() {
            Some(token) if token.kind == K::Comma => self.bump(),
            found => {
                let opener = self.text(open);
                return fail(
                    self.expected(&format!("`,` inside `{opener}…`"), left.expr.span, found)
                        .with_hint("an inner product is written `⟨x, y⟩`"),
                );
            }
        };
        let right = self.operand_after(0, comma)?;
        let close = self.close()?;
        let mut node = self.binary(BinOp::Frobenius, left, right)?;
        node.expr.span = open.span.to(close.span);
        Ok(node)
    }

    /// `½`, `¾`: the quotient of two numbers, as `\frac12` is.
    fn vulgar_fraction(&mut self) -> Result<Node> {
        let token = self.bump();
        let (top, bottom) = match self.text(token) {
            "½" => (1.0, 2.0),
            "⅓" => (1.0, 3.0),
            "⅔" => (2.0, 3.0),
            "¼" => (1.0, 4.0),
            "¾" => (3.0, 4.0),
            "⅕" => (1.0, 5.0),
            "⅖" => (2.0, 5.0),
            "⅗" => (3.0, 5.0),
            "⅘" => (4.0, 5.0),
            "⅙" => (1.0, 6.0),
            "⅚" => (5.0, 6.0),
            "⅐" => (1.0, 7.0),
            "⅛" => (1.0, 8.0),
            "⅜" => (3.0, 8.0),
            "⅝" => (5.0, 8.0),
            "⅞" => (7.0, 8.0),
            "⅑" => (1.0, 9.0),
            _ => (1.0, 10.0),
        };
        let top = leaf(ExprKind::Number(top), token.span);
        let bottom = leaf(ExprKind::Number(bottom), token.span);
        self.binary(BinOp::Div, top, bottom)
    }

    /// Consumes the closer of the innermost open delimiter.
    fn close(&mut self) -> Result<Token> {
        let Some(open) = self.open.last().copied() else {
            return fail(Error::new(self.end_span(), "internal error: nothing to close"));
        };
        let closes = match self.peek() {
            // `|a||b|`: the `||` is the end of one absolute value and the start of the next.
            Some(token) if token.kind == K::DoubleBar && open.delim == Delim::Abs => {
                self.split(1);
                true
            }
            Some(token) => matches!(
                (open.delim, token.kind),
                (Delim::Paren, K::RParen)
                    | (Delim::Bracket, K::RBracket)
                    | (Delim::Brace, K::RBrace)
                    | (Delim::Norm, K::NormBar | K::DoubleBar)
                    | (Delim::Abs, K::Bar)
                    | (Delim::Angle, K::RAngle)
            ),
            None => false,
        };
        if closes {
            self.open.pop();
            return Ok(self.bump());
        }
        fail(match self.peek() {
            None => self.unclosed(open),
            Some(token) => Error::new(
                token.span,
                format!(
                    "expected `{}` to close `{}`, found {}",
                    self.closer_text(open),
                    self.text(open.token),
                    self.describe(Some(token))
                ),
            ),
        })
    }

    /// `‖x‖`, `‖x‖₁`, `\|x\|_F`, `||x||`: norms; `|x|`: absolute value.
    fn bars(&mut self) -> Result<Node> {
        let open = self.bump();
        let delim = if open.kind == K::Bar { Delim::Abs } else { Delim::Norm };
        self.open.push(Open { delim, token: open });
        let inner = self.operand_after(0, open)?;
        let close = self.close()?;
        let span = open.span.to(close.span);
        if delim == Delim::Abs {
            return self.call(crate::ir::lower::BARS_WRITTEN, open.span, vec![inner], span);
        }
        // `\|x\|_2^2` and `\|x\|^2_2` are both the squared 2-norm.
        let mut power = None;
        let mut subscript = self.norm_subscript()?;
        if subscript.is_none() && self.at(K::Caret) {
            let caret = self.bump();
            power = Some(self.exponent(caret, BinOp::Pow)?);
            subscript = self.norm_subscript()?;
        }
        let (name, span) = match subscript {
            None => ("norm2", span),
            Some((text, subscript_span)) => (norm_name(&text, subscript_span)?, span.to(subscript_span)),
        };
        let norm = self.call(name, open.span, vec![inner], span)?;
        match power {
            None => Ok(norm),
            Some(power) => self.raise(norm, power, BinOp::Pow),
        }
    }

    fn norm_subscript(&mut self) -> Result<Option<(String, Span)>> {
        match self.peek() {
            Some(token) if token.kind == K::Underscore => {
                self.bump();
                self.subscript_text(token).map(Some)
            }
            Some(token) if token.kind == K::Subscript => {
                self.bump();
                Ok(Some((small_script_text(self.text(token)), token.span)))
            }
            _ => Ok(None),
        }
    }

    /// Whether a function name is followed by an argument.
    fn has_argument(&self) -> bool {
        self.peek().is_some_and(|t| self.starts_operand(t))
    }

    /// A function applied to `(a, b)`, to `{x}` (LaTeX), or to the juxtaposition that
    /// follows (`\log x^2` is `log(x²)`, `\log x y` is `log(x y)`, `\exp -x` is `exp(−x)`),
    /// up to the next function. A power written on the function applies to its value:
    /// `\sin^2 x` is `(sin x)²`; a prime makes its derivative: `\tanh'(x)`.
    fn apply_function(&mut self, name: &str, name_span: Span) -> Result<Node> {
        if let Some(mark) = self.prime_mark() {
            return self.derivative(name, name_span, mark);
        }
        if self.mode == Mode::Latex && self.at(K::Caret) {
            return self.powered_function(name, name_span);
        }
        match self.peek() {
            Some(token) if token.kind == K::LParen => self.call_with_arguments(name, name_span),
            Some(token) if token.kind == K::LBrace && self.mode == Mode::Latex => {
                let argument = self.group()?;
                self.call_on(name, name_span, argument)
            }
            Some(token) if self.opens_operand(token) || (token.kind == K::Minus && self.mode == Mode::Latex) => {
                let argument = self.expr(ARGUMENT)?;
                self.call_on(name, name_span, argument)
            }
            found => fail(self.missing_argument(name, name_span, found)),
        }
    }

    /// How many tokens mark a derivative before a `(`: `'` or `′` (1), `^\prime` (2),
    /// `^{\prime}` (4). A prime not followed by `(` is a transpose.
    fn prime_mark(&self) -> Option<usize> {
        let kinds: Vec<Option<K>> = (0..5).map(|n| self.nth_kind(n)).collect();
        match kinds[..] {
            [Some(K::Prime), Some(K::LParen), ..] => Some(1),
            [Some(K::Caret), Some(K::Prime), Some(K::LParen), ..] => Some(2),
            [Some(K::Caret), Some(K::LBrace), Some(K::Prime), Some(K::RBrace), Some(K::LParen)] => Some(4),
            _ => None,
        }
    }

    /// `σ'(y)`, `\tanh^\prime(x)`: the derivative of a function, after its prime mark.
    fn derivative(&mut self, name: &str, name_span: Span, mark: usize) -> Result<Node> {
        let mut span = name_span;
        for _ in 0..mark {
            span = span.to(self.bump().span);
        }
        let call = self.call_with_arguments(name, span)?;
        let ExprKind::Call { name, name_span, args } = call.expr.kind else {
            return fail(Error::new(span, "internal error: a derivative without a call"));
        };
        self.build(ExprKind::Derivative { name, name_span, args }, call.expr.span, call.depth)
    }

    /// Whether `token` starts a function applied without parentheses, where an unbracketed
    /// argument ends: `\cos`, `\sqrt`, `\operatorname`, `√`, `exp`, `σ(`.
    fn starts_function(&self, token: Token) -> bool {
        let text = self.text(token);
        match token.kind {
            K::Sqrt => true,
            K::Command => match latex::command(&text[1..]) {
                Some(Command::Function(_) | Command::Sqrt | Command::Operator) => true,
                Some(Command::Greek(letter)) => {
                    names::letter_function(letter).is_some() && self.nth_kind(1) == Some(K::LParen)
                }
                _ => false,
            },
            K::Greek => names::letter_function(greek_name(text)).is_some() && self.nth_kind(1) == Some(K::LParen),
            K::Word if self.mode == Mode::Ascii => names::ascii_function(text).is_some(),
            K::Word => {
                let letters = text.bytes().take(LONGEST_FUNCTION + 1).take_while(u8::is_ascii_alphabetic).count();
                (2..=LONGEST_FUNCTION).contains(&letters) && names::latex_function(&text[..letters]).is_some()
            }
            _ => false,
        }
    }

    /// `\sin^2 x`: the power applies to the value of the function.
    fn powered_function(&mut self, name: &str, name_span: Span) -> Result<Node> {
        let caret = self.bump();
        let power = self.exponent(caret, BinOp::Pow)?;
        if self.at(K::Caret) {
            return fail(Error::new(caret.span, "a function takes one power before its argument"));
        }
        // `\sin^{-1}` is the inverse function in print, not the reciprocal.
        if let Power::Exponent(Node { expr, .. }) = &power {
            if matches!(expr.kind, ExprKind::Number(value) if value == -1.0) {
                let written = self.source.get(name_span.range()).unwrap_or(name);
                return fail(
                    Error::new(
                        name_span.to(expr.span),
                        format!("`{written}^{{-1}}` (an inverse function) is not supported"),
                    )
                    .with_hint(format!("for the reciprocal, write `\\left({written} x\\right)^{{-1}}`")),
                );
            }
        }
        let node = self.apply_function(name, name_span)?;
        self.raise(node, power, BinOp::Pow)
    }

    /// `base` raised to what a `^` (or `.^`, `op`) read.
    fn raise(&self, base: Node, power: Power, op: BinOp) -> Result<Node> {
        match power {
            Power::Transpose(end) => {
                let span = base.expr.span.to(end);
                self.unary(ExprKind::Transpose, base, span)
            }
            Power::InverseTranspose(end) => {
                let span = base.expr.span.to(end);
                let inverse = self.binary(BinOp::Pow, base, leaf(ExprKind::Number(-1.0), end))?;
                self.unary(ExprKind::Transpose, inverse, span)
            }
            Power::Exponent(exponent) => self.binary(op, base, exponent),
        }
    }

    /// The call `name(argument)`.
    fn call_on(&self, name: &str, name_span: Span, argument: Node) -> Result<Node> {
        let span = name_span.to(argument.expr.span);
        self.call(name, name_span, vec![argument], span)
    }

    fn missing_argument(&self, name: &str, name_span: Span, found: Option<Token>) -> Error {
        let written = self.source.get(name_span.range()).unwrap_or(name);
        self.expected(&format!("an argument after `{written}`"), name_span, found)
            .with_hint(format!("write `{written}(x)`"))
    }

    /// `f(a, b)`, the next token being `(`.
    fn call_with_arguments(&mut self, name: &str, name_span: Span) -> Result<Node> {
        let open = self.bump();
        self.open.push(Open { delim: Delim::Paren, token: open });
        let mut args = Vec::new();
        if !self.at(K::RParen) {
            let mut after = open;
            loop {
                args.push(self.operand_after(0, after)?);
                match self.peek() {
                    Some(token) if token.kind == K::Comma => after = self.bump(),
                    _ => break,
                }
            }
        }
        let close = self.close()?;
        self.call(name, name_span, args, name_span.to(close.span))
    }

    /// A LaTeX command that survived [`latex::prepare`]: it starts an operand. Each kind
    /// has its own method, so only the one in use is on the stack while it recurses.
    fn command(&mut self) -> Result<Node> {
        let token = self.bump();
        let text = self.text(token);
        let Some(command) = latex::command(&text[1..]) else {
            return fail(latex::unknown_command(text, token.span));
        };
        match command {
            Command::Greek(name) => self.named(name, token.span),
            Command::Function(name) => self.function_command(name, token),
            Command::Sqrt => self.sqrt(token),
            Command::Frac => self.frac(token),
            Command::Operator | Command::Upright => self.upright(command, token),
            Command::Bold => self.bold(token),
            Command::Accent(suffix) => self.accent(suffix, token),
            Command::Blackboard => self.blackboard_symbol(token),
        }
    }

    /// `\exp`, `\log`; `\log\det` is logdet.
    fn function_command(&mut self, name: &'static str, token: Token) -> Result<Node> {
        if name == "log" && self.peek().is_some_and(|t| t.kind == K::Command && self.text(t) == r"\det") {
            let det = self.bump();
            return self.apply_function("logdet", token.span.to(det.span));
        }
        // `\sum` is a big operator: its summand is the product that follows, brackets,
        // powers and elementwise products included (`\sum (y - Xb)^2` sums the squares; it
        // is not (Σ…)²; `\sum a \odot b` sums the products), up to a `+`, `−` or `:`.
        if name == "sum" && self.text(token) == r"\sum" {
            return self.big_sum(token);
        }
        self.apply_function(name, token.span)
    }

    /// `\sum` or `∑` (at `token`) and its summand: the summand is the product that follows,
    /// brackets, powers and elementwise products included (`\sum (y - Xb)^2` sums the
    /// squares; it is not (Σ…)²; `\sum a \odot b` sums the products), up to a `+`, `−` or
    /// `:`. With indices (`\sum_i w_i^2`) it is a sum over them; without, of every entry.
    fn big_sum(&mut self, token: Token) -> Result<Node> {
        let indexed = self.peek().filter(|t| {
            matches!(t.kind, K::Underscore | K::Caret) || (t.kind == K::Subscript && t.span.start == token.span.end)
        });
        if indexed.is_some() {
            return self.index_sum(token);
        }
        if self.peek().is_some_and(|t| self.opens_operand(t)) {
            let mut argument = self.expr(PRODUCT.0)?;
            // The summand is written for one entry: its powers are entrywise
            // (`\sum (y - X\beta)^2` is the sum of the squared residuals).
            entrywise_powers(&mut argument.expr);
            return self.call_on("sum", token.span, argument);
        }
        self.apply_function("sum", token.span)
    }

    /// `\sum_i …`, `\sum_{i,j} …`, `\sum_{i=1}^{n} …`, `∑ᵢ …` after the `\sum` at `token`:
    /// the summand is read with the indices bound, so that `w_i` in it is an entry of `w`.
    fn index_sum(&mut self, token: Token) -> Result<Node> {
        let (indices, end) = self.sum_indices(token)?;
        if !self.peek().is_some_and(|t| self.opens_operand(t)) {
            let found = self.peek();
            let after = token.span.to(end);
            return fail(self.expected("the summand", after, found));
        }
        let outer = self.bound.len();
        self.bound.extend(indices.iter().map(|index| index.name.clone()));
        let scope = self.bound.clone();
        let body = self.expr(PRODUCT.0);
        self.bound.truncate(outer);
        let mut body = body?;
        entries(&mut body.expr, &scope)?;
        let span = token.span.to(body.expr.span);
        self.build(ExprKind::IndexSum { indices, body: body.expr }, span, body.depth + 1)
    }

    /// The indices and bounds of a sum, `_i`, `_{i,j}`, `_{ij}`, `ᵢ`, `_{i=1}^{n}`,
    /// `^{n}_{i=1}`, consumed, with where they end.
    fn sum_indices(&mut self, token: Token) -> Result<(Vec<Index>, Span)> {
        let mut upper = None;
        let mut end = token.span;
        if self.at(K::Caret) {
            let (text, span) = self.sum_bound()?;
            upper = Some((text, span));
            end = span;
        }
        let Some(first) = self.peek().filter(|t| matches!(t.kind, K::Underscore | K::Subscript)) else {
            let found = self.peek();
            return fail(
                self.expected("the index of the sum, as in `\\sum_{i=1}^{n}`", end, found)
                    .with_hint("a sum over an index names it below: `\\sum_i w_i^2`, `\\sum_{i=1}^{n} w_i^2`"),
            );
        };
        self.bump();
        let mut names: Vec<(String, Span)> = Vec::new();
        let mut lower = None;
        match first.kind {
            K::Subscript => {
                let text = small_script_text(self.text(first));
                names.extend(text.chars().map(|c| (c.to_string(), first.span)));
                end = first.span;
            }
            _ => match self.peek() {
                Some(word) if word.kind == K::Word => {
                    let (letter, span) = if self.mode == Mode::Latex {
                        self.letter()
                    } else {
                        self.bump();
                        (self.text(word).to_string(), word.span)
                    };
                    names.extend(letter.chars().map(|c| (c.to_string(), span)));
                    end = span;
                }
                Some(open) if open.kind == K::LBrace => {
                    self.bump();
                    loop {
                        let Some(next) = self.peek() else {
                            return fail(self.unclosed(Open { delim: Delim::Brace, token: open }));
                        };
                        match next.kind {
                            K::RBrace if !names.is_empty() => {
                                self.bump();
                                end = next.span;
                                break;
                            }
                            K::Word if lower.is_none() => {
                                self.bump();
                                names.extend(self.text(next).chars().map(|c| (c.to_string(), next.span)));
                            }
                            K::Comma if !names.is_empty() && lower.is_none() => {
                                self.bump();
                            }
                            K::Equals if !names.is_empty() && lower.is_none() => {
                                self.bump();
                                let (text, span) = self.bound_text(next, K::RBrace)?;
                                lower = Some((text, span));
                                // `bound_text` took the closing brace.
                                end = span;
                                break;
                            }
                            K::In => {
                                return fail(Error::new(next.span, "a sum over a set is not supported").with_hint(
                                    "matgrad reads sums over all the entries of an index: `\\sum_i w_i^2`, `\\sum_{i=1}^{n} w_i^2`",
                                ));
                            }
                            _ => {
                                return fail(
                                    Error::new(
                                        next.span,
                                        format!("expected the index of the sum, found {}", self.describe(Some(next))),
                                    )
                                    .with_hint("an index is one letter: `\\sum_i`, `\\sum_{i,j}`, `\\sum_{i=1}^{n}`"),
                                );
                            }
                        }
                    }
                }
                found => {
                    return fail(
                        self.expected("the index of the sum", first.span, found)
                            .with_hint("an index is one letter: `\\sum_i`, `\\sum_{i,j}`, `\\sum_{i=1}^{n}`"),
                    )
                }
            },
        }
        if upper.is_none() && self.at(K::Caret) {
            let (text, span) = self.sum_bound()?;
            upper = Some((text, span));
            end = span;
        }
        for (n, (name, span)) in names.iter().enumerate() {
            if !name.chars().all(|c| c.is_ascii_alphabetic()) {
                return fail(
                    Error::new(*span, format!("`{name}` cannot be the index of a sum"))
                        .with_hint("an index is one letter: `\\sum_i`, `\\sum_{i,j}`, `\\sum_{i=1}^{n}`"),
                );
            }
            if self.bound.contains(name) || names[..n].iter().any(|(other, _)| other == name) {
                return fail(
                    Error::new(*span, format!("the index `{name}` is already an index of this sum"))
                        .with_hint("use another letter for a second index"),
                );
            }
        }
        let range = match (lower, upper) {
            (None, None) => None,
            (Some((from, from_span)), Some((to, to_span))) => Some(Range { from, to, span: from_span.to(to_span) }),
            (None, Some((to, span))) => Some(Range { from: "1".to_string(), to, span }),
            (Some((_, span)), None) => {
                return fail(
                    Error::new(span, "a sum with a lower bound needs its upper bound")
                        .with_hint("write both, as in `\\sum_{i=1}^{n}`, or neither: `\\sum_i`"),
                )
            }
        };
        let indices = names.into_iter().map(|(name, span)| Index { name, span, range: range.clone() }).collect();
        Ok((indices, end))
    }

    /// The upper bound of a sum after its `^`: `^n`, `^{n}`, `^{n-1}`, `^{10}`.
    fn sum_bound(&mut self) -> Result<(String, Span)> {
        let caret = self.bump();
        match self.peek() {
            Some(open) if open.kind == K::LBrace => {
                self.bump();
                let (text, span) = self.bound_text(open, K::RBrace)?;
                Ok((text, open.span.to(span)))
            }
            Some(word) if word.kind == K::Word => Ok(if self.mode == Mode::Latex {
                self.letter()
            } else {
                self.bump();
                (self.text(word).to_string(), word.span)
            }),
            Some(number) if number.kind == K::Number => {
                self.bump();
                Ok((self.text(number).to_string(), number.span))
            }
            found => fail(self.expected_after("the upper bound of the sum", caret, found)),
        }
    }

    /// The text of a bound up to the `close` token (consumed, not included), without spaces:
    /// `1`, `n`, `n-1`, `N_1`.
    fn bound_text(&mut self, after: Token, close: K) -> Result<(String, Span)> {
        let mut text = String::new();
        let mut span = after.span;
        loop {
            match self.peek() {
                Some(token) if token.kind == close && !text.is_empty() => {
                    self.bump();
                    return Ok((text, span));
                }
                Some(token) if matches!(token.kind, K::Word | K::Number | K::Minus | K::Plus | K::Underscore) => {
                    self.bump();
                    text.push_str(self.text(token));
                    span = span.to(token.span);
                }
                found => return fail(self.expected("a bound of the sum: a size or a number", span, found)),
            }
        }
    }

    fn sqrt(&mut self, token: Token) -> Result<Node> {
        if let Some(bracket) = self.peek().filter(|t| t.kind == K::LBracket) {
            return fail(
                Error::new(bracket.span, r"`\sqrt[n]{…}` (an n-th root) is not supported")
                    .with_hint("write a power, as in `x^{1/3}`"),
            );
        }
        let argument = self.tex_argument("an argument", token)?;
        let span = token.span.to(argument.expr.span);
        self.call("sqrt", token.span, vec![argument], span)
    }

    /// `\frac{a}{b}`, `\frac12`.
    fn frac(&mut self, token: Token) -> Result<Node> {
        let numerator = self.tex_argument("a numerator", token)?;
        let denominator = self.tex_argument("a denominator", token)?;
        let mut node = self.binary(BinOp::Div, numerator, denominator)?;
        node.expr.span = token.span.to(node.expr.span);
        Ok(node)
    }

    /// `\operatorname{tr}`, `\mathrm{diag}`: a function; `\mathrm{loss}`: a name.
    fn upright(&mut self, command: Command, token: Token) -> Result<Node> {
        let (word, span) = self.braced_word(token)?;
        match names::latex_function(&word) {
            Some(function) => self.apply_function(function, span),
            None if command == Command::Operator => self.apply_function(&word, span),
            None => {
                let (name, span) = self.subscripts(word, span)?;
                Ok(leaf(ExprKind::Var(name), span))
            }
        }
    }

    /// `\mathbb{I}` (the identity), `\mathbb{1}` (ones); elsewhere `\mathbb` is a type.
    fn blackboard_symbol(&mut self, token: Token) -> Result<Node> {
        if (self.nth_kind(0), self.nth_kind(2)) == (Some(K::LBrace), Some(K::RBrace)) {
            self.bump();
            let symbol = self.bump();
            let close = self.bump();
            let span = token.span.to(close.span);
            match (symbol.kind, self.text(symbol)) {
                (K::Word, "I") => {
                    let (name, span) = self.subscripts("I".to_string(), span)?;
                    return Ok(leaf(ExprKind::Var(name), span));
                }
                (K::Number, "1") => return self.ones(span),
                _ => {}
            }
        }
        let text = self.text(token);
        fail(
            Error::new(token.span, format!(r"`{text}` only appears in a type, as in `x \in \mathbb{{R}}^n`"))
                .with_hint(r"`\mathbb{I}` is the identity matrix and `\mathbb{1}` a vector of ones"),
        )
    }

    /// `\mathbf{x}`: the name in bold (`\mathbf`, `\boldsymbol`, `\bm`, `\pmb`), or just the
    /// argument (`\vec`, `\mathcal`); `\mathbf{1}` is a vector of ones and `\mathbf{I}` the
    /// identity.
    fn bold(&mut self, token: Token) -> Result<Node> {
        let mut argument = self.tex_argument("an argument", token)?;
        argument.expr.span = token.span.to(argument.expr.span);
        let marks_bold = matches!(self.text(token), r"\mathbf" | r"\boldsymbol" | r"\bm" | r"\pmb");
        match &argument.expr.kind {
            ExprKind::Number(one) if *one == 1.0 && marks_bold => self.ones(argument.expr.span),
            ExprKind::Var(name) => {
                let (name, span) = self.subscripts(name.clone(), argument.expr.span)?;
                if !marks_bold || name == "I" || name.starts_with("I_") {
                    return Ok(leaf(ExprKind::Var(name), span));
                }
                let inner = leaf(ExprKind::Var(name), argument.expr.span);
                self.unary(ExprKind::Bold, inner, span)
            }
            _ => Ok(argument),
        }
    }

    /// `\hat{y}` is the name `yhat`.
    fn accent(&mut self, suffix: &str, token: Token) -> Result<Node> {
        let argument = self.tex_argument("a name", token)?;
        let Some(name) = name_of(&argument.expr) else {
            let text = self.text(token);
            return fail(Error::new(
                argument.expr.span,
                format!("`{text}` must be put on a single name, as in `{text}{{y}}`"),
            ));
        };
        // `\hat{y_1}` is `yhat_1`, the same as `\hat{y}_1`.
        let name = match name.split_once('_') {
            Some((base, subscript)) => format!("{base}{suffix}_{subscript}"),
            None => format!("{name}{suffix}"),
        };
        let (name, span) = self.subscripts(name, token.span.to(argument.expr.span))?;
        Ok(leaf(ExprKind::Var(name), span))
    }

    /// One TeX argument: a braced group, or a single token (`\frac12`, `x^2`, `\hat y`).
    /// `role` names it in messages: "expected a denominator after `\frac`".
    fn tex_argument(&mut self, role: &str, after: Token) -> Result<Node> {
        self.enter()?;
        let result = self.tex_argument_inner(role, after);
        self.depth -= 1;
        result
    }

    fn tex_argument_inner(&mut self, role: &str, after: Token) -> Result<Node> {
        let Some(token) = self.peek() else {
            return fail(self.expected_after(role, after, None));
        };
        match token.kind {
            // Parentheses and brackets are not TeX groups, but `x^(n+1)` means what it says.
            K::LBrace | K::LParen | K::LBracket => self.group(),
            K::Number => {
                if self.text(token).starts_with(|c: char| c.is_ascii_digit()) {
                    self.split(1);
                }
                self.number()
            }
            K::Word => {
                let (name, span) = self.letter();
                Ok(leaf(ExprKind::Var(name), span))
            }
            // `x^-1` is not valid TeX, but its meaning is plain.
            K::Minus => {
                self.bump();
                let operand = self.tex_argument(role, token)?;
                let span = token.span.to(operand.expr.span);
                self.unary(ExprKind::Neg, operand, span)
            }
            _ if self.opens_operand(token) => self.primary(),
            _ => fail(self.expected_after(role, after, Some(token))),
        }
    }

    /// `W^{(1)}` is a layer index in machine-learning papers, but would read as a power:
    /// refused rather than misread.
    fn refuse_layer_index(&self, base: &Node, caret: Token) -> Result<()> {
        let is_name = matches!(base.expr.kind, ExprKind::Var(_));
        if self.mode == Mode::Latex && is_name && self.at(K::LBrace) && self.nth_kind(1) == Some(K::LParen) {
            return fail(
                Error::new(caret.span, "a superscript in parentheses would read as a power")
                    .with_hint("for a layer index write a subscript, as in `W_{1}`; for a power drop the parentheses"),
            );
        }
        Ok(())
    }

    /// The exponent after `^` or `.^`: `T`, `\top`, `⊤` make a transpose.
    fn exponent(&mut self, caret: Token, op: BinOp) -> Result<Power> {
        if op == BinOp::Pow {
            if let Some(top) = self.peek().filter(|t| t.kind == K::Top) {
                self.bump();
                return Ok(Power::Transpose(top.span));
            }
            if self.at(K::LBrace) && self.nth_kind(1) == Some(K::Top) && self.nth_kind(2) == Some(K::RBrace) {
                self.bump();
                self.bump();
                return Ok(Power::Transpose(self.bump().span));
            }
            // `^{-T}`, `^{-\top}`: the Matrix Cookbook's X⁻ᵀ.
            let is_top = |parser: &Self, n: usize| {
                parser.nth_kind(n) == Some(K::Top)
                    || (parser.nth_kind(n) == Some(K::Word) && parser.nth_text(n) == Some("T"))
            };
            if self.at(K::LBrace)
                && self.nth_kind(1) == Some(K::Minus)
                && is_top(self, 2)
                && self.nth_kind(3) == Some(K::RBrace)
            {
                for _ in 0..3 {
                    self.bump();
                }
                return Ok(Power::InverseTranspose(self.bump().span));
            }
        }
        let node = match self.mode {
            Mode::Latex => self.tex_argument("an exponent", caret)?,
            Mode::Ascii => self.ascii_exponent(caret)?,
        };
        if op == BinOp::Pow && matches!(&node.expr.kind, ExprKind::Var(name) if name == "T") {
            return Ok(Power::Transpose(node.expr.span));
        }
        Ok(exponent_of(node))
    }

    /// `{\circ k}` after a caret: the braced exponent of a Hadamard power, its mark dropped.
    fn hadamard_exponent(&mut self) -> Result<Power> {
        let open = self.bump();
        self.open.push(Open { delim: Delim::Brace, token: open });
        let mark = self.bump();
        let mut node = self.operand_after(0, mark)?;
        let close = self.close()?;
        node.expr.span = open.span.to(close.span);
        node.juxtaposed = None;
        Ok(exponent_of(node))
    }

    /// An ASCII exponent: signs, then one operand with its postfix forms (`2^-1`, `x^(n+1)`).
    fn ascii_exponent(&mut self, after: Token) -> Result<Node> {
        self.enter()?;
        let result = match self.peek() {
            Some(minus) if minus.kind == K::Minus => {
                self.bump();
                self.ascii_exponent(minus).and_then(|operand| {
                    let span = minus.span.to(operand.expr.span);
                    self.unary(ExprKind::Neg, operand, span)
                })
            }
            Some(plus) if plus.kind == K::Plus => {
                self.bump();
                self.ascii_exponent(plus)
            }
            Some(token) if self.opens_operand(token) => self.postfix(),
            found => fail(self.expected_after("an exponent", after, found)),
        };
        self.depth -= 1;
        result
    }
}

/// Makes every power in `expr` entrywise (`^` → `.^`), not looking into function calls
/// (`\sum \operatorname{tr}(A^2)` keeps its matrix power).
fn entrywise_powers(expr: &mut Expr) {
    match &mut expr.kind {
        ExprKind::Binary(op, left, right) => {
            if *op == BinOp::Pow {
                *op = BinOp::ElemPow;
            }
            entrywise_powers(left);
            entrywise_powers(right);
        }
        ExprKind::Neg(inner) | ExprKind::Transpose(inner) | ExprKind::Bold(inner) => entrywise_powers(inner),
        ExprKind::IndexSum { .. }
        | ExprKind::Entry { .. }
        | ExprKind::Number(_)
        | ExprKind::Var(_)
        | ExprKind::Ones(_)
        | ExprKind::Call { .. }
        | ExprKind::Derivative { .. } => {}
    }
}

/// Turns each name inside a sum whose subscript is made of indices in `scope` into an entry:
/// `w_i` is the i-th entry of `w`, `A_{ij}` and `A_{i,j}` an entry of `A`. A subscript that
/// mixes an index with other letters (`A_{ik}` in a sum over i alone) is refused: k would be
/// a free index.
fn entries(expr: &mut Expr, scope: &[String]) -> Result<()> {
    if let ExprKind::Var(name) = &expr.kind {
        let Some((base, subscript)) = name.rsplit_once('_').filter(|_| !name.contains("^(")) else {
            return Ok(());
        };
        let Some(pieces) = index_pieces(subscript) else { return Ok(()) };
        let free: Vec<&String> = pieces.iter().filter(|piece| !scope.contains(piece)).collect();
        if free.len() == pieces.len() || base.is_empty() {
            return Ok(());
        }
        if let Some(free) = free.first() {
            let sums = scope.join(", ");
            return fail(
                Error::new(
                    expr.span,
                    format!("`{name}`: `{free}` is not an index of a sum here (the sums run over {sums})"),
                )
                .with_hint(format!(
                    "sum over it too, as in `\\sum_{{{sums},{free}}}`, or name the variable without `_{subscript}`"
                )),
            );
        }
        let written = format!("{base}_{}", pieces.concat());
        let base = Expr { kind: ExprKind::Var(base.to_string()), span: expr.span };
        expr.kind = ExprKind::Entry { base: Box::new(base), indices: pieces, written: Some(written) };
        return Ok(());
    }
    for child in expr.children_mut() {
        entries(child, scope)?;
    }
    Ok(())
}

/// The indices a subscript names, if it could name indices: `i`, `ij`, `i,j` (letters, or
/// letters separated by commas).
fn index_pieces(subscript: &str) -> Option<Vec<String>> {
    let pieces: Vec<String> = if subscript.contains(',') {
        subscript.split(',').map(String::from).collect()
    } else {
        subscript.chars().map(String::from).collect()
    };
    let letter = |piece: &String| piece.len() == 1 && piece.chars().all(|c| c.is_ascii_alphabetic());
    (!pieces.is_empty() && pieces.iter().all(letter)).then_some(pieces)
}

/// The function a norm subscript selects: `‖x‖₁` is norm1; `‖x‖₂`, `‖X‖_F` are norm2.
fn norm_name(subscript: &str, span: Span) -> std::result::Result<&'static str, Error> {
    match subscript {
        "1" => Ok(crate::ir::lower::NORM_1_WRITTEN),
        "2" => Ok(crate::ir::lower::NORM_2_WRITTEN),
        "F" | "fro" => Ok("norm2"),
        _ => Err(Error::new(span, format!("unsupported norm `‖·‖_{subscript}`"))
            .with_hint("matgrad knows ‖x‖₁ (`norm1`), ‖x‖₂ and the Frobenius norm ‖X‖_F (`norm2`)")),
    }
}

/// The text with control and zero-width characters escaped (`\u{0}`, `\u{200b}`), for
/// messages.
fn printable(text: &str) -> String {
    let hidden = |c: char| c.is_control() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}');
    text.chars().map(|c| if hidden(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// The name an expression is, seeing through bold: `x`, `\mathbf{x}`.
pub(crate) fn name_of(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Var(name) => Some(name),
        ExprKind::Bold(inner) => name_of(inner),
        _ => None,
    }
}

/// `name` with a subscript, kept before a layer index: `W^(1)` and `_2` make `W_2^(1)`.
fn with_subscript(name: &str, subscript: &str) -> String {
    match name.split_once("^(") {
        Some((base, index)) => format!("{base}_{subscript}^({index}"),
        None => format!("{name}_{subscript}"),
    }
}

fn is_postfix(kind: K) -> bool {
    matches!(kind, K::Prime | K::SupT | K::SupInverseTranspose | K::SupNumber | K::SupLetters)
}

fn greek_name(text: &str) -> &'static str {
    text.chars().next().and_then(names::greek_char).unwrap_or("greek")
}

fn number_value(text: &str, span: Span) -> std::result::Result<f64, Error> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(Error::new(span, "number too large").with_hint("the largest number is about 1.8e308")),
        Err(_) => Err(Error::new(span, format!("invalid number `{text}`"))),
    }
}

/// The message of an expression deeper than [`MAX_DEPTH`], nested or long.
pub fn too_deep_message() -> String {
    format!("expression too deep: more than {MAX_DEPTH} levels of operations inside one another")
}
