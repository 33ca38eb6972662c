//! `jacobian`'s and `hessian`'s reports: every block in each form it has, its numbers in
//! JAX's layout, and the finite-difference check.
//!
//! A block of a value y with respect to x has the shape of y followed by the shape of x, and
//! its entry [i…, j…] is ∂y[i…]/∂x[j…] — `jax.jacobian`'s layout; a Hessian's block (p, q)
//! is the block of ∂L/∂p with respect to q, `jax.hessian`'s.

use std::fmt::Write;

use indexmap::IndexMap;
use serde::{Serialize, Serializer};

use super::values::show;
use super::{readings, shape_of, At, Check, Extent, Forms, Reading};
use crate::check::check_jacobians;
use crate::eval::{evaluate, Tape};
use crate::jacobian::{Block, Blocks, Derivative};
use crate::print::{latex_name, unicode_name, Notation};
use crate::{Array, Error, Hessian, Jacobian, Point};

/// How a Jacobian's blocks are laid out, said wherever they are printed.
pub const JACOBIAN_LAYOUT: &str =
    "∂y/∂x has the shape of y followed by the shape of x; its entry [i…, j…] is ∂y[i…]/∂x[j…] (jax.jacobian's layout)";

/// How a Hessian's blocks are laid out.
pub const HESSIAN_LAYOUT: &str =
    "∂²L/∂p∂q has the shape of p followed by the shape of q; its entry [i…, j…] is ∂²L/∂p[i…]∂q[j…] (jax.hessian's layout)";

/// An array of any number of axes, in C order; in JSON nested lists, as NumPy's `tolist()`
/// gives (a number for no axes). A non-finite entry is a string, as for [`Array`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    /// The entries in C (row-major) order.
    pub data: Vec<f64>,
}

impl Tensor {
    /// `array` with `axes` ≤ 2 axes: a scalar, a vector or a matrix, whatever its sizes (a
    /// 3×1 matrix stays a list of rows, a vector of length 1 a list).
    pub(crate) fn of(array: &Array, axes: usize) -> Tensor {
        let shape = match axes {
            0 => Vec::new(),
            1 => vec![array.rows * array.cols],
            _ => vec![array.rows, array.cols],
        };
        Tensor { shape, data: array.to_rows().concat() }
    }

    /// The entry at a flat C-order position's nested lists.
    fn to_json(&self) -> serde_json::Value {
        fn nest(shape: &[usize], data: &[f64]) -> serde_json::Value {
            match shape.split_first() {
                None => crate::array::number(data[0]),
                Some((&n, rest)) => {
                    let stride: usize = rest.iter().product();
                    serde_json::Value::Array((0..n).map(|i| nest(rest, &data[i * stride..(i + 1) * stride])).collect())
                }
            }
        }
        nest(&self.shape, &self.data)
    }

    /// The entries as a matrix: the first `axes` axes index rows, the others columns (C
    /// order, as `numpy.reshape`), for showing a block of more than two axes.
    pub fn matrix(&self, axes: usize) -> Array {
        let rows: usize = self.shape[..axes.min(self.shape.len())].iter().product();
        let cols = self.data.len() / rows.max(1);
        Array::from_fn(rows, cols, |i, j| self.data[i * cols + j])
    }
}

impl Serialize for Tensor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// One block: its shape, numbers, and every form it has.
#[derive(Debug, Clone, Serialize)]
pub struct BlockEntry {
    pub shape: Vec<Extent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Tensor>,
    /// Matrix notation, where the block has at most two axes.
    #[serde(flatten)]
    pub forms: Option<Forms>,
    /// The linear map, always: `dX ↦ A dX + dX Aᵀ`.
    pub map: String,
    /// Index notation, always: `H[i,j,k,l] = (A + Aᵀ)[i,k] δ[j,l]`.
    pub index: String,
    /// The Kronecker form of a matrix's block with respect to a matrix, where unambiguous:
    /// ∂vec(Y)/∂vec(X) = Bᵀ ⊗ A.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vec: Option<String>,
    pub map_latex: String,
    pub index_latex: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vec_latex: Option<String>,
    /// How many axes are the value's (the rest are the variable's).
    #[serde(skip)]
    pub value_axes: usize,
}

