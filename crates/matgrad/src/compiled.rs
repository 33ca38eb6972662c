//! Compiled evaluation for people who train in Rust: compile a program's value and
//! gradients once at fixed sizes, then run them on your own buffers as often as you like.
//!
//! ```
//! let source = "x: vector(K)\nA: matrix(K, K)\nL = sum((A*x).^2)";
//! let f = matgrad::Program::parse(source)?.gradient(&["A", "x"])?.compile(&[("K", 2)])?;
//! let mut out = f.outputs();
//! // Column-major: A = [[1, 2], [3, 4]] is stored as [1, 3, 2, 4].
//! let (a, x) = (vec![1.0, 3.0, 2.0, 4.0], vec![1.0, 1.0]);
//! f.run(&[("A", &a), ("x", &x)], &mut out)?;
//! assert_eq!(out.scalar(), Some(58.0)); // ‖A x‖² = 3² + 7²
//! let grad_a = out.gradient("A").unwrap(); // 2 (A x) xᵀ
//! assert_eq!(grad_a.data, vec![6.0, 14.0, 6.0, 14.0]);
//! # Ok::<(), matgrad::Error>(())
//! ```
//!
//! [`Compiled::run`] checks the buffers (every input present, of the right length) and then
//! runs the plan (see `eval::plan`): it allocates nothing, and writes the results into the
//! [`Outputs`], which also holds the scratch memory, so one `Compiled` can serve several
//! threads, each with its own `Outputs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::diff::differential_along;
use crate::eval::plan::{Plan, Workspace};
use crate::eval::Sizes;
use crate::ir::{Constant, Graph, NodeId, Op};
use crate::simplify::build;
use crate::{Array, Error, Gradient, Hessian, Program};

fn input_error(message: String, hint: Option<String>) -> Error {
    let error = Error::input(message);
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// A program's value (and gradients, or Hessian blocks) compiled at fixed sizes; make it
/// with [`Gradient::compile`], [`Program::compile`] or [`Hessian::compile`].
#[derive(Debug)]
pub struct Compiled {
    plan: Plan,
    /// Tells apart the `Outputs` of different compilations.
    id: u64,
    /// Every input of the program, in the graph's order.
    inputs: Vec<InputSlot>,
    /// The name of the program's output and what each output array is.
    output: String,
    roles: Vec<Role>,
}

/// What one output array of a compilation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// The program's output.
    Value,
    /// ∂L/∂x, by x's name.
    Gradient(String),
    /// (H v)ₓ = Σ_q ∂²L/∂x∂q v_q: the Hessian-vector product's part of x's shape.
    Hvp(String),
    /// The Hessian's block (p, q) from its matrix form: len(p) × len(q), column-major.
    Block(String, String),
    /// The Newton step H⁻¹ ∂L/∂x of a vector variable x.
    Newton(String),
}

#[derive(Debug, Clone)]
struct InputSlot {
    name: String,
    rows: usize,
    cols: usize,
    needed: bool,
    /// For a Hessian-vector product's direction, the variable it is the direction of; such
    /// an input is given in `run`'s `directions` by that name.
    direction_of: Option<String>,
}

