//! Tokens: the lexer turns a slice of the source into tokens whose spans point into the
//! original text.
//!
//! One token set serves all three spellings. What a token means is decided later, per
//! statement, by the parser: whether `*` is a matrix product (ASCII) or elementwise (LaTeX),
//! whether the word `Ax` is one name (ASCII) or two (LaTeX). LaTeX commands stay `Command`
//! tokens here; [`super::latex::prepare`] rewrites the ones with a plain meaning (`\cdot`,
//! `\in`, `\|`) into the tokens their Unicode spellings lex to.
//!
//! The lexer never fails: a character it does not know becomes an [`TokenKind::Unknown`]
//! token, reported only if the statement containing it is parsed (the prose of a pasted
//! document may contain anything).

use logos::Logos;

use crate::error::Span;

// Patterns repeat only ASCII classes: logos compiles the repetition of a multi-byte class
// into recursive calls, which overflow the stack on long runs in debug builds. Runs of
// multi-byte characters are matched one character at a time, or extended by a callback.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\f]+")]
pub enum TokenKind {
    /// Unicode spaces that pasted text carries (no-break, thin). Zero-width characters are
    /// not spaces: in a statement they are errors (`Unknown`), since they hide what is written.
    #[regex(r"[\u{a0}\u{2000}-\u{200a}\u{202f}\u{205f}\u{3000}]", skip_spaces)]
    /// `#` (ASCII) and `%` (LaTeX, MATLAB) comments run to the end of the line.
    #[regex(r"[#%]", skip_comment)]
    /// A line break: `\n`, `\r\n`, or a lone `\r` (old Mac line endings).
    #[token("\n")]
    #[token("\r\n")]
    #[token("\r")]
    Newline,
    /// `2`, `0.5`, `.5`, `1e-3`, `2E+3`; its value is read by the parser.
    #[regex(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")]
    #[regex(r"\.[0-9]+([eE][+-]?[0-9]+)?")]
    Number,
    /// `x`, `W_1`, `beta`, `Ax`: an ASCII identifier, or a run of LaTeX letters.
    #[regex(r"[A-Za-z][A-Za-z0-9_]*")]
    Word,
    /// `_` not inside a word: `\alpha_1`, `\|x\|_2`, `\mathbf{W}_1`.
    #[token("_")]
    Underscore,
    /// `\alpha`, `\frac`: a backslash and letters.
    #[regex(r"\\[A-Za-z]+")]
    Command,
    /// `\,`, `\|`, `\{`: a backslash and one other character.
    #[regex(r"\\[^A-Za-z\\]")]
    Escape,
    /// `\\`: a LaTeX line break, which separates statements.
    #[token(r"\\")]
    LineBreak,
    #[token("+")]
    Plus,
    #[token("-")]
    #[token("−")]
    Minus,
    #[token("*")]
    #[token("∗")]
    Star,
    #[token(".*")]
    DotStar,
    /// `./`, `⊘`: elementwise division.
    #[token("./")]
    #[token("⊘")]
    DotSlash,
    #[token("/")]
    Slash,
    #[token("^")]
    Caret,
    #[token(".^")]
    DotCaret,
    /// `'`, `′`, MATLAB's `.'`: transpose.
    #[token("'")]
    #[token("′")]
    #[token(".'")]
    Prime,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semicolon,
    #[token(":")]
    Colon,
    /// `=`, `:=`, `≔`.
    #[token("=")]
    #[token(":=")]
    #[token("≔")]
    Equals,
    /// `|`: absolute value.
    #[token("|")]
    Bar,
    /// `||`: a norm bar, or two absolute-value bars (the parser splits it when it closes
    /// an `|x|`).
    #[token("||")]
    DoubleBar,
    /// `‖`, `∥`: a norm bar.
    #[token("‖")]
    #[token("∥")]
    NormBar,
    /// `&`: LaTeX alignment.
    #[token("&")]
    Ampersand,
    /// `~`: a LaTeX non-breaking space.
    #[token("~")]
    Tilde,
    #[token(".")]
    Dot,
    /// `·`, `⋅`, `×`: product.
    #[token("·")]
    #[token("⋅")]
    #[token("×")]
    Times,
    /// `⊙`, `∘`: elementwise product.
    #[token("⊙")]
    #[token("∘")]
    Circle,
    /// `⟨`, `⟩`: an inner product `⟨x, y⟩` (LaTeX `\langle`, `\rangle` become these).
    #[token("⟨")]
    LAngle,
    #[token("⟩")]
    RAngle,
    /// `𝕀`: the identity matrix.
    #[token("𝕀")]
    Identity,
    /// `𝟙`: a vector of ones.
    #[token("𝟙")]
    Ones,
    /// `½`, `¾`, `⅓`: a vulgar fraction.
    #[regex(r"[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒]")]
    Fraction,
    /// `⁽¹⁾`, `⁽ˡ⁾`: a layer index on a name (`W⁽¹⁾` is `W^{(1)}`).
    #[token("⁽", layer_index)]
    SupLayer,
    #[token("∈")]
    In,
    #[token("ℝ")]
    Reals,
    #[token("√")]
    Sqrt,
    /// `∑` (U+2211, not the letter Σ): a sum, as LaTeX `\sum` is.
    #[token("∑")]
    BigSum,
    /// `⊤`: the transpose mark in `A^⊤` (LaTeX `\top` becomes this too).
    #[token("⊤")]
    Top,
    /// A Greek letter; the parser names it (`α` is `alpha`).
    #[regex(r"[\u{391}-\u{3a1}\u{3a3}-\u{3a9}\u{3b1}-\u{3c9}ϵϑϕϱϖµ]")]
    Greek,
    /// `²`, `⁻¹`, `¹⁰`: an integer exponent.
    #[regex(r"[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]", |lex| extend(lex, "⁰¹²³⁴⁵⁶⁷⁸⁹"))]
    SupNumber,
    /// `ᵀ`: transpose.
    #[token("ᵀ")]
    SupT,
    /// `⁻ᵀ`: the transpose of the inverse, as the Matrix Cookbook writes X⁻ᵀ.
    #[token("⁻ᵀ")]
    SupInverseTranspose,
    /// `ⁿ`, `ᴷ`, `ᵐˣⁿ`: superscript letters (sizes in `ℝⁿ`, or an exponent).
    #[regex(r"⁻?[ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵁⱽᵂ]", |lex| extend(lex, SUPERSCRIPT_LETTERS))]
    SupLetters,
    /// `₁`, `₁₂`, `ᵢ`: a subscript (`W₁` is `W_1`, `‖x‖₁` is norm1).
    #[regex(r"[₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ]", |lex| extend(lex, SUBSCRIPTS))]
    Subscript,
    /// Digits with two decimal points (`1.2.3`, `2.5.`, `1..2`): an error, not a product.
    BadNumber,
    /// A character no token starts with.
    Unknown,
}

