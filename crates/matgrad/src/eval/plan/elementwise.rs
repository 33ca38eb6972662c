//! Fused elementwise loops: an expression tree of elementwise operations over strided
//! leaves, compiled to a short register program that runs over blocks of [`BLOCK`] entries.
//!
//! One pass over memory evaluates the whole chain (`u ⊙ v ⊙ p ⊙ (1 − u)` reads four vectors
//! and writes one); the per-instruction dispatch is paid once per block, and each
//! instruction is a simple loop the compiler vectorises. Leaves are read through strides, so
//! transposes, broadcasts (`Diag(v)·X` scales rows), diagonals and identity matrices cost
//! nothing to set up. The same program can end in a reduction (`sum`, `norm1`, `norm2`)
//! instead of a store, so `sum(t ⊙ log(p))` never materialises its argument.
//!
//! Invariant: an instruction's destination register is never one of its operands.

use crate::ir::func as scalar;
use crate::ir::Func;

use std::ops::Range;

use pulp::{Arch, Simd, WithSimd};

use super::math;
use super::{Memory, Source, ValueId};

/// Entries per block: the registers of a program stay in L1 (a program rarely needs more
/// than a handful of 2 KiB registers).
pub(super) const BLOCK: usize = 256;

/// A program runs on two threads, each on half the blocks, when its entries times (1 + its
/// cost per entry, see [`cost`]) reach this. Measured on this machine
/// (2 cores): `tanh(X) ⊙ X + 1` (cost 10) gains from two threads from 4096 entries on
/// (18 µs against 25), `X ⊙ X + 1` (cost 2) from 16384 (13 µs against 17).
const PARALLEL_WORK: usize = 1 << 15;

/// How deep an expression may grow before it is materialised: bounds registers and keeps
/// compilation from recursing without limit on very long chains.
pub(super) const MAX_DEPTH: u32 = 48;

/// An array read by an elementwise program.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Leaf {
    /// Entry (i, j) is `data[i·row_stride + j·col_stride]`; a zero stride broadcasts.
    Strided {
        source: Source,
        row_stride: usize,
        col_stride: usize,
    },
    /// The diagonal matrix with `data[i·stride]` at (i, i).
    Diagonal {
        source: Source,
        stride: usize,
    },
    Identity,
}

