//! The compactness benchmark of issue 14: for every gradient of `data/compactness.txt`
//! (the Matrix Cookbook's first-order identities and common losses, each with the closed
//! form a careful person writes), the reference is checked against matgrad's gradient at a
//! random point, and the size of matgrad's closed form is compared with the reference's.
//!
//! Sizes are [`matgrad::report::size`] of the ASCII text on both sides: the operations and
//! leaves of its syntax tree. matgrad's size is its closed form's plus, once each, the
//! definitions it introduces and uses (`where p = …`), followed through definitions that
//! use others; a use of a name is a leaf on either side.
//!
//! `cargo test -p matgrad --test compactness -- --nocapture` prints the table and the
//! figures that `bench/README.md` reports. Every entry must read, every reference must agree
//! with matgrad's gradient, and the ratios must meet issue 14's targets.

use std::collections::HashMap;
use std::fmt::Write;

use matgrad::report::{size, Extent};
use matgrad::{Array, Program};

/// Issue 14's targets for the ratio of matgrad's size to the reference's.
const TARGET_MEDIAN: f64 = 1.0;
const TARGET_P90: f64 = 1.2;
const TARGET_MAX: f64 = 2.0;

/// A reference agrees with matgrad's gradient to this relative error (of the larger entry).
const TOLERANCE: f64 = 1e-9;
const SEED: u64 = 14;

/// One program of the corpus and its gradients' references.
struct Entry {
    title: String,
    line: usize,
    program: String,
    /// Inputs drawn as |N(0, 1)| + ½, for `log`, `sqrt` and powers.
    positive: Vec<String>,
    /// Sizes chosen by the entry (`% dims: n=5, k=3`: a tall matrix whose Gram matrix is
    /// invertible); the other symbols get 3, 4, 5, … in order of appearance.
    dims: Vec<(String, usize)>,
    /// `(variable, reference)` in the file's order.
    references: Vec<(String, String)>,
}

/// One gradient measured.
struct Measured {
    title: String,
    wrt: String,
    form: String,
    /// The introduced names the form uses, with their ASCII definitions.
    definitions: Vec<(String, String)>,
    reference: String,
    ours: usize,
    theirs: usize,
}

impl Measured {
    fn ratio(&self) -> f64 {
        self.ours as f64 / self.theirs as f64
    }
}

/// `=== title`, optional `% positive: a, b` and `% dims: n=5`, program lines, `wrt x: reference` lines; lines
/// before the first entry are comments.
fn entries() -> Vec<Entry> {
    let text = include_str!("data/compactness.txt");
    let mut entries: Vec<Entry> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if let Some(title) = line.strip_prefix("=== ") {
            entries.push(Entry {
                title: title.trim().to_string(),
                line: number + 1,
                program: String::new(),
                positive: Vec::new(),
                dims: Vec::new(),
                references: Vec::new(),
            });
            continue;
        }
        let Some(entry) = entries.last_mut() else { continue };
        if let Some(names) = line.strip_prefix("% positive:") {
            entry.positive.extend(names.split(',').map(|n| n.trim().to_string()));
        } else if let Some(dims) = line.strip_prefix("% dims:") {
            for pair in dims.split(',') {
                let (symbol, size) = pair.split_once('=').unwrap_or_else(|| panic!("line {}: `n=5`", number + 1));
                let size = size.trim().parse().unwrap_or_else(|_| panic!("line {}: a size", number + 1));
                entry.dims.push((symbol.trim().to_string(), size));
            }
        } else if let Some(rest) = line.strip_prefix("wrt ") {
            let (variable, reference) =
                rest.split_once(':').unwrap_or_else(|| panic!("line {}: `wrt x: …`", number + 1));
            entry.references.push((variable.trim().to_string(), reference.trim().to_string()));
        } else if !line.trim().is_empty() {
            entry.program.push_str(line);
            entry.program.push('\n');
        }
    }
    entries
}

