//! Jacobians and Hessians as blocks, each the derivative of one value with respect to one
//! variable: ∂y/∂x for a Jacobian, ∂(∂L/∂p)/∂q for a Hessian's block (p, q).
//!
//! A block is first its linear map: the differential of the value in the direction of a
//! symbolic tangent dq (an input of the graph, `diff::differential` forward over the
//! gradient's reverse sweep for a Hessian), which exists for every block, whatever its
//! number of axes. From the map come the other forms: matrix notation where the block has
//! at most two axes (`matrix::matrix_of` for a vector with respect to a vector, the
//! differential at dq = 1 for a scalar variable, a pull-back for a scalar value), index
//! notation always (`index`), and the Kronecker (vec) form where it is unambiguous. All are
//! graph nodes, so the numbers come from the same expressions the forms print.

mod index;
mod matrix;

use std::collections::{HashMap, HashSet};

use crate::diff::{differential, pullback};
use crate::ir::{Constant, Graph, NodeId, Op, Shape};
use crate::print::{abbreviations, fresh_name, print, show_name, unicode_name, Notation, DIFFERENTIAL, INCREMENT};
use crate::simplify::build;
use crate::{Error, Gradient, Program};

use index::{index_form, kronecker, sign, KroneckerTerm, Writer};
pub(crate) use index::{Contraction, Index, IndexForm, Operand};

/// A variable of the blocks, with the input that stands for its differential.
#[derive(Debug, Clone)]
pub(crate) struct Variable {
    pub name: String,
    pub node: NodeId,
    pub tangent: NodeId,
}

/// One block: the derivative of `of` with respect to the variable `wrt`.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// For a Hessian, the first variable p (`of` is ∂L/∂p).
    pub p: Option<usize>,
    /// The variable differentiated with respect to, an index into `wrt`.
    pub q: usize,
    /// The value differentiated: the output, or a gradient.
    pub of: NodeId,
    /// d(of) in the direction of q's tangent; None where it is zero.
    pub map: Option<NodeId>,
    /// The block in matrix notation, where it has at most two axes: a node whose entries in
    /// column-major order are the block's, value axes first (see [`Blocks::jacobian_order`]).
    pub matrix: Option<NodeId>,
    pub index: IndexForm,
    /// Σ c·scalars·(M ⊗ F): the Kronecker (vec) form, where the block has one.
    pub kronecker: Option<Vec<KroneckerTerm>>,
}

/// Jacobian or Hessian blocks of a program, ready to print and evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Blocks {
    /// The program, its graph grown with the gradients, tangents and blocks.
    pub program: Program,
    pub wrt: Vec<Variable>,
    pub blocks: Vec<Block>,
    /// Introduced names for repeated subexpressions, in definition order.
    pub definitions: Vec<(NodeId, String)>,
    definition_names: HashMap<NodeId, String>,
    /// Every name an index letter must not look like.
    taken: HashSet<String>,
    pub kind: Derivative,
    /// The symbol of index notation (canonical): `J` or `H`, or numbered (`J₁`) where the
    /// program has a value of that name.
    pub symbol: String,
    /// The Kronecker delta's name (canonical): `delta`, or numbered (`δ₁`) where the program
    /// has a `δ`.
    pub delta: String,
}

/// What the blocks are the derivative of: a Jacobian's or a Hessian's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Derivative {
    Jacobian,
    Hessian,
}

impl Derivative {
    /// The symbol of index notation, where the program leaves it free.
    fn symbol(self) -> &'static str {
        match self {
            Derivative::Jacobian => "J",
            Derivative::Hessian => "H",
        }
    }
}

/// The Jacobian of an output of any shape: one block per variable.
#[derive(Debug, Clone)]
pub struct Jacobian {
    pub(crate) blocks: Blocks,
}

/// The Hessian of a scalar output: a block for every pair of variables.
#[derive(Debug, Clone)]
pub struct Hessian {
    pub(crate) blocks: Blocks,
}

impl Program {
    /// The Jacobian of the output with respect to each name in `wrt` (inputs or assigned
    /// names, an assigned name held as an independent leaf); all inputs when `wrt` is empty.
    pub fn jacobian(&self, wrt: &[&str]) -> Result<Jacobian, Error> {
        let (mut program, variables) = self.with_variables(wrt)?;
        let output = program.output_node();
        let taken = program.names_in_use();
        let wrt = tangents(&mut program.graph, variables, &taken);
        let pairs: Vec<(Option<usize>, usize, NodeId)> = (0..wrt.len()).map(|q| (None, q, output)).collect();
        Ok(Jacobian { blocks: Blocks::new(program, wrt, &pairs, Derivative::Jacobian) })
    }

