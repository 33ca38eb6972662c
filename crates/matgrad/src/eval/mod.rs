//! Numeric evaluation of a graph in `f64`: binding sizes and inputs, then running the nodes.
//!
//! faer, the dense linear-algebra crate, is used here and nowhere else: its API changes
//! with each minor release, so the rest of matgrad sees only [`Array`](crate::Array).

mod kernels;
pub(crate) mod plan;
mod sizes;

pub use kernels::{evaluate, function as scalar_function, Tape};
pub(crate) use sizes::bytes_text;
pub use sizes::{Sizes, MEMORY_BUDGET};
