//! The interpreter: every node reachable from the wanted ones, in id (topological) order.

use std::collections::HashMap;

use faer::linalg::solvers::DenseSolveCore;
use faer::Mat;

use super::sizes::Sizes;
use crate::ir::{Func, Graph, NodeId, Op};
use crate::Array;
use crate::Error;

/// The values of `wanted`, given every input the graph needs and the sizes of its dims.
pub fn evaluate(
    graph: &Graph,
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
    wanted: &[NodeId],
) -> Result<Vec<Array>, Error> {
    evaluate_with(graph, sizes, inputs, &[], wanted)
}

/// The values of `wanted` with some nodes' values given instead of computed: an
/// intermediate held as an independent leaf (the finite-difference check of ∂L/∂y
/// perturbs `y` itself, not what it is computed from).
pub fn evaluate_with(
    graph: &Graph,
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
    overrides: &[(NodeId, &Array)],
    wanted: &[NodeId],
) -> Result<Vec<Array>, Error> {
    let mut needed = vec![false; graph.len()];
    for id in wanted {
        needed[id.index()] = true;
    }
    let given = |id: NodeId| overrides.iter().find(|(node, _)| *node == id).map(|&(_, array)| array);
    for i in (0..graph.len()).rev() {
        let id = NodeId(i as u32);
        if needed[i] && given(id).is_none() {
            for child in graph.op(id).children() {
                needed[child.index()] = true;
            }
        }
    }
    let mut values: Vec<Option<Mat<f64>>> = vec![None; graph.len()];
    for i in (0..graph.len()).filter(|&i| needed[i]) {
        let id = NodeId(i as u32);
        let value = match given(id) {
            Some(array) => Mat::from_fn(array.rows, array.cols, |r, c| array.get(r, c)),
            None => node(graph, sizes, inputs, id, &values)?,
        };
        values[i] = Some(value);
    }
    Ok(wanted.iter().map(|id| to_array(values[id.index()].as_ref().expect("evaluated above"))).collect())
}

