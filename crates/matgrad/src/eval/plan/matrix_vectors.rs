//! One pass over a matrix for several matrix–vector products with it: `A x` beside `A ẋ`.
//!
//! A Hessian-vector product runs the forward and backward passes twice over, once for the
//! point and once for its tangent, and each pass has its matrix–vector products with the
//! same matrices: the example's HVP reads A in twelve products, which pair up into six
//! passes (`A x` and `A v[x]`, `Aᵀ t8` and `Aᵀ t16`, …). Computed one by one, each streams
//! A from memory (or the last-level cache). Here the products that can run together are
//! one step, which takes A in blocks of columns that stay in the core's L2 cache while every
//! vector takes its turn on them ([`dense::products_by_blocks`]), and writes the raw
//! products side by side; each sum then takes its product from there
//! ([`Products::compute_from`]).
//!
//! [`pair`] finds them after lowering: matrix–vector products of one matrix, in the same
//! orientation, that no dependency orders (neither's vector needs the other's result). The
//! dependency graph gains a node per pass, and a product joins a pass only if that leaves
//! the graph without a cycle. The scheduler then places each pass.

use std::collections::HashMap;

use super::dense::{self, Columns};
use super::memory::ValueInfo;
use super::products::MatrixVector;
use super::{put_slots, readers, take_slots, writers, Inputs, Memory, Source, Step, ValueId};

/// Matrices with fewer entries than this (4 MiB) are not paired: with two threads each core
/// keeps its half in its L2 cache (2 MiB here) from one product to the next, so a pass saves
/// nothing. Measured on the example's Hessian-vector product, alternating: at K = 512 (2 MiB)
/// 1.6–1.7 ms a call paired against 1.3–1.5 not; at K = 768 (4.5 MiB) 2.7–3.3 against
/// 3.3–3.9; at K = 1024 4.9–5.2 against 6.7–9.5.
const PAIR_ENTRIES: usize = 1 << 19;

/// Products per pass at most (they are passed to the kernel without allocating).
const MAX_VECTORS: usize = 8;

/// Nodes of the dependency graph the search for cycles visits at most, in all: bounds the
/// pass on long programs (a product that finds none left stays alone).
const SEARCH_BUDGET: usize = 1 << 21;

#[derive(Debug)]
pub(super) struct MatrixVectors {
    /// A is the `rows × cols` storage of `matrix`.
    matrix: Source,
    rows: usize,
    cols: usize,
    transposed: bool,
    /// Product i is `A vectors[i]` (or `Aᵀ vectors[i]`), at `i·len` of the destination.
    vectors: Vec<Source>,
    /// With two threads, the second one's products (of its half of A's columns).
    partial: Option<ValueId>,
}

/// One matrix–vector product of a sum: which step and group, and what it is.
struct Candidate {
    step: usize,
    group: usize,
    product: MatrixVector,
}

/// Replaces the matrix–vector products of `steps` that can share a pass over their matrix by
/// a [`MatrixVectors`] step each; `values` receives the new values. The new steps come
/// before their first reader, not necessarily after what they read: the scheduler orders
/// them.
pub(super) fn pair(mut steps: Vec<Step>, values: &mut Vec<ValueInfo>) -> Vec<Step> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        if let Step::Products { products, .. } = step {
            let large = products.matrix_vectors().into_iter().filter(|(_, p)| p.rows * p.cols >= PAIR_ENTRIES);
            candidates.extend(large.map(|(group, product)| Candidate { step: index, group, product }));
        }
    }
    if candidates.len() < 2 {
        return steps;
    }
    let passes = group(&steps, &candidates);

    let mut new_steps: Vec<(usize, Step)> = Vec::new();
    for members in passes.into_iter().filter(|m| m.len() > 1) {
        let first = candidates[members[0]].product;
        let len = first.len();
        let mut value = |len: usize| {
            values.push(ValueInfo { len, output: None });
            ValueId(values.len() as u32 - 1)
        };
        let dst = value(len * members.len());
        // The second thread takes A's columns from cols / 2 on.
        let second_len = if first.transposed { first.cols - first.cols / 2 } else { first.rows };
        let partial = first.parallel.then(|| value(second_len * members.len()));
        for (i, &c) in members.iter().enumerate() {
            let Candidate { step, group, .. } = candidates[c];
            match &mut steps[step] {
                Step::Products { products, .. } => products.compute_from(group, dst, i * len),
                _ => unreachable!("candidates are products"),
            }
        }
        let vectors = members.iter().map(|&c| candidates[c].product.vector).collect();
        let pass = MatrixVectors {
            matrix: first.matrix,
            rows: first.rows,
            cols: first.cols,
            transposed: first.transposed,
            vectors,
            partial,
        };
        let before = members.iter().map(|&c| candidates[c].step).min().expect("members");
        new_steps.push((before, Step::MatrixVectors { dst, pass: Box::new(pass) }));
    }
    if new_steps.is_empty() {
        return steps;
    }
    new_steps.sort_by_key(|(before, _)| *before);
    let mut new_steps = new_steps.into_iter().peekable();
    let mut out = Vec::with_capacity(steps.len() + new_steps.len());
    for (index, step) in steps.into_iter().enumerate() {
        while let Some((_, pass)) = new_steps.next_if(|(before, _)| *before == index) {
            out.push(pass);
        }
        out.push(step);
    }
    out
}