/// A value the same for every entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Scalar {
    Const(f64),
    /// The single entry of a 1×1 array computed earlier (or given).
    Runtime(Source),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unary {
    Neg,
    /// An integer power, which `x^2` (in tanh′ = 1 − y², say) is far cheaper as than `powf`.
    Powi(i32),
    Map(Func),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExprId(u32);

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Expr {
    Leaf(Leaf),
    Scalar(Scalar),
    Unary(Unary, ExprId),
    Binary(Binary, ExprId, ExprId),
}

/// The arena of elementwise expressions under construction. An expression has no shape of
/// its own: the kernel that runs it gives the shape, and leaves carry their strides.
#[derive(Debug, Default)]
pub(super) struct Exprs {
    nodes: Vec<(Expr, u32)>,
}

impl Exprs {
    /// Adds `expr`, folding operations on constants and turning small integer powers into
    /// `Powi`.
    pub(super) fn add(&mut self, expr: Expr) -> ExprId {
        let expr = match expr {
            Expr::Unary(op, a) => match self.get(a) {
                Expr::Scalar(Scalar::Const(x)) => Expr::Scalar(Scalar::Const(apply_unary(op, x))),
                _ => expr,
            },
            Expr::Binary(op, a, b) => match (self.get(a), self.get(b)) {
                (Expr::Scalar(Scalar::Const(x)), Expr::Scalar(Scalar::Const(y))) => {
                    Expr::Scalar(Scalar::Const(apply_binary(op, x, y)))
                }
                (_, Expr::Scalar(Scalar::Const(k))) if op == Binary::Pow && k.fract() == 0.0 && k.abs() <= 4.0 => {
                    if k == 1.0 {
                        return a;
                    }
                    Expr::Unary(Unary::Powi(k as i32), a)
                }
                _ => expr,
            },
            Expr::Leaf(_) | Expr::Scalar(_) => expr,
        };
        let depth = match expr {
            Expr::Leaf(_) | Expr::Scalar(_) => 1,
            Expr::Unary(_, a) => 1 + self.depth(a),
            Expr::Binary(_, a, b) => 1 + self.depth(a).max(self.depth(b)),
        };
        self.nodes.push((expr, depth));
        ExprId(self.nodes.len() as u32 - 1)
    }

    pub(super) fn get(&self, id: ExprId) -> Expr {
        self.nodes[id.0 as usize].0
    }

    pub(super) fn depth(&self, id: ExprId) -> u32 {
        self.nodes[id.0 as usize].1
    }

    pub(super) fn leaf(&mut self, leaf: Leaf) -> ExprId {
        self.add(Expr::Leaf(leaf))
    }

    pub(super) fn scalar(&mut self, scalar: Scalar) -> ExprId {
        self.add(Expr::Scalar(scalar))
    }

    pub(super) fn unary(&mut self, op: Unary, a: ExprId) -> ExprId {
        self.add(Expr::Unary(op, a))
    }

    pub(super) fn binary(&mut self, op: Binary, a: ExprId, b: ExprId) -> ExprId {
        self.add(Expr::Binary(op, a, b))
    }

    /// The expression of the transposed array: every leaf read with swapped strides.
    pub(super) fn transpose(&mut self, id: ExprId) -> ExprId {
        self.map_leaves(id, &|leaf| match leaf {
            Leaf::Strided { source, row_stride, col_stride } => {
                Expr::Leaf(Leaf::Strided { source, row_stride: col_stride, col_stride: row_stride })
            }
            Leaf::Diagonal { .. } | Leaf::Identity => Expr::Leaf(leaf),
        })
    }

    /// The diagonal of a square array's expression, as a column vector's expression.
    pub(super) fn diagonal(&mut self, id: ExprId) -> ExprId {
        self.map_leaves(id, &|leaf| match leaf {
            Leaf::Strided { source, row_stride, col_stride } => {
                Expr::Leaf(Leaf::Strided { source, row_stride: row_stride + col_stride, col_stride: 0 })
            }
            Leaf::Diagonal { source, stride } => {
                Expr::Leaf(Leaf::Strided { source, row_stride: stride, col_stride: 0 })
            }
            Leaf::Identity => Expr::Scalar(Scalar::Const(1.0)),
        })
    }

    fn map_leaves(&mut self, id: ExprId, f: &impl Fn(Leaf) -> Expr) -> ExprId {
        match self.get(id) {
            Expr::Leaf(leaf) => self.add(f(leaf)),
            Expr::Scalar(_) => id,
            Expr::Unary(op, a) => {
                let a = self.map_leaves(a, f);
                self.unary(op, a)
            }
            Expr::Binary(op, a, b) => {
                let a = self.map_leaves(a, f);
                let b = self.map_leaves(b, f);
                self.binary(op, a, b)
            }
        }
    }
}

/// What a program does with each entry it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sink {
    /// Writes a `rows × cols` column-major array.
    Store,
    /// Adds to a `rows × cols` column-major array (a sum of products whose product is
    /// written first, see `Products`).
    AddTo,
    Sum,
    SumAbs,
    /// The square root of the sum of squares.
    Norm2,
    /// The sum of squares: `‖x‖²`, which a squared loss is, without a square root to undo.
    SumSquares,
}

/// An operand: a register, a leaf read in place, or a scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arg {
    Reg(u16),
    /// A leaf read directly: a contiguous run of entries, or (in column order, with a zero
    /// row stride) one value per column.
    Leaf(u16),
    Scalar(Scalar),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Instr {
    /// Copies a leaf that cannot be read in place into a register.
    Gather {
        dst: u16,
        leaf: u16,
    },
    Unary {
        op: Unary,
        dst: u16,
        a: Arg,
    },
    Binary {
        op: Binary,
        dst: u16,
        a: Arg,
        b: Arg,
    },
}

