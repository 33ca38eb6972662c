//! The listing `check` prints: every variable with its type and each statement in
//! canonical ASCII. The listing is itself a valid program that lowers to the same graph.

use std::fmt::Write;

use crate::ir::NodeId;
use crate::program::line_column;
use crate::Program;

use super::names::ascii_name;
use super::{print, Notation};

/// The listing of `program`; `source` is its text, for what a pasted document ignored.
pub fn listing(program: &Program, source: &str) -> String {
    let graph = &program.graph;
    let namer = |id: NodeId| graph.name(id).map(str::to_string);
    let mut out = String::new();
    out.push_str("# inputs\n");
    let declarations: Vec<String> = program
        .inputs
        .iter()
        .map(|v| format!("{}: {}", ascii_name(&v.name), graph.dims.show_type(graph.shape(v.node))))
        .collect();
    let width = declarations.iter().map(|d| d.chars().count()).max().unwrap_or(0);
    for (declaration, variable) in declarations.iter().zip(&program.inputs) {
        if variable.declared {
            let _ = writeln!(out, "{declaration}");
        } else {
            let _ = writeln!(out, "{declaration:<width$}  # undeclared: by the letter convention");
        }
    }
    out.push_str("\n# statements\n");
    let lines: Vec<String> = program
        .statements
        .iter()
        .map(|s| {
            // A statement whose value an earlier one already computed prints as that name.
            let expr = match graph.name(s.node) {
                Some(name) if name != s.name => ascii_name(name),
                _ => print(graph, s.node, Notation::Ascii, &namer),
            };
            format!("{} = {expr}", ascii_name(&s.name))
        })
        .collect();
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (line, statement) in lines.iter().zip(&program.statements) {
        let _ = writeln!(out, "{line:<width$}  # {}", graph.dims.show_type(graph.shape(statement.node)));
    }
    let _ = writeln!(out, "\n# output: {}", ascii_name(&program.output_statement().name));
    if !program.ignored.is_empty() {
        out.push_str("\n# ignored (not math, or inline math that declares nothing):\n");
        for span in &program.ignored {
            let (line, column) = line_column(source, span.start);
            let text: String = source.get(span.range()).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
            let text = if text.chars().count() > 60 {
                format!("{}…", text.chars().take(59).collect::<String>())
            } else {
                text
            };
            let _ = writeln!(out, "#   {line}:{column}  {text}");
        }
    }
    out
}
