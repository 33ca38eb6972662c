//! Numerical checks: central finite differences of a scalar output, to compare symbolic
//! gradients against.

use std::collections::HashMap;

use crate::eval::{evaluate, Sizes, Tape};
use crate::ir::{Graph, NodeId};
use crate::Array;
use crate::Error;

/// Above this many entries a variable is checked in random directions rather than entry by
/// entry: 2 evaluations per entry is O(K⁴) for a K×K matrix, seconds at K = 64 and
/// minutes at K = 512.
pub const ENTRYWISE_LIMIT: usize = 256;

/// How many random directions check a large variable. A wrong gradient G′ ≠ G is caught in
/// each direction v with probability 1, by about ‖G − G′‖/‖G‖.
pub const DIRECTIONS: usize = 4;

/// The finite-difference step for a value of magnitude `scale`: 6·10⁻⁶·max(1, scale)
/// (about ∛ε, which balances truncation and rounding error).
fn step(scale: f64) -> f64 {
    6e-6 * scale.max(1.0)
}

/// The Jacobian of `output` with respect to the node `x` (an input, or an intermediate held
/// as an independent leaf) by central differences, entry by entry, on a tape that holds
/// both: column b holds ∂output/∂x[b], entries of both in column-major order.
fn entrywise(tape: &mut Tape, output: NodeId, x: NodeId) -> Result<Array, Error> {
    let base = tape.value(x);
    let dependents = tape.dependents(x);
    let mut columns = Vec::with_capacity(base.data.len());
    let mut shifted = base.clone();
    for k in 0..base.data.len() {
        let h = step(base.data[k].abs());
        let mut at = |offset: f64| {
            shifted.data[k] = base.data[k] + offset;
            tape.value_with(x, &shifted, &dependents, output)
        };
        let plus = at(h)?;
        let minus = at(-h)?;
        shifted.data[k] = base.data[k];
        columns.extend(plus.data.iter().zip(&minus.data).map(|(p, m)| (p - m) / (2.0 * h)));
    }
    let rows = columns.len() / base.data.len().max(1);
    Ok(Array { rows, cols: base.data.len(), data: columns })
}

/// The largest relative error of `symbolic` (the Jacobian of `output` with respect to node
/// `x`, laid out as [`entrywise`]'s; a gradient's own entries for a scalar output) in
/// [`DIRECTIONS`] pseudo-random unit directions v: J v against the central difference of
/// the output along v, relative to the larger of the two, ‖J‖/√n (the typical size of such
/// a derivative) and `floor`.
fn directional(tape: &mut Tape, output: NodeId, x: NodeId, symbolic: &Array, floor: f64) -> Result<f64, Error> {
    let base = tape.value(x);
    let dependents = tape.dependents(x);
    let n = base.data.len();
    let rows = symbolic.data.len() / n.max(1);
    // Unit directions and the entrywise step: a perturbation as long as an entrywise one
    // (a longer one, relative to ‖x‖, made the truncation error grow with the size).
    let h = step(base.max_abs());
    let mut worst = 0.0_f64;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ x.0 as u64;
    for _ in 0..DIRECTIONS {
        let mut direction = Array::from_fn(base.rows, base.cols, |_, _| normal(&mut seed));
        let length = norm(&direction).max(f64::MIN_POSITIVE);
        direction.data.iter_mut().for_each(|v| *v /= length);
        let mut at = |sign: f64| {
            let mut shifted = base.clone();
            for (s, v) in shifted.data.iter_mut().zip(&direction.data) {
                *s += sign * h * v;
            }
            tape.value_with(x, &shifted, &dependents, output)
        };
        let (plus, minus) = (at(1.0)?, at(-1.0)?);
        let numeric: Vec<f64> = plus.data.iter().zip(&minus.data).map(|(p, m)| (p - m) / (2.0 * h)).collect();
        let mut exact = vec![0.0; rows];
        for (b, v) in direction.data.iter().enumerate() {
            for (a, e) in exact.iter_mut().enumerate() {
                *e += symbolic.data[b * rows + a] * v;
            }
        }
        // Relative to the size a derivative along a random unit direction has, ‖J‖/√n, or
        // to this one where it is larger: one that comes out near zero is a cancellation,
        // not a small derivative.
        let typical = norm(symbolic) / (n as f64).sqrt();
        let (exact, numeric) = (Array::vector(exact), Array::vector(numeric));
        worst = worst.max(relative_error(&exact, &numeric, typical.max(floor)));
    }
    Ok(worst)
}