/// What both reports share: the inputs, the output's value, the definitions, the point
/// and the check.
#[derive(Debug, Clone, Serialize)]
pub struct Common {
    pub inputs: IndexMap<String, Reading>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Array>,
    pub layout: &'static str,
    /// Introduced names for repeated subexpressions, in definition order.
    pub definitions: IndexMap<String, Forms>,
    #[serde(flatten)]
    pub at: Option<At>,
    /// The largest relative error per block (`x`, or `p|q` for a Hessian's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// The output's own expression, for text.
    #[serde(skip)]
    pub expression: Forms,
    /// `# inputs …` lines, for text.
    #[serde(skip)]
    pub inputs_header: String,
}

/// The Jacobian of an output: `{"output", "wrt", "jacobian": {x: BLOCK}, …}`.
#[derive(Debug, Clone, Serialize)]
pub struct JacobianReport {
    pub output: String,
    pub wrt: Vec<String>,
    pub jacobian: IndexMap<String, BlockEntry>,
    #[serde(flatten)]
    pub common: Common,
}

/// The Hessian of a scalar output: `{"output", "wrt", "hessian": {p: {q: BLOCK}}, …}`.
#[derive(Debug, Clone, Serialize)]
pub struct HessianReport {
    pub output: String,
    pub wrt: Vec<String>,
    pub hessian: IndexMap<String, IndexMap<String, BlockEntry>>,
    #[serde(flatten)]
    pub common: Common,
}

impl Jacobian {
    /// The report: every form always; with a point, the numbers there; with a tolerance as
    /// well, the check against finite differences of the output.
    pub fn report(&self, point: Option<&Point>, tolerance: Option<f64>) -> Result<JacobianReport, Error> {
        let blocks = &self.blocks;
        let (entries, common) = blocks.entries(point, tolerance)?;
        let jacobian = blocks.blocks.iter().zip(entries).map(|(b, e)| (blocks.wrt[b.q].name.clone(), e)).collect();
        Ok(JacobianReport {
            output: blocks.program.output_name().to_string(),
            wrt: blocks.wrt_names(),
            jacobian,
            common,
        })
    }
}

impl Hessian {
    /// The report: every block in every form it has; with a point, the numbers there; with
    /// a tolerance as well, the check against finite differences of the gradient.
    pub fn report(&self, point: Option<&Point>, tolerance: Option<f64>) -> Result<HessianReport, Error> {
        let blocks = &self.blocks;
        let (entries, common) = blocks.entries(point, tolerance)?;
        let mut hessian: IndexMap<String, IndexMap<String, BlockEntry>> = IndexMap::new();
        for (block, entry) in blocks.blocks.iter().zip(entries) {
            let p = &blocks.wrt[block.p.unwrap_or(block.q)].name;
            hessian.entry(p.clone()).or_default().insert(blocks.wrt[block.q].name.clone(), entry);
        }
        Ok(HessianReport { output: blocks.program.output_name().to_string(), wrt: blocks.wrt_names(), hessian, common })
    }
}

/// Where a block's numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evaluation {
    /// Its matrix form where it has one (one evaluation), else its map on every basis
    /// direction.
    ClosedForm,
    /// Its map on every basis direction, always (what the tests compare the closed form with).
    #[cfg(test)]
    Map,
}

impl Blocks {
    fn wrt_names(&self) -> Vec<String> {
        self.wrt.iter().map(|w| w.name.clone()).collect()
    }

    /// A block's key in the check: `x`, or `p|q` for a Hessian's.
    fn key(&self, block: &Block) -> String {
        let q = &self.wrt[block.q].name;
        match block.p {
            Some(p) => format!("{}|{q}", self.wrt[p].name),
            None => q.clone(),
        }
    }

