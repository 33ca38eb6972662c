//! Symbolic shapes: every value is a `rows × cols` array whose sizes are dimensions.
//!
//! A vector is `n × 1`, a scalar `1 × 1`. A dimension is a number, a declared symbol (`K`),
//! or an unknown that unification solves. Invariants: distinct symbols are distinct sizes and
//! never unify; an unknown never becomes 1 (it stands for "a size", as in matrixcalculus.org,
//! so an undeclared vector is never silently a scalar and `u*v` of two vectors is an error).

use std::fmt;

/// One dimension. `Unknown` is an index into [`Dims`]; read it through [`Dims::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    Number(u64),
    Symbol(u32),
    Unknown(u32),
}

pub const ONE: Dim = Dim::Number(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    pub rows: Dim,
    pub cols: Dim,
}

impl Shape {
    pub const SCALAR: Shape = Shape { rows: ONE, cols: ONE };

    pub fn new(rows: Dim, cols: Dim) -> Shape {
        Shape { rows, cols }
    }

    pub fn vector(n: Dim) -> Shape {
        Shape::new(n, ONE)
    }

    pub fn transposed(self) -> Shape {
        Shape::new(self.cols, self.rows)
    }
}

/// The dimension table: symbol names and the solutions of unknowns.
#[derive(Debug, Clone, Default)]
pub struct Dims {
    symbols: Vec<String>,
    /// `unknowns[i]` is what `Unknown(i)` was unified with, if anything.
    unknowns: Vec<Option<Dim>>,
    /// A name to show for `Unknown(i)` in messages while it is still unsolved.
    hints: Vec<String>,
}

