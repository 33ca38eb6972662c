//! Syntax tree to graph: resolves names, infers shapes, and decides what each operator
//! means for the shapes it meets (`*` is a matrix product or a scaling, `^` a scalar or a
//! matrix power), reporting every mistake with its span.
//!
//! Rules: programs are single-assignment; declared names are inputs; an undeclared name
//! that is never assigned is an input whose kind follows matrixcalculus.org's letter
//! convention (a–g scalars, h–z vectors, A–Z matrices, Greek letters scalars) with sizes
//! solved by unification. Some undeclared, unassigned names are constants instead: `I`
//! and `I_n` are identity matrices, and `e` in `e^x` is Euler's number.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Span};
use crate::program::{line_column, Meaning, Program, Restated, Statement, Variable};
use crate::syntax::ast::{self, BinOp, DimSpecKind, Expr, ExprKind, Item, TypeSpec};
use crate::syntax::letter_function;

use super::kinds::{self, Kind, Origin, Reading};
use super::op::{Constant, Func, Op, ShapeError};
use super::shape::{is_number, is_size_name, number_size, Dim, Shape, ONE};
use super::{Graph, NodeId};

mod index;

/// A function the language knows, by the name the user calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Elementwise(Func),
    Sum,
    /// The mean of a vector's entries: their sum over their number.
    Mean,
    Norm1,
    Norm2,
    Trace,
    Det,
    LogDet,
    Inv,
    /// Vector to diagonal matrix, or square matrix to its diagonal.
    Diag,
    Softmax,
    LogSumExp,
    /// `eye(n)`, `zeros(n)`, `zeros(m, n)`, `ones(…)`: arrays made from sizes.
    Eye,
    Zeros,
    Ones,
}

/// Every function name of the language: the elementwise functions (named in their rows of
/// the function table, `Func::info`), then `OTHER_BUILTINS`.
pub const BUILTINS: &[(&str, Builtin)] = &builtins();

/// The functions that are not elementwise, by name.
const OTHER_BUILTINS: [(&str, Builtin); 14] = [
    ("sum", Builtin::Sum),
    ("mean", Builtin::Mean),
    ("norm1", Builtin::Norm1),
    ("norm2", Builtin::Norm2),
    ("tr", Builtin::Trace),
    ("det", Builtin::Det),
    ("logdet", Builtin::LogDet),
    ("inv", Builtin::Inv),
    ("diag", Builtin::Diag),
    ("softmax", Builtin::Softmax),
    ("logsumexp", Builtin::LogSumExp),
    ("eye", Builtin::Eye),
    ("zeros", Builtin::Zeros),
    ("ones", Builtin::Ones),
];

const fn builtins() -> [(&'static str, Builtin); Func::ALL.len() + OTHER_BUILTINS.len()] {
    let mut all = [("", Builtin::Sum); Func::ALL.len() + OTHER_BUILTINS.len()];
    let mut i = 0;
    while i < Func::ALL.len() {
        all[i] = (Func::ALL[i].name(), Builtin::Elementwise(Func::ALL[i]));
        i += 1;
    }
    let mut j = 0;
    while j < OTHER_BUILTINS.len() {
        all[i + j] = OTHER_BUILTINS[j];
        j += 1;
    }
    all
}

pub fn builtin(name: &str) -> Option<Builtin> {
    let name = match name {
        NORM_1_WRITTEN => "norm1",
        NORM_2_WRITTEN | NORM_CALLED => "norm2",
        BARS_WRITTEN => "abs",
        other => other,
    };
    BUILTINS.iter().find(|(n, _)| *n == name).map(|&(_, b)| b)
}

/// What the parser calls `‖x‖₁` and `‖x‖₂` with their subscripts written, and `|x|`: for a
/// vector the 1- and 2-norms and the absolute value; for a matrix, the induced norms and
/// the determinant are meant as often as the entrywise ones, so lowering refuses them.
pub const NORM_1_WRITTEN: &str = "norm_1";
pub const NORM_2_WRITTEN: &str = "norm_2";
pub const BARS_WRITTEN: &str = "abs_bars";
/// `norm(x)`, as NumPy and MATLAB write it: the 2-norm of a vector; of a matrix NumPy means
/// the Frobenius norm and MATLAB the spectral norm, so lowering refuses it.
const NORM_CALLED: &str = "norm";

/// The names a program may call, `norm` (which [`builtin`] reads as `norm2`) before
/// `norm1`; `listed`: only those an unknown function's message lists.
fn function_names(listed: bool) -> impl Iterator<Item = &'static str> {
    BUILTINS
        .iter()
        .filter(move |(_, b)| !listed || if let Builtin::Elementwise(f) = b { f.info().listed } else { true })
        .flat_map(|&(name, _)| (name == "norm1").then_some(NORM_CALLED).into_iter().chain([name]))
}

pub fn lower(ast: &ast::Program, source: &str) -> Result<Program, Error> {
    lower_holding(ast, source, &HashSet::new())
}

