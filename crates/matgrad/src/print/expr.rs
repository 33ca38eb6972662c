//! The expression printer shared by all notations.

use crate::ir::func::Print;
use crate::ir::shape::{Dim, ONE};
use crate::ir::{Func, Graph, NodeId, Op, Shape};

use super::names::{ascii_name, latex_name, mathml_name, unicode_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notation {
    /// matrixcalculus.org-style ASCII; parses back to the same graph.
    Ascii,
    /// Unicode math: `A (u ⊙ v)`, `‖w‖²`, `Aᵀ`.
    Unicode,
    /// LaTeX math mode: `A (u \odot v)`, `\|w\|^{2}`, `A^\top`.
    Latex,
    /// Presentation MathML elements (without the enclosing `<math>`), for HTML.
    MathMl,
}

/// A variable's name as `notation` writes it: `W_1`, `W₁`, `W_{1}`, `<msub>…</msub>`.
pub fn show_name(name: &str, notation: Notation) -> String {
    match notation {
        Notation::Ascii => ascii_name(name),
        Notation::Unicode => unicode_name(name),
        Notation::Latex => latex_name(name),
        Notation::MathMl => mathml_name(name),
    }
}

/// Which nodes print as a name instead of their expression (the root never does).
pub type Namer<'a> = &'a dyn Fn(NodeId) -> Option<String>;

/// `root`'s expression in `notation`, with named nodes below it printed by name.
pub fn print(graph: &Graph, root: NodeId, notation: Notation, namer: Namer) -> String {
    Printer::new(graph, root, notation, namer).node(root, true).text
}

/// `root`'s expression as the operand of an operator looser than every product and tighter
/// than `+`, as the Frobenius product `G : dX` is read: bracketed when it prints as a sum.
/// Judged from the printed form, not the node's operation, since a scaled sum or a
/// difference prints as a sum too.
pub fn print_operand(graph: &Graph, root: NodeId, notation: Notation, namer: Namer) -> String {
    let printer = Printer::new(graph, root, notation, namer);
    let printed = printer.node(root, true);
    if printed.strength <= SUM {
        printer.parenthesized(&printed.text)
    } else {
        printed.text
    }
}

/// Printed text after its leading minus sign (`-`, `−`, MathML's `<mo>−</mo>`), if it has one.
pub(crate) fn without_minus(text: &str) -> Option<&str> {
    ["<mo>−</mo>", "−", "-"].iter().find_map(|minus| text.strip_prefix(minus))
}

/// MathML's invisible times: a product written by juxtaposition.
const INVISIBLE_TIMES: &str = "<mo>&#x2062;</mo>";

// Binding strength, loosest first. As the parser reads them: in display notations a
// product written by juxtaposition (`A x`, `2 w`) binds tighter than `⊙`, `⊘` and `/`, so
// `(A/2) x` needs its brackets; ASCII has one level for `*`, `.*`, `./`, `/`.
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const JUXTAPOSED: u8 = 3;
const PREFIX: u8 = 4;
const POWER: u8 = 5;
const POSTFIX: u8 = 6;
const ATOM: u8 = 7;

/// Which kind of product an expression is, so that a matrix product and an elementwise one
/// never meet without parentheses (they do not associate with each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Matrix,
    Elementwise,
}

struct Printed {
    text: String,
    strength: u8,
    product: Option<Product>,
}

impl Printed {
    fn new(text: String, strength: u8) -> Printed {
        Printed { text, strength, product: None }
    }
}

struct Printer<'a> {
    graph: &'a Graph,
    notation: Notation,
    namer: Namer<'a>,
    /// Whether each `𝟙` is written with its length (`𝟙ₙ 𝟙ₖᵀ Wᵀ`): when the expression holds
    /// 𝟙s of more than one length, which its context alone leaves the reader to work out.
    ones_lengths: bool,
}