/// The names in an ASCII expression.
fn names(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// The point: each dimension symbol its own size (3, 4, 5, …), so that a reference of the
/// wrong shape cannot agree by accident; inputs random, `positive` ones made positive.
fn point_of(program: &Program, entry: &Entry) -> Result<matgrad::Point, String> {
    let mut sizes: Vec<(String, usize)> = entry.dims.clone();
    for reading in program.check_report().inputs.values() {
        for extent in &reading.shape {
            if let Extent::Symbol(symbol) = extent {
                if !sizes.iter().any(|(s, _)| s == symbol) {
                    let free = (3..).find(|n| !sizes.iter().any(|(_, m)| m == n)).unwrap_or(3);
                    sizes.push((symbol.clone(), free));
                }
            }
        }
    }
    let mut point = program.point(&sizes, HashMap::new(), SEED).map_err(|e| e.message)?;
    for name in &entry.positive {
        let array = point.inputs.get_mut(name).ok_or_else(|| format!("`% positive: {name}` is not an input"))?;
        let positive = Array::from_fn(array.rows, array.cols, |i, j| array.get(i, j).abs() + 0.5);
        *array = positive;
    }
    Ok(point)
}

/// Every gradient of `entry`, its reference checked at a random point and both sizes.
fn measure(entry: &Entry) -> Result<Vec<Measured>, String> {
    let program = Program::parse(&entry.program).map_err(|e| e.render("entry", &entry.program))?;
    let point = point_of(&program, entry)?;
    let wrt: Vec<&str> = entry.references.iter().map(|(w, _)| w.as_str()).collect();
    let gradient = program.gradient(&wrt).map_err(|e| e.message)?;
    let report = gradient.report(Some(&point), None).map_err(|e| e.message)?;
    // The references are statements appended to the program, evaluated at the same inputs;
    // matgrad's forms come from the program alone, so that no reference names its nodes.
    let mut augmented = entry.program.clone();
    for (i, (_, reference)) in entry.references.iter().enumerate() {
        let _ = writeln!(augmented, "reference{i} = {reference}");
    }
    let with_references = Program::parse(&augmented).map_err(|e| e.render("entry", &augmented))?;
    if !with_references.input_names().eq(program.input_names()) {
        return Err("a reference uses a name the program does not have".to_string());
    }
    let sizes: Vec<(String, usize)> = point.sizes.iter().map(|(s, n)| (s.to_string(), n)).collect();
    let there = with_references.point(&sizes, point.inputs.clone(), SEED).map_err(|e| e.message)?;
    let values = with_references.evaluate(&there).map_err(|e| e.message)?;
    let mut measured = Vec::new();
    for (i, (variable, reference)) in entry.references.iter().enumerate() {
        let ours = &report.gradients[variable.as_str()];
        let value = ours.value.as_ref().ok_or("no value")?;
        let expected = &values.values[format!("reference{i}").as_str()];
        if value.shape != expected.shape {
            return Err(format!(
                "∂/∂{variable}: the reference's shape {:?}, the gradient's {:?}",
                expected.shape, value.shape
            ));
        }
        let scale = value.data.iter().chain(&expected.data).fold(1e-12_f64, |m, v| m.max(v.abs()));
        let error = value.data.iter().zip(&expected.data).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs())) / scale;
        if error.is_nan() || error > TOLERANCE {
            return Err(format!(
                "∂/∂{variable}: the reference `{reference}` differs from matgrad's `{}` by {error:.1e}",
                ours.forms.ascii
            ));
        }
        let form = ours.forms.ascii.clone();
        let mut definitions: Vec<(String, String)> = Vec::new();
        let mut pending: Vec<String> = names(&form).map(str::to_string).collect();
        while let Some(name) = pending.pop() {
            if let Some(definition) = report.definitions.get(&name) {
                if !definitions.iter().any(|(n, _)| *n == name) {
                    pending.extend(names(&definition.ascii).map(str::to_string));
                    definitions.push((name, definition.ascii.clone()));
                }
            }
        }
        definitions.sort();
        let sized = |text: &str| size(text).map_err(|e| format!("`{text}` does not read back: {}", e.message));
        let mut our_size = sized(&form)?;
        for (_, definition) in &definitions {
            our_size += sized(definition)?;
        }
        measured.push(Measured {
            title: entry.title.clone(),
            wrt: variable.clone(),
            form,
            definitions,
            reference: reference.clone(),
            ours: our_size,
            theirs: sized(reference)?,
        });
    }
    Ok(measured)
}

