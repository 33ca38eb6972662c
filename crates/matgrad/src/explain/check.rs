//! Every step of an explanation evaluated at a point, so a reader can trust each line.

use std::collections::HashMap;

use super::{Explanation, SecondOrder, VertexKind};
use crate::check::{noise_floor, relative_error};
use crate::eval::{evaluate, Sizes};
use crate::ir::{NodeId, Op};
use crate::print::unicode_name;
use crate::Array;
use crate::Error;

/// The largest relative error of one step against what it must equal.
pub type StepCheck = f64;

/// The values at the point and each step's check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Each vertex's value and adjoint value, by vertex.
    pub values: Vec<Array>,
    pub adjoints: Vec<Array>,
    /// Per backpropagation step: its sum of matrix-form terms, evaluated with the parents'
    /// adjoints, against the closed-form adjoint.
    pub backprop: Vec<StepCheck>,
    /// Per statement's differential: ⟨s̄, ds⟩ against Σ ⟨pull-back to c, dc⟩ for random s̄
    /// and dc (forward and reverse views of the same edge agree).
    pub differentials: Vec<StepCheck>,
    /// Per substitution: the substituted value's G against its adjoint.
    pub substitutions: Vec<StepCheck>,
    /// The gradients read off the back-substitution against the gradients.
    pub read_off: Vec<(String, StepCheck)>,
    /// The gradients against central finite differences.
    pub finite_differences: Vec<(String, StepCheck)>,
    /// The second order's checks, where the explanation has one.
    pub second: Option<SecondChecked>,
}

/// The second order's checks (see `second.rs`).
#[derive(Debug, Clone)]
pub struct SecondChecked {
    /// Per statement with a differential in the direction, in program order: its local form
    /// (in its uses' differentials) against its closed form.
    pub forward: Vec<StepCheck>,
    /// Per adjoint differential: the sum of its terms' differentials against the
    /// differential of the closed-form adjoint.
    pub reverse: Vec<StepCheck>,
    /// Per variable: d(∂L/∂x) read off against central differences of the gradient along
    /// the direction.
    pub read_off: Vec<(String, StepCheck)>,
}

/// The largest relative error a step may have and still agree (✓).
pub const STEP_TOLERANCE: f64 = 1e-6;

impl Checked {
    /// The steps that disagree (✗), named for a person: "the adjoint of y", "dz",
    /// "∂L/∂A read off", "∂L/∂x against finite differences".
    pub fn failures(&self, explanation: &Explanation) -> Vec<String> {
        let fails = |e: f64| e.is_nan() || e > STEP_TOLERANCE;
        let vertex = |i: usize| unicode_name(&explanation.vertices[i].name);
        let mut out = Vec::new();
        for (step, &error) in explanation.backprop.iter().zip(&self.backprop) {
            if fails(error) {
                out.push(format!("the adjoint of {}", vertex(step.vertex)));
            }
        }
        for (&(i, _), &error) in explanation.differentials.iter().zip(&self.differentials) {
            if fails(error) {
                out.push(format!("d{}", vertex(i)));
            }
        }
        for (substitution, &error) in explanation.substitutions.iter().zip(&self.substitutions) {
            if fails(error) {
                out.push(format!("the substitution of d{}", vertex(substitution.vertex)));
            }
        }
        for (name, error) in &self.read_off {
            if fails(*error) {
                out.push(format!("∂L/∂{} read off", unicode_name(name)));
            }
        }
        for (name, error) in &self.finite_differences {
            if fails(*error) {
                out.push(format!("∂L/∂{} against finite differences", unicode_name(name)));
            }
        }
        if let (Some(second), Some(checked)) = (&explanation.second, &self.second) {
            for (&(i, _), &error) in second.local.iter().zip(&checked.forward) {
                if fails(error) {
                    out.push(format!("d{} in the direction", vertex(i)));
                }
            }
            for (step, &error) in second.reverse.iter().zip(&checked.reverse) {
                if fails(error) {
                    out.push(format!("the differential of the adjoint of {}", vertex(step.vertex)));
                }
            }
            for (name, error) in &checked.read_off {
                if fails(*error) {
                    out.push(format!("d(∂L/∂{}) against finite differences of the gradient", unicode_name(name)));
                }
            }
        }
        out
    }