/// A Hessian-vector product as graph nodes: the program with an input for each direction
/// and the products' nodes.
pub(crate) struct HvpGraph {
    pub program: Program,
    /// The value, the gradients and the products.
    pub wanted: Vec<(Role, NodeId)>,
    /// Each direction's input, with its variable's name.
    pub directions: Vec<(NodeId, String)>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Gradient {
    /// Compiles the output's value and every gradient for the sizes in `dims`
    /// (`&[("K", 64)]`); every dimension symbol of the program needs a size.
    pub fn compile(&self, dims: &[(&str, usize)]) -> Result<Compiled, Error> {
        let program = &self.program;
        let mut wanted = vec![(Role::Value, program.output_node())];
        wanted.extend(self.wrt.iter().map(|w| (Role::Gradient(w.name.clone()), w.gradient)));
        Compiled::new(&program.graph, program.output_name(), &wanted, &[], dims)
    }

    /// Compiles the value, every gradient and the Hessian-vector product H v for
    /// directions v given at run time ([`CompiledHvp::run`]), for the sizes in `dims`.
    ///
    /// Forward over reverse on the graph: each direction is an input `ⅆq` of the graph, and
    /// (H v)ₚ is the differential of the gradient ∂L/∂p in the direction (ⅆq)_q — the same
    /// map a Hessian's block prints, summed over q — built as graph nodes and compiled
    /// with the gradient into one plan, so the forward pass, the gradient and the product
    /// share every subexpression (a product used by all three is computed once).
    pub fn compile_hvp(&self, dims: &[(&str, usize)]) -> Result<CompiledHvp, Error> {
        let HvpGraph { program, wanted, directions } = self.hvp_graph();
        let compiled = Compiled::new(&program.graph, program.output_name(), &wanted, &directions, dims)?;
        Ok(CompiledHvp { compiled })
    }

    /// What [`Gradient::compile_hvp`] compiles (also evaluated by the interpreter in tests).
    pub(crate) fn hvp_graph(&self) -> HvpGraph {
        let mut program = self.program.clone();
        let output = program.output_node();
        let taken = program.names_in_use();
        let graph = &mut program.graph;
        let variables: Vec<(String, NodeId)> = self.wrt.iter().map(|w| (w.name.clone(), w.node)).collect();
        let tangents = crate::jacobian::tangents(graph, variables, &taken);
        let parts: Vec<(NodeId, NodeId)> = tangents.iter().map(|t| (t.node, t.tangent)).collect();
        let mut wanted = vec![(Role::Value, output)];
        wanted.extend(self.wrt.iter().map(|w| (Role::Gradient(w.name.clone()), w.gradient)));
        // A variable may lie below another (an input below an intermediate held as a leaf):
        // as the Hessian's blocks hold them, each part of the direction moves its variable on
        // top of what the variables below it move it by.
        for w in &self.wrt {
            let product = differential_along(graph, w.gradient, &parts);
            let product = match product {
                Some(product) => product,
                // A gradient that does not depend on the variables: the product is zero.
                None => {
                    let shape = graph.shape(w.node);
                    build(graph, Op::Fill(Constant(0.0), shape))
                }
            };
            wanted.push((Role::Hvp(w.name.clone()), product));
        }
        let directions: Vec<(NodeId, String)> = tangents.iter().map(|t| (t.tangent, t.name.clone())).collect();
        HvpGraph { program, wanted, directions }
    }
}

impl Hessian {
    /// Compiles the value, the gradients and every block of the Hessian from its matrix
    /// form, for the sizes in `dims`: logistic regression's block is the one product
    /// Xᵀ Diag(p ⊙ (1 − p)) X, not n Hessian-vector products. A block with more than two
    /// axes (a matrix with respect to a matrix) has no matrix form: it is a mistake to ask
    /// for it here, [`Gradient::compile_hvp`] gives its products with directions.
    pub fn compile(&self, dims: &[(&str, usize)]) -> Result<Compiled, Error> {
        let blocks = &self.blocks;
        let program = &blocks.program;
        let mut wanted = vec![(Role::Value, program.output_node())];
        let mut gradients: Vec<(usize, NodeId)> = Vec::new();
        for block in &blocks.blocks {
            let p = block.p.unwrap_or(block.q);
            if !gradients.iter().any(|&(q, _)| q == p) {
                gradients.push((p, block.of));
            }
        }
        wanted.extend(gradients.iter().map(|&(p, node)| (Role::Gradient(blocks.wrt[p].name.clone()), node)));
        for block in &blocks.blocks {
            let p = &blocks.wrt[block.p.unwrap_or(block.q)].name;
            let q = &blocks.wrt[block.q].name;
            let Some(matrix) = block.matrix else {
                return Err(Error::request(format!(
                    "the Hessian's block ∂²L/∂{p}∂{q} has more than two axes, so it has no matrix form to compile"
                ))
                .with_hint(
                    "compile its products with directions instead (compile_hvp), or leave one of them out of wrt",
                ));
            };
            wanted.push((Role::Block(p.clone(), q.clone()), matrix));
        }
        Compiled::new(&program.graph, program.output_name(), &wanted, &[], dims)
    }
}

impl Hessian {
    /// Compiles a Newton step for a Hessian of one vector or scalar variable x: the value,
    /// the gradient g and the step H⁻¹ g, with H computed from its matrix form and solved by
    /// LU (g/H for a scalar), so that x − H⁻¹ g is the next iterate (`Outputs::newton_step`).
    /// H is not an output: its LU factors take its place, as LAPACK's `dgesv` overwrites its
    /// matrix, so the plan holds a Hessian's memory once (compile the Hessian for H). Like
    /// NumPy's and JAX's solves, the step is not finite or not meaningful where H is singular
    /// or nearly so.
    pub fn compile_newton(&self, dims: &[(&str, usize)]) -> Result<Compiled, Error> {
        let blocks = &self.blocks;
        let mut program = blocks.program.clone();
        let graph = &mut program.graph;
        let (Some(block), 1) = (blocks.blocks.first(), blocks.wrt.len()) else {
            return Err(Error::request("a Newton step is for a Hessian of one variable")
                .with_hint("name one vector or scalar variable in wrt"));
        };
        let name = blocks.wrt[block.q].name.clone();
        let step = match (block.matrix, crate::jacobian::axes(graph, block.of)) {
            (Some(matrix), 0) => build(graph, Op::Div(block.of, matrix)),
            (Some(matrix), 1) => {
                let inverse = build(graph, Op::Inv(matrix));
                build(graph, Op::MatMul(inverse, block.of))
            }
            (None, 0 | 1) => {
                return Err(Error::request(format!("the Hessian of `{name}` has no matrix form to solve with"))
                    .with_hint("use compile_hvp and an iterative solver"))
            }
            _ => {
                return Err(Error::request(format!(
                    "a Newton step needs a vector or scalar variable, and `{name}` is neither"
                ))
                .with_hint("name one vector or scalar variable in wrt"))
            }
        };
        let output = program.output_node();
        let wanted = [(Role::Value, output), (Role::Gradient(name.clone()), block.of), (Role::Newton(name), step)];
        Compiled::new(&program.graph, program.output_name(), &wanted, &[], dims)
    }
}

impl Program {
    /// Compiles the output's value alone (no gradients) for the sizes in `dims`.
    pub fn compile(&self, dims: &[(&str, usize)]) -> Result<Compiled, Error> {
        Compiled::new(&self.graph, self.output_name(), &[(Role::Value, self.output_node())], &[], dims)
    }
}

impl Compiled {
    /// Compiles `wanted`; `directions` are the graph inputs given as directions (by the
    /// name of their variable) rather than as inputs.
    fn new(
        graph: &Graph,
        output: &str,
        wanted: &[(Role, NodeId)],
        directions: &[(NodeId, String)],
        dims: &[(&str, usize)],
    ) -> Result<Compiled, Error> {
        for (_, symbol) in graph.dims.symbols() {
            if !dims.iter().any(|(name, _)| *name == symbol) {
                return Err(input_error(
                    format!("no size for dimension `{symbol}`"),
                    Some(format!("give every dimension a size, e.g. (\"{symbol}\", 64)")),
                ));
            }
        }
        let given: Vec<(String, usize)> = dims.iter().map(|&(name, size)| (name.to_string(), size)).collect();
        let sizes = Sizes::bind(graph, &given, &HashMap::new(), None, crate::MEMORY_BUDGET)?;
        let nodes: Vec<NodeId> = wanted.iter().map(|(_, node)| *node).collect();
        let plan = Plan::compile(graph, &sizes, &nodes)?;
        let inputs = graph
            .inputs()
            .iter()
            .zip(plan.inputs())
            .map(|(input, shape)| InputSlot {
                name: input.name.clone(),
                rows: shape.rows,
                cols: shape.cols,
                needed: shape.needed,
                direction_of: directions
                    .iter()
                    .find(|(node, _)| graph.name(*node) == Some(input.name.as_str()))
                    .map(|(_, variable)| variable.clone()),
            })
            .collect();
        let roles = wanted.iter().map(|(role, _)| role.clone()).collect();
        Ok(Compiled { plan, id: NEXT_ID.fetch_add(1, Ordering::Relaxed), inputs, output: output.to_string(), roles })
    }