fn node(
    graph: &Graph,
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
    id: NodeId,
    values: &[Option<Mat<f64>>],
) -> Result<Mat<f64>, Error> {
    // Every evaluation comes through here (values, finite differences, every check of an
    // explanation or a page): a long one ends soon after the caller's time limit.
    crate::deadline::check()?;
    let value = |child: NodeId| values[child.index()].as_ref().expect("children come first");
    let no_size = || Error::internal(format!("a dimension of node {} has no size", id.0));
    Ok(match graph.op(id) {
        Op::Input(i) => {
            let input = graph.input(i);
            let array =
                inputs.get(&input.name).ok_or_else(|| Error::input(format!("no value for input `{}`", input.name)))?;
            if array.data.len() != array.rows * array.cols {
                return Err(Error::input(format!(
                    "input `{}` says it is {}×{} but holds {} entries",
                    input.name,
                    array.rows,
                    array.cols,
                    array.data.len()
                )));
            }
            let expected = sizes.shape(graph, graph.shape(id)).ok_or_else(no_size)?;
            if (array.rows, array.cols) != expected {
                return Err(Error::input(format!(
                    "input `{}` should be {}×{}, but the given array is {}×{}",
                    input.name, expected.0, expected.1, array.rows, array.cols
                )));
            }
            Mat::from_fn(array.rows, array.cols, |i, j| array.get(i, j))
        }
        Op::Const(c) => Mat::from_fn(1, 1, |_, _| c.0),
        Op::Eye(n) => {
            let n = sizes.dim(graph, n).ok_or_else(no_size)?;
            Mat::identity(n, n)
        }
        Op::Size(n) => {
            let n = sizes.dim(graph, n).ok_or_else(no_size)?;
            Mat::from_fn(1, 1, |_, _| n as f64)
        }
        Op::Fill(c, shape) => {
            let (rows, cols) = sizes.shape(graph, shape).ok_or_else(no_size)?;
            Mat::from_fn(rows, cols, |_, _| c.0)
        }
        Op::Neg(a) => map(value(a), |x| -x),
        Op::Add(a, b) => zip(value(a), value(b), |x, y| x + y),
        Op::Mul(a, b) => zip(value(a), value(b), |x, y| x * y),
        Op::Div(a, b) => zip(value(a), value(b), |x, y| x / y),
        Op::Pow(a, b) => zip(value(a), value(b), f64::powf),
        Op::MatMul(a, b) => value(a) * value(b),
        Op::Transpose(a) => value(a).transpose().to_owned(),
        Op::Map(f, a) => map(value(a), function(f)),
        Op::MatPow(a, k) => matrix_power(value(a), k),
        Op::Sum(a) => scalar(entries(value(a)).sum()),
        Op::Norm1(a) => scalar(entries(value(a)).map(f64::abs).sum()),
        Op::Norm2(a) => scalar(value(a).norm_l2()),
        Op::Trace(a) => {
            let m = value(a);
            scalar((0..m.nrows()).map(|i| m[(i, i)]).sum())
        }
        Op::Det(a) => scalar(value(a).determinant()),
        Op::LogDet(a) => scalar(log_abs_det(value(a))),
        Op::Inv(a) => value(a).partial_piv_lu().inverse(),
        Op::Diag(a) => {
            let v = value(a);
            Mat::from_fn(v.nrows(), v.nrows(), |i, j| if i == j { v[(i, 0)] } else { 0.0 })
        }
        Op::DiagPart(a) => {
            let m = value(a);
            Mat::from_fn(m.nrows(), 1, |i, _| m[(i, i)])
        }
        Op::Softmax(a) => {
            let v = value(a);
            let max = entries(v).fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = entries(v).map(|x| (x - max).exp()).sum();
            map(v, |x| (x - max).exp() / total)
        }
        Op::LogSumExp(a) => {
            let v = value(a);
            let max = entries(v).fold(f64::NEG_INFINITY, f64::max);
            if max.is_infinite() {
                scalar(max)
            } else {
                scalar(max + entries(v).map(|x| (x - max).exp()).sum::<f64>().ln())
            }
        }
    })
}

/// The scalar function behind each elementwise `Func`, written to be stable in `f64` (its
/// row of the function table, `Func::info`).
pub fn function(f: Func) -> fn(f64) -> f64 {
    f.info().scalar
}

fn scalar(value: f64) -> Mat<f64> {
    Mat::from_fn(1, 1, |_, _| value)
}

fn entries(m: &Mat<f64>) -> impl Iterator<Item = f64> + '_ {
    (0..m.ncols()).flat_map(move |j| (0..m.nrows()).map(move |i| m[(i, j)]))
}

fn map(a: &Mat<f64>, f: impl Fn(f64) -> f64) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| f(a[(i, j)]))
}

/// Elementwise, with a 1×1 operand broadcast (shape inference allows nothing else).
fn zip(a: &Mat<f64>, b: &Mat<f64>, f: impl Fn(f64, f64) -> f64) -> Mat<f64> {
    let is_scalar = |m: &Mat<f64>| m.nrows() == 1 && m.ncols() == 1;
    if is_scalar(a) && !is_scalar(b) {
        let x = a[(0, 0)];
        map(b, |y| f(x, y))
    } else if is_scalar(b) {
        let y = b[(0, 0)];
        map(a, |x| f(x, y))
    } else {
        Mat::from_fn(a.nrows(), a.ncols(), |i, j| f(a[(i, j)], b[(i, j)]))
    }
}

/// Square-and-multiply.
fn matrix_power(a: &Mat<f64>, mut k: u32) -> Mat<f64> {
    let mut result = Mat::<f64>::identity(a.nrows(), a.ncols());
    let mut base = a.clone();
    while k > 0 {
        if k & 1 == 1 {
            result = &result * &base;
        }
        k >>= 1;
        if k > 0 {
            base = &base * &base;
        }
    }
    result
}

/// log |det A| from the LU factors, which does not overflow where det A itself would.
fn log_abs_det(a: &Mat<f64>) -> f64 {
    let lu = a.partial_piv_lu();
    let u = lu.U();
    (0..u.nrows()).map(|i| u[(i, i)].abs().ln()).sum()
}

