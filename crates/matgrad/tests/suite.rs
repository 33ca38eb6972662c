//! The library's test suite, compiled into its unit tests (see `lib.rs`): these tests
//! check what the public API hides — each derivative rule on the graph, the parser's
//! readings, the compiled plan's decisions — so they see the crate's internals.
//! `tests/allocation.rs`, `tests/api.rs`, `tests/compactness.rs` and `tests/fuzz_corpus.rs`
//! use only the public API, as any front end does.

#[path = "codegen.rs"]
mod codegen;
#[path = "common/mod.rs"]
mod common;
#[path = "compiled.rs"]
mod compiled;
#[path = "explain.rs"]
mod explain;
#[path = "gradients.rs"]
mod gradients;
#[path = "language.rs"]
mod language;
#[path = "scale.rs"]
mod scale;
#[path = "second_order.rs"]
mod second_order;
#[path = "verify.rs"]
mod verify;
