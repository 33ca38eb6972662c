//! Concrete sizes for a graph's dimension symbols, from the user's `--dims` and from the
//! shapes of the arrays they give.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::ir::{Dim, Graph, Shape};
use crate::Array;

/// A problem with the sizes or inputs the user gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
    pub hint: Option<String>,
}

impl InputError {
    fn new(message: impl Into<String>) -> InputError {
        InputError { message: message.into(), hint: None }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> InputError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// The size of every dimension symbol of a graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes {
    by_symbol: BTreeMap<String, usize>,
    /// Symbols that took the default size because nothing said otherwise.
    pub defaulted: Vec<String>,
}

impl Sizes {
    /// Sizes from `given` (`--dims`), then from the shapes of `inputs`; symbols still
    /// unknown take `default`, or are an error when there is none.
    pub fn bind(
        graph: &Graph,
        given: &[(String, usize)],
        inputs: &HashMap<String, Array>,
        default: Option<usize>,
    ) -> Result<Sizes, InputError> {
        let dims = &graph.dims;
        let symbols: Vec<&str> = dims.symbols().map(|(_, name)| name).collect();
        let mut sizes = Sizes::default();
        // Where each size came from, for messages.
        let mut source: HashMap<String, String> = HashMap::new();
        for (name, size) in given {
            if !symbols.contains(&name.as_str()) {
                let known = if symbols.is_empty() { "none".to_string() } else { symbols.join(", ") };
                return Err(InputError::new(format!("the program has no dimension `{name}`"))
                    .with_hint(format!("its dimensions are: {known}")));
            }
            if *size == 0 {
                return Err(InputError::new(format!("dimension `{name}` must be at least 1")));
            }
            if sizes.by_symbol.get(name).is_some_and(|&earlier| earlier != *size) {
                return Err(InputError::new(format!(
                    "dimension `{name}` is given twice, as {} and {size}",
                    sizes.by_symbol[name]
                )));
            }
            sizes.by_symbol.insert(name.clone(), *size);
            source.insert(name.clone(), "from --dims".to_string());
        }
        let mut names: Vec<&String> = inputs.keys().collect();
        names.sort_by_key(|name| graph.inputs().iter().position(|i| &i.name == *name));
        for name in names {
            let array = &inputs[name];
            let Some(input) = graph.inputs().iter().find(|i| &i.name == name) else {
                let known: Vec<&str> = graph.inputs().iter().map(|i| i.name.as_str()).collect();
                return Err(InputError::new(format!("`{name}` is not an input of the program"))
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
                let mut error = InputError::new(format!(
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
                    return Err(InputError::new(format!("no size for dimension `{symbol}`"))
                        .with_hint(format!("pass --dims {symbol}=4, or give an input that has it")));
                };
                sizes.by_symbol.insert(symbol.to_string(), size);
                sizes.defaulted.push(symbol.to_string());
            }
        }
        Ok(sizes)
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
    pub fn dim(&self, graph: &Graph, dim: Dim) -> Option<usize> {
        match graph.dims.resolve(dim) {
            Dim::Number(n) => usize::try_from(n).ok(),
            Dim::Symbol(_) => self.get(graph.dims.symbol_name(dim)?),
            Dim::Unknown(_) => None,
        }
    }

    pub fn shape(&self, graph: &Graph, shape: Shape) -> Option<(usize, usize)> {
        Some((self.dim(graph, shape.rows)?, self.dim(graph, shape.cols)?))
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
