//! One question about one program, answered whole: what every front end calls.
//!
//! A [`Query`] holds everything a person gives — the program's text, which output, which
//! variables, sizes, a seed, input arrays — and [`answer`] runs the library on it and
//! returns the [`Report`]. The command line builds a `Query` from its options and files, a
//! server deserialises one from a request body; both print the report with
//! [`Report::to_json`], so they give the same bytes for the same question.
//!
//! ```
//! use matgrad::api::{answer, Query, Question};
//! let query = Query { source: "x: vector(n)\nL = sum(x.^2)".into(), ..Query::default() };
//! let report = answer(Question::Grad, &query)?;
//! assert!(report.to_json().contains("\"expr\": \"2 x\""));
//! # Ok::<(), matgrad::Error>(())
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::report::{
    self, CheckReport, CodeReport, EvalReport, ExplainReport, Explained, GradReport, HessianReport, JacobianReport,
    VerifyReport,
};
use crate::{Array, Error, Point, Program, Target, MEMORY_BUDGET};

/// What a person asks about a program. Every field but `source` has a default, so
/// `{"source": "…"}` is a whole query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    /// The program, or a pasted page.
    pub source: String,
    /// The output (default: the program's, its last statement).
    pub of: Option<String>,
    /// The variables to differentiate with respect to (default: every input). An
    /// assigned name is held as an independent leaf.
    pub wrt: Vec<String>,
    /// Sizes of dimension symbols; the others come from `inputs` or take the default.
    pub dims: BTreeMap<String, usize>,
    /// The seed of the inputs not given, drawn from N(0, 1).
    pub seed: u64,
    /// Input values by name; the others are drawn at random.
    pub inputs: BTreeMap<String, Array>,
    /// Whether to evaluate at the point (values in the report); `check` and `explain`
    /// always do.
    pub evaluate: bool,
    /// Compare the gradients with finite differences, to this largest relative error.
    pub check: bool,
    /// The tolerance of `check`.
    pub tol: f64,
    /// The library generated code is for (`codegen`).
    pub target: Target,
    /// Whether generated code also defines `hessian(<inputs>)` (`codegen`).
    pub hessian: bool,
    /// The most memory an evaluation may need, in bytes ([`MEMORY_BUDGET`] unless the
    /// front end sets less). Not read from JSON: a server's budget is the server's.
    #[serde(skip)]
    pub memory_budget: u64,
    /// How long the answer may take (none: no limit); past it, [`answer`] fails with
    /// `ErrorKind::TimeLimit` soon after. Not read from JSON, like the memory budget.
    #[serde(skip)]
    pub time_limit: Option<Duration>,
}

/// The tolerance of a gradient check unless the query says otherwise.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;

impl Default for Query {
    fn default() -> Query {
        Query {
            source: String::new(),
            of: None,
            wrt: Vec::new(),
            dims: BTreeMap::new(),
            seed: 0,
            inputs: BTreeMap::new(),
            evaluate: true,
            check: false,
            tol: DEFAULT_TOLERANCE,
            target: Target::Numpy,
            hessian: false,
            memory_budget: MEMORY_BUDGET,
            time_limit: None,
        }
    }
}

/// The questions a program can be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Question {
    /// What the program reads as.
    Check,
    /// Every statement's value.
    Eval,
    /// The gradients: closed forms, values, the finite-difference check.
    Grad,
    /// The Jacobian of an output of any shape: every block's forms and numbers.
    Jacobian,
    /// The Hessian of a scalar output: every block ∂²L/∂p∂q, its forms and numbers.
    Hessian,
    /// How the chain rule runs, every step checked.
    Explain,
    /// How the chain rule runs, then its second order: the differential of the gradient in a
    /// direction, statement by statement, every step checked.
    #[serde(rename = "explain-hessian")]
    ExplainHessian,
    /// The value and gradients as a Python module for the query's target.
    Codegen,
    /// A pasted derivation's claims, each checked.
    Verify,
}

impl FromStr for Question {
    type Err = String;

    fn from_str(text: &str) -> Result<Question, String> {
        match text {
            "check" => Ok(Question::Check),
            "eval" => Ok(Question::Eval),
            "grad" => Ok(Question::Grad),
            "jacobian" => Ok(Question::Jacobian),
            "hessian" => Ok(Question::Hessian),
            "explain" => Ok(Question::Explain),
            "explain-hessian" => Ok(Question::ExplainHessian),
            "codegen" => Ok(Question::Codegen),
            "verify" => Ok(Question::Verify),
            _ => Err(format!(
                "no question `{text}`: ask check, eval, grad, jacobian, hessian, explain, explain-hessian, codegen or verify"
            )),
        }
    }
}

/// An answer, as data. (One is made per question, so its size does not matter.)
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum Report {
    Check(CheckReport),
    Eval(EvalReport),
    Grad(GradReport),
    Jacobian(JacobianReport),
    Hessian(HessianReport),
    Explain(ExplainReport),
    Codegen(CodeReport),
    Verify(VerifyReport),
}

impl Report {
    /// Pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        report::to_json(self)
    }
}

/// Answers `question` about `query`'s program, within the query's time limit.
pub fn answer(question: Question, query: &Query) -> Result<Report, Error> {
    let deadline = query.time_limit.map(|limit| Instant::now() + limit);
    crate::deadline::within(deadline, || answer_now(question, query))
}

