//! An explanation as a document: text for terminals, Markdown with `$$` LaTeX (renders on
//! GitHub and Math StackExchange), or one standalone HTML page with native MathML and the
//! graph inline as SVG.
//!
//! The document is built once as blocks (headings, prose, rows of aligned math with their
//! checks) with every formula printed in the format's notation, then written out.

use std::fmt::Write;

use super::check::STEP_TOLERANCE;
use super::{differential_name, Checked, Explanation, SecondOrder, VertexKind};
use crate::ir::{NodeId, Op};
use crate::print::{escape, print, print_operand, show_name, without_minus, Notation, ADJOINT};
use crate::simplify::{rules_behind_printed, Rule, RULES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    fn notation(self) -> Notation {
        match self {
            Format::Text => Notation::Unicode,
            Format::Markdown => Notation::Latex,
            Format::Html => Notation::MathMl,
        }
    }
}

/// The explanation in `format`; with `checked`, each step shows its numerical check, and
/// with `svg`, the HTML page shows the graph.
pub fn render(explanation: &Explanation, format: Format, checked: Option<&Checked>, svg: Option<&str>) -> String {
    let writer = Writer { explanation, notation: format.notation() };
    let blocks = document(&writer, checked, svg);
    match format {
        Format::Text => text(&blocks),
        Format::Markdown => markdown(&blocks),
        Format::Html => html(&blocks, &writer.title_text()),
    }
}

/// One line of aligned math: `left = right`, and the step's relative error when checked.
struct Row {
    left: String,
    right: String,
    check: Option<f64>,
    /// The simplifier's rules behind the row's form (their names; shown after the check).
    by: Vec<&'static Rule>,
}

enum Block {
    Heading(String),
    Prose(Vec<Piece>),
    Math(Vec<Row>),
    /// Rows of plain cells, the first row a header.
    Table(Vec<Vec<String>>),
    Graph(String),
}

/// A piece of a paragraph. A formula is kept apart from the words around it, so that each
/// format writes it as math (inline `$…$` in Markdown, `<math>` in HTML, where the words
/// are escaped) and never as words.
enum Piece {
    Words(String),
    Math(String),
}

impl Block {
    /// A paragraph of words only.
    fn words(text: impl Into<String>) -> Block {
        Block::Prose(vec![Piece::Words(text.into())])
    }
}

/// A paragraph being written, words and formulas in order.
#[derive(Default)]
struct Paragraph(Vec<Piece>);

impl Paragraph {
    fn words(mut self, text: &str) -> Paragraph {
        match self.0.last_mut() {
            Some(Piece::Words(words)) => words.push_str(text),
            _ => self.0.push(Piece::Words(text.to_string())),
        }
        self
    }

    fn math(mut self, formula: String) -> Paragraph {
        self.0.push(Piece::Math(formula));
        self
    }

    /// Formulas as a list, `a, b and c`; the first of `total` formulas, when they are
    /// fewer, and how many there are in all: `a, b, … (12 in all)`.
    fn list(mut self, formulas: &[String], total: usize) -> Paragraph {
        let whole = formulas.len() == total;
        for (k, formula) in formulas.iter().enumerate() {
            if k > 0 {
                self = self.words(if whole && k + 1 == formulas.len() { " and " } else { ", " });
            }
            self = self.math(formula.clone());
        }
        if !whole {
            self = self.words(&format!(", … ({total} in all)"));
        }
        self
    }

    fn block(self) -> Block {
        Block::Prose(self.0)
    }
}

/// Prints formulas and the explanation's symbols in one notation.
struct Writer<'a> {
    explanation: &'a Explanation,
    notation: Notation,
}

