//! How a variable's canonical name (`W_1`, `alpha`) is shown in Unicode and LaTeX.

const GREEK: &[(&str, &str)] = &[
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("epsilon", "ε"),
    ("varepsilon", "ε"),
    ("zeta", "ζ"),
    ("eta", "η"),
    ("theta", "θ"),
    ("vartheta", "ϑ"),
    ("iota", "ι"),
    ("kappa", "κ"),
    ("lambda", "λ"),
    ("mu", "μ"),
    ("nu", "ν"),
    ("xi", "ξ"),
    ("pi", "π"),
    ("rho", "ρ"),
    ("sigma", "σ"),
    ("tau", "τ"),
    ("upsilon", "υ"),
    ("phi", "φ"),
    ("varphi", "φ"),
    ("chi", "χ"),
    ("psi", "ψ"),
    ("omega", "ω"),
];

/// `alpha` → `α`, `W_1` → `W₁`; other names unchanged.
pub fn unicode_name(name: &str) -> String {
    let (base, subscript) = split_subscript(name);
    let base = GREEK.iter().find(|(n, _)| *n == base).map_or(base.to_string(), |(_, g)| g.to_string());
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

/// `alpha` → `\alpha`, `W_1` → `W_{1}`, `xhat` stays `\mathit{xhat}`.
pub fn latex_name(name: &str) -> String {
    let (base, subscript) = split_subscript(name);
    let base = if GREEK.iter().any(|(n, _)| *n == base) {
        format!("\\{base}")
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