    pub(crate) fn entries(
        &self,
        point: Option<&Point>,
        tolerance: Option<f64>,
    ) -> Result<(Vec<BlockEntry>, Common), Error> {
        let program = &self.program;
        let graph = &program.graph;
        let sizes = point.map(|p| &p.sizes);
        let jacobians = match point {
            Some(point) => {
                self.check_memory(point)?;
                Some(self.jacobians(point, Evaluation::ClosedForm)?)
            }
            None => None,
        };
        let entries = self
            .blocks
            .iter()
            .enumerate()
            .map(|(n, block)| {
                let wrt = &self.wrt[block.q];
                let mut shape = shape_of(program, block.of, sizes);
                let value_axes = shape.len();
                shape.extend(shape_of(program, wrt.node, sizes));
                let value = jacobians.as_ref().map(|j| self.tensor(block, &j[n], point));
                BlockEntry {
                    shape,
                    value,
                    forms: block.matrix.map(|_| Forms::of(|notation| self.matrix(block, notation).unwrap_or_default())),
                    map: self.map(block, Notation::Unicode),
                    index: self.index(block, Notation::Unicode),
                    vec: self.kronecker(block, Notation::Unicode),
                    map_latex: self.map(block, Notation::Latex),
                    index_latex: self.index(block, Notation::Latex),
                    vec_latex: self.kronecker(block, Notation::Latex),
                    value_axes,
                }
            })
            .collect();
        let check = match (point, tolerance, &jacobians) {
            (Some(point), Some(tolerance), Some(jacobians)) => {
                let triples: Vec<_> =
                    self.blocks.iter().zip(jacobians).map(|(b, j)| (b.of, self.wrt[b.q].node, j)).collect();
                let errors = check_jacobians(graph, &triples, &point.sizes, &point.inputs)?;
                let errors: IndexMap<String, f64> = self.blocks.iter().map(|b| self.key(b)).zip(errors).collect();
                let passed = errors.values().all(|&e| e <= tolerance);
                Some(Check { tolerance, passed, errors })
            }
            _ => None,
        };
        let output = program.output_node();
        let definitions =
            self.definitions.iter().map(|(id, name)| (name.clone(), Forms::of(|n| self.expression(*id, n)))).collect();
        let value = match point {
            Some(point) => Some(evaluate(graph, &point.sizes, &point.inputs, &[output])?.remove(0)),
            None => None,
        };
        let common = Common {
            inputs: readings(program),
            value,
            layout: match self.kind {
                Derivative::Jacobian => JACOBIAN_LAYOUT,
                Derivative::Hessian => HESSIAN_LAYOUT,
            },
            definitions,
            at: point.map(At::of),
            check,
            expression: Forms::of(|notation| self.expression(output, notation)),
            inputs_header: program.inputs_header(),
        };
        Ok((entries, common))
    }

    /// Refuses a point whose dense blocks would not fit in its memory budget, before any is
    /// computed: the sizes were checked for the program's own arrays, but a block has
    /// len(value) × len(variable) entries (the Hessian of log det X with X of 150 × 150 is
    /// 22 500 × 22 500, 4 GiB), each held as the block, again in JAX's layout, and printed.
    fn check_memory(&self, point: &Point) -> Result<(), Error> {
        /// Bytes per entry: the block and its JAX-layout copy (8 each), and its printed
        /// number (about 24 characters in JSON).
        const BYTES_PER_ENTRY: u128 = 40;
        let graph = &self.program.graph;
        let size = |id| point.sizes.shape(graph, graph.shape(id)).map_or(0, |(r, c)| (r as u128) * (c as u128));
        let (mut total, mut largest) = (0u128, (0u128, None));
        for block in &self.blocks {
            let entries = size(block.of).saturating_mul(size(self.wrt[block.q].node));
            total = total.saturating_add(entries);
            if entries > largest.0 {
                largest = (entries, Some(block));
            }
        }
        let bytes = total.saturating_mul(BYTES_PER_ENTRY);
        let (entries, Some(block)) = largest else { return Ok(()) };
        if bytes <= u128::from(point.budget) {
            return Ok(());
        }
        let output = self.program.output_name();
        let name = label(output, block.p.map(|p| self.wrt[p].name.as_str()), &self.wrt[block.q].name);
        let (of, q) = (size(block.of), size(self.wrt[block.q].node));
        Err(Error::input(format!(
            "the blocks' numbers at these sizes need {} of memory, more than the budget of {}: {name} alone has \
             {entries} entries ({of} × {q})",
            crate::eval::bytes_text(bytes),
            crate::eval::bytes_text(u128::from(point.budget)),
        ))
        .with_hint("choose smaller sizes (the closed forms do not depend on them)"))
    }

