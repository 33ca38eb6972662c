//! Explanations: the three views for a few programs, every step checked numerically.

use super::common;

use crate::explain::{check, render, Format};
use common::{parse, random_inputs, sizes};

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every step of `explanation` checked at one random point (size 3, seed 11) of its program's
/// inputs.
fn checked_at_a_point(explanation: &crate::explain::Explanation) -> crate::explain::Checked {
    let graph = &explanation.gradient.program.graph;
    let sizes = sizes(graph, 3);
    let inputs = random_inputs(graph, &sizes, 11);
    let program_inputs = explanation.gradient.program.inputs.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    let inputs = inputs.into_iter().filter(|(name, _)| program_inputs.contains(name)).collect();
    check(explanation, &sizes, &inputs).expect("evaluates")
}

/// The text explanation with its checks, after asserting every check passes.
fn explained(file: &str) -> String {
    let explanation = parse(&example(file)).explain(&[]).expect("a scalar output");
    let checked = checked_at_a_point(&explanation);
    assert!(checked.worst() <= 1e-6, "{file}: a step disagrees by {:e}", checked.worst());
    // The backpropagation and differential views give the same gradients.
    assert_eq!(checked.read_off.len(), explanation.gradient.wrt.len());
    render(&explanation, Format::Text, Some(&checked), None)
}

#[test]
fn the_backprop_example() {
    insta::assert_snapshot!(explained("backprop.mg"));
}

#[test]
fn a_two_layer_network() {
    insta::assert_snapshot!(explained("mlp2.mg"));
}

#[test]
fn logistic_regression() {
    insta::assert_snapshot!(explained("logistic_regression.mg"));
}

#[test]
fn a_shared_weight() {
    insta::assert_snapshot!(explained("shared_weight.mg"));
}

#[test]
fn markdown_and_html_formats() {
    let explanation = parse(&example("backprop.mg")).explain(&[]).expect("scalar");
    let markdown = render(&explanation, Format::Markdown, None, None);
    assert!(markdown.contains("\\bar{A} &= \\bar{w}\\frac{\\partial w}{\\partial A} + \\bar{z}\\frac{\\partial z}{\\partial A} + \\bar{y}\\frac{\\partial y}{\\partial A}"), "{markdown}");
    let html = render(&explanation, Format::Html, None, Some("<svg></svg>"));
    assert!(
        html.starts_with("<!DOCTYPE html>")
            && html.contains("<math display=\"block\">")
            && html.contains("<svg></svg>")
    );
    // Standalone: nothing is fetched.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}

/// The second order of an explanation (`explain --hessian`) at a point: every step checked,
/// the read-off Hessian-vector products against finite differences of the gradient.
fn explained_second_order(file: &str, wrt: &[&str]) -> (crate::explain::Explanation, crate::explain::Checked) {
    let explanation = parse(&example(file)).explain_hessian(wrt).expect("a scalar output");
    let checked = checked_at_a_point(&explanation);
    (explanation, checked)
}

#[test]
fn the_second_order_of_logistic_regression() {
    let (explanation, checked) = explained_second_order("logistic_regression.mg", &["w", "b"]);
    let second = checked.second.as_ref().expect("a second order");
    assert!(checked.worst() <= 1e-6, "a step disagrees by {:e}: {:?}", checked.worst(), second);
    assert_eq!(second.read_off.len(), explanation.gradient.wrt.len());
    let text = render(&explanation, Format::Text, Some(&checked), None);
    let start = text.find("4. Second order").expect("the second-order section");
    insta::assert_snapshot!(text[start..].to_string());
}

#[test]
fn every_second_order_step_of_the_examples_agrees() {
    for (file, wrt) in [("backprop.mg", &["A", "B", "x"][..]), ("mlp2.mg", &[]), ("shared_weight.mg", &[])] {
        let (explanation, checked) = explained_second_order(file, wrt);
        let second = checked.second.as_ref().expect("a second order");
        assert!(checked.failures(&explanation).is_empty(), "{file}: {:?}", checked.failures(&explanation));
        assert_eq!(second.reverse.len(), explanation.backprop.len(), "{file}");
        assert!(second.read_off.iter().all(|(_, e)| *e < 1e-6), "{file}: {second:?}");
    }
}

/// The check can fail: a Hessian-vector product that is wrong by a factor is caught, both
/// in its own step and against the finite differences of the gradient.
#[test]
fn a_wrong_second_order_step_fails_its_check() {
    let (mut explanation, _) = explained_second_order("logistic_regression.mg", &[]);
    let second = explanation.second.as_mut().expect("a second order");
    let step = second.reverse.last_mut().expect("a step");
    let graph = &mut explanation.gradient.program.graph;
    let two = graph.constant(2.0);
    step.closed = crate::simplify::build(graph, crate::ir::Op::Mul(two, step.closed));
    let graph = &explanation.gradient.program.graph;
    let sizes = sizes(graph, 3);
    let program_inputs = explanation.gradient.program.inputs.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    let inputs =
        random_inputs(graph, &sizes, 11).into_iter().filter(|(name, _)| program_inputs.contains(name)).collect();
    let checked = check(&explanation, &sizes, &inputs).expect("evaluates");
    let failures = checked.failures(&explanation);
    assert!(failures.iter().any(|f| f.starts_with("the differential of the adjoint of")), "{failures:?}");
    assert!(failures.iter().any(|f| f.contains("against finite differences of the gradient")), "{failures:?}");
}

/// The top-level terms of one line of a sum: split at ` + ` and ` − ` outside brackets.
fn top_level_terms(line: &str) -> Vec<String> {
    let (mut depth, mut terms, mut current) = (0i32, Vec::new(), String::new());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if depth == 0 {
            if let Some(after) = rest.strip_prefix(" + ").or_else(|| rest.strip_prefix(" − ")) {
                terms.push(std::mem::take(&mut current));
                rest = after;
                continue;
            }
        }
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        current.push(c);
        rest = &rest[c.len_utf8()..];
    }
    terms.push(current);
    terms
}

