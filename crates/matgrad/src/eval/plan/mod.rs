//! Compile once, run many: a [`Plan`] evaluates chosen nodes of a graph at fixed sizes,
//! with every buffer allocated up front.
//!
//! Compilation ([`lower`]) walks the reachable nodes in id order and gives each a *form*:
//! a view of an array that already exists (an input, or a transpose of one: free), a
//! constant, a lazy elementwise expression (fused into the loop of whatever consumes it), a
//! lazy sum of matrix products Σ αᵢ Lᵢ Rᵢ (so `2(w zᵀ + p qᵀ + r xᵀ)` becomes one thin product
//! and every scaling rides on the kernel), a diagonal or identity matrix that is never
//! materialised, a reduction, or a call of a dense routine. A form is written to a buffer
//! only where it must be: a node used more than once (computed once — the graph is
//! hash-consed, so the forward pass and every gradient share it; except a matrix product
//! whose every use is another product, which each use orders anew: `(A B) x` is `A (B x)`),
//! a requested output, or an operand a kernel reads from memory. [`memory`] then assigns buffers by liveness, so
//! intermediates share memory, and requested outputs are written straight into the
//! caller's arrays.
//!
//! Kernels: elementwise loops and the matrix–vector and thin products are this module's own
//! (`elementwise`, `dense`: simple loops compiled for the CPU's vector instructions through
//! `pulp`); general products and LU go to faer. Kernels above a measured size split their
//! work between two threads by columns, so each core keeps the same half of a matrix in its
//! cache from pass to pass; a plan with such kernels runs inside the thread pool, where a
//! hand-over costs well under a microsecond.
//!
//! Invariants: a step never reads the buffer it writes; every buffer a step reads is an
//! input or was written by an earlier step; [`Plan::run`] allocates nothing (faer's general
//! products may allocate packing space of their own).

mod dense;
mod elementwise;
mod gram;
mod lower;
mod math;
mod matrix_vectors;
mod memory;
mod products;
mod schedule;
mod shared_pass;
mod special;

use std::collections::HashMap;

use crate::ir::{Graph, NodeId};
use crate::Array;

use super::sizes::Sizes;
use crate::Error;
use elementwise::{Kernel, Registers};
use matrix_vectors::MatrixVectors;
use products::Products;
use shared_pass::SharedPass;
use special::{Special, SpecialScratch};

/// An array the plan computes; [`memory`] gives it a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ValueId(u32);

/// Where a step reads an array at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    /// The caller's buffer for graph input `i`.
    Input(u32),
    Value(ValueId),
}

/// A dense column-major array as a step reads it: `rows × cols` after the transpose, which
/// is free (the kernels read the storage with swapped strides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct View {
    source: Source,
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl View {
    fn of(source: Source, rows: usize, cols: usize) -> View {
        View { source, rows, cols, transposed: false }
    }

    fn transpose(self) -> View {
        View { source: self.source, rows: self.cols, cols: self.rows, transposed: !self.transposed }
    }

    /// Entry (i, j) is at `i·row_stride + j·col_stride` of the storage.
    fn strides(self) -> (usize, usize) {
        if self.transposed {
            (self.cols, 1)
        } else {
            (1, self.rows)
        }
    }

    fn len(self) -> usize {
        self.rows * self.cols
    }

    /// The step between consecutive entries of a vector view.
    fn step(self) -> usize {
        let (row_stride, col_stride) = self.strides();
        if self.rows > 1 {
            row_stride
        } else {
            col_stride
        }
    }
}

/// One unit of work of the run loop.
#[derive(Debug)]
enum Step {
    /// A fused elementwise loop writing `dst`, or reducing into it.
    Elementwise { dst: ValueId, kernel: Kernel },
    /// `dst` = elementwise part + Σ αᵢ Lᵢ Rᵢ.
    Products { dst: ValueId, products: Products },
    /// A dense routine (inverse, determinant, softmax, …) with its scratch.
    Special { dst: ValueId, special: Special },
    /// `dst = β A f(α Aᵀ w)` in one pass over A, writing `α Aᵀ w` and its image under f too.
    SharedPass { dst: ValueId, pass: Box<SharedPass> },
    /// `dst = [A x₁ A x₂ …]`: several matrix–vector products in one pass over A.
    MatrixVectors { dst: ValueId, pass: Box<MatrixVectors> },
}

