//! A lowered program: the graph plus what the user called things and where they wrote them.

use crate::error::{Error, Span};
use crate::ir::kinds::Origin;
use crate::ir::{Graph, NodeId};

/// `name = expr` as lowered: the statement's value is `node`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub name: String,
    pub node: NodeId,
    pub span: Span,
}

/// An input: declared, or undeclared with its kind from its use or its letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub node: NodeId,
    /// The declaration, or the first use of an undeclared input.
    pub span: Span,
    /// Where its kind came from.
    pub origin: Origin,
    /// For a kind decided by use, the expression that decided it.
    pub decided_by: Option<Span>,
    /// For a kind decided by the letter, the rule (`a–g: scalars`).
    pub letter_rule: &'static str,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub(crate) graph: Graph,
    pub(crate) inputs: Vec<Variable>,
    pub(crate) statements: Vec<Statement>,
    /// Index into `statements` of the program's output: the last one unless chosen.
    pub(crate) output: usize,
    /// Parts of a pasted document that were not math (see `syntax::Program::ignored`).
    pub(crate) ignored: Vec<Span>,
    /// Statements of a pasted document that assign a name a second time.
    pub(crate) restated: Vec<Restated>,
    /// A pasted document's adjoints (`\bar{h} = …`) whose equations do not type-check.
    pub(crate) broken: Vec<Broken>,
    /// A pasted document's displayed equations that are not statements: claimed
    /// derivatives, differentials, chains of equalities (see `syntax::Aside`).
    pub(crate) asides: Vec<crate::syntax::Aside>,
    /// Whether the text is a pasted document (prose with math) rather than a program.
    pub(crate) document: bool,
    /// The text the program was read from; every span points into it.
    pub(crate) source: String,
    /// Its lines, found once when first needed.
    pub(crate) lines: std::sync::OnceLock<Lines>,
}

/// A pasted document's second statement for a name (an answer restating the question's
/// model): not a definition, but a claim about the first one's meaning.
#[derive(Debug, Clone)]
pub struct Restated {
    pub name: String,
    /// The whole restatement.
    pub span: Span,
    /// The statement it restates.
    pub first: Span,
    pub meaning: Meaning,
}

/// A page's adjoint whose equation does not type-check: a wrong claim, with why.
#[derive(Debug, Clone)]
pub struct Broken {
    pub span: Span,
    pub message: String,
    /// The broken adjoint it uses, if that is why it does not type-check.
    pub uses_broken: Option<String>,
}

/// What a restatement means, compared with the statement it restates.
#[derive(Debug, Clone)]
pub enum Meaning {
    /// The same graph node: the same expression up to spelling.
    Same,
    /// Another expression; whether it has the same value is for a numerical check.
    Different(NodeId),
    /// It does not type-check; the message says why.
    Unreadable(String),
    /// It assigns a declared input (`w = (XᵀX)⁻¹Xᵀy`, an optimum): a claim about one
    /// particular value, which a random point cannot check.
    OfAnInput,
}

/// The hint of a wrong output: a front end says how its user chooses one.
const CHOOSE_OUTPUT: &str = "choose one of its assigned names as the output";

impl Program {
    /// Parses and type-checks `source`, in any of the three spellings.
    pub fn parse(source: &str) -> Result<Program, Error> {
        let ast = crate::syntax::parse(source)?;
        crate::ir::lower::lower(&ast, source)
    }

    pub(crate) fn output_statement(&self) -> &Statement {
        &self.statements[self.output]
    }

    pub(crate) fn output_node(&self) -> NodeId {
        self.output_statement().node
    }