/// [`lower`], with the value of each statement named in `held` a node of its own (see
/// [`Graph::add_copy`]) that only the name's uses read: the graph is hash-consed, so
/// `e = exp(x)` and a later `exp(x)` would otherwise be one node, and `c = 2` the node of
/// every 2 of the program, and a derivative with respect to `e` or `c` would gather those
/// uses too (finite differences, perturbing the same node, would agree).
pub fn lower_holding(ast: &ast::Program, source: &str, held: &HashSet<String>) -> Result<Program, Error> {
    let respelled = uses_in_defined_spellings(ast);
    let ast = respelled.as_ref().unwrap_or(ast);
    let mut lowerer = Lowerer::new(
        source,
        Graph::new(),
        ast.items
            .iter()
            .filter_map(|item| match item {
                Item::Assign { name, .. } => Some(name.text.clone()),
                Item::Declare { .. } => None,
            })
            .collect(),
        HashMap::new(),
    );
    lowerer.held = held.clone();
    let declared: HashMap<String, TypeSpec> = ast
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Declare { names, ty, .. } => Some(names.iter().map(move |n| (n.text.clone(), ty.clone()))),
            Item::Assign { .. } => None,
        })
        .flatten()
        .collect();
    // The sizes the declarations name (`x: vector(n)`), which a free name reads as a number.
    let sizes = declared
        .values()
        .flat_map(|ty| match ty {
            TypeSpec::Scalar => vec![],
            TypeSpec::Vector(n) => vec![n],
            TypeSpec::Matrix(m, n) => vec![m, n],
        })
        .filter_map(|dim| match &dim.kind {
            DimSpecKind::Symbol(symbol) => Some(symbol.clone()),
            DimSpecKind::Number(_) => None,
        })
        .chain(index::bound_sizes(ast))
        .collect();
    lowerer.bound_sizes = index::bound_sizes(ast).collect();
    let readings = kinds::infer(ast, &declared, &Specials { sizes });
    lowerer.readings = readings.kinds;
    lowerer.declare_all(ast)?;
    let document = lowerer.document;
    let mut restated = Vec::new();
    let mut broken = Vec::new();
    for item in &ast.items {
        if let Item::Assign { name, value, span } = item {
            match lowerer.bindings.get(&name.text) {
                // A page restates its model in its answers (`y = Ax` again): a restatement
                // is checked for its meaning, never a second definition.
                Some(&Binding::Assigned(node, first)) if document => {
                    restated.push(lowerer.restatement(name, value, *span, node, first));
                }
                Some(&Binding::Input(_, first)) if document && lowerer.declared.contains_key(&name.text) => {
                    restated.push(Restated {
                        name: name.text.clone(),
                        span: *span,
                        first,
                        meaning: Meaning::OfAnInput,
                    });
                }
                _ => match lowerer.assign(name, value, *span) {
                    Ok(()) => {}
                    // A page's adjoint that does not type-check (`\bar{h} = W_2 \bar{o}` with
                    // a transpose missing) is a wrong claim, not an unreadable page.
                    Err(diagnostic) if document && lowerer.is_adjoint_name(&name.text) => {
                        lowerer.broken.insert(name.text.clone(), *span);
                        let uses_broken = lowerer.uses_broken(value);
                        broken.push(crate::program::Broken { span: *span, message: diagnostic.message, uses_broken });
                    }
                    Err(diagnostic) => return Err(diagnostic),
                },
            }
        }
    }
    if lowerer.statements.is_empty() {
        let span = ast.items.last().map_or(Span::default(), item_span);
        return Err(Error::new(span, "the program has no statements, only declarations")
            .with_hint("add a statement that computes something, e.g. `L = sum(x)`"));
    }
    // An ambiguous program is refused, unless reading its ambiguous names by their letters
    // already failed above with a plainer message.
    if let Some(ambiguity) = readings.ambiguity {
        return Err(ambiguity);
    }
    distinct_names(&lowerer.inputs, &lowerer.statements)?;
    let Lowerer { mut graph, inputs, statements, .. } = lowerer;
    name_held_expressions(&mut graph);
    let output = output_statement(&graph, &statements, &inputs, document);
    if document {
        let model: HashSet<NodeId> = graph.reachable(&[statements[output].node]).into_iter().collect();
        for statement in statements[output + 1..].iter().filter(|s| model.contains(&s.node)) {
            graph.forget_name(statement.node, &statement.name);
        }
    }
    let names: Vec<&str> =
        inputs.iter().map(|v| v.name.as_str()).chain(statements.iter().map(|s| s.name.as_str())).collect();
    graph.dims.name_unknowns(&names);
    Ok(Program {
        graph,
        inputs,
        statements,
        output,
        ignored: ast.ignored.clone(),
        restated,
        broken,
        asides: ast.asides.clone(),
        document,
        source: source.to_string(),
        lines: Default::default(),
    })
}

/// Gives a held name's expression the name too where the program reads it only through the
/// name: the derivative rules build on the expression (σ(y) ⊙ (1 − σ(y)) for `u = σ(y)`),
/// whose value is the name's, so it prints `u ⊙ (1 − u)` as it would unheld. An expression
/// the program also writes out (`exp(x)` beside `e = exp(x)`) stays as written.
fn name_held_expressions(graph: &mut Graph) {
    let holds: HashMap<NodeId, NodeId> = graph.holds().map(|(copy, of)| (of, copy)).collect();
    if holds.is_empty() {
        return;
    }
    let read: HashSet<NodeId> = graph.nodes().flat_map(|(_, node)| node.op.children()).collect();
    let mut unread: Vec<(NodeId, NodeId)> = holds.into_iter().filter(|(of, _)| !read.contains(of)).collect();
    unread.sort();
    for (of, copy) in unread {
        if let Some(name) = graph.name(copy).map(str::to_string) {
            graph.set_name(of, &name);
        }
    }
}

/// Lowers `expr`, one side of a claim a page makes about `program` (`2w : dw`,
/// `2P + 2(U − U²)qxᵀ`), into the program's graph: names resolve to the program's inputs and
/// statements, then to `symbols` (differentials `ⅆA`, derivatives), and any other name is a
/// new input of the claim by its letter, returned in `new_inputs`. `source` is the text the
/// spans of `expr` point into.
pub fn lower_claim(
    program: &mut Program,
    expr: &Expr,
    source: &str,
    symbols: &HashMap<String, NodeId>,
    new_inputs: &mut Vec<Variable>,
) -> Result<NodeId, Error> {
    let mut bindings: HashMap<String, Binding> = HashMap::new();
    for v in program.inputs.iter().chain(new_inputs.iter()) {
        bindings.insert(v.name.clone(), Binding::Input(v.node, v.span));
    }
    for s in &program.statements {
        bindings.entry(s.name.clone()).or_insert(Binding::Assigned(s.node, s.span));
    }
    for (name, &node) in symbols {
        bindings.insert(name.clone(), Binding::Assigned(node, Span::default()));
    }
    let assigned = program.statements.iter().map(|s| s.name.clone()).collect();
    let mut lowerer = Lowerer::new(source, std::mem::take(&mut program.graph), assigned, bindings);
    let result = lowerer.expr(expr);
    new_inputs.extend(lowerer.inputs);
    program.graph = lowerer.graph;
    result
}

/// The program with each use of a name that is not defined, but prints as a defined name
/// does, spelled as the definition spells it: `W₁` (read as `W_1`) after `W1: matrix(m, n)`
/// is W1, so that a closed form printed in Unicode or LaTeX pastes back into the program it
/// came from. None when nothing is respelled. Two *defined* names that print the same are
/// left as they are, for [`distinct_names`] to refuse, and so are two undefined ones.
fn uses_in_defined_spellings(ast: &ast::Program) -> Option<ast::Program> {
    let mut defined: HashMap<String, Vec<&str>> = HashMap::new();
    for item in &ast.items {
        let names: Vec<&ast::Name> = match item {
            Item::Assign { name, .. } => vec![name],
            Item::Declare { names, .. } => names.iter().collect(),
        };
        for name in names {
            let spellings = defined.entry(crate::print::unicode_name(&name.text)).or_default();
            if !spellings.contains(&name.text.as_str()) {
                spellings.push(&name.text);
            }
        }
    }
    let spelling = |name: &str| -> Option<String> {
        let spellings = defined.get(&crate::print::unicode_name(name))?;
        match spellings[..] {
            [one] if one != name => Some(one.to_string()),
            _ => None,
        }
    };
    fn respell(expr: &mut ast::Expr, spelling: &dyn Fn(&str) -> Option<String>, changed: &mut bool) {
        crate::stack::deep(|| respell_level(expr, spelling, changed));
    }
    fn respell_level(expr: &mut ast::Expr, spelling: &dyn Fn(&str) -> Option<String>, changed: &mut bool) {
        match &mut expr.kind {
            ExprKind::Var(name) => {
                if let Some(defined) = spelling(name) {
                    *name = defined;
                    *changed = true;
                }
            }
            _ => expr.children_mut().into_iter().for_each(|a| respell(a, spelling, changed)),
        }
    }
    let mut program = ast.clone();
    let mut changed = false;
    for item in &mut program.items {
        if let Item::Assign { value, .. } = item {
            respell(value, &spelling, &mut changed);
        }
    }
    changed.then_some(program)
}

