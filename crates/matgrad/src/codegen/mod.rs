//! Code generation: a gradient's closed forms as one self-contained Python module for
//! NumPy, JAX or PyTorch, which defines `value(<inputs>)`, `value_and_grad(<inputs>)` and,
//! asked for, `hessian(<inputs>)`.
//!
//! The module is written from the same graph the closed forms are printed from: one local
//! per node that has a name (the program's `y`, `u`, an introduced `p`), assigned in id
//! order (a topological order), every other node inline (`expr.rs`), so the code reads like
//! the printed derivation and shares what it shares. Inputs are the parameters, in the
//! program's order; their shapes are checked and every dimension is read from them.

mod expr;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::gradient::LAYOUT;
use crate::ir::{Dim, Graph, NodeId, Op};
use crate::print::{print, python_name, unicode_name, Notation};
use crate::{Error, Gradient, Program};

pub(crate) use expr::float;
use expr::{kind, Context, Kind};

/// The Python library generated code runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// NumPy, float64.
    #[default]
    Numpy,
    /// `jax.numpy`: jittable, in whatever precision JAX is set to.
    Jax,
    /// PyTorch tensors on the inputs' device, no autograd.
    Torch,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Numpy, Target::Jax, Target::Torch];

    /// The name the command line and the page use: `numpy`, `jax`, `torch`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Numpy => "numpy",
            Target::Jax => "jax",
            Target::Torch => "torch",
        }
    }

    /// The imports of a module whose code is `code`.
    fn imports(self, code: &str) -> &'static str {
        match self {
            Target::Numpy => "import numpy as np\n",
            Target::Jax if code.contains("jax.nn.") => "import jax\nimport jax.numpy as jnp\n",
            Target::Jax => "import jax.numpy as jnp\n",
            Target::Torch => "import torch\n",
        }
    }

    fn library(self) -> &'static str {
        match self {
            Target::Numpy => "NumPy",
            Target::Jax => "JAX",
            Target::Torch => "PyTorch",
        }
    }

    /// The call that turns an argument into an array of the target.
    fn convert(self, argument: &str) -> String {
        match self {
            Target::Numpy => format!("np.asarray({argument}, dtype=np.float64)"),
            Target::Jax => format!("jnp.asarray({argument})"),
            Target::Torch => format!("torch.as_tensor({argument})"),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == text)
            .ok_or_else(|| format!("no target `{text}`: generate code for numpy, jax or torch"))
    }
}

/// The helpers a module defines when its code calls them, by target.
const HELPERS: &[(&str, Target, &str)] = &[
    (
        "_sigmoid",
        Target::Numpy,
        "def _sigmoid(x):\n    \"\"\"σ(x) = 1/(1 + exp(−x)) as exp(−log(1 + exp(−x))), which never overflows.\"\"\"\n    return np.exp(-np.logaddexp(0.0, -x))\n",
    ),
    (
        "_softmax",
        Target::Numpy,
        "def _softmax(v):\n    \"\"\"exp(v)/Σ exp(v), shifted by the largest entry so that no exp overflows.\"\"\"\n    e = np.exp(v - np.max(v))\n    return e / np.sum(e)\n",
    ),
    (
        "_logsumexp",
        Target::Numpy,
        "def _logsumexp(v):\n    \"\"\"log Σ exp(v), shifted by the largest entry so that no exp overflows.\"\"\"\n    top = np.max(v)\n    return top + np.log(np.sum(np.exp(v - top)))\n",
    ),
    ("_step", Target::Torch, "def _step(x):\n    \"\"\"1 where x > 0, 0 elsewhere.\"\"\"\n    return (x > 0).to(x.dtype)\n"),
];