impl<'a> Printer<'a> {
    fn new(graph: &'a Graph, root: NodeId, notation: Notation, namer: Namer<'a>) -> Printer<'a> {
        let ones_lengths = notation != Notation::Ascii && ones_lengths(graph, root, namer).len() > 1;
        Printer { graph, notation, namer, ones_lengths }
    }
    fn pick(&self, ascii: &str, unicode: &str, latex: &str, mathml: &str) -> String {
        match self.notation {
            Notation::Ascii => ascii.to_string(),
            Notation::Unicode => unicode.to_string(),
            Notation::Latex => latex.to_string(),
            Notation::MathMl => mathml.to_string(),
        }
    }

    fn name(&self, name: &str) -> String {
        show_name(name, self.notation)
    }

    fn is_display(&self) -> bool {
        self.notation != Notation::Ascii
    }

    /// The strength of a matrix product or a scaling: juxtaposition in display notations,
    /// `*` in ASCII.
    fn juxtaposed(&self) -> u8 {
        if self.is_display() {
            JUXTAPOSED
        } else {
            PRODUCT
        }
    }

    /// Each level of the expression is one level of recursion, on a stack that grows
    /// ([`crate::stack::deep`]).
    fn node(&self, id: NodeId, root: bool) -> Printed {
        crate::stack::deep(|| self.node_here(id, root))
    }

    fn node_here(&self, id: NodeId, root: bool) -> Printed {
        if !root {
            if let Some(name) = (self.namer)(id) {
                return Printed::new(self.name(&name), ATOM);
            }
        }
        let graph = self.graph;
        match graph.op(id) {
            Op::Input(i) => Printed::new(self.name(&graph.input(i).name), ATOM),
            Op::Const(c) => self.number(c.0),
            // A program with its own `I` sees the identity with its size: Iₙ.
            Op::Eye(n) if graph.has_name("I") => Printed::new(
                match self.notation {
                    Notation::Ascii => format!("eye({})", graph.dims.show(n)),
                    Notation::Unicode => {
                        let size = graph.dims.show(n);
                        let small: Option<String> = size.chars().map(subscript).collect();
                        format!("I{}", small.unwrap_or_else(|| format!("_{size}")))
                    }
                    Notation::Latex => format!("I_{{{}}}", graph.dims.show(n)),
                    Notation::MathMl => format!(
                        "<msub><mi mathvariant=\"normal\">I</mi><mi>{}</mi></msub>",
                        crate::print::escape(&graph.dims.show(n))
                    ),
                },
                ATOM,
            ),
            Op::Eye(n) => Printed::new(
                match self.notation {
                    Notation::Ascii => format!("eye({})", graph.dims.show(n)),
                    Notation::Unicode | Notation::Latex => "I".to_string(),
                    Notation::MathMl => "<mi mathvariant=\"normal\">I</mi>".to_string(),
                },
                ATOM,
            ),
            Op::Size(n) => self.size(n),
            Op::Fill(c, shape) => self.fill(c.0, shape),
            Op::Neg(a) => self.negation(a),
            Op::Add(a, b) => self.sum(a, b),
            Op::Mul(a, b) => {
                if graph.is_scalar(a) || graph.is_scalar(b) {
                    self.scaling(a, b)
                } else {
                    let op = self.pick(".*", " ⊙ ", " \\odot ", "<mo>⊙</mo>");
                    self.product(a, b, &op, Product::Elementwise)
                }
            }
            Op::MatMul(a, b) => self.product(a, b, &self.pick("*", " ", " ", INVISIBLE_TIMES), Product::Matrix),
            Op::Div(a, b) => self.division(a, b),
            Op::Pow(a, b) => self.power(a, b),
            Op::MatPow(a, k) => self.superscript(a, &k.to_string(), &format!("^{k}"), &format!("<mn>{k}</mn>")),
            Op::Transpose(a) => match self.graph.op(a) {
                // (X⁻¹)ᵀ is written X⁻ᵀ, as in the Matrix Cookbook.
                Op::Inv(x) if self.notation != Notation::Ascii && (self.namer)(a).is_none() => {
                    self.postfix(x, "", "⁻ᵀ", "^{-\\top}", "<mrow><mo>−</mo><mo>⊤</mo></mrow>")
                }
                _ => self.postfix(a, "'", "ᵀ", "^\\top", "<mo>⊤</mo>"),
            },
            Op::Inv(a) => match self.notation {
                Notation::Ascii => self.call("inv", a),
                Notation::Unicode | Notation::Latex | Notation::MathMl => {
                    self.postfix(a, "", "⁻¹", "^{-1}", "<mrow><mo>−</mo><mn>1</mn></mrow>")
                }
            },
            Op::Map(f, a) => self.function(f, a),
            Op::Sum(a) => self.call(&self.pick("sum", "sum", "\\operatorname{sum}", "<mi>sum</mi>"), a),
            // `‖X‖₁` and `|X|` of a matrix read as the induced norm or the determinant: a
            // matrix's entrywise forms are written as functions.
            Op::Norm1(a) if self.is_matrix(a) => self.call("norm1", a),
            Op::Norm1(a) => self.fenced(a, "norm1", ["‖", "‖₁"], ["\\|", "\\|_1"], ["‖", "‖", "1"]),
            Op::Norm2(a) => self.fenced(a, "norm2", ["‖", "‖"], ["\\|", "\\|"], ["‖", "‖", ""]),
            Op::Trace(a) => self.call(&self.pick("tr", "tr", "\\operatorname{tr}", "<mi>tr</mi>"), a),
            Op::Det(a) => self.call(&self.pick("det", "det", "\\det", "<mi>det</mi>"), a),
            Op::LogDet(a) => {
                self.call(&self.pick("logdet", "log det", "\\log\\det", "<mi>log</mi><mo>&#x2061;</mo><mi>det</mi>"), a)
            }
            Op::Diag(a) => self.call(&self.pick("diag", "Diag", "\\operatorname{Diag}", "<mi>Diag</mi>"), a),
            Op::DiagPart(a) => self.call(&self.pick("diag", "diag", "\\operatorname{diag}", "<mi>diag</mi>"), a),
            Op::Softmax(a) => {
                self.call(&self.pick("softmax", "softmax", "\\operatorname{softmax}", "<mi>softmax</mi>"), a)
            }
            Op::LogSumExp(a) => {
                self.call(&self.pick("logsumexp", "logsumexp", "\\operatorname{logsumexp}", "<mi>logsumexp</mi>"), a)
            }
        }
    }

    /// `zeros(m, n)`, `ones(n)` in ASCII; `0`, `𝟙`, `c 𝟙` in display notations, where the
    /// shape is clear from the context.
    /// A size as a number: its symbol, written as a variable is (`n`, `K`, `N₁`), which the
    /// reader takes back as the size when no variable has that name.
    fn size(&self, dim: Dim) -> Printed {
        match self.graph.dims.resolve(dim) {
            Dim::Number(n) => self.number(n as f64),
            _ => Printed::new(self.name(&self.graph.dims.show(dim)), ATOM),
        }
    }

    fn fill(&self, value: f64, shape: Shape) -> Printed {
        let dims = &self.graph.dims;
        if self.notation == Notation::Ascii {
            let size = if dims.resolve(shape.cols) == ONE {
                dims.show(shape.rows)
            } else {
                format!("{}, {}", dims.show(shape.rows), dims.show(shape.cols))
            };
            return match value {
                0.0 => Printed::new(format!("zeros({size})"), ATOM),
                1.0 => Printed::new(format!("ones({size})"), ATOM),
                -1.0 => Printed::new(format!("-ones({size})"), PREFIX),
                _ => Printed::new(format!("{}*ones({size})", self.number(value).text), PRODUCT),
            };
        }
        // `𝟙` reads back as a vector; a matrix of ones is the outer product `𝟙 𝟙ᵀ`, a row of
        // ones `𝟙ᵀ`.
        let is_matrix = !dims.is_scalar(shape) && dims.resolve(shape.cols) != ONE;
        let is_row = is_matrix && dims.resolve(shape.rows) == ONE;
        let is_matrix = is_matrix && !is_row;
        let ones = match is_matrix {
            false if is_row => self.ones(shape.cols, true),
            false => self.ones(shape.rows, false),
            true => {
                let times = self.pick("", " ", " ", INVISIBLE_TIMES);
                format!("{}{times}{}", self.ones(shape.rows, false), self.ones(shape.cols, true))
            }
        };
        match value {
            0.0 => Printed::new(self.pick("0", "0", "0", "<mn>0</mn>"), ATOM),
            1.0 => Printed::new(ones, if is_matrix { JUXTAPOSED } else { ATOM }),
            -1.0 => Printed::new(format!("{}{ones}", self.minus()), PREFIX),
            // A leading minus binds as a prefix does.
            _ => Printed::new(
                format!("{}{}{ones}", self.number(value).text, self.pick("", " ", " ", INVISIBLE_TIMES)),
                if value < 0.0 { PREFIX } else { JUXTAPOSED },
            ),
        }
    }

    /// `𝟙`, or `𝟙ᵀ` when `transposed`, of length `length`: written on it (`𝟙ₙ`, `𝟙_K`,
    /// `\\mathbf{1}_{n}`) when the expression's 𝟙s have several lengths and the size has a
    /// name or a number the reader takes back as that size.
    fn ones(&self, length: Dim, transposed: bool) -> String {
        let written = self.graph.dims.show(length);
        // Not a size named like an input (`c: scalar` beside a size c): the reader refuses
        // `𝟙_c` there, as a variable is not a size.
        let shown = self.ones_lengths
            && crate::ir::is_size_name(&written)
            && !self.graph.inputs().iter().any(|input| input.name == written);
        let is_number = written.bytes().all(|b| b.is_ascii_digit());
        match (self.notation, shown) {
            (Notation::Ascii, _) => String::new(),
            (Notation::Unicode, false) => if transposed { "𝟙ᵀ" } else { "𝟙" }.to_string(),
            (Notation::Latex, false) => if transposed { "\\mathbf{1}^\\top" } else { "\\mathbf{1}" }.to_string(),
            (Notation::MathMl, false) if transposed => "<msup><mi>𝟙</mi><mo>⊤</mo></msup>".to_string(),
            (Notation::MathMl, false) => "<mi>𝟙</mi>".to_string(),
            (Notation::Unicode, true) => {
                // Small characters for a number or one letter (`𝟙₁₂`, `𝟙ₙ`); a longer name, or
                // a letter Unicode has no subscript for, after `_` (`𝟙_K`, `𝟙_{N_1}`).
                let small: Option<String> = match is_number || written.chars().count() == 1 {
                    true => written.chars().map(crate::syntax::subscript_of).collect(),
                    false => None,
                };
                let length = small.unwrap_or_else(|| match written.chars().count() {
                    1 => format!("_{written}"),
                    _ => format!("_{{{written}}}"),
                });
                format!("𝟙{length}{}", if transposed { "ᵀ" } else { "" })
            }
            (Notation::Latex, true) => format!("\\mathbf{{1}}_{{{written}}}{}", if transposed { "^\\top" } else { "" }),
            (Notation::MathMl, true) => {
                let length = if is_number { format!("<mn>{written}</mn>") } else { format!("<mi>{written}</mi>") };
                match transposed {
                    true => format!("<msubsup><mi>𝟙</mi>{length}<mo>⊤</mo></msubsup>"),
                    false => format!("<msub><mi>𝟙</mi>{length}</msub>"),
                }
            }
        }
    }

    fn number(&self, value: f64) -> Printed {
        let mut magnitude = format_number(value.abs());
        if self.notation == Notation::MathMl {
            magnitude = format!("<mn>{magnitude}</mn>");
        }
        if value.is_sign_negative() && value != 0.0 {
            Printed::new(format!("{}{magnitude}", self.minus()), PREFIX)
        } else {
            Printed::new(magnitude, ATOM)
        }
    }

    fn minus(&self) -> String {
        self.pick("-", "−", "-", "<mo>−</mo>")
    }

    /// `operand` wrapped in parentheses unless it binds at least as tightly as `strength`.
    fn operand(&self, id: NodeId, strength: u8) -> Printed {
        let printed = self.node(id, false);
        if printed.strength >= strength {
            printed
        } else {
            Printed::new(self.parenthesized(&printed.text), ATOM)
        }
    }

    fn parenthesized(&self, text: &str) -> String {
        match self.notation {
            Notation::Latex => format!("\\left({text}\\right)"),
            Notation::Ascii | Notation::Unicode => format!("({text})"),
            Notation::MathMl => format!("<mrow><mo>(</mo>{text}<mo>)</mo></mrow>"),
        }
    }

    /// Whether printed text starts with a minus sign (in any notation).
    fn starts_negative(text: &str) -> bool {
        without_minus(text).is_some()
    }

    fn negation(&self, a: NodeId) -> Printed {
        // -(A x) is (-A) x in value, so in display notations a product needs no parentheses;
        // ASCII keeps them so that the text parses back to the same graph.
        let display = self.is_display();
        // ASCII writes a negation of a negation `- -x`, not `-(-x)`: the parser takes a level
        // of nesting per minus and another per parenthesis, so a long run of minus signs
        // (`a---…-b`) that parsed would otherwise list as text nested too deeply to parse
        // again (found by fuzzing). Display notations keep `−(−x)`.
        if !display && matches!(self.graph.op(a), Op::Neg(_)) && (self.namer)(a).is_none() {
            return Printed::new(format!("{} {}", self.minus(), self.node(a, false).text), PREFIX);
        }
        let mut inner = self.operand(a, if display { PRODUCT } else { POWER });
        if Self::starts_negative(&inner.text) {
            inner = Printed::new(self.parenthesized(&inner.text), ATOM);
        }
        let strength = if display { inner.strength.min(PREFIX) } else { PREFIX };
        Printed::new(format!("{}{}", self.minus(), inner.text), strength)
    }

    fn sum(&self, a: NodeId, b: NodeId) -> Printed {
        let left = self.operand(a, SUM).text;
        let minus = self.pick(" - ", " − ", " - ", "<mo>−</mo>");
        let plus = self.pick(" + ", " + ", " + ", "<mo>+</mo>");
        let right = match self.graph.op(b) {
            Op::Neg(c) if (self.namer)(b).is_none() => format!("{minus}{}", self.operand(c, PRODUCT).text),
            Op::Const(c) if c.0 < 0.0 && (self.namer)(b).is_none() => format!("{minus}{}", self.number(-c.0).text),
            Op::Fill(c, shape) if c.0 < 0.0 && self.is_display() => format!("{minus}{}", self.fill(-c.0, shape).text),
            // `a + −2 y` is `a − 2 y` (the product's sign is its first factor's).
            Op::Mul(l, _) | Op::MatMul(l, _)
                if self.is_display()
                    && (self.namer)(b).is_none()
                    && matches!(self.graph.op(l), Op::Const(c) if c.0 < 0.0)
                    && (self.namer)(l).is_none() =>
            {
                let text = self.operand(b, PRODUCT).text;
                match text.strip_prefix(self.minus().as_str()) {
                    Some(rest) => format!("{minus}{rest}"),
                    None => format!("{plus}{text}"),
                }
            }
            // A sum on the right is written without brackets in display notations, `a + b + c`
            // (addition associates; ASCII keeps them so that its text reads back to the same
            // graph), unless it starts with a minus sign.
            Op::Add(..) if self.is_display() && (self.namer)(b).is_none() => {
                let inner = self.node(b, false);
                if Self::starts_negative(&inner.text) {
                    format!("{plus}{}", self.parenthesized(&inner.text))
                } else {
                    format!("{plus}{}", inner.text)
                }
            }
            _ => format!("{plus}{}", self.operand(b, PRODUCT).text),
        };
        Printed::new(left + &right, SUM)
    }

    /// A product of two operands; a product of the other kind as operand gets parentheses.
    fn product(&self, a: NodeId, b: NodeId, op: &str, kind: Product) -> Printed {
        let side = |id: NodeId, strength: u8| {
            let printed = self.operand(id, strength);
            match printed.product {
                Some(other) if other != kind => Printed::new(self.parenthesized(&printed.text), ATOM),
                _ => printed,
            }
        };
        let strength = match kind {
            Product::Matrix => self.juxtaposed(),
            Product::Elementwise => PRODUCT,
        };
        let left = side(a, strength);
        // Both kinds of product are associative, so display notations write `A B C` for
        // A (B C); ASCII keeps the parentheses so the text parses back to the same graph.
        let same_kind = match self.graph.op(b) {
            Op::MatMul(..) => kind == Product::Matrix,
            // A matrix of ones prints as the product `𝟙ₘ 𝟙ₙᵀ`.
            Op::Fill(_, shape) => {
                kind == Product::Matrix && !self.graph.dims.is_vector(shape) && !self.graph.dims.is_scalar(shape)
            }
            Op::Mul(x, y) => kind == Product::Elementwise && !self.graph.is_scalar(x) && !self.graph.is_scalar(y),
            _ => false,
        };
        let right = if self.is_display() && same_kind && (self.namer)(b).is_none() {
            let right = self.operand(b, strength);
            // `Bᵀ (−1 𝟙 𝟙ᵀ)`: a factor with a leading minus keeps its brackets, since
            // `Bᵀ −1 𝟙 𝟙ᵀ` reads as a difference.
            match Printer::starts_negative(&right.text) {
                true => Printed::new(self.parenthesized(&right.text), ATOM),
                false => right,
            }
        } else {
            side(b, POWER)
        };
        Printed { text: joined(left.text, op, &right.text), strength, product: Some(kind) }
    }

    /// A scalar times anything. Display notations put the scalar first (`2 w`).
    fn scaling(&self, a: NodeId, b: NodeId) -> Printed {
        let (first, second) =
            if self.is_display() && self.graph.is_scalar(b) && !self.graph.is_scalar(a) { (b, a) } else { (a, b) };
        // A scalar that is itself a matrix product is bracketed before what it scales: `2 (xᵀy) y`,
        // not `2 xᵀy y`, which reads as one chain.
        let dot = |id: NodeId| (self.namer)(id).is_none() && matches!(self.graph.op(id), Op::MatMul(..));
        let before_array = self.is_display() && !self.graph.is_scalar(second);
        let left = match self.graph.op(first) {
            _ if before_array && dot(first) => {
                Printed::new(self.parenthesized(&self.operand(first, self.juxtaposed()).text), ATOM)
            }
            // `2 (xᵀy) y`: the dot product is the last factor of the scalar.
            Op::Mul(s, t) if before_array && (self.namer)(first).is_none() && self.graph.is_scalar(s) && dot(t) => {
                let text = format!(
                    "{}{}{}",
                    self.operand(s, self.juxtaposed()).text,
                    self.pick("", " ", " ", INVISIBLE_TIMES),
                    self.parenthesized(&self.operand(t, self.juxtaposed()).text)
                );
                Printed::new(text, self.juxtaposed())
            }
            _ => self.operand(first, self.juxtaposed()),
        };
        // A scalar commutes with every product, so `2 s xᵀ` and `2 u ⊙ v` need no parentheses
        // in display notations (the latter reads as (2 u) ⊙ v, the same value, and binds as
        // loosely as its `⊙`); ASCII keeps them so the text parses back to the same graph.
        let right = self.operand(second, if self.notation == Notation::Ascii { POWER } else { PRODUCT });
        let strength = self.juxtaposed().min(right.strength);
        let starts_with_digit = right.text.starts_with(|c: char| c.is_ascii_digit()) || right.text.starts_with("<mn>");
        let op = match self.notation {
            Notation::Ascii => "*",
            Notation::Unicode if starts_with_digit => "·",
            Notation::Latex if starts_with_digit => " \\cdot ",
            Notation::MathMl if starts_with_digit => "<mo>·</mo>",
            Notation::Unicode | Notation::Latex => " ",
            Notation::MathMl => INVISIBLE_TIMES,
        };
        let product = left.product.or(right.product);
        Printed { text: joined(left.text, op, &right.text), strength, product }
    }

    fn division(&self, a: NodeId, b: NodeId) -> Printed {
        let by_scalar = self.graph.is_scalar(b);
        if matches!(self.notation, Notation::Latex | Notation::MathMl) && by_scalar {
            let top = self.node(a, false).text;
            let bottom = self.node(b, false).text;
            let fraction = match self.notation {
                Notation::MathMl => format!("<mfrac><mrow>{top}</mrow><mrow>{bottom}</mrow></mfrac>"),
                _ => format!("\\frac{{{top}}}{{{bottom}}}"),
            };
            return Printed::new(fraction, ATOM);
        }
        let op = match (self.notation, by_scalar) {
            (Notation::Ascii, true) | (Notation::Unicode, true) => "/",
            (Notation::Ascii, false) => "./",
            (Notation::Unicode, false) => " ⊘ ",
            (Notation::Latex, _) => " \\oslash ",
            (Notation::MathMl, _) => "<mo>⊘</mo>",
        };
        let left = self.operand(a, PRODUCT);
        let right = self.operand(b, POWER);
        let kind = if by_scalar { left.product } else { Some(Product::Elementwise) };
        Printed { text: joined(left.text, op, &right.text), strength: PRODUCT, product: kind }
    }

    fn power(&self, a: NodeId, b: NodeId) -> Printed {
        let elementwise = !self.graph.is_scalar(a) || !self.graph.is_scalar(b);
        if self.notation == Notation::Ascii {
            let base = self.operand(a, POSTFIX).text;
            let exponent = self.operand(b, POSTFIX).text;
            let op = if elementwise { ".^" } else { "^" };
            return Printed::new(format!("{base}{op}{exponent}"), POWER);
        }
        let exponent = self.node(b, false).text;
        // An elementwise power of a matrix or a vector is marked, `X^∘2`, `h^∘2`: a bare `X²`
        // is the matrix power, and many write `h²` for the squared norm hᵀh, so the reader
        // refuses it for a vector; the printed form must read back as it was meant.
        let marked = elementwise && !self.graph.is_scalar(a);
        let mark = if marked { self.pick("", "∘", "\\circ ", "<mo>∘</mo>") } else { String::new() };
        self.superscript(
            a,
            &format!("{mark}{exponent}"),
            &format!("^{{{mark}{exponent}}}"),
            &format!("{mark}{exponent}"),
        )
    }

    /// `base^exponent`, with Unicode superscript digits where they exist.
    fn superscript(&self, base: NodeId, unicode: &str, latex: &str, mathml: &str) -> Printed {
        match self.notation {
            Notation::Ascii => {
                let base = self.operand(base, POSTFIX).text;
                Printed::new(format!("{base}{latex}"), POWER)
            }
            Notation::Unicode => {
                // A superscript on a superscript reads as one number (`x⁴²` for (x⁴)²), so a
                // power's base that is itself raised is bracketed.
                let raised = matches!(self.graph.op(base), Op::Pow(..) | Op::MatPow(..) | Op::Inv(_));
                let base = self.operand(base, if raised { ATOM } else { POSTFIX }).text;
                match to_superscript(unicode) {
                    Some(sup) => Printed::new(format!("{base}{sup}"), POSTFIX),
                    None => {
                        let exponent = unicode.strip_prefix('∘').map_or_else(
                            || self.parenthesize_unless_atomic(unicode),
                            |rest| format!("∘{}", self.parenthesize_unless_atomic(rest)),
                        );
                        Printed::new(format!("{base}^{exponent}"), POWER)
                    }
                }
            }
            Notation::Latex => {
                let base = self.operand(base, ATOM).text;
                Printed::new(format!("{base}{latex}"), POSTFIX)
            }
            Notation::MathMl => {
                let base = self.operand(base, ATOM).text;
                Printed::new(format!("<msup><mrow>{base}</mrow><mrow>{mathml}</mrow></msup>"), POSTFIX)
            }
        }
    }

    fn parenthesize_unless_atomic(&self, text: &str) -> String {
        if text.chars().all(|c| c.is_alphanumeric() || c == '.') {
            text.to_string()
        } else {
            format!("({text})")
        }
    }

    fn postfix(&self, a: NodeId, ascii: &str, unicode: &str, latex: &str, mathml: &str) -> Printed {
        // LaTeX cannot stack two superscripts, and a MathML superscript takes one base, so
        // there the operand must be atomic.
        // Two superscripts in a row read as one (`A²ᵀ`, `A⁻¹⁻ᵀ`): Unicode brackets the inner
        // one, `(A²)ᵀ`.
        let superscripted = (self.namer)(a).is_none()
            && matches!(self.graph.op(a), Op::MatPow(..) | Op::Pow(..) | Op::Inv(_) | Op::Transpose(_));
        let strength = if matches!(self.notation, Notation::Latex | Notation::MathMl)
            || superscripted && self.notation == Notation::Unicode
        {
            ATOM
        } else {
            POSTFIX
        };
        let operand = self.operand(a, strength).text;
        if self.notation == Notation::MathMl {
            return Printed::new(format!("<msup><mrow>{operand}</mrow>{mathml}</msup>"), POSTFIX);
        }
        Printed::new(operand + &self.pick(ascii, unicode, latex, mathml), POSTFIX)
    }

    fn call(&self, name: &str, a: NodeId) -> Printed {
        let argument = self.node(a, false).text;
        let text = match self.notation {
            // A name with a digit (`norm1`) would read back as letters and a number.
            Notation::Latex if name.bytes().any(|b| b.is_ascii_digit()) => {
                format!("\\operatorname{{{name}}}\\left({argument}\\right)")
            }
            Notation::Latex => format!("{name}\\left({argument}\\right)"),
            Notation::Ascii | Notation::Unicode => format!("{name}({argument})"),
            Notation::MathMl => format!("<mrow>{name}<mo>&#x2061;</mo>{}</mrow>", self.parenthesized(&argument)),
        };
        Printed::new(text, ATOM)
    }

    /// A fenced form such as a norm: `[open, close]` in Unicode and LaTeX, and
    /// `[open, close, subscript]` in MathML; ASCII calls the function `ascii`.
    fn is_matrix(&self, a: NodeId) -> bool {
        let shape = self.graph.shape(a);
        !self.graph.dims.is_scalar(shape) && !self.graph.dims.is_vector(shape)
    }

    fn fenced(&self, a: NodeId, ascii: &str, unicode: [&str; 2], latex: [&str; 2], mathml: [&str; 3]) -> Printed {
        let inner = self.node(a, false).text;
        let text = match self.notation {
            Notation::Ascii => return self.call(ascii, a),
            Notation::Unicode => format!("{}{inner}{}", unicode[0], unicode[1]),
            Notation::Latex => format!("{}{inner}{}", latex[0], latex[1]),
            Notation::MathMl => {
                let fence = format!(
                    "<mrow><mo fence=\"true\">{}</mo>{inner}<mo fence=\"true\">{}</mo></mrow>",
                    mathml[0], mathml[1]
                );
                if mathml[2].is_empty() {
                    fence
                } else {
                    format!("<msub>{fence}<mn>{}</mn></msub>", mathml[2])
                }
            }
        };
        Printed::new(text, ATOM)
    }

    /// An elementwise function as its row of the function table (`Func::info`) prints it.
    fn function(&self, f: Func, a: NodeId) -> Printed {
        let info = f.info();
        let name = match (self.notation, info.print) {
            (Notation::Ascii, _) => info.name.to_string(),
            (_, Print::Bars) if self.is_matrix(a) => info.name.to_string(),
            (_, Print::Bars) => return self.fenced(a, info.name, ["|", "|"], ["\\lvert ", " \\rvert"], ["|", "|", ""]),
            (Notation::Unicode, Print::Root) => "√".to_string(),
            (Notation::Latex, Print::Root) => {
                return Printed::new(format!("\\sqrt{{{}}}", self.node(a, false).text), ATOM)
            }
            (Notation::MathMl, Print::Root) => {
                return Printed::new(format!("<msqrt>{}</msqrt>", self.node(a, false).text), ATOM)
            }
            (Notation::Unicode, Print::Call { unicode, .. }) => unicode.to_string(),
            (Notation::Latex, Print::Call { latex, .. }) => latex.to_string(),
            (Notation::MathMl, Print::Call { unicode, .. }) => format!("<mi>{unicode}</mi>"),
        };
        self.call(&name, a)
    }
}

