//! The names the parser knows: functions, and Greek letters in Unicode and LaTeX.
//!
//! Names are canonicalised here so that every spelling of a program gives the same tree:
//! `α`, `\alpha` and `alpha` are all `alpha`; `\ln`, `\log` and `log` are all `log`.

/// Functions known by name. In ASCII a known name followed by whitespace and `(` is a
/// call (`sigmoid (y)`), where another name would be a product (`A (x)`); in LaTeX, a
/// command or a bare word naming one of these is a function (`\exp`, `\tr`, `ReLU`).
pub const FUNCTIONS: &[&str] = &[
    "sigmoid",
    "tanh",
    "exp",
    "log",
    "sin",
    "cos",
    "tan",
    "sqrt",
    "abs",
    "sign",
    "relu",
    "softplus",
    "sum",
    "norm1",
    "norm2",
    "tr",
    "det",
    "logdet",
    "inv",
    "diag",
    "softmax",
    "logsumexp",
    "eye",
    "zeros",
    "ones",
    "step",
];

/// The canonical function an ASCII identifier names, matched exactly (`Tr` could be a
/// variable in ASCII).
/// Also `trace` for `tr`, and `Diag` in any case for `diag`.
pub fn ascii_function(name: &str) -> Option<&'static str> {
    match name {
        "trace" => Some("tr"),
        _ if name.eq_ignore_ascii_case("diag") => Some("diag"),
        _ => FUNCTIONS.iter().copied().find(|f| *f == name),
    }
}

/// The canonical function a LaTeX name (`\ln`, `\operatorname{Tr}`, `ReLU`) stands for:
/// case-insensitive, with the aliases `ln`, `trace` and `norm` (the usual `\norm{x}` macro).
pub fn latex_function(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "ln" => Some("log"),
        "trace" => Some("tr"),
        "norm" => Some("norm2"),
        _ => FUNCTIONS.iter().copied().find(|f| *f == lower),
    }
}

/// Greek letters: the Unicode character, the LaTeX command, the canonical name. A variant
/// form is a letter of its own (`\phi` ϕ and `\varphi` φ are two variables, as a page that
/// uses both means them), each with the character LaTeX draws for it.
const GREEK: &[(&str, &str, &str)] = &[
    ("α", "alpha", "alpha"),
    ("β", "beta", "beta"),
    ("γ", "gamma", "gamma"),
    ("δ", "delta", "delta"),
    ("ϵ", "epsilon", "epsilon"),
    ("ε", "varepsilon", "varepsilon"),
    ("ζ", "zeta", "zeta"),
    ("η", "eta", "eta"),
    ("θ", "theta", "theta"),
    ("ϑ", "vartheta", "vartheta"),
    ("ι", "iota", "iota"),
    ("κ", "kappa", "kappa"),
    ("λ", "lambda", "lambda"),
    ("μµ", "mu", "mu"),
    ("ν", "nu", "nu"),
    ("ξ", "xi", "xi"),
    ("ο", "omicron", "omicron"),
    ("π", "pi", "pi"),
    ("ϖ", "varpi", "varpi"),
    ("ρ", "rho", "rho"),
    ("ϱ", "varrho", "varrho"),
    ("σ", "sigma", "sigma"),
    ("ς", "varsigma", "varsigma"),
    ("τ", "tau", "tau"),
    ("υ", "upsilon", "upsilon"),
    ("ϕ", "phi", "phi"),
    ("φ", "varphi", "varphi"),
    ("χ", "chi", "chi"),
    ("ψ", "psi", "psi"),
    ("ω", "omega", "omega"),
    ("", "ell", "ell"),
    ("Α", "", "Alpha"),
    ("Β", "", "Beta"),
    ("Γ", "Gamma", "Gamma"),
    ("Δ", "Delta", "Delta"),
    ("Ε", "", "Epsilon"),
    ("Ζ", "", "Zeta"),
    ("Η", "", "Eta"),
    ("Θ", "Theta", "Theta"),
    ("Ι", "", "Iota"),
    ("Κ", "", "Kappa"),
    ("Λ", "Lambda", "Lambda"),
    ("Μ", "", "Mu"),
    ("Ν", "", "Nu"),
    ("Ξ", "Xi", "Xi"),
    ("Ο", "", "Omicron"),
    ("Π", "Pi", "Pi"),
    ("Ρ", "", "Rho"),
    ("Σ", "Sigma", "Sigma"),
    ("Τ", "", "Tau"),
    ("Υ", "Upsilon", "Upsilon"),
    ("Φ", "Phi", "Phi"),
    ("Χ", "", "Chi"),
    ("Ψ", "Psi", "Psi"),
    ("Ω", "Omega", "Omega"),
];

/// The name of a Greek character: `α` is `alpha`, `Σ` is `Sigma`.
pub fn greek_char(c: char) -> Option<&'static str> {
    GREEK.iter().find(|(chars, _, _)| chars.contains(c)).map(|(_, _, name)| *name)
}

/// The name of a Greek LaTeX command (without the backslash): `varepsilon` is `epsilon`.
pub fn greek_command(command: &str) -> Option<&'static str> {
    GREEK.iter().find(|(_, latex, _)| !latex.is_empty() && *latex == command).map(|(_, _, name)| *name)
}

/// The letter a canonical Greek name stands for: `alpha` is `α`, `Sigma` is `Σ`.
pub fn greek_letter(name: &str) -> Option<char> {
    GREEK
        .iter()
        .find(|(chars, _, canonical)| *canonical == name && !chars.is_empty())
        .and_then(|(chars, _, _)| chars.chars().next())
}

/// The LaTeX command (without the backslash) for a canonical Greek name, where LaTeX has
/// one (`alpha`; capital Alpha is just `A`).
pub fn greek_latex(name: &str) -> Option<&'static str> {
    GREEK.iter().find(|(_, latex, canonical)| *canonical == name && !latex.is_empty()).map(|(_, latex, _)| *latex)
}

/// Every Greek LaTeX command, for "did you mean" suggestions.
pub fn greek_commands() -> impl Iterator<Item = &'static str> {
    GREEK.iter().map(|(_, latex, _)| *latex).filter(|latex| !latex.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        assert_eq!(greek_char('λ'), Some("lambda"));
        assert_eq!(greek_char('ϕ'), Some("phi"));
        assert_eq!(greek_char('φ'), Some("varphi"));
        assert_eq!(greek_char('Σ'), Some("Sigma"));
        assert_eq!(greek_command("varepsilon"), Some("varepsilon"));
        assert_eq!(greek_command("Alpha"), None);
        assert_eq!(latex_function("Tr"), Some("tr"));
        assert_eq!(latex_function("ReLU"), Some("relu"));
        assert_eq!(latex_function("ln"), Some("log"));
        assert_eq!(ascii_function("Tr"), None);
        assert_eq!(ascii_function("trace"), Some("tr"));
        assert_eq!(ascii_function("Diag"), Some("diag"));
    }
}
