//! How a variable's canonical name (`W_1`, `alpha`, `W^(1)`) is shown in ASCII, Unicode,
//! LaTeX and MathML.
//!
//! A layer index is part of a name: `W^(1)` (written `W^{(1)}`, `W⁽¹⁾`) is the first layer's
//! `W`. Every notation writes it so that it reads back as the name, not as a power.

use crate::syntax::{greek_latex, greek_letter};

/// Marks a symbol for the differential of a variable: `ⅆA` prints as dA (`\mathrm{d}A`).
/// Users cannot write it, so it never clashes with a variable called `dA`.
pub const DIFFERENTIAL: char = 'ⅆ';
/// Marks the symbol for a differential that would print like a variable of the program
/// (a program with `x` and `dx`): `Δx` (`\Delta x`), an increment of x.
pub const INCREMENT: char = 'Δ';
/// Marks a symbol for the adjoint of a variable: `w̄` (w and a combining macron).
pub const ADJOINT: char = '\u{304}';
/// Marks a symbol for the differential that `explain` writes of a value or of a symbol,
/// an italic d before its name in every notation: `𝑑lambda` prints dλ, `d\lambda`; `𝑑w̄`,
/// the differential of the adjoint w̄, prints dw̄, `d\bar{w}`, and dh̄₁ for h₁'s.
pub const ITALIC_DIFFERENTIAL: char = '𝑑';

/// `W^(1)` → `W^{(1)}`: ASCII reads `W^(1)` as a power; `ⅆA` and `𝑑A` → `dA` and `w̄` →
/// `wbar`, so that an ASCII form is ASCII; other names unchanged.
pub fn ascii_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix(INCREMENT) {
        return format!("Delta{}", ascii_name(rest));
    }
    if let Some(rest) = name.strip_prefix(DIFFERENTIAL).or_else(|| name.strip_prefix(ITALIC_DIFFERENTIAL)) {
        return format!("d{}", ascii_name(rest));
    }
    if let Some(rest) = name.strip_suffix(ADJOINT) {
        return format!("{}bar", ascii_name(rest));
    }
    match split_layer(name) {
        Some((base, index)) => format!("{base}^{{({index})}}"),
        None => name.to_string(),
    }
}

/// `alpha` → `α`, `W_1` → `W₁`, `ⅆA` → `dA`, `W^(1)` → `W⁽¹⁾`; other names unchanged.
pub fn unicode_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix(INCREMENT) {
        return format!("{INCREMENT}{}", unicode_name(rest));
    }
    if let Some(rest) = name.strip_prefix(DIFFERENTIAL).or_else(|| name.strip_prefix(ITALIC_DIFFERENTIAL)) {
        return format!("d{}", unicode_name(rest));
    }
    if let Some((base, index)) = split_layer(name) {
        let small: Option<String> = index.chars().map(superscript).collect();
        return match small {
            Some(small) => format!("{}⁽{small}⁾", unicode_name(base)),
            None => format!("{}^{{({index})}}", unicode_name(base)),
        };
    }
    if let Some(rest) = name.strip_suffix(ADJOINT) {
        // The bar goes on the letter, before any subscript: h̄₂.
        let (base, subscript) = split_subscript(rest);
        let barred = format!("{}{ADJOINT}", unicode_name(base));
        return match subscript {
            Some(sub) => unicode_name(&format!("{barred}_{sub}")).replacen(&format!("{barred}_"), &barred, 1),
            None => barred,
        };
    }
    let (base, subscript) = split_subscript(name);
    let base = greek(base);
    match subscript {
        Some(sub) if sub.chars().all(|c| c.is_ascii_digit()) => {
            base + &sub
                .chars()
                .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
                .collect::<String>()
        }
        Some(sub) => format!("{base}_{sub}"),
        None => base,
    }
}

