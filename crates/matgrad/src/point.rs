//! A point to evaluate at: a size for every dimension symbol and a value for every input.
//!
//! Inputs not given are drawn here, by one generator (N(0, 1) per entry, independently, from
//! ChaCha8 seeded with the point's seed, in the order the program lists its inputs), so
//! that the command, the tests and every front end evaluate at the same point for the same
//! seed.

use std::collections::HashMap;
use std::fmt::Write;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::eval::{Sizes, MEMORY_BUDGET};
use crate::ir::Graph;
use crate::Error;
use crate::{Array, Program};

/// The size a dimension takes when neither the caller nor an input gives one.
pub const DEFAULT_SIZE: usize = 4;

/// Where a program is evaluated.
#[derive(Debug, Clone)]
pub struct Point {
    pub sizes: Sizes,
    /// A value for every input.
    pub inputs: HashMap<String, Array>,
    /// The inputs that were drawn at random, in order.
    pub random: Vec<String>,
    pub seed: u64,
    /// The bytes an evaluation at the point may use: what the sizes were checked against,
    /// and what derived arrays (a Hessian's dense blocks) are checked against in turn.
    pub budget: u64,
}

impl Program {
    /// The point with the sizes in `sizes` and the arrays in `inputs`; sizes neither gives
    /// are [`DEFAULT_SIZE`], and inputs not given are drawn from `seed`. Fails on sizes or
    /// arrays that do not fit the program, and on sizes over the memory budget.
    pub fn point(&self, sizes: &[(String, usize)], inputs: HashMap<String, Array>, seed: u64) -> Result<Point, Error> {
        self.point_within(sizes, inputs, seed, MEMORY_BUDGET)
    }

    /// [`Program::point`] with sizes whose evaluation needs at most `budget` bytes (a
    /// server sets its own; the default is [`MEMORY_BUDGET`]).
    pub fn point_within(
        &self,
        sizes: &[(String, usize)],
        inputs: HashMap<String, Array>,
        seed: u64,
        budget: u64,
    ) -> Result<Point, Error> {
        // Inputs and sizes may be named in the program's own spelling (`λ`, `W₁`).
        let sizes: Vec<(String, usize)> = sizes.iter().map(|(name, size)| (self.own_name(name), *size)).collect();
        let sizes = &sizes[..];
        let mut inputs: HashMap<String, Array> =
            inputs.into_iter().map(|(name, array)| (self.own_name(&name), array)).collect();
        let sizes = Sizes::bind(&self.graph, sizes, &inputs, Some(DEFAULT_SIZE), budget)?;
        let random = draw(&self.graph, &sizes, &mut inputs, seed);
        Ok(Point { sizes, inputs, random, seed, budget })
    }
}

/// Draws every input of `graph` that `given` lacks, with the sizes in `sizes`, in the
/// graph's order (the program's): the one generator of random points.
pub(crate) fn draw(graph: &Graph, sizes: &Sizes, given: &mut HashMap<String, Array>, seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut drawn = Vec::new();
    for input in graph.inputs() {
        if given.contains_key(&input.name) {
            continue;
        }
        let Some((rows, cols)) = sizes.shape(graph, input.shape) else { continue };
        let array = Array::from_fn(rows, cols, |_, _| StandardNormal.sample(&mut rng));
        given.insert(input.name.clone(), array);
        drawn.push(input.name.clone());
    }
    drawn
}

impl Point {
    /// The lines that say where a result was evaluated: `# sizes: K = 4 (default)`,
    /// `# random inputs, N(0, 1) with seed 0: x, A, B`, and a blank line after them.
    pub fn header(&self) -> String {
        let mut out = String::new();
        let sizes: Vec<String> = self
            .sizes
            .iter()
            .map(|(name, size)| {
                let note = if self.sizes.defaulted.iter().any(|d| d == name) { " (default)" } else { "" };
                format!("{name} = {size}{note}")
            })
            .collect();
        if !sizes.is_empty() {
            let _ = writeln!(out, "# sizes: {}", sizes.join(", "));
        }
        if !self.random.is_empty() {
            let _ = writeln!(out, "# random inputs, N(0, 1) with seed {}: {}", self.seed, self.random.join(", "));
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }
}