    /// The 1-based line and column (in characters) of a byte offset of the source.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        self.lines.get_or_init(|| Lines::new(&self.source)).locate(&self.source, offset)
    }

    /// The text the program was read from; every error's span points into it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The name of the output: the last statement unless chosen with [`Program::set_output`].
    pub fn output_name(&self) -> &str {
        &self.output_statement().name
    }

    /// The inputs, in the program's order (the order `check` lists them and random
    /// inputs are drawn in).
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().map(|v| v.name.as_str())
    }

    /// The assigned names, in the program's order.
    pub fn statement_names(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().map(|s| s.name.as_str())
    }

    /// The program's name for `text`, a name as a caller writes it: itself when the program
    /// has it, else the name a declaration of it would have (`λ` and `\lambda` are `lambda`,
    /// `W₁` is `W_1`), else the one name matgrad prints as it prints `text` (`W₁` and `W_1`
    /// for a program's `W1`, as its output shows it), so that a caller may use the program's
    /// own spelling or matgrad's.
    pub(crate) fn own_name(&self, text: &str) -> String {
        let known = |name: &str| self.lookup(name).is_some() || self.graph.dims.symbols().any(|(_, s)| s == name);
        if known(text) {
            return text.to_string();
        }
        let declared =
            crate::syntax::parse(&format!("{text}: scalar")).ok().and_then(|ast| match ast.items.as_slice() {
                [crate::syntax::Item::Declare { names, .. }] if names.len() == 1 => Some(names[0].text.clone()),
                _ => None,
            });
        if let Some(name) = declared.as_deref().filter(|name| known(name)) {
            return name.to_string();
        }
        let shown = crate::print::unicode_name(declared.as_deref().unwrap_or(text));
        let names = self.input_names().chain(self.statement_names()).map(str::to_string);
        let symbols = self.graph.dims.symbols().map(|(_, s)| s.to_string());
        let alike: Vec<String> =
            names.chain(symbols).filter(|name| crate::print::unicode_name(name) == shown).collect();
        // (At most one: a program cannot have two names that print alike.)
        alike.into_iter().next().unwrap_or_else(|| text.to_string())
    }

    /// Makes the statement called `name` the output.
    pub fn set_output(&mut self, name: &str) -> Result<(), Error> {
        let owned = self.own_name(name);
        let name = owned.as_str();
        match self.statements.iter().position(|s| s.name == name) {
            Some(index) => {
                self.output = index;
                Ok(())
            }
            None if self.inputs.iter().any(|v| v.name == name) => {
                Err(Error::request(format!("`{name}` is an input; the output must be an assigned name"))
                    .with_hint(CHOOSE_OUTPUT))
            }
            None => {
                let names: Vec<&str> = self.statements.iter().map(|s| s.name.as_str()).collect();
                Err(Error::request(format!("no statement assigns `{name}`; the program assigns {}", names.join(", ")))
                    .with_hint(CHOOSE_OUTPUT))
            }
        }
    }

    /// For each statement, whether it is part of the model: the output depends on it. A
    /// pasted page's definitions for its derivation (`U = Diag(u)`, `P = w zᵀ + …`) are not.
    /// A statement after the output is never part of it, even when it names a value the
    /// output computes (`\bar{o} = o - t` after `L = ½‖o − t‖²`).
    pub(crate) fn in_model(&self) -> Vec<bool> {
        let reachable = self.graph.reachable(&[self.output_node()]);
        let output = self.output;
        self.statements
            .iter()
            .enumerate()
            .map(|(i, s)| i <= output && reachable.binary_search(&s.node).is_ok())
            .collect()
    }

    /// The node of an input or a statement.
    pub(crate) fn lookup(&self, name: &str) -> Option<NodeId> {
        let statement = self.statements.iter().find(|s| s.name == name).map(|s| s.node);
        statement.or_else(|| self.inputs.iter().find(|v| v.name == name).map(|v| v.node))
    }
}

/// The value whose adjoint a name writes, in the bar notation of backpropagation: `\bar{h}`
/// (the name `hbar`) is h̄ = ∂L/∂h, `\bar{W}_1` (`Wbar_1`) is W̄₁.
pub fn adjoint_base(name: &str) -> Option<String> {
    let (head, subscript) = match name.split_once('_') {
        Some((head, subscript)) => (head, Some(subscript)),
        None => (name, None),
    };
    let base = head.strip_suffix("bar").filter(|b| !b.is_empty())?;
    Some(match subscript {
        Some(subscript) => format!("{base}_{subscript}"),
        None => base.to_string(),
    })
}

/// 1-based line and column (in characters) of a byte offset. For many offsets in one text,
/// make [`Lines`] once.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    Lines::new(source).locate(source, offset)
}

/// Where each line of a text starts, so that finding an offset's line is a binary search
/// (reports place every statement and every input: a scan per place would be quadratic).
/// A line ends at `\n`, `\r\n` or a lone `\r`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(source: &str) -> Lines {
        let bytes = source.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends {
                starts.push(i + 1);
            }
        }
        Lines { starts }
    }

    /// The 1-based line and column (in characters) of `offset` in `source`, the text these
    /// lines were made from.
    pub(crate) fn locate(&self, source: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, source[start..offset].chars().count() + 1)
    }
}