impl Step {
    /// The values this step reads, and the one it writes.
    fn reads(&self, out: &mut Vec<ValueId>) {
        match self {
            Step::Elementwise { kernel, .. } => kernel.reads(out),
            Step::Products { products, .. } => products.reads(out),
            Step::Special { special, .. } => special.reads(out),
            Step::SharedPass { pass, .. } => pass.reads(out),
            Step::MatrixVectors { pass, .. } => pass.reads(out),
        }
    }

    fn dst(&self) -> ValueId {
        match self {
            Step::Elementwise { dst, .. }
            | Step::Products { dst, .. }
            | Step::Special { dst, .. }
            | Step::SharedPass { dst, .. }
            | Step::MatrixVectors { dst, .. } => *dst,
        }
    }

    /// The values the step writes for later steps: its destination and any others.
    fn writes(&self, out: &mut Vec<ValueId>) {
        if let Step::SharedPass { pass, .. } = self {
            pass.writes(out);
        }
        out.push(self.dst());
    }

    /// The matrices the step streams through, with their sizes (see [`schedule`]).
    fn matrices(&self, out: &mut Vec<(Source, usize)>) {
        match self {
            Step::Products { products, .. } => products.matrices(out),
            Step::SharedPass { pass, .. } => out.push(pass.matrix()),
            Step::MatrixVectors { pass, .. } => out.push(pass.matrix()),
            Step::Elementwise { .. } | Step::Special { .. } => {}
        }
    }

    /// Values the step uses as scratch: written and read within the step only.
    /// A scratch value of the step and the operand whose buffer it may take, when the
    /// step is the operand's last reader (see `memory::assign`).
    fn in_place(&self) -> Option<(ValueId, ValueId)> {
        match self {
            Step::Special { special, .. } => special.in_place(),
            _ => None,
        }
    }

    fn scratch(&self, out: &mut Vec<ValueId>) {
        match self {
            Step::Elementwise { .. } => {}
            Step::Products { products, .. } => products.scratch(out),
            Step::Special { special, .. } => special.scratch(out),
            Step::SharedPass { pass, .. } => pass.scratch(out),
            Step::MatrixVectors { pass, .. } => pass.scratch(out),
        }
    }
}

/// The step that writes each value (see [`Step::writes`]): what the passes that reorder or
/// merge steps (`schedule`, `shared_pass`, `matrix_vectors`) build their dependencies from.
fn writers(steps: &[Step]) -> HashMap<ValueId, usize> {
    let mut writer = HashMap::new();
    let mut written = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        written.clear();
        step.writes(&mut written);
        writer.extend(written.iter().map(|&v| (v, index)));
    }
    writer
}

/// For each step, the other steps that read a value it writes, each once and in order.
fn readers(steps: &[Step], writer: &HashMap<ValueId, usize>) -> Vec<Vec<usize>> {
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    let mut read = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        read.clear();
        step.reads(&mut read);
        for v in &read {
            if let Some(&w) = writer.get(v).filter(|&&w| w != index) {
                if readers[w].last() != Some(&index) {
                    readers[w].push(index);
                }
            }
        }
    }
    readers
}

/// A compiled evaluation: the steps, the buffer layout, and the shapes it expects.
#[derive(Debug)]
pub(crate) struct Plan {
    steps: Vec<Step>,
    /// The slot of each value; slot `i < outputs.len()` is output `i`.
    slot_of: Vec<usize>,
    /// The length of each slot that is not an output.
    slot_lengths: Vec<usize>,
    /// `(rows, cols)` of each requested node.
    outputs: Vec<(usize, usize)>,
    /// `(rows, cols)` of each graph input, and whether the plan reads it.
    inputs: Vec<InputShape>,
    /// For each value, the output it is (for descriptions).
    output_of: Vec<Option<usize>>,
    /// The most registers any elementwise program needs, and whether one runs on two threads.
    registers: usize,
    parallel: bool,
    /// Whether any step runs on two threads: then the run happens inside the thread pool,
    /// where handing half a kernel to the other thread costs well under a microsecond
    /// (from outside, each hand-over cost about 6 µs here).
    threads: bool,
}