    /// The largest error of any step.
    pub fn worst(&self) -> f64 {
        self.backprop
            .iter()
            .chain(&self.differentials)
            .chain(&self.substitutions)
            .chain(self.read_off.iter().map(|(_, e)| e))
            .chain(self.finite_differences.iter().map(|(_, e)| e))
            .chain(
                self.second
                    .iter()
                    .flat_map(|s| s.forward.iter().chain(&s.reverse).chain(s.read_off.iter().map(|(_, e)| e))),
            )
            .fold(0.0, |m, &e| if e.is_nan() { f64::INFINITY } else { m.max(e) })
    }
}

/// Evaluates every step at the point (`sizes`, `inputs` for the program's inputs); the
/// symbols of the explanation (adjoints w̄, differentials dA) get their values here: w̄ the
/// adjoint's value, dA a deterministic pseudo-random direction.
pub fn check(explanation: &Explanation, sizes: &Sizes, inputs: &HashMap<String, Array>) -> Result<Checked, Error> {
    let graph = explanation.graph();
    let vertices = &explanation.vertices;
    let adjoint_nodes: Vec<NodeId> = {
        let mut by_vertex = vec![NodeId(0); vertices.len()];
        for step in &explanation.backprop {
            by_vertex[step.vertex] = step.adjoint;
        }
        by_vertex
    };
    let mut wanted: Vec<NodeId> = vertices.iter().map(|v| v.node).collect();
    wanted.extend(&adjoint_nodes);
    let evaluated = evaluate(graph, sizes, inputs, &wanted)?;
    let (values, adjoints) = evaluated.split_at(vertices.len());
    let (values, adjoints) = (values.to_vec(), adjoints.to_vec());
    let floor = noise_floor(values.last().map_or(0.0, |l| l.data[0]));

    // Bind the symbols: each bar to its adjoint's value, each tangent to a fixed direction.
    let mut point = inputs.clone();
    for (i, vertex) in vertices.iter().enumerate() {
        if let Some(bar) = vertex.bar {
            point.insert(input_name(explanation, bar), adjoints[i].clone());
        }
        let v = &values[i];
        let direction = Array::from_fn(v.rows, v.cols, |r, c| ((r * 7 + c * 13 + i * 5) % 11) as f64 / 5.0 - 1.0);
        point.insert(input_name(explanation, vertex.tangent), direction);
    }
    // Every quantity the steps print, evaluated in one pass (each node once).
    let mut quantities: Vec<NodeId> =
        explanation.backprop.iter().flat_map(|s| s.terms.iter().map(|t| t.matrix_form)).collect();
    quantities.extend(explanation.differentials.iter().map(|&(_, d)| d));
    quantities.extend(explanation.substitutions.iter().flat_map(|s| s.before.iter().map(|&(_, g)| g)));
    quantities
        .extend(explanation.substitutions.last().map_or(&explanation.start, |s| &s.after).iter().map(|&(_, g)| g));
    let computed: HashMap<NodeId, Array> =
        quantities.iter().copied().zip(evaluate(graph, sizes, &point, &quantities)?).collect();
    let value = |node: NodeId| -> Result<Array, Error> { Ok(computed[&node].clone()) };

    let mut backprop = Vec::new();
    for step in &explanation.backprop {
        if step.terms.is_empty() {
            backprop.push(0.0); // the output: L̄ = 1 by definition
            continue;
        }
        let mut total = Array::zeros(adjoints[step.vertex].rows, adjoints[step.vertex].cols);
        for term in &step.terms {
            let v = value(term.matrix_form)?;
            for (t, x) in total.data.iter_mut().zip(&v.data) {
                *t += x;
            }
        }
        backprop.push(relative_error(&total, &adjoints[step.vertex], floor));
    }

    let dot = |a: &Array, b: &Array| a.data.iter().zip(&b.data).map(|(x, y)| x * y).sum::<f64>();
    // Each parent's terms, in the order the backpropagation lists them: (child, term).
    let mut terms_of: Vec<Vec<(usize, NodeId)>> = vec![Vec::new(); vertices.len()];
    for step in &explanation.backprop {
        for term in &step.terms {
            terms_of[term.parent].push((step.vertex, term.matrix_form));
        }
    }
    let mut differentials = Vec::new();
    for &(i, d) in &explanation.differentials {
        let vertex = &vertices[i];
        let bar = &point[&input_name(explanation, vertex.bar.expect("a statement"))];
        let forward = dot(bar, &value(d)?);
        let mut reverse = 0.0;
        for &(child, term) in &terms_of[i] {
            let tangent = &point[&input_name(explanation, vertices[child].tangent)];
            reverse += dot(&value(term)?, tangent);
        }
        let scale = forward.abs().max(reverse.abs()).max(floor);
        differentials.push((forward - reverse).abs() / scale);
    }

    // The substitutions and the read-off gradients are equations between two nodes (a G
    // and an adjoint), checked by the same mechanism as `verify`'s claims.
    let mut pairs = Vec::new();
    let mut substitution_pairs = Vec::new();
    for substitution in &explanation.substitutions {
        let g = substitution.before.iter().find(|(v, _)| *v == substitution.vertex).map(|&(_, g)| g);
        substitution_pairs.push(g.map(|g| {
            pairs.push((g, adjoint_nodes[substitution.vertex]));
            pairs.len() - 1
        }));
    }
    let mut read_off_pairs = Vec::new();
    for (v, g) in explanation.read_off() {
        read_off_pairs.push((vertices[v].name.clone(), pairs.len()));
        pairs.push((g, adjoint_nodes[v]));
    }
    let errors = crate::check::equations(graph, sizes, &point, &pairs, floor)?;
    let substitutions = substitution_pairs.iter().map(|p| p.map_or(f64::INFINITY, |i| errors[i])).collect();
    let read_off = read_off_pairs.into_iter().map(|(name, i)| (name, errors[i])).collect();

    let finite_differences = explanation.gradient.check(sizes, inputs)?;
    let second = match &explanation.second {
        Some(second) => Some(check_second(explanation, second, sizes, inputs, &adjoints, floor)?),
        None => None,
    };
    Ok(Checked { values, adjoints, backprop, differentials, substitutions, read_off, finite_differences, second })
}

