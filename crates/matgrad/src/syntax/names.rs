//! The names the parser knows: functions, and Greek letters in Unicode and LaTeX.
//!
//! Names are canonicalised here so that every spelling of a program gives the same tree:
//! `α`, `\alpha` and `alpha` are all `alpha`; `\ln`, `\log` and `log` are all `log`. The
//! elementwise functions' names are their rows' of the function table (`Func::info`).

use crate::ir::lower::BUILTINS;
use crate::ir::Func;

/// Functions known by name: the lowering's (`ir::lower::BUILTINS`, the elementwise ones
/// from the function table). In ASCII a known name followed by whitespace and `(` is a
/// call (`sigmoid (y)`), where another name would be a product (`A (x)`); in LaTeX, a
/// command or a bare word naming one of these is a function (`\exp`, `\tr`, `ReLU`).
pub const FUNCTIONS: &[&str] = &function_names();

const fn function_names() -> [&'static str; BUILTINS.len()] {
    let mut names = [""; BUILTINS.len()];
    let mut i = 0;
    while i < BUILTINS.len() {
        names[i] = BUILTINS[i].0;
        i += 1;
    }
    names
}

/// Other names LaTeX reads for functions that are not elementwise (the elementwise
/// functions' are in their rows of the function table, as `\ln` for log): `trace`, and
/// `norm` for the usual `\norm{x}` macro.
const LATEX_ALIASES: [(&str, &str); 2] = [("trace", "tr"), ("norm", "norm2")];

/// The length of the longest name LaTeX reads as a function (`logsumexp`): a bare word is
/// tried as a function for no more letters than this, which keeps long words linear.
pub(super) const LONGEST_FUNCTION: usize = longest_function();

const fn longest_function() -> usize {
    let mut longest = 0;
    let mut i = 0;
    while i < FUNCTIONS.len() {
        longest = max(longest, FUNCTIONS[i].len());
        i += 1;
    }
    let mut i = 0;
    while i < LATEX_ALIASES.len() {
        longest = max(longest, LATEX_ALIASES[i].0.len());
        i += 1;
    }
    let mut i = 0;
    while i < Func::ALL.len() {
        let aliases = Func::ALL[i].info().latex_aliases;
        let mut j = 0;
        while j < aliases.len() {
            longest = max(longest, aliases[j].len());
            j += 1;
        }
        i += 1;
    }
    longest
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

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
/// case-insensitive, with the aliases (`ln`, `trace`, `norm`).
pub fn latex_function(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = lower.as_str();
    FUNCTIONS
        .iter()
        .copied()
        .find(|f| *f == lower)
        .or_else(|| LATEX_ALIASES.iter().find(|(alias, _)| *alias == lower).map(|&(_, f)| f))
        .or_else(|| Func::ALL.into_iter().find(|f| f.info().latex_aliases.contains(&lower)).map(Func::name))
}

/// The function a Greek letter, by its canonical name, is before `(`: `sigma` (`σ(x)`,
/// `\sigma(x)`) is `sigmoid`.
pub fn letter_function(letter: &str) -> Option<&'static str> {
    Func::ALL.into_iter().find(|f| f.info().letter == Some(letter)).map(Func::name)
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
    // LaTeX has no \omicron: it is drawn as the Latin o.
    ("ο", "", "omicron"),
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
        assert_eq!(letter_function("sigma"), Some("sigmoid"));
        assert_eq!(letter_function("tau"), None);
        assert_eq!(LONGEST_FUNCTION, "logsumexp".len());
    }
}