fn norm(array: &Array) -> f64 {
    array.data.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// An array of standard normal entries from `seed`, the same on every run: the random
/// directions (dA, dx) and the values of a claim's own names that checks evaluate at.
pub fn random_array(rows: usize, cols: usize, seed: u64) -> Array {
    let mut state = seed ^ 0x2545_f491_4f6c_dd1d;
    Array::from_fn(rows, cols, |_, _| normal(&mut state))
}

/// Checks equations at a point, all evaluated in one pass: for each pair of nodes (two
/// sides that should have the same value), the relative error of one against the other with
/// `floor` (see [`relative_error`]); infinite for sides of different shapes. Every check
/// that compares two expressions goes through here: `explain`'s steps and `verify`'s
/// claims are equations of this kind.
pub fn equations(
    graph: &Graph,
    sizes: &Sizes,
    point: &HashMap<String, Array>,
    pairs: &[(NodeId, NodeId)],
    floor: f64,
) -> Result<Vec<f64>, Error> {
    let nodes: Vec<NodeId> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let values = evaluate(graph, sizes, point, &nodes)?;
    Ok(values
        .chunks(2)
        .map(|pair| match pair {
            [a, b] if (a.rows, a.cols) == (b.rows, b.cols) => relative_error(a, b, floor),
            _ => f64::INFINITY,
        })
        .collect())
}

/// A standard normal number from a splitmix64 stream (Box–Muller): directions need to be
/// generic, not from a particular generator, and the check must give the same verdict on
/// every run.
fn normal(state: &mut u64) -> f64 {
    let mut uniform = || {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let (u, v) = (uniform(), uniform());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
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

/// Checks every gradient in `gradients` (variable node, gradient node) at a point: the
/// largest relative error per variable, in order, with the [`noise_floor`] of the largest
/// scalar the output is computed from ([`Tape::largest_scalar`]);
/// entry by entry up to [`ENTRYWISE_LIMIT`] entries, in random directions above.
pub fn check_gradients(
    graph: &Graph,
    output: NodeId,
    gradients: &[(NodeId, NodeId)],
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
) -> Result<Vec<(String, f64)>, Error> {
    // One tape for every variable: each perturbation recomputes only what depends on it.
    let mut wanted: Vec<NodeId> = gradients.iter().flat_map(|&(x, g)| [x, g]).collect();
    wanted.push(output);
    let mut tape = Tape::new(graph, sizes, inputs, &wanted)?;
    let floor = noise_floor(tape.largest_scalar(output));
    let mut errors = Vec::new();
    for &(x, g) in gradients {
        let name = graph.name(x).unwrap_or("?").to_string();
        let value = tape.value(g);
        errors.push((name, compare(&mut tape, output, x, &value, floor)?));
    }
    Ok(errors)
}

/// The relative error of `symbolic`, the Jacobian of `output` with respect to `x`, against
/// finite differences: entry by entry up to [`ENTRYWISE_LIMIT`] entries of x, in random
/// directions above.
fn compare(tape: &mut Tape, output: NodeId, x: NodeId, symbolic: &Array, floor: f64) -> Result<f64, Error> {
    if tape.value(x).data.len() <= ENTRYWISE_LIMIT {
        let numeric = entrywise(tape, output, x)?;
        Ok(relative_error(symbolic, &numeric, floor))
    } else {
        directional(tape, output, x, symbolic, floor)
    }
}

/// Checks Jacobians (value node, variable node, the Jacobian's entries laid out as
/// [`entrywise`]'s) at a point, as [`check_gradients`] checks gradients: the largest
/// relative error of each, with the [`noise_floor`] of its value's largest entry or of the
/// largest scalar it is computed from. A
/// Hessian's block is the Jacobian of a gradient, so this is its check too.
pub fn check_jacobians(
    graph: &Graph,
    jacobians: &[(NodeId, NodeId, &Array)],
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
) -> Result<Vec<f64>, Error> {
    let wanted: Vec<NodeId> = jacobians.iter().flat_map(|&(of, x, _)| [of, x]).collect();
    let mut tape = Tape::new(graph, sizes, inputs, &wanted)?;
    let mut errors = Vec::new();
    for &(of, x, symbolic) in jacobians {
        let floor = noise_floor(tape.value(of).max_abs().max(tape.largest_scalar(of)));
        errors.push(compare(&mut tape, of, x, symbolic, floor)?);
    }
    Ok(errors)
}

/// H v by central differences of the gradients: for each gradient (of variable p), the sum
/// over the variables q of its central difference along q's part of the direction
/// (`directions[q]`, of q's shape), each variable held as an independent leaf as the
/// Hessian's blocks hold it. `variables` are (variable node, gradient node). The step is
/// [`step`] of the variable's largest entry over the direction's largest, so that each
/// perturbation is as long as an entrywise one.
pub fn hessian_vector_by_differences(
    graph: &Graph,
    variables: &[(NodeId, NodeId)],
    directions: &[Array],
    sizes: &Sizes,
    inputs: &HashMap<String, Array>,
) -> Result<Vec<Array>, Error> {
    let wanted: Vec<NodeId> = variables.iter().flat_map(|&(x, g)| [x, g]).collect();
    let mut tape = Tape::new(graph, sizes, inputs, &wanted)?;
    let mut out: Vec<Array> = variables
        .iter()
        .map(|&(_, g)| {
            let v = tape.value(g);
            Array::zeros(v.rows, v.cols)
        })
        .collect();
    for (&(x, _), direction) in variables.iter().zip(directions) {
        let base = tape.value(x);
        let dependents = tape.dependents(x);
        let h = step(base.max_abs()) / direction.max_abs().max(f64::MIN_POSITIVE);
        let shifted = |sign: f64| {
            let mut shifted = base.clone();
            for (s, v) in shifted.data.iter_mut().zip(&direction.data) {
                *s += sign * h * v;
            }
            shifted
        };
        let (plus, minus) = (shifted(1.0), shifted(-1.0));
        for (&(_, g), total) in variables.iter().zip(out.iter_mut()) {
            let (up, down) = (tape.value_with(x, &plus, &dependents, g)?, tape.value_with(x, &minus, &dependents, g)?);
            for ((t, u), d) in total.data.iter_mut().zip(&up.data).zip(&down.data) {
                *t += (u - d) / (2.0 * h);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Program;

    /// Above the entrywise limit the check runs in random directions; it must still catch a
    /// gradient that is wrong by a factor, or wrong in a single entry.
    #[test]
    fn directional_check_catches_wrong_gradients() {
        let program = Program::parse("x: vector(n)\nL = sum(x.*x)").expect("parses");
        let graph = &program.graph;
        let x = program.lookup("x").expect("x");
        let n = 2 * ENTRYWISE_LIMIT;
        let sizes = Sizes::from_pairs(&[("n", n)]);
        let value = Array::from_fn(n, 1, |i, _| (i as f64 * 0.37).sin());
        let inputs: HashMap<String, Array> = [("x".to_string(), value.clone())].into();
        let output = program.output_node();
        let right = Array::from_fn(n, 1, |i, _| 2.0 * value.data[i]);
        let error = |g: &Array| {
            let mut tape = Tape::new(graph, &sizes, &inputs, &[output, x]).expect("evaluates");
            directional(&mut tape, output, x, g, 1e-3).expect("evaluates")
        };
        assert!(error(&right) < 1e-6, "the right gradient passes at the default tolerance: {}", error(&right));
        assert!(error(&value) > 0.1, "half the gradient: {}", error(&value));
        let mut one_entry = right.clone();
        one_entry.data[7] += 0.5;
        assert!(error(&one_entry) > 1e-3, "one entry off: {}", error(&one_entry));
    }
}