/// The passes: lists of candidates (each a list of one, where a product found no partner).
/// Greedy in the steps' order: a product joins the earliest pass of its matrix that it can
/// join without a cycle. (Lowering emits a tangent's products after the point's, so the
/// tangent of `A x` finds `A x` itself: the earliest pass is its counterpart.)
fn group(steps: &[Step], candidates: &[Candidate]) -> Vec<Vec<usize>> {
    let n = steps.len();
    let writer = writers(steps);
    // Node i < n is step i; node n + p is pass p. An edge from each node to its readers.
    let mut successors = readers(steps, &writer);
    let writer_of = |source: Source| match source {
        Source::Value(v) => writer.get(&v).copied(),
        Source::Input(_) => None,
    };
    let mut passes: Vec<Vec<usize>> = Vec::new();
    let mut open: HashMap<(Source, usize, usize, bool), Vec<usize>> = HashMap::new();
    let mut seen = vec![false; n];
    let mut budget = SEARCH_BUDGET;
    for (c, candidate) in candidates.iter().enumerate() {
        let p = candidate.product;
        let key = (p.matrix, p.rows, p.cols, p.transposed);
        let same = open.get(&key).map(Vec::as_slice).unwrap_or_default();
        let mut joins = |pass: usize, seen: &mut Vec<bool>| {
            let members = &passes[pass];
            if members.len() >= MAX_VECTORS {
                return false;
            }
            // A cycle would run from a reader of the pass to what the pass reads.
            let readers = members.iter().chain([&c]).map(|&m| candidates[m].step);
            let read: Vec<usize> =
                members.iter().chain([&c]).filter_map(|&m| writer_of(candidates[m].product.vector)).collect();
            reaches(&successors, readers, &read, seen, &mut budget) == Some(false)
        };
        let joined = same.iter().copied().find(|&pass| joins(pass, &mut seen));
        let pass = joined.unwrap_or_else(|| {
            passes.push(Vec::new());
            successors.push(Vec::new());
            seen.push(false);
            open.entry(key).or_default().push(passes.len() - 1);
            passes.len() - 1
        });
        passes[pass].push(c);
        if let Some(w) = writer_of(p.vector) {
            successors[w].push(n + pass);
        }
        successors[n + pass].push(candidate.step);
    }
    passes
}

/// Whether a path of `successors` leads from any of `from` to any of `to` (`seen`: all
/// false, and left so); None once the search has visited `budget` nodes in all.
fn reaches(
    successors: &[Vec<usize>],
    from: impl Iterator<Item = usize>,
    to: &[usize],
    seen: &mut [bool],
    budget: &mut usize,
) -> Option<bool> {
    let mut stack: Vec<usize> = from.collect();
    let mut visited = Vec::new();
    let mut found = Some(false);
    while let Some(node) = stack.pop() {
        if to.contains(&node) {
            found = Some(true);
            break;
        }
        if std::mem::replace(&mut seen[node], true) {
            continue;
        }
        if *budget == 0 {
            found = None;
            break;
        }
        *budget -= 1;
        visited.push(node);
        stack.extend(successors[node].iter().copied());
    }
    for node in visited {
        seen[node] = false;
    }
    found
}