/// The median and the 90th percentile (nearest rank) of sorted ratios.
fn median_and_p90(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    let rank = (0.9 * n as f64).ceil() as usize;
    (median, sorted[rank.max(1) - 1])
}

/// The table, every gradient in the file's order, then the figures and the worst 15.
fn table(measured: &[Measured]) -> String {
    let mut out = String::from("| entry | ∂/∂ | matgrad | reference | sizes | ratio |\n|---|---|---|---|---:|---:|\n");
    let row = |out: &mut String, m: &Measured| {
        let mut form = format!("`{}`", m.form);
        for (name, definition) in &m.definitions {
            let _ = write!(form, " where `{name} = {definition}`");
        }
        let _ = writeln!(
            out,
            "| {} | {} | {form} | `{}` | {} / {} | {:.2} |",
            m.title.replace('|', "\\|"),
            m.wrt,
            m.reference,
            m.ours,
            m.theirs,
            m.ratio()
        );
    };
    for m in measured {
        row(&mut out, m);
    }
    let mut ratios: Vec<f64> = measured.iter().map(Measured::ratio).collect();
    ratios.sort_by(f64::total_cmp);
    let (median, p90) = median_and_p90(&ratios);
    let above = |limit: f64| ratios.iter().filter(|&&r| r > limit).count();
    let _ = writeln!(
        out,
        "\n{} gradients: median {median:.2}, 90th percentile {p90:.2}, max {:.2}; above 1.2: {}, above 2: {}",
        ratios.len(),
        ratios.last().copied().unwrap_or(0.0),
        above(1.2),
        above(2.0)
    );
    let mut worst: Vec<&Measured> = measured.iter().collect();
    worst.sort_by(|a, b| b.ratio().total_cmp(&a.ratio()));
    out.push_str(
        "\nthe 15 worst:\n\n| entry | ∂/∂ | matgrad | reference | sizes | ratio |\n|---|---|---|---|---:|---:|\n",
    );
    for m in worst.into_iter().take(15) {
        row(&mut out, m);
    }
    out
}

#[test]
fn a_size_counts_operations_and_leaves_in_any_spelling() {
    let sized = |text: &str| size(text).unwrap_or_else(|e| panic!("{text}: {}", e.message));
    assert_eq!(sized("2*A'*x"), 6);
    assert_eq!(sized("2 Aᵀ x"), 6);
    assert_eq!(sized("(inv(X))'"), 3);
    assert_eq!(sized("ones(m, n) + eye(n)"), 3, "constructors are leaves");
    assert!(size("2*").is_err() && size("y = x").is_err());
}

#[test]
fn every_reference_agrees_with_matgrad_and_the_sizes_are_reported() {
    let entries = entries();
    assert!(entries.len() >= 160, "{} entries", entries.len());
    let mut measured = Vec::new();
    let mut failures = Vec::new();
    for entry in &entries {
        if entry.references.is_empty() {
            failures.push(format!("line {} ({}): no `wrt` line", entry.line, entry.title));
        }
        match measure(entry) {
            Ok(gradients) => measured.extend(gradients),
            Err(message) => failures.push(format!("line {} ({}): {message}", entry.line, entry.title)),
        }
    }
    assert!(failures.is_empty(), "{} of {} entries fail:\n{}", failures.len(), entries.len(), failures.join("\n"));
    assert!(measured.len() >= 150, "{} gradients", measured.len());
    println!("{}", table(&measured));
    let mut ratios: Vec<f64> = measured.iter().map(Measured::ratio).collect();
    ratios.sort_by(f64::total_cmp);
    let (median, p90) = median_and_p90(&ratios);
    let max = ratios.last().copied().unwrap_or(0.0);
    assert!(median <= TARGET_MEDIAN, "median {median:.2} > {TARGET_MEDIAN}");
    assert!(p90 <= TARGET_P90, "90th percentile {p90:.2} > {TARGET_P90}");
    assert!(max <= TARGET_MAX, "max {max:.2} > {TARGET_MAX}");
}