impl Writer<'_> {
    fn expr(&self, id: NodeId) -> String {
        let namer = |node: NodeId| self.explanation.name_of(node);
        print(self.explanation.graph(), id, self.notation, &namer)
    }

    /// `G` as the left operand of `G : dv`: its name where it has one (the definitions list
    /// says what it is, as for every operand), else its expression, bracketed when it is a sum.
    fn factor(&self, id: NodeId) -> String {
        if let Some(name) = self.explanation.name_of(id) {
            return show_name(&name, self.notation);
        }
        let namer = |node: NodeId| self.explanation.name_of(node);
        print_operand(self.explanation.graph(), id, self.notation, &namer)
    }

    /// The rules that made `id`'s printed form, not looking into what prints as a name.
    fn rules_behind(&self, id: NodeId) -> Vec<&'static Rule> {
        let e = self.explanation;
        rules_behind_printed(e.graph(), id, &|x| e.name_of(x).is_some())
    }

    fn parenthesized(&self, text: &str) -> String {
        match self.notation {
            Notation::Latex => format!("\\left({text}\\right)"),
            Notation::MathMl => format!("<mrow><mo>(</mo>{text}<mo>)</mo></mrow>"),
            Notation::Ascii | Notation::Unicode => format!("({text})"),
        }
    }

    fn name(&self, vertex: usize) -> String {
        show_name(&self.explanation.vertices[vertex].name, self.notation)
    }

    fn input_name(&self, node: NodeId) -> String {
        let graph = self.explanation.graph();
        match graph.op(node) {
            Op::Input(i) => show_name(&graph.input(i).name, self.notation),
            _ => self.expr(node),
        }
    }

    /// The name of a vertex's adjoint symbol `w̄` (an input's has no symbol, but its name).
    fn bar_name(&self, vertex: usize) -> String {
        let vertex = &self.explanation.vertices[vertex];
        let graph = self.explanation.graph();
        match vertex.bar.and_then(|bar| graph.name(bar)) {
            Some(name) => name.to_string(),
            None => format!("{}{ADJOINT}", vertex.name),
        }
    }

    /// `w̄`: the adjoint symbol of a vertex.
    fn bar(&self, vertex: usize) -> String {
        show_name(&self.bar_name(vertex), self.notation)
    }

    /// `dw̄`: the symbol for the differential of a vertex's adjoint, or where it has none
    /// (the output's, an input's) its name, so that each is written alike.
    fn d_bar(&self, vertex: usize) -> String {
        match self.explanation.second.as_ref().and_then(|second| second.dbar.get(&vertex)) {
            Some(&symbol) => self.input_name(symbol),
            None => show_name(&differential_name(&self.bar_name(vertex)), self.notation),
        }
    }

    /// `d(∂L/∂x)`: a d before a printed formula, written as
    /// [`ITALIC_DIFFERENTIAL`](crate::print::ITALIC_DIFFERENTIAL) writes it before a symbol.
    fn differential(&self, of: &str) -> String {
        match self.notation {
            Notation::MathMl => format!("<mi>d</mi>{of}"),
            Notation::Ascii | Notation::Unicode | Notation::Latex => format!("d{of}"),
        }
    }

    /// `dw`: the differential symbol of a vertex.
    fn d(&self, vertex: usize) -> String {
        self.input_name(self.explanation.vertices[vertex].tangent)
    }

    fn op(&self, symbol: &str) -> String {
        match self.notation {
            Notation::MathMl => format!("<mo>{symbol}</mo>"),
            Notation::Latex => format!(" {} ", latex_symbol(symbol)),
            Notation::Ascii | Notation::Unicode => format!(" {symbol} "),
        }
    }

    fn number(&self, text: &str) -> String {
        match self.notation {
            Notation::MathMl => format!("<mn>{text}</mn>"),
            _ => text.to_string(),
        }
    }

    /// `∂num/∂den`
    fn partial(&self, num: &str, den: &str) -> String {
        match self.notation {
            Notation::Latex => format!("\\frac{{\\partial {num}}}{{\\partial {den}}}"),
            Notation::MathMl => format!("<mfrac><mrow><mo>∂</mo>{num}</mrow><mrow><mo>∂</mo>{den}</mrow></mfrac>"),
            Notation::Ascii | Notation::Unicode => format!("∂{num}/∂{den}"),
        }
    }

    /// `Σ G : dv` over the pairs; past [`SHOWN_TERMS`] terms, the first of them and the
    /// number left out, so that a program with thousands of inputs does not print them all
    /// on every line of the back-substitution.
    fn linear_form(&self, pairs: &[(usize, NodeId)], substitute: Option<(usize, NodeId)>) -> String {
        let shown = if pairs.len() > SHOWN_TERMS { &pairs[..SHOWN_TERMS / 2] } else { pairs };
        let mut terms: Vec<String> = shown
            .iter()
            .map(|&(v, g)| {
                let differential = match substitute {
                    Some((s, d)) if s == v => self.parenthesized(&self.expr(d)),
                    _ => self.d(v),
                };
                format!("{}{}{differential}", self.factor(g), self.op(":"))
            })
            .collect();
        if let Some((s, d)) = substitute.filter(|&(s, _)| !shown.iter().any(|&(v, _)| v == s)) {
            if let Some(&(_, g)) = pairs.iter().find(|&&(v, _)| v == s) {
                terms.push(format!("{}{}{}", self.factor(g), self.op(":"), self.parenthesized(&self.expr(d))));
            }
        }
        let left_out = pairs.len() - terms.len();
        if left_out > 0 {
            let more = format!("({left_out} more terms)");
            terms.push(match self.notation {
                Notation::MathMl => format!("<mo>⋯</mo><mtext>\u{a0}{more}</mtext>"),
                Notation::Latex => format!("\\cdots \\text{{ {more}}}"),
                Notation::Ascii | Notation::Unicode => format!("⋯ {more}"),
            });
        }
        self.join(&terms)
    }

    /// A sum of terms, a term after the first that starts with a minus written after `−`
    /// (`a − 2 b : dt`, not `a + −2 b : dt`).
    fn join(&self, parts: &[String]) -> String {
        let mut out = String::new();
        for (i, part) in parts.iter().enumerate() {
            match without_minus(part) {
                Some(rest) if i > 0 => {
                    out.push_str(&self.op(if matches!(self.notation, Notation::Ascii | Notation::Latex) {
                        "-"
                    } else {
                        "−"
                    }));
                    out.push_str(rest.trim_start());
                }
                _ => {
                    if i > 0 {
                        out.push_str(&self.op("+"));
                    }
                    out.push_str(part);
                }
            }
        }
        out
    }

    fn title_text(&self) -> String {
        let output = self.explanation.output();
        let node = self.explanation.vertices[output].node;
        let graph = self.explanation.graph();
        let definition = print(graph, node, Notation::Unicode, &|id| graph.name(id).map(str::to_string));
        format!("How the chain rule runs over {} = {definition}", self.explanation.vertices[output].name)
    }
}

