//! Gradients of a program, ready to print and evaluate: the graph grown by [`diff::grad`],
//! plus the short names introduced for repeated subexpressions.

use std::collections::{HashMap, HashSet};

use crate::check::check_gradients;
use crate::diff::{self, DiffError, Gradients};
use crate::eval::Sizes;
use crate::ir::{NodeId, Op};
use crate::print::{abbreviations, print, show_name, Notation};
use crate::{Array, Error, Program};

/// The gradient of one variable.
#[derive(Debug, Clone)]
pub struct Wrt {
    pub name: String,
    /// The variable's node (an input, or a statement's value).
    pub node: NodeId,
    /// The gradient's node; it has the variable's shape.
    pub gradient: NodeId,
}

/// A program with the gradients of its output.
#[derive(Debug, Clone)]
pub struct Gradient {
    pub(crate) program: Program,
    pub(crate) wrt: Vec<Wrt>,
    /// Introduced names for repeated subexpressions, in definition order.
    pub(crate) definitions: Vec<(NodeId, String)>,
    /// The same, by node, for printing.
    definition_names: HashMap<NodeId, String>,
    /// The sweep's trace and every adjoint.
    pub(crate) sweep: Gradients,
}

/// The variables to differentiate with respect to, trimmed (`"A, B"` split at commas gives
/// `" B"`); an empty or repeated name is a mistake.
pub(crate) fn checked_names<'a>(wrt: &[&'a str]) -> Result<Vec<&'a str>, Error> {
    let mut names: Vec<&str> = Vec::new();
    for name in wrt.iter().map(|n| n.trim()) {
        if name.is_empty() {
            return Err(Error::request("an empty name among the variables to differentiate with respect to")
                .with_hint("separate names with commas: A,B"));
        }
        if names.contains(&name) {
            return Err(Error::request(format!(
                "`{name}` is named twice among the variables to differentiate with respect to"
            )));
        }
        names.push(name);
    }
    Ok(names)
}

/// How gradients are laid out, said wherever they are printed.
pub const LAYOUT: &str = "∂L/∂X has the shape of X: its (i, j) entry is ∂L/∂Xᵢⱼ";

impl Program {
    /// The gradient of the output with respect to each name in `wrt` (inputs or assigned
    /// names); all inputs when `wrt` is empty.
    /// Names are trimmed; an empty or repeated name is a mistake.
    pub fn gradient(&self, wrt: &[&str]) -> Result<Gradient, Error> {
        let wrt: Vec<String> = checked_names(wrt)?.into_iter().map(|name| self.own_name(name)).collect();
        let wrt: Vec<&str> = wrt.iter().map(String::as_str).collect();
        // The gradient grows its own copy of the graph, so the program can be asked again.
        let (program, variables) = self.with_variables(&wrt)?;
        program.into_gradient(variables)
    }

    /// The gradient with respect to `variables`, nodes of this program ([`Program::with_variables`]).
    pub(crate) fn into_gradient(mut self, variables: Vec<(String, NodeId)>) -> Result<Gradient, Error> {
        let (names, nodes): (Vec<String>, Vec<NodeId>) = variables.into_iter().unzip();
        let output = self.output_node();
        let sweep = diff::grad(&mut self.graph, output, &nodes).map_err(|error| match error {
            DiffError::NotScalar(what) => self.not_scalar(&what, "a gradient"),
        })?;
        let wrt: Vec<Wrt> = names
            .into_iter()
            .zip(&sweep.gradients)
            .map(|(name, &(node, gradient))| Wrt { name, node, gradient })
            .collect();
        let roots: Vec<NodeId> = wrt.iter().map(|w| w.gradient).collect();
        let definitions = abbreviations(&self.graph, &roots, &[], &self.names_in_use());
        let definition_names = definitions.iter().cloned().collect();
        Ok(Gradient { program: self, wrt, definitions, definition_names, sweep })
    }

    /// The mistake of asking for `derivative` (a gradient, a Hessian) of an output that
    /// `what` (has length n, is K×K) instead of being a scalar.
    pub(crate) fn not_scalar(&self, what: &str, derivative: &str) -> Error {
        Error::request(format!("the output `{}` {what}, but {derivative} is of a scalar", self.output_statement().name))
            .with_hint("choose a scalar output, or reduce it, e.g. `L = sum(…)` or `L = norm2(…)^2`")
    }

    /// A copy of the program to differentiate with respect to the names in `wrt` (inputs or
    /// assigned names; every input when `wrt` is empty), with each variable's node. An
    /// assigned name is an independent leaf for its own derivative: the program is lowered
    /// again with its value a node of its own (see [`crate::ir::lower::lower_holding`]),
    /// which only the name's uses read. A name the program does not have is a mistake.
    pub(crate) fn with_variables(&self, wrt: &[&str]) -> Result<(Program, Vec<(String, NodeId)>), Error> {
        let held: HashSet<String> =
            wrt.iter().filter(|name| self.statements.iter().any(|s| s.name == **name)).map(|n| n.to_string()).collect();
        for name in &held {
            self.refuse_constant(name)?;
        }
        let program = if held.is_empty() { self.clone() } else { self.holding(&held)? };
        let variables = program.variables(wrt)?;
        Ok((program, variables))
    }

