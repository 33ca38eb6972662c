//! Kinds of undeclared inputs: scalar, vector or matrix, from how each name is used, with
//! the letter convention only breaking ties.
//!
//! Lowering builds nodes eagerly, and what `*`, `+` and `^` mean depends on whether an
//! operand is a scalar, so every input's kind must be known before the first node is made.
//! This pass decides them on the syntax tree, by constraint narrowing over abstract shapes
//! (each side of a value is either 1 or "a size", as in [`super::shape`]):
//!
//! 1. Every undeclared input starts with all three kinds as candidates.
//! 2. Each statement is evaluated abstractly for every combination of its names' candidate
//!    kinds (and of the forms its assigned operands may have); a candidate that fits no
//!    combination is dropped. Passes repeat until nothing changes.
//! 3. When use decides nothing more, the names whose letter says matrix take that kind where
//!    it is still a candidate, then those whose letter says vector, then scalars, each
//!    followed by more narrowing. Scalars come last because a scalar broadcasts: it is the
//!    guess that can silently change what `+` means.
//!
//! **Only a name known to be a scalar broadcasts.** While a name is undecided, a combination
//! in which it is a scalar added to (or multiplied elementwise with) a non-scalar does not
//! fit, so in `A x − b` the name `b` is a vector of `A x`'s length. A name under a transpose
//! is not a scalar. A letter-scalar that stands to the right of a product whose left factor
//! has more than one column (`A b`, `xᵀ c`) is refused as ambiguous: both readings are valid
//! programs, and people write scalars on the left.
//!
//! Invariant: the kinds this pass gives are the shapes lowering uses, so a name's kind in
//! `check`'s listing is the one that was differentiated.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Span};
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, Item, TypeSpec};
use crate::syntax::greek_letter;

use super::lower::{builtin, Builtin};

/// What kind of value an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Scalar,
    Vector,
    Matrix,
}

/// Where an input's kind came from, as `check` and `grad` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A declaration (`x: vector(n)`, `x ∈ ℝⁿ`).
    Declared,
    /// How it is used: only this kind fits (`b` in `A x − b`, `n` in `1/n`).
    Use,
    /// Its letter (a–g scalars, h–z vectors, A–Z matrices, Greek lower case scalars and
    /// upper case matrices; bold lower case vectors), where use allowed several kinds.
    Letter,
}

impl Origin {
    /// The name used in JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Declared => "declared",
            Origin::Use => "use",
            Origin::Letter => "letter",
        }
    }
}

/// The kind decided for an undeclared input, where it came from and, for a kind decided by
/// use, the statement that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub kind: Kind,
    pub origin: Origin,
    pub decided_by: Option<Span>,
    /// The letter rule that applies to the name (`a–g: scalars`), said where the letter
    /// decided.
    pub letter_rule: &'static str,
}

/// The kind a name's letter (or typeface) suggests.
pub fn letter_kind(name: &str, bold: bool) -> Kind {
    letter_rule(name, bold).0
}

/// The capital whose samples (or entries) the lower-case `name` writes, as on paper: `x` of
/// `X`, `phi` of `Phi` (Φ); `None` for any other name.
pub fn capital(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next().filter(|c| c.is_lowercase())?;
    let capital: String = first.to_uppercase().chain(chars).collect();
    let letter = name.chars().count() == 1 || greek_letter(name).is_some() && greek_letter(&capital).is_some();
    letter.then_some(capital)
}

/// The kind a name's letter (or typeface) suggests, and the rule that says so, for messages.
pub fn letter_rule(name: &str, bold: bool) -> (Kind, &'static str) {
    // A subscript, superscript index or accent keeps the base letter's kind: λ₁, W_1, θ^(1).
    let base = name.split(['_', '^']).next().unwrap_or(name);
    let upper = base.chars().next().is_some_and(char::is_uppercase);
    match (greek_letter(base).is_some(), upper) {
        (_, false) if bold => (Kind::Vector, "bold lower case: vectors"),
        (true, true) => (Kind::Matrix, "upper-case Greek: matrices"),
        (true, false) => (Kind::Scalar, "lower-case Greek: scalars"),
        (false, true) => (Kind::Matrix, "A–Z: matrices"),
        (false, false) if base.starts_with(|c: char| c.is_ascii_lowercase() && c <= 'g') => {
            (Kind::Scalar, "a–g: scalars")
        }
        (false, false) => (Kind::Vector, "h–z: vectors"),
    }
}