const CHECKED: &str = "def _checked(name, array, declared, shape):
    \"\"\"`array` if its shape is `shape` (None: any size), else a ValueError naming both.\"\"\"
    if len(array.shape) != len(shape) or any(n is not None and n != m for n, m in zip(shape, array.shape)):
        raise ValueError(f\"{name} has shape {tuple(array.shape)}, but the program declares {name}: {declared}, shape {shape}\")
    return array
";

/// Identifiers the module itself uses.
const RESERVED: &[&str] = &["np", "jnp", "jax", "torch", "value", "value_and_grad", "hessian", "float", "tuple"];

/// A function of the module: its name, docstring and what it returns.
struct Function<'a> {
    name: &'a str,
    doc: String,
    /// The nodes computed, in the order the return statement lists them.
    roots: Vec<NodeId>,
    /// The locals of roots without a name.
    labels: Vec<String>,
    /// The return expression, from the roots' Python names.
    returns: &'a dyn Fn(&[String]) -> String,
}

/// The module being written: the graph's nodes with their Python names.
struct Writer<'a> {
    graph: &'a Graph,
    target: Target,
    /// Every node with a local: parameters, the user's named values, introduced names.
    locals: HashMap<NodeId, String>,
    /// The parameters: input node, Python name, the program's name.
    parameters: Vec<(NodeId, String, String)>,
    /// Each dimension symbol's local and where its size is read (a parameter, an axis).
    dims: Vec<(Dim, String, String, usize)>,
    taken: HashSet<String>,
}

