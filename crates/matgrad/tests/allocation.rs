//! A compiled function allocates nothing when it runs: every buffer is made by `outputs()`.
//! (Its own test binary, because it replaces the global allocator to count.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the allocations of the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn running_a_compiled_gradient_allocates_nothing() {
    let source = std::fs::read_to_string(format!("{}/../../examples/backprop.mg", env!("CARGO_MANIFEST_DIR")))
        .expect("the example");
    // Small enough that every kernel runs on this thread.
    let k = 8;
    let f = matgrad::Program::parse(&source).expect("parses").gradient(&[]).expect("scalar").compile(&[("K", k)]);
    let f = f.expect("compiles");
    let (x, a, b) = (vec![0.5; k], vec![0.25; k * k], vec![-0.125; k * k]);
    let inputs = [("x", &x[..]), ("A", &a[..]), ("B", &b[..])];
    let start = allocations();
    let mut out = f.outputs();
    assert!(allocations() > start, "the counter counts");
    f.run(&inputs, &mut out).expect("runs");
    let before = allocations();
    for _ in 0..10 {
        f.run(&inputs, &mut out).expect("runs");
    }
    assert_eq!(allocations() - before, 0, "runs allocated");
    assert!(out.scalar().is_some_and(f64::is_finite));
}