/// Refuses two names that would print the same (`W1` and `W_1` are both W₁): every output
/// shows names in Unicode or LaTeX, where they would be one variable to the reader.
fn distinct_names(inputs: &[Variable], statements: &[Statement]) -> Result<(), Error> {
    let mut shown: HashMap<String, &str> = HashMap::new();
    let named = inputs.iter().map(|v| (&v.name, v.span)).chain(statements.iter().map(|s| (&s.name, s.span)));
    for (name, span) in named {
        let display = crate::print::unicode_name(name);
        match shown.get(&display) {
            Some(&other) if other != name => {
                return Err(Error::new(
                    span,
                    format!("`{other}` and `{name}` are different names that print the same ({display})"),
                )
                .with_hint("rename one of them, so that the results can tell them apart"));
            }
            _ => {
                shown.insert(display, name);
            }
        }
    }
    Ok(())
}

/// The statement that is the program's output: the last one; in a pasted document, the
/// last one with a scalar value (a loss), since a page goes on to define names for its
/// derivation (`P = w zᵀ + …`) after the model.
fn output_statement(graph: &Graph, statements: &[Statement], inputs: &[Variable], document: bool) -> usize {
    let last = statements.len().saturating_sub(1);
    if !document {
        return last;
    }
    // An adjoint the page writes down (`\bar{L} = 1`) is a claim about the model, not its loss.
    let is_adjoint = |s: &Statement| {
        crate::program::adjoint_base(&s.name).is_some_and(|base| {
            inputs.iter().any(|v| v.name == base)
                || statements.iter().any(|t| t.name == base && t.span.start < s.span.start)
        })
    };
    statements.iter().rposition(|s| graph.is_scalar(s.node) && !is_adjoint(s)).unwrap_or(last)
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Assign { span, .. } | Item::Declare { span, .. } => *span,
    }
}

#[derive(Debug, Clone, Copy)]
enum Binding {
    /// An input, with where it was declared or first used.
    Input(NodeId, Span),
    /// An assigned name, with its statement.
    Assigned(NodeId, Span),
}

struct Lowerer<'a> {
    source: &'a str,
    graph: Graph,
    /// Every name some statement assigns (before or after the one being lowered).
    assigned_anywhere: HashSet<String>,
    bindings: HashMap<String, Binding>,
    /// Declared names, with their shape and where the declaration names them.
    declared: HashMap<String, (Shape, Span)>,
    inputs: Vec<Variable>,
    statements: Vec<Statement>,
    /// The kinds of undeclared inputs, decided before lowering (see [`kinds`]).
    readings: HashMap<String, Reading>,
    /// A page's adjoints whose equations do not type-check, with where they are.
    broken: HashMap<String, Span>,
    /// The statement being lowered.
    statement: Span,
    /// Whether the source is a pasted document (prose with math), decided once.
    document: bool,
    /// The statements whose values are held apart from equal expressions (see
    /// [`lower_holding`]).
    held: HashSet<String>,
    /// The indices of the sums being lowered, outermost first (see [`index`]).
    scope: Vec<index::Bound>,
    /// The sizes the program's sums run to (`n` in `\sum_{i=1}^{n}`), which a free name
    /// reads as, as a declared size is: `\frac{1}{n} \sum_{i=1}^{n}` is a mean.
    bound_sizes: HashSet<String>,
}

/// The names lowering gives a fixed meaning when they are neither declared nor assigned.
struct Specials {
    /// The sizes the program declares: `n` in `x: vector(n)`, a number (see
    /// [`Lowerer::variable`]), as in the `n 𝟙` closed forms print.
    sizes: HashSet<String>,
}

impl kinds::Special for Specials {
    /// `I`, `I_n`, `I_3`: the identity (see [`Lowerer::identity`]); `π`, a declared size: a
    /// scalar.
    fn fixed(&self, name: &str) -> Option<Kind> {
        if name == "pi" || self.sizes.contains(name) {
            return Some(Kind::Scalar);
        }
        let identity = name == "I"
            || name
                .strip_prefix("I_")
                .is_some_and(|size| !size.is_empty() && size.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        identity.then_some(Kind::Matrix)
    }
}

impl<'a> Lowerer<'a> {
    fn new(
        source: &'a str,
        graph: Graph,
        assigned_anywhere: HashSet<String>,
        bindings: HashMap<String, Binding>,
    ) -> Lowerer<'a> {
        Lowerer {
            source,
            graph,
            assigned_anywhere,
            bindings,
            declared: HashMap::new(),
            inputs: Vec::new(),
            statements: Vec::new(),
            readings: HashMap::new(),
            broken: HashMap::new(),
            statement: Span::default(),
            document: crate::syntax::is_document(source),
            held: HashSet::new(),
            scope: Vec::new(),
            bound_sizes: HashSet::new(),
        }
    }
}