    /// The Hessian of the scalar output: every block ∂²L/∂p∂q for p, q in `wrt` (as for
    /// [`Program::jacobian`]), the derivative of the gradient ∂L/∂p with respect to q.
    pub fn hessian(&self, wrt: &[&str]) -> Result<Hessian, Error> {
        let output = self.output_node();
        if !self.graph.is_scalar(output) {
            let what = self.graph.dims.describe(self.graph.shape(output));
            return Err(self.not_scalar(&what, "a Hessian"));
        }
        Ok(self.gradient(wrt)?.hessian())
    }
}

impl Gradient {
    /// The Hessian of this gradient's scalar output with respect to its variables: its graph
    /// grown (so every node id of the gradient stays valid in the Hessian's graph, which
    /// lets generated code write the gradients and the blocks from one graph).
    pub(crate) fn hessian(&self) -> Hessian {
        let mut program = self.program.clone();
        let variables = self.wrt.iter().map(|w| (w.name.clone(), w.node)).collect();
        let taken = program.names_in_use();
        let wrt = tangents(&mut program.graph, variables, &taken);
        let pairs: Vec<(Option<usize>, usize, NodeId)> = (0..wrt.len())
            .flat_map(|p| (0..wrt.len()).map(move |q| (p, q)))
            .map(|(p, q)| (Some(p), q, self.wrt[p].gradient))
            .collect();
        Hessian { blocks: Blocks::new(program, wrt, &pairs, Derivative::Hessian) }
    }
}

/// Each variable with an input for its differential, `ⅆx`, printed dx; where a name in
/// `taken` (the program's) prints dx too, `Δx`.
pub(crate) fn tangents(graph: &mut Graph, variables: Vec<(String, NodeId)>, taken: &HashSet<String>) -> Vec<Variable> {
    let shown: HashSet<String> = taken.iter().map(|name| unicode_name(name)).collect();
    variables
        .into_iter()
        .map(|(name, node)| {
            let shape = graph.shape(node);
            let differential = format!("{DIFFERENTIAL}{name}");
            let symbol = match shown.contains(&unicode_name(&differential)) {
                true => format!("{INCREMENT}{name}"),
                false => differential,
            };
            let tangent = graph.add_input(&symbol, shape);
            Variable { name, node, tangent }
        })
        .collect()
}

/// How many axes a block's side has: none for a scalar, one for a vector, two otherwise.
pub(crate) fn axes(graph: &Graph, id: NodeId) -> usize {
    let shape = graph.shape(id);
    if graph.is_scalar(id) {
        0
    } else if graph.dims.is_vector(shape) {
        1
    } else {
        2
    }
}

impl Blocks {
    fn new(
        mut program: Program,
        wrt: Vec<Variable>,
        pairs: &[(Option<usize>, usize, NodeId)],
        kind: Derivative,
    ) -> Blocks {
        let graph = &mut program.graph;
        let blocks: Vec<Block> = pairs
            .iter()
            .map(|&(p, q, of)| {
                let variable = &wrt[q];
                let map = differential(graph, of, &[(variable.node, variable.tangent)]);
                let matrix = matrix_form(graph, of, variable, map);
                let index = index_form(graph, of, map, variable.tangent);
                let kronecker = kronecker(graph, &index);
                Block { p, q, of, map, matrix, index, kronecker }
            })
            .collect();
        let roots: Vec<NodeId> = blocks.iter().flat_map(|b| b.matrix.into_iter().chain(b.map)).collect();
        // Every name the blocks print beside the program's is fresh, and they are fresh from
        // each other: the symbol, the δ, then the introduced names; and no introduced name is
        // d, which would read as a differential's d (`d xᵀ` beside `dx`).
        let mut taken = program.names_in_use();
        taken.insert("d".to_string());
        let symbol = fresh_name(&[kind.symbol()], &taken);
        taken.insert(symbol.clone());
        let delta = fresh_name(&["delta"], &taken);
        taken.insert(delta.clone());
        let definitions = abbreviations(&program.graph, &roots, &[], &taken);
        taken.extend(definitions.iter().map(|(_, name)| name.clone()));
        let definition_names = definitions.iter().cloned().collect();
        Blocks { program, wrt, blocks, definitions, definition_names, taken, kind, symbol, delta }
    }

    /// The name a printed node goes by: the user's, a tangent's, or an introduced one.
    pub(crate) fn name_of(&self, id: NodeId) -> Option<String> {
        self.program.graph.name(id).map(str::to_string).or_else(|| self.definition_names.get(&id).cloned())
    }