fn to_array(m: &Mat<f64>) -> Array {
    Array::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
}

/// Every node that some wanted nodes need, evaluated once, so that the value of a node after
/// another one is changed costs only the nodes that depend on the changed one: the
/// finite-difference check perturbs each input of a wide program (`L = x₁ + … + xₙ`) and
/// would otherwise evaluate the whole program twice per input.
pub struct Tape<'a> {
    graph: &'a Graph,
    sizes: &'a Sizes,
    inputs: &'a HashMap<String, Array>,
    values: Vec<Option<Mat<f64>>>,
    /// For each evaluated node, the evaluated nodes that read it.
    parents: Vec<Vec<NodeId>>,
}

impl<'a> Tape<'a> {
    /// The tape of every node `wanted` needs.
    pub fn new(
        graph: &'a Graph,
        sizes: &'a Sizes,
        inputs: &'a HashMap<String, Array>,
        wanted: &[NodeId],
    ) -> Result<Tape<'a>, Error> {
        let needed = graph.reachable(wanted);
        let mut values: Vec<Option<Mat<f64>>> = vec![None; graph.len()];
        let mut parents = vec![Vec::new(); graph.len()];
        for &id in &needed {
            values[id.index()] = Some(node(graph, sizes, inputs, id, &values)?);
            let mut children = graph.op(id).children().as_slice().to_vec();
            children.dedup();
            for child in children {
                parents[child.index()].push(id);
            }
        }
        Ok(Tape { graph, sizes, inputs, values, parents })
    }

    /// The value of an evaluated node.
    pub fn value(&self, id: NodeId) -> Array {
        to_array(self.values[id.index()].as_ref().expect("a node the tape evaluated"))
    }

    /// The largest magnitude of a scalar that `output`'s value is computed from, `output`
    /// included: rounding in each such scalar carries into the output, so this, not the
    /// output alone, sizes the noise of its finite differences (det(A B) − det(B A) is
    /// about zero, with the noise of each determinant).
    pub fn largest_scalar(&self, output: NodeId) -> f64 {
        self.graph
            .reachable(&[output])
            .into_iter()
            .filter_map(|id| self.values[id.index()].as_ref())
            .filter(|value| value.nrows() == 1 && value.ncols() == 1)
            .map(|value| value[(0, 0)].abs())
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
    }

    /// The evaluated nodes that depend on `x` (not `x` itself), in id (topological) order.
    pub fn dependents(&self, x: NodeId) -> Vec<NodeId> {
        let mut seen = vec![false; self.graph.len()];
        let mut stack = vec![x];
        let mut found = Vec::new();
        while let Some(id) = stack.pop() {
            for &parent in &self.parents[id.index()] {
                if !std::mem::replace(&mut seen[parent.index()], true) {
                    found.push(parent);
                    stack.push(parent);
                }
            }
        }
        found.sort();
        found
    }

    /// The whole of `output` with `x` held at `value` (an independent leaf, as in
    /// [`evaluate_with`]); `dependents` are [`Tape::dependents`] of `x`, the only nodes
    /// recomputed. The tape is left as it was.
    pub fn value_with(
        &mut self,
        x: NodeId,
        value: &Array,
        dependents: &[NodeId],
        output: NodeId,
    ) -> Result<Array, Error> {
        let mut saved = Vec::with_capacity(dependents.len() + 1);
        let given = Mat::from_fn(value.rows, value.cols, |r, c| value.get(r, c));
        saved.push((x, self.values[x.index()].replace(given)));
        let mut result = Ok(());
        for &id in dependents {
            match node(self.graph, self.sizes, self.inputs, id, &self.values) {
                Ok(new) => saved.push((id, self.values[id.index()].replace(new))),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        let read = self.values[output.index()].as_ref().map(to_array);
        for (id, old) in saved.into_iter().rev() {
            self.values[id.index()] = old;
        }
        result.map(|()| read.expect("the output is evaluated"))
    }
}
