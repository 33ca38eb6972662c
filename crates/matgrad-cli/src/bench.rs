//! `matgrad bench`: times the compiled value-and-gradient evaluation of a program, and the
//! value alone, at one point; with `--hvp`, the value, gradient and Hessian-vector product
//! against the value and gradient; with `--hessian`, the full Hessian from its closed form.
//!
//! Each figure is the wall time of one call of [`matgrad::Compiled::run`] (or
//! [`matgrad::CompiledHvp::run`]; the input checks included), after a warm-up; the report
//! gives the median and the spread (min, max) over all timed runs, which last at least
//! `--time` seconds and `--min-runs` runs. The compilation (differentiation included) is
//! timed apart, once.

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
    /// Time the value, gradient and Hessian-vector product H·v (random N(0, 1) directions)
    /// against the value and gradient.
    #[arg(long, conflicts_with_all = ["hessian", "newton"])]
    hvp: bool,
    /// Time the value, gradient and every block of the Hessian, from its closed form,
    /// against the value and gradient.
    #[arg(long, conflicts_with = "newton")]
    hessian: bool,
    /// Time a Newton step for one vector or scalar variable (value, gradient g, Hessian H from its
    /// closed form, H⁻¹ g by LU) against the value and gradient.
    #[arg(long)]
    newton: bool,
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
    time_runs(|| compiled.run(inputs, &mut outputs), time, min_runs)
}