impl Dims {
    /// The symbol called `name`, made on first use.
    pub fn symbol(&mut self, name: &str) -> Dim {
        let index = match self.symbols.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                self.symbols.push(name.to_string());
                self.symbols.len() - 1
            }
        };
        Dim::Symbol(index as u32)
    }

    /// The symbol called `name`, if the program has one.
    pub fn find_symbol(&self, name: &str) -> Option<Dim> {
        self.symbols.iter().position(|s| s == name).map(|i| Dim::Symbol(i as u32))
    }

    pub fn symbol_name(&self, dim: Dim) -> Option<&str> {
        match self.resolve(dim) {
            Dim::Symbol(i) => Some(&self.symbols[i as usize]),
            _ => None,
        }
    }

    /// A fresh unknown, shown as `hint` until it is solved.
    pub fn unknown(&mut self, hint: &str) -> Dim {
        self.unknowns.push(None);
        self.hints.push(hint.to_string());
        Dim::Unknown(self.unknowns.len() as u32 - 1)
    }

    /// Follows solutions until a number, a symbol, or an unsolved unknown.
    pub fn resolve(&self, mut dim: Dim) -> Dim {
        while let Dim::Unknown(i) = dim {
            match self.unknowns[i as usize] {
                Some(next) => dim = next,
                None => break,
            }
        }
        dim
    }

    pub fn resolve_shape(&self, shape: Shape) -> Shape {
        Shape::new(self.resolve(shape.rows), self.resolve(shape.cols))
    }

    /// Makes `a` and `b` the same size if they can be; returns whether they are.
    pub fn unify(&mut self, a: Dim, b: Dim) -> bool {
        let (a, b) = (self.resolve(a), self.resolve(b));
        match (a, b) {
            _ if a == b => true,
            (Dim::Unknown(_), ONE) | (ONE, Dim::Unknown(_)) => false,
            (Dim::Unknown(i), other) | (other, Dim::Unknown(i)) => {
                self.unknowns[i as usize] = Some(other);
                true
            }
            _ => false,
        }
    }

    pub fn is_scalar(&self, shape: Shape) -> bool {
        self.resolve(shape.rows) == ONE && self.resolve(shape.cols) == ONE
    }

    pub fn is_vector(&self, shape: Shape) -> bool {
        self.resolve(shape.cols) == ONE && self.resolve(shape.rows) != ONE
    }

    /// Gives every unknown still unsolved a symbol of its own (`n`, `m`, `p`, … not already
    /// taken, and none of `avoid`: a size is not called like a variable), so that after
    /// lowering every shape is made of numbers and symbols.
    pub fn name_unknowns(&mut self, avoid: &[&str]) {
        const NAMES: [&str; 8] = ["n", "m", "p", "q", "r", "s", "t", "k"];
        let mut fresh = (0..).map(|i: usize| match NAMES.get(i) {
            Some(name) => name.to_string(),
            None => format!("n{}", i - NAMES.len() + 1),
        });
        for i in 0..self.unknowns.len() {
            if let Dim::Unknown(root) = self.resolve(Dim::Unknown(i as u32)) {
                let name = fresh
                    .by_ref()
                    .find(|n| !self.symbols.contains(n) && !avoid.contains(&n.as_str()))
                    .expect("an endless supply of names");
                let symbol = self.symbol(&name);
                self.unknowns[root as usize] = Some(symbol);
            }
        }
    }

    /// All symbols, in order of first appearance.
    pub fn symbols(&self) -> impl Iterator<Item = (Dim, &str)> {
        self.symbols.iter().enumerate().map(|(i, s)| (Dim::Symbol(i as u32), s.as_str()))
    }

    pub fn show(&self, dim: Dim) -> String {
        match self.resolve(dim) {
            Dim::Number(n) => n.to_string(),
            Dim::Symbol(i) => self.symbols[i as usize].clone(),
            Dim::Unknown(i) => self.hints[i as usize].clone(),
        }
    }

    /// `K×K`, `n` for a vector, `1` for a scalar.
    pub fn show_shape(&self, shape: Shape) -> String {
        if self.is_scalar(shape) {
            "1".to_string()
        } else if self.resolve(shape.cols) == ONE {
            self.show(shape.rows)
        } else {
            format!("{}×{}", self.show(shape.rows), self.show(shape.cols))
        }
    }

    /// The type as `check` prints it: `scalar`, `vector(n)`, `matrix(K, K)`.
    pub fn show_type(&self, shape: Shape) -> String {
        if self.is_scalar(shape) {
            "scalar".to_string()
        } else if self.resolve(shape.cols) == ONE {
            format!("vector({})", self.show(shape.rows))
        } else {
            format!("matrix({}, {})", self.show(shape.rows), self.show(shape.cols))
        }
    }

    /// How an operand is described in a shape error: `is K×K`, `has length n`, `is a scalar`.
    /// An operand whose sizes are still unknown is just "a vector" or "a matrix".
    pub fn describe(&self, shape: Shape) -> String {
        let unknown = |d: Dim| matches!(self.resolve(d), Dim::Unknown(_));
        if self.is_scalar(shape) {
            "is a scalar".to_string()
        } else if self.resolve(shape.cols) == ONE {
            if unknown(shape.rows) {
                "is a vector".to_string()
            } else {
                format!("has length {}", self.show(shape.rows))
            }
        } else if unknown(shape.rows) && unknown(shape.cols) {
            "is a matrix".to_string()
        } else {
            format!("is {}", self.show_shape(shape))
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Whether `text` is written as a whole number (digits only): `3`, `10`, not `n` or `2n`.
pub fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A size written as a whole number, from 1 to 10⁹ (larger is a typo, not a size to allocate).
pub fn number_size(text: &str) -> Option<Dim> {
    match text.parse::<u64>() {
        Ok(n) if is_number(text) && (1..=1_000_000_000).contains(&n) => Some(Dim::Number(n)),
        _ => None,
    }
}

/// Whether `text` is a size as a subscript writes it and the reader takes it back: a whole
/// number, or a name that starts with a letter (`n`, `K`, `N_1`, `d2`).
pub fn is_size_name(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_ascii_digit() => is_number(text),
        Some(first) if first.is_ascii_alphabetic() => chars.all(|c| c.is_ascii_alphanumeric() || c == '_'),
        _ => false,
    }
}