/// In the back-substitution, `X : Y` binds tighter than `+`: every term of every line is one
/// Frobenius product, its coefficient bracketed when it is a sum — for the examples and for
/// random programs, whose coefficients are scaled sums, differences and named sums.
#[test]
fn every_term_of_a_back_substitution_is_one_frobenius_product() {
    let mut sources: Vec<(String, String)> =
        ["backprop.mg", "mlp.mg", "mlp2.mg", "logistic_regression.mg", "shared_weight.mg", "softmax_cross_entropy.mg"]
            .iter()
            .map(|f| (f.to_string(), example(f)))
            .collect();
    sources.extend(
        (0..60u64).map(|seed| (format!("random {seed}"), common::random_program(seed, 2 + (seed % 7) as usize))),
    );
    let mut lines_seen = 0;
    for (name, source) in sources {
        let Ok(explanation) = parse(&source).explain(&[]) else { continue };
        let text = render(&explanation, Format::Text, None, None);
        // The math after the prose that introduces it, up to the read-off.
        let Some((_, after)) = text.split_once("Then back-substitution") else { continue };
        let Some((_, math)) = after.split_once("\n\n") else { continue };
        let block = math.split_once("from which").map_or(math, |(b, _)| b);
        for line in
            block.lines().filter_map(|l| l.trim_start().strip_prefix("= ").or(l.trim_start().strip_prefix("dL = ")))
        {
            lines_seen += 1;
            for term in top_level_terms(line) {
                if term.contains('⋯') {
                    continue;
                }
                assert_eq!(term.matches(" : ").count(), 1, "{name}: `{term}` in\n{line}\n(program:\n{source})");
            }
        }
    }
    assert!(lines_seen > 200, "only {lines_seen} lines of back-substitution seen");
}

/// Each line's "by …" names rules of the table, and the legend after the definitions gives
/// each cited rule's identity once: for the examples and random programs.
#[test]
fn the_rules_cited_after_a_line_are_the_tables_and_explained_once() {
    let mut sources: Vec<String> = ["backprop.mg", "mlp.mg", "logistic_regression.mg", "softmax_cross_entropy.mg"]
        .iter()
        .map(|f| example(f))
        .collect();
    sources.extend((0..40u64).map(|seed| common::random_program(seed, 2 + (seed % 6) as usize)));
    let mut cited_somewhere = 0;
    for source in sources {
        let Ok(explanation) = parse(&source).explain(&[]) else { continue };
        let text = render(&explanation, Format::Text, None, None);
        let (body, legend) = text.split_once("say what made its form:").unwrap_or((&text, ""));
        let cited: std::collections::BTreeSet<&str> = body
            .lines()
            .filter_map(|line| line.rsplit_once("   by ").map(|(_, names)| names))
            .flat_map(|names| names.split(", "))
            .collect();
        for name in &cited {
            let rule = crate::simplify::RULES.iter().find(|r| r.name == *name);
            let rule = rule.unwrap_or_else(|| panic!("`{name}` is no rule of the table:\n{text}"));
            let row = format!("{name} ");
            assert_eq!(legend.lines().filter(|l| l.trim_start().starts_with(&row)).count(), 1, "{name} in\n{legend}");
            assert!(legend.contains(rule.identity), "{name}'s identity in\n{legend}");
        }
        assert_eq!(
            legend.is_empty(),
            cited.is_empty(),
            "a legend without citations, or citations without one:\n{text}"
        );
        cited_somewhere += usize::from(!cited.is_empty());
    }
    assert!(cited_somewhere >= 10, "only {cited_somewhere} explanations cite a rule");
}