/// A compiled elementwise program over a `rows × cols` array.
#[derive(Debug, Clone)]
pub(super) struct Kernel {
    rows: usize,
    cols: usize,
    leaves: Vec<Leaf>,
    code: Vec<Instr>,
    result: Arg,
    sink: Sink,
    /// Whether every leaf is laid out like the result, so blocks may run across columns.
    flat: bool,
    /// Whether the loop is long enough to split between two threads.
    parallel: bool,
    registers: usize,
}

impl Kernel {
    /// The program, adding to its destination instead of writing it.
    pub(super) fn adding(self) -> Kernel {
        debug_assert_eq!(self.sink, Sink::Store);
        Kernel { sink: Sink::AddTo, ..self }
    }

    pub(super) fn compile(exprs: &Exprs, root: ExprId, rows: usize, cols: usize, sink: Sink) -> Kernel {
        let mut leaves = Vec::new();
        collect_leaves(exprs, root, &mut leaves);
        let flat = leaves.iter().all(|leaf| match *leaf {
            Leaf::Strided { row_stride, col_stride, .. } => {
                (rows == 1 || row_stride == 1) && (cols == 1 || col_stride == rows)
            }
            Leaf::Diagonal { .. } | Leaf::Identity => false,
        });
        let mut compiler =
            Compiler { exprs, rows, leaves: Vec::new(), code: Vec::new(), free: Vec::new(), registers: 0, flat };
        let result = compiler.emit(root);
        let parallel = rows * cols * (1 + cost(&compiler.code)) >= PARALLEL_WORK;
        Kernel {
            rows,
            cols,
            leaves: compiler.leaves,
            code: compiler.code,
            result,
            sink,
            flat,
            parallel,
            registers: compiler.registers as usize,
        }
    }

    pub(super) fn is_parallel(&self) -> bool {
        self.parallel
    }

    pub(super) fn registers(&self) -> usize {
        self.registers
    }

    /// The values the program reads.
    pub(super) fn reads(&self, out: &mut Vec<ValueId>) {
        let mut source = |s: Source| {
            if let Source::Value(v) = s {
                out.push(v)
            }
        };
        for leaf in &self.leaves {
            match *leaf {
                Leaf::Strided { source: s, .. } | Leaf::Diagonal { source: s, .. } => source(s),
                Leaf::Identity => {}
            }
        }
        let args = self.code.iter().flat_map(|instr| match *instr {
            Instr::Gather { .. } => [None, None],
            Instr::Unary { a, .. } => [Some(a), None],
            Instr::Binary { a, b, .. } => [Some(a), Some(b)],
        });
        for arg in args.flatten().chain([self.result]) {
            if let Arg::Scalar(Scalar::Runtime(s)) = arg {
                source(s)
            }
        }
    }

    /// The program as an expression, e.g. `sum((x − t1) ⊙ y)`, with how it runs.
    pub(super) fn describe(&self, name: &dyn Fn(Source) -> String) -> String {
        let expression = self.expression(name);
        let body = match self.sink {
            Sink::Store | Sink::AddTo => expression,
            Sink::Sum => format!("sum({expression})"),
            Sink::SumAbs => format!("norm1({expression})"),
            Sink::Norm2 => format!("norm2({expression})"),
            Sink::SumSquares => format!("norm2({expression})²"),
        };
        let operations = self.code.iter().filter(|i| !matches!(i, Instr::Gather { .. })).count();
        let mut notes = vec![format!("{}×{}", self.rows, self.cols)];
        if operations > 1 {
            notes.push(format!("{operations} operations in one loop"));
        }
        if self.parallel {
            notes.push("2 threads".to_string());
        }
        format!("{body}   [{}]", notes.join(", "))
    }

