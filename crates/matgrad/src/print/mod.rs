//! Graph to text, in three notations: canonical ASCII (what `check` prints; it parses back
//! to the same graph), Unicode math for terminals, and LaTeX.
//!
//! One precedence-climbing printer serves all three: each op says what it is (an infix
//! product, a call, a postfix transpose, …) and the notation says how that is spelled.
//! Nodes that have a name (a program's `y`, an introduced `q`) print as the name, except
//! the root being defined.

mod abbreviate;
pub mod diagram;
mod expr;
mod listing;
mod names;

pub use abbreviate::{abbreviations, abbreviations_after, fresh_name};
pub(crate) use expr::without_minus;
pub use expr::{print, print_operand, show_name, Notation};
pub use listing::{describe_origin, inputs_header, listing, one_line};
pub use names::{escape, latex_name, python_name, unicode_name, ADJOINT, DIFFERENTIAL, INCREMENT, ITALIC_DIFFERENTIAL};
