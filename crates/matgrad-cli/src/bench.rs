//! `matgrad bench`: times the compiled value-and-gradient evaluation of a program, and the
//! value alone, at one point.
//!
//! Each figure is the wall time of one call of [`matgrad::Compiled::run`] (the input checks
//! included), after a warm-up; the report gives the median and the spread (min, max) over
//! all timed runs, which last at least `--time` seconds and `--min-runs` runs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use matgrad::{Array, Compiled};
use serde_json::json;

use crate::{Failure, Format, PointArgs};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The program (`-` reads standard input).
    file: PathBuf,
    /// Variables to differentiate with respect to (default: every input).
    #[arg(long, value_delimiter = ',', value_name = "NAME,…")]
    wrt: Vec<String>,
    #[command(flatten)]
    point: PointArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also print the compiled plan, each step with its mean time.
    #[arg(long)]
    profile: bool,
    /// Seconds to spend timing each of the two measurements (after the warm-up).
    #[arg(long, default_value_t = 1.5, value_name = "SECONDS", hide = true)]
    time: f64,
    /// The fewest timed runs of each measurement.
    #[arg(long, default_value_t = 10, value_name = "N", hide = true)]
    min_runs: usize,
}

/// The times of the runs of one measurement.
struct Timing {
    runs: Vec<Duration>,
}

impl Timing {
    fn micros(&self, quantile: f64) -> f64 {
        let mut sorted = self.runs.clone();
        sorted.sort();
        let at = ((sorted.len() - 1) as f64 * quantile).round() as usize;
        sorted[at].as_secs_f64() * 1e6
    }

    /// The median; for an even count, the mean of the middle two.
    fn median(&self) -> f64 {
        let mut sorted: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        }
    }
}

/// At most this many runs are kept (the fastest programs run in about a microsecond).
const MAX_RUNS: usize = 2_000_000;

fn measure(compiled: &Compiled, inputs: &[(&str, &[f64])], time: f64, min_runs: usize) -> Result<Timing, Failure> {
    let mut outputs = compiled.outputs();
    let mut run = || compiled.run(inputs, &mut outputs).map_err(|e| Failure::user(e.to_string()));
    // Warm-up: first-touch page faults of the buffers, caches, the thread pool.
    let warm = Instant::now();
    for done in 0.. {
        run()?;
        if done >= 2 && warm.elapsed().as_secs_f64() >= (time / 10.0).min(0.5) {
            break;
        }
    }
    let budget = Duration::from_secs_f64(time.max(0.0));
    let start = Instant::now();
    let mut runs = Vec::new();
    while (runs.len() < min_runs.max(1) || start.elapsed() < budget) && runs.len() < MAX_RUNS {
        let t = Instant::now();
        run()?;
        runs.push(t.elapsed());
    }
    Ok(Timing { runs })
}

pub fn run(args: BenchArgs) -> Result<String, Failure> {
    let (name, query) = crate::query(&args.file, args.point.of.clone(), &args.wrt, Some(&args.point), true)?;
    let library = |e: matgrad::Error| Failure::library(e, &name, &query.source);
    let program = query.program().map_err(library)?;
    let wrt: Vec<&str> = query.wrt.iter().map(String::as_str).collect();
    let gradient = program.gradient(&wrt).map_err(library)?;
    let point = query.point(gradient.program()).map_err(library)?;
    let dims: Vec<(&str, usize)> = point.sizes.iter().collect();
    let compile_error = library;
    let full = gradient.compile(&dims).map_err(compile_error)?;
    let value = gradient.program().compile(&dims).map_err(compile_error)?;
    let inputs: Vec<(&str, &[f64])> =
        point.inputs.iter().map(|(name, array): (&String, &Array)| (name.as_str(), array.data.as_slice())).collect();
    let full_timing = measure(&full, &inputs, args.time, args.min_runs)?;
    let value_timing = measure(&value, &inputs, args.time, args.min_runs)?;
    let profile = if args.profile {
        // About as many runs as the timing took, so the profile costs as long again.
        let runs = ((args.time * 1e6 / full_timing.median()) as usize).clamp(3, 100_000);
        let mut outputs = full.outputs();
        Some(full.profile(&inputs, &mut outputs, runs).map_err(|e| Failure::user(e.to_string()))?)
    } else {
        None
    };
    let names: Vec<&str> = gradient.wrt_names().collect();
    let sizes: Vec<String> = dims.iter().map(|(symbol, size)| format!("{symbol} = {size}")).collect();
    let ratio = full_timing.median() / value_timing.median();
    Ok(match args.format {
        Format::Json => {
            let dims: serde_json::Map<String, serde_json::Value> =
                dims.iter().map(|&(symbol, size)| (symbol.to_string(), json!(size))).collect();
            let mut report = json!({
                "median_us": full_timing.median(),
                "min_us": full_timing.micros(0.0),
                "max_us": full_timing.micros(1.0),
                "runs": full_timing.runs.len(),
                "value_only_median_us": value_timing.median(),
                "value_only_min_us": value_timing.micros(0.0),
                "value_only_max_us": value_timing.micros(1.0),
                "value_only_runs": value_timing.runs.len(),
                "ratio": ratio,
                "output": gradient.output_name(),
                "wrt": names,
                "dims": dims,
            });
            if let (Some(steps), Some(object)) = (&profile, report.as_object_mut()) {
                let steps: Vec<_> = steps.iter().map(|(step, us)| json!({"step": step, "mean_us": us})).collect();
                object.insert("profile".to_string(), json!(steps));
            }
            format!("{report}\n")
        }
        Format::Text => {
            let line = |label: &str, t: &Timing| {
                format!(
                    "{label:<19} median {:>10} µs   min {:>10} µs   max {:>10} µs   ({} runs)\n",
                    figure(t.median()),
                    figure(t.micros(0.0)),
                    figure(t.micros(1.0)),
                    t.runs.len()
                )
            };
            let mut text = format!(
                "# bench {name}: ∂{}/∂({}) at {}\n# compiled, f64, random N(0, 1) inputs (seed {}); each figure is one call\n{}{}cost of the gradient: {ratio:.2}× the value alone\n",
                gradient.output_name(),
                names.join(", "),
                if sizes.is_empty() { "fixed sizes".to_string() } else { sizes.join(", ") },
                point.seed,
                line("value and gradient", &full_timing),
                line("value alone", &value_timing),
            );
            if let Some(steps) = &profile {
                let total: f64 = steps.iter().map(|(_, us)| us).sum();
                text.push_str(&format!("\n# the plan: {} steps, mean µs per run and share of the run\n", steps.len()));
                for (step, us) in steps {
                    text.push_str(&format!("{:>10} µs {:>5.1}%  {step}\n", figure(*us), 100.0 * us / total.max(1e-12)));
                }
            }
            text
        }
    })
}

/// Three significant figures at least, no exponent.
fn figure(micros: f64) -> String {
    if micros >= 100.0 {
        format!("{micros:.0}")
    } else if micros >= 10.0 {
        format!("{micros:.1}")
    } else {
        format!("{micros:.2}")
    }
}