    /// Every block's Jacobian at `point`: len(value) × len(variable), both in column-major
    /// order. From the matrix form where there is one (one evaluation: a Hessian from its
    /// closed form, not from products with it); otherwise the map applied to each basis
    /// direction, on a tape that recomputes only what depends on the direction.
    pub(crate) fn jacobians(&self, point: &Point, from: Evaluation) -> Result<Vec<Array>, Error> {
        let graph = &self.program.graph;
        let matrix = |b: &Block| if from == Evaluation::ClosedForm { b.matrix } else { None };
        let matrices: Vec<_> = self.blocks.iter().filter_map(matrix).collect();
        let mut values = evaluate(graph, &point.sizes, &point.inputs, &matrices)?.into_iter();
        let mut out = Vec::new();
        for block in &self.blocks {
            let wrt = &self.wrt[block.q];
            let size = |id| point.sizes.shape(graph, graph.shape(id)).map_or(0, |(r, c)| r * c);
            let (rows, cols) = (size(block.of), size(wrt.node));
            let jacobian = match (matrix(block), block.map) {
                (Some(_), _) => {
                    let value = values.next().expect("one value per matrix form");
                    Array { rows, cols, data: value.data }
                }
                (None, None) => Array::zeros(rows, cols),
                (None, Some(map)) => {
                    let (r, c) = point.sizes.shape(graph, graph.shape(wrt.node)).unwrap_or((0, 0));
                    let mut inputs = point.inputs.clone();
                    let name = graph.name(wrt.tangent).unwrap_or_default().to_string();
                    inputs.insert(name, Array::zeros(r, c));
                    let mut tape = Tape::new(graph, &point.sizes, &inputs, &[map, wrt.tangent])?;
                    let dependents = tape.dependents(wrt.tangent);
                    let mut data = Vec::with_capacity(rows * cols);
                    let mut direction = Array::zeros(r, c);
                    for k in 0..r * c {
                        direction.data[k] = 1.0;
                        data.extend(tape.value_with(wrt.tangent, &direction, &dependents, map)?.data);
                        direction.data[k] = 0.0;
                    }
                    Array { rows, cols, data }
                }
            };
            out.push(jacobian);
        }
        Ok(out)
    }

    /// The block's numbers in JAX's layout, from its Jacobian (entry (a, b) is ∂y[a]/∂x[b],
    /// each side in column-major order): entry [i, j, k, l] is ∂y[i,j]/∂x[k,l].
    fn tensor(&self, block: &Block, jacobian: &Array, point: Option<&Point>) -> Tensor {
        let graph = &self.program.graph;
        let shape_of = |id| point.and_then(|p| p.sizes.shape(graph, graph.shape(id))).unwrap_or((1, 1));
        let ((r, c), (qr, qc)) = (shape_of(block.of), shape_of(self.wrt[block.q].node));
        let mut data = Vec::with_capacity(r * c * qr * qc);
        for i in 0..r {
            for j in 0..c {
                for k in 0..qr {
                    for l in 0..qc {
                        data.push(jacobian.get(j * r + i, l * qr + k));
                    }
                }
            }
        }
        let extent = |id| shape_of_sizes(self, id, point);
        let mut shape = extent(block.of);
        shape.extend(extent(self.wrt[block.q].node));
        Tensor { shape, data }
    }
}

/// The sizes of a block side's axes at a point ([] for a scalar, [n] for a vector).
fn shape_of_sizes(blocks: &Blocks, id: crate::ir::NodeId, point: Option<&Point>) -> Vec<usize> {
    shape_of(&blocks.program, id, point.map(|p| &p.sizes))
        .into_iter()
        .map(|e| match e {
            Extent::Size(n) => n,
            Extent::Symbol(_) => 0,
        })
        .collect()
}

/// A block's name in text: `∂y/∂x`, `∂²L/∂x∂A`, `∂²L/∂x²`.
fn label(output: &str, p: Option<&str>, q: &str) -> String {
    let (output, q) = (unicode_name(output), unicode_name(q));
    match p.map(unicode_name) {
        None => format!("∂{output}/∂{q}"),
        Some(p) if p == q => format!("∂²{output}/∂{q}²"),
        Some(p) => format!("∂²{output}/∂{p}∂{q}"),
    }
}

/// A block's name in LaTeX, of the names as LaTeX writes them: `\frac{\partial y}{\partial x}`,
/// `\frac{\partial^2 L}{\partial x\,\partial A}`, `\frac{\partial^2 L}{\partial x^2}`.
fn latex_label(output: &str, p: Option<&str>, q: &str) -> String {
    match p {
        None => format!("\\frac{{\\partial {output}}}{{\\partial {q}}}"),
        Some(p) if p == q => format!("\\frac{{\\partial^2 {output}}}{{\\partial {q}^2}}"),
        Some(p) => format!("\\frac{{\\partial^2 {output}}}{{\\partial {p}\\,\\partial {q}}}"),
    }
}

impl JacobianReport {
    fn blocks(&self) -> Vec<(Option<&str>, &str, &BlockEntry)> {
        self.jacobian.iter().map(|(q, b)| (None, q.as_str(), b)).collect()
    }

    /// For a terminal: every block's forms, then the numbers and the check.
    pub fn text(&self) -> String {
        text("Jacobian", &self.output, &self.common, &self.blocks())
    }

    /// The forms as a LaTeX `aligned` block.
    pub fn latex(&self) -> String {
        latex(&self.output, &self.common, &self.blocks())
    }
}