/// What the plan expects of one graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputShape {
    pub rows: usize,
    pub cols: usize,
    /// Whether any step reads it (an input the outputs do not depend on may be omitted).
    pub needed: bool,
}

/// The buffers one caller runs a plan with: made once by [`Plan::workspace`], reused by
/// every run.
#[derive(Debug)]
pub(crate) struct Workspace {
    slots: Vec<Vec<f64>>,
    registers: Registers,
    special: Vec<SpecialScratch>,
}

impl Plan {
    /// Compiles the evaluation of `wanted` (in order) at `sizes`.
    pub(crate) fn compile(graph: &Graph, sizes: &Sizes, wanted: &[NodeId]) -> Result<Plan, Error> {
        let mut lowered = lower::lower(graph, sizes, wanted)?;
        lowered.steps = shared_pass::fuse(lowered.steps, &mut lowered.values);
        lowered.steps = matrix_vectors::pair(lowered.steps, &mut lowered.values);
        let count = lowered.steps.len();
        lowered.steps = schedule::schedule(lowered.steps, &lowered.values);
        if lowered.steps.len() != count {
            // A cycle among the steps (which the passes above must not make) leaves steps out.
            return Err(Error::internal("the compiled steps could not be ordered"));
        }
        let layout = memory::assign(&lowered.values, &lowered.steps, wanted.len());
        let registers = lowered.steps.iter().map(|s| s.registers()).max().unwrap_or(0);
        let parallel = lowered.steps.iter().any(Step::is_parallel);
        let threads = lowered.steps.iter().any(Step::uses_threads);
        Ok(Plan {
            steps: lowered.steps,
            slot_of: layout.slot_of,
            slot_lengths: layout.slot_lengths,
            outputs: lowered.outputs,
            inputs: lowered.inputs,
            output_of: lowered.values.iter().map(|v| v.output).collect(),
            registers,
            parallel,
            threads,
        })
    }

    pub(crate) fn outputs(&self) -> &[(usize, usize)] {
        &self.outputs
    }

    pub(crate) fn inputs(&self) -> &[InputShape] {
        &self.inputs
    }

