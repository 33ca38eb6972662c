//! Concrete sizes for a graph's dimension symbols, from the user's `--dims` and from the
//! shapes of the arrays they give.

use std::collections::{BTreeMap, HashMap};

use crate::ir::{Dim, Graph, Shape};
use crate::{Array, Error};

/// The size of every dimension symbol of a graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes {
    by_symbol: BTreeMap<String, usize>,
    /// Symbols that took the default size because nothing said otherwise.
    pub defaulted: Vec<String>,
}

impl Sizes {
    /// Sizes from `given`, then from the shapes of `inputs`; symbols still unknown take
    /// `default`, or are an error when there is none; sizes whose arrays need more than
    /// `budget` bytes are an error.
    pub(crate) fn bind(
        graph: &Graph,
        given: &[(String, usize)],
        inputs: &HashMap<String, Array>,
        default: Option<usize>,
        budget: u64,
    ) -> Result<Sizes, Error> {
        let dims = &graph.dims;
        let symbols: Vec<&str> = dims.symbols().map(|(_, name)| name).collect();
        let mut sizes = Sizes::default();
        // Where each size came from, for messages.
        let mut source: HashMap<String, String> = HashMap::new();
        for (name, size) in given {
            if !symbols.contains(&name.as_str()) {
                let known = if symbols.is_empty() { "none".to_string() } else { symbols.join(", ") };
                return Err(Error::input(format!("the program has no dimension `{name}`"))
                    .with_hint(format!("its dimensions are: {known}")));
            }
            if *size == 0 {
                return Err(Error::input(format!("dimension `{name}` must be at least 1")));
            }
            if sizes.by_symbol.get(name).is_some_and(|&earlier| earlier != *size) {
                return Err(Error::input(format!(
                    "dimension `{name}` is given twice, as {} and {size}",
                    sizes.by_symbol[name]
                )));
            }
            sizes.by_symbol.insert(name.clone(), *size);
            source.insert(name.clone(), "as given".to_string());
        }
        let mut names: Vec<&String> = inputs.keys().collect();
        names.sort_by_key(|name| graph.inputs().iter().position(|i| &i.name == *name));
        for name in names {
            let array = &inputs[name];
            if array.data.len() != array.rows * array.cols {
                return Err(Error::input(format!(
                    "input `{name}` says it is {}×{} but holds {} entries",
                    array.rows,
                    array.cols,
                    array.data.len()
                )));
            }
            if array.data.is_empty() {
                return Err(Error::input(format!("input `{name}` is empty")).with_hint("every size is at least 1"));
            }
            let Some(input) = graph.inputs().iter().find(|i| &i.name == name) else {
                let known: Vec<&str> = graph.inputs().iter().map(|i| i.name.as_str()).collect();
                return Err(Error::input(format!("`{name}` is not an input of the program"))
                    .with_hint(format!("its inputs are: {}", known.join(", "))));
            };
            let shape = dims.resolve_shape(input.shape);
            let mismatch = |sizes: &Sizes, source: &HashMap<String, String>| {
                let mut notes = Vec::new();
                for dim in [shape.rows, shape.cols] {
                    if let Some(symbol) = dims.symbol_name(dim) {
                        if let (Some(size), Some(from)) = (sizes.by_symbol.get(symbol), source.get(symbol)) {
                            let note = format!("{symbol} = {size} {from}");
                            if !notes.contains(&note) {
                                notes.push(note);
                            }
                        }
                    }
                }
                let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) };
                let mut error = Error::input(format!(
                    "input `{name}` should be {}{notes}, but the given array is {}",
                    describe(graph, shape),
                    describe_array(array)
                ));
                if shape.cols == Dim::Number(1) && array.rows == 1 {
                    error = error.with_hint("give a vector as a flat list, e.g. [1, 2, 3]");
                }
                error
            };
            for (dim, actual) in [(shape.rows, array.rows), (shape.cols, array.cols)] {
                match dims.resolve(dim) {
                    Dim::Number(n) if n as usize == actual => {}
                    Dim::Symbol(_) => {
                        let symbol = dims.symbol_name(dim).unwrap_or_default().to_string();
                        match sizes.by_symbol.get(&symbol) {
                            Some(&size) if size == actual => {}
                            Some(_) => return Err(mismatch(&sizes, &source)),
                            None => {
                                sizes.by_symbol.insert(symbol.clone(), actual);
                                source.insert(symbol, format!("from input `{name}`"));
                            }
                        }
                    }
                    Dim::Number(_) | Dim::Unknown(_) => return Err(mismatch(&sizes, &source)),
                }
            }
        }
        for symbol in symbols {
            if !sizes.by_symbol.contains_key(symbol) {
                let Some(size) = default else {
                    return Err(Error::input(format!("no size for dimension `{symbol}`"))
                        .with_hint(format!("give a size for {symbol}, or an input that has it")));
                };
                sizes.by_symbol.insert(symbol.to_string(), size);
                sizes.defaulted.push(symbol.to_string());
            }
        }
        sizes.check_memory(graph, budget)?;
        Ok(sizes)
    }

    /// Refuses sizes whose arrays would not fit in `budget` bytes, before anything is
    /// allocated: an evaluation keeps a value for every node of the graph, so their sizes
    /// added up bound what it needs. The error names the largest array and the total.
    pub(crate) fn check_memory(&self, graph: &Graph, budget: u64) -> Result<(), Error> {
        let mut total: u128 = 0;
        let mut largest = (0u128, Shape::SCALAR);
        for (_, node) in graph.nodes() {
            let Some((rows, cols)) = self.shape(graph, node.shape) else { continue };
            let bytes = (rows as u128).saturating_mul(cols as u128).saturating_mul(8);
            total = total.saturating_add(bytes);
            if bytes > largest.0 {
                largest = (bytes, node.shape);
            }
        }
        if total <= u128::from(budget) {
            // Within the budget, the machine may still not have it (a `ulimit -v`, a small
            // container): asked for once here, untouched and given back, a refusal is an
            // error now instead of an abort in the middle of the evaluation.
            let mut probe: Vec<u8> = Vec::new();
            if usize::try_from(total).map_or(true, |bytes| probe.try_reserve_exact(bytes).is_err()) {
                return Err(Error::input(format!(
                    "these sizes need {} of memory, and this machine could not give it",
                    bytes_text(total)
                ))
                .with_hint("choose smaller sizes, or raise the process's memory limit"));
            }
            return Ok(());
        }
        let shape = largest.1;
        let mut sizes: Vec<String> = [shape.rows, shape.cols]
            .iter()
            .filter_map(|&d| graph.dims.symbol_name(d).map(|n| format!("{n} = {}", self.get(n).unwrap_or(0))))
            .collect();
        sizes.dedup();
        let sizes = if sizes.is_empty() { String::new() } else { format!(" ({})", sizes.join(", ")) };
        Err(Error::input(format!(
            "these sizes need {} of memory, more than the budget of {}: one {} array{sizes} alone is {}",
            bytes_text(total),
            bytes_text(u128::from(budget)),
            graph.dims.show_shape(shape),
            bytes_text(largest.0),
        ))
        .with_hint("choose smaller sizes"))
    }

    /// Sizes given directly, for the library API and tests.
    pub fn from_pairs(pairs: &[(&str, usize)]) -> Sizes {
        Sizes { by_symbol: pairs.iter().map(|&(name, size)| (name.to_string(), size)).collect(), defaulted: Vec::new() }
    }

    pub fn get(&self, symbol: &str) -> Option<usize> {
        self.by_symbol.get(symbol).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> {
        self.by_symbol.iter().map(|(name, &size)| (name.as_str(), size))
    }

    /// The concrete size of `dim`; None for an unsized symbol or an unsolved unknown.
    pub(crate) fn dim(&self, graph: &Graph, dim: Dim) -> Option<usize> {
        match graph.dims.resolve(dim) {
            Dim::Number(n) => usize::try_from(n).ok(),
            Dim::Symbol(_) => self.get(graph.dims.symbol_name(dim)?),
            Dim::Unknown(_) => None,
        }
    }

    pub(crate) fn shape(&self, graph: &Graph, shape: Shape) -> Option<(usize, usize)> {
        Some((self.dim(graph, shape.rows)?, self.dim(graph, shape.cols)?))
    }
}

/// The memory an evaluation may use unless the caller says otherwise: 8 GiB, a third of
/// this project's machines and more than any size a person checks by hand needs.
pub const MEMORY_BUDGET: u64 = 8 << 30;

/// `8 GiB`, `80 PiB`, `512 B`.
pub(crate) fn bytes_text(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if bytes == u128::MAX {
        "more than 10³⁸ bytes".to_string()
    } else if unit == 0 {
        format!("{bytes} B")
    } else if value >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `a K×K matrix`, `a vector of length n`, `a scalar`.
fn describe(graph: &Graph, shape: Shape) -> String {
    let dims = &graph.dims;
    if dims.is_scalar(shape) {
        "a scalar".to_string()
    } else if dims.resolve(shape.cols) == Dim::Number(1) {
        format!("a vector of length {}", dims.show(shape.rows))
    } else {
        format!("a {} matrix", dims.show_shape(shape))
    }
}

fn describe_array(array: &Array) -> String {
    if array.is_scalar() {
        "a scalar".to_string()
    } else if array.cols == 1 {
        format!("a vector of length {}", array.rows)
    } else {
        format!("{}×{}", array.rows, array.cols)
    }
}