impl Lowerer<'_> {
    /// Declarations hold wherever they stand (a pasted paper often declares after use), so
    /// they are read before any statement. Declared inputs exist even when unused.
    fn declare_all(&mut self, ast: &ast::Program) -> Result<(), Error> {
        let assigned: HashMap<&str, Span> = ast
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Assign { name, .. } => Some((name.text.as_str(), name.span)),
                Item::Declare { .. } => None,
            })
            .collect();
        for item in &ast.items {
            let Item::Declare { names, ty, .. } = item else { continue };
            let shape = self.declared_shape(ty)?;
            for name in names {
                self.check_nameable(&name.text, name.span)?;
                if let Some(&(_, first)) = self.declared.get(&name.text) {
                    let (line, _) = line_column(self.source, first.start);
                    return Err(Error::new(name.span, format!("`{}` is declared twice", name.text))
                        .with_label(format!("first declared on line {line}")));
                }
                // A page may write `w = (X^TX)^{-1}X^Ty` for the optimum of its input `w`: a
                // claim about one particular w, not a definition.
                if let Some(&at) = assigned.get(name.text.as_str()).filter(|_| !self.document) {
                    let (line, _) = line_column(self.source, name.span.start);
                    return Err(Error::new(at, format!("`{}` is an input and cannot be assigned", name.text))
                        .with_label(format!("declared as an input on line {line}"))
                        .with_hint("give the computed value a name of its own, or remove the declaration"));
                }
                self.declared.insert(name.text.clone(), (shape, name.span));
            }
        }
        let mut declared: Vec<(&String, &(Shape, Span))> = self.declared.iter().collect();
        declared.sort_by_key(|(_, (_, span))| span.start);
        for (name, &(shape, span)) in declared {
            let node = self.graph.add_input(name, shape);
            self.bindings.insert(name.clone(), Binding::Input(node, span));
            self.inputs.push(Variable {
                name: name.clone(),
                node,
                span,
                origin: Origin::Declared,
                decided_by: None,
                letter_rule: "",
            });
        }
        Ok(())
    }

    fn declared_shape(&mut self, ty: &TypeSpec) -> Result<Shape, Error> {
        Ok(match ty {
            TypeSpec::Scalar => Shape::SCALAR,
            TypeSpec::Vector(n) => Shape::vector(self.dim(n)?),
            TypeSpec::Matrix(m, n) => Shape::new(self.dim(m)?, self.dim(n)?),
        })
    }

    fn dim(&mut self, spec: &ast::DimSpec) -> Result<Dim, Error> {
        match &spec.kind {
            DimSpecKind::Symbol(name) => Ok(self.graph.dims.symbol(name)),
            DimSpecKind::Number(0) => Err(Error::new(spec.span, "a size must be at least 1")),
            DimSpecKind::Number(n) => Ok(Dim::Number(*n)),
        }
    }

    fn check_nameable(&self, name: &str, span: Span) -> Result<(), Error> {
        if builtin(name).is_some() {
            return Err(Error::new(span, format!("`{name}` is a function and cannot name a variable"))
                .with_hint("choose another name"));
        }
        Ok(())
    }

    fn assign(&mut self, name: &ast::Name, value: &Expr, span: Span) -> Result<(), Error> {
        self.check_nameable(&name.text, name.span)?;
        self.statement = span;
        let mut node = self.expr(value)?;
        match self.bindings.get(&name.text) {
            Some(Binding::Assigned(_, first)) => {
                let (line, _) = line_column(self.source, first.start);
                return Err(Error::new(name.span, format!("`{}` is assigned twice", name.text))
                    .with_label(format!("first assigned on line {line}"))
                    .with_hint(format!(
                        "programs are single-assignment: give the new value a new name, e.g. `{}2`",
                        name.text
                    )));
            }
            Some(Binding::Input(_, first_use)) => {
                let (line, _) = line_column(self.source, name.span.start);
                return Err(Error::new(*first_use, format!("`{}` is used before it is assigned", name.text))
                    .with_label(format!("assigned later, on line {line}"))
                    .with_hint("move the assignment above its first use"));
            }
            None => {}
        }
        let held = self.held.contains(&name.text);
        if held {
            node = self.hold(&name.text, node)?;
        }
        // A constant is not a value of the computation: naming it (`\bar{L} = 1`, `c = 2`)
        // would print every other 1 or 2 of the program by that name; a held one is its own.
        if held || !matches!(self.graph.op(node), Op::Const(_)) {
            self.graph.set_name(node, &name.text);
        }
        self.bindings.insert(name.text.clone(), Binding::Assigned(node, span));
        self.statements.push(Statement { name: name.text.clone(), node, span });
        Ok(())
    }

    /// Refuses an undeclared name that reads as a product of letters: `Ax` in `‖Ax − b‖²`
    /// (a statement written with Unicode math, where letters side by side multiply, as in
    /// LaTeX), `x'Ax`, `xTAx` or `AB` (a capital in a name of several letters), `xy` when `x`
    /// and `y` are variables of the program. A declared name is never refused. Read as one name, each would be a new input, and the gradients would
    /// check: the worst kind of misreading.
    fn refuse_product_names(&self, name: &str, span: Span) -> Result<(), Error> {
        // A letter after a digit (`W1x`, `A2x`, `W_1x`): a subscripted name times another.
        if let Some(at) = name.as_bytes().windows(2).position(|w| w[0].is_ascii_digit() && w[1].is_ascii_alphabetic()) {
            let (head, tail) = name.split_at(at + 1);
            return Err(Error::new(span, format!("`{name}` would be one new variable named {name}"))
                .with_label("a letter after a digit reads as one name here")
                .with_hint(format!(
                    "for the product write `{head} {tail}` (with a space) or `{head}*{tail}`; for one variable, declare it (`{name}: …`)"
                )));
        }
        let letters = name.len() >= 2 && name.bytes().all(|b| b.is_ascii_alphabetic());
        if !letters || crate::syntax::greek_letter(name).is_some() || builtin(name).is_some() {
            return Ok(());
        }
        let statement = self.source.get(self.statement.range()).unwrap_or("");
        let unicode_math = statement.chars().any(|c| !c.is_ascii() && !c.is_whitespace());
        // A capital is a matrix's letter: `Ax`, `xTAx`, `AB`, `UVt` are products.
        let capitals = name.chars().any(|c| c.is_ascii_uppercase());
        let known = |c: char| {
            let letter = c.to_string();
            self.bindings.contains_key(&letter)
                || self.declared.contains_key(&letter)
                || self.assigned_anywhere.contains(&letter)
        };
        let of_variables = name.chars().all(known);
        if !(unicode_math || capitals || of_variables) {
            return Ok(());
        }
        let spaced: Vec<String> = name.chars().map(String::from).collect();
        Err(Error::new(span, format!("`{name}` would be one new variable named {name}"))
            .with_label("letters side by side read as one name here")
            .with_hint(format!(
                "for the product write `{}` (with spaces) or `{}`; for one variable, declare it (`{name}: …`)",
                spaced.join(" "),
                spaced.join("*")
            )))
    }

    /// The first name `expr` reads that is a broken adjoint, if any.
    fn uses_broken(&self, expr: &Expr) -> Option<String> {
        match &expr.kind {
            ExprKind::Var(name) if self.broken.contains_key(name) && !self.bindings.contains_key(name) => {
                Some(name.clone())
            }
            _ => expr.children().into_iter().find_map(|a| self.uses_broken(a)),
        }
    }

    /// Whether `name` writes the adjoint of an input or an earlier statement (`hbar` for
    /// h̄ = ∂L/∂h).
    fn is_adjoint_name(&self, name: &str) -> bool {
        crate::program::adjoint_base(name).is_some_and(|base| self.bindings.contains_key(&base))
    }

    /// A document's second statement for `name`: lowered on its own, compared with the first.
    /// The node of a held statement called `name` whose expression lowered to `value`
    /// (see [`Graph::add_held`]). A second name for an input or a held name (`y = x`) is
    /// refused: the holding node repeats `value`'s operation, so moving that variable would
    /// not move it.
    fn hold(&mut self, name: &str, value: NodeId) -> Result<NodeId, Error> {
        let variable = matches!(self.graph.op(value), Op::Input(_)) || self.graph.held(value).is_some();
        if let Some(other) = self.graph.name(value).filter(|_| variable) {
            return Err(Error::request(format!(
                "`{name}` is another name for `{other}`, so the uses of one cannot be told from the other's"
            ))
            .with_hint(format!("name `{other}` instead: its derivative counts the uses of `{name}` too")));
        }
        Ok(self.graph.add_held(value))
    }

    fn restatement(&mut self, name: &ast::Name, value: &Expr, span: Span, first: NodeId, first_span: Span) -> Restated {
        // A held statement is its expression's copy, which a restatement never lowers to.
        let expression = self.graph.held(first).unwrap_or(first);
        let meaning = match self.expr(value) {
            Ok(node) if node == first || node == expression => Meaning::Same,
            Ok(node) => Meaning::Different(node),
            Err(diagnostic) => Meaning::Unreadable(diagnostic.message),
        };
        Restated { name: name.text.clone(), span, first: first_span, meaning }
    }

    fn expr(&mut self, expr: &Expr) -> Result<NodeId, Error> {
        match &expr.kind {
            ExprKind::Number(value) => Ok(self.graph.constant(*value)),
            ExprKind::Var(name) => self.variable(name, expr.span),
            ExprKind::Neg(inner) => match inner.kind {
                // A negative literal is one constant, so `-2` prints and re-parses as itself.
                ExprKind::Number(value) => Ok(self.graph.constant(-value)),
                _ => {
                    let a = self.expr(inner)?;
                    self.add(Op::Neg(a), expr, &[inner])
                }
            },
            ExprKind::Transpose(inner) => {
                let a = self.expr(inner)?;
                self.add(Op::Transpose(a), expr, &[inner])
            }
            ExprKind::Binary(op, left, right) => self.binary(*op, left, right, expr),
            ExprKind::Call { name, name_span, args } => self.call(name, *name_span, args, expr),
            ExprKind::Ones(length) => {
                let n = match length {
                    None => self.graph.dims.unknown("len(𝟙)"),
                    // A size and a variable of one name would print alike (`n 𝟙ₙ`).
                    Some(written) if !self.is_free(written) => {
                        return Err(Error::new(
                            expr.span,
                            format!("`{}`: `{written}` is a variable of the program, not a size", self.text(expr.span)),
                        )
                        .with_hint("a length on 𝟙 is a size of the declarations (`x: vector(n)` makes n one); give the variable another name"));
                    }
                    Some(written) => self.written_size(written).ok_or_else(|| {
                        Error::new(
                            expr.span,
                            format!(
                                "`{}`: the length of 𝟙 is a whole number from 1 to 10⁹, a size's letter, or a size the declarations name",
                                self.text(expr.span)
                            ),
                        )
                        .with_hint("e.g. `𝟙ₙ`, `𝟙_K`, `𝟙_{N_1}`, `\\mathbf{1}_{3}`; a longer name may mean a product (n·k), so it must be declared, as in `x: vector(nk)`")
                    })?,
                };
                self.add(Op::Fill(Constant(1.0), Shape::vector(n)), expr, &[])
            }
            ExprKind::Bold(inner) => self.expr(inner),
            ExprKind::Derivative { name, name_span, args } => self.derivative(name, *name_span, args, expr),
            ExprKind::IndexSum { .. } => self.index_sum(expr),
            // The parser makes entries only inside their sums, which `index` lowers whole.
            ExprKind::Entry { .. } => {
                Err(Error::new(expr.span, "an entry can only stand inside a sum over its indices")
                    .with_hint("write the sum, as in `\\sum_i w_i^2`"))
            }
        }
    }

    /// Whether `name` is neither declared nor assigned anywhere in the program, so that a
    /// conventional meaning (`I`, `e`) may be given to it.
    fn is_free(&self, name: &str) -> bool {
        !self.bindings.contains_key(name) && !self.declared.contains_key(name) && !self.assigned_anywhere.contains(name)
    }

    /// `I`, `I_n`, `I_3` (also `\mathbf{I}`, `\mathbb{I}`, `𝕀`) when free: the identity, of
    /// size n, 3, or (plain `I`) a size found from its use.
    fn identity(&mut self, name: &str, expr: &Expr) -> Result<Option<NodeId>, Error> {
        if !self.is_free(name) {
            return Ok(None);
        }
        let size = match name.strip_prefix("I_") {
            None if name == "I" => self.graph.dims.unknown("size(I)"),
            Some(written) => match self.written_size(written) {
                Some(size) => size,
                None => return Ok(None),
            },
            None => return Ok(None),
        };
        self.add(Op::Eye(size), expr, &[]).map(Some)
    }

    /// A size written as a subscript (`I_n`, `𝟙_3`): a whole number from 1 to 10⁹, or a size's
    /// name, the same size wherever it is written. A name of one letter (with digits or a
    /// subscript after it: `n`, `N_1`, `d2`) is a size; a longer one (`nk`) only when the
    /// program already has that size, since `𝟙_{nk}` may mean n·k; `2n` never is.
    fn written_size(&mut self, written: &str) -> Option<Dim> {
        if !is_size_name(written) {
            return None;
        }
        if is_number(written) {
            return number_size(written);
        }
        let one_letter = written.chars().skip(1).all(|c| c.is_ascii_digit() || c == '_');
        match self.graph.dims.find_symbol(written) {
            Some(dim) => Some(dim),
            None => one_letter.then(|| self.graph.dims.symbol(written)),
        }
    }

    /// `σ'(y)`, `tanh'(x)`: the derivative of an elementwise function at its argument, built
    /// by the derivative table the gradients use (σ′(y) = σ(y) ⊙ (1 − σ(y))).
    fn derivative(&mut self, name: &str, name_span: Span, args: &[Expr], whole: &Expr) -> Result<NodeId, Error> {
        let written = self.text(name_span);
        let Some(Builtin::Elementwise(f)) = builtin(name) else {
            return Err(Error::new(
                name_span,
                format!("`{written}` is not defined: a prime marks the derivative of an elementwise function"),
            )
            .with_hint("σ′, tanh′, exp′, log′, relu′, softplus′, sin′, cos′, … have derivatives; for a transpose write the prime after the call, as in `f(x)'`"));
        };
        if args.len() != 1 {
            return Err(Error::new(
                whole.span,
                format!("`{written}` takes 1 argument, but {} given", given(args.len())),
            ));
        }
        let a = self.expr(&args[0])?;
        let value = self.add(Op::Map(f, a), whole, &[&args[0]])?;
        match crate::diff::derivative(&mut self.graph, f, a, value) {
            Some(slope) => Ok(slope),
            None => {
                let shape = self.graph.shape(a);
                self.add(Op::Fill(Constant(0.0), shape), whole, &[])
            }
        }
    }

    fn variable(&mut self, name: &str, span: Span) -> Result<NodeId, Error> {
        match self.bindings.get(name) {
            Some(Binding::Input(node, _) | Binding::Assigned(node, _)) => return Ok(*node),
            None => {}
        }
        if let Some(&at) = self.broken.get(name) {
            let (line, _) = line_column(self.source, at.start);
            return Err(Error::shape(
                span,
                format!("`{name}` is defined on line {line} by an equation whose shapes do not fit"),
            ));
        }
        if let Some(eye) = self.identity(name, &Expr { kind: ExprKind::Var(name.to_string()), span })? {
            return Ok(eye);
        }
        // `π` is the constant when the program does not make it a variable, as `e` in `e^x`.
        if name == "pi" && self.is_free(name) {
            return Ok(self.graph.constant(std::f64::consts::PI));
        }
        // A size the program declared (`x: vector(n)`, `A ∈ ℝ^{K×K}`) is that number where no
        // variable has its name: `n*sum(x)` means n times the sum, as on paper. Read as a new
        // input, it would be a vector of some other length, silently.
        if self.is_free(name) {
            if let Some(dim) = self.graph.dims.find_symbol(name) {
                return Ok(self.graph.add(Op::Size(dim)).expect("a size is a scalar"));
            }
            if self.bound_sizes.contains(name) {
                let dim = self.graph.dims.symbol(name);
                return Ok(self.graph.add(Op::Size(dim)).expect("a size is a scalar"));
            }
        }
        if builtin(name).is_some() {
            return Err(Error::new(span, format!("`{name}` is a function, not a variable"))
                .with_hint(format!("call it: `{name}(…)`")));
        }
        self.refuse_product_names(name, span)?;
        let reading = self.readings.get(name).copied().unwrap_or(Reading {
            kind: kinds::letter_kind(name, false),
            origin: Origin::Letter,
            decided_by: None,
            letter_rule: kinds::letter_rule(name, false).1,
        });
        let dims = &mut self.graph.dims;
        let shape = match reading.kind {
            Kind::Scalar => Shape::SCALAR,
            Kind::Vector => Shape::vector(dims.unknown(&format!("len({name})"))),
            Kind::Matrix => Shape::new(dims.unknown(&format!("rows({name})")), dims.unknown(&format!("cols({name})"))),
        };
        let node = self.graph.add_input(name, shape);
        self.bindings.insert(name.to_string(), Binding::Input(node, span));
        self.inputs.push(Variable {
            name: name.to_string(),
            node,
            span,
            origin: reading.origin,
            decided_by: reading.decided_by,
            letter_rule: reading.letter_rule,
        });
        Ok(node)
    }

    fn binary(&mut self, op: BinOp, left: &Expr, right: &Expr, whole: &Expr) -> Result<NodeId, Error> {
        if op == BinOp::Pow {
            return self.power(left, right, whole);
        }
        let a = self.expr(left)?;
        let b = self.expr(right)?;
        let operands = [left, right];
        let scalar_side = self.graph.is_scalar(a) || self.graph.is_scalar(b);
        match op {
            BinOp::Add => self.add(Op::Add(a, b), whole, &operands),
            BinOp::Sub => {
                // `a - 2` is `a + (-2)` with one constant, as the printer writes it back.
                let negated = match right.kind {
                    ExprKind::Number(value) => self.graph.constant(-value),
                    _ => self.add(Op::Neg(b), right, &[right])?,
                };
                self.add(Op::Add(a, negated), whole, &operands)
            }
            BinOp::Mul | BinOp::Dot if scalar_side => self.add(Op::Mul(a, b), whole, &operands),
            BinOp::Dot
                if self.graph.dims.is_vector(self.graph.shape(a)) && self.graph.dims.is_vector(self.graph.shape(b)) =>
            {
                let row = self.add(Op::Transpose(a), left, &[left])?;
                self.add(Op::MatMul(row, b), whole, &operands)
            }
            BinOp::Mul | BinOp::Dot => self.add(Op::MatMul(a, b), whole, &operands),
            BinOp::Frobenius => self.frobenius(a, b, whole, &operands),
            BinOp::ElemMul => self.add(Op::Mul(a, b), whole, &operands),
            BinOp::ElemDiv => self.add(Op::Div(a, b), whole, &operands),
            BinOp::Div if self.graph.is_scalar(b) => self.add(Op::Div(a, b), whole, &operands),
            BinOp::Div => Err(self
                .misuse(whole, "`/` divides by a scalar", right, b)
                .with_hint("use `./` for elementwise division, or `inv(…)` for a matrix inverse")),
            BinOp::ElemPow => self.add(Op::Pow(a, b), whole, &operands),
            BinOp::Pow => unreachable!("handled above"),
        }
    }

    /// `A : B` = tr(AᵀB) = sum(A ⊙ B), for operands of one shape (no broadcasting).
    fn frobenius(&mut self, a: NodeId, b: NodeId, whole: &Expr, operands: &[&Expr]) -> Result<NodeId, Error> {
        let (left, right) = (self.graph.shape(a), self.graph.shape(b));
        let dims = &mut self.graph.dims;
        if !(dims.unify(left.rows, right.rows) && dims.unify(left.cols, right.cols)) {
            let text = |i: usize| operands.get(i).map_or(String::new(), |e| self.text(e.span));
            let message = format!(
                "`{}`: `{}` {} but `{}` {}",
                self.text(whole.span),
                text(0),
                self.graph.dims.describe(left),
                text(1),
                self.graph.dims.describe(right)
            );
            return Err(Error::shape(whole.span, message)
                .with_hint("the Frobenius product `A : B` = sum(A ⊙ B) needs operands of one shape"));
        }
        let product = self.add(Op::Mul(a, b), whole, operands)?;
        self.add(Op::Sum(product), whole, operands)
    }

    /// `^`: scalar power for a scalar base; for a square matrix, a matrix power with an
    /// integer exponent (negative exponents invert). `e^x` is exp(x) when `e` is free.
    fn power(&mut self, base: &Expr, exponent: &Expr, whole: &Expr) -> Result<NodeId, Error> {
        if matches!(&base.kind, ExprKind::Var(name) if name == "e") && self.is_free("e") {
            let x = self.expr(exponent)?;
            return self.add(Op::Map(Func::Exp, x), whole, &[exponent]);
        }
        let a = self.expr(base)?;
        let shape = self.graph.shape(a);
        if self.graph.is_scalar(a) {
            let b = self.expr(exponent)?;
            if !self.graph.is_scalar(b) {
                return Err(self
                    .misuse(whole, "the exponent of `^` must be a scalar", exponent, b)
                    .with_hint("use `.^` for an elementwise power"));
            }
            return self.add(Op::Pow(a, b), whole, &[base, exponent]);
        }
        let is_vector = self.graph.dims.is_vector(shape);
        if is_vector || !self.graph.dims.unify(shape.rows, shape.cols) {
            let dims = &self.graph.dims;
            let what =
                if is_vector { "is a vector".to_string() } else { format!("{}, not square", dims.describe(shape)) };
            // A reading error, not a shape error: `z^2` of a vector is a notation (the
            // elementwise square, in many papers) that matgrad does not read.
            return Err(Error::new(
                whole.span,
                format!("`{}`: `^` is a matrix power, but `{}` {what}", self.text(whole.span), self.text(base.span),),
            )
            .with_hint(format!(
                "use `{}.^{}` for the elementwise power{}",
                self.text(base.span),
                self.text(exponent.span),
                if is_vector { ", or `x'*x` / `norm2(x)^2` for a squared norm" } else { "" }
            )));
        }
        let Some(k) = integer_literal(exponent) else {
            return Err(Error::shape(exponent.span, "a matrix power needs an integer exponent")
                .with_hint(format!("use `{}.^…` for an elementwise power", self.text(base.span))));
        };
        let magnitude = u32::try_from(k.unsigned_abs())
            .ok()
            .filter(|&m| m <= 1 << 16)
            .ok_or_else(|| Error::new(exponent.span, "this matrix power is too large (at most 65536)"))?;
        let matrix = if k < 0 { self.add(Op::Inv(a), whole, &[base])? } else { a };
        match magnitude {
            0 => {
                let n = self.graph.shape(a).rows;
                self.add(Op::Eye(n), whole, &[])
            }
            1 => Ok(matrix),
            k => self.add(Op::MatPow(matrix, k), whole, &[base]),
        }
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], whole: &Expr) -> Result<NodeId, Error> {
        // `σ y` (the parser's call `sigma` from `σ`, `\sigma`): a product when σ is a variable;
        // otherwise both the sigmoid and a product are plausible, so it is refused.
        let written = self.text(name_span);
        if let Some(function) = letter_function(name).filter(|_| written != name && self.is_free(name)) {
            let argument = args.first().map_or(String::new(), |a| self.text(a.span));
            let letter = crate::syntax::greek_letter(name).map_or_else(|| written.clone(), String::from);
            let call = if written.starts_with('\\') {
                format!("{written}({argument})")
            } else {
                format!("{letter}({argument})")
            };
            return Err(Error::new(
                whole.span,
                format!(
                    "`{}` is ambiguous: the {function} {call}, or the scalar {written} times `{argument}`",
                    self.text(whole.span)
                ),
            )
            .with_hint(format!(
                "write `{call}` for the {function}, or declare `{written}` (`{}`) for the product",
                if written.starts_with('\\') {
                    format!(r"{written} \in \mathbb{{R}}")
                } else {
                    format!("{written}: scalar")
                }
            )));
        }
        let Some(function) = builtin(name) else {
            return self.product_or_unknown(name, name_span, args, whole);
        };
        if matches!(function, Builtin::Eye | Builtin::Zeros | Builtin::Ones) {
            return self.sized(name, function, args, whole);
        }
        if args.len() != 1 {
            return Err(Error::new(whole.span, format!("`{name}` takes 1 argument, but {} given", given(args.len()))));
        }
        let arg = &args[0];
        let a = self.expr(arg)?;
        self.refuse_matrix_bars(name, a, arg, whole)?;
        if function == Builtin::Mean {
            return self.mean(a, arg, whole);
        }
        let op = match function {
            Builtin::Elementwise(f) => Op::Map(f, a),
            Builtin::Sum => Op::Sum(a),
            Builtin::Norm1 => Op::Norm1(a),
            Builtin::Norm2 => Op::Norm2(a),
            Builtin::Trace => Op::Trace(a),
            Builtin::Det => Op::Det(a),
            Builtin::LogDet => Op::LogDet(a),
            Builtin::Inv => Op::Inv(a),
            Builtin::Diag if self.graph.dims.is_vector(self.graph.shape(a)) => Op::Diag(a),
            Builtin::Diag => Op::DiagPart(a),
            Builtin::Softmax => Op::Softmax(a),
            Builtin::LogSumExp => Op::LogSumExp(a),
            Builtin::Mean | Builtin::Eye | Builtin::Zeros | Builtin::Ones => unreachable!("handled above"),
        };
        self.add(op, whole, &[arg])
    }

    /// `mean(x)`: the sum of a vector's entries over their number, which reads back as
    /// `sum(x)/n`. Of a matrix NumPy means all its entries and MATLAB each column's, so it is
    /// refused.
    fn mean(&mut self, a: NodeId, arg: &Expr, whole: &Expr) -> Result<NodeId, Error> {
        let shape = self.graph.shape(a);
        let dims = &self.graph.dims;
        let length = match (dims.resolve(shape.rows), dims.resolve(shape.cols)) {
            (ONE, ONE) => return Ok(a),
            (n, ONE) | (ONE, n) => n,
            _ => {
                let text = self.text(arg.span);
                return Err(Error::new(
                    whole.span,
                    format!(
                        "`{}` of a matrix: the mean of all its entries (NumPy's) or of each column (MATLAB's)?",
                        self.text(whole.span)
                    ),
                )
                .with_hint(format!(
                    "for all entries of an m×n matrix write `sum({text})/(m*n)`; for each column's, `ones(m)'*{text}/m`"
                )));
            }
        };
        let sum = self.add(Op::Sum(a), whole, &[arg])?;
        let count = match length {
            Dim::Number(n) => self.graph.constant(n as f64),
            n => self.graph.add(Op::Size(n)).expect("a size is a scalar"),
        };
        self.add(Op::Div(sum, count), whole, &[arg])
    }

    /// `‖A‖₂`, `‖A‖₁`, `norm(A)` and `|A|` of a matrix: refused, naming the readings.
    fn refuse_matrix_bars(&self, name: &str, a: NodeId, arg: &Expr, whole: &Expr) -> Result<(), Error> {
        let shape = self.graph.shape(a);
        let dims = &self.graph.dims;
        if dims.is_scalar(shape) || dims.is_vector(shape) {
            return Ok(());
        }
        let text = self.text(arg.span);
        let (message, hint) = match name {
            NORM_2_WRITTEN => (
                format!("`{}` of a matrix is its spectral norm, which matgrad does not have", self.text(whole.span)),
                format!("for the Frobenius norm write `‖{text}‖_F` (or `norm2({text})`)"),
            ),
            NORM_CALLED => (
                format!(
                    "`{}` of a matrix: the Frobenius norm (NumPy's `norm`) or the spectral norm (MATLAB's)?",
                    self.text(whole.span)
                ),
                format!("for the Frobenius norm write `‖{text}‖` (or `norm2({text})`); matgrad does not have the spectral norm"),
            ),
            NORM_1_WRITTEN => (
                format!(
                    "`{}` of a matrix: the induced 1-norm (the largest column sum) or the sum of |entries|?",
                    self.text(whole.span)
                ),
                format!(
                    "for the sum of absolute entries write `norm1({text})`; matgrad does not have the induced norm"
                ),
            ),
            BARS_WRITTEN => (
                format!("`{}` of a matrix: its determinant, or its entries' absolute values?", self.text(whole.span)),
                format!("write `det({text})` (or `\\det {text}`) for the determinant, `abs({text})` for the entries"),
            ),
            _ => return Ok(()),
        };
        Err(Error::new(whole.span, message).with_hint(hint))
    }

    /// `eye(n)`, `zeros(n)`, `zeros(m, n)`, `ones(…)`: each size is a number or a dimension
    /// symbol.
    fn sized(&mut self, name: &str, function: Builtin, args: &[Expr], whole: &Expr) -> Result<NodeId, Error> {
        let arity = if function == Builtin::Eye { 1..=1 } else { 1..=2 };
        if !arity.contains(&args.len()) {
            let expected = if function == Builtin::Eye { "1 argument" } else { "1 or 2 arguments" };
            return Err(Error::new(whole.span, format!("`{name}` takes {expected}, but {} given", given(args.len())))
                .with_hint(format!("e.g. `{name}(3)` or `{name}(K)`")));
        }
        let mut sizes = Vec::new();
        for arg in args {
            sizes.push(match &arg.kind {
                ExprKind::Number(n) if *n >= 1.0 && n.fract() == 0.0 && *n <= 1e9 => Dim::Number(*n as u64),
                ExprKind::Var(symbol) => self.graph.dims.symbol(symbol),
                _ => {
                    return Err(Error::new(
                        arg.span,
                        format!("`{name}` takes sizes: positive whole numbers or dimension names"),
                    )
                    .with_hint(format!("e.g. `{name}(3)` or `{name}(K)`")))
                }
            });
        }
        let shape = match sizes[..] {
            [n] if function == Builtin::Eye => Shape::new(n, n),
            [n] => Shape::vector(n),
            [m, n] => Shape::new(m, n),
            _ => unreachable!("arity checked above"),
        };
        let op = match function {
            Builtin::Eye => Op::Eye(shape.rows),
            Builtin::Zeros => Op::Fill(Constant(0.0), shape),
            Builtin::Ones => Op::Fill(Constant(1.0), shape),
            Builtin::Elementwise(_)
            | Builtin::Sum
            | Builtin::Mean
            | Builtin::Norm1
            | Builtin::Norm2
            | Builtin::Trace
            | Builtin::Det
            | Builtin::LogDet
            | Builtin::Inv
            | Builtin::Diag
            | Builtin::Softmax
            | Builtin::LogSumExp => unreachable!("only eye, zeros and ones are made from sizes"),
        };
        self.add(op, whole, &[])
    }

    /// `A(x)` is a product when `A` is a variable; otherwise `name` is an unknown function.
    fn product_or_unknown(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        whole: &Expr,
    ) -> Result<NodeId, Error> {
        let is_variable = self.bindings.contains_key(name)
            || self.declared.contains_key(name)
            || is_single_letter_name(name)
            || crate::syntax::greek_letter(name).is_some();
        if is_variable && args.len() == 1 {
            let name_expr = Expr { kind: ExprKind::Var(name.to_string()), span: name_span };
            let product = Expr {
                kind: ExprKind::Binary(BinOp::Mul, Box::new(name_expr), Box::new(args[0].clone())),
                span: whole.span,
            };
            return self.expr(&product);
        }
        let mut diagnostic = Error::new(name_span, format!("unknown function `{name}`"));
        let nearest = function_names(false)
            .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
            .filter(|&(distance, _)| distance <= 2)
            .min();
        diagnostic = match nearest {
            Some((_, candidate)) => diagnostic.with_hint(format!("did you mean `{candidate}`?")),
            None => diagnostic
                .with_hint(format!("the functions are: {}", function_names(true).collect::<Vec<_>>().join(" "))),
        };
        Err(diagnostic)
    }

    /// Adds a node, turning a shape error into a message about the user's own text.
    fn add(&mut self, op: Op, whole: &Expr, operands: &[&Expr]) -> Result<NodeId, Error> {
        self.graph.add(op).map_err(|error| self.shape_error(op, error, whole, operands))
    }

    fn shape_error(&self, op: Op, error: ShapeError, whole: &Expr, operands: &[&Expr]) -> Error {
        let dims = &self.graph.dims;
        let text = |i: usize| operands.get(i).map_or(String::new(), |e| self.text(e.span));
        let whole_text = self.text(whole.span);
        match error {
            ShapeError::Operands { left, right } => {
                let (described_left, described_right) = (dims.describe(left), dims.describe(right));
                // Two operands alike (two vectors) do not contrast: say what fails.
                let message = if described_left == described_right && matches!(op, Op::MatMul(..)) {
                    format!(
                        "`{whole_text}`: `{}` and `{}` do not multiply as matrices: each {described_left}",
                        text(0),
                        text(1)
                    )
                } else {
                    format!("`{whole_text}`: `{}` {described_left} but `{}` {described_right}", text(0), text(1))
                };
                let diagnostic = Error::shape(whole.span, message);
                match op {
                    Op::MatMul(..) if dims.is_vector(left) && dims.is_vector(right) => diagnostic.with_hint(format!(
                        "for the elementwise product write `{a}.*{b}`; for the inner product `{a}'*{b}`",
                        a = text(0),
                        b = text(1)
                    )),
                    Op::MatMul(..) => diagnostic.with_hint(
                        "a matrix product needs the columns of the left operand to match the rows of the right",
                    ),
                    Op::Add(..) | Op::Mul(..) | Op::Div(..) | Op::Pow(..) => diagnostic
                        .with_hint("elementwise operations need operands of one shape (only scalars broadcast)"),
                    // Operations of one operand do not fail on their operands' fit.
                    Op::Input(_)
                    | Op::Const(_)
                    | Op::Eye(_)
                    | Op::Size(_)
                    | Op::Fill(..)
                    | Op::Neg(_)
                    | Op::Transpose(_)
                    | Op::Map(..)
                    | Op::MatPow(..)
                    | Op::Sum(_)
                    | Op::Norm1(_)
                    | Op::Norm2(_)
                    | Op::Trace(_)
                    | Op::Det(_)
                    | Op::LogDet(_)
                    | Op::Inv(_)
                    | Op::Diag(_)
                    | Op::DiagPart(_)
                    | Op::Softmax(_)
                    | Op::LogSumExp(_) => diagnostic,
                }
            }
            ShapeError::NotSquare(shape) => Error::shape(
                whole.span,
                format!("`{}` needs a square matrix, but `{}` {}", op_name(op), text(0), dims.describe(shape)),
            ),
            ShapeError::NotVector(shape) => Error::shape(
                whole.span,
                format!("`{}` needs a vector, but `{}` {}", op_name(op), text(0), dims.describe(shape)),
            ),
        }
    }

    /// "`whole`: rule, but `operand` is …": an operand whose shape the rule does not allow.
    fn misuse(&self, whole: &Expr, rule: &str, operand: &Expr, node: NodeId) -> Error {
        let what = self.graph.dims.describe(self.graph.shape(node));
        let message = format!("`{}`: {rule}, but `{}` {what}", self.text(whole.span), self.text(operand.span));
        Error::shape(whole.span, message)
    }

    /// The user's text for a span, shortened when long.
    fn text(&self, span: Span) -> String {
        let text = self.source.get(span.range()).unwrap_or("").trim();
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 40 {
            format!("{}…", text.chars().take(39).collect::<String>())
        } else {
            text
        }
    }
}