    /// Fresh buffers for [`Plan::run`].
    pub(crate) fn workspace(&self) -> Workspace {
        let mut slots: Vec<Vec<f64>> = vec![Vec::new(); self.outputs.len()];
        slots.extend(self.slot_lengths.iter().map(|&n| vec![0.0; n]));
        let special = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Special { special, .. } => special.workspace(),
                _ => SpecialScratch::None,
            })
            .collect();
        Workspace { slots, registers: Registers::new(self.registers, self.parallel), special }
    }

    /// Runs every step. Graph input `i` is `inputs[order[i]].1`, or `extra[order[i] −
    /// inputs.len()].1` past the end of `inputs` (column-major, of the length
    /// [`Plan::inputs`] says; an unneeded one may be absent); `outputs[k]` receives
    /// requested node `k`, of the shape [`Plan::outputs`] says. The caller checks both.
    /// (Two lists, so that a caller can pass the point and the directions of a
    /// Hessian-vector product as they are, without joining them into a new list.)
    pub(crate) fn run(
        &self,
        workspace: &mut Workspace,
        (inputs, extra): (Buffers, Buffers),
        order: &[usize],
        outputs: &mut [Array],
    ) {
        self.run_steps(workspace, Inputs { given: inputs, extra, order }, outputs, None);
    }

    /// [`Plan::run`], adding each step's time in seconds to `seconds[step]`.
    pub(crate) fn run_timed(
        &self,
        workspace: &mut Workspace,
        (inputs, extra): (Buffers, Buffers),
        order: &[usize],
        outputs: &mut [Array],
        seconds: &mut [f64],
    ) {
        self.run_steps(workspace, Inputs { given: inputs, extra, order }, outputs, Some(seconds));
    }

    fn run_steps(&self, workspace: &mut Workspace, inputs: Inputs, outputs: &mut [Array], seconds: Option<&mut [f64]>) {
        if self.threads && rayon::current_thread_index().is_none() {
            rayon::scope(|_| self.run_here(workspace, inputs, outputs, seconds));
        } else {
            self.run_here(workspace, inputs, outputs, seconds);
        }
    }

    fn run_here(
        &self,
        workspace: &mut Workspace,
        inputs: Inputs,
        outputs: &mut [Array],
        mut seconds: Option<&mut [f64]>,
    ) {
        debug_assert_eq!(outputs.len(), self.outputs.len());
        // The outputs become slots for the run: the steps write them in place.
        for (slot, output) in workspace.slots.iter_mut().zip(outputs.iter_mut()) {
            std::mem::swap(slot, &mut output.data);
        }
        for (index, step) in self.steps.iter().enumerate() {
            let start = seconds.is_some().then(std::time::Instant::now);
            let dst_slot = self.slot_of[step.dst().0 as usize];
            let mut dst = std::mem::take(&mut workspace.slots[dst_slot]);
            match step {
                Step::Elementwise { kernel, .. } => {
                    let memory = Memory::new(inputs, &workspace.slots, &self.slot_of);
                    kernel.run(&memory, &mut workspace.registers, &mut dst);
                }
                Step::Products { products, .. } => {
                    products.run(inputs, &mut workspace.slots, &self.slot_of, &mut workspace.registers, &mut dst)
                }
                Step::Special { special, .. } => {
                    special.run(inputs, &mut workspace.slots, &self.slot_of, &mut workspace.special[index], &mut dst)
                }
                Step::SharedPass { pass, .. } => {
                    pass.run(inputs, &mut workspace.slots, &self.slot_of, &mut workspace.registers, &mut dst)
                }
                Step::MatrixVectors { pass, .. } => pass.run(inputs, &mut workspace.slots, &self.slot_of, &mut dst),
            }
            workspace.slots[dst_slot] = dst;
            if let (Some(seconds), Some(start)) = (seconds.as_deref_mut(), start) {
                seconds[index] += start.elapsed().as_secs_f64();
            }
        }
        for (slot, output) in workspace.slots.iter_mut().zip(outputs.iter_mut()) {
            std::mem::swap(slot, &mut output.data);
        }
    }

    /// One line per step, `name = what it computes [how]`, with inputs and outputs by the
    /// given names and intermediates numbered `t1`, `t2`, … in order.
    pub(crate) fn describe(&self, inputs: &[String], outputs: &[String]) -> Vec<String> {
        let mut temporaries: HashMap<ValueId, usize> = HashMap::new();
        let mut lines = Vec::new();
        let mut written = Vec::new();
        for step in &self.steps {
            let dst = step.dst();
            written.clear();
            step.writes(&mut written);
            for &v in &written {
                if self.output_of[v.0 as usize].is_none() {
                    let next = temporaries.len() + 1;
                    temporaries.entry(v).or_insert(next);
                }
            }
            let name = |source: Source| match source {
                Source::Input(i) => inputs[i as usize].clone(),
                Source::Value(v) => match self.output_of[v.0 as usize] {
                    Some(k) => outputs[k].clone(),
                    None => temporaries.get(&v).map_or_else(|| "scratch".to_string(), |t| format!("t{t}")),
                },
            };
            let body = match step {
                Step::Elementwise { kernel, .. } => kernel.describe(&name),
                Step::Products { products, .. } => products.describe(&name),
                Step::Special { special, .. } => special.describe(&name),
                Step::SharedPass { pass, .. } => pass.describe(&name),
                Step::MatrixVectors { pass, .. } => pass.describe(&name),
            };
            lines.push(format!("{} = {body}", name(Source::Value(dst))));
        }
        lines
    }

    pub(crate) fn steps(&self) -> usize {
        self.steps.len()
    }

    /// The bytes of the buffers a workspace and its outputs hold: every output and every
    /// intermediate slot (the dense routines' own scratch, LU's, and faer's packing space
    /// not counted).
    pub(crate) fn buffer_bytes(&self) -> usize {
        let outputs: usize = self.outputs.iter().map(|&(rows, cols)| rows * cols).sum();
        8 * (outputs + self.slot_lengths.iter().sum::<usize>())
    }
}