/// The most terms a line of the back-substitution shows in full.
const SHOWN_TERMS: usize = 16;

fn latex_symbol(symbol: &str) -> &str {
    match symbol {
        "∑" => "\\sum",
        other => other,
    }
}

fn document(w: &Writer, checked: Option<&Checked>, svg: Option<&str>) -> Vec<Block> {
    let e = w.explanation;
    let graph = e.graph();
    let output = e.output();
    let mut blocks = vec![Block::Heading(w.title_text())];

    // 1. The computation graph.
    blocks.push(Block::Heading("1. The computation graph".to_string()));
    blocks.push(Block::words(
        "Nodes are the inputs and the named values; an edge goes from a value to each statement that uses it. \
         A value used several times receives an adjoint term from each use.",
    ));
    if let Some(svg) = svg {
        blocks.push(Block::Graph(svg.to_string()));
    }
    let mut table = vec![vec!["value".to_string(), "shape".to_string(), "used by".to_string()]];
    if checked.is_some() {
        table[0].extend(["‖value‖".to_string(), "‖adjoint‖".to_string()]);
    }
    let users = Users::of(e);
    for (i, vertex) in e.vertices.iter().enumerate() {
        let users: Vec<&str> = users.of[i].iter().map(|&p| e.vertices[p].name.as_str()).collect();
        let used_by = match users.len() {
            0 => "(the output)".to_string(),
            n if n > 8 => format!("{}, … ({n} in all)", users[..8].join(", ")),
            _ => users.join(", "),
        };
        let mut row = vec![vertex.name.clone(), graph.dims.show_type(graph.shape(vertex.node)), used_by];
        if let Some(c) = checked {
            row.push(format_norm(c.values[i].norm()));
            row.push(format_norm(c.adjoints[i].norm()));
        }
        table.push(row);
    }
    blocks.push(Block::Table(table));

    // 2. Backpropagation.
    blocks.push(Block::Heading("2. Backpropagation".to_string()));
    blocks.push(Block::words(
        "The adjoint of a value is the sum over its children (the values that use it) of the child's adjoint \
         pulled back through the edge:",
    ));
    blocks.push(Block::Math(vec![Row {
        by: Vec::new(),
        left: general_rule_left(w),
        right: general_rule_right(w),
        check: None,
    }]));
    blocks.push(Block::words(
        "In reverse order, for each value: the sum with one term per child, each term in matrix form, and the \
         adjoint simplified.",
    ));
    for (k, step) in e.backprop.iter().enumerate() {
        let v = step.vertex;
        let check = checked.map(|c| c.backprop[k]);
        let mut rows = Vec::new();
        if step.terms.is_empty() {
            rows.push(Row { by: Vec::new(), left: w.bar(v), right: w.number("1"), check: None });
        } else {
            let symbolic: Vec<String> = step
                .terms
                .iter()
                .map(|t| format!("{}{}", w.bar(t.parent), w.partial(&w.name(t.parent), &w.name(v))))
                .map(|s| if w.notation == Notation::Unicode { s.replacen('∂', " ∂", 1) } else { s })
                .collect();
            rows.push(Row { by: Vec::new(), left: w.bar(v), right: w.join(&symbolic), check: None });
            let matrix: Vec<String> = step.terms.iter().map(|t| w.expr(t.matrix_form)).collect();
            let matrix = w.join(&matrix);
            let simplified = w.expr(step.adjoint);
            if matrix != simplified {
                rows.push(Row { by: Vec::new(), left: String::new(), right: matrix, check: None });
            }
            rows.push(Row { by: w.rules_behind(step.adjoint), left: String::new(), right: simplified, check });
        }
        blocks.push(Block::Math(rows));
        if let Some(note) = uses_note(w, &users, v) {
            blocks.push(note);
        }
    }

    // 3. Differentials.
    blocks.push(Block::Heading("3. Differentials".to_string()));
    blocks.push(Block::words("The differential of each statement:"));
    let rows = e
        .differentials
        .iter()
        .enumerate()
        .map(|(k, &(v, d))| Row {
            by: Vec::new(),
            left: w.d(v),
            right: w.expr(d),
            check: checked.map(|c| c.differentials[k]),
        })
        .collect();
    blocks.push(Block::Math(rows));
    blocks.push(Block::words(
        "Then back-substitution into dL, one statement at a time, with the Frobenius product X : Y = Σᵢⱼ XᵢⱼYᵢⱼ = \
         tr(XᵀY) and its rules X : (A Y) = Aᵀ X : Y, X : (Y B) = X Bᵀ : Y, X : (a ⊙ Y) = (a ⊙ X) : Y:",
    ));
    let mut rows = vec![Row { by: Vec::new(), left: w.d(output), right: w.linear_form(&e.start, None), check: None }];
    let differential_of: std::collections::HashMap<usize, NodeId> = e.differentials.iter().copied().collect();
    for (k, substitution) in e.substitutions.iter().enumerate() {
        let differential = differential_of.get(&substitution.vertex).copied();
        if let Some(d) = differential {
            rows.push(Row {
                by: Vec::new(),
                left: String::new(),
                right: w.linear_form(&substitution.before, Some((substitution.vertex, d))),
                check: None,
            });
        }
        rows.push(Row {
            by: Vec::new(),
            left: String::new(),
            right: w.linear_form(&substitution.after, None),
            check: checked.map(|c| c.substitutions[k]),
        });
    }
    blocks.push(Block::Math(rows));
    blocks.push(Block::words("from which the gradients are read off:"));
    let read_off: std::collections::HashMap<&str, f64> =
        checked.map_or_else(Default::default, |c| c.read_off.iter().map(|(n, x)| (n.as_str(), *x)).collect());
    let rows = e
        .read_off()
        .into_iter()
        .map(|(v, g)| {
            let check = read_off.get(e.vertices[v].name.as_str()).copied();
            Row { by: w.rules_behind(g), left: w.partial(&w.name(output), &w.name(v)), right: w.expr(g), check }
        })
        .collect();
    blocks.push(Block::Math(rows));

    if let Some(second) = &e.second {
        second_order(w, second, checked, &mut blocks);
    }
    if !e.definitions.is_empty() {
        blocks.push(Block::words("where"));
        let rows = e
            .definitions
            .iter()
            .map(|&(id, ref name)| {
                let namer = |node: NodeId| if node == id { None } else { e.name_of(node) };
                Row {
                    by: w.rules_behind(id),
                    left: show_name(name, w.notation),
                    right: print(graph, id, w.notation, &namer),
                    check: None,
                }
            })
            .collect();
        blocks.push(Block::Math(rows));
    }
    // Each rule cited after a line, once, with its identity.
    let cited: Vec<&Rule> = RULES
        .iter()
        .filter(|rule| {
            blocks.iter().any(|block| match block {
                Block::Math(rows) => rows.iter().any(|row| row.by.iter().any(|by| by.name == rule.name)),
                _ => false,
            })
        })
        .collect();
    if !cited.is_empty() {
        blocks.push(Block::words("The simplifier's rules named after a line (\"by …\") say what made its form:"));
        let mut table = vec![vec!["rule".to_string(), "identity".to_string()]];
        table.extend(cited.iter().map(|rule| vec![rule.name.to_string(), rule.identity.to_string()]));
        blocks.push(Block::Table(table));
    }
    if let Some(c) = checked {
        // Each variable's agreement with finite differences: `W: 1e-11, x: 3e-12`.
        let mut gradients = Paragraph::default();
        for (k, (name, error)) in c.finite_differences.iter().enumerate() {
            if k > 0 {
                gradients = gradients.words(", ");
            }
            gradients = gradients.math(show_name(name, w.notation)).words(&format!(": {}", format_error(*error)));
        }
        let failures = c.failures(e);
        let paragraph = if failures.is_empty() {
            Paragraph::default().words(&format!(
                "Checked at the point: every step above agrees with the gradient evaluation (largest relative error {}); \
                 the gradients agree with central finite differences (",
                format_error(c.worst()),
            ))
        } else {
            Paragraph::default().words(&format!(
                "Checked at the point: {} of the steps above {} disagree (✗, relative error above {}): {}. \
                 At a point where a function is undefined or not differentiable (log of a negative entry, \
                 a singular matrix) the checks cannot agree; try another point (another seed, or inputs of your own). \
                 Finite differences: ",
                failures.len(),
                if failures.len() == 1 { "does" } else { "do" },
                format_error(STEP_TOLERANCE),
                failures.join(", "),
            ))
        };
        let mut paragraph = paragraph;
        paragraph.0.extend(gradients.0);
        let end = if failures.is_empty() { ")." } else { "." };
        blocks.push(paragraph.words(end).block());
    }
    blocks
}