    /// The program as an expression only.
    pub(super) fn expression(&self, name: &dyn Fn(Source) -> String) -> String {
        let mut registers = vec![String::new(); self.registers];
        let leaf = |index: u16| match self.leaves[index as usize] {
            Leaf::Strided { source, row_stride, col_stride } => {
                let n = name(source);
                match (row_stride, col_stride) {
                    (1, c) if c == self.rows || self.cols == 1 => n,
                    (_, 1) if self.rows == 1 || row_stride == self.cols => format!("{n}ᵀ"),
                    (1, 0) => format!("{n}·1ᵀ"),
                    (0, _) => format!("1·{n}ᵀ"),
                    (r, 0) => format!("diag({n})[stride {r}]"),
                    (r, c) => format!("{n}[{r}i + {c}j]"),
                }
            }
            Leaf::Diagonal { source, .. } => format!("Diag({})", name(source)),
            Leaf::Identity => "I".to_string(),
        };
        let arg = |a: Arg, registers: &[String]| match a {
            Arg::Reg(r) => registers[r as usize].clone(),
            Arg::Leaf(l) => leaf(l),
            Arg::Scalar(Scalar::Const(c)) => format!("{c}"),
            Arg::Scalar(Scalar::Runtime(source)) => name(source),
        };
        for instr in &self.code {
            let (dst, text) = match *instr {
                Instr::Gather { dst, leaf: l } => (dst, leaf(l)),
                Instr::Unary { op, dst, a } => {
                    let a = arg(a, &registers);
                    let text = match op {
                        Unary::Neg => format!("−{a}"),
                        Unary::Powi(k) => format!("{a}^{k}"),
                        Unary::Map(f) => format!("{}({a})", f.name()),
                    };
                    (dst, text)
                }
                Instr::Binary { op, dst, a, b } => {
                    let symbol = match op {
                        Binary::Add => "+",
                        Binary::Sub => "−",
                        Binary::Mul => "⊙",
                        Binary::Div => "/",
                        Binary::Pow => "^",
                    };
                    (dst, format!("({} {symbol} {})", arg(a, &registers), arg(b, &registers)))
                }
            };
            registers[dst as usize] = text;
        }
        let text = arg(self.result, &registers);
        text.strip_prefix('(').and_then(|t| t.strip_suffix(')')).map_or(text.clone(), str::to_string)
    }

    /// Runs the program: writes `dst[..rows·cols]`, or the reduction into `dst[0]`.
    pub(super) fn run(&self, memory: &Memory, registers: &mut Registers, dst: &mut [f64]) {
        // The units of work: blocks (flat order) or columns, `unit` entries apart in dst.
        let (units, unit) =
            if self.flat { ((self.rows * self.cols).div_ceil(BLOCK), BLOCK) } else { (self.cols, self.rows) };
        let total = match (registers.sets.as_mut_slice(), self.parallel && units >= 2) {
            ([first, second], true) => {
                let half = units / 2;
                // A store splits the result; a reduction's halves each return a partial sum.
                let (top, bottom) = match self.sink {
                    Sink::Store | Sink::AddTo => dst.split_at_mut(half * unit),
                    Sink::Sum | Sink::SumAbs | Sink::Norm2 | Sink::SumSquares => (&mut [][..], &mut [][..]),
                };
                let (a, b) = rayon::join(
                    || self.run_units(memory, first, top, 0..half),
                    || self.run_units(memory, second, bottom, half..units),
                );
                a.merge(b)
            }
            (sets, _) => self.run_units(memory, &mut sets[0], dst, 0..units),
        };
        match self.sink {
            Sink::Store | Sink::AddTo => {}
            Sink::Sum | Sink::SumAbs | Sink::SumSquares => dst[0] = total.sum(),
            Sink::Norm2 => dst[0] = total.sum().sqrt(),
        }
    }

    /// Whether the program writes a vector of `len` entries, each from the same entry of
    /// every operand, so that it can run on any range of entries as soon as that range of
    /// its operands is ready.
    pub(super) fn is_pointwise_vector(&self, len: usize) -> bool {
        self.flat && self.sink == Sink::Store && self.cols == 1 && self.rows == len
    }

