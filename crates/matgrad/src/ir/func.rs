//! Elementwise functions: [`Func`] and its table [`Func::info`], the one place that says
//! everything about each function: the names it is written by, the name each notation
//! prints, its value in `f64`, its cost in the compiled plan and its derivative.
//!
//! Invariant: every other list of functions is derived from the table, never kept by
//! hand: the names the parser and the lowering know (`syntax::FUNCTIONS`,
//! `ir::lower::BUILTINS`, the longest name the LaTeX reader tries), the printer's names,
//! the interpreter's scalar functions, the plan's costs, and the derivative rules that
//! reverse and forward mode share. `info` matches without a `_ =>` arm and [`Func::ALL`] is
//! declared with the enum, so a new function does not compile without its row and is in
//! every derived list once it has one.

use super::{Graph, NodeId, Op};

/// Declares [`Func`] and [`Func::ALL`] from one list of variants, so that `ALL` cannot
/// leave one out.
macro_rules! functions {
    ($($(#[$meta:meta])* $variant:ident,)*) => {
        /// Elementwise functions of one argument; each is described by its row in the
        /// table `Func::info`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Func {
            $($(#[$meta])* $variant,)*
        }

        impl Func {
            /// Every function, in declaration order.
            pub const ALL: [Func; [$(Func::$variant),*].len()] = [$(Func::$variant),*];
        }
    };
}

functions! {
    Sigmoid,
    Tanh,
    Exp,
    Log,
    Sin,
    Cos,
    Tan,
    Sqrt,
    Abs,
    Sign,
    Relu,
    Softplus,
    /// The Heaviside step, 1 where x > 0 and 0 elsewhere: relu's derivative.
    Step,
}

/// Everything known about one elementwise function: a row of [`Func::info`].
#[derive(Clone, Copy)]
pub(crate) struct FuncInfo {
    /// The canonical name: how ASCII writes and prints it, and the name of its call in the
    /// syntax tree. LaTeX reads it in any case (`ReLU`), as a command (`\exp`), a bare word
    /// or an upright name (`\operatorname{relu}`).
    pub name: &'static str,
    /// Other names LaTeX reads it by, in any case (`\ln`).
    pub latex_aliases: &'static [&'static str],
    /// The Greek letter (by its canonical name) that is this function before `(`: `σ(x)`,
    /// `\sigma(x)`; elsewhere the letter is a variable.
    pub letter: Option<&'static str>,
    /// Whether the message for an unknown function lists it among the functions.
    pub listed: bool,
    /// How the display notations print it (ASCII prints `name(x)`).
    pub print: Print,
    /// Its value, written to be stable in `f64`: what the interpreter computes. The
    /// compiled plan's loops have their own vectorisable forms
    /// (`eval::plan::elementwise::unary`), tested against this.
    pub scalar: fn(f64) -> f64,
    /// Its call in generated Python, `{}` standing for the argument (`codegen`): stable
    /// where the function can overflow (`logaddexp` for softplus, σ without `exp(-x)` of a
    /// large x).
    pub python: Python,
    /// Its rough cost per entry in the compiled plan, in arithmetic operations: a call
    /// (libm's or a vectorised approximation) is worth about eight.
    pub cost: usize,
    /// f′(a), built from the argument and the value y = f(a) (written through y where that
    /// is shorter); None where f′ is zero.
    pub derivative: Option<fn(&mut Slope) -> NodeId>,
}

/// A function's call in each Python library `codegen` writes for; `_name` is a helper
/// that the generated module defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Python {
    pub numpy: &'static str,
    pub jax: &'static str,
    pub torch: &'static str,
}

/// How a display notation (Unicode, LaTeX, MathML) prints a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Print {
    /// A call: `σ(x)` in Unicode, `\sigma\left(x\right)` in LaTeX, `<mi>σ</mi>` applied in
    /// MathML (the Unicode name in `<mi>`).
    Call { unicode: &'static str, latex: &'static str },
    /// `|x|` of a scalar or a vector; of a matrix the call `abs(X)`, since `|X|` reads as
    /// its determinant.
    Bars,
    /// A radical: `√(x)`, `\sqrt{x}`, `<msqrt>`.
    Root,
}

