//! The LaTeX command table, and the pass that prepares a LaTeX statement for the parser.
//!
//! [`prepare`] removes what only affects typesetting (spacing, `\left`/`\right` and other
//! delimiter sizes, `&`, `\label{…}`, `\begin{aligned}`, `\color{red}`, `\boxed`; it moves
//! the switches `{\rm …}`, `{\bf …}` in front of their group) and rewrites commands with a
//! plain meaning into the token their Unicode spelling lexes to (`\cdot` becomes `·`,
//! `\in` becomes `∈`, `\|` becomes `‖`), so the parser handles each concept once. The
//! commands that remain are the structured ones, classified by [`command`].

use super::lexer::{Token, TokenKind};
use super::names;
use crate::error::{Error, Span};

/// A command the parser interprets (one that survives [`prepare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `\alpha`: a variable named `alpha` (`\sigma` is also sigmoid before `(`).
    Greek(&'static str),
    /// `\exp`, `\log`, `\ln`, `\det`, `\tr`: a function.
    Function(&'static str),
    /// `\sqrt{x}`.
    Sqrt,
    /// `\frac{a}{b}`, `\dfrac`, `\tfrac`.
    Frac,
    /// `\operatorname{…}`: a function name, known or not.
    Operator,
    /// `\mathrm{…}`, `\text{…}`: a function when it names one (`\mathrm{tr}`), else a
    /// multi-letter variable name (`\mathrm{loss}`).
    Upright,
    /// `\mathbf{x}`, `\boldsymbol`, `\bm`, `\vec`: typeface only, the argument is kept.
    Bold,
    /// `\hat{y}` is `yhat`: the accent becomes a suffix of the name.
    Accent(&'static str),
    /// `\mathbb{R}`: only in types.
    Blackboard,
}

/// The meaning of a command name (without the backslash), if the parser knows it.
pub fn command(name: &str) -> Option<Command> {
    use Command::*;
    if let Some(greek) = names::greek_command(name) {
        return Some(Greek(greek));
    }
    Some(match name {
        "sqrt" => Sqrt,
        "frac" | "dfrac" | "tfrac" => Frac,
        "operatorname" => Operator,
        "mathrm" | "text" | "textrm" | "mathit" | "textit" | "mathsf" | "textsf" | "mathtt" | "texttt" => Upright,
        // The plain-TeX switches, which [`prepare`] moves in front of their group:
        // `{\rm Diag}` reads as `\rm{Diag}`, like `\mathrm{Diag}`.
        "rm" | "it" | "sf" | "tt" => Upright,
        "mathbf" | "boldsymbol" | "bm" | "vec" | "mathbfit" | "pmb" | "textbf" | "mathcal" | "bf" | "cal" => Bold,
        "hat" | "widehat" => Accent("hat"),
        "tilde" | "widetilde" => Accent("tilde"),
        "bar" | "overline" => Accent("bar"),
        "dot" => Accent("dot"),
        "mathbb" | "Bbb" | "mathbbm" => Blackboard,
        _ => return names::latex_function(name).map(Function),
    })
}

/// What [`prepare`] does with a command or escape.
enum Rewrite {
    /// Typesetting only: spacing, `\displaystyle`, `\nonumber`.
    Drop,
    /// `\left`, `\right`, `\big`…: a size for the delimiter that follows; `\left.` has none.
    DelimiterSize,
    /// `\label{…}`, `\tag{…}`, `\color{red}`: dropped with their argument.
    DropWithArgument,
    /// `\rm`, `\bf`: a typeface for the rest of the group; `{\rm Diag}` is moved to
    /// `\rm{Diag}`, which the parser reads like `\mathrm{Diag}`. Elsewhere it is dropped.
    Switch,
    /// `\begin{…}`, `\end{…}`.
    Environment,
    /// The same meaning as a Unicode token.
    As(TokenKind),
}

fn rewrite(text: &str) -> Option<Rewrite> {
    use Rewrite::*;
    use TokenKind as K;
    Some(match text {
        r"\," | r"\;" | r"\:" | r"\!" | r"\>" | r"\ " | "\\\t" | "\\\n" | "\\\r" | r"\quad" | r"\qquad"
        | r"\displaystyle" | r"\textstyle" | r"\scriptstyle" | r"\nonumber" | r"\notag" | r"\limits" | r"\nolimits"
        | r"\boxed" => Drop,
        r"\left" | r"\right" | r"\middle" | r"\big" | r"\Big" | r"\bigg" | r"\Bigg" | r"\bigl" | r"\bigr"
        | r"\Bigl" | r"\Bigr" | r"\biggl" | r"\biggr" | r"\Biggl" | r"\Biggr" | r"\bigm" | r"\Bigm" => DelimiterSize,
        r"\label" | r"\tag" | r"\intertext" | r"\shortintertext" | r"\hspace" | r"\vspace" | r"\color"
        | r"\textcolor" => DropWithArgument,
        r"\rm" | r"\it" | r"\sf" | r"\tt" | r"\bf" | r"\cal" => Switch,
        r"\begin" | r"\end" => Environment,
        r"\cdot" | r"\times" => As(K::Times),
        r"\odot" | r"\circ" | r"\ast" => As(K::Circle),
        r"\oslash" => As(K::DotSlash),
        r"\langle" => As(K::LAngle),
        r"\rangle" => As(K::RAngle),
        r"\in" => As(K::In),
        r"\top" | r"\intercal" => As(K::Top),
        r"\R" | r"\Reals" => As(K::Reals),
        r"\coloneqq" | r"\coloneq" => As(K::Equals),
        r"\|" | r"\Vert" | r"\lVert" | r"\rVert" => As(K::NormBar),
        r"\vert" | r"\lvert" | r"\rvert" => As(K::Bar),
        r"\{" | r"\lbrace" => As(K::LBrace),
        r"\}" | r"\rbrace" => As(K::RBrace),
        r"\lbrack" => As(K::LBracket),
        r"\rbrack" => As(K::RBracket),
        r"\prime" => As(K::Prime),
        _ => return None,
    })
}

/// Environments that only arrange statements on the page: in a document they hold display
/// math, inside math their `\begin`/`\end` are dropped.
pub const ENVIRONMENTS: &[&str] = &[
    "aligned",
    "align",
    "align*",
    "alignat",
    "alignat*",
    "equation",
    "equation*",
    "gather",
    "gather*",
    "gathered",
    "split",
    "multline",
    "multline*",
    "eqnarray",
    "eqnarray*",
    "flalign",
    "flalign*",
];

/// Whether the command (with its backslash) only spaces things out, so that a statement
/// starting with `\quad + b` is a continuation of the previous line.
pub fn is_spacing(text: &str) -> bool {
    matches!(rewrite(text), Some(Rewrite::Drop | Rewrite::DelimiterSize))
}

/// Whether the command (with its backslash) is a binary operator, for line continuation.
pub fn is_operator(text: &str) -> bool {
    matches!(rewrite(text), Some(Rewrite::As(TokenKind::Times | TokenKind::Circle)))
}

/// Whether the command (with its backslash) means `=` or `∈`, for deciding what a piece
/// of a document is before it is prepared.
pub fn means(text: &str, kind: TokenKind) -> bool {
    matches!(rewrite(text), Some(Rewrite::As(k)) if k == kind)
}

/// Removes typesetting from a LaTeX statement and rewrites plain commands into tokens.
/// Also drops the punctuation that ends a displayed formula (`y = Ax,`).
pub fn prepare(source: &str, tokens: &[Token]) -> Result<Vec<Token>, Error> {
    use TokenKind as K;
    let mut out = Vec::with_capacity(tokens.len());
    // Closing braces of coloured groups, dropped with their opening brace.
    let mut invisible: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        i += 1;
        if invisible.last() == Some(&(i - 1)) {
            invisible.pop();
            continue;
        }
        match token.kind {
            K::Ampersand | K::Tilde | K::Newline => continue,
            K::Command | K::Escape => {}
            _ => {
                out.push(token);
                continue;
            }
        }
        let text = &source[token.span.range()];
        match rewrite(text) {
            None => out.push(token),
            Some(Rewrite::Drop) => {}
            Some(Rewrite::DelimiterSize) => {
                // `\left.` and `\right.` are invisible delimiters.
                if tokens.get(i).is_some_and(|t| t.kind == K::Dot) {
                    i += 1;
                }
            }
            Some(Rewrite::DropWithArgument) => {
                if tokens.get(i).is_some_and(|t| t.kind == K::Star) {
                    i += 1;
                }
                if tokens.get(i).is_some_and(|t| t.kind == K::LBrace) {
                    i = skip_group(tokens, i);
                }
                // The group a colour applies to is shown without its braces, so it is read
                // without them: `\LR{P}\color{red}{:dA}` is `(P) : dA`.
                let text = &source[token.span.range()];
                if matches!(text, r"\color" | r"\textcolor") && tokens.get(i).is_some_and(|t| t.kind == K::LBrace) {
                    let close = skip_group(tokens, i) - 1;
                    if tokens.get(close).is_some_and(|t| t.kind == K::RBrace) {
                        invisible.push(close);
                        i += 1;
                    }
                }
            }
            Some(Rewrite::Switch) => {
                let after_brace = i >= 2 && tokens[i - 2].kind == K::LBrace;
                if let (true, Some(brace)) = (after_brace, out.last().copied().filter(|t| t.kind == K::LBrace)) {
                    out.pop();
                    out.push(token);
                    out.push(brace);
                }
            }
            Some(Rewrite::Environment) => {
                let (name, span, next) = environment_name(source, tokens, token, i)?;
                if !ENVIRONMENTS.contains(&name.as_str()) {
                    return Err(Error::new(span, format!("unsupported LaTeX environment `{name}`"))
                        .with_hint("write each statement as `name = expression`; environments such as `align` and `aligned` may hold them"));
                }
                i = next;
            }
            Some(Rewrite::As(kind)) => out.push(Token { kind, span: token.span }),
        }
    }
    while out.last().is_some_and(|t| matches!(t.kind, K::Comma | K::Dot)) {
        out.pop();
    }
    Ok(out)
}

/// The index after the braced group starting at `start`.
fn skip_group(tokens: &[Token], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(start) {
        match token.kind {
            TokenKind::LBrace => depth += 1,
            TokenKind::RBrace => {
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

/// Reads `{name}` after `\begin` or `\end`: the name, the span of the whole command, and
/// the index after it.
fn environment_name(
    source: &str,
    tokens: &[Token],
    command: Token,
    start: usize,
) -> Result<(String, Span, usize), Error> {
    let command_text = &source[command.span.range()];
    if tokens.get(start).is_none_or(|t| t.kind != TokenKind::LBrace) {
        return Err(Error::new(command.span, format!("expected `{{` after `{command_text}`"))
            .with_hint(format!("write `{command_text}{{aligned}}`")));
    }
    let end = skip_group(tokens, start);
    let inner = &tokens[start + 1..end.saturating_sub(1).max(start + 1)];
    let name: String = inner.iter().map(|t| &source[t.span.range()]).collect();
    let last = tokens.get(end.saturating_sub(1)).map_or(command.span, |t| t.span);
    Ok((name, command.span.to(last), end))
}

/// Every command name the parser accepts, for suggestions.
fn known_commands() -> impl Iterator<Item = String> {
    const OTHERS: &[&str] = &[
        "sqrt",
        "frac",
        "dfrac",
        "tfrac",
        "operatorname",
        "mathrm",
        "text",
        "mathit",
        "mathsf",
        "mathbf",
        "boldsymbol",
        "bm",
        "vec",
        "hat",
        "widehat",
        "tilde",
        "widetilde",
        "bar",
        "overline",
        "dot",
        "mathbb",
        "exp",
        "log",
        "ln",
        "sin",
        "cos",
        "tan",
        "tanh",
        "det",
        "quad",
        "qquad",
        "left",
        "right",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "label",
        "tag",
        "nonumber",
        "notag",
        "begin",
        "end",
        "cdot",
        "times",
        "odot",
        "circ",
        "in",
        "top",
        "intercal",
        "R",
        "Vert",
        "lVert",
        "rVert",
        "vert",
        "lvert",
        "rvert",
        "displaystyle",
    ];
    OTHERS.iter().copied().chain(names::greek_commands()).map(str::to_string)
}

/// "unknown LaTeX command `\foo`", with the nearest known command when one is close.
pub fn unknown_command(text: &str, span: Span) -> Error {
    let name = text.trim_start_matches('\\');
    let limit = (name.chars().count() / 3).max(1);
    let nearest = known_commands()
        .map(|known| (strsim::damerau_levenshtein(name, &known), known))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance);
    let hint = match nearest {
        Some((_, known)) => format!("did you mean `\\{known}`?"),
        None => "supported: Greek letters (`\\alpha`…), `\\frac`, `\\sqrt`, `\\cdot`, `\\times`, \
                 `\\odot`, `\\exp`, `\\log`, `\\ln`, `\\sin`, `\\cos`, `\\tanh`, `\\det`, \
                 `\\operatorname{…}`, `\\mathbf{…}`, `\\hat{…}`, `\\|…\\|`, `\\left(…\\right)`, \
                 `^\\top`, `\\in`, `\\mathbb{R}`"
            .to_string(),
    };
    Error::new(span, format!("unknown LaTeX command `{text}`")).with_hint(hint)
}