/// Every bundled example (`examples/*.mg`) explained to second order and checked at a point.
fn every_example_explained_to_second_order() -> Vec<(String, crate::explain::Explanation, crate::explain::Checked)> {
    let directory = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(&directory)
        .unwrap_or_else(|e| panic!("{directory}: {e}"))
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".mg"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "examples: {files:?}");
    files
        .into_iter()
        .map(|file| {
            let (explanation, checked) = explained_second_order(&file, &[]);
            (file, explanation, checked)
        })
        .collect()
}

/// Markdown outside math: the text with every `$$…$$` block and `$…$` span taken out.
fn outside_math(markdown: &str) -> String {
    let mut out = String::new();
    for (k, piece) in markdown.split("$$").enumerate() {
        if k % 2 == 0 {
            out.extend(piece.split('$').step_by(2));
        }
    }
    out
}

/// In Markdown, every formula is inside `$…$` or `$$…$$`: no LaTeX command, subscript or
/// superscript is left in the prose (`\mathit{dW}_{1}` was, in the second order's sentence
/// naming the direction), for every section of every example explained to second order.
#[test]
fn markdown_keeps_every_formula_inside_math_delimiters() {
    for (file, explanation, checked) in every_example_explained_to_second_order() {
        let markdown = render(&explanation, Format::Markdown, Some(&checked), None);
        assert_eq!(markdown.matches('$').count() % 2, 0, "{file}: an unclosed $ in\n{markdown}");
        let prose = outside_math(&markdown);
        for line in prose.lines() {
            let command = line
                .char_indices()
                .any(|(i, c)| c == '\\' && line[i + 1..].starts_with(|next: char| next.is_ascii_alphabetic()));
            assert!(!command && !line.contains("_{") && !line.contains("^{"), "{file}: LaTeX outside $…$: {line}");
        }
    }
}

/// In HTML, math is MathML and words are escaped text: no sentence shows MathML tags as
/// escaped text (`&lt;msub&gt;…`), which is what printing math into a sentence that is then
/// escaped gives; for every example explained to second order.
#[test]
fn html_writes_math_as_mathml_and_never_as_escaped_text() {
    for (file, explanation, checked) in every_example_explained_to_second_order() {
        let html = render(&explanation, Format::Html, Some(&checked), Some("<svg></svg>"));
        for tag in ["&lt;m", "&lt;/m"] {
            assert!(!html.contains(tag), "{file}: MathML written as text:\n{html}");
        }
        let paragraphs = html.matches("<p>").count();
        assert_eq!(paragraphs, html.matches("</p>").count(), "{file}");
    }
}

/// An intermediate among the variables of `explain --hessian` is held as the Hessian holds
/// it (as a leaf for its own derivative, every other variable's derivative reaching through
/// it): it moves by its own part v_z of the direction on top of what its uses move it by,
/// and every step still agrees, the read-off products with central differences of the
/// gradient, which hold each variable so.
#[test]
fn an_intermediate_among_the_second_orders_variables_is_held_as_the_hessian_holds_it() {
    let network = "W: matrix(m, n)\nx: vector(n)\nz = W*x\nh = tanh(z)\nL = sum(h)\n";
    let cases: [(&str, &[&str]); 6] = [
        (network, &["z", "W"]),
        (network, &["z"]),
        (network, &["h", "W", "x"]),
        (network, &["L", "x"]),
        (&example("backprop.mg"), &["y", "z", "A"]),
        (&example("shared_weight.mg"), &["h1", "W"]),
    ];
    for (source, wrt) in cases {
        let explanation = parse(source).explain_hessian(wrt).unwrap_or_else(|e| panic!("{wrt:?}: {}", e.message));
        let checked = checked_at_a_point(&explanation);
        let second = checked.second.as_ref().expect("a second order");
        assert!(checked.failures(&explanation).is_empty(), "{wrt:?}: {:?}", checked.failures(&explanation));
        assert_eq!(second.read_off.len(), wrt.len(), "{wrt:?}");
        assert!(second.read_off.iter().all(|(_, e)| *e < 1e-6), "{wrt:?}: {second:?}");
    }
    let explanation = parse(network).explain_hessian(&["z", "W"]).expect("z is a variable");
    let text = render(&explanation, Format::Text, None, None);
    for line in ["dz = dW x + v_z", "d(∂L/∂z) = ", "d(∂L/∂W) = "] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
}

