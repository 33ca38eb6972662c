//! Explanations of how the chain rule runs over a program, in three complementary views:
//!
//! 1. the computation graph of the named values (inputs and statements) and their uses;
//! 2. backpropagation: each value's adjoint as a sum over its children of the child's
//!    adjoint pulled back through the edge, symbolically, in matrix form, and simplified;
//! 3. differentials: d of each statement, then back-substitution from dL, one statement at a
//!    time, until dL = G_A : dA + …, from which the gradients are read off.
//!
//! Every quantity is a node of the program's graph: the adjoints come from the gradient's
//! sweep, each edge's term from `diff::pullback` with a symbolic cotangent (an input named
//! `w̄`), each differential from `diff::differential` with symbolic tangents (`dA`). So each
//! step can be printed in any notation and evaluated, and [`check`] evaluates them all.

mod check;
mod render;
mod second;

pub use check::{check, Checked, STEP_TOLERANCE};
pub use render::{render, sections, Format};
pub use second::SecondOrder;

use std::collections::{HashMap, HashSet};

use crate::diff::{differential, pullback};
use crate::gradient::Gradient;
use crate::ir::{Graph, NodeId};
use crate::print::abbreviations_after;
use crate::print::diagram::{Diagram, DiagramNode, NodeKind};
use crate::print::unicode_name;
use crate::Error;
use crate::Program;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VertexKind {
    Input,
    Intermediate,
    Output,
}

/// A named value: an input or a statement the output depends on.
#[derive(Debug, Clone)]
pub struct Vertex {
    pub name: String,
    pub node: NodeId,
    pub kind: VertexKind,
    /// The named values its statement uses (empty for inputs), in order of first use.
    pub uses: Vec<usize>,
    /// The input standing for its adjoint in symbolic terms (`w̄`); None for inputs.
    pub bar: Option<NodeId>,
    /// The input standing for its differential (`dw`).
    pub tangent: NodeId,
}

/// One term of a backpropagation sum: what `parent`'s adjoint contributes to a vertex.
#[derive(Debug, Clone)]
pub struct Term {
    pub parent: usize,
    /// The pull-back of the parent's symbolic adjoint, e.g. `w̄ zᵀ`.
    pub matrix_form: NodeId,
}

/// A vertex's adjoint: the sum over its uses, and the simplified result.
#[derive(Debug, Clone)]
pub struct AdjointStep {
    pub vertex: usize,
    pub terms: Vec<Term>,
    /// The adjoint in closed form (the gradient, for an input).
    pub adjoint: NodeId,
}

/// One back-substitution: `vertex`'s differential is substituted into dL, and the result
/// is written again as a sum of Frobenius products `G : dv`.
#[derive(Debug, Clone)]
pub struct Substitution {
    pub vertex: usize,
    /// dL before: (vertex, G) pairs, `vertex` among them.
    pub before: Vec<(usize, NodeId)>,
    /// dL after distributing: (vertex, G) pairs.
    pub after: Vec<(usize, NodeId)>,
}

#[derive(Debug, Clone)]
pub struct Explanation {
    pub(crate) gradient: Gradient,
    /// Inputs first, then statements, in program order (a topological order).
    pub(crate) vertices: Vec<Vertex>,
    /// Reverse topological order, starting with the output.
    pub(crate) backprop: Vec<AdjointStep>,
    /// The differential of each statement in program order: (vertex, d vertex).
    pub(crate) differentials: Vec<(usize, NodeId)>,
    /// dL in terms of the output statement's uses, before any substitution.
    pub(crate) start: Vec<(usize, NodeId)>,
    pub(crate) substitutions: Vec<Substitution>,
    /// Short names for repeated subexpressions of everything printed.
    pub(crate) definitions: Vec<(NodeId, String)>,
    /// The same, by node, for printing.
    definition_names: HashMap<NodeId, String>,
    /// The second order (`explain --hessian`): every step above differentiated in a
    /// direction of the variables.
    pub(crate) second: Option<SecondOrder>,
}

impl Explanation {
    pub(crate) fn graph(&self) -> &Graph {
        &self.gradient.program.graph
    }

    pub(crate) fn output(&self) -> usize {
        self.vertices.len() - 1
    }