    /// Entries `entries` of a pointwise vector program (see [`Kernel::is_pointwise_vector`])
    /// into `dst`, which holds just those entries; on this thread, with the first register set.
    pub(super) fn run_entries(
        &self,
        memory: &Memory,
        registers: &mut Registers,
        dst: &mut [f64],
        entries: Range<usize>,
    ) {
        debug_assert!(self.is_pointwise_vector(self.rows) && dst.len() == entries.len());
        let span = Span::Entries(entries);
        Arch::new().dispatch(Units { kernel: self, memory, registers: &mut registers.sets[0], dst, span });
    }

    /// Runs `units` (blocks or columns) with `dst` starting at the first unit's first entry,
    /// compiled for the CPU's instruction set.
    fn run_units(
        &self,
        memory: &Memory,
        registers: &mut [Vec<f64>],
        dst: &mut [f64],
        units: Range<usize>,
    ) -> Accumulator {
        Arch::new().dispatch(Units { kernel: self, memory, registers, dst, span: Span::Units(units) })
    }

    #[inline(always)]
    fn blocks(&self, memory: &Memory, registers: &mut [Vec<f64>], dst: &mut [f64], span: Span) -> Accumulator {
        let mut total = Accumulator::default();
        let entries = match span {
            Span::Entries(entries) => entries,
            Span::Units(units) if self.flat => units.start * BLOCK..(units.end * BLOCK).min(self.rows * self.cols),
            Span::Units(columns) => {
                let base = columns.start * self.rows;
                for col in columns {
                    for row in (0..self.rows).step_by(BLOCK) {
                        let at = Block { row, col, offset: row + col * self.rows, len: BLOCK.min(self.rows - row) };
                        self.block(memory, registers, dst, base, &mut total, at);
                    }
                }
                return total;
            }
        };
        for start in entries.clone().step_by(BLOCK) {
            let at = Block { row: start, col: 0, offset: start, len: BLOCK.min(entries.end - start) };
            self.block(memory, registers, dst, entries.start, &mut total, at);
        }
        total
    }

    /// One block: the program, then the store (`dst` starts at entry `base`) or the
    /// reduction. (A method, not a closure: a closure is compiled on its own, without the
    /// CPU's extensions, unless the compiler chooses to inline it.)
    #[inline(always)]
    fn block(
        &self,
        memory: &Memory,
        registers: &mut [Vec<f64>],
        dst: &mut [f64],
        base: usize,
        total: &mut Accumulator,
        at: Block,
    ) {
        self.execute(memory, registers, at);
        let value = operand(self.result, &self.leaves, at, memory, registers);
        match self.sink {
            Sink::Store => {
                let out = &mut dst[at.offset - base..at.offset - base + at.len];
                match value {
                    Lanes::Slice(s) => out.copy_from_slice(s),
                    Lanes::Scalar(x) => out.fill(x),
                }
            }
            Sink::AddTo => {
                let out = &mut dst[at.offset - base..at.offset - base + at.len];
                match value {
                    Lanes::Slice(s) => out.iter_mut().zip(s).for_each(|(o, v)| *o += v),
                    Lanes::Scalar(x) => out.iter_mut().for_each(|o| *o += x),
                }
            }
            Sink::Sum => total.add(value, at.len, |x| x),
            Sink::SumAbs => total.add(value, at.len, f64::abs),
            Sink::Norm2 | Sink::SumSquares => total.add(value, at.len, |x| x * x),
        }
    }

    #[inline(always)]
    fn execute(&self, memory: &Memory, registers: &mut [Vec<f64>], at: Block) {
        for instr in &self.code {
            match *instr {
                Instr::Gather { dst, leaf } => {
                    let out = &mut registers[dst as usize][..at.len];
                    gather(self.leaves[leaf as usize], at, memory, out);
                }
                Instr::Unary { op, dst, a } => {
                    let mut out = std::mem::take(&mut registers[dst as usize]);
                    let a = operand(a, &self.leaves, at, memory, registers);
                    unary(op, &mut out[..at.len], a);
                    registers[dst as usize] = out;
                }
                Instr::Binary { op, dst, a, b } => {
                    let mut out = std::mem::take(&mut registers[dst as usize]);
                    let a = operand(a, &self.leaves, at, memory, registers);
                    let b = operand(b, &self.leaves, at, memory, registers);
                    binary(op, &mut out[..at.len], a, b);
                    registers[dst as usize] = out;
                }
            }
        }
    }
}