impl<'a> Writer<'a> {
    fn new(program: &'a Program, target: Target, names: &dyn Fn(NodeId) -> Option<String>) -> Writer<'a> {
        let graph = &program.graph;
        let mut writer = Writer {
            graph,
            target,
            locals: HashMap::new(),
            parameters: Vec::new(),
            dims: Vec::new(),
            taken: RESERVED.iter().map(|s| s.to_string()).collect(),
        };
        for variable in &program.inputs {
            let name = writer.fresh(&python_name(&variable.name));
            writer.locals.insert(variable.node, name.clone());
            writer.parameters.push((variable.node, name, variable.name.clone()));
        }
        for (_, symbol) in graph.dims.symbols() {
            writer.fresh(&python_name(symbol));
        }
        writer.taken.clear();
        writer.taken.extend(RESERVED.iter().map(|s| s.to_string()));
        writer.taken.extend(writer.parameters.iter().map(|p| p.1.clone()));
        // Dimensions first, so that a size keeps its name (`K`) and a value yields.
        let mut dims: Vec<(Dim, String, String, usize)> = Vec::new();
        for (node, parameter, _) in &writer.parameters {
            for (axis, dim) in axes(graph, *node).into_iter().enumerate() {
                if let Some(symbol) = graph.dims.symbol_name(dim) {
                    if !dims.iter().any(|(d, ..)| *d == dim) {
                        dims.push((dim, symbol.to_string(), parameter.clone(), axis));
                    }
                }
            }
        }
        for (dim, symbol, parameter, axis) in dims {
            let name = writer.fresh(&python_name(&symbol));
            writer.dims.push((dim, name, parameter, axis));
        }
        for (id, _) in graph.nodes() {
            if matches!(graph.op(id), Op::Input(_)) {
                continue;
            }
            if let Some(name) = names(id) {
                let name = writer.fresh(&python_name(&name));
                writer.locals.insert(id, name);
            }
        }
        writer
    }

    /// A size that no input has cannot be read from the arguments.
    fn check_sizes(&self, roots: &[NodeId]) -> Result<(), Error> {
        for id in self.graph.reachable(roots) {
            let shape = self.graph.shape(id);
            for dim in [shape.rows, shape.cols].map(|d| self.graph.dims.resolve(d)) {
                if matches!(dim, Dim::Symbol(_) | Dim::Unknown(_)) && !self.dims.iter().any(|d| d.0 == dim) {
                    return Err(Error::request(format!(
                        "the size {} is not the size of any input, so generated code cannot read it from its arguments",
                        self.graph.dims.show(dim)
                    )));
                }
            }
        }
        Ok(())
    }

    /// `name`, or `name_`, `name__`, … if taken; then taken.
    fn fresh(&mut self, name: &str) -> String {
        let mut name = name.to_string();
        while self.taken.contains(&name) {
            name.push('_');
        }
        self.taken.insert(name.clone());
        name
    }

    fn parameter_list(&self) -> String {
        self.parameters.iter().map(|p| p.1.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn dim_text(&self, dim: Dim, used: &RefCell<BTreeSet<usize>>) -> String {
        let dim = self.graph.dims.resolve(dim);
        match dim {
            Dim::Number(n) => n.to_string(),
            _ => match self.dims.iter().position(|(d, ..)| *d == dim) {
                Some(i) => {
                    used.borrow_mut().insert(i);
                    self.dims[i].1.clone()
                }
                // A size no input has: generated code cannot know it (see `Writer::check`).
                None => self.graph.dims.show(dim),
            },
        }
    }

    /// The statements computing `roots`: the locals they need, in id order, each once.
    /// `labels` name the locals of roots that have no name of their own (`grad_x`).
    fn body(&self, roots: &[NodeId], labels: &[String], extra: &HashMap<NodeId, String>) -> (Vec<String>, Vec<String>) {
        let mut needed: BTreeSet<NodeId> = BTreeSet::new();
        let mut seen: HashSet<NodeId> = HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if self.locals.contains_key(&id) && !matches!(self.graph.op(id), Op::Input(_)) {
                needed.insert(id);
            }
            stack.extend(self.graph.op(id).children());
        }
        let used = RefCell::new(BTreeSet::new());
        let dim = |d: Dim| self.dim_text(d, &used);
        let name = |id: NodeId| self.locals.get(&id).or_else(|| extra.get(&id)).cloned();
        let like = match (self.target, self.parameters.first()) {
            (Target::Torch, Some((_, first, _))) => format!(", dtype={first}.dtype, device={first}.device"),
            _ => String::new(),
        };
        let context = Context { graph: self.graph, target: self.target, name: &name, dim: &dim, like: &like };
        let mut lines: Vec<String> =
            needed.iter().map(|&id| format!("{} = {}", self.locals[&id], root_text(&context, id))).collect();
        let mut taken = self.taken.clone();
        let results: Vec<String> = roots
            .iter()
            .zip(labels)
            .map(|(&id, label)| match name(id) {
                Some(name) => name,
                None => {
                    let mut local = label.clone();
                    while !taken.insert(local.clone()) {
                        local.push('_');
                    }
                    lines.push(format!("{local} = {}", root_text(&context, id)));
                    local
                }
            })
            .collect();
        let sizes: Vec<String> = used
            .borrow()
            .iter()
            .map(|&i| {
                let (_, name, parameter, axis) = &self.dims[i];
                format!("{name} = {parameter}.shape[{axis}]")
            })
            .collect();
        lines.splice(0..0, sizes);
        (lines, results)
    }

    fn function(&self, out: &mut String, function: &Function, extra: &HashMap<NodeId, String>) {
        let parameters = self.parameter_list();
        let _ = writeln!(out, "\n\ndef {}({parameters}):", function.name);
        let doc = function.doc.trim_end().replace('\n', "\n    ").replace("    \n", "\n");
        let _ = writeln!(out, "    \"\"\"{doc}\n    \"\"\"");
        if !self.parameters.is_empty() {
            let _ = writeln!(out, "    {parameters} = _inputs({parameters})");
        }
        let (lines, results) = self.body(&function.roots, &function.labels, extra);
        for line in lines {
            let _ = writeln!(out, "    {line}");
        }
        let _ = writeln!(out, "    return {}", (function.returns)(&results));
    }

    /// `_inputs`: every argument converted and its shape checked; non-scalars first, so
    /// that PyTorch's scalars take the tensors' dtype and device.
    fn inputs(&self, out: &mut String) {
        let parameters = self.parameter_list();
        let _ = writeln!(out, "\n\ndef _inputs({parameters}):");
        let _ = writeln!(out, "    \"\"\"The arguments as arrays, their shapes checked against the program's.\"\"\"");
        let graph = self.graph;
        let mut bound: HashSet<Dim> = HashSet::new();
        let mut order: Vec<&(NodeId, String, String)> = self.parameters.iter().collect();
        order.sort_by_key(|(node, ..)| kind(graph, *node) == Kind::Scalar);
        let mut uses: HashMap<Dim, usize> = HashMap::new();
        for (node, ..) in &self.parameters {
            let shape = graph.shape(*node);
            for dim in [shape.rows, shape.cols] {
                *uses.entry(graph.dims.resolve(dim)).or_default() += 1;
            }
        }
        let first_tensor = order.first().filter(|(node, ..)| kind(graph, *node) != Kind::Scalar).map(|p| p.1.clone());
        for (node, parameter, original) in order {
            let shape = graph.shape(*node);
            let declared = graph.dims.show_type(shape);
            let axes = axes(graph, *node);
            let tuple = |known: &HashSet<Dim>| {
                let entries: Vec<String> = axes
                    .iter()
                    .map(|d| match d {
                        Dim::Number(n) => n.to_string(),
                        d if known.contains(d) => {
                            self.dims.iter().find(|x| x.0 == *d).map_or("None".into(), |x| x.1.clone())
                        }
                        _ => "None".to_string(),
                    })
                    .collect();
                match entries.len() {
                    1 => format!("({},)", entries[0]),
                    _ => format!("({})", entries.join(", ")),
                }
            };
            let converted = match (self.target, kind(graph, *node), &first_tensor) {
                (Target::Torch, Kind::Scalar, Some(like)) => {
                    format!("torch.as_tensor({parameter}, dtype={like}.dtype, device={like}.device)")
                }
                (Target::Torch, Kind::Scalar, None) => format!("torch.as_tensor({parameter}, dtype=torch.float64)"),
                (target, ..) => target.convert(parameter),
            };
            let name = unicode_name(original);
            let _ =
                writeln!(out, "    {parameter} = _checked(\"{name}\", {converted}, \"{declared}\", {})", tuple(&bound));
            let mut fresh = false;
            let mut repeated = false;
            for (axis, dim) in axes.iter().enumerate() {
                if let Some((_, local, from, from_axis)) = self.dims.iter().find(|x| x.0 == *dim) {
                    // A size read only where it is bound checks nothing: not bound.
                    if from == parameter && *from_axis == axis && uses.get(dim).copied().unwrap_or(0) > 1 {
                        let _ = writeln!(out, "    {local} = {parameter}.shape[{axis}]");
                        bound.insert(*dim);
                        fresh = true;
                    } else if fresh && bound.contains(dim) {
                        repeated = true;
                    }
                }
            }
            if repeated {
                let _ = writeln!(out, "    _checked(\"{name}\", {parameter}, \"{declared}\", {})", tuple(&bound));
            }
        }
        let _ = writeln!(out, "    return {}", self.parameter_list());
    }

    /// The whole module: imports, the helpers its code calls, `_inputs`, the functions.
    fn module(&self, doc: &str, functions: &[(Function, HashMap<NodeId, String>)]) -> String {
        let mut code = String::new();
        if !self.parameters.is_empty() {
            self.inputs(&mut code);
        }
        for (function, extra) in functions {
            self.function(&mut code, function, extra);
        }
        let mut out = format!("\"\"\"{}\n\"\"\"\n\n{}", doc.trim_end(), self.target.imports(&code));
        let mut helpers = String::new();
        if !self.parameters.is_empty() {
            helpers.push_str("\n\n");
            helpers.push_str(CHECKED);
        }
        for (name, target, text) in HELPERS {
            if *target == self.target && code.contains(&format!("{name}(")) {
                helpers.push_str("\n\n");
                helpers.push_str(text);
            }
        }
        out.push_str(&helpers);
        out.push_str(&code);
        out
    }
}

/// The dimensions of a value's array axes: none for a scalar, one for a vector.
fn axes(graph: &Graph, id: NodeId) -> Vec<Dim> {
    let shape = graph.shape(id);
    let dims = match kind(graph, id) {
        Kind::Scalar => vec![],
        Kind::Column => vec![shape.rows],
        Kind::Row => vec![shape.cols],
        Kind::Matrix => vec![shape.rows, shape.cols],
    };
    dims.into_iter().map(|d| graph.dims.resolve(d)).collect()
}

/// A function's result in full; a constant as a float (`0.0`), so it has the float type.
fn root_text(context: &Context, id: NodeId) -> String {
    match context.graph.op(id) {
        Op::Const(c) => float(c.0),
        _ => context.definition(id),
    }
}

/// One parameter line of a docstring: `x: the program's x, a vector(K)`.
fn parameter_doc(writer: &Writer) -> String {
    let graph = writer.graph;
    let lines: Vec<String> = writer
        .parameters
        .iter()
        .map(|(node, name, original)| {
            format!("    {name}: {}, {}", unicode_name(original), graph.dims.show_type(graph.shape(*node)))
        })
        .collect();
    format!("Parameters (the program's inputs):\n{}", lines.join("\n"))
}

impl Gradient {
    /// The closed forms as a Python module for `target` (see the module's doc).
    pub fn code(&self, target: Target) -> Result<String, Error> {
        let program = &self.program;
        let graph = &program.graph;
        let names = |id: NodeId| self.name_of(id);
        let writer = Writer::new(program, target, &names);
        let output = program.output_node();
        let mut roots = vec![output];
        roots.extend(self.wrt.iter().map(|w| w.gradient));
        writer.check_sizes(&roots)?;
        let mut labels = vec!["value".to_string()];
        labels.extend(self.wrt.iter().map(|w| format!("grad_{}", python_name(&w.name))));
        let output_name = unicode_name(program.output_name());
        let grads: Vec<String> =
            self.wrt.iter().map(|w| format!("∂{output_name}/∂{}", unicode_name(&w.name))).collect();
        let parameters = parameter_doc(&writer);
        let namer = |id: NodeId| graph.name(id).map(str::to_string);
        let mut program_text = String::new();
        for variable in &program.inputs {
            let _ = writeln!(
                program_text,
                "    {}: {}",
                unicode_name(&variable.name),
                graph.dims.show_type(graph.shape(variable.node))
            );
        }
        for (statement, used) in program.statements.iter().zip(program.in_model()) {
            if used {
                let _ = writeln!(
                    program_text,
                    "    {} = {}",
                    unicode_name(&statement.name),
                    print(graph, statement.node, Notation::Unicode, &namer)
                );
            }
        }
        let mut forms = String::new();
        for (node, name) in &self.definitions {
            let _ = writeln!(forms, "    {} = {}", unicode_name(name), self.expression(*node, Notation::Unicode));
        }
        for (wrt, label) in self.wrt.iter().zip(&grads) {
            let _ = writeln!(forms, "    {label} = {}", self.closed_form(wrt, Notation::Unicode));
        }
        let doc = format!(
            "{output_name} and its gradients, from matgrad (`matgrad codegen --target {}`); needs only {}.\n\nThe program:\n{program_text}\nThe gradients ({LAYOUT}):\n{forms}",
            target.name(),
            target.library()
        );
        let value_returns = |r: &[String]| r[0].clone();
        let grad_returns = |r: &[String]| {
            let grads = &r[1..];
            let tuple = if grads.len() == 1 { format!("({},)", grads[0]) } else { format!("({})", grads.join(", ")) };
            format!("{}, {tuple}", r[0])
        };
        let functions = vec![
            (
                Function {
                    name: "value",
                    doc: format!("{output_name}, the program's output.\n\n{parameters}"),
                    roots: vec![output],
                    labels: vec!["value".to_string()],
                    returns: &value_returns,
                },
                HashMap::new(),
            ),
            (
                Function {
                    name: "value_and_grad",
                    doc: format!(
                        "({output_name}, ({})), each gradient with its variable's shape.\n\n{parameters}\n\nComputes:\n{forms}",
                        grads.join(", ")
                    ),
                    roots,
                    labels,
                    returns: &grad_returns,
                },
                HashMap::new(),
            ),
        ];
        Ok(writer.module(&doc, &functions))
    }
}