/// One side of an abstract shape: 1, or a size that is not 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Form {
    tall: bool,
    wide: bool,
}

const SCALAR: Form = Form { tall: false, wide: false };
const VECTOR: Form = Form { tall: true, wide: false };
const MATRIX: Form = Form { tall: true, wide: true };
const FORMS: [Form; 4] = [SCALAR, VECTOR, Form { tall: false, wide: true }, MATRIX];

impl Form {
    fn of(kind: Kind) -> Form {
        match kind {
            Kind::Scalar => SCALAR,
            Kind::Vector => VECTOR,
            Kind::Matrix => MATRIX,
        }
    }

    fn bit(self) -> u8 {
        1 << FORMS.iter().position(|&f| f == self).unwrap_or(0)
    }

    fn transposed(self) -> Form {
        Form { tall: self.wide, wide: self.tall }
    }
}

/// A set of kinds, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kinds(u8);

const KINDS: [Kind; 3] = [Kind::Scalar, Kind::Vector, Kind::Matrix];

impl Kinds {
    const ALL: Kinds = Kinds(0b111);

    fn bit(kind: Kind) -> u8 {
        1 << KINDS.iter().position(|&k| k == kind).unwrap_or(0)
    }

    fn contains(self, kind: Kind) -> bool {
        self.0 & Kinds::bit(kind) != 0
    }

    fn iter(self) -> impl Iterator<Item = Kind> {
        KINDS.into_iter().filter(move |&k| self.contains(k))
    }

    fn count(self) -> u32 {
        self.0.count_ones()
    }

    fn only(kind: Kind) -> Kinds {
        Kinds(Kinds::bit(kind))
    }
}

/// What the pass knows about a name.
#[derive(Debug, Clone, Copy)]
enum Entry {
    /// An undeclared input.
    Free {
        candidates: Kinds,
        /// The candidates when the letter broke the tie.
        before_tie: Kinds,
        letter: Kind,
        /// Whether the name is written in bold somewhere.
        bold: bool,
        origin: Option<Origin>,
        decided_by: Option<Span>,
        first_use: Span,
    },
    /// A declared input: its form is fixed.
    Declared(Form),
    /// An assigned name: the forms its value may have (bits over `FORMS`). With more than
    /// one, it is tentative: a scalar among them may not broadcast.
    Assigned { forms: u8 },
}

/// A value during abstract evaluation: its form, and whether it depends on an undecided
/// input (such a scalar may not broadcast).
#[derive(Debug, Clone, Copy)]
struct Value {
    form: Form,
    tentative: bool,
}

/// Names with a fixed meaning that are not inputs, decided the way lowering decides them.
pub trait Special {
    /// Whether an undeclared, unassigned `name` is not an input (the identity `I`, say), and
    /// the form it has.
    fn fixed(&self, name: &str) -> Option<Kind>;
}

/// Combinations tried per statement before giving up on narrowing it (a statement with
/// eight undecided names of three kinds each).
const MAX_COMBINATIONS: usize = 6561;

/// The kinds of a program's undeclared inputs.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    pub kinds: HashMap<String, Reading>,
    /// Why the program is ambiguous, if it is: the names it names are given their letter's
    /// kind in `kinds`, so that lowering can report a plain mistake (`x^2` of a vector)
    /// with its own message; only a program that lowers anyway gets this refusal.
    pub ambiguity: Option<Error>,
}