    /// The program lowered again from its source with the statements in `held` held apart.
    fn holding(&self, held: &HashSet<String>) -> Result<Program, Error> {
        let ast = crate::syntax::parse(&self.source)?;
        let mut program = crate::ir::lower::lower_holding(&ast, &self.source, held)?;
        // The same source gives the same statements, in the same order.
        program.output = self.output;
        Ok(program)
    }

    /// Refuses a constant statement (`c = 2`) as a variable: the derivative rules fold
    /// constants into the numbers they build (2c becomes 4), so the derivatives would lose
    /// some of its uses, and their finite differences too.
    fn refuse_constant(&self, name: &str) -> Result<(), Error> {
        let Some(node) = self.statements.iter().find(|s| s.name == name).map(|s| s.node) else { return Ok(()) };
        let inputs = self.graph.reachable(&[node]);
        if inputs.into_iter().any(|id| matches!(self.graph.op(id), Op::Input(_))) {
            return Ok(());
        }
        Err(Error::request(format!(
            "`{name}` is a constant, and derivatives fold constants into their numbers, so the uses of `{name}` \
             cannot be followed"
        ))
        .with_hint(format!("declare `{name}` as an input (`{name}: scalar`, say) and give its value")))
    }

    /// The variables named in `wrt` with their nodes; every input when `wrt` is empty.
    fn variables(&self, wrt: &[&str]) -> Result<Vec<(String, NodeId)>, Error> {
        let names: Vec<String> = if wrt.is_empty() {
            self.inputs.iter().map(|v| v.name.clone()).collect()
        } else {
            wrt.iter().map(|s| s.to_string()).collect()
        };
        // Every name's node, found once (a program may have thousands of inputs).
        let mut by_name: HashMap<&str, NodeId> = HashMap::new();
        for (name, node) in
            self.statements.iter().map(|s| (&s.name, s.node)).chain(self.inputs.iter().map(|v| (&v.name, v.node)))
        {
            by_name.entry(name.as_str()).or_insert(node);
        }
        names
            .into_iter()
            .map(|name| match by_name.get(name.as_str()) {
                Some(&node) => Ok((name, node)),
                None => {
                    let inputs: Vec<&str> = self.inputs.iter().map(|v| v.name.as_str()).collect();
                    Err(Error::request(format!("`{name}` is not a variable of the program")).with_hint(format!(
                        "differentiate with respect to its inputs ({}) or its assigned names",
                        inputs.join(", ")
                    )))
                }
            })
            .collect()
    }

    /// Every name a reader could confuse a new one with: variables and dimension symbols.
    pub(crate) fn names_in_use(&self) -> HashSet<String> {
        let mut names: HashSet<String> = self.inputs.iter().map(|v| v.name.clone()).collect();
        names.extend(self.statements.iter().map(|s| s.name.clone()));
        names.extend(self.graph.dims.symbols().map(|(_, name)| name.to_string()));
        names.insert("L".to_string());
        names.insert("I".to_string());
        names
    }
}

impl Gradient {
    /// The name a printed node goes by: the user's, or an introduced one.
    pub(crate) fn name_of(&self, id: NodeId) -> Option<String> {
        self.program.graph.name(id).map(str::to_string).or_else(|| self.definition_names.get(&id).cloned())
    }

    /// `id`'s expression in `notation`, with the user's and the introduced names.
    pub(crate) fn expression(&self, id: NodeId, notation: Notation) -> String {
        let namer = |node: NodeId| self.name_of(node);
        print(&self.program.graph, id, notation, &namer)
    }

    /// A gradient's closed form; a gradient that is one of the user's own values (∂L/∂y = w,
    /// say) or an introduced definition is written as that name.
    pub(crate) fn closed_form(&self, wrt: &Wrt, notation: Notation) -> String {
        // A gradient that is also an introduced definition (the δ of a layer) is its name.
        let definition = self.definition_names.get(&wrt.gradient).map(String::as_str);
        match self.program.graph.name(wrt.gradient).or(definition) {
            Some(name) => show_name(name, notation),
            None => self.expression(wrt.gradient, notation),
        }
    }

    /// Every gradient against central finite differences at a point: the largest relative
    /// error per variable, by the name the user asked for (an intermediate's node may carry
    /// an earlier statement's name).
    pub(crate) fn check(&self, sizes: &Sizes, inputs: &HashMap<String, Array>) -> Result<Vec<(String, f64)>, Error> {
        let pairs: Vec<(NodeId, NodeId)> = self.wrt.iter().map(|w| (w.node, w.gradient)).collect();
        let output = self.program.output_node();
        let mut errors = check_gradients(&self.program.graph, output, &pairs, sizes, inputs)?;
        for (error, wrt) in errors.iter_mut().zip(&self.wrt) {
            error.0 = wrt.name.clone();
        }
        Ok(errors)
    }

    /// The name of the output being differentiated.
    pub fn output_name(&self) -> &str {
        self.program.output_name()
    }

    /// The program, grown with the gradients' nodes.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The variables the gradients are with respect to, in order.
    pub fn wrt_names(&self) -> impl Iterator<Item = &str> {
        self.wrt.iter().map(|w| w.name.as_str())
    }
}
