//! One pass over a matrix for a product and then its transpose: `y = α Aᵀ w`, `g = f(y)`
//! entry by entry, `t = β A g`.
//!
//! The pattern is wherever a linear map meets its own adjoint: a least-squares or logistic
//! loss with the samples as columns (`Xᵀ w`, then `X (σ(Xᵀ w) − t)`), a layer followed
//! directly by the loss. As two steps, each product streams A from memory. Here A is taken
//! in blocks of columns that fit in the cache: a block gives its entries of y (dot products
//! of its columns with w), then of g, and is read again for its share of `A g` while it is
//! still in the cache, so A comes from memory once. With two threads, each takes half of
//! every block, so each re-reads what it loaded itself.
//!
//! The other order, `y = A w` then `Aᵀ f(y)`, would need blocks of rows, which column-major
//! storage keeps in short pieces a column apart; that measured slower than two passes here
//! (logistic regression with 10 000 × 1 000 samples as rows: 13.5 ms against 6.3, and the
//! example at K = 4096: 115 ms against 68), so it stays two products.
//!
//! [`fuse`] finds the three steps (the second optional: `g = y`) after lowering and replaces
//! them by one, placed where the first was, with any step computing something else it needs
//! (a run-time scale, say) moved before it.

use std::ops::Range;

use super::dense::{self, Columns};
use super::elementwise::{Kernel, Registers};
use super::memory::ValueInfo;
use super::products::{MatrixVector, Scale};
use super::{put_slots, take_slots, writers, Inputs, Memory, Source, Step, ValueId};

/// Entries of A per block: each thread's half stays in its core's L2 cache between the two
/// reads. (Measured on the logistic workload with samples as columns: 3.7 ms, against 5.2
/// as two products.)
const BLOCK_ENTRIES: usize = dense::CACHE_BLOCK_ENTRIES;

#[derive(Debug)]
pub(super) struct SharedPass {
    /// A is the `rows × cols` storage of `matrix`.
    matrix: Source,
    rows: usize,
    cols: usize,
    alpha: Scale,
    w: Source,
    /// The elementwise parts of the two sums (`y = E + α Aᵀ w`, `t = F + β A g`), pointwise
    /// vector programs.
    first_init: Option<Kernel>,
    second_init: Option<Kernel>,
    y: ValueId,
    /// `g = f(y)`, a pointwise vector program; absent when g is y.
    between: Option<(ValueId, Kernel)>,
    /// The step's destination is `t = β A g`.
    beta: Scale,
    /// Columns of A per block.
    block: usize,
    /// With two threads, the second one's share of t.
    partial: Option<ValueId>,
}

/// Replaces each product–pointwise–transposed-product triple of `steps` by one
/// [`SharedPass`]; `values` receives the new scratch values.
pub(super) fn fuse(mut steps: Vec<Step>, values: &mut Vec<ValueInfo>) -> Vec<Step> {
    while let Some(found) = find(&steps, values) {
        steps = apply(steps, found, values);
    }
    steps
}

/// Three steps to fuse: `y = E + α Aᵀ w` at `first`, `g = f(y)` at `between` (if any),
/// `t = F + β A g` at `second`; `hoist` lists the steps in between that compute something
/// the pass needs (a run-time scale, say), to be moved before it.
struct Found {
    first: usize,
    between: Option<usize>,
    second: usize,
    hoist: Vec<usize>,
    products: [MatrixVector; 2],
}

