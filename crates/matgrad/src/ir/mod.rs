//! The intermediate representation: one typed, hash-consed computation graph that every
//! pass reads and grows.

pub(crate) mod func;
pub mod graph;
pub mod kinds;
pub mod lower;
pub mod op;
pub mod shape;

pub use graph::{Graph, NodeId};
pub use op::{Constant, Func, Op};
pub use shape::{is_size_name, Dim, Shape};
