//! matgrad: matrix calculus and backpropagation.
//!
//! Text goes through [`syntax`] to a syntax tree and through [`ir::lower`] to one typed,
//! hash-consed [`ir::Graph`]. Every other pass works on that graph: [`diff`] grows it with
//! gradient nodes (built through [`simplify`]'s rules), [`print`] writes expressions in
//! ASCII, Unicode or LaTeX, [`eval`] computes values, [`check`] compares gradients with
//! finite differences, and [`compiled`] compiles a value and its gradients once to run them
//! many times on the caller's buffers (`Program::parse(src)?.gradient(&["A"])?.compile(&dims)?`).
//! See ARCHITECTURE.md for the map.

pub mod alloc;
pub mod array;
pub mod check;
pub mod compiled;
pub mod diagnostic;
pub mod diff;
pub mod eval;
/// The whole pipeline on one text, for the fuzz targets and their corpus test.
#[doc(hidden)]
pub mod fuzzing;
pub mod gradient;
pub mod ir;
pub mod point;
pub mod print;
pub mod program;
pub mod simplify;
mod stack;
pub mod syntax;
pub mod verify;

pub use alloc::AlignedAlloc;
pub use array::Array;
pub use compiled::{Compiled, Error, Outputs};
pub use diagnostic::{Diagnostic, ErrorKind, Span};
pub use gradient::Gradient;
pub use point::Point;
pub use program::Program;
pub mod explain;