/// Section 4, the second order: the steps above differentiated in the direction dx of
/// the variables, each checked.
fn second_order(w: &Writer, second: &SecondOrder, checked: Option<&Checked>, blocks: &mut Vec<Block>) {
    let e = w.explanation;
    let output = e.output();
    let checks = checked.and_then(|c| c.second.as_ref());
    blocks.push(Block::Heading("4. Second order: the differential of the gradient".to_string()));
    let mut paragraph = Paragraph::default()
        .words("Forward mode over the backpropagation above: every step differentiated in a direction ");
    for (k, &(_, symbol)) in second.directions.iter().enumerate() {
        if k > 0 {
            paragraph = paragraph.words(", ");
        }
        paragraph = paragraph.math(w.input_name(symbol));
    }
    paragraph =
        paragraph.words(" of the variables (the vector v of a Hessian-vector product), so that d(∂L/∂x) = H·v. ");
    // A statement's value among the variables is held as the Hessian holds it.
    let held: Vec<(usize, NodeId)> =
        second.directions.iter().copied().filter(|&(i, _)| e.vertices[i].kind != VertexKind::Input).collect();
    if !held.is_empty() {
        let names: Vec<String> = held.iter().map(|&(i, _)| w.name(i)).collect();
        let parts: Vec<String> = held.iter().map(|&(_, symbol)| w.input_name(symbol)).collect();
        let (one, is, them) = if held.len() == 1 {
            ("it", "is a statement's value", "it")
        } else {
            ("each", "are statements' values", "them")
        };
        paragraph = paragraph
            .words(if held.len() == 1 { "The variable " } else { "The variables " })
            .list(&names, names.len())
            .words(&format!(" {is}: as the Hessian holds {them}, {one} moves by its own part "))
            .list(&parts, parts.len())
            .words(&format!(
                " of the direction on top of what its uses move it by, and the derivatives with respect to the other \
                 variables reach through {them}. "
            ));
    }
    blocks.push(
        paragraph
            .words("First each statement's differential in that direction, from its uses' and in closed form:")
            .block(),
    );
    let mut rows = Vec::new();
    for (k, &(v, local)) in second.local.iter().enumerate() {
        let check = checks.map(|c| c.forward[k]);
        let closed = second.forward.get(&v).map(|&d| w.expr(d));
        let local = w.expr(local);
        match closed.filter(|c| *c != local) {
            Some(closed) => {
                rows.push(Row { by: Vec::new(), left: w.d(v), right: local, check: None });
                rows.push(Row { by: Vec::new(), left: String::new(), right: closed, check });
            }
            None => rows.push(Row { by: Vec::new(), left: w.d(v), right: local, check }),
        }
    }
    blocks.push(Block::Math(rows));
    blocks.push(Block::words(
        "Then the differential of each adjoint, in the order of the backpropagation: d of each term (with the \
         parents' d w̄ and the differentials above), and the differential of the adjoint's closed form:",
    ));
    for (k, step) in second.reverse.iter().enumerate() {
        let v = step.vertex;
        let check = checks.map(|c| c.reverse[k]);
        let left = w.d_bar(v);
        let mut rows = Vec::new();
        if step.terms.is_empty() {
            rows.push(Row { by: Vec::new(), left, right: w.number("0"), check: None });
        } else {
            let terms: Vec<String> = step.terms.iter().filter_map(|&(_, t)| t).map(|t| w.expr(t)).collect();
            let terms = if terms.is_empty() { w.number("0") } else { w.join(&terms) };
            let closed = w.expr(step.closed);
            if terms == closed {
                rows.push(Row { by: Vec::new(), left, right: terms, check });
            } else {
                rows.push(Row { by: Vec::new(), left, right: terms, check: None });
                rows.push(Row { by: Vec::new(), left: String::new(), right: closed, check });
            }
        }
        blocks.push(Block::Math(rows));
    }
    blocks.push(Block::words(
        "from which the Hessian-vector products are read off, checked against central differences of the \
         gradient along the direction:",
    ));
    let read_off: std::collections::HashMap<&str, f64> =
        checks.map_or_else(Default::default, |c| c.read_off.iter().map(|(n, x)| (n.as_str(), *x)).collect());
    let rows = second
        .reverse
        .iter()
        .filter(|step| second.directions.iter().any(|&(i, _)| i == step.vertex))
        .map(|step| {
            let name = &e.vertices[step.vertex].name;
            let left = w.differential(&w.parenthesized(&w.partial(&w.name(output), &w.name(step.vertex))));
            Row { by: Vec::new(), left, right: w.expr(step.closed), check: read_off.get(name.as_str()).copied() }
        })
        .collect();
    blocks.push(Block::Math(rows));
}