/// A kernel's loop over a [`Span`], as a `pulp` operation: `with_simd` is called
/// from a function compiled for the CPU's instruction set, and everything the loop calls is
/// `#[inline(always)]`, so the per-instruction loops are compiled for it too.
struct Units<'a> {
    kernel: &'a Kernel,
    memory: &'a Memory<'a>,
    registers: &'a mut [Vec<f64>],
    dst: &'a mut [f64],
    span: Span,
}

/// What a loop covers: some of a program's units (blocks in flat order, or columns), or a
/// range of entries of a flat program.
enum Span {
    Units(Range<usize>),
    Entries(Range<usize>),
}

impl WithSimd for Units<'_> {
    type Output = Accumulator;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> Accumulator {
        self.kernel.blocks(self.memory, self.registers, self.dst, self.span)
    }
}

/// A rough cost per entry of a program, in arithmetic operations: a function's is in its row
/// of the function table (`Func::info`), and a `powf` is worth about eight.
fn cost(code: &[Instr]) -> usize {
    code.iter()
        .map(|instr| match instr {
            Instr::Gather { .. } => 1,
            Instr::Unary { op, .. } => match op {
                Unary::Map(f) => f.info().cost,
                Unary::Neg | Unary::Powi(_) => 1,
            },
            Instr::Binary { op, .. } => match op {
                Binary::Pow => 8,
                Binary::Add | Binary::Sub | Binary::Mul | Binary::Div => 1,
            },
        })
        .sum()
}

fn collect_leaves(exprs: &Exprs, id: ExprId, out: &mut Vec<Leaf>) {
    match exprs.get(id) {
        Expr::Leaf(leaf) => out.push(leaf),
        Expr::Scalar(_) => {}
        Expr::Unary(_, a) => collect_leaves(exprs, a, out),
        Expr::Binary(_, a, b) => {
            collect_leaves(exprs, a, out);
            collect_leaves(exprs, b, out);
        }
    }
}

/// Turns an expression tree into instructions, post-order, reusing freed registers.
struct Compiler<'a> {
    exprs: &'a Exprs,
    rows: usize,
    leaves: Vec<Leaf>,
    code: Vec<Instr>,
    free: Vec<u16>,
    registers: u16,
    flat: bool,
}

impl Compiler<'_> {
    fn emit(&mut self, id: ExprId) -> Arg {
        match self.exprs.get(id) {
            Expr::Leaf(mut leaf) => {
                // In flat order a leaf is read exactly like the result is laid out; saying
                // so with its strides lets one formula address both orders.
                if let (true, Leaf::Strided { source, .. }) = (self.flat, leaf) {
                    leaf = Leaf::Strided { source, row_stride: 1, col_stride: self.rows };
                }
                let index = match self.leaves.iter().position(|l| *l == leaf) {
                    Some(i) => i,
                    None => {
                        self.leaves.push(leaf);
                        self.leaves.len() - 1
                    }
                } as u16;
                let direct = match leaf {
                    Leaf::Strided { row_stride, .. } => self.flat || row_stride <= 1,
                    Leaf::Diagonal { .. } | Leaf::Identity => false,
                };
                if direct {
                    Arg::Leaf(index)
                } else {
                    let dst = self.allocate();
                    self.code.push(Instr::Gather { dst, leaf: index });
                    Arg::Reg(dst)
                }
            }
            Expr::Scalar(s) => Arg::Scalar(s),
            Expr::Unary(op, a) => {
                let a = self.emit(a);
                let dst = self.allocate();
                self.code.push(Instr::Unary { op, dst, a });
                self.release(a);
                Arg::Reg(dst)
            }
            Expr::Binary(op, a, b) => {
                let a = self.emit(a);
                let b = self.emit(b);
                let dst = self.allocate();
                self.code.push(Instr::Binary { op, dst, a, b });
                self.release(a);
                self.release(b);
                Arg::Reg(dst)
            }
        }
    }

    fn allocate(&mut self) -> u16 {
        self.free.pop().unwrap_or_else(|| {
            self.registers += 1;
            self.registers - 1
        })
    }

    fn release(&mut self, arg: Arg) {
        if let Arg::Reg(r) = arg {
            self.free.push(r);
        }
    }
}