fn find(steps: &[Step], values: &[ValueInfo]) -> Option<Found> {
    let writer = writers(steps);
    let product = |index: usize| match &steps[index] {
        Step::Products { products, .. } => products.matrix_vector(),
        _ => None,
    };
    // Whether `first` is `Aᵀ w` and `second` is `A g`, for the same storage.
    let adjoint = |first: &MatrixVector, second: &MatrixVector| {
        (first.matrix, first.rows, first.cols) == (second.matrix, second.rows, second.cols)
            && first.transposed
            && !second.transposed
    };
    let reads = |index: usize| {
        let mut out = Vec::new();
        steps[index].reads(&mut out);
        out
    };
    for c in 0..steps.len() {
        let Some(second) = product(c) else { continue };
        let Source::Value(g) = second.vector else { continue };
        let Some(&b) = writer.get(&g) else { continue };
        let (a, between, y) = match &steps[b] {
            Step::Products { .. } if product(b).is_some_and(|first| adjoint(&first, &second)) => (b, None, g),
            Step::Elementwise { kernel, .. } if kernel.is_pointwise_vector(values[g.0 as usize].len) => {
                let y = reads(b)
                    .into_iter()
                    .find(|y| writer.get(y).is_some_and(|&a| product(a).is_some_and(|first| adjoint(&first, &second))));
                let Some(y) = y else { continue };
                (writer[&y], Some(b), y)
            }
            _ => continue,
        };
        let first = product(a).expect("a product");
        // t's elementwise part runs before the pass, so it must not read y or g.
        if reads(c).iter().filter(|&&v| v == y || v == g).count() > 1 {
            continue;
        }
        // What the pass reads besides y, and the steps after `a` that write it, with what
        // those need in turn: they move before the pass, unless they need y or g.
        let mut needed: Vec<ValueId> = reads(c);
        needed.extend(between.map(reads).unwrap_or_default());
        let mut hoist: Vec<usize> = Vec::new();
        let mut movable = true;
        while let Some(v) = needed.pop() {
            if v == y || v == g {
                continue;
            }
            match writer.get(&v) {
                Some(&w) if w > a && !hoist.contains(&w) => {
                    let inputs = reads(w);
                    if w == b || w >= c || inputs.iter().any(|&r| r == y || r == g) {
                        movable = false;
                        break;
                    }
                    hoist.push(w);
                    needed.extend(inputs);
                }
                _ => {}
            }
        }
        if movable {
            hoist.sort_unstable();
            return Some(Found { first: a, between, second: c, hoist, products: [first, second] });
        }
    }
    None
}

fn apply(steps: Vec<Step>, found: Found, values: &mut Vec<ValueInfo>) -> Vec<Step> {
    let Found { first: a, between: b, second: c, hoist, products: [first, second] } = found;
    let mut steps: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    let (y, first_init) = products_of(steps[a].take());
    let between = b.map(|b| match steps[b].take() {
        Some(Step::Elementwise { dst, kernel }) => (dst, kernel),
        _ => unreachable!("the pointwise step was checked"),
    });
    let (t, second_init) = products_of(steps[c].take());
    let (rows, cols) = (first.rows, first.cols);
    let parallel = first.parallel || second.parallel;
    let partial = parallel.then(|| {
        values.push(ValueInfo { len: rows, output: None });
        ValueId(values.len() as u32 - 1)
    });
    // Whole groups of four columns (the dot-product kernel's unit).
    let block = ((BLOCK_ENTRIES / rows.max(1)).max(4) / 4 * 4).min(cols).max(1);
    let pass = SharedPass {
        matrix: first.matrix,
        rows,
        cols,
        alpha: first.alpha,
        w: first.vector,
        first_init,
        second_init,
        y,
        between,
        beta: second.alpha,
        block,
        partial,
    };
    let hoisted: Vec<Step> = hoist.iter().map(|&h| steps[h].take().expect("a step")).collect();
    let mut out = Vec::with_capacity(steps.len());
    out.extend(steps.drain(..a).flatten());
    out.extend(hoisted);
    out.push(Step::SharedPass { dst: t, pass: Box::new(pass) });
    out.extend(steps.into_iter().flatten());
    out
}

/// The destination and the elementwise part of a product step.
fn products_of(step: Option<Step>) -> (ValueId, Option<Kernel>) {
    match step {
        Some(Step::Products { dst, mut products }) => (dst, products.take_init()),
        _ => unreachable!("the product steps were checked"),
    }
}

impl SharedPass {
    /// The matrix the pass streams through, with its size.
    pub(super) fn matrix(&self) -> (Source, usize) {
        (self.matrix, self.rows * self.cols)
    }

    pub(super) fn reads(&self, out: &mut Vec<ValueId>) {
        let sources = [Some(self.matrix), Some(self.w), self.alpha.runtime, self.beta.runtime];
        out.extend(sources.into_iter().flatten().filter_map(|s| match s {
            Source::Value(v) => Some(v),
            Source::Input(_) => None,
        }));
        let mut kernels = Vec::new();
        let programs = [self.first_init.as_ref(), self.second_init.as_ref(), self.between.as_ref().map(|(_, k)| k)];
        for kernel in programs.into_iter().flatten() {
            kernel.reads(&mut kernels);
        }
        // y is the step's own.
        out.extend(kernels.into_iter().filter(|&v| v != self.y));
    }

    /// The values it writes besides its destination.
    pub(super) fn writes(&self, out: &mut Vec<ValueId>) {
        out.push(self.y);
        out.extend(self.between.as_ref().map(|(g, _)| *g));
    }

    pub(super) fn scratch(&self, out: &mut Vec<ValueId>) {
        out.extend(self.partial);
    }

    pub(super) fn registers(&self) -> usize {
        let kernels = [self.first_init.as_ref(), self.second_init.as_ref(), self.between.as_ref().map(|(_, k)| k)];
        kernels.into_iter().flatten().map(Kernel::registers).max().unwrap_or(0)
    }