const SUPERSCRIPT_LETTERS: &str = "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵁⱽᵂ";
/// What stands between `⁽` and `⁾` in a layer index.
const LAYER_INDEX: &str = "⁰¹²³⁴⁵⁶⁷⁸⁹ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ⁺⁻";

/// A layer index `⁽¹⁾`: the `⁽`, its index and the `⁾`; a `⁽` without them is no token.
fn layer_index(lexer: &mut logos::Lexer<TokenKind>) -> bool {
    let inner: usize = lexer.remainder().chars().take_while(|c| LAYER_INDEX.contains(*c)).map(char::len_utf8).sum();
    if inner == 0 || !lexer.remainder()[inner..].starts_with('⁾') {
        return false;
    }
    lexer.bump(inner + '⁾'.len_utf8());
    true
}
const SUBSCRIPTS: &str = "₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ";

/// Extends the current token over the characters of `class` that follow it.
fn extend(lexer: &mut logos::Lexer<TokenKind>, class: &str) {
    let length: usize = lexer.remainder().chars().take_while(|c| class.contains(*c)).map(char::len_utf8).sum();
    lexer.bump(length);
}

const SPACES: &str = " \t\u{c}\u{a0}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{202f}\u{205f}\u{3000}";

/// Skips a run of spaces, Unicode or not, in one step (one skip per character would
/// recurse once per character in debug builds).
fn skip_spaces(lexer: &mut logos::Lexer<TokenKind>) -> logos::Skip {
    extend(lexer, SPACES);
    logos::Skip
}