/// The registers of the elementwise programs, [`BLOCK`] entries each; a second set for the
/// second thread when some program runs on two.
#[derive(Debug)]
pub(super) struct Registers {
    sets: Vec<Vec<Vec<f64>>>,
}

impl Registers {
    pub(super) fn new(count: usize, parallel: bool) -> Registers {
        Registers { sets: vec![vec![vec![0.0; BLOCK]; count]; if parallel { 2 } else { 1 }] }
    }
}

/// Where a block is: `len` entries from (`row`, `col`) down the column, starting at entry
/// `offset` of the result. In flat order `row` is the linear index and `col` is 0 (flat
/// leaves have strides (1, rows), so the same address formula holds).
#[derive(Debug, Clone, Copy)]
struct Block {
    row: usize,
    col: usize,
    offset: usize,
    len: usize,
}

/// An operand's entries for one block.
#[derive(Debug, Clone, Copy)]
enum Lanes<'a> {
    Slice(&'a [f64]),
    Scalar(f64),
}

#[inline(always)]
fn operand<'a>(arg: Arg, leaves: &[Leaf], at: Block, memory: &Memory<'a>, registers: &'a [Vec<f64>]) -> Lanes<'a> {
    match arg {
        Arg::Reg(r) => Lanes::Slice(&registers[r as usize][..at.len]),
        Arg::Scalar(Scalar::Const(x)) => Lanes::Scalar(x),
        Arg::Scalar(Scalar::Runtime(source)) => Lanes::Scalar(memory.scalar(source)),
        Arg::Leaf(leaf) => match leaves[leaf as usize] {
            Leaf::Strided { source, row_stride, col_stride } => {
                let data = memory.get(source);
                if row_stride == 0 {
                    Lanes::Scalar(data[at.col * col_stride])
                } else {
                    let start = at.row * row_stride + at.col * col_stride;
                    Lanes::Slice(&data[start..start + at.len])
                }
            }
            Leaf::Diagonal { .. } | Leaf::Identity => unreachable!("diagonal leaves are gathered"),
        },
    }
}

#[inline(always)]
fn gather(leaf: Leaf, at: Block, memory: &Memory, out: &mut [f64]) {
    match leaf {
        Leaf::Strided { source, row_stride, col_stride } => {
            let data = memory.get(source);
            let start = at.row * row_stride + at.col * col_stride;
            for (k, o) in out.iter_mut().enumerate() {
                *o = data[start + k * row_stride];
            }
        }
        Leaf::Diagonal { source, stride } => {
            out.fill(0.0);
            if (at.row..at.row + at.len).contains(&at.col) {
                out[at.col - at.row] = memory.get(source)[at.col * stride];
            }
        }
        Leaf::Identity => {
            out.fill(0.0);
            if (at.row..at.row + at.len).contains(&at.col) {
                out[at.col - at.row] = 1.0;
            }
        }
    }
}

/// Sums in [`ACCUMULATOR_LANES`] lanes, which vectorises and loses less to rounding than one
/// running sum.
#[derive(Default)]
struct Accumulator {
    lanes: [f64; ACCUMULATOR_LANES],
}

/// Lanes of a running sum: sixteen are two to four vectors, so the additions form
/// independent chains instead of one that waits on each addition's latency (a sum of 4096
/// entries took 1.5 µs with four lanes).
const ACCUMULATOR_LANES: usize = 16;