/// The second order's steps at the point, in a fixed pseudo-random direction dx: the
/// closed forms first (they read only the inputs and dx), then every local form with its
/// symbols bound to them — each statement's dv and each adjoint's d w̄ to its closed value —
/// so that each line is checked on its own, as the first order's are.
fn check_second(
    explanation: &Explanation,
    second: &SecondOrder,
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
    adjoints: &[Array],
    floor: f64,
) -> Result<SecondChecked, Error> {
    let graph = explanation.graph();
    let vertices = &explanation.vertices;
    let mut point = inputs.clone();
    let mut directions = Vec::new();
    for &(i, symbol) in &second.directions {
        let (rows, cols) = sizes.shape(graph, graph.shape(vertices[i].node)).unwrap_or((1, 1));
        let direction = crate::check::random_array(rows, cols, 0x5eed + i as u64);
        point.insert(input_name(explanation, symbol), direction.clone());
        directions.push(direction);
    }
    // The other inputs do not move.
    for vertex in vertices.iter().filter(|v| v.kind == VertexKind::Input) {
        let name = input_name(explanation, vertex.tangent);
        point.entry(name).or_insert_with(|| {
            let (rows, cols) = sizes.shape(graph, graph.shape(vertex.node)).unwrap_or((1, 1));
            Array::zeros(rows, cols)
        });
    }
    let forward: Vec<(usize, NodeId)> = second.forward.iter().map(|(&i, &d)| (i, d)).collect();
    let mut closed_nodes: Vec<NodeId> = forward.iter().map(|&(_, d)| d).collect();
    closed_nodes.extend(second.reverse.iter().map(|r| r.closed));
    let closed_values = evaluate(graph, sizes, &point, &closed_nodes)?;
    let (forward_values, reverse_values) = closed_values.split_at(forward.len());
    for (&(i, _), value) in forward.iter().zip(forward_values) {
        point.insert(input_name(explanation, vertices[i].tangent), value.clone());
    }
    for (step, value) in second.reverse.iter().zip(reverse_values) {
        if let Some(&dbar) = second.dbar.get(&step.vertex) {
            point.insert(input_name(explanation, dbar), value.clone());
        }
        if let Some(bar) = vertices[step.vertex].bar {
            point.insert(input_name(explanation, bar), adjoints[step.vertex].clone());
        }
    }
    let closed_forward: HashMap<usize, &Array> = forward.iter().map(|&(i, _)| i).zip(forward_values).collect();
    // The local forms, evaluated in one pass.
    let mut local: Vec<NodeId> = second.local.iter().map(|&(_, d)| d).collect();
    local.extend(second.reverse.iter().flat_map(|r| r.terms.iter().filter_map(|&(_, t)| t)));
    let local_values = evaluate(graph, sizes, &point, &local)?;
    let (local_forward, mut local_terms) =
        (&local_values[..second.local.len()], local_values[second.local.len()..].iter());
    let forward_checks = second
        .local
        .iter()
        .zip(local_forward)
        .map(|(&(i, _), value)| relative_error(value, closed_forward[&i], floor))
        .collect();
    let mut reverse_checks = Vec::new();
    for (step, closed) in second.reverse.iter().zip(reverse_values) {
        if step.terms.is_empty() {
            reverse_checks.push(0.0); // d L̄ = d1 = 0 by definition
            continue;
        }
        let mut total = Array::zeros(closed.rows, closed.cols);
        for _ in step.terms.iter().filter(|(_, t)| t.is_some()) {
            let value = local_terms.next().expect("one value per term");
            for (t, x) in total.data.iter_mut().zip(&value.data) {
                *t += x;
            }
        }
        reverse_checks.push(relative_error(&total, closed, floor));
    }
    // The read-off products against central differences of the gradient along dx.
    let variables: Vec<(NodeId, NodeId)> = explanation.gradient.wrt.iter().map(|w| (w.node, w.gradient)).collect();
    // Each variable is a vertex with its part of the direction (`with_second_order`).
    let part_of: HashMap<NodeId, usize> =
        second.directions.iter().enumerate().map(|(k, &(i, _))| (vertices[i].node, k)).collect();
    let ordered: Vec<Array> = explanation.gradient.wrt.iter().map(|w| directions[part_of[&w.node]].clone()).collect();
    let numeric = crate::check::hessian_vector_by_differences(graph, &variables, &ordered, sizes, inputs)?;
    let closed_of: HashMap<usize, &Array> = second.reverse.iter().map(|r| r.vertex).zip(reverse_values).collect();
    let read_off = explanation
        .gradient
        .wrt
        .iter()
        .zip(&numeric)
        .map(|(w, numeric)| {
            let (vertex, _) = second.directions[part_of[&w.node]];
            (w.name.clone(), relative_error(closed_of[&vertex], numeric, floor))
        })
        .collect();
    Ok(SecondChecked { forward: forward_checks, reverse: reverse_checks, read_off })
}

fn input_name(explanation: &Explanation, node: NodeId) -> String {
    let graph = explanation.graph();
    match graph.op(node) {
        Op::Input(i) => graph.input(i).name.clone(),
        _ => unreachable!("explanation symbols are inputs"),
    }
}
