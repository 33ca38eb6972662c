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

/// Compiles the gradient of `source` at `dims` and checks that runs after the first allocate
/// nothing on this thread (the sizes are small enough that every kernel runs on it).
fn runs_allocate_nothing(source: &str, dims: &[(&str, usize)], inputs: &[(&str, &[f64])]) {
    let f = matgrad::Program::parse(source).expect("parses").gradient(&[]).expect("scalar").compile(dims);
    let f = f.expect("compiles");
    let start = allocations();
    let mut out = f.outputs();
    assert!(allocations() > start, "the counter counts");
    f.run(inputs, &mut out).expect("runs");
    let before = allocations();
    for _ in 0..10 {
        f.run(inputs, &mut out).expect("runs");
    }
    assert_eq!(allocations() - before, 0, "runs allocated");
    assert!(out.scalar().is_some_and(f64::is_finite));
}

#[test]
fn running_a_compiled_gradient_allocates_nothing() {
    let source = std::fs::read_to_string(format!("{}/../../examples/backprop.mg", env!("CARGO_MANIFEST_DIR")))
        .expect("the example");
    let k = 8;
    let (x, a, b) = (vec![0.5; k], vec![0.25; k * k], vec![-0.125; k * k]);
    runs_allocate_nothing(&source, &[("K", k)], &[("x", &x[..]), ("A", &a[..]), ("B", &b[..])]);
}

#[test]
fn a_shared_pass_allocates_nothing() {
    // Xᵀw, then X (σ(Xᵀw) − t), in one pass over X. (One block: sizes with several run on two
    // threads, whose allocations this thread-local counter would not see.)
    let source = "X: matrix(d, n)\nt: vector(n)\nw: vector(d)\ns = X'*w\nL = sum(softplus(s) - t.*s)";
    let (d, n) = (4, 200);
    let (x, t, w) = (vec![0.5; d * n], vec![1.0; n], vec![-0.25; d]);
    runs_allocate_nothing(source, &[("d", d), ("n", n)], &[("X", &x[..]), ("t", &t[..]), ("w", &w[..])]);
}

#[test]
fn running_a_compiled_hessian_vector_product_allocates_nothing() {
    let source = std::fs::read_to_string(format!("{}/../../examples/backprop.mg", env!("CARGO_MANIFEST_DIR")))
        .expect("the example");
    let k = 8;
    let gradient = matgrad::Program::parse(&source).expect("parses").gradient(&["A", "B", "x"]).expect("scalar");
    let f = gradient.compile_hvp(&[("K", k)]).expect("compiles");
    let (x, a, b) = (vec![0.5; k], vec![0.25; k * k], vec![-0.125; k * k]);
    let (vx, va, vb) = (vec![1.0; k], vec![0.5; k * k], vec![-1.0; k * k]);
    let inputs = [("x", &x[..]), ("A", &a[..]), ("B", &b[..])];
    let directions = [("A", &va[..]), ("B", &vb[..]), ("x", &vx[..])];
    let mut out = f.outputs();
    f.run(&inputs, &directions, &mut out).expect("runs");
    let before = allocations();
    for _ in 0..10 {
        f.run(&inputs, &directions, &mut out).expect("runs");
    }
    assert_eq!(allocations() - before, 0, "runs allocated");
    assert!(out.hvp("A").is_some_and(|h| h.data.iter().all(|v| v.is_finite())));
}

#[test]
fn paired_matrix_vector_products_allocate_nothing() {
    // X w beside X v[w], and Xᵀ (σ(s) − t) beside its tangent's product, each pair in one pass
    // over X (600 000 entries, large enough to pair). The plan splits its work between two
    // threads; run in a pool of one, both halves run on this thread, where the counter sees
    // them.
    let source = "X: matrix(n, d)\nt: vector(n)\nw: vector(d)\ns = X*w\nL = sum(softplus(s) - t.*s)";
    let (n, d) = (20_000, 30);
    let gradient = matgrad::Program::parse(source).expect("parses").gradient(&["w"]).expect("scalar");
    let f = gradient.compile_hvp(&[("n", n), ("d", d)]).expect("compiles");
    let plan = f.describe().join("\n");
    assert!(plan.contains("2 matrix–vector products in one pass over X, 2 threads"), "{plan}");
    let (x, t, w, v) = (vec![0.01; n * d], vec![1.0; n], vec![-0.25; d], vec![0.5; d]);
    let inputs = [("X", &x[..]), ("t", &t[..]), ("w", &w[..])];
    let directions = [("w", &v[..])];
    let mut out = f.outputs();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");
    pool.install(|| {
        f.run(&inputs, &directions, &mut out).expect("runs");
        let before = allocations();
        for _ in 0..10 {
            f.run(&inputs, &directions, &mut out).expect("runs");
        }
        assert_eq!(allocations() - before, 0, "runs allocated");
    });
    assert!(out.hvp("w").is_some_and(|h| h.data.iter().all(|v| v.is_finite())));
}