/// A variable the second order cannot follow is refused with what is not supported: a value
/// the output does not depend on, a constant, one value named twice.
#[test]
fn a_variable_the_second_order_cannot_follow_is_refused_with_the_reason() {
    let source = "W: matrix(m, n)\nx: vector(n)\nc = 2\nz = W*x\ny = z\nL = sum(tanh(c*z))\nr = z + 1\n";
    for (wrt, message) in [
        (&["r"][..], "the output `L` does not depend on `r`"),
        // Refused for every derivative (`Program::with_variables`): derivatives fold a
        // constant into their numbers, and a second name for a variable cannot move apart.
        (&["c"][..], "`c` is a constant, and derivatives fold constants"),
        (&["z", "y"][..], "`y` is another name for `z`"),
    ] {
        let mut program = parse(source);
        program.set_output("L").expect("L is a statement");
        let error = program.explain_hessian(wrt).map(|_| ()).expect_err("refused");
        assert!(error.message.starts_with(message), "{wrt:?}: {}", error.message);
    }
}

/// The character data of MathML that is not inside a token element (`<mi>`, `<mn>`, `<mo>`,
/// `<mtext>`): MathML shows no text outside them (`<mrow>d<mi>L̄</mi></mrow>` loses its d).
fn text_outside_tokens(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for math in html.split("<math").skip(1) {
        let math = math.split_once("</math>").map_or(math, |(inside, _)| inside);
        let Some((_, mut rest)) = math.split_once('>') else { continue };
        let mut open: Vec<&str> = Vec::new();
        while !rest.is_empty() {
            let (text, after) = rest.split_once('<').unwrap_or((rest, ""));
            let in_token = open.last().is_some_and(|tag| ["mi", "mn", "mo", "mtext", "ms"].contains(tag));
            if !text.trim().is_empty() && !in_token {
                found.push(text.to_string());
            }
            let Some((tag, after)) = after.split_once('>') else { break };
            let name = tag.trim_start_matches('/').split_whitespace().next().unwrap_or_default();
            if tag.starts_with('/') {
                open.pop();
            } else if !tag.ends_with('/') {
                open.push(name);
            }
            rest = after;
        }
    }
    found
}

/// The differential of an adjoint is written one way, a d before the adjoint's symbol, as
/// the text format writes it (dō, dh̄₁) — the output's, whose adjoint has no symbol, as
/// every other — and with the bar on the letter before a subscript in every notation
/// (`d\bar{b}_{1}`, not `\bar{\mathit{do}}`, a bar over "do", nor `d\bar{b_{1}}`).
#[test]
fn the_differential_of_an_adjoint_is_a_d_before_its_symbol_in_every_format() {
    let source = "x: vector(n)\nt: vector(m)\nW1: matrix(k, n)\nW2: matrix(m, k)\nb1: vector(k)\n\
                  hid = tanh(W1*x + b1)\no = W2*hid\nL = norm2(o - t)^2 / 2\n";
    let explanation = parse(source).explain_hessian(&["W1", "b1"]).expect("a scalar output");
    let text = render(&explanation, Format::Text, None, None);
    let markdown = render(&explanation, Format::Markdown, None, None);
    let html = render(&explanation, Format::Html, None, None);
    for (format, printed, differentials) in [
        ("text", &text, &["dL̄ = 0", "do\u{304} = ", "dhid̄ = W₂ᵀ do\u{304}", "db̄₁ = ", "dW̄₁ = "][..]),
        (
            "markdown",
            &markdown,
            &[
                "d\\bar{L} &= 0",
                "d\\bar{o} &= ",
                "d\\bar{\\mathit{hid}} &= W_{2}^\\top d\\bar{o}",
                "d\\bar{b}_{1} &= ",
                "d\\bar{W}_{1} &= ",
                "d\\left(\\frac{\\partial L}{\\partial W_{1}}\\right) &= ",
            ][..],
        ),
        (
            "html",
            &html,
            &[
                "<mrow><mi>d</mi><mi>L̄</mi></mrow>",
                "<mrow><mi>d</mi><mi>o\u{304}</mi></mrow>",
                "<mrow><mi>d</mi><msub><mi>b̄</mi><mn>1</mn></msub></mrow>",
                "<mi>d</mi><mrow><mo>(</mo><mfrac>",
            ][..],
        ),
    ] {
        for differential in differentials {
            assert!(printed.contains(differential), "{format}: no `{differential}` in\n{printed}");
        }
    }
    assert!(!markdown.contains("\\bar{\\mathit{d") && !markdown.contains("\\bar{b_{1}}"), "{markdown}");
}

