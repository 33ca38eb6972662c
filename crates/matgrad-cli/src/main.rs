//! The `matgrad` command: reads files, parses arguments, prints; the library does the rest.
//!
//! Exit codes: 0 success, 2 a mistake in what the user gave (program, flags, inputs),
//! 1 an internal error.

mod bench;
mod inputs;
mod serve;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use matgrad::api::{self, Query};
use matgrad::report::{self, to_json};
use matgrad::{Error, Target};

/// Arrays on 64-byte boundaries, for the kernels' vector loads (see `matgrad::alloc`).
#[global_allocator]
static ALLOCATOR: matgrad::AlignedAlloc = matgrad::AlignedAlloc;

#[derive(Parser)]
#[command(
    name = "matgrad",
    version,
    about = "Matrix calculus and backpropagation: derivatives as numbers, closed forms and derivations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check a program; print every variable's shape and each statement's canonical form.
    Check {
        /// The program (`-` reads standard input).
        file: PathBuf,
        /// The output (default: the last assigned name).
        #[arg(long, value_name = "NAME")]
        of: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Evaluate a program in f64.
    Eval {
        /// The program (`-` reads standard input).
        file: PathBuf,
        #[command(flatten)]
        point: PointArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Gradients of a scalar output: closed forms in matrix notation, values, and a
    /// finite-difference check.
    Grad(DerivativeArgs),
    /// Jacobians of an output of any shape (--of): every block in matrix notation where it
    /// has at most two axes, as a linear map and in index notation always, its numbers in
    /// jax.jacobian's layout, and a finite-difference check.
    Jacobian(DerivativeArgs),
    /// The Hessian of a scalar output: every block ∂²L/∂p∂q in matrix notation where it has
    /// at most two axes, as a linear map and in index notation always, its numbers in
    /// jax.hessian's layout, and a check against finite differences of the gradient.
    Hessian(DerivativeArgs),
    /// Explain how the chain rule runs: the computation graph, backpropagation and
    /// differentials, each step checked with numbers.
    Explain {
        /// The program (`-` reads standard input).
        file: PathBuf,
        /// Variables to differentiate with respect to (default: every input).
        #[arg(long, value_delimiter = ',', value_name = "NAME,…")]
        wrt: Vec<String>,
        #[command(flatten)]
        point: PointArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        /// Print only the computation graph, as Graphviz DOT or standalone SVG.
        #[arg(long, value_enum)]
        graph: Option<GraphFormat>,
        /// Also explain the second order: the differential of the gradient in a direction
        /// (a Hessian-vector product), statement by statement, each step checked.
        #[arg(long)]
        hessian: bool,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check a pasted derivation claim by claim: its gradients, differentials, chain rules,
    /// restated statements and equations, against the model it describes.
    Verify {
        /// The page or program (`-` reads standard input).
        file: PathBuf,
        #[command(flatten)]
        point: PointArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
        format: VerifyFormat,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Generate a self-contained Python module (NumPy, JAX or PyTorch) defining `value` and
    /// `value_and_grad` (and with `--hessian`, `hessian`) of the program's inputs, written
    /// from the closed forms.
    Codegen {
        /// The program (`-` reads standard input).
        file: PathBuf,
        /// The library the module runs on.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(Target::ALL.map(Target::name)))]
        target: String,
        /// Variables to differentiate with respect to (default: every input).
        #[arg(long, value_delimiter = ',', value_name = "NAME,…")]
        wrt: Vec<String>,
        /// The output (default: the last assigned name).
        #[arg(long, value_name = "NAME")]
        of: Option<String>,
        /// Also define `hessian`: every block ∂²L/∂p∂q in jax.hessian's layout, as a nested
        /// tuple in `--wrt` order.
        #[arg(long)]
        hessian: bool,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Time the compiled evaluation of the value and gradients (median, min, max), and of
    /// the value alone.
    Bench(bench::BenchArgs),
    /// Serve the page (gradients, explanations and checks as you type) and its JSON API on
    /// this machine; prints the URL.
    Serve(serve::ServeArgs),
}

/// What `grad`, `jacobian` and `hessian` take.
#[derive(clap::Args)]
struct DerivativeArgs {
    /// The program (`-` reads standard input).
    file: PathBuf,
    /// Variables to differentiate with respect to (default: every input). An assigned name
    /// is held as a leaf for its own derivative (its adjoint), counting only the name's
    /// uses; every other variable's derivative stays total, reaching through it.
    #[arg(long, value_delimiter = ',', value_name = "NAME,…")]
    wrt: Vec<String>,
    #[command(flatten)]
    point: PointArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GradFormat::Text)]
    format: GradFormat,
    /// Compare every derivative with central finite differences; exit 1 if any relative
    /// error exceeds --tol.
    #[arg(long)]
    check: bool,
    /// Tolerance for --check (largest relative error).
    #[arg(long, default_value_t = 1e-6, value_name = "TOL", value_parser = parse_tolerance, allow_hyphen_values = true)]
    tol: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Dot,
    Svg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VerifyFormat {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GradFormat {
    Text,
    Latex,
    Json,
}

impl PointArgs {
    /// Whether the user said anything about where to evaluate.
    fn is_given(&self) -> bool {
        !self.inputs.is_empty() || !self.dims.is_empty() || self.seed.is_some()
    }
}

/// Where to evaluate: input values, sizes, the random seed, and which name is the output.
#[derive(clap::Args)]
struct PointArgs {
    /// Input values: `values.json`, `arrays.npz`, or `NAME=array.npy`; may be repeated.
    #[arg(long, value_name = "FILE")]
    inputs: Vec<String>,
    /// Sizes of dimension symbols, e.g. `--dims K=4,n=3`; may be repeated.
    #[arg(long, value_name = "SYM=N,…", value_parser = parse_dims)]
    dims: Vec<DimSizes>,
    /// Seed for the inputs not given, drawn from N(0, 1) [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// The output (default: the last assigned name).
    #[arg(long, value_name = "NAME")]
    of: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// One `--dims` argument: `K=4,n=3`.
#[derive(Clone, Debug)]
struct DimSizes(Vec<(String, usize)>);

fn parse_dims(text: &str) -> Result<DimSizes, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, size) = part.split_once('=').ok_or_else(|| format!("`{part}` should look like K=4"))?;
            let size = size.trim().parse::<usize>().map_err(|_| format!("`{size}` is not a whole number"))?;
            Ok((name.trim().to_string(), size))
        })
        .collect::<Result<_, _>>()
        .map(DimSizes)
}

/// `--tol`: a relative error, so a positive number (a negative or NaN one fails every check).
fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(tol) if tol > 0.0 && tol.is_finite() => Ok(tol),
        Ok(_) => Err(format!("`{text}` is not a tolerance: give a positive number such as 1e-6")),
        Err(_) => Err(format!("`{text}` is not a number: give a positive number such as 1e-6")),
    }
}