    /// `id`'s expression in `notation`, with the user's and the introduced names.
    pub(crate) fn expression(&self, id: NodeId, notation: Notation) -> String {
        let namer = |node: NodeId| self.name_of(node);
        print(&self.program.graph, id, notation, &namer)
    }

    /// The block in matrix notation (a definition or a user's value by its name).
    pub(crate) fn matrix(&self, block: &Block, notation: Notation) -> Option<String> {
        let id = block.matrix?;
        Some(match self.definition_names.get(&id).map(String::as_str).or(self.program.graph.name(id)) {
            Some(name) => show_name(name, notation),
            None => self.expression(id, notation),
        })
    }

    /// The block as a linear map: `dA ↦ A dA + dA Aᵀ`.
    pub(crate) fn map(&self, block: &Block, notation: Notation) -> String {
        let tangent = self.program.graph.name(self.wrt[block.q].tangent).unwrap_or_default();
        let tangent = show_name(tangent, notation);
        let image = match block.map {
            Some(map) => self.expression(map, notation),
            None => "0".to_string(),
        };
        let arrow = if notation == Notation::Latex { "\\mapsto" } else { "↦" };
        format!("{tangent} {arrow} {image}")
    }

    /// The block in index notation: `H[i,j,k,l] = (A + Aᵀ)[i,k] δ[j,l]`.
    pub(crate) fn index(&self, block: &Block, notation: Notation) -> String {
        let namer = |node: NodeId| self.name_of(node);
        let writer = Writer {
            graph: &self.program.graph,
            namer: &namer,
            taken: &self.taken,
            symbol: &self.symbol,
            delta: &self.delta,
        };
        writer.write(&block.index, notation)
    }

    /// The block's Kronecker form, where it has one: `Bᵀ ⊗ A`.
    pub(crate) fn kronecker(&self, block: &Block, notation: Notation) -> Option<String> {
        let terms = block.kronecker.as_ref()?;
        let operand = |id: NodeId| {
            let text = self.name_of(id).map_or_else(|| self.expression(id, notation), |n| show_name(&n, notation));
            if text.contains(' ') {
                format!("({text})")
            } else {
                text
            }
        };
        let graph = &self.program.graph;
        let is_identity = |id: NodeId| matches!(graph.op(id), Op::Eye(_)) && self.name_of(id).is_none();
        let mut out = String::new();
        for (n, KroneckerTerm { coefficient, scalars, left, right }) in terms.iter().enumerate() {
            out.push_str(sign(n, *coefficient < 0.0, notation));
            let mut factors: Vec<String> = Vec::new();
            if coefficient.abs() != 1.0 {
                factors.push(format!("{}", coefficient.abs()));
            }
            factors.extend(scalars.iter().map(|&s| operand(s)));
            // I ⊗ I is the identity of the product's size, which prints as `I` as every
            // identity does.
            let (product, atomic) = if is_identity(*left) && is_identity(*right) {
                (operand(*left), true)
            } else {
                let times = if notation == Notation::Latex { "\\otimes" } else { "⊗" };
                (format!("{} {times} {}", operand(*left), operand(*right)), false)
            };
            if factors.is_empty() {
                out.push_str(&product);
            } else if atomic {
                out.push_str(&format!("{} {product}", factors.join(" ")));
            } else {
                out.push_str(&format!("{} ({product})", factors.join(" ")));
            }
        }
        Some(out)
    }
}

/// The block in matrix notation, where it has at most two axes: for a scalar variable the
/// differential at dq = 1; for a scalar value its pull-back (a gradient, of q's shape); for
/// a vector with respect to a vector the matrix of the map.
fn matrix_form(graph: &mut Graph, of: NodeId, variable: &Variable, map: Option<NodeId>) -> Option<NodeId> {
    let (value_axes, variable_axes) = (axes(graph, of), axes(graph, variable.node));
    if value_axes + variable_axes > 2 {
        return None;
    }
    let one = graph.constant(1.0);
    let zeros = |graph: &mut Graph, shape: Shape| build(graph, Op::Fill(Constant(0.0), shape));
    if variable_axes == 0 {
        let shape = graph.shape(of);
        return Some(match differential(graph, of, &[(variable.node, one)]) {
            Some(d) => d,
            None => zeros(graph, shape),
        });
    }
    if value_axes == 0 {
        return Some(pullback(graph, of, one, &[variable.node]).gradients[0].1);
    }
    match map {
        Some(map) => matrix::matrix_of(graph, map, variable.tangent),
        None => {
            let shape = Shape::new(graph.shape(of).rows, graph.shape(variable.node).rows);
            Some(zeros(graph, shape))
        }
    }
}
