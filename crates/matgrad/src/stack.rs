//! Deep recursion without a large stack: the one place that grows it.
//!
//! A pass over an expression recurses once per level, and a program's expressions are as
//! deep as it is long (the gradient of a chain of 100 000 statements is a product of
//! 100 000 factors). Recursive passes call [`deep`] at each level: when less than
//! [`RED_ZONE`] of the stack is left it continues on a new segment of [`SEGMENT`] bytes
//! (`stacker`, as rustc does), so the library runs on any thread, 2 MiB stacks included.

/// Stack left below which a level moves to a new segment; one level of the printer takes a
/// few KB in debug builds.
const RED_ZONE: usize = 128 * 1024;

/// The size of each new segment.
const SEGMENT: usize = 4 << 20;

/// Runs `f`, on a new stack segment if this one is nearly used up.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