    /// The gradients the back-substitution reads off, by vertex: an intermediate variable's
    /// where its differential is substituted, when every use of it has been, so that it is
    /// its whole adjoint, and the output's, 1, when it is a variable itself (the later value
    /// first, as in the lines); then each input's coefficient in the last line, in its order.
    pub(crate) fn read_off(&self) -> Vec<(usize, NodeId)> {
        let mut gradients: Vec<(usize, NodeId)> = Vec::new();
        for w in &self.gradient.wrt {
            let Some(i) = self.vertices.iter().position(|v| v.node == w.node) else { continue };
            let coefficient = match self.vertices[i].kind {
                VertexKind::Input => None,
                VertexKind::Intermediate => self
                    .substitutions
                    .iter()
                    .find(|s| s.vertex == i)
                    .and_then(|s| s.before.iter().find(|&&(v, _)| v == i))
                    .map(|&(_, g)| g),
                VertexKind::Output => self.backprop.iter().find(|step| step.vertex == i).map(|step| step.adjoint),
            };
            if let Some(g) = coefficient.filter(|_| !gradients.iter().any(|&(v, _)| v == i)) {
                gradients.push((i, g));
            }
        }
        gradients.sort_by_key(|&(v, _)| std::cmp::Reverse(v));
        let last = self.substitutions.last().map_or(&self.start, |s| &s.after);
        gradients.extend(last.iter().copied().filter(|&(v, _)| self.vertices[v].kind == VertexKind::Input));
        gradients
    }

    /// The name a node prints as: the user's, a symbol's, or an introduced one.
    pub(crate) fn name_of(&self, id: NodeId) -> Option<String> {
        self.graph().name(id).map(str::to_string).or_else(|| self.definition_names.get(&id).cloned())
    }
}