impl HessianReport {
    fn blocks(&self) -> Vec<(Option<&str>, &str, &BlockEntry)> {
        self.hessian
            .iter()
            .flat_map(|(p, row)| row.iter().map(move |(q, b)| (Some(p.as_str()), q.as_str(), b)))
            .collect()
    }

    /// For a terminal: every block's forms, then the numbers and the check.
    pub fn text(&self) -> String {
        text("Hessian", &self.output, &self.common, &self.blocks())
    }

    /// The forms as a LaTeX `aligned` block.
    pub fn latex(&self) -> String {
        latex(&self.output, &self.common, &self.blocks())
    }
}

fn text(what: &str, output: &str, common: &Common, blocks: &[(Option<&str>, &str, &BlockEntry)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {what} of {} = {}", unicode_name(output), common.expression.expr);
    out.push_str(&common.inputs_header);
    let _ = writeln!(out, "# layout: {}", common.layout.replace('L', &unicode_name(output)));
    for &(p, q, block) in blocks {
        out.push('\n');
        let name = label(output, p, q);
        match &block.forms {
            Some(forms) => {
                let _ = writeln!(out, "{name} = {}", forms.expr);
            }
            None => {
                let _ = writeln!(out, "{name}");
            }
        }
        let _ = writeln!(out, "  map:   {}", block.map);
        let _ = writeln!(out, "  index: {}", block.index);
        if let Some(vec) = &block.vec {
            let _ = writeln!(out, "  vec:   {vec}");
        }
    }
    super::write_definitions(&mut out, &common.definitions);
    let (Some(at), Some(value)) = (&common.at, &common.value) else { return out };
    out.push('\n');
    out.push_str(&at.header);
    let _ = writeln!(out, "{}", show(output, value));
    for &(p, q, block) in blocks {
        let Some(tensor) = &block.value else { continue };
        let name = label(output, p, q);
        if tensor.shape.len() <= 2 {
            let array = if tensor.shape.len() == 2 { tensor.matrix(1) } else { Array::vector(tensor.data.clone()) };
            let array = if tensor.shape.is_empty() { Array::scalar(tensor.data[0]) } else { array };
            let _ = writeln!(out, "{}", show(&name, &array));
        } else {
            let sizes: Vec<String> = tensor.shape.iter().map(usize::to_string).collect();
            let matrix = tensor.matrix(block.value_axes);
            let heading = format!("{name}, {} as {}×{} (C order)", sizes.join("×"), matrix.rows, matrix.cols);
            let _ = writeln!(out, "{}", show(&heading, &matrix));
        }
    }
    if let Some(check) = &common.check {
        let of = if what == "Hessian" { "the gradient" } else { "the output" };
        check.write(&mut out, &format!("block (central differences of {of}"));
    }
    out
}

fn latex(output: &str, common: &Common, blocks: &[(Option<&str>, &str, &BlockEntry)]) -> String {
    let mut out = String::from("% layout: the shape of the value followed by the shape of the variable (jax.jacobian's, jax.hessian's)\n\\begin{aligned}\n");
    let vec = |name: &str| format!("\\operatorname{{vec}}({})", latex_name(name));
    for &(p, q, block) in blocks {
        let name = latex_label(&latex_name(output), p.map(latex_name).as_deref(), &latex_name(q));
        if let Some(forms) = &block.forms {
            let _ = writeln!(out, "{name} &= {} \\\\", forms.latex);
        }
        let _ = writeln!(out, "{name} &: {} \\\\", block.map_latex);
        let _ = writeln!(out, "&{} \\\\", block.index_latex.replacen(" = ", " &= ", 1).replacen('&', "", 1));
        if let Some(form) = &block.vec_latex {
            // ∂vec(Y)/∂vec(X) for a Jacobian's block; a Hessian's is the Jacobian of ∂L/∂p,
            // ∂²L/∂vec(p)∂vec(q).
            let name = match p {
                None => latex_label(&vec(output), None, &vec(q)),
                Some(p) => latex_label(&latex_name(output), Some(&vec(p)), &vec(q)),
            };
            let _ = writeln!(out, "{name} &= {form} \\\\");
        }
    }
    if !common.definitions.is_empty() {
        out.push_str("&\\text{where} \\\\\n");
        for (name, forms) in &common.definitions {
            let _ = writeln!(out, "{} &= {} \\\\", latex_name(name), forms.latex);
        }
    }
    out.push_str("\\end{aligned}\n");
    out
}
