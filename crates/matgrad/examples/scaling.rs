//! How each command's time grows with the program: programs of 1k, 2k, 4k and 8k statements
//! of four shapes, timed through parsing, the gradient, printing it, and the explanation as
//! text and as HTML, with the growth exponent of each (log₂ of the time ratio per doubling,
//! fitted by least squares; 1 is linear, 2 quadratic). Not run by CI:
//!
//! ```text
//! cargo run --release -p matgrad --example scaling [-- SIZE… ] [--shape NAME] [--stage NAME]
//! ```

#[path = "../tests/common/shapes.rs"]
mod shapes;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use matgrad::{Point, Program};
use shapes::Shape;

#[global_allocator]
static ALLOCATOR: matgrad::AlignedAlloc = matgrad::AlignedAlloc;

const STAGES: [&str; 5] = ["parse", "gradient", "print", "explain text", "explain html"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes: Vec<usize> = Vec::new();
    let mut only_shape = None;
    let mut only_stage = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--shape" => {
                only_shape = args.get(i + 1).cloned();
                i += 1;
            }
            "--stage" => {
                only_stage = args.get(i + 1).cloned();
                i += 1;
            }
            size => sizes.push(size.parse().expect("a size, --shape NAME or --stage NAME")),
        }
        i += 1;
    }
    if sizes.is_empty() {
        sizes = vec![1000, 2000, 4000, 8000];
    }
    // Big programs recurse nowhere: the benchmark runs on a thread with the default 2 MiB.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run(&sizes, only_shape.as_deref(), only_stage.as_deref()))
        .expect("a thread")
        .join()
        .expect("no panic");
}

fn run(sizes: &[usize], only_shape: Option<&str>, only_stage: Option<&str>) {
    println!(
        "| shape | stage | {} | exponent |",
        sizes.iter().map(|n| format!("n = {n}")).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|---|{}---|", "---|".repeat(sizes.len()));
    for shape in Shape::ALL {
        if only_shape.is_some_and(|s| !shape.name().contains(s)) {
            continue;
        }
        let mut times: Vec<[Duration; 5]> = Vec::new();
        for &n in sizes {
            times.push(time_stages(shape, n, only_stage));
        }
        for (k, stage) in STAGES.iter().enumerate() {
            if only_stage.is_some_and(|s| s != *stage) {
                continue;
            }
            let row: Vec<f64> = times.iter().map(|t| t[k].as_secs_f64()).collect();
            let cells: Vec<String> = row.iter().map(|&t| format_time(t)).collect();
            println!("| {} | {stage} | {} | {:.2} |", shape.name(), cells.join(" | "), exponent(sizes, &row));
        }
    }
}

/// The time of each stage on a program of `n` statements of `shape`; each stage starts from
/// a fresh parse, so that none pays for another's work.
fn time_stages(shape: Shape, n: usize, only_stage: Option<&str>) -> [Duration; 5] {
    let source = shape.program(n);
    let parse = || Program::parse(&source).expect("the program parses");
    let wanted = |stage: &str| only_stage.is_none_or(|s| s == stage);
    let mut times = [Duration::ZERO; 5];
    if wanted("parse") {
        times[0] = timed(|| drop(parse()));
    }
    if wanted("gradient") {
        let program = parse();
        times[1] = timed(|| drop(program.gradient(&[]).expect("a gradient")));
    }
    if wanted("print") {
        let gradient = parse().gradient(&[]).expect("a gradient");
        // The closed forms in every notation, as `grad --format json` writes them.
        times[2] = timed(|| drop(std::hint::black_box(gradient.report(None, None).expect("a report"))));
    }
    if wanted("explain text") {
        let program = parse();
        times[3] = timed(|| {
            let explained = program.explain(&[]).expect("an explanation").at(&point(&program)).expect("evaluates");
            std::hint::black_box(explained.text());
        });
    }
    if wanted("explain html") {
        let program = parse();
        times[4] = timed(|| {
            let explained = program.explain(&[]).expect("an explanation").at(&point(&program)).expect("evaluates");
            std::hint::black_box(explained.html());
        });
    }
    times
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// The point `matgrad explain` evaluates at: every dimension 4, every input drawn with
/// seed 0.
fn point(program: &Program) -> Point {
    program.point(&[], HashMap::new(), 0).expect("a point")
}

/// The least-squares slope of log₂ time against log₂ size.
fn exponent(sizes: &[usize], times: &[f64]) -> f64 {
    let points: Vec<(f64, f64)> =
        sizes.iter().zip(times).filter(|(_, &t)| t > 0.0).map(|(&n, &t)| ((n as f64).log2(), t.log2())).collect();
    let count = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let covariance: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    covariance / variance
}

fn format_time(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else {
        format!("{:.1} ms", seconds * 1e3)
    }
}