fn answer_now(question: Question, query: &Query) -> Result<Report, Error> {
    Ok(match question {
        Question::Check => Report::Check(check(query)?),
        Question::Eval => Report::Eval(eval(query)?),
        Question::Grad => Report::Grad(grad(query)?),
        Question::Jacobian => Report::Jacobian(jacobian(query)?),
        Question::Hessian => Report::Hessian(hessian(query)?),
        Question::Explain => Report::Explain(explain(query)?.report()),
        Question::ExplainHessian => Report::Explain(explain_hessian(query)?.report()),
        Question::Codegen => Report::Codegen(codegen(query)?),
        Question::Verify => Report::Verify(verify(query)?),
    })
}

/// What the program reads as.
pub fn check(query: &Query) -> Result<CheckReport, Error> {
    Ok(query.program()?.check_report())
}

/// Every statement's value at the query's point.
pub fn eval(query: &Query) -> Result<EvalReport, Error> {
    let program = query.program()?;
    program.evaluate(&query.point(&program)?)
}

/// Every claim of the query's page, checked at its point.
pub fn verify(query: &Query) -> Result<VerifyReport, Error> {
    let program = query.program()?;
    program.verify(&query.point(&program)?)
}

/// The gradients the query asks for, evaluated (and checked) when it says so.
pub fn grad(query: &Query) -> Result<GradReport, Error> {
    let gradient = query.program()?.gradient(&query.wrt_names()?)?;
    let point = query.point_if_asked(&gradient.program)?;
    gradient.report(point.as_ref(), query.check.then_some(query.tol))
}

/// The Jacobian the query asks for, evaluated (and checked against finite differences of
/// the output) when it says so.
pub fn jacobian(query: &Query) -> Result<JacobianReport, Error> {
    let program = query.program()?;
    let jacobian = program.jacobian(&query.wrt_names()?)?;
    let point = query.point_if_asked(&program)?;
    jacobian.report(point.as_ref(), query.check.then_some(query.tol))
}

/// The Hessian the query asks for, evaluated (and checked against finite differences of
/// the gradient) when it says so.
pub fn hessian(query: &Query) -> Result<HessianReport, Error> {
    let program = query.program()?;
    let hessian = program.hessian(&query.wrt_names()?)?;
    let point = query.point_if_asked(&program)?;
    hessian.report(point.as_ref(), query.check.then_some(query.tol))
}

/// The value and gradients the query asks for (and the Hessian, where it says so) as a
/// Python module for its target.
pub fn codegen(query: &Query) -> Result<CodeReport, Error> {
    let gradient = query.program()?.gradient(&query.wrt_names()?)?;
    let (module, what) = match query.hessian {
        true => (gradient.code_with_hessian(query.target)?, "hessian"),
        false => (gradient.code(query.target)?, "grad"),
    };
    let output = crate::print::python_name(gradient.output_name());
    let file_name = format!("{output}_{what}_{}.py", query.target.name());
    Ok(CodeReport { target: query.target, file_name, module })
}

/// The explanation the query asks for, checked at its point, to be shown in any form.
pub fn explain(query: &Query) -> Result<Explained, Error> {
    let program = query.program()?;
    let explanation = program.explain(&query.wrt_names()?)?;
    let point = query.point(&program)?;
    explanation.at(&point)
}

/// The second-order explanation the query asks for: the first order, then the differential
/// of the gradient in a direction, every step checked at its point.
pub fn explain_hessian(query: &Query) -> Result<Explained, Error> {
    let program = query.program()?;
    let explanation = program.explain_hessian(&query.wrt_names()?)?;
    let point = query.point(&program)?;
    explanation.at(&point)
}

impl Query {
    /// The program, with the output the query names.
    pub fn program(&self) -> Result<Program, Error> {
        let mut program = Program::parse(&self.source)?;
        if let Some(output) = &self.of {
            program.set_output(output.trim())?;
        }
        Ok(program)
    }

    /// The point: the query's sizes and arrays, the rest drawn from its seed.
    pub fn point(&self, program: &Program) -> Result<Point, Error> {
        let sizes: Vec<(String, usize)> = self.dims.iter().map(|(name, &size)| (name.clone(), size)).collect();
        let inputs = self.inputs.iter().map(|(name, array)| (name.clone(), array.clone())).collect();
        program.point_within(&sizes, inputs, self.seed, self.memory_budget)
    }

    /// The point, where the query asks for values or a check.
    fn point_if_asked(&self, program: &Program) -> Result<Option<Point>, Error> {
        if self.evaluate || self.check {
            self.point(program).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The names of `wrt`, trimmed (`"A, B"` split by a front end gives `" B"`); an empty
    /// or repeated name is a mistake; a tolerance that is not a positive number too.
    fn wrt_names(&self) -> Result<Vec<&str>, Error> {
        if self.check && !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(Error::request(format!("the tolerance {} is not a positive number", self.tol))
                .with_hint("a tolerance is a largest relative error, such as 1e-6"));
        }
        let names: Vec<&str> = self.wrt.iter().map(String::as_str).collect();
        crate::gradient::checked_names(&names)
    }
}