/// Skips a comment: from `#` or `%` to the end of the line (the newline is kept).
fn skip_comment(lexer: &mut logos::Lexer<TokenKind>) -> logos::Skip {
    let length = lexer.remainder().find(['\n', '\r']).unwrap_or(lexer.remainder().len());
    lexer.bump(length);
    logos::Skip
}

/// A token and the bytes of the original source it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Lexes `source[range]`, giving spans in `source` coordinates.
///
/// `range` must lie on character boundaries (callers cut at ASCII delimiters or at
/// boundaries of earlier tokens).
pub fn lex(source: &str, mut range: Span) -> Vec<Token> {
    // A byte-order mark at the very start of the text is an encoding mark, not text.
    if range.start == 0 && source.starts_with('\u{feff}') {
        range.start = '\u{feff}'.len_utf8().min(range.end);
    }
    let Some(text) = source.get(range.start..range.end) else {
        return Vec::new();
    };
    let mut tokens: Vec<Token> = Vec::new();
    let mut lexer = TokenKind::lexer(text);
    while let Some(result) = lexer.next() {
        let local = lexer.span();
        let kind = match result {
            Ok(kind) => kind,
            Err(()) => {
                // Report whole characters: `Unknown` spans are shown to the user, and a
                // multi-byte character must not be cut.
                let end = text[local.start..].chars().next().map_or(local.end, |c| local.start + c.len_utf8());
                if end > local.end {
                    lexer.bump(end - local.end);
                }
                tokens.push(Token {
                    kind: TokenKind::Unknown,
                    span: Span::new(range.start + local.start, range.start + end.max(local.end)),
                });
                continue;
            }
        };
        let token = Token { kind, span: Span::new(range.start + local.start, range.start + local.end) };
        match tokens.last_mut() {
            Some(last) if continues_number(source, *last, token) => {
                *last = Token { kind: TokenKind::BadNumber, span: last.span.to(token.span) };
            }
            _ => tokens.push(token),
        }
    }
    tokens
}

/// Whether `next` touches the number `last` and makes it malformed: `1.2` then `.3`,
/// `1` then `.` then `.2`, `2.5` then `.`. (`2.` alone ends a sentence in LaTeX, and `1.*x`
/// lexes as `1` and `.*`.)
fn continues_number(source: &str, last: Token, next: Token) -> bool {
    use TokenKind as K;
    if last.span.end != next.span.start {
        return false;
    }
    let text = |t: Token| source.get(t.span.range()).unwrap_or("");
    match (last.kind, next.kind) {
        (K::BadNumber, K::Number | K::Dot) | (K::Number, K::Number) => true,
        (K::Number, K::Dot) => text(last).contains('.') || source[next.span.end..].starts_with('.'),
        _ => false,
    }
}

/// The subscript character that reads back as `c` (`n` → `ₙ`, `3` → `₃`), where Unicode
/// has one.
pub fn subscript_of(c: char) -> Option<char> {
    SMALL_SCRIPTS.iter().find(|(small, plain)| *plain == c && SUBSCRIPTS.contains(*small)).map(|(small, _)| *small)
}

/// The text of superscript and subscript characters, in ASCII: `⁻¹` is `-1`, `ᵐˣⁿ` is
/// `mxn`, `₁` is `1`. Characters without an ASCII twin are kept as they are.
pub fn small_script_text(text: &str) -> String {
    text.chars().map(|c| SMALL_SCRIPTS.iter().find(|(s, _)| *s == c).map_or(c, |(_, a)| *a)).collect()
}