/// Decides the kind of every undeclared input of `program`. `declared` gives the declared
/// names' kinds; `special` the names lowering gives a fixed meaning.
pub fn infer(program: &ast::Program, declared: &HashMap<String, TypeSpec>, special: &dyn Special) -> Readings {
    let assigned = program
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Assign { name, .. } => Some(name.text.clone()),
            Item::Declare { .. } => None,
        })
        .collect();
    let mut pass = Pass { names: HashMap::new(), assigned, typefaces: HashMap::new(), statements: Vec::new(), special };
    for (name, ty) in declared {
        pass.names.insert(name.clone(), Entry::Declared(type_form(ty)));
    }
    for item in &program.items {
        if let Item::Assign { name, value, .. } = item {
            // A restatement in a pasted page is a claim, not a definition; so is a value a
            // page gives a declared input (`w = (XᵀX)⁻¹Xᵀy`).
            if matches!(pass.names.get(&name.text), Some(Entry::Assigned { .. } | Entry::Declared(_))) {
                continue;
            }
            let mut refs = Vec::new();
            pass.collect(value, false, &mut refs);
            pass.statements.push(Statement { target: name.text.clone(), value, refs });
            // Assigned after use is an error lowering reports; here the later name wins.
            pass.names.insert(name.text.clone(), Entry::Assigned { forms: 0b1111 });
        }
    }
    let ambiguity = pass
        .refuse_mixed_typefaces()
        .and_then(|()| pass.solve())
        .and_then(|()| pass.refuse_scalars_on_the_right())
        .err();
    let kinds = pass
        .names
        .into_iter()
        .filter_map(|(name, entry)| match entry {
            Entry::Free { candidates, letter, origin, decided_by, bold, .. } => {
                let kind = if candidates.count() == 1 { candidates.iter().next().unwrap_or(letter) } else { letter };
                let letter_rule = letter_rule(&name, bold).1;
                Some((name, Reading { kind, origin: origin.unwrap_or(Origin::Letter), decided_by, letter_rule }))
            }
            _ => None,
        })
        .collect();
    Readings { kinds, ambiguity }
}

fn type_form(ty: &TypeSpec) -> Form {
    let many = |dim: &ast::DimSpec| !matches!(dim.kind, ast::DimSpecKind::Number(1));
    match ty {
        TypeSpec::Scalar => SCALAR,
        TypeSpec::Vector(n) => Form { tall: many(n), wide: false },
        TypeSpec::Matrix(m, n) => Form { tall: many(m), wide: many(n) },
    }
}

struct Statement<'a> {
    target: String,
    value: &'a Expr,
    /// The distinct names the value reads, in order of first use.
    refs: Vec<String>,
}

struct Pass<'a> {
    names: HashMap<String, Entry>,
    /// Every name some statement assigns, wherever it stands.
    assigned: HashSet<String>,
    /// For each name read, where it is first written plain and where in bold.
    typefaces: HashMap<String, (Option<Span>, Option<Span>)>,
    statements: Vec<Statement<'a>>,
    special: &'a dyn Special,
}

/// The forms of one combination: a form per name the statement reads.
type Combination<'c> = &'c [(String, Value)];