    pub(super) fn uses_threads(&self) -> bool {
        self.partial.is_some()
    }

    /// `t3 = X·t2, with t1 = Xᵀ·w and t2 = …   [one pass over X, …]`.
    pub(super) fn describe(&self, name: &dyn Fn(Source) -> String) -> String {
        let a = name(self.matrix);
        let y = name(Source::Value(self.y));
        let (g, between) = match &self.between {
            Some((g, kernel)) => {
                (name(Source::Value(*g)), format!(" and {} = {}", name(Source::Value(*g)), kernel.expression(name)))
            }
            None => (y.clone(), String::new()),
        };
        let threads = if self.partial.is_some() { ", 2 threads" } else { "" };
        let init =
            |kernel: &Option<Kernel>| kernel.as_ref().map(|k| format!("{} + ", k.expression(name))).unwrap_or_default();
        format!(
            "{}{}{a}·{g}, with {y} = {}{}{a}ᵀ·{}{between}   [one pass over {a}, blocks of {} columns{threads}]",
            init(&self.second_init),
            self.beta.describe(name),
            init(&self.first_init),
            self.alpha.describe(name),
            name(self.w),
            self.block,
        )
    }

    pub(super) fn run(
        &self,
        inputs: Inputs,
        slots: &mut [Vec<f64>],
        slot_of: &[usize],
        registers: &mut Registers,
        t: &mut [f64],
    ) {
        let [mut y] = take_slots(slots, slot_of, [self.y]);
        let mut g = self.between.as_ref().map(|(g, _)| take_slots(slots, slot_of, [*g]));
        let mut partial = self.partial.map(|p| take_slots(slots, slot_of, [p]));
        {
            let memory = Memory::new(inputs, slots, slot_of);
            let a = Columns::whole(memory.get(self.matrix), self.rows, self.cols);
            let w = memory.get(self.w);
            let (alpha, beta) = (self.alpha.value(&memory), self.beta.value(&memory));
            // y has an entry per column of A, t one per row.
            let (n, m) = (self.cols, self.rows);
            let (y, t) = (&mut y[..n], &mut t[..m]);
            match &self.second_init {
                Some(init) => init.run_entries(&memory, registers, t, 0..m),
                None => t.fill(0.0),
            }
            let mut partial = partial.as_mut().map(|[p]| {
                p[..m].fill(0.0);
                &mut p[..m]
            });
            for start in (0..n).step_by(self.block) {
                let range = start..(start + self.block).min(n);
                // Each thread's part of the block (the second empty on one thread).
                // (Whole groups of four columns where the block allows.)
                let half = match partial {
                    Some(_) if range.len() >= 8 => (range.len() / 2).next_multiple_of(4).min(range.len()),
                    Some(_) => range.len() / 2,
                    None => range.len(),
                };
                let (top, bottom) = (range.start..range.start + half, range.start + half..range.end);
                if let Some(init) = &self.first_init {
                    init.run_entries(&memory, registers, &mut y[range.clone()], range.clone());
                }
                let accumulate = self.first_init.is_some();
                let first =
                    |y: &mut [f64], part: Range<usize>| dense::product(y, accumulate, alpha, a.columns(part), w, true);
                let (y_top, y_bottom) = y[range.clone()].split_at_mut(half);
                match partial {
                    Some(_) if !bottom.is_empty() => {
                        rayon::join(|| first(y_top, top.clone()), || first(y_bottom, bottom.clone()));
                    }
                    _ => first(y_top, top.clone()),
                }
                let g: &[f64] = match (&self.between, g.as_mut()) {
                    (Some((_, kernel)), Some([g])) => {
                        let memory = memory.lending(self.y, y);
                        kernel.run_entries(&memory, registers, &mut g[range.clone()], range.clone());
                        g
                    }
                    _ => y,
                };
                let second = |t: &mut [f64], part: Range<usize>| {
                    dense::product(t, true, beta, a.columns(part.clone()), &g[part], false)
                };
                match partial.as_deref_mut() {
                    Some(p) if !bottom.is_empty() => {
                        rayon::join(|| second(t, top), || second(p, bottom));
                    }
                    _ => second(t, top),
                }
            }
            if let Some(p) = partial {
                for (ti, pi) in t.iter_mut().zip(p.iter()) {
                    *ti += pi;
                }
            }
        }
        put_slots(slots, slot_of, [self.y], [y]);
        if let (Some((g_id, _)), Some(g)) = (&self.between, g) {
            put_slots(slots, slot_of, [*g_id], g);
        }
        if let (Some(p), Some(taken)) = (self.partial, partial) {
            put_slots(slots, slot_of, [p], taken);
        }
    }
}
