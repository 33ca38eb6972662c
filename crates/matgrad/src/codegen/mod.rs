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
mod hessian;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::gradient::LAYOUT;
use crate::ir::{Dim, Graph, NodeId, Op};
use crate::jacobian::{Contraction, Index, Operand};
use crate::print::{print, python_name, unicode_name, Notation};
use crate::report::jacobian::HESSIAN_LAYOUT;
use crate::{Error, Gradient, Hessian, Program};

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
            Target::Jax | Target::Torch => format!("_floats({argument})"),
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
    (
        "_floats",
        Target::Jax,
        "def _floats(x):\n    \"\"\"`x` as an array; integers as the default float type (float64 with x64 on, else float32).\"\"\"\n    x = jnp.asarray(x)\n    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(float)\n",
    ),
    (
        "_floats",
        Target::Torch,
        "def _floats(x):\n    \"\"\"`x` as a tensor on its device; integers as float64, as NumPy's code takes them.\"\"\"\n    x = torch.as_tensor(x)\n    return x if x.is_floating_point() else x.to(torch.float64)\n",
    ),
];

const CHECKED: &str = "def _checked(name, array, shape, expected, sizes=()):
    \"\"\"`array` if its shape is `shape` (None: a size not read yet), else a ValueError naming the
    input, the shape `expected` in the program's sizes with the `sizes` known (size, value, the
    argument it was read from), and the shape given.\"\"\"
    given = tuple(array.shape)
    if given == shape:
        return array
    if len(given) != len(shape) or any(n is not None and n != m for n, m in zip(shape, given)):
        known = \", \".join(f\"{size} = {n} from {source}\" for size, n, source in sizes)
        raise ValueError(f\"{name}: expected {expected}{' with ' + known if known else ''}, got {given}\")
    return array
";

/// Identifiers the module itself uses.
const RESERVED: &[&str] = &["np", "jnp", "jax", "torch", "value", "value_and_grad", "hessian", "float", "tuple"];

/// One result of a function.
pub(crate) enum Root {
    /// A node's value (its local, where it has one).
    Node(NodeId),
    /// Σ c · einsum(…): a Hessian's block from its index form, with the output's indices
    /// and their sizes (`hessian.rs`).
    Contractions(Vec<(Index, Dim)>, Vec<Contraction>),
}

impl Root {
    /// The graph's nodes the result is computed from.
    fn nodes(&self) -> Vec<NodeId> {
        match self {
            Root::Node(id) => vec![*id],
            Root::Contractions(_, terms) => terms
                .iter()
                .flat_map(|t| &t.operands)
                .filter_map(|(operand, _)| match operand {
                    Operand::Value(id) => Some(*id),
                    Operand::Identity(_) | Operand::Ones(_) => None,
                })
                .collect(),
        }
    }

    /// The sizes the result's arrays have besides its nodes' (a δ's identity, ones).
    fn dims(&self) -> Vec<Dim> {
        match self {
            Root::Node(_) => Vec::new(),
            Root::Contractions(output, _) => output.iter().map(|&(_, dim)| dim).collect(),
        }
    }

    fn text(&self, context: &Context) -> String {
        match self {
            Root::Node(id) => root_text(context, *id),
            Root::Contractions(output, terms) => context.contractions(output, terms),
        }
    }
}

/// A function of the module: its name, docstring and what it returns.
struct Function<'a> {
    name: &'a str,
    doc: String,
    /// What is computed, in the order the return statement lists it.
    roots: Vec<Root>,
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
    fn check_sizes(&self, roots: &[Root]) -> Result<(), Error> {
        let nodes: Vec<NodeId> = roots.iter().flat_map(Root::nodes).collect();
        let mut dims: Vec<Dim> = roots.iter().flat_map(Root::dims).collect();
        for id in self.graph.reachable(&nodes) {
            let shape = self.graph.shape(id);
            dims.extend([shape.rows, shape.cols]);
        }
        for dim in dims.into_iter().map(|d| self.graph.dims.resolve(d)) {
            if matches!(dim, Dim::Symbol(_) | Dim::Unknown(_)) && !self.dims.iter().any(|d| d.0 == dim) {
                return Err(Error::request(format!(
                    "the size {} is not the size of any input, so generated code cannot read it from its arguments",
                    self.graph.dims.show(dim)
                )));
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

    /// Where a size is read, as a message says it: `x`, `A's rows`, `A's columns`.
    fn source(&self, parameter: &str, axis: usize) -> String {
        let node = self.parameters.iter().find(|p| p.1 == parameter).map(|p| p.0);
        let name =
            self.parameters.iter().find(|p| p.1 == parameter).map_or(parameter.to_string(), |p| unicode_name(&p.2));
        match (node.map(|n| kind(self.graph, n)), axis) {
            (Some(Kind::Matrix), 0) => format!("{name}'s rows"),
            (Some(Kind::Matrix), _) => format!("{name}'s columns"),
            _ => name,
        }
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
    fn body(&self, roots: &[Root], labels: &[String]) -> (Vec<String>, Vec<String>) {
        let mut needed: BTreeSet<NodeId> = BTreeSet::new();
        let mut seen: HashSet<NodeId> = HashSet::new();
        let mut stack: Vec<NodeId> = roots.iter().flat_map(Root::nodes).collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if self.locals.contains_key(&id) && !matches!(self.graph.op(id), Op::Input(_)) {
                needed.insert(id);
            }
            stack.extend(self.graph.op(id).children());
        }
        let mut taken = self.taken.clone();
        let mut locals = self.locals.clone();
        let mut numbered = 0;
        for (id, label) in self.shared(roots, labels, &needed) {
            let mut local = match label {
                Some(label) => label,
                None => loop {
                    numbered += 1;
                    if !taken.contains(&format!("t{numbered}")) {
                        break format!("t{numbered}");
                    }
                },
            };
            while !taken.insert(local.clone()) {
                local.push('_');
            }
            locals.insert(id, local);
            needed.insert(id);
        }
        let used = RefCell::new(BTreeSet::new());
        let dim = |d: Dim| self.dim_text(d, &used);
        let name = |id: NodeId| locals.get(&id).cloned();
        let like = match (self.target, self.parameters.first()) {
            (Target::Torch, Some((_, first, _))) => format!(", dtype={first}.dtype, device={first}.device"),
            _ => String::new(),
        };
        let context = Context { graph: self.graph, target: self.target, name: &name, dim: &dim, like: &like };
        let mut lines: Vec<String> =
            needed.iter().map(|&id| format!("{} = {}", locals[&id], root_text(&context, id))).collect();
        let mut returned: HashSet<String> = HashSet::new();
        let results: Vec<String> = roots
            .iter()
            .zip(labels)
            .map(|(root, label)| match root {
                Root::Node(id) if name(*id).is_some() => name(*id).unwrap_or_default(),
                _ => {
                    let mut local = label.clone();
                    while !taken.insert(local.clone()) {
                        local.push('_');
                    }
                    lines.push(format!("{local} = {}", root.text(&context)));
                    local
                }
            })
            .map(|result| {
                // A result that is an argument (∂(wᵀx)/∂w is x) or a result already returned
                // (∂‖x + y‖²/∂x = ∂/∂y) is a copy: a caller's in-place update of one gradient
                // must not change an input or another gradient. JAX's arrays are immutable.
                let is_name = result.chars().all(|c| c.is_alphanumeric() || c == '_');
                let is_parameter = self.parameters.iter().any(|(_, parameter, _)| *parameter == result);
                let repeated = !returned.insert(result.clone());
                match (self.target, is_name && (is_parameter || repeated)) {
                    (Target::Numpy, true) => format!("{result}.copy()"),
                    (Target::Torch, true) => format!("{result}.clone()"),
                    _ => result,
                }
            })
            .zip(roots)
            .map(|(result, root)| match (self.target, root) {
                // A constant scalar (a gradient of 2, of 0) is a Python number: PyTorch's
                // code returns tensors only, of the inputs' dtype and device.
                (Target::Torch, Root::Node(id)) if kind(self.graph, *id) == Kind::Scalar => {
                    let like = if like.is_empty() { ", dtype=torch.float64" } else { like.as_str() };
                    format!("torch.as_tensor({result}{like})")
                }
                _ => result,
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

    /// The costly values without a name that the code would write more than once (in the
    /// locals' definitions and the results, as `expr.rs` writes them inline), each with a
    /// name for its own local: a root's label for a root, else `t1`, `t2`, … — so `Aᵀw` in
    /// `p = Aᵀ Aᵀ w` and in `∂L/∂A` is computed once, as a person would.
    fn shared(&self, roots: &[Root], labels: &[String], needed: &BTreeSet<NodeId>) -> Vec<(NodeId, Option<String>)> {
        let graph = self.graph;
        let mut uses: HashMap<NodeId, usize> = HashMap::new();
        let mut stack: Vec<NodeId> = Vec::new();
        for &id in needed {
            stack.extend(graph.op(id).children());
        }
        stack.extend(roots.iter().flat_map(Root::nodes));
        while let Some(id) = stack.pop() {
            let count = uses.entry(id).or_default();
            *count += 1;
            // A local is written by name; an inline value's operands are written once per use.
            if *count == 1 && !self.locals.contains_key(&id) {
                stack.extend(graph.op(id).children());
            }
        }
        let mut shared: Vec<NodeId> = uses
            .into_iter()
            .filter(|&(id, count)| count > 1 && !self.locals.contains_key(&id) && costly(graph, id))
            .map(|(id, _)| id)
            .collect();
        shared.sort();
        shared
            .into_iter()
            .map(|id| {
                let label = roots.iter().zip(labels).find(|(r, _)| matches!(r, Root::Node(n) if *n == id));
                (id, label.map(|(_, l)| l.clone()))
            })
            .collect()
    }

    fn function(&self, out: &mut String, function: &Function) {
        let parameters = self.parameter_list();
        let _ = writeln!(out, "\n\ndef {}({parameters}):", function.name);
        let doc = function.doc.trim_end().replace('\n', "\n    ").replace("    \n", "\n");
        let _ = writeln!(out, "    \"\"\"{doc}\n    \"\"\"");
        if !self.parameters.is_empty() {
            let _ = writeln!(out, "    {parameters} = _inputs({parameters})");
        }
        let (lines, results) = self.body(&function.roots, &function.labels);
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
        let convert = |node: NodeId, parameter: &str| match (self.target, kind(graph, node), &first_tensor) {
            (Target::Torch, Kind::Scalar, Some(like)) => {
                format!("torch.as_tensor({parameter}, dtype={like}.dtype, device={like}.device)")
            }
            (Target::Torch, Kind::Scalar, None) => format!("torch.as_tensor({parameter}, dtype=torch.float64)"),
            (target, ..) => target.convert(parameter),
        };
        // The path every call with the right shapes takes: the arguments converted, the sizes
        // read, every shape compared at once (a call costs microseconds at small sizes, and
        // one check per argument through `_checked` was a tenth of it). Any mismatch falls
        // through to the checks below, which name the argument.
        for (node, parameter, _) in &order {
            let _ = writeln!(out, "    {parameter} = {}", convert(*node, parameter));
        }
        let expected_shape = |node: NodeId| -> Option<String> {
            let shape: Option<Vec<String>> = axes(graph, node)
                .iter()
                .map(|dim| match (dim, self.dims.iter().find(|d| d.0 == *dim)) {
                    (Dim::Number(n), _) => Some(n.to_string()),
                    (_, Some((_, local, ..))) => Some(local.clone()),
                    (_, None) => None,
                })
                .collect();
            shape.map(|shape| if shape.is_empty() { "()".to_string() } else { tuple(&shape) })
        };
        let expected: Option<Vec<String>> = order.iter().map(|(node, ..)| expected_shape(*node)).collect();
        if let Some(expected) = expected {
            let guards: Vec<String> = self
                .parameters
                .iter()
                .filter(|(_, parameter, _)| self.dims.iter().any(|d| d.2 == *parameter))
                .map(|(node, parameter, _)| format!("{parameter}.ndim == {}", axes(graph, *node).len()))
                .collect();
            let mut indent = "    ";
            if !guards.is_empty() {
                let _ = writeln!(out, "    if {}:", guards.join(" and "));
                indent = "        ";
                for (_, local, from, axis) in &self.dims {
                    let _ = writeln!(out, "{indent}{local} = {from}.shape[{axis}]");
                }
            }
            let given: Vec<String> = order.iter().map(|(_, parameter, _)| format!("{parameter}.shape")).collect();
            let _ = writeln!(out, "{indent}if {} == {}:", tuple(&given), tuple(&expected));
            let _ = writeln!(out, "{indent}    return {}", self.parameter_list());
        }
        for (node, parameter, original) in order {
            let axes = axes(graph, *node);
            // The expected shape in the program's sizes, and the sizes already read (with
            // their values and the argument read), for the message of a wrong shape.
            let symbols: Vec<String> = axes.iter().map(|&d| graph.dims.show(d)).collect();
            let expected = match symbols.len() {
                0 => "a scalar".to_string(),
                1 => format!("a vector ({},)", symbols[0]),
                _ => format!("a matrix ({})", symbols.join(", ")),
            };
            let arguments = |known: &HashSet<Dim>| {
                let mut shape: Vec<String> = Vec::new();
                let mut sizes: Vec<String> = Vec::new();
                for dim in &axes {
                    let read = self.dims.iter().find(|x| x.0 == *dim).filter(|_| known.contains(dim));
                    shape.push(match (dim, read) {
                        (Dim::Number(n), _) => n.to_string(),
                        (_, Some((_, local, from, axis))) => {
                            let entry =
                                format!("(\"{}\", {local}, \"{}\")", graph.dims.show(*dim), self.source(from, *axis));
                            if !sizes.contains(&entry) {
                                sizes.push(entry);
                            }
                            local.clone()
                        }
                        (_, None) => "None".to_string(),
                    });
                }
                let sizes = match sizes.is_empty() {
                    true => String::new(),
                    false => format!(", {}", tuple(&sizes)),
                };
                format!("{}, \"{expected}\"{sizes}", tuple(&shape))
            };
            let name = unicode_name(original);
            let _ = writeln!(out, "    {parameter} = _checked(\"{name}\", {parameter}, {})", arguments(&bound));
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
                let _ = writeln!(out, "    _checked(\"{name}\", {parameter}, {})", arguments(&bound));
            }
        }
        let _ = writeln!(out, "    return {}", self.parameter_list());
    }

    /// The whole module: imports, the helpers its code calls, `_inputs`, the functions,
    /// each written by its writer (the gradients' and the Hessian's names differ; their
    /// parameters and sizes are the same).
    fn module(&self, doc: &str, functions: &[(&Writer, Function)]) -> String {
        let mut code = String::new();
        if !self.parameters.is_empty() {
            self.inputs(&mut code);
        }
        for (writer, function) in functions {
            writer.function(&mut code, function);
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

/// Whether a value is worth a local when it is used twice: a product of arrays, a matrix
/// function, or any other array (each NumPy operation on a vector costs about half a
/// microsecond however short the vector, which is a tenth of a small model's gradient); a
/// scalar's arithmetic costs less than a name does to read.
fn costly(graph: &Graph, id: NodeId) -> bool {
    let array = |id: NodeId| kind(graph, id) != Kind::Scalar;
    match graph.op(id) {
        // An outer product may be written as part of a stacked product (`expr.rs`), not
        // whole, so it is left inline.
        Op::MatMul(a, b) if kind(graph, a) == Kind::Column && kind(graph, b) == Kind::Row => false,
        Op::MatMul(a, b) => array(a) && array(b),
        Op::Inv(_) | Op::Det(_) | Op::LogDet(_) | Op::MatPow(..) | Op::Softmax(_) | Op::LogSumExp(_) => true,
        // A `Diag` factor is written as a broadcast, never formed; a transpose is a view; a
        // negation may be written as a subtraction (`a - b`), not whole, and is cheap.
        Op::Input(_)
        | Op::Const(_)
        | Op::Size(_)
        | Op::Eye(_)
        | Op::Fill(..)
        | Op::Transpose(_)
        | Op::Diag(_)
        | Op::Neg(_) => false,
        Op::Add(..)
        | Op::Mul(..)
        | Op::Div(..)
        | Op::Pow(..)
        | Op::Map(..)
        | Op::Sum(_)
        | Op::Norm1(_)
        | Op::Norm2(_)
        | Op::Trace(_)
        | Op::DiagPart(_) => kind(graph, id) != Kind::Scalar,
    }
}

/// A function's result in full; a constant as a float (`0.0`), so it has the float type.
fn root_text(context: &Context, id: NodeId) -> String {
    match context.graph.op(id) {
        Op::Const(c) => float(c.0),
        Op::Fill(c, _) if kind(context.graph, id) == Kind::Scalar => float(c.0),
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
    /// The closed forms as a Python module for `target` (see the module's doc): `value`
    /// and `value_and_grad`.
    pub fn code(&self, target: Target) -> Result<String, Error> {
        self.module(target, None)
    }

    /// The same module with `hessian(<inputs>)` too: every block of the Hessian in
    /// `jax.hessian`'s layout, from its closed form (`hessian.rs`).
    pub fn code_with_hessian(&self, target: Target) -> Result<String, Error> {
        self.module(target, Some(&self.hessian()))
    }

    fn module(&self, target: Target, hessian: Option<&Hessian>) -> Result<String, Error> {
        // The Hessian's graph is the gradient's grown, so one graph serves every function.
        let program = hessian.map_or(&self.program, |h| &h.blocks.program);
        let graph = &program.graph;
        // The gradient's names; the nodes the Hessian added have none of its.
        let names = |id: NodeId| (id.index() < self.program.graph.len()).then(|| self.name_of(id)).flatten();
        let writer = Writer::new(program, target, &names);
        let output = program.output_node();
        let mut roots = vec![Root::Node(output)];
        roots.extend(self.wrt.iter().map(|w| Root::Node(w.gradient)));
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
        let hessian_names = |id: NodeId| hessian.and_then(|h| h.blocks.name_of(id));
        let hessian_writer = Writer::new(program, target, &hessian_names);
        let hessian = match hessian {
            Some(hessian) => Some(hessian::function(&hessian.blocks, &hessian_writer)?),
            None => None,
        };
        let (what, flag) = match hessian {
            Some(_) => ("its gradients and its Hessian", " --hessian"),
            None => ("its gradients", ""),
        };
        let mut doc = format!(
            "{output_name} and {what}, from matgrad (`matgrad codegen --target {}{flag}`); needs only {}.\n\nThe program:\n{program_text}\nThe gradients ({LAYOUT}):\n{forms}",
            target.name(),
            target.library()
        );
        if let Some(hessian) = &hessian {
            let _ = write!(doc, "\nThe Hessian ({HESSIAN_LAYOUT}):\n{}", hessian.forms);
        }
        let value_returns = |r: &[String]| r[0].clone();
        let grad_returns = |r: &[String]| format!("{}, {}", r[0], tuple(&r[1..]));
        let mut functions = vec![
            (
                &writer,
                Function {
                    name: "value",
                    doc: format!("{output_name}, the program's output.\n\n{parameters}"),
                    roots: vec![Root::Node(output)],
                    labels: vec!["value".to_string()],
                    returns: &value_returns,
                },
            ),
            (
                &writer,
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
            ),
        ];
        let variables = self.wrt.len();
        let hessian_returns = |r: &[String]| tuple(&r.chunks(variables.max(1)).map(tuple).collect::<Vec<_>>());
        if let Some(hessian) = hessian {
            hessian_writer.check_sizes(&hessian.roots)?;
            functions.push((
                &hessian_writer,
                Function {
                    name: "hessian",
                    doc: format!(
                        "{}, block (p, q) with the shape of p followed by the shape of q (jax.hessian's layout).\n\n{parameters}\n\nComputes:\n{}",
                        hessian.signature, hessian.forms
                    ),
                    roots: hessian.roots,
                    labels: hessian.labels,
                    returns: &hessian_returns,
                },
            ));
        }
        Ok(writer.module(&doc, &functions))
    }
}

/// A Python tuple of `items`: `(a,)` for one.
fn tuple<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    match items.len() {
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}