impl Program {
    /// Explains the gradient of the output with respect to `wrt` (all inputs when empty).
    pub fn explain(&self, wrt: &[&str]) -> Result<Explanation, Error> {
        let mut gradient = self.gradient(wrt)?;
        let program = gradient.program.clone();
        let output = program.output_node();
        let ancestors: HashSet<NodeId> = program.graph.reachable(&[output]).into_iter().collect();
        let adjoints = gradient.sweep.adjoints.clone();
        let needed = |id: NodeId| adjoints.get(id.index()).copied().flatten().is_some();

        // The named values, with each statement's uses (the named nodes its expression reads).
        let mut vertices: Vec<Vertex> = Vec::new();
        let mut index: HashMap<NodeId, usize> = HashMap::new();
        let mut taken: HashSet<String> = program.inputs.iter().map(|v| v.name.clone()).collect();
        taken.extend(program.statements.iter().map(|s| s.name.clone()));
        let graph = &mut gradient.program.graph;
        for input in &program.inputs {
            if ancestors.contains(&input.node) && needed(input.node) {
                index.insert(input.node, vertices.len());
                let tangent = fresh_input(graph, &differential_name(&input.name), input.node, &mut taken);
                vertices.push(Vertex {
                    name: input.name.clone(),
                    node: input.node,
                    kind: VertexKind::Input,
                    uses: Vec::new(),
                    bar: None,
                    tangent,
                });
            }
        }
        // The statements up to the output: a later one may name a value the output computes
        // (`r = o - t` after `L = ‖o − t‖²`, with `--of L`), but the chain rule runs through
        // the output's own statements, and the output's vertex comes last.
        for statement in &program.statements[..=program.output] {
            let node = statement.node;
            // An alias statement (`z = y`) shares its node with an earlier one; a constant
            // (`c = 2`) is not a value the chain rule runs through.
            let constant = !graph.reachable(&[node]).iter().any(|&id| matches!(graph.op(id), crate::ir::Op::Input(_)));
            if !ancestors.contains(&node) || index.contains_key(&node) || !needed(node) || constant {
                continue;
            }
            let uses: Vec<usize> = named_uses(graph, node).into_iter().filter_map(|u| index.get(&u).copied()).collect();
            let kind = if node == output { VertexKind::Output } else { VertexKind::Intermediate };
            let bar = fresh_input(graph, &format!("{}\u{304}", statement.name), node, &mut taken);
            let tangent = fresh_input(graph, &differential_name(&statement.name), node, &mut taken);
            index.insert(node, vertices.len());
            vertices.push(Vertex { name: statement.name.clone(), node, kind, uses, bar: Some(bar), tangent });
        }

        // Each edge's term: the parent's symbolic adjoint pulled back to the child.
        let mut terms: Vec<Vec<Term>> = vec![Vec::new(); vertices.len()];
        for (parent, vertex) in vertices.iter().enumerate() {
            let Some(bar) = vertex.bar else { continue };
            let leaves: Vec<NodeId> = vertex.uses.iter().map(|&u| vertices[u].node).collect();
            let pulled = pullback(graph, vertex.node, bar, &leaves);
            for (&child, &(_, term)) in vertex.uses.iter().zip(&pulled.gradients) {
                terms[child].push(Term { parent, matrix_form: term });
            }
        }
        let adjoint_of = |id: NodeId| adjoints[id.index()].expect("needed above");
        let mut backprop = Vec::new();
        for (i, vertex) in vertices.iter().enumerate().rev() {
            let mut vertex_terms = terms[i].clone();
            vertex_terms.sort_by_key(|t| std::cmp::Reverse(t.parent));
            backprop.push(AdjointStep { vertex: i, terms: vertex_terms, adjoint: adjoint_of(vertex.node) });
        }

        // Differentials, and back-substitution from dL.
        let mut differentials = Vec::new();
        for (i, vertex) in vertices.iter().enumerate() {
            if vertex.kind == VertexKind::Input {
                continue;
            }
            let tangents: Vec<(NodeId, NodeId)> =
                vertex.uses.iter().map(|&u| (vertices[u].node, vertices[u].tangent)).collect();
            if let Some(d) = differential(graph, vertex.node, &tangents) {
                differentials.push((i, d));
            }
        }
        let pull = |graph: &mut Graph, vertex: &Vertex, cotangent: NodeId| -> Vec<(usize, NodeId)> {
            let leaves: Vec<NodeId> = vertex.uses.iter().map(|&u| vertices[u].node).collect();
            let pulled = pullback(graph, vertex.node, cotangent, &leaves);
            vertex.uses.iter().copied().zip(pulled.gradients.iter().map(|&(_, g)| g)).collect()
        };
        // An output that no input reaches (`L = 3`) has no chain rule to explain.
        if vertices.last().is_none_or(|v| v.kind != VertexKind::Output) {
            return Err(Error::request(format!(
                "the output `{}` does not depend on any input",
                program.output_statement().name
            ))
            .with_hint("there is no chain rule to explain: give the output an input, e.g. `L = sum(x)`"));
        }
        let one = graph.constant(1.0);
        let output_index = vertices.len() - 1;
        let start = pull(graph, &vertices[output_index], one);
        let mut state = start.clone();
        let mut substitutions = Vec::new();
        // Each step is linear in the state (which it copies to show it), never in the state
        // times the number of inputs: a wide sum has thousands of inputs in its state.
        for i in (0..output_index).rev() {
            if vertices[i].kind == VertexKind::Input {
                continue;
            }
            let Some(position) = state.iter().position(|&(v, _)| v == i) else { continue };
            crate::deadline::check()?;
            let before = state.clone();
            let (_, g) = state.remove(position);
            let mut index: HashMap<usize, usize> = state.iter().enumerate().map(|(k, &(v, _))| (v, k)).collect();
            for (child, term) in pull(graph, &vertices[i], g) {
                match index.get(&child) {
                    Some(&k) => state[k].1 = crate::simplify::build(graph, crate::ir::Op::Add(state[k].1, term)),
                    None => {
                        index.insert(child, state.len());
                        state.push((child, term));
                    }
                }
            }
            state.sort_by_key(|&(v, _)| std::cmp::Reverse(v));
            substitutions.push(Substitution { vertex: i, before, after: state.clone() });
        }

        // Names for what repeats across everything printed.
        // The matrix-form terms are left out: they show each edge's structure, which names
        // for their parts would hide.
        let mut roots: Vec<NodeId> = backprop.iter().map(|s| s.adjoint).collect();
        roots.extend(differentials.iter().map(|&(_, d)| d));
        roots.extend(substitutions.iter().flat_map(|s| s.after.iter().map(|&(_, g)| g)));
        let mut names = taken.clone();
        names.extend(gradient.program.graph.dims.symbols().map(|(_, n)| n.to_string()));
        names.extend(["L", "I", "G"].map(String::from));
        // A coefficient that a later back-substitution line extends (G_A growing by a term
        // per use of A) gets a name, so that each line is short and the whole is linear.
        let graph = &gradient.program.graph;
        let mut growing = Vec::new();
        for pair in substitutions.windows(2) {
            let next: HashMap<usize, NodeId> = pair[1].after.iter().copied().collect();
            for &(v, g) in &pair[0].after {
                let extended = next
                    .get(&v)
                    .is_some_and(|&later| later != g && graph.op(later).children().into_iter().any(|c| c == g));
                if extended && graph.name(g).is_none() && matches!(graph.op(g), crate::ir::Op::Add(..)) {
                    growing.push(g);
                }
            }
        }
        // The gradient's names (p, q, r) are kept: the explanation is shown beside the gradient.
        let definitions = abbreviations_after(graph, &roots, &growing, &names, &gradient.definitions);
        let definition_names = definitions.iter().cloned().collect();
        Ok(Explanation {
            gradient,
            vertices,
            backprop,
            differentials,
            start,
            substitutions,
            definitions,
            definition_names,
            second: None,
        })
    }