/// MathML has no text outside its token elements, in any example explained to second order.
#[test]
fn mathml_has_no_text_outside_its_tokens() {
    for (file, explanation, checked) in every_example_explained_to_second_order() {
        let html = render(&explanation, Format::Html, Some(&checked), Some("<svg></svg>"));
        assert_eq!(text_outside_tokens(&html), Vec::<String>::new(), "{file}");
    }
    assert_eq!(text_outside_tokens("<math><mrow>d<mi>x</mi></mrow></math>"), vec!["d".to_string()]);
}

/// The back-substitution reads off every variable's gradient, an intermediate's where its
/// differential is substituted (it read off none: `--wrt z` ended in an empty block) and
/// the output's, each checked against the gradient.
#[test]
fn every_variable_is_read_off_the_back_substitution() {
    let network = "W: matrix(m, n)\nx: vector(n)\nz = W*x\nh = tanh(z)\nL = sum(h)\n";
    let cases: [(&str, &[&str]); 5] = [
        (network, &["z"]),
        (network, &["z", "W"]),
        (network, &["L", "h", "W", "x"]),
        (&example("backprop.mg"), &["y", "z", "A"]),
        (&example("shared_weight.mg"), &["h1", "W"]),
    ];
    for (source, wrt) in cases {
        let explanation = parse(source).explain(wrt).expect("a scalar output");
        let checked = checked_at_a_point(&explanation);
        assert!(checked.failures(&explanation).is_empty(), "{wrt:?}: {:?}", checked.failures(&explanation));
        let mut read_off: Vec<&str> = checked.read_off.iter().map(|(name, _)| name.as_str()).collect();
        read_off.sort();
        let mut expected = wrt.to_vec();
        expected.sort();
        assert_eq!(read_off, expected);
        let text = render(&explanation, Format::Text, Some(&checked), None);
        for name in wrt.iter().map(|name| crate::print::unicode_name(name)) {
            assert!(text.contains(&format!("∂L/∂{name} = ")), "{wrt:?}: no ∂L/∂{name} in\n{text}");
        }
    }
}

/// Every differential of a named value is a d before the value's name as each notation
/// writes it: dλ, `d\lambda` for `lambda` (it was dlambda, `\mathit{dlambda}`), dW₁,
/// `dW_{1}`; a user's own `dx` is another name, so x's differential is primed beside it.
#[test]
fn the_differential_of_a_value_is_a_d_before_its_name() {
    let explanation = parse(&example("least_squares.mg")).explain_hessian(&[]).expect("a scalar output");
    let text = render(&explanation, Format::Text, None, None);
    let markdown = render(&explanation, Format::Markdown, None, None);
    assert!(text.contains("xᵀ x : dλ") && !text.contains("dlambda"), "{text}");
    assert!(markdown.contains("d\\lambda") && !markdown.contains("dlambda"), "{markdown}");
    let explanation = parse(&example("mlp2.mg")).explain(&[]).expect("a scalar output");
    let markdown = render(&explanation, Format::Markdown, None, None);
    assert!(markdown.contains("dW_{1}") && !markdown.contains("\\mathit{dW}"), "{markdown}");
    let explanation = parse("x: vector(n)\ndx: vector(n)\ny = x.*dx\nL = sum(y)\n").explain(&[]).expect("scalar");
    let text = render(&explanation, Format::Text, None, None);
    assert!(text.contains("dy = dx ⊙ dx′ + x ⊙ ddx"), "{text}");
}