/// Why a value with several uses has several terms, and which uses reach it twice.
fn uses_note(w: &Writer, users: &Users, v: usize) -> Option<Block> {
    const SHOWN: usize = 8;
    /// Paths explained in one note.
    const EXPLAINED: usize = 3;
    let e = w.explanation;
    let users_of_v = &users.of[v];
    if users_of_v.len() < 2 {
        return None;
    }
    let names = |items: &[usize]| -> Vec<String> { items.iter().take(SHOWN).map(|&i| w.name(i)).collect() };
    let mut note = Paragraph::default()
        .math(w.name(v))
        .words(" is used by ")
        .list(&names(users_of_v), users_of_v.len())
        .words(&format!(", so its adjoint has {} terms, one per use.", users_of_v.len()));
    // A user that also depends on another user uses the value directly and through it.
    let mut explained = 0;
    for &user in users_of_v {
        if explained == EXPLAINED {
            break;
        }
        let through = users.reached(e, user, users_of_v);
        if !through.is_empty() {
            explained += 1;
            note = note
                .words(" ")
                .math(w.name(user))
                .words(" depends on ")
                .math(w.name(v))
                .words(" directly and through ")
                .list(&names(&through), through.len())
                .words(": the sum counts both paths.");
        }
    }
    Some(note.block())
}