    /// Explains the Hessian of the output with respect to `wrt` (inputs or assigned names, as
    /// for [`Program::hessian`]; all inputs when empty): the first-order explanation, then
    /// its second order — the differential of the gradient in a direction dx, statement by
    /// statement, each step checked.
    pub fn explain_hessian(&self, wrt: &[&str]) -> Result<Explanation, Error> {
        self.explain(wrt)?.with_second_order()
    }
}

/// The name of the symbol for the differential of a value or of a symbol called `name`: a
/// d before its name in every notation, whatever the name (dλ, `d\lambda` for `lambda`;
/// dw̄, `d\bar{w}` for the adjoint w̄; `d\mathit{do}` for a value called `do`).
pub(crate) fn differential_name(name: &str) -> String {
    format!("{}{name}", crate::print::ITALIC_DIFFERENTIAL)
}

/// How a symbol's name reads, the way a user could spell a name: `dW` for the
/// differential of W, which a user's own `dW` must not be mistaken for.
pub(crate) fn spelled(name: &str) -> String {
    name.replace(crate::print::ITALIC_DIFFERENTIAL, "d")
}

/// An input for a symbol of `like`'s shape, called `name`, primed until it reads as no
/// name in `taken` (spelled as [`spelled`] spells it): `dW′` beside a user's `dW`.
fn fresh_input(graph: &mut Graph, name: &str, like: NodeId, taken: &mut HashSet<String>) -> NodeId {
    let mut name = name.to_string();
    while taken.contains(&spelled(&name)) {
        name.push('′');
    }
    taken.insert(spelled(&name));
    let shape = graph.shape(like);
    graph.add_input(&name, shape)
}

/// The named nodes `root`'s expression reads, not looking inside them, in order of id.
fn named_uses(graph: &Graph, root: NodeId) -> Vec<NodeId> {
    let mut found = Vec::new();
    let mut stack: Vec<NodeId> = graph.op(root).children().into_iter().collect();
    let mut seen = HashSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if graph.name(id).is_some() {
            found.push(id);
        } else {
            stack.extend(graph.op(id).children());
        }
    }
    found.sort();
    found
}

/// The graph of named values, with each value's norm and its adjoint's norm.
pub fn diagram(explanation: &Explanation, checked: &Checked) -> Diagram {
    let graph = explanation.graph();
    let nodes = explanation
        .vertices
        .iter()
        .enumerate()
        .map(|(i, v)| DiagramNode {
            title: unicode_name(&v.name),
            lines: vec![
                graph.dims.show_shape(graph.shape(v.node)),
                format!("‖{}‖ = {}", unicode_name(&v.name), render::format_norm(checked.values[i].norm())),
                format!("‖{}\u{304}‖ = {}", unicode_name(&v.name), render::format_norm(checked.adjoints[i].norm())),
            ],
            kind: match v.kind {
                VertexKind::Input => NodeKind::Input,
                VertexKind::Intermediate => NodeKind::Intermediate,
                VertexKind::Output => NodeKind::Output,
            },
        })
        .collect();
    let edges = explanation
        .vertices
        .iter()
        .enumerate()
        .flat_map(|(parent, v)| v.uses.iter().map(move |&child| (child, parent)))
        .collect();
    Diagram { nodes, edges }
}