/// The names of `--wrt`, trimmed (`--wrt "A, B"`); empty and repeated names are mistakes.
fn wrt_names(wrt: &[String]) -> Result<Vec<&str>, Failure> {
    let mut names: Vec<&str> = Vec::new();
    for name in wrt.iter().map(|n| n.trim()) {
        if name.is_empty() {
            return Err(Failure::user("--wrt has an empty name").with_hint("separate names with commas: --wrt A,B"));
        }
        if names.contains(&name) {
            return Err(Failure::user(format!("--wrt names `{name}` twice")));
        }
        names.push(name);
    }
    Ok(names)
}

/// Why the command failed, and which exit code that means.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hint: Option<String>,
    code: u8,
    /// What the command had printed before it failed (a failed check still shows its
    /// results).
    output: String,
}

impl Failure {
    pub fn user(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hint: None, code: 2, output: String::new() }
    }

    pub fn internal(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hint: None, code: 1, output: String::new() }
    }

    /// A failed check (exit 1), after the output that shows it.
    pub fn failed_check(message: impl Into<String>, output: String) -> Failure {
        Failure { message: message.into(), hint: None, code: 1, output }
    }

    pub fn io(path: &Path, error: std::io::Error) -> Failure {
        Failure::user(format!("cannot read {}: {error}", path.display()))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// A library error, rendered with the program's line and a caret where it has a
    /// place; the library speaks of the program, the command adds which option says it.
    fn library(error: Error, file: &str, source: &str) -> Failure {
        let code = if error.is_internal() { 1 } else { 2 };
        let mut error = error;
        error.hint = error.hint.take().map(|hint| option_wording(&hint));
        for other in error.others.iter_mut() {
            other.hint = other.hint.take().map(|hint| option_wording(&hint));
        }
        Failure { message: error.render(file, source).trim_end().to_string(), hint: None, code, output: String::new() }
    }
}