impl Step {
    fn registers(&self) -> usize {
        match self {
            Step::Elementwise { kernel, .. } => kernel.registers(),
            Step::Products { products, .. } => products.registers(),
            Step::Special { .. } => 0,
            Step::SharedPass { pass, .. } => pass.registers(),
            Step::MatrixVectors { .. } => 0,
        }
    }

    fn is_parallel(&self) -> bool {
        match self {
            Step::Elementwise { kernel, .. } => kernel.is_parallel(),
            Step::Products { products, .. } => products.is_parallel(),
            Step::Special { .. } | Step::SharedPass { .. } | Step::MatrixVectors { .. } => false,
        }
    }

    fn uses_threads(&self) -> bool {
        match self {
            Step::Elementwise { kernel, .. } => kernel.is_parallel(),
            Step::Products { products, .. } => products.uses_threads(),
            Step::Special { special, .. } => special.uses_threads(),
            Step::SharedPass { pass, .. } => pass.uses_threads(),
            Step::MatrixVectors { pass, .. } => pass.uses_threads(),
        }
    }
}

/// A caller's list of named column-major buffers.
pub(crate) type Buffers<'a> = &'a [(&'a str, &'a [f64])];

/// The caller's input buffers: graph input `i` is `given[order[i]]`, or
/// `extra[order[i] − given.len()]`.
#[derive(Clone, Copy)]
struct Inputs<'a> {
    given: &'a [(&'a str, &'a [f64])],
    extra: &'a [(&'a str, &'a [f64])],
    order: &'a [usize],
}

impl<'a> Inputs<'a> {
    fn get(&self, input: u32) -> &'a [f64] {
        let position = self.order[input as usize];
        match self.given.get(position) {
            Some(given) => given.1,
            None => self.extra[position - self.given.len()].1,
        }
    }
}

/// Read access to every array during a step: the caller's inputs and the slots (except the
/// ones being written, which the run loop has taken out).
struct Memory<'a> {
    inputs: Inputs<'a>,
    slots: &'a [Vec<f64>],
    slot_of: &'a [usize],
    /// A value whose slot is taken out (being written), lent back for reading.
    lent: Option<(ValueId, &'a [f64])>,
}

impl<'a> Memory<'a> {
    fn new(inputs: Inputs<'a>, slots: &'a [Vec<f64>], slot_of: &'a [usize]) -> Memory<'a> {
        Memory { inputs, slots, slot_of, lent: None }
    }

    /// This memory, with `value` read from `data` (the caller holds its slot).
    fn lending<'b>(&self, value: ValueId, data: &'b [f64]) -> Memory<'b>
    where
        'a: 'b,
    {
        Memory { inputs: self.inputs, slots: self.slots, slot_of: self.slot_of, lent: Some((value, data)) }
    }

    fn get(&self, source: Source) -> &'a [f64] {
        match source {
            Source::Input(i) => self.inputs.get(i),
            Source::Value(v) => match self.lent {
                Some((lent, data)) if lent == v => data,
                _ => &self.slots[self.slot_of[v.0 as usize]],
            },
        }
    }

    fn scalar(&self, source: Source) -> f64 {
        self.get(source)[0]
    }
}

/// Takes the slots of `values` out of `slots` (so they can be written while others are
/// read), and puts them back.
fn take_slots<const N: usize>(slots: &mut [Vec<f64>], slot_of: &[usize], values: [ValueId; N]) -> [Vec<f64>; N] {
    values.map(|v| std::mem::take(&mut slots[slot_of[v.0 as usize]]))
}

fn put_slots<const N: usize>(slots: &mut [Vec<f64>], slot_of: &[usize], values: [ValueId; N], taken: [Vec<f64>; N]) {
    for (v, buffer) in values.into_iter().zip(taken) {
        slots[slot_of[v.0 as usize]] = buffer;
    }
}