/// What a derivative rule builds with: the argument `a`, the value `y = f(a)`, the
/// constants 1 and 2, and the graph, whose nodes it adds through `simplify::build`.
pub(crate) struct Slope<'a> {
    pub graph: &'a mut Graph,
    pub a: NodeId,
    pub y: NodeId,
    pub one: NodeId,
    pub two: NodeId,
}

impl Slope<'_> {
    pub fn build(&mut self, op: Op) -> NodeId {
        crate::simplify::build(self.graph, op)
    }
}

impl Func {
    /// The function's row of the table.
    pub(crate) const fn info(self) -> FuncInfo {
        match self {
            Func::Sigmoid => FuncInfo {
                name: "sigmoid",
                latex_aliases: &[],
                letter: Some("sigma"),
                listed: true,
                print: Print::Call { unicode: "σ", latex: "\\sigma" },
                scalar: sigmoid,
                python: Python { numpy: "_sigmoid({})", jax: "jax.nn.sigmoid({})", torch: "torch.sigmoid({})" },
                cost: 8,
                // σ′ = y ⊙ (1 − y)
                derivative: Some(|d| {
                    let minus_y = d.build(Op::Neg(d.y));
                    let complement = d.build(Op::Add(d.one, minus_y));
                    d.build(Op::Mul(d.y, complement))
                }),
            },
            Func::Tanh => FuncInfo {
                name: "tanh",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "tanh", latex: "\\tanh" },
                scalar: f64::tanh,
                python: Python { numpy: "np.tanh({})", jax: "jnp.tanh({})", torch: "torch.tanh({})" },
                cost: 8,
                // tanh′ = 1 − y²
                derivative: Some(|d| {
                    let square = d.build(Op::Pow(d.y, d.two));
                    let minus = d.build(Op::Neg(square));
                    d.build(Op::Add(d.one, minus))
                }),
            },
            Func::Exp => FuncInfo {
                name: "exp",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "exp", latex: "\\exp" },
                scalar: f64::exp,
                python: Python { numpy: "np.exp({})", jax: "jnp.exp({})", torch: "torch.exp({})" },
                cost: 8,
                // exp′ = y
                derivative: Some(|d| d.y),
            },
            Func::Log => FuncInfo {
                name: "log",
                latex_aliases: &["ln"],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "log", latex: "\\log" },
                scalar: f64::ln,
                python: Python { numpy: "np.log({})", jax: "jnp.log({})", torch: "torch.log({})" },
                cost: 8,
                // log′ = 1 ⊘ a
                derivative: Some(|d| d.build(Op::Div(d.one, d.a))),
            },
            Func::Sin => FuncInfo {
                name: "sin",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "sin", latex: "\\sin" },
                scalar: f64::sin,
                python: Python { numpy: "np.sin({})", jax: "jnp.sin({})", torch: "torch.sin({})" },
                cost: 8,
                // sin′ = cos a
                derivative: Some(|d| d.build(Op::Map(Func::Cos, d.a))),
            },
            Func::Cos => FuncInfo {
                name: "cos",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "cos", latex: "\\cos" },
                scalar: f64::cos,
                python: Python { numpy: "np.cos({})", jax: "jnp.cos({})", torch: "torch.cos({})" },
                cost: 8,
                // cos′ = −sin a
                derivative: Some(|d| {
                    let sin = d.build(Op::Map(Func::Sin, d.a));
                    d.build(Op::Neg(sin))
                }),
            },
            Func::Tan => FuncInfo {
                name: "tan",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "tan", latex: "\\tan" },
                scalar: f64::tan,
                python: Python { numpy: "np.tan({})", jax: "jnp.tan({})", torch: "torch.tan({})" },
                cost: 8,
                // tan′ = 1 + y²
                derivative: Some(|d| {
                    let square = d.build(Op::Pow(d.y, d.two));
                    d.build(Op::Add(d.one, square))
                }),
            },
            Func::Sqrt => FuncInfo {
                name: "sqrt",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Root,
                scalar: f64::sqrt,
                python: Python { numpy: "np.sqrt({})", jax: "jnp.sqrt({})", torch: "torch.sqrt({})" },
                cost: 1,
                // sqrt′ = 1 ⊘ (2 y)
                derivative: Some(|d| {
                    let twice = d.build(Op::Mul(d.two, d.y));
                    d.build(Op::Div(d.one, twice))
                }),
            },
            Func::Abs => FuncInfo {
                name: "abs",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Bars,
                scalar: f64::abs,
                python: Python { numpy: "np.abs({})", jax: "jnp.abs({})", torch: "torch.abs({})" },
                cost: 1,
                // abs′ = sign a, with abs′(0) = sign(0) = 0 as the subgradient
                derivative: Some(|d| d.build(Op::Map(Func::Sign, d.a))),
            },
            Func::Sign => FuncInfo {
                name: "sign",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "sign", latex: "\\operatorname{sign}" },
                scalar: sign,
                python: Python { numpy: "np.sign({})", jax: "jnp.sign({})", torch: "torch.sign({})" },
                cost: 1,
                derivative: None,
            },
            Func::Relu => FuncInfo {
                name: "relu",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "relu", latex: "\\operatorname{relu}" },
                scalar: relu,
                python: Python { numpy: "np.maximum({}, 0.0)", jax: "jax.nn.relu({})", torch: "torch.relu({})" },
                cost: 1,
                // relu′ = step a, with relu′(0) = step(0) = 0 as the subgradient
                derivative: Some(|d| d.build(Op::Map(Func::Step, d.a))),
            },
            Func::Softplus => FuncInfo {
                name: "softplus",
                latex_aliases: &[],
                letter: None,
                listed: true,
                print: Print::Call { unicode: "softplus", latex: "\\operatorname{softplus}" },
                scalar: softplus,
                python: Python {
                    numpy: "np.logaddexp(0.0, {})",
                    jax: "jax.nn.softplus({})",
                    torch: "torch.nn.functional.softplus({})",
                },
                cost: 8,
                // softplus′ = σ(a)
                derivative: Some(|d| d.build(Op::Map(Func::Sigmoid, d.a))),
            },
            Func::Step => FuncInfo {
                name: "step",
                latex_aliases: &[],
                letter: None,
                // relu's derivative, which a program seldom writes.
                listed: false,
                print: Print::Call { unicode: "step", latex: "\\operatorname{step}" },
                scalar: step,
                python: Python { numpy: "np.heaviside({}, 0.0)", jax: "jnp.heaviside({}, 0.0)", torch: "_step({})" },
                cost: 1,
                derivative: None,
            },
        }
    }

    /// The canonical name (`sigmoid`).
    pub const fn name(self) -> &'static str {
        self.info().name
    }
}

// The functions with no `f64` method of their own, shared with the compiled plan's loops.

/// σ(x) = 1/(1 + e⁻ˣ), through eˣ for negative x so that neither branch overflows.
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `f64::signum(0.0)` is 1; the sign of zero is zero.
pub(crate) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

pub(crate) fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|), which neither overflows nor loses small values.
pub(crate) fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

pub(crate) fn step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::Func;

    #[test]
    fn all_lists_each_function_once_in_declaration_order_with_a_name_of_its_own() {
        for (i, f) in Func::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i, "{f:?}");
            let namesakes = Func::ALL.into_iter().filter(|g| g.name() == f.name()).count();
            assert_eq!(namesakes, 1, "`{}` names one function", f.name());
        }
    }
}