const SMALL_SCRIPTS: &[(char, char)] = &[
    ('⁰', '0'),
    ('¹', '1'),
    ('²', '2'),
    ('³', '3'),
    ('⁴', '4'),
    ('⁵', '5'),
    ('⁶', '6'),
    ('⁷', '7'),
    ('⁸', '8'),
    ('⁹', '9'),
    ('⁻', '-'),
    ('⁺', '+'),
    ('⁽', '('),
    ('⁾', ')'),
    ('ᵃ', 'a'),
    ('ᵇ', 'b'),
    ('ᶜ', 'c'),
    ('ᵈ', 'd'),
    ('ᵉ', 'e'),
    ('ᶠ', 'f'),
    ('ᵍ', 'g'),
    ('ʰ', 'h'),
    ('ⁱ', 'i'),
    ('ʲ', 'j'),
    ('ᵏ', 'k'),
    ('ˡ', 'l'),
    ('ᵐ', 'm'),
    ('ⁿ', 'n'),
    ('ᵒ', 'o'),
    ('ᵖ', 'p'),
    ('ʳ', 'r'),
    ('ˢ', 's'),
    ('ᵗ', 't'),
    ('ᵘ', 'u'),
    ('ᵛ', 'v'),
    ('ʷ', 'w'),
    ('ˣ', 'x'),
    ('ʸ', 'y'),
    ('ᶻ', 'z'),
    ('ᴬ', 'A'),
    ('ᴮ', 'B'),
    ('ᴰ', 'D'),
    ('ᴱ', 'E'),
    ('ᴳ', 'G'),
    ('ᴴ', 'H'),
    ('ᴵ', 'I'),
    ('ᴶ', 'J'),
    ('ᴷ', 'K'),
    ('ᴸ', 'L'),
    ('ᴹ', 'M'),
    ('ᴺ', 'N'),
    ('ᴼ', 'O'),
    ('ᴾ', 'P'),
    ('ᴿ', 'R'),
    ('ᵀ', 'T'),
    ('ᵁ', 'U'),
    ('ⱽ', 'V'),
    ('ᵂ', 'W'),
    ('₀', '0'),
    ('₁', '1'),
    ('₂', '2'),
    ('₃', '3'),
    ('₄', '4'),
    ('₅', '5'),
    ('₆', '6'),
    ('₇', '7'),
    ('₈', '8'),
    ('₉', '9'),
    ('ₐ', 'a'),
    ('ₑ', 'e'),
    ('ₒ', 'o'),
    ('ₓ', 'x'),
    ('ₕ', 'h'),
    ('ₖ', 'k'),
    ('ₗ', 'l'),
    ('ₘ', 'm'),
    ('ₙ', 'n'),
    ('ₚ', 'p'),
    ('ₛ', 's'),
    ('ₜ', 't'),
    ('ᵢ', 'i'),
    ('ⱼ', 'j'),
    ('ᵣ', 'r'),
    ('ᵤ', 'u'),
    ('ᵥ', 'v'),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        lex(text, Span::new(0, text.len())).into_iter().map(|t| (t.kind, &text[t.span.range()])).collect()
    }

    #[test]
    fn lexes_each_spelling() {
        use TokenKind::*;
        assert_eq!(
            kinds("y = A.*x' # c"),
            [(Word, "y"), (Equals, "="), (Word, "A"), (DotStar, ".*"), (Word, "x"), (Prime, "'")]
        );
        assert_eq!(kinds("‖w‖²"), [(NormBar, "‖"), (Word, "w"), (NormBar, "‖"), (SupNumber, "²")]);
        assert_eq!(
            kinds(r"\|w\|_2 \\"),
            [(Escape, r"\|"), (Word, "w"), (Escape, r"\|"), (Underscore, "_"), (Number, "2"), (LineBreak, r"\\"),]
        );
        assert_eq!(kinds("1.*x"), [(Number, "1"), (DotStar, ".*"), (Word, "x")]);
        assert_eq!(kinds("a@≤"), [(Word, "a"), (Unknown, "@"), (Unknown, "≤")]);
        assert_eq!(kinds("\\"), [(Unknown, "\\")]);
        assert_eq!(small_script_text("⁻¹ᵐˣⁿ₁"), "-1mxn1");
    }
}