    /// Fresh outputs (and scratch memory) for [`Compiled::run`]; make them once, reuse them.
    pub fn outputs(&self) -> Outputs {
        Outputs {
            compiled: self.id,
            roles: self.roles.clone(),
            arrays: self.plan.outputs().iter().map(|&(rows, cols)| Array::zeros(rows, cols)).collect(),
            order: vec![usize::MAX; self.inputs.len()],
            workspace: self.plan.workspace(),
        }
    }

    /// The inputs the program reads, with their `(rows, cols)`: a buffer for each must be
    /// given to [`Compiled::run`], holding `rows · cols` entries in column-major order.
    pub fn inputs(&self) -> impl Iterator<Item = (&str, (usize, usize))> {
        self.inputs.iter().filter(|i| i.needed && i.direction_of.is_none()).map(|i| (i.name.as_str(), (i.rows, i.cols)))
    }

    /// Evaluates the value and gradients at `inputs` (name, column-major buffer) into
    /// `outputs`. Inputs the result does not depend on may be left out.
    pub fn run(&self, inputs: &[(&str, &[f64])], outputs: &mut Outputs) -> Result<(), Error> {
        self.bind(inputs, &[], outputs)?;
        let Outputs { arrays, order, workspace, .. } = outputs;
        self.plan.run(workspace, (inputs, &[]), order, arrays);
        Ok(())
    }