impl Accumulator {
    #[inline(always)]
    fn add(&mut self, value: Lanes, len: usize, f: impl Fn(f64) -> f64) {
        match value {
            Lanes::Slice(s) => {
                let mut chunks = s.chunks_exact(ACCUMULATOR_LANES);
                for chunk in &mut chunks {
                    for (lane, &x) in self.lanes.iter_mut().zip(chunk) {
                        *lane += f(x);
                    }
                }
                for &x in chunks.remainder() {
                    self.lanes[0] += f(x);
                }
            }
            Lanes::Scalar(x) => self.lanes[0] += f(x) * len as f64,
        }
    }

    fn sum(&self) -> f64 {
        // Pairwise, which loses less to rounding than a running sum.
        let mut lanes = self.lanes;
        let mut width = ACCUMULATOR_LANES;
        while width > 1 {
            width /= 2;
            for i in 0..width {
                lanes[i] += lanes[i + width];
            }
        }
        lanes[0]
    }

    fn merge(mut self, other: Accumulator) -> Accumulator {
        for (lane, o) in self.lanes.iter_mut().zip(other.lanes) {
            *lane += o;
        }
        self
    }
}

#[inline(always)]
fn each(out: &mut [f64], a: Lanes, f: impl Fn(f64) -> f64) {
    match a {
        Lanes::Slice(s) => {
            for (o, &x) in out.iter_mut().zip(s) {
                *o = f(x);
            }
        }
        Lanes::Scalar(x) => out.fill(f(x)),
    }
}

#[inline(always)]
fn zip(out: &mut [f64], a: Lanes, b: Lanes, f: impl Fn(f64, f64) -> f64) {
    match (a, b) {
        (Lanes::Slice(a), Lanes::Slice(b)) => {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        }
        (Lanes::Slice(a), Lanes::Scalar(y)) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x, y);
            }
        }
        (Lanes::Scalar(x), Lanes::Slice(b)) => {
            for (o, &y) in out.iter_mut().zip(b) {
                *o = f(x, y);
            }
        }
        (Lanes::Scalar(x), Lanes::Scalar(y)) => out.fill(f(x, y)),
    }
}

#[inline(always)]
fn unary(op: Unary, out: &mut [f64], a: Lanes) {
    match op {
        Unary::Neg => each(out, a, |x| -x),
        Unary::Powi(2) => each(out, a, |x| x * x),
        Unary::Powi(k) => each(out, a, |x| x.powi(k)),
        // One loop per function, so each is inlined (and the cheap ones vectorised).
        Unary::Map(f) => match f {
            Func::Sigmoid => each(out, a, math::sigmoid),
            Func::Tanh => each(out, a, math::tanh),
            Func::Exp => each(out, a, math::exp),
            Func::Log => each(out, a, f64::ln),
            Func::Sin => each(out, a, f64::sin),
            Func::Cos => each(out, a, f64::cos),
            Func::Tan => each(out, a, f64::tan),
            Func::Sqrt => each(out, a, f64::sqrt),
            Func::Abs => each(out, a, f64::abs),
            Func::Sign => each(out, a, scalar::sign),
            Func::Relu => each(out, a, scalar::relu),
            Func::Softplus => each(out, a, math::softplus),
            Func::Step => each(out, a, scalar::step),
        },
    }
}

#[inline(always)]
fn binary(op: Binary, out: &mut [f64], a: Lanes, b: Lanes) {
    match op {
        Binary::Add => zip(out, a, b, |x, y| x + y),
        Binary::Sub => zip(out, a, b, |x, y| x - y),
        Binary::Mul => zip(out, a, b, |x, y| x * y),
        Binary::Div => zip(out, a, b, |x, y| x / y),
        Binary::Pow => zip(out, a, b, f64::powf),
    }
}

fn apply_unary(op: Unary, x: f64) -> f64 {
    let mut out = [0.0];
    unary(op, &mut out, Lanes::Scalar(x));
    out[0]
}

fn apply_binary(op: Binary, x: f64, y: f64) -> f64 {
    let mut out = [0.0];
    binary(op, &mut out, Lanes::Scalar(x), Lanes::Scalar(y));
    out[0]
}