/// Python's keywords, which a generated parameter cannot be called.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// A name as a Python identifier: Greek letters by their names (`α` → `alpha`, `λ` →
/// `lambda_`: a keyword argument anyone can type, and Python reads `ϵ` and `ε` as one
/// identifier, NFKC-normalised, where `epsilon` and `varepsilon` stay two), subscripts and
/// layer indices flattened (`W_1`, `W^(1)` → `W_1`), any other character `_`, a keyword with
/// a trailing underscore (`lambda_`, `in_`).
pub fn python_name(name: &str) -> String {
    let flat = match split_layer(name) {
        Some((base, index)) => format!("{base}_{index}"),
        None => name.to_string(),
    };
    let (base, subscript) = match flat.split_once('_') {
        Some((base, sub)) if !base.is_empty() => (base.to_string(), Some(sub.to_string())),
        _ => (flat.clone(), None),
    };
    let mut text = base;
    if let Some(sub) = subscript {
        text.push('_');
        text.push_str(&sub);
    }
    let mut text: String = text.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_digit()) {
        text.insert(0, '_');
    }
    if PYTHON_KEYWORDS.contains(&text.as_str()) {
        text.push('_');
    }
    text
}

/// `alpha` → `\alpha`, `Alpha` → `\mathrm{A}`, `W_1` → `W_{1}`, `xhat` → `\mathit{xhat}`,
/// `w̄` → `\bar{w}`, `h1̄` → `\bar{h}_{1}`, `W^(1)` → `W^{(1)}`, `𝑑w̄` → `d\bar{w}`.
pub fn latex_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix(INCREMENT) {
        return format!("\\Delta {}", latex_name(rest));
    }
    if let Some(rest) = name.strip_prefix(DIFFERENTIAL) {
        return format!("\\mathrm{{d}}{}", latex_name(rest));
    }
    if let Some(rest) = name.strip_prefix(ITALIC_DIFFERENTIAL) {
        return format!("d{}", latex_name(rest));
    }
    if let Some((base, index)) = split_layer(name) {
        return format!("{}^{{({index})}}", latex_name(base));
    }
    if let Some(rest) = name.strip_suffix(ADJOINT) {
        // The bar goes on the letter, before any subscript, as in Unicode and MathML.
        let (base, subscript) = split_subscript(rest);
        let barred = format!("\\bar{{{}}}", latex_name(base));
        return match subscript {
            Some(sub) => format!("{barred}_{{{sub}}}"),
            None => barred,
        };
    }
    let (base, subscript) = split_subscript(name);
    let base = if let Some(command) = greek_latex(base) {
        format!("\\{command}")
    } else if let Some(letter) = greek_letter(base) {
        // A capital without a command (Alpha, Beta, …) is drawn as its Latin look-alike,
        // upright: pdflatex reads no Greek character.
        let latin = LATIN_LOOKALIKES.iter().find(|(greek, _)| *greek == letter).map_or(letter, |(_, latin)| *latin);
        // Upright for a capital, as LaTeX sets Greek capitals; omicron is an italic o.
        match latin.is_lowercase() {
            true => latin.to_string(),
            false => format!("\\mathrm{{{latin}}}"),
        }
    } else if base.chars().count() > 1 {
        format!("\\mathit{{{base}}}")
    } else {
        base.to_string()
    };
    match subscript {
        Some(sub) => format!("{base}_{{{sub}}}"),
        None => base,
    }
}

/// `alpha` → `<mi>α</mi>`, `W_1` → `<msub><mi>W</mi><mn>1</mn></msub>`, `w̄` → w with an
/// accent bar, `ⅆA` → an upright d before A, `𝑑w̄` → an italic d before w̄.
pub fn mathml_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix(INCREMENT) {
        return format!("<mrow><mi mathvariant=\"normal\">Δ</mi>{}</mrow>", mathml_name(rest));
    }
    if let Some(rest) = name.strip_prefix(DIFFERENTIAL) {
        return format!("<mrow><mi mathvariant=\"normal\">d</mi>{}</mrow>", mathml_name(rest));
    }
    if let Some(rest) = name.strip_prefix(ITALIC_DIFFERENTIAL) {
        return format!("<mrow><mi>d</mi>{}</mrow>", mathml_name(rest));
    }
    if let Some((base, index)) = split_layer(name) {
        return format!(
            "<msup>{}<mrow><mo>(</mo><mi>{}</mi><mo>)</mo></mrow></msup>",
            mathml_name(base),
            escape(index)
        );
    }
    if let Some(rest) = name.strip_suffix(ADJOINT) {
        // A combining macron inside the identifier: accents built with <mover> sit too low
        // or too faint over a letter in Chromium's MathML at body size.
        let (base, subscript) = split_subscript(rest);
        let base = greek(base);
        let barred = format!("<mi>{}{ADJOINT}</mi>", escape(&base));
        return match subscript {
            Some(sub) => format!("<msub>{barred}<mn>{}</mn></msub>", escape(sub)),
            None => barred,
        };
    }
    let (base, subscript) = split_subscript(name);
    let base = greek(base);
    let variant = if base.chars().count() > 1 { " mathvariant=\"italic\"" } else { "" };
    let base = format!("<mi{variant}>{}</mi>", escape(&base));
    match subscript {
        Some(sub) if sub.chars().all(|c| c.is_ascii_digit()) => format!("<msub>{base}<mn>{sub}</mn></msub>"),
        Some(sub) => format!("<msub>{base}<mi>{}</mi></msub>", escape(sub)),
        None => base,
    }
}