/// Times `run` as [`measure`] says: a warm-up, then at least `time` seconds and `min_runs` runs.
fn time_runs(
    mut run: impl FnMut() -> Result<(), matgrad::Error>,
    time: f64,
    min_runs: usize,
) -> Result<Timing, Failure> {
    let mut run = || run().map_err(|e| Failure::user(e.to_string()));
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

/// What is timed against what: the first measurement and the one it is compared with.
struct Measured {
    /// `value and gradient`, `value, gradient, H·v`, …
    labels: [&'static str; 2],
    timings: [Timing; 2],
    /// How the ratio of the two is said: `cost of the gradient: 2.1× the value alone`.
    ratio_text: &'static str,
    /// The compilation's wall time in ms, of the first measurement's plan.
    compile_ms: Option<f64>,
    /// The bytes of the first measurement's outputs and intermediates.
    memory_bytes: usize,
    profile: Option<Vec<(String, f64)>>,
}

pub fn run(args: BenchArgs) -> Result<String, Failure> {
    let (name, query) = crate::query(&args.file, args.point.of.clone(), &args.wrt, Some(&args.point), true)?;
    let library = |e: matgrad::Error| Failure::library(e, &name, &query.source);
    let program = query.program().map_err(library)?;
    let wrt: Vec<&str> = query.wrt.iter().map(String::as_str).collect();
    let started = Instant::now();
    let gradient = program.gradient(&wrt).map_err(library)?;
    let gradient_ms = started.elapsed().as_secs_f64() * 1e3;
    let point = query.point(gradient.program()).map_err(library)?;
    let dims: Vec<(&str, usize)> = point.sizes.iter().collect();
    let inputs: Vec<(&str, &[f64])> =
        point.inputs.iter().map(|(name, array): (&String, &Array)| (name.as_str(), array.data.as_slice())).collect();
    let runs_for = |median: f64| ((args.time * 1e6 / median) as usize).clamp(3, 100_000);
    let user = |e: matgrad::Error| Failure::user(e.to_string());
    let measured = if args.hvp {
        let started = Instant::now();
        let hvp = gradient.compile_hvp(&dims).map_err(library)?;
        let compile_ms = gradient_ms + started.elapsed().as_secs_f64() * 1e3;
        let full = gradient.compile(&dims).map_err(library)?;
        let directions = hvp.random_directions(point.seed);
        let directions: Vec<(&str, &[f64])> = directions.iter().map(|(n, a)| (n.as_str(), a.data.as_slice())).collect();
        let mut outputs = hvp.outputs();
        let timing = time_runs(|| hvp.run(&inputs, &directions, &mut outputs), args.time, args.min_runs)?;
        let gradient_timing = measure(&full, &inputs, args.time, args.min_runs)?;
        let profile = match args.profile {
            true => Some(hvp.profile(&inputs, &directions, &mut outputs, runs_for(timing.median())).map_err(user)?),
            false => None,
        };
        Measured {
            labels: ["value, gradient, H·v", "value and gradient"],
            timings: [timing, gradient_timing],
            ratio_text: "cost of H·v: {ratio}× the value and gradient",
            compile_ms: Some(compile_ms),
            memory_bytes: hvp.memory_bytes(),
            profile,
        }
    } else if args.hessian || args.newton {
        let started = Instant::now();
        let hessian = program.hessian(&wrt).map_err(library)?;
        let compiled = match args.newton {
            true => hessian.compile_newton(&dims),
            false => hessian.compile(&dims),
        }
        .map_err(library)?;
        let compile_ms = started.elapsed().as_secs_f64() * 1e3;
        let full = gradient.compile(&dims).map_err(library)?;
        let timing = measure(&compiled, &inputs, args.time, args.min_runs)?;
        let gradient_timing = measure(&full, &inputs, args.time, args.min_runs)?;
        let profile = match args.profile {
            true => {
                let mut outputs = compiled.outputs();
                Some(compiled.profile(&inputs, &mut outputs, runs_for(timing.median())).map_err(user)?)
            }
            false => None,
        };
        Measured {
            labels: [
                if args.newton { "value, gradient, H⁻¹g" } else { "value, gradient, Hessian" },
                "value and gradient",
            ],
            timings: [timing, gradient_timing],
            ratio_text: if args.newton {
                "cost of the Newton step: {ratio}× the value and gradient"
            } else {
                "cost of the Hessian: {ratio}× the value and gradient"
            },
            compile_ms: Some(compile_ms),
            memory_bytes: compiled.memory_bytes(),
            profile,
        }
    } else {
        let full = gradient.compile(&dims).map_err(library)?;
        let value = gradient.program().compile(&dims).map_err(library)?;
        let full_timing = measure(&full, &inputs, args.time, args.min_runs)?;
        let value_timing = measure(&value, &inputs, args.time, args.min_runs)?;
        let profile = match args.profile {
            // About as many runs as the timing took, so the profile costs as long again.
            true => {
                let mut outputs = full.outputs();
                Some(full.profile(&inputs, &mut outputs, runs_for(full_timing.median())).map_err(user)?)
            }
            false => None,
        };
        Measured {
            labels: ["value and gradient", "value alone"],
            timings: [full_timing, value_timing],
            ratio_text: "cost of the gradient: {ratio}× the value alone",
            compile_ms: None,
            memory_bytes: full.memory_bytes(),
            profile,
        }
    };
    let names: Vec<&str> = gradient.wrt_names().collect();
    let sizes: Vec<String> = dims.iter().map(|(symbol, size)| format!("{symbol} = {size}")).collect();
    let [first, second] = &measured.timings;
    let ratio = first.median() / second.median();
    let profile = &measured.profile;
    Ok(match args.format {
        Format::Json => {
            let dims: serde_json::Map<String, serde_json::Value> =
                dims.iter().map(|&(symbol, size)| (symbol.to_string(), json!(size))).collect();
            // The keys of the plain bench are kept (tools read them); `--hvp` and
            // `--hessian` say what the first measurement is and name the second by what it is.
            let second_key = if args.hvp || args.hessian || args.newton { "gradient" } else { "value_only" };
            let mut report = json!({
                "median_us": first.median(),
                "min_us": first.micros(0.0),
                "max_us": first.micros(1.0),
                "runs": first.runs.len(),
                format!("{second_key}_median_us"): second.median(),
                format!("{second_key}_min_us"): second.micros(0.0),
                format!("{second_key}_max_us"): second.micros(1.0),
                format!("{second_key}_runs"): second.runs.len(),
                "ratio": ratio,
                "output": gradient.output_name(),
                "wrt": names,
                "dims": dims,
            });
            if let Some(object) = report.as_object_mut() {
                let measuring = match (args.hvp, args.hessian, args.newton) {
                    (true, _, _) => "hvp",
                    (_, true, _) => "hessian",
                    (_, _, true) => "newton",
                    _ => "gradient",
                };
                object.insert("measures".to_string(), json!(measuring));
                if let Some(ms) = measured.compile_ms {
                    object.insert("compile_ms".to_string(), json!(ms));
                }
                object.insert("memory_bytes".to_string(), json!(measured.memory_bytes));
                if let Some(steps) = profile {
                    let steps: Vec<_> = steps.iter().map(|(step, us)| json!({"step": step, "mean_us": us})).collect();
                    object.insert("profile".to_string(), json!(steps));
                }
            }
            format!("{report}\n")
        }
        Format::Text => {
            let width = measured.labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(19);
            let line = |label: &str, t: &Timing| {
                format!(
                    "{label:<width$} median {:>10} µs   min {:>10} µs   max {:>10} µs   ({} runs)\n",
                    figure(t.median()),
                    figure(t.micros(0.0)),
                    figure(t.micros(1.0)),
                    t.runs.len()
                )
            };
            let what = if args.hvp {
                "H·v, ∂"
            } else if args.hessian {
                "∂²"
            } else if args.newton {
                "H⁻¹g, ∂"
            } else {
                "∂"
            };
            let mut text = format!(
                "# bench {name}: {what}{}/∂({}) at {}\n# compiled, f64, random N(0, 1) inputs (seed {}); each figure is one call\n{}{}{}\n",
                gradient.output_name(),
                names.join(", "),
                if sizes.is_empty() { "fixed sizes".to_string() } else { sizes.join(", ") },
                point.seed,
                line(measured.labels[0], first),
                line(measured.labels[1], second),
                measured.ratio_text.replace("{ratio}", &format!("{ratio:.2}")),
            );
            if let Some(ms) = measured.compile_ms {
                text.push_str(&format!("compilation (differentiation included): {ms:.1} ms, once\n"));
            }
            text.push_str(&format!(
                "memory for results and intermediates: {:.2} MiB\n",
                measured.memory_bytes as f64 / 1048576.0
            ));
            if let Some(steps) = profile {
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
