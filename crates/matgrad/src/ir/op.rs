//! The closed set of operations a graph node can be, and the shape rule of each.
//!
//! Every pass matches on [`Op`] without a `_ =>` arm, so a new operation does not compile
//! until shape inference, evaluation, printing and differentiation all handle it.
//! Elementwise binary ops (`Add`, `Mul`, `Div`, `Pow`) take two operands of one shape, or a
//! scalar and anything (only scalars broadcast).

pub use super::func::Func;
use super::graph::NodeId;
use super::shape::{Dim, Dims, Shape};

/// A scalar constant, hashed and compared by its bits so that nodes can be hash-consed.
#[derive(Debug, Clone, Copy)]
pub struct Constant(pub f64);

impl PartialEq for Constant {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Constant {}
impl std::hash::Hash for Constant {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

/// One node's operation; children are earlier nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// The `i`-th input of the graph (see `Graph::input_name`).
    Input(u32),
    /// A scalar constant.
    Const(Constant),
    /// The identity matrix of the given size.
    Eye(Dim),
    /// The size a dimension stands for, as a scalar: `n` in `n 𝟙` (from `𝟙ₙᵀ 𝟙ₙ`), or a
    /// declared size the program uses as a number.
    Size(Dim),
    /// An array with every entry `c`: `zeros(m, n)`, `ones(n)`; differentiation makes them
    /// too (the gradient of `sum`, a gradient that does not flow).
    Fill(Constant, Shape),
    Neg(NodeId),
    Add(NodeId, NodeId),
    /// Elementwise (Hadamard) product; a scalar operand makes it a scaling.
    Mul(NodeId, NodeId),
    Div(NodeId, NodeId),
    Pow(NodeId, NodeId),
    MatMul(NodeId, NodeId),
    Transpose(NodeId),
    Map(Func, NodeId),
    /// A square matrix to a non-negative integer power (2 and up; lowering turns 0 and 1 into
    /// `Eye` and the matrix itself).
    MatPow(NodeId, u32),
    /// The sum of all entries.
    Sum(NodeId),
    /// The sum of absolute values of all entries.
    Norm1(NodeId),
    /// Euclidean norm of a vector, Frobenius norm of a matrix.
    Norm2(NodeId),
    Trace(NodeId),
    Det(NodeId),
    /// log |det X|.
    LogDet(NodeId),
    Inv(NodeId),
    /// A vector to the diagonal matrix with it on the diagonal.
    Diag(NodeId),
    /// A square matrix to the vector of its diagonal.
    DiagPart(NodeId),
    Softmax(NodeId),
    LogSumExp(NodeId),
}

/// Why an operation cannot take operands of these shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeError {
    /// A binary operation whose operand shapes do not fit together.
    Operands { left: Shape, right: Shape },
    /// The operation needs a square matrix.
    NotSquare(Shape),
    /// The operation needs a vector.
    NotVector(Shape),
}