/// The Greek capitals LaTeX has no command for, each with the Latin letter it is drawn as.
const LATIN_LOOKALIKES: &[(char, char)] = &[
    ('ο', 'o'),
    ('Α', 'A'),
    ('Β', 'B'),
    ('Ε', 'E'),
    ('Ζ', 'Z'),
    ('Η', 'H'),
    ('Ι', 'I'),
    ('Κ', 'K'),
    ('Μ', 'M'),
    ('Ν', 'N'),
    ('Ο', 'O'),
    ('Ρ', 'P'),
    ('Τ', 'T'),
    ('Χ', 'X'),
];

/// `W_1^(l)` → (`W_1`, `l`): a name and its layer index.
fn split_layer(name: &str) -> Option<(&str, &str)> {
    let (base, rest) = name.split_once("^(")?;
    let index = rest.strip_suffix(')')?;
    (!base.is_empty() && !index.is_empty()).then_some((base, index))
}

/// The superscript form of a character of a layer index, where Unicode has one.
fn superscript(c: char) -> Option<char> {
    const PAIRS: &[(char, char)] = &[
        ('0', '⁰'),
        ('1', '¹'),
        ('2', '²'),
        ('3', '³'),
        ('4', '⁴'),
        ('5', '⁵'),
        ('6', '⁶'),
        ('7', '⁷'),
        ('8', '⁸'),
        ('9', '⁹'),
        ('+', '⁺'),
        ('-', '⁻'),
        ('a', 'ᵃ'),
        ('b', 'ᵇ'),
        ('c', 'ᶜ'),
        ('d', 'ᵈ'),
        ('e', 'ᵉ'),
        ('f', 'ᶠ'),
        ('g', 'ᵍ'),
        ('h', 'ʰ'),
        ('i', 'ⁱ'),
        ('j', 'ʲ'),
        ('k', 'ᵏ'),
        ('l', 'ˡ'),
        ('m', 'ᵐ'),
        ('n', 'ⁿ'),
        ('o', 'ᵒ'),
        ('p', 'ᵖ'),
        ('r', 'ʳ'),
        ('s', 'ˢ'),
        ('t', 'ᵗ'),
        ('u', 'ᵘ'),
        ('v', 'ᵛ'),
        ('w', 'ʷ'),
        ('x', 'ˣ'),
        ('y', 'ʸ'),
        ('z', 'ᶻ'),
        ('K', 'ᴷ'),
        ('L', 'ᴸ'),
        ('N', 'ᴺ'),
    ];
    PAIRS.iter().find(|(plain, _)| *plain == c).map(|(_, small)| *small)
}

/// `alpha` → `α`; other names unchanged.
fn greek(name: &str) -> String {
    greek_letter(name).map_or(name.to_string(), String::from)
}

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `W_1` → (`W`, `1`); `W1` → (`W`, `1`); `beta` → (`beta`, none).
fn split_subscript(name: &str) -> (&str, Option<&str>) {
    if let Some((base, sub)) = name.split_once('_') {
        if !base.is_empty() && !sub.is_empty() {
            return (base, Some(sub));
        }
    }
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && digits < name.len() {
        let (base, sub) = name.split_at(name.len() - digits);
        return (base, Some(sub));
    }
    (name, None)
}