    /// What output array `k` is called in descriptions: `L`, `∂L/∂x`, `(H·v)[x]`, `∂²L/∂x∂A`.
    fn output_label(&self, k: usize) -> String {
        let output = &self.output;
        match &self.roles[k] {
            Role::Value => output.clone(),
            Role::Gradient(x) => format!("∂{output}/∂{x}"),
            Role::Hvp(x) => format!("(H·v)[{x}]"),
            Role::Block(p, q) if p == q => format!("∂²{output}/∂{p}²"),
            Role::Block(p, q) => format!("∂²{output}/∂{p}∂{q}"),
            Role::Newton(x) => format!("H⁻¹·∂{output}/∂{x}"),
        }
    }

    /// The compiled plan, one step per line: what each intermediate (`t1`, `t2`, …) and
    /// output is computed as, which elementwise operations share a loop, which products
    /// are matrix–vector, thin or general.
    pub fn describe(&self) -> Vec<String> {
        let inputs: Vec<String> = self
            .inputs
            .iter()
            .map(|i| match &i.direction_of {
                Some(variable) => format!("v[{variable}]"),
                None => i.name.clone(),
            })
            .collect();
        let outputs: Vec<String> = (0..self.roles.len()).map(|k| self.output_label(k)).collect();
        self.plan.describe(&inputs, &outputs)
    }

    /// The bytes of memory one [`Outputs`] holds for the results and the intermediates
    /// (the dense routines' own scratch not counted): what running needs beyond the inputs.
    pub fn memory_bytes(&self) -> usize {
        self.plan.buffer_bytes()
    }

    /// Runs `runs` times and returns each line of [`Compiled::describe`] with the mean time
    /// of its step in µs: where the time of a run goes.
    pub fn profile(
        &self,
        inputs: &[(&str, &[f64])],
        outputs: &mut Outputs,
        runs: usize,
    ) -> Result<Vec<(String, f64)>, Error> {
        self.profile_with(inputs, &[], outputs, runs)
    }

    fn profile_with(
        &self,
        inputs: &[(&str, &[f64])],
        directions: &[(&str, &[f64])],
        outputs: &mut Outputs,
        runs: usize,
    ) -> Result<Vec<(String, f64)>, Error> {
        self.bind(inputs, directions, outputs)?;
        let mut seconds = vec![0.0; self.plan.steps()];
        let Outputs { arrays, order, workspace, .. } = outputs;
        for _ in 0..runs {
            self.plan.run_timed(workspace, (inputs, directions), order, arrays, &mut seconds);
        }
        let runs = runs.max(1) as f64;
        Ok(self.describe().into_iter().zip(seconds).map(|(line, s)| (line, s * 1e6 / runs)).collect())
    }