impl Op {
    /// The children, in order.
    pub fn children(&self) -> Children {
        let mut out = Children { ids: [NodeId(0); 2], len: 0 };
        let mut push = |id: NodeId| {
            out.ids[out.len] = id;
            out.len += 1;
        };
        match *self {
            Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..) => {}
            Op::Neg(a)
            | Op::Transpose(a)
            | Op::Map(_, a)
            | Op::MatPow(a, _)
            | Op::Sum(a)
            | Op::Norm1(a)
            | Op::Norm2(a)
            | Op::Trace(a)
            | Op::Det(a)
            | Op::LogDet(a)
            | Op::Inv(a)
            | Op::Diag(a)
            | Op::DiagPart(a)
            | Op::Softmax(a)
            | Op::LogSumExp(a) => push(a),
            Op::Add(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) | Op::MatMul(a, b) => {
                push(a);
                push(b)
            }
        }
        out
    }

    /// The shape of this operation's result, unifying dimensions as needed.
    /// The same operation on other children: `f` of each.
    pub fn map_children(self, mut f: impl FnMut(NodeId) -> NodeId) -> Op {
        match self {
            Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..) => self,
            Op::Neg(a) => Op::Neg(f(a)),
            Op::Transpose(a) => Op::Transpose(f(a)),
            Op::Map(func, a) => Op::Map(func, f(a)),
            Op::MatPow(a, k) => Op::MatPow(f(a), k),
            Op::Sum(a) => Op::Sum(f(a)),
            Op::Norm1(a) => Op::Norm1(f(a)),
            Op::Norm2(a) => Op::Norm2(f(a)),
            Op::Trace(a) => Op::Trace(f(a)),
            Op::Det(a) => Op::Det(f(a)),
            Op::LogDet(a) => Op::LogDet(f(a)),
            Op::Inv(a) => Op::Inv(f(a)),
            Op::Diag(a) => Op::Diag(f(a)),
            Op::DiagPart(a) => Op::DiagPart(f(a)),
            Op::Softmax(a) => Op::Softmax(f(a)),
            Op::LogSumExp(a) => Op::LogSumExp(f(a)),
            Op::Add(a, b) => Op::Add(f(a), f(b)),
            Op::Mul(a, b) => Op::Mul(f(a), f(b)),
            Op::Div(a, b) => Op::Div(f(a), f(b)),
            Op::Pow(a, b) => Op::Pow(f(a), f(b)),
            Op::MatMul(a, b) => Op::MatMul(f(a), f(b)),
        }
    }

    pub fn infer_shape(
        &self,
        dims: &mut Dims,
        shape_of: impl Fn(NodeId) -> Shape,
        input_shape: impl Fn(u32) -> Shape,
    ) -> Result<Shape, ShapeError> {
        let square = |dims: &mut Dims, a: NodeId| {
            let s = shape_of(a);
            if dims.is_vector(s) || dims.is_scalar(s) || !dims.unify(s.rows, s.cols) {
                return Err(ShapeError::NotSquare(s));
            }
            Ok(s)
        };
        let vector = |dims: &Dims, a: NodeId| {
            let s = shape_of(a);
            if dims.is_vector(s) {
                Ok(s)
            } else {
                Err(ShapeError::NotVector(s))
            }
        };
        Ok(match *self {
            Op::Input(i) => input_shape(i),
            Op::Const(_) => Shape::SCALAR,
            Op::Eye(n) => Shape::new(n, n),
            Op::Size(_) => Shape::SCALAR,
            Op::Fill(_, shape) => shape,
            Op::Neg(a) | Op::Map(_, a) => shape_of(a),
            Op::Add(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) => {
                let (left, right) = (shape_of(a), shape_of(b));
                if dims.is_scalar(left) {
                    right
                } else if dims.is_scalar(right) {
                    left
                } else {
                    unify_both(dims, left, right)?
                }
            }
            Op::MatMul(a, b) => {
                let (left, right) = (shape_of(a), shape_of(b));
                if !dims.unify(left.cols, right.rows) {
                    return Err(ShapeError::Operands { left, right });
                }
                Shape::new(left.rows, right.cols)
            }
            Op::Transpose(a) => shape_of(a).transposed(),
            Op::MatPow(a, _) | Op::Inv(a) => square(dims, a)?,
            Op::Sum(_) | Op::Norm1(_) | Op::Norm2(_) => Shape::SCALAR,
            Op::Trace(a) | Op::Det(a) | Op::LogDet(a) => {
                square(dims, a)?;
                Shape::SCALAR
            }
            Op::Diag(a) => {
                let n = vector(dims, a)?.rows;
                Shape::new(n, n)
            }
            Op::DiagPart(a) => Shape::vector(square(dims, a)?.rows),
            Op::Softmax(a) => vector(dims, a)?,
            Op::LogSumExp(a) => {
                vector(dims, a)?;
                Shape::SCALAR
            }
        })
    }
}

fn unify_both(dims: &mut Dims, left: Shape, right: Shape) -> Result<Shape, ShapeError> {
    if dims.unify(left.rows, right.rows) && dims.unify(left.cols, right.cols) {
        Ok(left)
    } else {
        Err(ShapeError::Operands { left, right })
    }
}

/// Up to two child ids without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Children {
    ids: [NodeId; 2],
    len: usize,
}

impl Children {
    pub fn one(id: NodeId) -> Children {
        Children { ids: [id, id], len: 1 }
    }

    pub fn as_slice(&self) -> &[NodeId] {
        &self.ids[..self.len]
    }
}

impl IntoIterator for Children {
    type Item = NodeId;
    type IntoIter = std::iter::Take<std::array::IntoIter<NodeId, 2>>;
    fn into_iter(self) -> Self::IntoIter {
        self.ids.into_iter().take(self.len)
    }
}