/// The name a user calls an operation by, for messages.
fn op_name(op: Op) -> &'static str {
    match op {
        Op::Trace(_) => "tr",
        Op::Det(_) => "det",
        Op::LogDet(_) => "logdet",
        Op::Inv(_) => "inv",
        Op::MatPow(..) => "^",
        Op::DiagPart(_) | Op::Diag(_) => "diag",
        Op::Softmax(_) => "softmax",
        Op::LogSumExp(_) => "logsumexp",
        Op::Input(_)
        | Op::Const(_)
        | Op::Eye(_)
        | Op::Size(_)
        | Op::Fill(..)
        | Op::Neg(_)
        | Op::Add(..)
        | Op::Mul(..)
        | Op::Div(..)
        | Op::Pow(..)
        | Op::MatMul(..)
        | Op::Transpose(_)
        | Op::Map(..)
        | Op::Sum(_)
        | Op::Norm1(_)
        | Op::Norm2(_) => "this operation",
    }
}

fn given(count: usize) -> String {
    match count {
        0 => "none was".to_string(),
        1 => "1 was".to_string(),
        n => format!("{n} were"),
    }
}

/// `W`, `x`, `W_1`, `x0`: one letter, then optional digits and underscores.
fn is_single_letter_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.clone().next().is_none_or(|c| c == '_' || c.is_ascii_digit())
        && name.len() <= 8
}

/// The value of `3`, `-2`, `(−1)` if the expression is an integer literal.
fn integer_literal(expr: &Expr) -> Option<i64> {
    match &expr.kind {
        ExprKind::Number(v) if v.fract() == 0.0 && v.abs() < 1e15 => Some(*v as i64),
        ExprKind::Neg(inner) => integer_literal(inner).map(|k| -k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::BUILTINS;
    use crate::syntax::FUNCTIONS;

    /// The parser's function names (which decide what a call is) and the lowering's table
    /// (which decides what it means) are the same set.
    #[test]
    fn the_parser_and_the_lowering_know_the_same_functions() {
        let mut lowered: Vec<&str> = BUILTINS.iter().map(|(name, _)| *name).collect();
        let mut parsed: Vec<&str> = FUNCTIONS.to_vec();
        lowered.sort();
        parsed.sort();
        assert_eq!(lowered, parsed);
    }
}