    /// Checks the buffers against the plan and records where each input is: at its position
    /// in `inputs`, or `inputs.len()` past it for a direction.
    fn bind(
        &self,
        inputs: &[(&str, &[f64])],
        directions: &[(&str, &[f64])],
        outputs: &mut Outputs,
    ) -> Result<(), Error> {
        if outputs.compiled != self.id {
            return Err(input_error(
                "these outputs were made by a different compiled function".to_string(),
                Some("make them with `outputs()` of the function you run".to_string()),
            ));
        }
        outputs.order.fill(usize::MAX);
        let lists = [(inputs, false), (directions, true)];
        for (offset, (list, direction)) in [0, inputs.len()].into_iter().zip(lists) {
            for (position, &(name, data)) in list.iter().enumerate() {
                let found = self.inputs.iter().position(|i| match &i.direction_of {
                    Some(variable) => direction && variable == name,
                    None => !direction && i.name == name,
                });
                let Some(index) = found else {
                    let (what, those, known): (&str, &str, Vec<&str>) = if direction {
                        (
                            "a variable with a direction",
                            "the variables with a direction are",
                            self.inputs.iter().filter_map(|i| i.direction_of.as_deref()).collect(),
                        )
                    } else {
                        (
                            "an input of the program",
                            "its inputs are",
                            self.inputs.iter().filter(|i| i.direction_of.is_none()).map(|i| i.name.as_str()).collect(),
                        )
                    };
                    let hint = if known.is_empty() {
                        "there are none".to_string()
                    } else {
                        format!("{those}: {}", known.join(", "))
                    };
                    return Err(input_error(format!("`{name}` is not {what}"), Some(hint)));
                };
                let kind = if direction { "direction" } else { "input" };
                if outputs.order[index] != usize::MAX {
                    return Err(input_error(format!("{kind} `{name}` is given twice"), None));
                }
                let slot = &self.inputs[index];
                if data.len() != slot.rows * slot.cols {
                    return Err(input_error(
                        format!(
                            "{kind} `{name}` should have {} entries ({}×{}), but its buffer has {}",
                            slot.rows * slot.cols,
                            slot.rows,
                            slot.cols,
                            data.len()
                        ),
                        Some("buffers are column-major, rows · cols entries".to_string()),
                    ));
                }
                outputs.order[index] = offset + position;
            }
        }
        if let Some(missing) = self.inputs.iter().zip(&outputs.order).find(|(i, &o)| i.needed && o == usize::MAX) {
            let slot = missing.0;
            let message = match &slot.direction_of {
                Some(variable) => format!("no direction for `{variable}` ({}×{})", slot.rows, slot.cols),
                None => format!("no buffer for input `{}` ({}×{})", slot.name, slot.rows, slot.cols),
            };
            return Err(input_error(message, None));
        }
        Ok(())
    }
}

/// A program's value, gradients and Hessian-vector products compiled at fixed sizes; make it
/// with [`Gradient::compile_hvp`].
///
/// ```
/// let source = "x: vector(n)\nA: matrix(n, n)\nL = x'*A*x";
/// let f = matgrad::Program::parse(source)?.gradient(&["x"])?.compile_hvp(&[("n", 2)])?;
/// let mut out = f.outputs();
/// let (a, x, v) = (vec![1.0, 3.0, 2.0, 4.0], vec![1.0, 1.0], vec![1.0, 0.0]);
/// f.run(&[("A", &a), ("x", &x)], &[("x", &v)], &mut out)?;
/// // H = A + Aᵀ = [[2, 5], [5, 8]], so H v is its first column.
/// assert_eq!(out.hvp("x").unwrap().data, vec![2.0, 5.0]);
/// # Ok::<(), matgrad::Error>(())
/// ```
#[derive(Debug)]
pub struct CompiledHvp {
    compiled: Compiled,
}

impl CompiledHvp {
    /// Fresh outputs (value, gradients, H v, and scratch memory); make them once, reuse them.
    pub fn outputs(&self) -> Outputs {
        self.compiled.outputs()
    }

    /// The inputs the program reads, as for [`Compiled::inputs`].
    pub fn inputs(&self) -> impl Iterator<Item = (&str, (usize, usize))> {
        self.compiled.inputs()
    }

    /// The variables that take a direction, with their `(rows, cols)`: the shape of each.
    pub fn directions(&self) -> impl Iterator<Item = (&str, (usize, usize))> {
        self.compiled.inputs.iter().filter_map(|i| i.direction_of.as_deref().map(|v| (v, (i.rows, i.cols))))
    }

    /// A direction for every variable, its entries drawn from N(0, 1) by `seed` (the same on
    /// every run): what `matgrad bench --hvp` multiplies by.
    pub fn random_directions(&self, seed: u64) -> Vec<(String, Array)> {
        self.directions()
            .enumerate()
            .map(|(k, (name, (rows, cols)))| {
                (name.to_string(), crate::check::random_array(rows, cols, seed.wrapping_add(k as u64)))
            })
            .collect()
    }

