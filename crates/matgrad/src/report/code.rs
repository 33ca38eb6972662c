//! The generated module as a report: what `codegen` prints and the page offers.

use serde::Serialize;

use crate::Target;

/// A Python module computing the program's value and gradients, and its Hessian where
/// asked (see `Gradient::code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeReport {
    pub target: Target,
    /// A file name to save it under: `<output>_grad_<target>.py` (`_hessian_` with `hessian`).
    pub file_name: String,
    /// The module's text.
    pub module: String,
}