impl MatrixVectors {
    /// The entries of each product.
    fn len(&self) -> usize {
        if self.transposed {
            self.cols
        } else {
            self.rows
        }
    }

    /// The matrix the pass streams through, with its size.
    pub(super) fn matrix(&self) -> (Source, usize) {
        (self.matrix, self.rows * self.cols)
    }

    pub(super) fn reads(&self, out: &mut Vec<ValueId>) {
        let sources = std::iter::once(&self.matrix).chain(&self.vectors);
        out.extend(sources.filter_map(|s| match s {
            Source::Value(v) => Some(*v),
            Source::Input(_) => None,
        }));
    }

    pub(super) fn scratch(&self, out: &mut Vec<ValueId>) {
        out.extend(self.partial);
    }

    pub(super) fn uses_threads(&self) -> bool {
        self.partial.is_some()
    }

    /// `A·[x v[x]]   [2 matrix–vector products in one pass over A, 2 threads]   [1024×2]`.
    pub(super) fn describe(&self, name: &dyn Fn(Source) -> String) -> String {
        let t = if self.transposed { "ᵀ" } else { "" };
        let vectors: Vec<String> = self.vectors.iter().map(|&v| name(v)).collect();
        let threads = if self.partial.is_some() { ", 2 threads" } else { "" };
        format!(
            "{}{t}·[{}]   [{} matrix–vector products in one pass over {}{threads}]   [{}×{}]",
            name(self.matrix),
            vectors.join(" "),
            self.vectors.len(),
            name(self.matrix),
            self.len(),
            self.vectors.len(),
        )
    }

    pub(super) fn run(&self, inputs: Inputs, slots: &mut [Vec<f64>], slot_of: &[usize], dst: &mut [f64]) {
        let mut partial = self.partial.map(|p| take_slots(slots, slot_of, [p]));
        {
            let memory = Memory::new(inputs, slots, slot_of);
            let a = Columns::whole(memory.get(self.matrix), self.rows, self.cols);
            let count = self.vectors.len();
            let mut xs: [&[f64]; MAX_VECTORS] = [&[]; MAX_VECTORS];
            for (x, &source) in xs.iter_mut().zip(&self.vectors) {
                *x = memory.get(source);
            }
            let xs = &xs[..count];
            let len = self.len();
            let dst = &mut dst[..count * len];
            match partial.as_mut() {
                Some([partial]) => {
                    let half = self.cols / 2;
                    let (first, second) = (a.columns(0..half), a.columns(half..self.cols));
                    let second_len = if self.transposed { self.cols - half } else { self.rows };
                    let partial = &mut partial[..count * second_len];
                    // Without the transpose each thread takes its columns' entries of x.
                    let mut halves: [[&[f64]; MAX_VECTORS]; 2] = [[&[]; MAX_VECTORS]; 2];
                    for (i, &x) in xs.iter().enumerate() {
                        (halves[0][i], halves[1][i]) =
                            if self.transposed { (x, x) } else { x[..self.cols].split_at(half) };
                    }
                    let [top, bottom] = halves;
                    rayon::join(
                        || dense::products_by_blocks(dst, len, first, &top[..count], self.transposed),
                        || dense::products_by_blocks(partial, second_len, second, &bottom[..count], self.transposed),
                    );
                    for i in 0..count {
                        let (out, theirs) =
                            (&mut dst[i * len..(i + 1) * len], &partial[i * second_len..(i + 1) * second_len]);
                        if self.transposed {
                            out[half..].copy_from_slice(theirs);
                        } else {
                            out.iter_mut().zip(theirs).for_each(|(o, t)| *o += t);
                        }
                    }
                }
                None => dense::products_by_blocks(dst, len, a, xs, self.transposed),
            }
        }
        if let (Some(p), Some(taken)) = (self.partial, partial) {
            put_slots(slots, slot_of, [p], taken);
        }
    }
}