/// For each vertex, the vertices whose statements use it, in order.
struct Users {
    of: Vec<Vec<usize>>,
}

impl Users {
    fn of(e: &Explanation) -> Users {
        let mut of = vec![Vec::new(); e.vertices.len()];
        for (parent, vertex) in e.vertices.iter().enumerate() {
            for &used in &vertex.uses {
                if of[used].last() != Some(&parent) {
                    of[used].push(parent);
                }
            }
        }
        Users { of }
    }

    /// The members of `among` (increasing indices) other than `from` that `from` depends
    /// on, directly or not: a search down from `from` that never goes below the smallest
    /// of `among`, so it stays near `from` in a long program.
    fn reached(&self, e: &Explanation, from: usize, among: &[usize]) -> Vec<usize> {
        let lowest = among[0];
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![from];
        let mut found = Vec::new();
        while let Some(i) = stack.pop() {
            for &used in &e.vertices[i].uses {
                if used >= lowest && seen.insert(used) {
                    if among.binary_search(&used).is_ok() {
                        found.push(used);
                    }
                    stack.push(used);
                }
            }
        }
        found.sort();
        found
    }
}

fn general_rule_left(w: &Writer) -> String {
    match w.notation {
        Notation::Latex => "\\bar{x}_i".to_string(),
        Notation::MathMl => "<msub><mi>x\u{304}</mi><mi>i</mi></msub>".to_string(),
        Notation::Ascii | Notation::Unicode => "x̄ᵢ".to_string(),
    }
}

fn general_rule_right(w: &Writer) -> String {
    match w.notation {
        Notation::Latex => {
            "\\sum_{j \\in \\operatorname{children}(i)} \\left(\\frac{\\partial x_j}{\\partial x_i}\\right)^{\\top} \\bar{x}_j"
                .to_string()
        }
        Notation::MathMl => "<munder><mo>∑</mo><mrow><mi>j</mi><mo>∈</mo><mi>children</mi><mo>&#x2061;</mo><mo>(</mo><mi>i</mi><mo>)</mo></mrow></munder>\
             <msup><mrow><mo>(</mo><mfrac><mrow><mo>∂</mo><msub><mi>x</mi><mi>j</mi></msub></mrow><mrow><mo>∂</mo><msub><mi>x</mi><mi>i</mi></msub></mrow></mfrac><mo>)</mo></mrow><mo>⊤</mo></msup>\
             <msub><mi>x\u{304}</mi><mi>j</mi></msub>"
            .to_string(),
        Notation::Ascii | Notation::Unicode => "Σ_{j ∈ children(i)} (∂xⱼ/∂xᵢ)ᵀ x̄ⱼ".to_string(),
    }
}

