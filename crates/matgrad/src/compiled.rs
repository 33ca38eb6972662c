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

use crate::eval::plan::{Plan, Workspace};
use crate::eval::Sizes;
use crate::ir::{Graph, NodeId};
use crate::{Array, Error, Gradient, Program};

fn input_error(message: String, hint: Option<String>) -> Error {
    let error = Error::input(message);
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// A program's value (and gradients) compiled at fixed sizes; make it with
/// [`Gradient::compile`] or [`Program::compile`].
#[derive(Debug)]
pub struct Compiled {
    plan: Plan,
    /// Tells apart the `Outputs` of different compilations.
    id: u64,
    /// Every input of the program, in the graph's order.
    inputs: Vec<InputSlot>,
    /// The name of each output array: the program's output, then each gradient's variable.
    names: Vec<String>,
}

#[derive(Debug, Clone)]
struct InputSlot {
    name: String,
    rows: usize,
    cols: usize,
    needed: bool,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Gradient {
    /// Compiles the output's value and every gradient for the sizes in `dims`
    /// (`&[("K", 64)]`); every dimension symbol of the program needs a size.
    pub fn compile(&self, dims: &[(&str, usize)]) -> Result<Compiled, Error> {
        let program = &self.program;
        let mut wanted = vec![(program.output_statement().name.clone(), program.output_node())];
        wanted.extend(self.wrt.iter().map(|w| (w.name.clone(), w.gradient)));
        Compiled::new(&program.graph, &wanted, dims)
    }
}

impl Program {
    /// Compiles the output's value alone (no gradients) for the sizes in `dims`.
    pub fn compile(&self, dims: &[(&str, usize)]) -> Result<Compiled, Error> {
        Compiled::new(&self.graph, &[(self.output_statement().name.clone(), self.output_node())], dims)
    }
}

impl Compiled {
    fn new(graph: &Graph, wanted: &[(String, NodeId)], dims: &[(&str, usize)]) -> Result<Compiled, Error> {
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
            })
            .collect();
        let names = wanted.iter().map(|(name, _)| name.clone()).collect();
        Ok(Compiled { plan, id: NEXT_ID.fetch_add(1, Ordering::Relaxed), inputs, names })
    }

    /// Fresh outputs (and scratch memory) for [`Compiled::run`]; make them once, reuse them.
    pub fn outputs(&self) -> Outputs {
        Outputs {
            compiled: self.id,
            names: self.names.clone(),
            arrays: self.plan.outputs().iter().map(|&(rows, cols)| Array::zeros(rows, cols)).collect(),
            order: vec![usize::MAX; self.inputs.len()],
            workspace: self.plan.workspace(),
        }
    }

    /// The inputs the program reads, with their `(rows, cols)`: a buffer for each must be
    /// given to [`Compiled::run`], holding `rows · cols` entries in column-major order.
    pub fn inputs(&self) -> impl Iterator<Item = (&str, (usize, usize))> {
        self.inputs.iter().filter(|i| i.needed).map(|i| (i.name.as_str(), (i.rows, i.cols)))
    }

    /// Evaluates the value and gradients at `inputs` (name, column-major buffer) into
    /// `outputs`. Inputs the result does not depend on may be left out.
    pub fn run(&self, inputs: &[(&str, &[f64])], outputs: &mut Outputs) -> Result<(), Error> {
        self.bind(inputs, outputs)?;
        let Outputs { arrays, order, workspace, .. } = outputs;
        self.plan.run(workspace, inputs, order, arrays);
        Ok(())
    }

    /// The compiled plan, one step per line: what each intermediate (`t1`, `t2`, …) and
    /// output is computed as, which elementwise operations share a loop, which products
    /// are matrix–vector, thin or general.
    pub fn describe(&self) -> Vec<String> {
        let inputs: Vec<String> = self.inputs.iter().map(|i| i.name.clone()).collect();
        let output = &self.names[0];
        let outputs: Vec<String> = std::iter::once(output.clone())
            .chain(self.names[1..].iter().map(|name| format!("∂{output}/∂{name}")))
            .collect();
        self.plan.describe(&inputs, &outputs)
    }

    /// Runs `runs` times and returns each line of [`Compiled::describe`] with the mean time
    /// of its step in µs: where the time of a run goes.
    pub fn profile(
        &self,
        inputs: &[(&str, &[f64])],
        outputs: &mut Outputs,
        runs: usize,
    ) -> Result<Vec<(String, f64)>, Error> {
        self.bind(inputs, outputs)?;
        let mut seconds = vec![0.0; self.plan.steps()];
        let Outputs { arrays, order, workspace, .. } = outputs;
        for _ in 0..runs {
            self.plan.run_timed(workspace, inputs, order, arrays, &mut seconds);
        }
        let runs = runs.max(1) as f64;
        Ok(self.describe().into_iter().zip(seconds).map(|(line, s)| (line, s * 1e6 / runs)).collect())
    }

    /// Checks the buffers against the plan and records where each input is in `inputs`.
    fn bind(&self, inputs: &[(&str, &[f64])], outputs: &mut Outputs) -> Result<(), Error> {
        if outputs.compiled != self.id {
            return Err(input_error(
                "these outputs were made by a different compiled function".to_string(),
                Some("make them with `outputs()` of the function you run".to_string()),
            ));
        }
        outputs.order.fill(usize::MAX);
        for (position, &(name, data)) in inputs.iter().enumerate() {
            let Some(index) = self.inputs.iter().position(|i| i.name == name) else {
                let known: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
                return Err(input_error(
                    format!("`{name}` is not an input of the program"),
                    Some(format!("its inputs are: {}", known.join(", "))),
                ));
            };
            if outputs.order[index] != usize::MAX {
                return Err(input_error(format!("input `{name}` is given twice"), None));
            }
            let slot = &self.inputs[index];
            if data.len() != slot.rows * slot.cols {
                return Err(input_error(
                    format!(
                        "input `{name}` should have {} entries ({}×{}), but its buffer has {}",
                        slot.rows * slot.cols,
                        slot.rows,
                        slot.cols,
                        data.len()
                    ),
                    Some("buffers are column-major, rows · cols entries".to_string()),
                ));
            }
            outputs.order[index] = position;
        }
        if let Some(missing) = self.inputs.iter().zip(&outputs.order).find(|(i, &o)| i.needed && o == usize::MAX) {
            let slot = missing.0;
            return Err(input_error(
                format!("no buffer for input `{}` ({}×{})", slot.name, slot.rows, slot.cols),
                None,
            ));
        }
        Ok(())
    }
}

/// The results of [`Compiled::run`]: the program's output and each gradient (the shape of
/// its variable), as column-major [`Array`]s, plus the scratch memory runs reuse.
#[derive(Debug)]
pub struct Outputs {
    compiled: u64,
    names: Vec<String>,
    arrays: Vec<Array>,
    /// For each graph input, its position in the caller's list (reused by every run).
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

    /// ∂output/∂`name`, if the gradient with respect to `name` was compiled.
    pub fn gradient(&self, name: &str) -> Option<&Array> {
        self.names.iter().skip(1).position(|n| n == name).map(|i| &self.arrays[i + 1])
    }

    /// Every gradient, by variable name, in the order they were asked for.
    pub fn gradients(&self) -> impl Iterator<Item = (&str, &Array)> {
        self.names.iter().zip(&self.arrays).skip(1).map(|(name, array)| (name.as_str(), array))
    }
}

/// A compiled function can be shared between threads, each running with its own outputs.
#[allow(dead_code)]
fn assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Compiled>();
    check::<Outputs>();
}
