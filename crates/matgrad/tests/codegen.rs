//! Generated code, run: every module `Gradient::code` writes for the rule table, the
//! examples, the Matrix Cookbook identities and 200 random programs is executed by NumPy
//! and JAX (and PyTorch where it is installed) in one Python process per target, and its
//! value and gradients must agree with matgrad's interpreter to 1e-10 relative. The
//! modules also pass `py_compile` and `ruff check`, and a wrong shape raises a ValueError
//! naming the input and both shapes. With `hessian`, the modules of the second-order table
//! (`data/second_order.txt`) return every block as matgrad evaluates it, to 1e-10 relative.
//!
//! The Python is `$MATGRAD_PYTHON` (`.ci/run` makes a virtual environment with numpy, jax
//! and ruff), else `python3`. A missing library is a failure under `CI=true` and a loud
//! skip elsewhere; PyTorch, a 5 GB wheel, is run only where it is importable, and the test
//! says so when it is not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::common::{example, parse, random_inputs, random_program, sizes, RULE_TABLE};
use super::gradients::COOKBOOK;
use super::second_order;
use crate::eval::evaluate;
use crate::Target;

const TOLERANCE: f64 = 1e-10;

fn python() -> String {
    std::env::var("MATGRAD_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `module` imports in the test's Python; under CI a missing numpy or jax fails.
fn available(module: &str, required_in_ci: bool) -> bool {
    let status = Command::new(python()).args(["-c", &format!("import {module}")]).output();
    let ok = status.is_ok_and(|o| o.status.success());
    if !ok {
        assert!(!(required_in_ci && in_ci()), "CI=true but `{module}` does not import in {}", python());
        eprintln!(
            "SKIPPED: `{module}` does not import in {} (set MATGRAD_PYTHON); its generated code was not run",
            python()
        );
    }
    ok
}

/// Every case: a name, a program, and the variables.
fn cases() -> Vec<(String, String, Vec<String>)> {
    let mut cases: Vec<(String, String, Vec<String>)> = Vec::new();
    for (name, source) in RULE_TABLE {
        cases.push((format!("rule {name}"), source.to_string(), vec![]));
    }
    let examples = std::fs::read_dir(format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"))).expect("examples");
    let mut files: Vec<String> = examples
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".mg") || f.ends_with(".tex"))
        .collect();
    files.sort();
    for file in files {
        cases.push((format!("example {file}"), example(&file), vec![]));
    }
    for (identity, source, wrt) in COOKBOOK {
        cases.push((format!("cookbook {identity}"), source.to_string(), vec![wrt.to_string()]));
    }
    for seed in 0..200u64 {
        cases.push((format!("random {seed}"), random_program(seed, 1 + (seed % 8) as usize), vec![]));
    }
    cases
}

/// Writes each case's module for `target` and the cases file into `dir`; returns its path.
fn write_cases(dir: &Path, target: Target) -> PathBuf {
    let list = gradient_cases(dir, target);
    assert!(list.len() > 250, "most cases are finite: {}", list.len());
    let list: Vec<Value> = list.into_iter().chain(hessian_cases(dir, target)).collect();
    let file = dir.join("cases.json");
    std::fs::write(&file, serde_json::to_string(&list).expect("json")).expect("writes");
    file
}

/// The Hessians of the second-order table as modules with `hessian`: each block's numbers
/// are matgrad's, in JAX's layout, evaluated at the case's point.
fn hessian_cases(dir: &Path, target: Target) -> Vec<Value> {
    let mut list = Vec::new();
    for (i, case) in second_order::table().into_iter().filter(|c| c.hessian).enumerate() {
        let wrt: Vec<&str> = case.wrt.iter().map(String::as_str).collect();
        let program = case.program();
        let gradient = program.gradient(&wrt).expect("a gradient");
        let module = gradient.code_with_hessian(target).unwrap_or_else(|e| panic!("{}: {}", case.name, e.message));
        let path = dir.join(format!("hessian_{i}.py"));
        std::fs::write(&path, module).expect("writes");
        let point = case.point(HashMap::new(), i as u64);
        let blocks = case.blocks();
        let (entries, _) = blocks.entries(Some(&point), None).expect("evaluates");
        let n = blocks.wrt.len();
        let hessian: Vec<Vec<Value>> = (0..n)
            .map(|p| {
                (0..n)
                    .map(|q| serde_json::to_value(entries[p * n + q].value.as_ref().expect("a value")).expect("JSON"))
                    .collect()
            })
            .collect();
        let mut wanted = vec![gradient.program.output_node()];
        wanted.extend(gradient.wrt.iter().map(|w| w.gradient));
        let graph = &gradient.program.graph;
        let values = evaluate(graph, &point.sizes, &point.inputs, &wanted).expect("evaluates");
        list.push(json!({
            "name": format!("hessian {}", case.name),
            "module": path,
            "names": program.inputs.iter().map(|v| crate::print::unicode_name(&v.name)).collect::<Vec<_>>(),
            "arguments": program.inputs.iter().map(|v| point.inputs[&v.name].to_json()).collect::<Vec<_>>(),
            "value": values[0].to_json(),
            "grads": values[1..].iter().map(|v| v.to_json()).collect::<Vec<_>>(),
            "hessian": hessian,
            "check_shapes": true,
        }));
    }
    assert!(list.len() >= 10, "the table's Hessians: {}", list.len());
    list
}

/// The rule table's, the examples', the identities' and the random programs' modules.
fn gradient_cases(dir: &Path, target: Target) -> Vec<Value> {
    let mut list = Vec::new();
    for (i, (name, source, wrt)) in cases().into_iter().enumerate() {
        let wrt: Vec<&str> = wrt.iter().map(String::as_str).collect();
        let gradient = parse(&source).gradient(&wrt).expect("a gradient");
        let module = gradient.code(target).unwrap_or_else(|e| panic!("{name}: {}", e.render("case", &source)));
        let path = dir.join(format!("case_{i}.py"));
        std::fs::write(&path, module).expect("writes");
        let graph = &gradient.program.graph;
        let sizes = sizes(graph, 3);
        let inputs = random_inputs(graph, &sizes, i as u64);
        let mut wanted = vec![gradient.program.output_node()];
        wanted.extend(gradient.wrt.iter().map(|w| w.gradient));
        let values = evaluate(graph, &sizes, &inputs, &wanted).expect("evaluates");
        // A random composition can overflow; such a point compares nothing.
        if !values.iter().all(|v| v.data.iter().all(|x| x.is_finite() && x.abs() < 1e8)) {
            continue;
        }
        let program = &gradient.program;
        list.push(json!({
            "name": name,
            "module": path,
            "names": program.inputs.iter().map(|v| crate::print::unicode_name(&v.name)).collect::<Vec<_>>(),
            "arguments": program.inputs.iter().map(|v| inputs[&v.name].to_json()).collect::<Vec<_>>(),
            "value": values[0].to_json(),
            "grads": values[1..].iter().map(|v| v.to_json()).collect::<Vec<_>>(),
            "check_shapes": !name.starts_with("random"),
        }));
    }
    list
}

/// Runs the cases of `target` in one Python process; each case's result line.
fn run(target: Target, precision: &str) -> (PathBuf, Vec<Value>) {
    let dir =
        std::env::temp_dir().join(format!("matgrad-codegen-{}-{}-{precision}", std::process::id(), target.name()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    let cases = write_cases(&dir, target);
    let runner = format!("{}/tests/data/run_generated.py", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(python())
        .arg(&runner)
        .arg(&cases)
        .arg(target.name())
        .arg(precision)
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .expect("python runs");
    assert!(output.status.success(), "the runner failed: {}", String::from_utf8_lossy(&output.stderr));
    let results = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a result line"))
        .collect();
    (dir, results)
}

/// Every case's error within `tolerance`, every wrong shape reported.
fn assert_agree(target: Target, results: &[Value], tolerance: f64) {
    let mut failures = Vec::new();
    for result in results {
        let error = result["error"].as_f64().unwrap_or(f64::INFINITY);
        if error.is_nan() || error > tolerance {
            failures.push(format!(
                "{}: error {error:e} {}",
                result["name"],
                result.get("exception").unwrap_or(&Value::Null)
            ));
        }
        if let Some(message) = result.get("shape_error").and_then(Value::as_str) {
            failures.push(format!("{}: {message}", result["name"]));
        }
    }
    assert!(failures.is_empty(), "{} generated code disagrees:\n{}", target.name(), failures.join("\n"));
    let largest = results.iter().filter_map(|r| r["error"].as_f64()).fold(0.0_f64, f64::max);
    eprintln!(
        "{}: {} generated modules agree with matgrad to {tolerance:e} (largest relative error {largest:.1e})",
        target.name(),
        results.len()
    );
}

/// The modules pass `ruff check` with its default rules.
fn assert_lint_clean(dir: &Path) {
    if !available("ruff", true) {
        return;
    }
    let output = Command::new(python())
        .args(["-m", "ruff", "check", "--no-cache", "--quiet"])
        .arg(dir)
        .output()
        .expect("ruff runs");
    assert!(output.status.success(), "ruff check: {}", String::from_utf8_lossy(&output.stdout));
}

/// Runs `target`'s modules at full precision: they agree with matgrad and lint clean.
fn check_target(target: Target) {
    let (dir, results) = run(target, "x64");
    assert_agree(target, &results, TOLERANCE);
    assert_lint_clean(&dir);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn generated_numpy_agrees_with_matgrad() {
    if available("numpy", true) {
        check_target(Target::Numpy);
    }
}

#[test]
fn generated_jax_agrees_with_matgrad_under_jit_in_x64_and_x32() {
    if !available("jax", true) {
        return;
    }
    check_target(Target::Jax);
    // With x64 off JAX computes in float32: the same functions run and jit, to f32's precision.
    let (dir, results) = run(Target::Jax, "x32");
    let float32 = results.iter().filter(|r| r["dtype"] == "float32").count();
    assert_eq!(float32, results.len(), "x64 off computes in float32");
    let examples: Vec<Value> =
        results.into_iter().filter(|r| !r["name"].as_str().unwrap_or("").starts_with("random")).collect();
    assert_agree(Target::Jax, &examples, 1e-2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn generated_torch_agrees_with_matgrad_where_torch_is_installed() {
    if available("torch", false) {
        check_target(Target::Torch);
    } else {
        eprintln!("SKIPPED: PyTorch is not installed, so the generated PyTorch code was not run");
    }
}

/// What `value` of `source`'s NumPy module raises for each call in `calls` (Python
/// argument lists), one message a line.
fn shape_errors(source: &str, calls: &[&str]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("matgrad-codegen-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let module = parse(source).gradient(&[]).expect("a gradient").code(Target::Numpy).expect("a module");
    std::fs::write(dir.join("shapes_case.py"), module).expect("writes");
    let mut script = String::from("import numpy as np\nimport shapes_case\n");
    for call in calls {
        script.push_str(&format!(
            "try:\n    shapes_case.value({call})\n    print('no error')\nexcept ValueError as e:\n    print(e)\n"
        ));
    }
    let output = Command::new(python()).arg("-c").arg(&script).current_dir(&dir).output().expect("python runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect()
}

/// A wrong shape's message names the input, the shape the program expects in its own sizes
/// with the sizes already read (their values, and the argument each was read from), and the
/// shape given.
#[test]
fn a_wrong_shape_says_what_was_expected_in_the_programs_sizes() {
    if !available("numpy", true) {
        return;
    }
    let square = "x: vector(K)\nA: matrix(K, K)\nc: scalar\nL = c * x'*A*x";
    let messages = shape_errors(
        square,
        &["np.ones(3), np.ones((3, 4)), 1.0", "np.ones((3, 1)), np.eye(3), 1.0", "np.ones(3), np.eye(3), np.ones(2)"],
    );
    assert_eq!(
        messages,
        [
            "A: expected a matrix (K, K) with K = 3 from x, got (3, 4)",
            "x: expected a vector (K,), got (3, 1)",
            "c: expected a scalar, got (2,)",
        ]
    );
    let wide = "A: matrix(m, n)\nx: vector(n)\nB: matrix(m, n)\nL = sum(A*x) + sum(B*x)";
    let messages = shape_errors(
        wide,
        &["np.ones((2, 4)), np.ones(3), np.ones((2, 4))", "np.ones((2, 4)), np.ones(4), np.ones((3, 4))"],
    );
    assert_eq!(
        messages,
        [
            "x: expected a vector (n,) with n = 4 from A's columns, got (3,)",
            "B: expected a matrix (m, n) with m = 2 from A's rows, n = 4 from A's columns, got (3, 4)",
        ]
    );
}

/// A squared norm of an expression is computed from it once, as an argument: PyTorch's
/// `torch.sum(v * v)` of an inline `v` once read `A @ x - b * A @ x - b`. This runs where
/// PyTorch is not installed (CI), so the form is checked as text here and by value above.
#[test]
fn a_squared_norm_in_torch_takes_its_operand_once() {
    let source = "A: matrix(m, n)\nx: vector(n)\nb: vector(m)\nL = norm2(A*x - b)^2";
    let module = parse(source).gradient(&["x"]).expect("a gradient").code(Target::Torch).expect("a module");
    assert!(module.contains("torch.sum(torch.square(A @ x - b))"), "{module}");
}

/// A gradient that is an argument, or the same value as another gradient, is returned as a
/// copy (an in-place step on one must not change an input or the other); JAX's arrays are
/// immutable and need none.
#[test]
fn gradients_never_alias_the_arguments_or_each_other() {
    let source = "x, w, y: vector(n)\nL = w'*x + sum(y) + norm2(x + y)^2";
    let gradient = parse(source).gradient(&["w", "x", "y"]).expect("a gradient");
    let numpy = gradient.code(Target::Numpy).expect("a module");
    assert!(numpy.contains("return L, (x.copy(), grad_x, grad_y)"), "{numpy}");
    let alias = parse("x, y: vector(n)\nL = norm2(x + y)^2").gradient(&[]).expect("a gradient");
    let (numpy, torch) = (alias.code(Target::Numpy).expect("numpy"), alias.code(Target::Torch).expect("torch"));
    assert!(numpy.contains("(grad_x, grad_x.copy())"), "{numpy}");
    assert!(torch.contains("(grad_x, grad_x.clone())"), "{torch}");
    let jax = alias.code(Target::Jax).expect("jax");
    assert!(!jax.contains(".copy()") && !jax.contains(".clone()"), "{jax}");
}

/// Parameters are the program's names in ASCII: Python reads `ϵ` and `ε` (NFKC) as one
/// identifier, so the Greek letters are their names, `λ` the keyword `lambda_`.
#[test]
fn greek_parameters_are_their_names_and_stay_distinct() {
    let source = "x: vector(n)\nϵ, ε, ϕ, φ, λ: scalar\nL = ϵ*x'*x + 2*ε*sum(x) + 3*ϕ + 5*φ^2 + λ";
    let module = parse(source).gradient(&[]).expect("a gradient").code(Target::Numpy).expect("a module");
    assert!(module.contains("def value(x, epsilon, varepsilon, phi, varphi, lambda_):"), "{module}");
}