    /// Evaluates the value, the gradients and H v at `inputs`, for the direction v whose
    /// part for each variable is in `directions` (variable name, column-major buffer of its
    /// shape), into `outputs`. Allocates nothing.
    pub fn run(
        &self,
        inputs: &[(&str, &[f64])],
        directions: &[(&str, &[f64])],
        outputs: &mut Outputs,
    ) -> Result<(), Error> {
        let compiled = &self.compiled;
        compiled.bind(inputs, directions, outputs)?;
        let Outputs { arrays, order, workspace, .. } = outputs;
        compiled.plan.run(workspace, (inputs, directions), order, arrays);
        Ok(())
    }

    /// The bytes of memory one [`Outputs`] holds, as [`Compiled::memory_bytes`].
    pub fn memory_bytes(&self) -> usize {
        self.compiled.memory_bytes()
    }

    /// The compiled plan, one step per line (see [`Compiled::describe`]); directions are
    /// `v[x]`.
    pub fn describe(&self) -> Vec<String> {
        self.compiled.describe()
    }

    /// Runs `runs` times and returns each step with its mean time in µs, as
    /// [`Compiled::profile`].
    pub fn profile(
        &self,
        inputs: &[(&str, &[f64])],
        directions: &[(&str, &[f64])],
        outputs: &mut Outputs,
        runs: usize,
    ) -> Result<Vec<(String, f64)>, Error> {
        self.compiled.profile_with(inputs, directions, outputs, runs)
    }
}

/// The results of [`Compiled::run`]: the program's output and each gradient (the shape of
/// its variable), each Hessian-vector product's part or Hessian block where those were
/// compiled, as column-major [`Array`]s, plus the scratch memory runs reuse.
#[derive(Debug)]
pub struct Outputs {
    compiled: u64,
    roles: Vec<Role>,
    arrays: Vec<Array>,
    /// For each graph input, its position in the caller's lists (reused by every run).
    order: Vec<usize>,
    workspace: Workspace,
}

impl Outputs {
    /// The program's output.
    pub fn value(&self) -> &Array {
        &self.arrays[0]
    }

    /// The output's value when it is a scalar (as a loss is).
    pub fn scalar(&self) -> Option<f64> {
        let value = self.value();
        value.is_scalar().then(|| value.data[0])
    }

    fn find(&self, role: Role) -> Option<&Array> {
        self.roles.iter().position(|r| *r == role).map(|k| &self.arrays[k])
    }

    /// ∂output/∂`name`, if the gradient with respect to `name` was compiled.
    pub fn gradient(&self, name: &str) -> Option<&Array> {
        self.find(Role::Gradient(name.to_string()))
    }

    /// Every gradient, by variable name, in the order they were asked for.
    pub fn gradients(&self) -> impl Iterator<Item = (&str, &Array)> {
        self.roles.iter().zip(&self.arrays).filter_map(|(role, array)| match role {
            Role::Gradient(name) => Some((name.as_str(), array)),
            _ => None,
        })
    }

    /// The part of H v for variable `name` (of its shape): Σ_q ∂²L/∂name∂q v_q, where a
    /// Hessian-vector product was compiled ([`CompiledHvp`]).
    pub fn hvp(&self, name: &str) -> Option<&Array> {
        self.find(Role::Hvp(name.to_string()))
    }

    /// The Hessian's block ∂²L/∂p∂q (len(p) × len(q), column-major, entry (i, j) =
    /// ∂²L/∂p[i]∂q[j] with each side in column-major order), where it was compiled
    /// ([`Hessian::compile`]).
    pub fn block(&self, p: &str, q: &str) -> Option<&Array> {
        self.find(Role::Block(p.to_string(), q.to_string()))
    }

    /// The Newton step H⁻¹ ∂L/∂x, where it was compiled ([`Hessian::compile_newton`]).
    pub fn newton_step(&self, name: &str) -> Option<&Array> {
        self.find(Role::Newton(name.to_string()))
    }
}

/// A compiled function can be shared between threads, each running with its own outputs.
#[allow(dead_code)]
fn assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Compiled>();
    check::<Outputs>();
    check::<CompiledHvp>();
}
