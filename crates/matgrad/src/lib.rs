//! matgrad: matrix calculus and backpropagation.
//!
//! The public API is small: parse a [`Program`] (in ASCII, Unicode or LaTeX, or a pasted
//! page), then ask it questions without consuming it — [`Program::check_report`] (what it
//! reads as), [`Program::point`] and [`Program::evaluate`] (values), [`Program::gradient`]
//! (closed forms, values, the finite-difference check: [`Gradient::report`]),
//! [`Program::jacobian`] and [`Program::hessian`] (every block as matrix notation, a
//! linear map and index notation, its numbers in JAX's layout, checked),
//! [`Program::explain`] (how the chain rule runs, every step checked), [`Program::verify`]
//! (a pasted derivation's claims), and [`Gradient::compile`] (a value and its gradients
//! compiled once, run many times on the caller's buffers). Every answer is a report of
//! plain data in [`report`], serialisable with serde; [`api`] answers a whole [`api::Query`]
//! at once, as the command line and the web page do. Every mistake is one [`Error`].
//!
//! Inside, text goes through `syntax` to a syntax tree and through `ir::lower` to one
//! typed, hash-consed graph; `diff` grows it with gradient nodes (built through
//! `simplify`'s rules), `print` writes expressions, `eval` computes values and `check`
//! compares gradients with finite differences. See ARCHITECTURE.md for the map.

pub mod api;
pub mod report;

mod alloc;
mod array;
mod codegen;
mod compiled;
mod deadline;
mod error;
mod gradient;
mod jacobian;
mod point;
mod program;
mod stack;

pub(crate) mod check;
pub(crate) mod diff;
pub(crate) mod eval;
pub(crate) mod explain;
pub(crate) mod ir;
pub(crate) mod print;
pub(crate) mod simplify;
pub(crate) mod syntax;
pub(crate) mod verify;

/// The whole pipeline on one text, for the fuzz targets and their corpus test.
#[doc(hidden)]
pub mod fuzzing;

pub use alloc::AlignedAlloc;
pub use array::Array;
pub use codegen::Target;
pub use compiled::{Compiled, CompiledHvp, Outputs};
pub use error::{Error, ErrorEntry, ErrorKind, ErrorReport, Location, Span, MAX_ERRORS};
pub use eval::{Sizes, MEMORY_BUDGET};
pub use explain::Explanation;
pub use gradient::Gradient;
pub use jacobian::{Hessian, Jacobian};
pub use point::{Point, DEFAULT_SIZE};
pub use program::Program;
pub use verify::{Claim, ClaimKind, Verdict, Verification};

/// The test suite in `tests/` that checks internals (rules, readings, the plan).
#[cfg(test)]
#[path = "../tests/suite.rs"]
mod suite;