impl Pass<'_> {
    /// Whether `base` is the `e` of `e^x`: neither declared nor assigned.
    fn is_exp_base(&self, base: &Expr) -> bool {
        matches!(&base.kind, ExprKind::Var(name) if name == "e" && !self.assigned.contains(name)
            && !matches!(self.names.get(name), Some(Entry::Declared(_))))
    }

    /// The matrix `X` whose samples `x_i` (or entries `x_{ij}`) are, for the base `x` of an
    /// entry: a lower-case letter the program neither declares nor assigns nor reads apart
    /// from such entries, whose [`capital`] is a declared matrix or an assigned name
    /// (lowering reads it so too, `lower::index`'s `sample` and `entry`).
    fn sample_base(&self, base: &Expr, indices: &[String]) -> Option<String> {
        let ExprKind::Var(name) = &base.kind else { return None };
        let upper = capital(name)?;
        let matrix = matches!(self.names.get(&upper), Some(Entry::Declared(MATRIX))) || self.assigned.contains(&upper);
        let entry = matches!(indices.len(), 1 | 2);
        (entry && matrix && !self.names.contains_key(name) && !self.assigned.contains(name)).then_some(upper)
    }

    /// Records the names `expr` reads, making an entry for each new undeclared one.
    fn collect(&mut self, expr: &Expr, bold: bool, refs: &mut Vec<String>) {
        match &expr.kind {
            ExprKind::Number(_) => {}
            ExprKind::Var(name) => {
                let typeface = self.typefaces.entry(name.clone()).or_default();
                let seen = if bold { &mut typeface.1 } else { &mut typeface.0 };
                seen.get_or_insert(expr.span);
                if self.special.fixed(name).is_none() || self.names.contains_key(name) || self.assigned.contains(name) {
                    let entry = self.names.entry(name.clone()).or_insert(Entry::Free {
                        candidates: Kinds::ALL,
                        before_tie: Kinds::ALL,
                        letter: letter_kind(name, bold),
                        bold,
                        origin: None,
                        decided_by: None,
                        first_use: expr.span,
                    });
                    // A name written in bold anywhere is bold: `\mathbf{a}` is a vector.
                    if let Entry::Free { letter, bold: was_bold, .. } = entry {
                        if bold {
                            *letter = letter_kind(name, true);
                            *was_bold = true;
                        }
                    }
                }
                if !refs.contains(name) {
                    refs.push(name.clone());
                }
            }
            ExprKind::Neg(inner) | ExprKind::Transpose(inner) => self.collect(inner, false, refs),
            ExprKind::Bold(inner) => self.collect(inner, true, refs),
            ExprKind::Ones(_) => {}
            ExprKind::Derivative { args, .. } => {
                for arg in args {
                    self.collect(arg, false, refs);
                }
            }
            ExprKind::Binary(BinOp::Pow, base, exponent) if self.is_exp_base(base) => {
                self.collect(exponent, false, refs);
            }
            ExprKind::Binary(_, left, right) => {
                self.collect(left, false, refs);
                self.collect(right, false, refs);
            }
            ExprKind::IndexSum { body, .. } => self.collect(body, false, refs),
            ExprKind::Entry { base, indices, .. } => match self.sample_base(base, indices) {
                // `x_i` of a program with a matrix X and no x: X's i-th sample, not an input.
                Some(matrix) if !refs.contains(&matrix) => refs.push(matrix),
                Some(_) => {}
                None => self.collect(base, false, refs),
            },
            ExprKind::Call { name, args, .. } => {
                if matches!(builtin(name), Some(Builtin::Eye | Builtin::Zeros | Builtin::Ones)) {
                    return; // its arguments are sizes, not values
                }
                if builtin(name).is_none() {
                    // `A(x)` with `A` a variable is a product.
                    let callee = Expr { kind: ExprKind::Var(name.clone()), span: expr.span };
                    self.collect(&callee, false, refs);
                }
                for arg in args {
                    self.collect(arg, false, refs);
                }
            }
        }
    }

    fn solve(&mut self) -> Result<(), Error> {
        loop {
            while self.narrow() {}
            if !self.break_ties() {
                break;
            }
        }
        // Several kinds fit, but not the letter's: a real ambiguity (`c'*x`: a vector or a
        // matrix, not the scalar its letter says), refused with the readings.
        let mut undecided: Vec<(&String, Kinds, Kind, Span)> = self
            .names
            .iter()
            .filter_map(|(name, entry)| match *entry {
                Entry::Free { candidates, letter, first_use, .. } if candidates.count() > 1 => {
                    Some((name, candidates, letter, first_use))
                }
                _ => None,
            })
            .collect();
        undecided.sort_by_key(|&(_, _, _, span)| span.start);
        if let Some(&(name, candidates, letter, span)) = undecided.first() {
            let readings: Vec<&str> = candidates.iter().map(kind_name).collect();
            return Err(Error::new(span, format!("`{name}` is ambiguous: it could be {}", or_list(&readings)))
                .with_label(format!("its letter says {}, which does not fit how it is used", kind_name(letter)))
                .with_hint(declaration_hint(name, candidates)));
        }
        // An upper-case name that only a scalar or a vector fits: an upper-case letter is a
        // matrix in every convention people write in, so use alone does not demote it. Read
        // by its letter, lowering reports the mistake with a message about the operation
        // (`A^0.5`, `x/N`), which says more than "ambiguous" would.
        // A bold lower-case name is a vector by the same strength of convention.
        for entry in self.names.values_mut() {
            if let Entry::Free { candidates, letter, bold, origin, decided_by, .. } = entry {
                let protected = *letter == Kind::Matrix || (*bold && *letter == Kind::Vector);
                if protected && !candidates.contains(*letter) {
                    *candidates = Kinds::only(*letter);
                    *origin = Some(Origin::Letter);
                    *decided_by = None;
                }
            }
        }
        Ok(())
    }

    /// One pass over the statements; whether any candidate was dropped.
    fn narrow(&mut self) -> bool {
        let mut changed = false;
        for index in 0..self.statements.len() {
            let statement = &self.statements[index];
            let mut choices: Vec<Vec<(String, Value)>> = Vec::new();
            let mut combinations = 1usize;
            for name in &statement.refs {
                let options: Vec<(String, Value)> = match self.names.get(name) {
                    Some(Entry::Free { candidates, .. }) => {
                        let tentative = candidates.count() > 1;
                        candidates.iter().map(|k| (name.clone(), Value { form: Form::of(k), tentative })).collect()
                    }
                    Some(Entry::Declared(form)) => vec![(name.clone(), Value { form: *form, tentative: false })],
                    Some(Entry::Assigned { forms }) => {
                        let tentative = forms.count_ones() > 1;
                        FORMS
                            .iter()
                            .filter(|f| forms & f.bit() != 0)
                            .map(|&form| (name.clone(), Value { form, tentative }))
                            .collect()
                    }
                    None => Vec::new(), // a special name: evaluation knows it
                };
                if options.is_empty() {
                    continue;
                }
                combinations = combinations.saturating_mul(options.len());
                choices.push(options);
            }
            let target = statement.target.clone();
            // The forms the target may take, narrowed by its uses in later statements.
            let allowed = match self.names.get(&target) {
                Some(Entry::Assigned { forms }) => *forms,
                _ => 0b1111,
            };
            if combinations > MAX_COMBINATIONS {
                continue;
            }
            let mut fits: HashMap<String, u8> = HashMap::new();
            let mut forms = 0u8;
            let mut combination: Vec<(String, Value)> = Vec::with_capacity(choices.len());
            for mut number in 0..combinations {
                combination.clear();
                for options in &choices {
                    combination.push(options[number % options.len()].clone());
                    number /= options.len();
                }
                let Ok(value) = self.evaluate(statement.value, &combination) else { continue };
                if allowed & value.form.bit() == 0 {
                    continue;
                }
                forms |= value.form.bit();
                for (name, value) in &combination {
                    *fits.entry(name.clone()).or_insert(0) |= value.form.bit();
                }
            }
            if forms == 0 {
                // No combination fits: a shape error that lowering reports with its own
                // message. Narrowing on it would only blame the wrong name.
                continue;
            }
            let span = statement.value.span;
            for (name, fit) in fits {
                match self.names.get_mut(&name) {
                    Some(Entry::Free { candidates, origin, decided_by, .. }) => {
                        let fitting = KINDS.into_iter().filter(|&k| fit & Form::of(k).bit() != 0);
                        let narrowed = Kinds(candidates.0 & fitting.fold(0, |bits, k| bits | Kinds::bit(k)));
                        if narrowed != *candidates {
                            *candidates = narrowed;
                            changed = true;
                            if narrowed.count() == 1 && origin.is_none() {
                                *origin = Some(Origin::Use);
                                *decided_by = Some(span);
                            }
                        }
                    }
                    // An operand's use narrows the statement that assigned it.
                    Some(Entry::Assigned { forms: old }) if *old & fit != *old => {
                        *old &= fit;
                        changed = true;
                    }
                    _ => {}
                }
            }
            if forms != allowed {
                self.names.insert(target, Entry::Assigned { forms });
                changed = true;
            }
        }
        changed
    }

    /// Gives the undecided names of the strongest letter class that fits their kind from
    /// their letter; whether any was given one.
    fn break_ties(&mut self) -> bool {
        for class in [Kind::Matrix, Kind::Vector, Kind::Scalar] {
            let mut any = false;
            for entry in self.names.values_mut() {
                if let Entry::Free { candidates, before_tie, letter, origin, .. } = entry {
                    if *letter == class && candidates.count() > 1 && candidates.contains(class) {
                        *before_tie = *candidates;
                        *candidates = Kinds::only(class);
                        *origin = Some(Origin::Letter);
                        any = true;
                    }
                }
            }
            if any {
                return true;
            }
        }
        // A lower-case name whose letter does not fit (a transposed `b`) is a vector rather
        // than a matrix: lower case is never a matrix's letter.
        let mut any = false;
        for entry in self.names.values_mut() {
            if let Entry::Free { candidates, before_tie, letter, origin, .. } = entry {
                let lower = *letter != Kind::Matrix;
                if lower && candidates.count() > 1 && !candidates.contains(*letter) && candidates.contains(Kind::Vector)
                {
                    *before_tie = *candidates;
                    *candidates = Kinds::only(Kind::Vector);
                    *origin = Some(Origin::Use);
                    any = true;
                }
            }
        }
        any
    }

    fn lookup(&self, name: &str, combination: Combination) -> Option<Value> {
        if let Some((_, value)) = combination.iter().find(|(n, _)| n == name) {
            return Some(*value);
        }
        match self.names.get(name) {
            Some(Entry::Free { candidates, letter, .. }) => {
                let kind = candidates.iter().next().unwrap_or(*letter);
                Some(Value { form: Form::of(kind), tentative: candidates.count() > 1 })
            }
            Some(Entry::Declared(form)) => Some(Value { form: *form, tentative: false }),
            Some(Entry::Assigned { .. }) => None,
            None => self.special.fixed(name).map(|kind| Value { form: Form::of(kind), tentative: false }),
        }
    }

    /// The abstract value of `expr`, or `Err` if its shapes cannot fit.
    fn evaluate(&self, expr: &Expr, combination: Combination) -> Result<Value, ()> {
        let known = |form| Value { form, tentative: false };
        match &expr.kind {
            ExprKind::Number(_) => Ok(known(SCALAR)),
            ExprKind::Var(name) => self.lookup(name, combination).ok_or(()),
            ExprKind::Neg(inner) => self.evaluate(inner, combination),
            ExprKind::Transpose(inner) => {
                let value = self.evaluate(inner, combination)?;
                // Nobody transposes a scalar: a transposed input is a vector or a matrix.
                if value.form == SCALAR && self.is_free(inner) {
                    return Err(());
                }
                Ok(Value { form: value.form.transposed(), ..value })
            }
            ExprKind::Bold(inner) => self.evaluate(inner, combination),
            ExprKind::Ones(_) => Ok(known(VECTOR)),
            // σ′(y): elementwise, the shape of its argument.
            ExprKind::Derivative { args, .. } => match args.as_slice() {
                [arg] => self.evaluate(arg, combination),
                _ => Err(()),
            },
            // `e^x` with `e` free is exp(x).
            ExprKind::Binary(BinOp::Pow, base, exponent) if self.is_exp_base(base) => {
                self.evaluate(exponent, combination)
            }
            ExprKind::Binary(op, left, right) => {
                let a = self.evaluate(left, combination)?;
                let b = self.evaluate(right, combination)?;
                binary(*op, a, b, right)
            }
            // A summand is a number (each of its entries is one, and anything else in it
            // must be a scalar).
            ExprKind::IndexSum { body, .. } => match self.evaluate(body, combination)? {
                value if value.form == SCALAR => Ok(known(SCALAR)),
                _ => Err(()),
            },
            // `w_i` is an entry of a vector (or of a row), `A_{ij}` of a matrix.
            ExprKind::Entry { base, indices, .. } => {
                // One index on a known matrix is a sample, its row or column (`x_i^\top β`):
                // a vector. (On a name still undecided, one index says it is a vector.)
                let value = match self.sample_base(base, indices) {
                    Some(matrix) => self.lookup(&matrix, combination).ok_or(())?,
                    None => self.evaluate(base, combination)?,
                };
                if indices.len() == 1 && value.form == MATRIX && !value.tentative {
                    return Ok(known(VECTOR));
                }
                let form = value.form;
                let fits = match indices.len() {
                    1 => form.tall != form.wide,
                    _ => form == MATRIX,
                };
                if fits {
                    Ok(known(SCALAR))
                } else {
                    Err(())
                }
            }
            ExprKind::Call { name, args, .. } => {
                let Some(function) = builtin(name) else {
                    // `A(x)`: a product with a variable.
                    let [arg] = args.as_slice() else { return Err(()) };
                    let callee = self.lookup(name, combination).ok_or(())?;
                    let value = self.evaluate(arg, combination)?;
                    return binary(BinOp::Mul, callee, value, arg);
                };
                if let Builtin::Eye | Builtin::Zeros | Builtin::Ones = function {
                    return Ok(known(match (function, args.len()) {
                        (Builtin::Eye, _) | (_, 2) => MATRIX,
                        _ => VECTOR,
                    }));
                }
                let [arg] = args.as_slice() else { return Err(()) };
                let value = self.evaluate(arg, combination)?;
                let square = value.form == MATRIX;
                let vector = value.form == VECTOR;
                match function {
                    Builtin::Elementwise(_) => Ok(value),
                    Builtin::Sum | Builtin::Mean | Builtin::Norm1 | Builtin::Norm2 => Ok(known(SCALAR)),
                    Builtin::Trace | Builtin::Det | Builtin::LogDet if square => Ok(known(SCALAR)),
                    Builtin::Inv if square => Ok(value),
                    Builtin::Diag if vector => Ok(Value { form: MATRIX, ..value }),
                    Builtin::Diag if square => Ok(Value { form: VECTOR, ..value }),
                    Builtin::Softmax if vector => Ok(value),
                    Builtin::LogSumExp if vector => Ok(known(SCALAR)),
                    Builtin::Trace
                    | Builtin::Det
                    | Builtin::LogDet
                    | Builtin::Inv
                    | Builtin::Diag
                    | Builtin::Softmax
                    | Builtin::LogSumExp
                    | Builtin::Eye
                    | Builtin::Zeros
                    | Builtin::Ones => Err(()),
                }
            }
        }
    }

    fn is_free(&self, expr: &Expr) -> bool {
        matches!(&expr.kind, ExprKind::Var(name) if matches!(self.names.get(name), Some(Entry::Free { .. })))
    }

    /// Refuses a name written both plain and in bold (`x` and `\mathbf{x}`): in most papers
    /// they are two things, a scalar and a vector.
    fn refuse_mixed_typefaces(&self) -> Result<(), Error> {
        let mut mixed: Vec<(&String, Span, Span)> =
            self.typefaces.iter().filter_map(|(name, &(plain, bold))| Some((name, plain?, bold?))).collect();
        mixed.sort_by_key(|&(_, plain, bold)| plain.start.max(bold.start));
        let Some(&(name, plain, bold)) = mixed.first() else { return Ok(()) };
        let second = if plain.start < bold.start { bold } else { plain };
        Err(Error::new(second, format!("`{name}` is written both plain and in bold"))
            .with_label("in most papers these are two things (a scalar x and a vector 𝐱)")
            .with_hint("use one typeface for one variable, or another letter for the other"))
    }

    /// Refuses a scalar chosen by its letter that stands to the right of a product whose left
    /// factor has several columns (`A b`): as a vector it would fit just as well.
    fn refuse_scalars_on_the_right(&self) -> Result<(), Error> {
        for statement in &self.statements {
            self.scalars_on_the_right(statement.value)?;
        }
        Ok(())
    }

    fn scalars_on_the_right(&self, expr: &Expr) -> Result<(), Error> {
        for child in expr.children() {
            self.scalars_on_the_right(child)?;
        }
        let (left, right) = match &expr.kind {
            ExprKind::Binary(BinOp::Mul | BinOp::Dot, left, right) => (left, right),
            _ => return Ok(()),
        };
        let right = match &right.kind {
            ExprKind::Bold(inner) => inner,
            _ => right,
        };
        let ExprKind::Var(name) = &right.kind else { return Ok(()) };
        let Some(Entry::Free { candidates, before_tie, origin: Some(Origin::Letter), .. }) = self.names.get(name)
        else {
            return Ok(());
        };
        if !candidates.contains(Kind::Scalar) || !before_tie.contains(Kind::Vector) {
            return Ok(());
        }
        let wide = self.final_form(left).is_some_and(|form| form.wide);
        if !wide {
            return Ok(());
        }
        Err(Error::new(right.span, format!("`{name}` is ambiguous: a scalar by its letter, or a vector"))
            .with_label("a scalar usually stands to the left of a product; here a vector fits as well")
            .with_hint(format!(
                "declare it: `{name}: vector(n)` (or `{name} ∈ ℝⁿ`) for a vector, or `{name}: scalar` and write the scalar first"
            )))
    }

    /// The form of `expr` with every kind decided, if it fits.
    fn final_form(&self, expr: &Expr) -> Option<Form> {
        // Assigned names' forms are the union over the combinations; with every input decided
        // there is one.
        let mut combination = Vec::new();
        let mut refs = Vec::new();
        collect_names(expr, &mut refs);
        for name in refs {
            if let Some(Entry::Assigned { forms, .. }) = self.names.get(&name) {
                let form = *FORMS.iter().find(|f| forms & f.bit() != 0)?;
                combination.push((name, Value { form, tentative: false }));
            }
        }
        self.evaluate(expr, &combination).ok().map(|v| v.form)
    }
}