/// A norm with four decimals where that shows it, in scientific notation where it would
/// print a hundred digits (a value that grew through a long chain) or none.
pub(crate) fn format_norm(norm: f64) -> String {
    if norm == 0.0 || !norm.is_finite() || (1e-3..1e6).contains(&norm.abs()) {
        format!("{norm:.4}")
    } else {
        format!("{norm:.4e}")
    }
}

fn format_error(error: f64) -> String {
    if error == 0.0 {
        "0".to_string()
    } else {
        format!("{error:.1e}")
    }
}

fn mark(error: f64) -> &'static str {
    if error <= STEP_TOLERANCE {
        "✓"
    } else {
        "✗"
    }
}

/// The rules behind a row, after its check: `   by collect-like-terms, matrix-chain`.
fn by_text(rules: &[&Rule]) -> String {
    if rules.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = rules.iter().map(|rule| rule.name).collect();
        format!("   by {}", names.join(", "))
    }
}

/// The widest line after which the text format lines up its checks' marks.
const MARK_COLUMN: usize = 100;

fn text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(title) if i == 0 => {
                let _ = writeln!(out, "{title}\n{}\n", "=".repeat(title.chars().count()));
            }
            Block::Heading(title) => {
                let _ = writeln!(out, "{title}\n{}\n", "-".repeat(title.chars().count()));
            }
            Block::Prose(pieces) => {
                let prose: String = pieces
                    .iter()
                    .map(|piece| match piece {
                        Piece::Words(text) | Piece::Math(text) => text.as_str(),
                    })
                    .collect();
                let _ = writeln!(out, "{}\n", wrap(&prose, 90));
            }
            Block::Math(rows) => {
                let width = rows.iter().map(|r| columns(&r.left)).max().unwrap_or(0);
                let lines: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        let relation = if r.right.is_empty() { " " } else { "=" };
                        let pad = " ".repeat(width - columns(&r.left));
                        format!("  {pad}{} {relation} {}", r.left, r.right)
                    })
                    .collect();
                // The marks line up after the widest line that fits a terminal; a longer
                // line (a sum of hundreds of adjoint terms) carries its mark at its end
                // rather than pushing every mark in the block past it.
                let line_width =
                    lines.iter().map(|line| columns(line)).filter(|&width| width <= MARK_COLUMN).max().unwrap_or(0);
                for (line, row) in lines.iter().zip(rows) {
                    let by = by_text(&row.by);
                    match row.check {
                        Some(error) => {
                            let pad = line_width.saturating_sub(columns(line));
                            let (mark, error) = (mark(error), format_error(error));
                            let _ = writeln!(out, "{line}{}   {mark} {error}{by}", " ".repeat(pad));
                        }
                        None => {
                            let _ = writeln!(out, "{line}{by}");
                        }
                    }
                }
                out.push('\n');
            }
            Block::Table(rows) => {
                let columns = rows.first().map_or(0, Vec::len);
                let widths: Vec<usize> =
                    (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .zip(&widths)
                        .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                        .collect();
                    let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
                }
                out.push('\n');
            }
            Block::Graph(_) => {}
        }
    }
    out.trim_end().to_string() + "\n"
}

/// The terminal columns `text` takes: combining marks (the bar of `x̄`) take none.
fn columns(text: &str) -> usize {
    text.chars().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).count()
}

fn wrap(text: &str, width: usize) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(title) => {
                let _ = writeln!(out, "{} {title}\n", if i == 0 { "#" } else { "##" });
            }
            Block::Prose(pieces) => {
                for piece in pieces {
                    match piece {
                        Piece::Words(text) => out.push_str(text),
                        Piece::Math(formula) => {
                            let _ = write!(out, "${formula}$");
                        }
                    }
                }
                out.push_str("\n\n");
            }
            Block::Math(rows) => {
                out.push_str("$$\n\\begin{aligned}\n");
                for row in rows {
                    let relation = if row.right.is_empty() { "" } else { "&=" };
                    let by = by_text(&row.by);
                    let check = match row.check {
                        Some(error) => format!(" &&\\text{{{} {}{by}}}", mark(error), format_error(error)),
                        None if !by.is_empty() => format!(" &&\\text{{{}}}", by.trim_start()),
                        None => String::new(),
                    };
                    let _ = writeln!(out, "{} {relation} {}{check} \\\\", row.left, row.right);
                }
                out.push_str("\\end{aligned}\n$$\n\n");
            }
            Block::Table(rows) => {
                for (r, row) in rows.iter().enumerate() {
                    let _ = writeln!(out, "| {} |", row.join(" | "));
                    if r == 0 {
                        let _ = writeln!(out, "|{}", "---|".repeat(row.len()));
                    }
                }
                out.push('\n');
            }
            Block::Graph(_) => {}
        }
    }
    out
}

