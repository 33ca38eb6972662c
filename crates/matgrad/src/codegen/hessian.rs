//! `hessian(<inputs>)`: every block ∂²L/∂p∂q of the Hessian, in `jax.hessian`'s layout (the
//! axes of p, then those of q; a vector's one axis, a scalar's none), as a nested tuple in
//! the variables' order.
//!
//! Each block is written from its closed form, never by differentiating in Python: its
//! matrix form where it has one (`Xᵀ (d[:, None] * X)` for logistic regression), otherwise
//! its index form as a sum of `einsum`s, one per term, a δ as the identity (`(A + Aᵀ)[i,k]
//! δ[j,l]` is `einsum("ik,jl->ijkl", A + A.T, eye(m))`).

use super::{axes, python_name, unicode_name, Root, Writer};
use crate::jacobian::{Block, Blocks};
use crate::print::Notation;
use crate::Error;

/// What `hessian` computes: a result per block, p-major, and its docstring's parts.
pub(super) struct HessianFunction {
    pub roots: Vec<Root>,
    pub labels: Vec<String>,
    /// The nested tuple of the blocks' names: `((∂²L/∂x², ∂²L/∂x∂A), …)`.
    pub signature: String,
    /// The introduced names and every block's closed form, one a line.
    pub forms: String,
}

pub(super) fn function(blocks: &Blocks, writer: &Writer) -> Result<HessianFunction, Error> {
    let output = unicode_name(blocks.program.output_name());
    let name = |i: usize| unicode_name(&blocks.wrt[i].name);
    let mut forms = String::new();
    // The names of the maps' subexpressions (`dX w`) name nothing the code computes.
    let tangents: Vec<_> = blocks.wrt.iter().map(|w| w.tangent).collect();
    for (node, introduced) in &blocks.definitions {
        if blocks.program.graph.reachable(&[*node]).iter().any(|id| tangents.contains(id)) {
            continue;
        }
        forms.push_str(&format!(
            "    {} = {}\n",
            unicode_name(introduced),
            blocks.expression(*node, Notation::Unicode)
        ));
    }
    let (mut roots, mut labels, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for block in &blocks.blocks {
        let (p, q) = (block.p.unwrap_or(block.q), block.q);
        let label = match p == q {
            true => format!("∂²{output}/∂{}²", name(p)),
            false => format!("∂²{output}/∂{}∂{}", name(p), name(q)),
        };
        let root = root(writer, blocks, block).ok_or_else(|| {
            Error::request(format!(
                "the Hessian's block {label} has no closed form that generated code can compute (only its map on each basis matrix)"
            ))
        })?;
        forms.push_str(&match (&root, blocks.matrix(block, Notation::Unicode)) {
            (Root::Node(_), Some(matrix)) => format!("    {label} = {matrix}\n"),
            _ => format!("    {label}: {}\n", blocks.index(block, Notation::Unicode)),
        });
        roots.push(root);
        labels.push(format!("h_{}_{}", python_name(&blocks.wrt[p].name), python_name(&blocks.wrt[q].name)));
        if rows.len() <= p {
            rows.push(Vec::new());
        }
        rows[p].push(label);
    }
    let signature = rows.iter().map(|row| super::tuple(row)).collect::<Vec<_>>();
    Ok(HessianFunction { roots, labels, signature: super::tuple(&signature), forms })
}

/// The block's matrix form where it has one and its array has the block's axes (a row
/// vector's side is one axis in generated code, as in the gradients); else its index form's
/// contractions. None where the index form is only the map on a basis matrix.
fn root(writer: &Writer, blocks: &Blocks, block: &Block) -> Option<Root> {
    let graph = writer.graph;
    let mut wanted = axes(graph, block.of);
    wanted.extend(axes(graph, blocks.wrt[block.q].node));
    if let Some(matrix) = block.matrix.filter(|&m| axes(graph, m) == wanted) {
        return Some(Root::Node(matrix));
    }
    let (output, terms) = block.index.contractions(graph)?;
    Some(Root::Contractions(output, terms))
}