fn collect_names(expr: &Expr, out: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::Var(name) | ExprKind::Call { name, .. } => out.push(name.clone()),
        _ => {}
    }
    for child in expr.children() {
        collect_names(child, out);
    }
}

/// The abstract result of a binary operator, following lowering's rules.
fn binary(op: BinOp, a: Value, b: Value, right: &Expr) -> Result<Value, ()> {
    let tentative = a.tentative || b.tentative;
    // Elementwise: the same form, or a scalar known to be one broadcasting.
    let elementwise = || {
        if a.form == b.form {
            Ok(Value { form: a.form, tentative })
        } else if a.form == SCALAR && !a.tentative {
            Ok(Value { form: b.form, tentative })
        } else if b.form == SCALAR && !b.tentative {
            Ok(Value { form: a.form, tentative })
        } else {
            Err(())
        }
    };
    match op {
        BinOp::Add | BinOp::Sub | BinOp::ElemMul | BinOp::ElemDiv | BinOp::ElemPow => elementwise(),
        // `A : B`: operands of one shape, a scalar always.
        BinOp::Frobenius if a.form == b.form => Ok(Value { form: SCALAR, tentative: false }),
        BinOp::Frobenius => Err(()),
        // `x · y` of two vectors is their inner product; otherwise a product.
        BinOp::Dot if a.form == VECTOR && b.form == VECTOR => Ok(Value { form: SCALAR, tentative }),
        BinOp::Mul | BinOp::Dot => {
            if a.form == SCALAR {
                Ok(Value { form: b.form, tentative })
            } else if b.form == SCALAR {
                Ok(Value { form: a.form, tentative })
            } else if a.form.wide == b.form.tall {
                Ok(Value { form: Form { tall: a.form.tall, wide: b.form.wide }, tentative })
            } else {
                Err(())
            }
        }
        BinOp::Div if b.form == SCALAR => Ok(Value { form: a.form, tentative }),
        BinOp::Div => Err(()),
        BinOp::Pow if a.form == SCALAR && b.form == SCALAR => Ok(Value { form: SCALAR, tentative }),
        BinOp::Pow if a.form == MATRIX && is_integer(right) => Ok(a),
        BinOp::Pow => Err(()),
    }
}

fn is_integer(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Number(v) => v.fract() == 0.0,
        ExprKind::Neg(inner) => is_integer(inner),
        _ => false,
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Scalar => "a scalar",
        Kind::Vector => "a vector",
        Kind::Matrix => "a matrix",
    }
}

fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn declaration_hint(name: &str, candidates: Kinds) -> String {
    let declarations: Vec<String> = candidates
        .iter()
        .map(|kind| match kind {
            Kind::Scalar => format!("`{name}: scalar`"),
            Kind::Vector => format!("`{name}: vector(n)`"),
            Kind::Matrix => format!("`{name}: matrix(m, n)`"),
        })
        .collect();
    let declarations: Vec<&str> = declarations.iter().map(String::as_str).collect();
    format!("declare it: {} (or `{name} ∈ ℝⁿ`, `{name} ∈ ℝ^{{m×n}}`)", or_list(&declarations))
}