/// A library hint in the command's words: `--of NAME` to choose an output, `--wrt` for the
/// variables, `--dims` for a size.
fn option_wording(hint: &str) -> String {
    if let Some(rest) = hint.strip_prefix("choose a scalar output") {
        return format!("choose a scalar output with --of NAME{rest}");
    }
    if let Some(rest) = hint.strip_prefix("differentiate with respect to ") {
        return format!("--wrt takes {rest}");
    }
    if hint == "choose one of its assigned names as the output" {
        return "--of takes one of its assigned names".to_string();
    }
    match hint.strip_prefix("give a size for ").and_then(|h| h.split_once(',')) {
        Some((symbol, rest)) => format!("pass --dims {symbol}=4,{rest}"),
        None => hint.to_string(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The library grows its stack where it recurses deeply, so the command runs on the main
    // thread; a panic is still reported as a bug rather than as Rust's message.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli)))
        .unwrap_or_else(|_| Err(Failure::internal("matgrad crashed; this is a bug, please report it with the input")));
    let (text, failure) = match result {
        Ok(text) => (text, None),
        Err(mut failure) => (std::mem::take(&mut failure.output), Some(failure)),
    };
    if let Err(error) = write_stdout(&text) {
        // A reader that stopped reading (`matgrad … | head`) is not an error, as for any
        // Unix tool; a full disk is.
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            return failure.map_or(ExitCode::SUCCESS, |f| ExitCode::from(f.code));
        }
        eprintln!("error: cannot write the output: {error}");
        return ExitCode::from(1);
    }
    let Some(failure) = failure else { return ExitCode::SUCCESS };
    let mut report = String::new();
    if failure.message.starts_with("error") {
        report.push_str(&failure.message);
    } else {
        report.push_str(&format!("error: {}", failure.message));
    }
    report.push('\n');
    if let Some(hint) = &failure.hint {
        report.push_str(&format!("  = hint: {hint}\n"));
    }
    // stderr closed or full: nothing more can be said.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes());
    ExitCode::from(failure.code)
}

/// Writes `text` to standard output and flushes it, reporting failures instead of
/// panicking as `print!` does.
fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Check { file, of, format } => {
            let (name, query) = query(&file, of, &[], None, false)?;
            let report = api::check(&query).map_err(|e| Failure::library(e, &name, &query.source))?;
            Ok(match format {
                Format::Text => report.listing,
                Format::Json => to_json(&report),
            })
        }
        Command::Eval { file, point, format } => {
            let (name, query) = query(&file, point.of.clone(), &[], Some(&point), true)?;
            let report = api::eval(&query).map_err(|e| Failure::library(e, &name, &query.source))?;
            Ok(match format {
                Format::Text => report.text(),
                Format::Json => to_json(&report),
            })
        }
        Command::Grad(args) => derivative(args, api::grad, |r, f| {
            (formatted(f, || r.text(), || r.latex(), || to_json(r)), r.check.as_ref())
        }),
        Command::Jacobian(args) => derivative(args, api::jacobian, |r, f| {
            (formatted(f, || r.text(), || r.latex(), || to_json(r)), r.common.check.as_ref())
        }),
        Command::Hessian(args) => derivative(args, api::hessian, |r, f| {
            (formatted(f, || r.text(), || r.latex(), || to_json(r)), r.common.check.as_ref())
        }),
        Command::Explain { file, wrt, point, format, graph, hessian, output } => {
            let (name, query) = query(&file, point.of.clone(), &wrt, Some(&point), true)?;
            let explain = if hessian { api::explain_hessian } else { api::explain };
            let explained = explain(&query).map_err(|e| Failure::library(e, &name, &query.source))?;
            let text = match (graph, format) {
                (Some(GraphFormat::Dot), _) => explained.dot(),
                (Some(GraphFormat::Svg), _) => explained.svg(),
                (None, ExplainFormat::Text) => explained.text(),
                (None, ExplainFormat::Json) => to_json(&explained.report()),
                (None, ExplainFormat::Markdown) => explained.markdown(),
                (None, ExplainFormat::Html) => explained.html(),
            };
            let text = write_to(output.as_deref(), text)?;
            let failures = explained.failures();
            if failures.is_empty() {
                Ok(text)
            } else {
                // The first few by name; the text marks every one with ✗.
                const NAMED: usize = 8;
                let steps = if failures.len() == 1 { "step" } else { "steps" };
                let mut named = failures.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
                if failures.len() > NAMED {
                    named.push_str(&format!(", … ({} more, each marked ✗ above)", failures.len() - NAMED));
                }
                Err(Failure::failed_check(
                    format!("{} {steps} of the explanation failed the check: {named}", failures.len()),
                    text,
                ))
            }
        }
        Command::Verify { file, point, format, output } => {
            let (name, query) = query(&file, point.of.clone(), &[], Some(&point), true)?;
            let report = api::verify(&query).map_err(|e| Failure::library(e, &name, &query.source))?;
            let text = match format {
                VerifyFormat::Text => report.text(),
                VerifyFormat::Markdown => report.markdown(),
                VerifyFormat::Html => report.html(),
                VerifyFormat::Json => to_json(&report),
            };
            let text = write_to(output.as_deref(), text)?;
            match report.first_failure() {
                None => Ok(text),
                Some(claim) => Err(Failure::failed_check(
                    format!("a claim fails: line {}:{}, `{}`", claim.line, claim.column, claim.excerpt(60)),
                    text,
                )),
            }
        }
        Command::Codegen { file, target, wrt, of, hessian, output } => {
            let (name, mut query) = query(&file, of, &wrt, None, false)?;
            query.target = target.parse().map_err(Failure::user)?;
            query.hessian = hessian;
            let report = api::codegen(&query).map_err(|e| Failure::library(e, &name, &query.source))?;
            write_to(output.as_deref(), report.module)
        }
        Command::Bench(args) => bench::run(args),
        Command::Serve(args) => serve::run(args),
    }
}