fn html(blocks: &[Block], title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        escape(title),
        html_body(blocks, true)
    )
}

/// The document's sections (the graph, backpropagation, differentials, …), each titled
/// and written as an HTML fragment with MathML, for a page that shows them as views.
pub fn sections(explanation: &Explanation, checked: Option<&Checked>, svg: Option<&str>) -> Vec<(String, String)> {
    let writer = Writer { explanation, notation: Notation::MathMl };
    let blocks = document(&writer, checked, svg);
    // The definitions (`where p = …`) close the document; a view shown alone needs them too.
    let definitions =
        blocks.iter().position(|b| matches!(b, Block::Prose(p) if matches!(&p[..], [Piece::Words(w)] if w == "where")));
    let mut ranges: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    // The first block is the document's title; each later heading starts a section.
    for (i, block) in blocks.iter().enumerate().skip(1) {
        if let Block::Heading(title) = block {
            if let Some((_, range)) = ranges.last_mut() {
                range.end = i;
            }
            ranges.push((title.clone(), i + 1..blocks.len()));
        }
    }
    ranges
        .into_iter()
        .enumerate()
        .map(|(k, (title, range))| {
            let mut html = html_body(&blocks[range.clone()], false);
            // Every view but the graph's (the first) uses the names; one of them holds them.
            if let Some(w) = definitions.filter(|w| k > 0 && !range.contains(w)) {
                html.push_str(&html_body(&blocks[w..(w + 2).min(blocks.len())], false));
            }
            (title, html)
        })
        .collect()
}

/// The blocks as HTML; with `titled`, the first heading is the page's `<h1>`.
fn html_body(blocks: &[Block], titled: bool) -> String {
    let mut body = String::new();
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(heading) if i == 0 && titled => {
                let _ = writeln!(body, "<h1>{}</h1>", escape(heading));
            }
            Block::Heading(heading) => {
                let _ = writeln!(body, "<h2>{}</h2>", escape(heading));
            }
            Block::Prose(pieces) => {
                body.push_str("<p>");
                for piece in pieces {
                    match piece {
                        Piece::Words(text) => body.push_str(&escape(text)),
                        Piece::Math(formula) => {
                            let _ = write!(body, "<math>{formula}</math>");
                        }
                    }
                }
                body.push_str("</p>\n");
            }
            Block::Math(rows) => {
                body.push_str("<div class=\"math\"><math display=\"block\"><mtable columnalign=\"right left left\">\n");
                for row in rows {
                    let relation = if row.right.is_empty() { String::new() } else { "<mo>=</mo>".to_string() };
                    let by = if row.by.is_empty() {
                        String::new()
                    } else {
                        let names: Vec<String> = row.by.iter().map(|rule| escape(rule.name)).collect();
                        format!("<mtext class=\"by\">\u{a0}\u{a0}by {}</mtext>", names.join(", "))
                    };
                    let check = match row.check {
                        Some(error) => format!(
                            "<mtd><mtext class=\"{}\">\u{a0}\u{a0}{} {}</mtext>{by}</mtd>",
                            if error <= 1e-6 { "ok" } else { "bad" },
                            mark(error),
                            format_error(error)
                        ),
                        None => format!("<mtd>{by}</mtd>"),
                    };
                    let _ = writeln!(
                        body,
                        "<mtr><mtd><mrow>{}</mrow></mtd><mtd><mrow>{relation}{}</mrow></mtd>{check}</mtr>",
                        row.left, row.right
                    );
                }
                body.push_str("</mtable></math></div>\n");
            }
            Block::Table(rows) => {
                body.push_str("<table>\n");
                for (r, row) in rows.iter().enumerate() {
                    let tag = if r == 0 { "th" } else { "td" };
                    let cells: String = row.iter().map(|c| format!("<{tag}>{}</{tag}>", escape(c))).collect();
                    let _ = writeln!(body, "<tr>{cells}</tr>");
                }
                body.push_str("</table>\n");
            }
            Block::Graph(svg) => {
                let _ = writeln!(body, "<figure>{svg}</figure>");
            }
        }
    }
    body
}

const STYLE: &str = "body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; line-height: 1.5; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.math { margin: 0.8rem 0; overflow-x: auto; overflow-y: hidden; }
math[display=block] { margin: 0; }
mtd:first-child { text-align: right; padding-right: 0.2em; } mtd { text-align: left; }
mtd:nth-child(3) { padding-left: 2em; }
figure svg { max-width: 100%; height: auto; }
.ok { color: #1a7f37; } .bad { color: #cf222e; font-weight: bold; } .by { color: #57606a; font-style: italic; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { border: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left; }
figure { margin: 1rem 0; overflow-x: auto; }
";
