//! Numerical checks: central finite differences of a scalar output, to compare symbolic
//! gradients against.

use std::collections::HashMap;

use crate::eval::{evaluate, InputError, Sizes};
use crate::ir::{Graph, NodeId};
use crate::Array;

/// ∂output/∂x for the input `x` by central differences, entry by entry, with the step
/// h = 6·10⁻⁶·max(1, |xᵢ|) (about ∛ε, which balances truncation and rounding error).
pub fn finite_difference(
    graph: &Graph,
    output: NodeId,
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
    x: &str,
) -> Result<Array, InputError> {
    let mut point = inputs.clone();
    let base =
        point.get(x).cloned().ok_or_else(|| InputError { message: format!("no value for input `{x}`"), hint: None })?;
    let mut gradient = Array::zeros(base.rows, base.cols);
    for k in 0..base.data.len() {
        let h = 6e-6 * base.data[k].abs().max(1.0);
        let at = |offset: f64, point: &mut HashMap<String, Array>| {
            let mut shifted = base.clone();
            shifted.data[k] += offset;
            point.insert(x.to_string(), shifted);
            evaluate(graph, sizes, point, &[output]).map(|v| v[0].data[0])
        };
        let plus = at(h, &mut point)?;
        let minus = at(-h, &mut point)?;
        gradient.data[k] = (plus - minus) / (2.0 * h);
    }
    Ok(gradient)
}

/// The largest entrywise difference relative to `scale`, the larger of the two arrays'
/// largest entries and `floor`; infinity when either holds a non-finite entry.
///
/// The floor keeps rounding noise from counting as error where a gradient is zero: finite
/// differences of an output L carry noise of about ε|L|/h ≈ 4·10⁻¹¹(1 + |L|), so
/// [`noise_floor`] of L is a safe floor for its gradients.
pub fn relative_error(symbolic: &Array, numeric: &Array, floor: f64) -> f64 {
    if symbolic.data.iter().chain(&numeric.data).any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    let difference = symbolic.data.iter().zip(&numeric.data).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
    let scale = symbolic.max_abs().max(numeric.max_abs()).max(floor);
    if difference == 0.0 {
        0.0
    } else {
        difference / scale.max(f64::MIN_POSITIVE)
    }
}

/// The scale below which a gradient of an output with value `output` is indistinguishable
/// from zero by finite differences: 10⁻³(1 + |L|), far above their noise and far below any
/// gradient entry that matters.
pub fn noise_floor(output: f64) -> f64 {
    1e-3 * (1.0 + output.abs())
}

/// Checks every gradient in `gradients` (input node, gradient node) at a point: the
/// largest relative error per input, in order, with the output's [`noise_floor`].
pub fn check_gradients(
    graph: &Graph,
    output: NodeId,
    gradients: &[(NodeId, NodeId)],
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
) -> Result<Vec<(String, f64)>, InputError> {
    let mut nodes: Vec<NodeId> = gradients.iter().map(|&(_, g)| g).collect();
    nodes.push(output);
    let mut symbolic = evaluate(graph, sizes, inputs, &nodes)?;
    let floor = noise_floor(symbolic.pop().map_or(0.0, |l| l.data[0]));
    let mut errors = Vec::new();
    for (&(x, _), value) in gradients.iter().zip(&symbolic) {
        let name = graph.name(x).unwrap_or("?").to_string();
        let numeric = finite_difference(graph, output, sizes, inputs, &name)?;
        errors.push((name, relative_error(value, &numeric, floor)));
    }
    Ok(errors)
}