/// `grad`, `jacobian` or `hessian`: the report in the chosen format (`print`), and exit 1
/// after it when its check failed.
fn derivative<R>(
    args: DerivativeArgs,
    answer: fn(&Query) -> Result<R, Error>,
    print: fn(&R, GradFormat) -> (String, Option<&report::Check>),
) -> Result<String, Failure> {
    let DerivativeArgs { file, wrt, point, format, check, tol } = args;
    // Values only when asked for a point (or a check, or JSON for tools).
    let evaluate = check || format == GradFormat::Json || point.is_given();
    let (name, mut query) = query(&file, point.of.clone(), &wrt, Some(&point), evaluate)?;
    query.check = check;
    query.tol = tol;
    let report = answer(&query).map_err(|e| Failure::library(e, &name, &query.source))?;
    match print(&report, format) {
        (text, Some(checked)) if !checked.passed => {
            // An infinite error is a value that is not a number at the point (log of a
            // negative entry): the point is outside the program's domain, not the rule wrong.
            let undefined: Vec<&str> =
                checked.errors.iter().filter(|(_, e)| !e.is_finite()).map(|(name, _)| name.as_str()).collect();
            let message = match undefined[..] {
                [] => format!("the finite-difference check failed: a relative error exceeds {tol:e}"),
                _ => format!(
                    "the finite-difference check failed: the derivatives for {} are not finite numbers at this \
                     point, which is outside the program's domain; give inputs inside it with --inputs, \
                     or another --seed",
                    undefined.join(", ")
                ),
            };
            Err(Failure::failed_check(message, text))
        }
        (text, _) => Ok(text),
    }
}

/// The report as `format` asks: `text`, `latex` or its JSON.
fn formatted(
    format: GradFormat,
    text: impl FnOnce() -> String,
    latex: impl FnOnce() -> String,
    json: impl FnOnce() -> String,
) -> String {
    match format {
        GradFormat::Text => text(),
        GradFormat::Latex => latex(),
        GradFormat::Json => json(),
    }
}

/// The question the options ask, with the file's text and name: what every command hands
/// the library.
fn query(
    file: &Path,
    of: Option<String>,
    wrt: &[String],
    point: Option<&PointArgs>,
    evaluate: bool,
) -> Result<(String, Query), Failure> {
    let (name, source) = read_source(file)?;
    let wrt = wrt_names(wrt)?.into_iter().map(str::to_string).collect();
    let mut query = Query { source, of, wrt, evaluate, ..Query::default() };
    if let Some(point) = point {
        query.inputs = inputs::load(&point.inputs)?.into_iter().collect();
        for (symbol, size) in point.dims.iter().flat_map(|d| d.0.iter()) {
            query.dims.insert(symbol.clone(), *size);
        }
        query.seed = point.seed.unwrap_or(0);
    }
    Ok((name, query))
}

/// `text` itself, or, with `-o FILE`, written there and a line saying so.
fn write_to(output: Option<&Path>, text: String) -> Result<String, Failure> {
    let Some(path) = output else { return Ok(text) };
    std::fs::write(path, text).map_err(|e| Failure::internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(format!("wrote {}\n", path.display()))
}

fn read_source(file: &Path) -> Result<(String, String), Failure> {
    let mut bytes = Vec::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| Failure::io(file, e))?;
    } else {
        bytes = std::fs::read(file).map_err(|e| Failure::io(file, e))?;
    }
    let name = if file == Path::new("-") { "<stdin>".to_string() } else { file.display().to_string() };
    let source = String::from_utf8(bytes).map_err(|e| {
        Failure::user(format!("{name}: not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
    })?;
    Ok((name, source))
}