/// `left op right`, appended to `left`'s buffer: expressions grow on the left (a sum gains a
/// term, a product a factor), and copying the left side at every level would make printing
/// a long gradient quadratic.
fn joined(mut left: String, op: &str, right: &str) -> String {
    left.push_str(op);
    left.push_str(right);
    left
}

/// `2`, `0.5`, `1e-12`: integers without a fraction, others in Rust's shortest exact form.
pub(crate) fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else if value != 0.0 && (value.abs() < 1e-4 || value.abs() >= 1e15) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// `2` → `²`, `-1` → `⁻¹`; None if some character has no superscript form.
fn to_superscript(text: &str) -> Option<String> {
    text.chars()
        .map(|c| match c {
            '0' => Some('⁰'),
            '1' => Some('¹'),
            '2' => Some('²'),
            '3' => Some('³'),
            '4' => Some('⁴'),
            '5' => Some('⁵'),
            '6' => Some('⁶'),
            '7' => Some('⁷'),
            '8' => Some('⁸'),
            '9' => Some('⁹'),
            '-' | '−' => Some('⁻'),
            _ => None,
        })
        .collect()
}

/// The lengths of the 𝟙s `root` prints (down to the nodes printed by name), each once.
fn ones_lengths(graph: &Graph, root: NodeId, namer: Namer) -> Vec<Dim> {
    let dims = &graph.dims;
    let mut lengths = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if !seen.insert(node) || (node != root && namer(node).is_some()) {
            continue;
        }
        let op = graph.op(node);
        if let Op::Fill(c, shape) = op {
            if c.0 != 0.0 && !dims.is_scalar(shape) {
                for dim in [shape.rows, shape.cols] {
                    let dim = dims.resolve(dim);
                    if dim != ONE && !lengths.contains(&dim) {
                        lengths.push(dim);
                    }
                }
            }
        }
        stack.extend(op.children());
    }
    lengths
}

/// The Unicode subscript of a digit or of a letter that has one (`n` → `ₙ`).
fn subscript(c: char) -> Option<char> {
    const LETTERS: [(char, char); 17] = [
        ('a', 'ₐ'),
        ('e', 'ₑ'),
        ('h', 'ₕ'),
        ('i', 'ᵢ'),
        ('j', 'ⱼ'),
        ('k', 'ₖ'),
        ('l', 'ₗ'),
        ('m', 'ₘ'),
        ('n', 'ₙ'),
        ('o', 'ₒ'),
        ('p', 'ₚ'),
        ('r', 'ᵣ'),
        ('s', 'ₛ'),
        ('t', 'ₜ'),
        ('u', 'ᵤ'),
        ('v', 'ᵥ'),
        ('x', 'ₓ'),
    ];
    match c {
        '0'..='9' => char::from_u32('₀' as u32 + (c as u32 - '0' as u32)),
        _ => LETTERS.iter().find(|(letter, _)| *letter == c).map(|(_, small)| *small),
    }
}
