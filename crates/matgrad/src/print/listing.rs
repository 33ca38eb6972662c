//! The listing `check` prints: every variable with its type and each statement in
//! canonical ASCII. The listing is itself a valid program that lowers to the same graph.

use std::fmt::Write;

use crate::ir::kinds::Origin;
use crate::ir::NodeId;
use crate::program::{Meaning, Variable};
use crate::syntax::AsideKind;
use crate::Program;

use super::names::ascii_name;
use super::{print, unicode_name, Notation};

/// The listing of `program`; `source` is its text, for what a pasted document ignored.
pub fn listing(program: &Program, source: &str) -> String {
    let graph = &program.graph;
    // The statement that gives each node its name: a statement may write an earlier one's
    // name for a value, never a later one's (`L = sum(exp(x))` before `p = exp(x)` is not
    // `L = sum(p)`, which would not read back).
    let mut named_by: std::collections::HashMap<NodeId, usize> = std::collections::HashMap::new();
    for (i, statement) in program.statements.iter().enumerate() {
        named_by.entry(statement.node).or_insert(i);
    }
    let named_by = &named_by;
    let namer_before = |i: usize| {
        move |id: NodeId| match named_by.get(&id) {
            Some(&by) if by >= i => None,
            _ => graph.name(id).map(str::to_string),
        }
    };
    let mut out = String::new();
    out.push_str("# inputs\n");
    let declarations: Vec<String> = program
        .inputs
        .iter()
        .map(|v| format!("{}: {}", ascii_name(&v.name), graph.dims.show_type(graph.shape(v.node))))
        .collect();
    let width = declarations.iter().map(|d| d.chars().count()).max().unwrap_or(0);
    for (declaration, variable) in declarations.iter().zip(&program.inputs) {
        match variable.origin {
            Origin::Declared => {
                let _ = writeln!(out, "{declaration}");
            }
            origin => {
                let _ = writeln!(out, "{declaration:<width$}  # {}", describe_origin(program, variable, origin));
            }
        }
    }
    out.push_str("\n# statements\n");
    let in_model = program.in_model();
    let lines: Vec<String> = program
        .statements
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // A statement whose value an earlier one already computed prints as that name.
            let expr = match graph.name(s.node) {
                Some(name) if name != s.name => ascii_name(name),
                _ => print(graph, s.node, Notation::Ascii, &namer_before(i)),
            };
            format!("{} = {expr}", ascii_name(&s.name))
        })
        .collect();
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for ((line, statement), used) in lines.iter().zip(&program.statements).zip(&in_model) {
        // A pasted page's definitions for its derivation (`U = Diag(u)`) are not part of
        // the model; a program's unused statements are simply unused.
        let note = if program.document && !used { ", not part of the model" } else { "" };
        let _ = writeln!(out, "{line:<width$}  # {}{note}", graph.dims.show_type(graph.shape(statement.node)));
    }
    let _ = writeln!(out, "\n# output: {}", ascii_name(&program.output_statement().name));
    out.push_str(&not_in_model(program));
    if !program.ignored.is_empty() {
        out.push_str("\n# ignored (not math, or inline math that declares nothing):\n");
        for span in &program.ignored {
            let (line, column) = program.line_column(span.start);
            let text = one_line(source.get(span.range()).unwrap_or(""), 60);
            let _ = writeln!(out, "#   {line}:{column}  {text}");
        }
    }
    out
}

/// Where an undeclared input's kind came from, in words: "by its letter (a–g scalars)",
/// "from its use in `A*x - b` (line 3)".
pub fn describe_origin(program: &Program, variable: &Variable, origin: Origin) -> String {
    let source = program.source();
    match origin {
        Origin::Declared => "declared".to_string(),
        Origin::Letter => format!("undeclared: by its letter ({})", variable.letter_rule),
        Origin::Use => match variable.decided_by {
            Some(span) => {
                let (line, _) = program.line_column(span.start);
                let text: String =
                    source.get(span.range()).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
                let text = if text.chars().count() > 40 {
                    format!("{}…", text.chars().take(39).collect::<String>())
                } else {
                    text
                };
                format!("undeclared: from its use in `{text}` (line {line})")
            }
            None => "undeclared: from its use".to_string(),
        },
    }
}

/// The header lines that say how each input was read, grouped by where its kind came
/// from, in Unicode: `# inputs, declared: x: vector(K), A: matrix(K, K)`,
/// `# inputs from their use: b: vector(n) (in `A*x + b`, line 3)`.
pub fn inputs_header(program: &Program) -> String {
    let graph = &program.graph;
    if program.inputs.is_empty() {
        // Said, so that an empty list of derivatives is not taken for a failure.
        return "# inputs: none (the program is constant: there is nothing to differentiate)\n".to_string();
    }
    let mut out = String::new();
    for origin in [Origin::Declared, Origin::Letter, Origin::Use] {
        let entries: Vec<String> = program
            .inputs
            .iter()
            .filter(|v| v.origin == origin)
            .map(|v| {
                let ty = format!("{}: {}", unicode_name(&v.name), graph.dims.show_type(graph.shape(v.node)));
                match origin {
                    Origin::Declared => ty,
                    Origin::Letter => format!("{ty} ({})", v.letter_rule),
                    Origin::Use => match v.decided_by {
                        Some(span) => {
                            let (line, _) = program.line_column(span.start);
                            format!("{ty} (in `{}`, line {line})", excerpt(&program.source, span))
                        }
                        None => ty,
                    },
                }
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        let heading = match origin {
            Origin::Declared => "# inputs, declared: ",
            Origin::Letter => "# inputs by their letters: ",
            Origin::Use => "# inputs from their use: ",
        };
        let _ = writeln!(out, "{heading}{}", entries.join(", "));
    }
    out
}

/// `text` on one line (runs of whitespace as one space), cut to `limit` characters with
/// an ellipsis: how reports quote what the user wrote.
pub fn one_line(text: &str, limit: usize) -> String {
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > limit {
        format!("{}…", text.chars().take(limit.saturating_sub(1)).collect::<String>())
    } else {
        text
    }
}

/// The source text of `span` on one line, shortened past 40 characters.
fn excerpt(source: &str, span: crate::Span) -> String {
    one_line(source.get(span.range()).unwrap_or(""), 40)
}

/// What a pasted page says besides its statements, in page order with line and column:
/// its restatements of the model, and its other equations (claimed derivatives,
/// differentials, chains of equalities). Empty for a program.
pub fn not_in_model(program: &Program) -> String {
    let source = &program.source;
    let mut entries: Vec<(usize, String)> = Vec::new();
    for restated in &program.restated {
        let (line, _) = program.line_column(restated.first.start);
        let verdict = match &restated.meaning {
            Meaning::Same => "the same meaning".to_string(),
            Meaning::Different(_) => "another expression (its value is for `verify` to check)".to_string(),
            Meaning::Unreadable(message) => format!("does not type-check: {message}"),
            Meaning::OfAnInput => "gives the input a value (an optimum?)".to_string(),
        };
        entries.push((
            restated.span.start,
            format!("restates {} of line {line}, {verdict}: {}", restated.name, excerpt(source, restated.span)),
        ));
    }
    for aside in &program.asides {
        let kind = match aside.kind {
            AsideKind::Derivative => "a derivative",
            AsideKind::Differential => "a differential",
            AsideKind::Continuation => "a step of the chain above",
            AsideKind::Equation => "an equation",
        };
        entries.push((aside.span.start, format!("{kind}: {}", excerpt(source, aside.span))));
    }
    if entries.is_empty() {
        return String::new();
    }
    entries.sort_by_key(|(start, _)| *start);
    let mut out = String::from("\n# not statements of the model (claims of the derivation):\n");
    for (start, text) in entries {
        let (line, column) = program.line_column(start);
        let _ = writeln!(out, "#   {line}:{column}  {text}");
    }
    out
}
