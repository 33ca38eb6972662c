//! The command line as tools and people use it: exit codes, output formats, input files.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn matgrad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_matgrad")).args(args).current_dir(workspace()).output().expect("runs")
}

fn matgrad_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_matgrad"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(input).expect("writes");
    child.wait_with_output().expect("finishes")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn check_lists_variables_and_statements() {
    let output = matgrad(&["check", "examples/backprop.mg"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn check_reads_standard_input() {
    let output = matgrad_stdin(&["check", "-"], b"y = A*x\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("y = A*x"));
}

#[test]
fn user_mistakes_exit_2_with_a_caret() {
    let output = matgrad_stdin(&["check", "-"], b"x: vector(n)\nA: matrix(K, K)\ny = A*x\n");
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&output));
}

#[test]
fn binary_garbage_and_empty_files_are_clear_errors() {
    for input in [&b""[..], b"\xff\xfe\x00garbage", b"((((((((((", b"\n\n\n"] {
        let output = matgrad_stdin(&["check", "-"], input);
        assert_eq!(output.status.code(), Some(2), "{input:?}: {}", stderr(&output));
        assert!(stderr(&output).starts_with("error"), "{input:?}: {}", stderr(&output));
    }
}

#[test]
fn missing_file_is_a_user_error() {
    let output = matgrad(&["check", "no/such/file.mg"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read no/such/file.mg"));
}

#[test]
fn eval_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs = dir.path().join("inputs.json");
    std::fs::write(&inputs, r#"{"A": [[1, 2], [3, 4]], "x": [1, -1], "c": 0.5}"#).expect("writes");
    let output = matgrad_stdin(
        &["eval", "-", "--inputs", inputs.to_str().expect("utf-8"), "--format", "json"],
        b"y = A*x\nL = c*y'*y\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["output"], "L");
    assert_eq!(json["values"]["y"], serde_json::json!([-1.0, -1.0]));
    assert_eq!(json["values"]["L"], serde_json::json!(1.0));
}

#[test]
fn eval_with_a_wrong_input_shape_names_both_shapes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs = dir.path().join("inputs.json");
    std::fs::write(&inputs, r#"{"A": [[1, 2], [3, 4]], "x": [1, 2, 3]}"#).expect("writes");
    let output = matgrad_stdin(&["eval", "-", "--inputs", inputs.to_str().expect("utf-8")], b"y = A*x\n");
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&output));
}

/// A float64 C-order `.npy` file as NumPy writes it.
fn npy(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}").into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&header);
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

#[test]
fn eval_reads_npy_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.npy");
    let x = dir.path().join("x.npy");
    std::fs::write(&a, npy(&[2, 2], &[1.0, 2.0, 3.0, 4.0])).expect("writes");
    std::fs::write(&x, npy(&[2], &[1.0, -1.0])).expect("writes");
    let (a_arg, x_arg) = (format!("A={}", a.display()), format!("x={}", x.display()));
    let output =
        matgrad_stdin(&["eval", "-", "--inputs", &a_arg, "--inputs", &x_arg, "--format", "json"], b"y = A'*x\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["inputs"]["A"], serde_json::json!([[1.0, 2.0], [3.0, 4.0]]));
    // Aᵀx = [1·1 + 3·(−1), 2·1 + 4·(−1)]
    assert_eq!(json["values"]["y"], serde_json::json!([-2.0, -2.0]));
}

#[test]
fn eval_reads_npz_archives() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inputs.npz");
    let mut archive = zip::ZipWriter::new(std::fs::File::create(&path).expect("creates"));
    let options = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape, data) in [("A", &[2usize, 2][..], &[1.0, 2.0, 3.0, 4.0][..]), ("x", &[2][..], &[1.0, -1.0][..])] {
        archive.start_file(format!("{name}.npy"), options).expect("starts");
        archive.write_all(&npy(shape, data)).expect("writes");
    }
    archive.finish().expect("finishes");
    let output =
        matgrad_stdin(&["eval", "-", "--inputs", path.to_str().expect("utf-8"), "--format", "json"], b"y = A*x\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["values"]["y"], serde_json::json!([-1.0, -1.0]));
    assert!(json["random_inputs"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn grad_prints_closed_forms_and_checks_them() {
    let output = matgrad(&["grad", "examples/backprop.mg", "--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn grad_latex() {
    let output = matgrad(&["grad", "examples/backprop.mg", "--format", "latex"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn grad_json_has_the_documented_shape() {
    let output = matgrad(&["grad", "examples/backprop.mg", "--wrt", "A,B", "--dims", "K=3", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["output"], "L");
    assert!(json["value"].is_number());
    assert_eq!(json["wrt"], serde_json::json!(["A", "B"]));
    assert_eq!(json["gradients"]["A"]["shape"], serde_json::json!([3, 3]));
    assert!(json["gradients"]["A"]["expr"].is_string());
    assert!(json["gradients"]["A"]["latex"].is_string());
    assert_eq!(json["gradients"]["B"]["value"].as_array().map(Vec::len), Some(3));
    assert!(json["definitions"].is_object());
}

#[test]
fn grad_of_a_non_scalar_is_a_clear_error() {
    let output = matgrad_stdin(&["grad", "-"], b"y = A*x\n");
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&output));
}

#[test]
fn grad_with_respect_to_an_unknown_name() {
    let output = matgrad(&["grad", "examples/backprop.mg", "--wrt", "Q"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`Q` is not a variable of the program"), "{}", stderr(&output));
}

#[test]
fn hessian_prints_every_block_and_checks_it() {
    let output = matgrad(&["hessian", "examples/least_squares.mg", "--wrt", "x,A", "--dims", "m=3,n=2", "--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for needle in ["∂²L/∂x² = 2 (λ I + Aᵀ A)", "∂²L/∂x∂A", "map:   dA ↦", "index: H[i,j,k] =", "✓ x|x", "✓ A|A"]
    {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    let latex = stdout(&matgrad(&["hessian", "examples/least_squares.mg", "--wrt", "x", "--format", "latex"]));
    assert!(latex.contains("\\begin{aligned}") && latex.contains("\\mapsto"), "{latex}");
}

#[test]
fn jacobian_and_hessian_mistakes_name_the_option() {
    let cases: [(&[&str], &str); 4] = [
        (&["hessian", "examples/backprop.mg", "--of", "w"], "--of NAME"),
        (&["hessian", "examples/backprop.mg", "--wrt", "Q"], "--wrt takes"),
        (&["jacobian", "examples/backprop.mg", "--of", "Q"], "--of takes"),
        (&["jacobian", "examples/backprop.mg", "--of", "x"], "--of takes"),
    ];
    for (args, option) in cases {
        let output = matgrad(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(option), "{args:?}: {}", stderr(&output));
    }
    let output = matgrad(&["hessian", "examples/backprop.mg", "--of", "w"]);
    assert!(stderr(&output).contains("but a Hessian is of a scalar"), "{}", stderr(&output));
}

#[test]
fn unknown_dimension_in_dims_is_an_error() {
    let output = matgrad(&["eval", "examples/backprop.mg", "--dims", "Q=3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no dimension `Q`"), "{}", stderr(&output));
}

#[test]
fn the_readme_shows_what_grad_prints_for_each_example() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    for example in ["backprop.mg", "logistic_regression.mg", "softmax_cross_entropy.mg", "mlp.mg", "least_squares.mg"] {
        let output = matgrad(&["grad", &format!("examples/{example}")]);
        let closed_forms = stdout(&output);
        // The closed forms (everything before the numbers) must appear verbatim.
        let symbolic = closed_forms.split("\n# sizes").next().unwrap_or_default().trim_end();
        assert!(readme.contains(symbolic), "README is out of date for examples/{example}:\n{symbolic}");
    }
}

#[test]
fn the_readme_shows_what_codegen_prints_for_the_backprop_example() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let output = matgrad(&["codegen", "examples/backprop.mg", "--target", "numpy"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(readme.contains(printed.trim_end()), "README is out of date for codegen:\n{printed}");
}

#[test]
fn the_readme_shows_what_hessian_prints_for_logistic_regression() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let output = matgrad(&["hessian", "examples/logistic_regression.mg", "--wrt", "w,b"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(readme.contains(printed.trim_end()), "README is out of date for hessian:\n{printed}");
}

#[test]
fn the_readme_shows_what_verify_prints_for_the_seed_page() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let output = matgrad(&["verify", "crates/matgrad/tests/data/pages/backprop-question.txt"]);
    let printed = stdout(&output);
    assert!(readme.contains(printed.trim_end()), "README is out of date for verify:\n{printed}");
}

#[test]
fn explain_shows_three_views_checked() {
    let output = matgrad(&["explain", "examples/backprop.mg", "--dims", "K=3"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for needle in [
        "1. The computation graph",
        "2. Backpropagation",
        "3. Differentials",
        "A\u{304} = w\u{304} ∂w/∂A + z\u{304} ∂z/∂A + y\u{304} ∂y/∂A",
        "dy = dA x + A dx",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    assert!(!text.contains('✗'), "a step failed its check:\n{text}");
}

#[test]
fn explain_graph_as_dot_and_svg() {
    let dot = matgrad(&["explain", "examples/backprop.mg", "--graph", "dot"]);
    assert_eq!(dot.status.code(), Some(0), "{}", stderr(&dot));
    let dot = stdout(&dot);
    assert!(dot.starts_with("digraph"), "{dot}");
    // A (n1) feeds three nodes and x (n0) two.
    assert!(dot.contains("n1 [label=<<B>A</B>") && dot.contains("n0 [label=<<B>x</B>"), "{dot}");
    assert_eq!(dot.matches("n1 -> ").count(), 3, "{dot}");
    assert_eq!(dot.matches("n0 -> ").count(), 2, "{dot}");
    let svg = matgrad(&["explain", "examples/backprop.mg", "--graph", "svg"]);
    assert_eq!(svg.status.code(), Some(0), "{}", stderr(&svg));
    assert!(stdout(&svg).contains("<svg"));
}

#[test]
fn explain_writes_a_standalone_html_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("explain.html");
    let output = matgrad(&["explain", "examples/mlp2.mg", "--format", "html", "-o", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = std::fs::read_to_string(&path).expect("written");
    assert!(html.contains("<svg") && html.contains("<math"));
    assert!(!html.contains("src=\"http") && !html.contains("<script"));
}

#[test]
fn explain_of_a_non_scalar_is_a_clear_error() {
    let output = matgrad_stdin(&["explain", "-"], b"y = A*x\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("but a gradient is of a scalar"), "{}", stderr(&output));
}

#[test]
fn bench_json_has_the_documented_keys() {
    let args = ["bench", "examples/backprop.mg", "--dims", "K=8", "--wrt", "A,B", "--format", "json"];
    // A tiny budget keeps the test fast; the figures are not checked, only their shape.
    let output = matgrad(&[&args[..], &["--time", "0", "--min-runs", "3"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for key in ["median_us", "min_us", "max_us", "value_only_median_us"] {
        assert!(json[key].as_f64().is_some_and(|t| t > 0.0), "{key} in {json}");
    }
    let (min, median, max) = (json["min_us"].as_f64(), json["median_us"].as_f64(), json["max_us"].as_f64());
    assert!(min <= median && median <= max, "{json}");
    assert_eq!(json["wrt"], serde_json::json!(["A", "B"]));
    assert_eq!(json["dims"], serde_json::json!({"K": 8}));
}

#[test]
fn bench_times_hessian_vector_products_and_full_hessians() {
    for (mode, label, measures) in
        [("--hvp", "value, gradient, H·v", "hvp"), ("--hessian", "value, gradient, Hessian", "hessian")]
    {
        let args =
            ["bench", "examples/backprop.mg", "--dims", "K=8", "--wrt", "x", mode, "--time", "0", "--min-runs", "3"];
        let output = matgrad(&args);
        assert_eq!(output.status.code(), Some(0), "{mode}: {}", stderr(&output));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(label) && text.contains("compilation (differentiation included)"), "{mode}: {text}");
        let output = matgrad(&[&args[..], &["--format", "json"]].concat());
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        for key in ["median_us", "gradient_median_us", "compile_ms"] {
            assert!(json[key].as_f64().is_some_and(|t| t > 0.0), "{mode}: {key} in {json}");
        }
        assert_eq!(json["measures"], measures);
    }
    // A block with four axes has no matrix form: a clear mistake, exit 2.
    let output = matgrad(&["bench", "examples/backprop.mg", "--dims", "K=4", "--wrt", "A", "--hessian", "--time", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("no matrix form"), "{}", stderr(&output));
}

#[test]
fn bench_reports_mistakes_as_user_errors() {
    let output = matgrad(&["bench", "examples/backprop.mg", "--wrt", "Q", "--time", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`Q` is not a variable of the program"), "{}", stderr(&output));
}

const SEED_PAGE: &str = "crates/matgrad/tests/data/pages/backprop-question.txt";

#[test]
fn verify_checks_the_seed_page() {
    let output = matgrad(&["verify", SEED_PAGE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("the sum over the uses of A: w, z, y"), "{text}");
    assert!(text.contains("Every checked claim holds."), "{text}");
    assert!(!text.lines().any(|l| l.starts_with('✗')), "{text}");
}

#[test]
fn verify_json_keeps_its_contract() {
    let output = matgrad(&["verify", SEED_PAGE, "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(json["output"], "L");
    let claims = json["claims"].as_array().expect("claims");
    assert!(claims.len() > 40, "{}", claims.len());
    for claim in claims {
        for key in ["line", "column", "source", "kind", "verdict", "relative_error", "note"] {
            assert!(claim.get(key).is_some(), "{key} missing in {claim}");
        }
        let kinds = ["gradient", "differential", "equation", "statement", "chain_rule", "definition"];
        assert!(kinds.contains(&claim["kind"].as_str().unwrap_or("")), "{claim}");
        assert!(["holds", "fails", "unchecked"].contains(&claim["verdict"].as_str().unwrap_or("")), "{claim}");
    }
    // Line and column locate the claim's right side in the file.
    let page = std::fs::read_to_string(workspace().join(SEED_PAGE)).expect("page");
    let dy = claims.iter().find(|c| c["source"] == r"dy = dA\:x + A\:dx").expect("dy");
    let line = page.lines().nth(dy["line"].as_u64().unwrap_or(1) as usize - 1).unwrap_or("");
    let column = dy["column"].as_u64().unwrap_or(1) as usize - 1;
    assert!(line.chars().skip(column).collect::<String>().starts_with(r"dA\:x + A\:dx"), "{dy}");
}

#[test]
fn verify_exits_1_on_a_failing_claim_and_2_on_an_unreadable_page() {
    let page = std::fs::read_to_string(workspace().join(SEED_PAGE)).expect("page");
    let wrong = page.replace(r"\cgrad{L}{B} &= 2rx^T", r"\cgrad{L}{B} &= 2xr^T");
    let output = matgrad_stdin(&["verify", "-"], wrong.as_bytes());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("holds only transposed"), "{}", stdout(&output));
    assert!(stderr(&output).contains("a claim fails"), "{}", stderr(&output));
    let output = matgrad_stdin(&["verify", "-"], b"$$y = \\foo x$$");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn a_closed_stdout_ends_quietly_and_a_full_disk_is_an_error() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_matgrad"))
        .args(["verify", SEED_PAGE])
        .current_dir(workspace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take()); // the reader goes away before the output is written
    let output = child.wait_with_output().expect("waits");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_matgrad"))
            .args(["grad", "examples/backprop.mg"])
            .current_dir(workspace())
            .stdout(full)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("cannot write the output"), "{}", stderr(&output));
    }
}

#[test]
fn bad_option_values_are_mistakes() {
    for args in [
        &["grad", "examples/backprop.mg", "--tol", "-1"][..],
        &["grad", "examples/backprop.mg", "--tol", "NaN", "--check"],
        &["grad", "examples/backprop.mg", "--wrt", "A,A"],
        &["grad", "examples/backprop.mg", "--wrt", "A,,B"],
        &["eval", "examples/backprop.mg", "--dims", "K=100000000"],
        &["eval", "examples/backprop.mg", "--dims", "K=18446744073709551615"],
    ] {
        let output = matgrad(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
    let output = matgrad(&["eval", "examples/backprop.mg", "--dims", "K=100000000"]);
    assert!(stderr(&output).contains("more than the budget"), "{}", stderr(&output));
    let output = matgrad(&["grad", "examples/backprop.mg", "--wrt", "A, B"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn gradients_with_respect_to_an_intermediate_are_checked() {
    let output = matgrad(&["grad", "examples/backprop.mg", "--wrt", "y,A", "--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("✓ y:"), "{}", stdout(&output));
    let output = matgrad(&["explain", "examples/backprop.mg", "--wrt", "y"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The second order holds the intermediate as `hessian` does, every step checked.
    let output = matgrad(&["explain", "examples/backprop.mg", "--wrt", "y,A", "--hessian"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("dy = dA x + v_y") && printed.contains("d(∂L/∂y) = "), "{printed}");
}

#[test]
fn explain_exits_1_when_a_step_fails_its_check() {
    let output = matgrad_stdin(&["explain", "-"], b"x: vector(n)\nL = sum(log(x))\n");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("disagree"), "{}", stdout(&output));
    assert!(!stdout(&output).contains("every step above agrees"), "{}", stdout(&output));
}

#[test]
fn large_checks_run_in_random_directions() {
    let output = matgrad(&["grad", "examples/backprop.mg", "--check", "--dims", "K=300"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn an_output_that_no_input_reaches_has_nothing_to_explain() {
    for command in ["explain", "verify", "grad"] {
        let output = matgrad_stdin(&[command, "-"], b"L = 3\n");
        assert!(matches!(output.status.code(), Some(0 | 2)), "{command}: {}", stderr(&output));
        assert!(!stderr(&output).contains("crashed"), "{command}: {}", stderr(&output));
    }
}

/// `--format json` is the library's report serialised: byte for byte what
/// `matgrad::api::answer` gives for the same question, for every bundled example and every
/// question, so another front end (the web page) gives the same bytes.
#[test]
fn json_output_is_the_librarys_report() {
    use matgrad::api::{answer, Query, Question};
    let examples = std::fs::read_dir(workspace().join("examples")).expect("examples");
    let mut names: Vec<String> =
        examples.map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let path = format!("examples/{name}");
        let source = std::fs::read_to_string(workspace().join(&path)).expect("reads");
        let query = Query { source, seed: 3, ..Query::default() };
        let questions = [
            ("check", Question::Check, vec![]),
            ("eval", Question::Eval, vec!["--seed", "3"]),
            ("grad", Question::Grad, vec!["--seed", "3"]),
            ("jacobian", Question::Jacobian, vec!["--seed", "3"]),
            ("hessian", Question::Hessian, vec!["--seed", "3"]),
            ("explain", Question::Explain, vec!["--seed", "3"]),
            ("verify", Question::Verify, vec!["--seed", "3"]),
        ];
        for (command, question, options) in questions {
            let mut args = vec![command, path.as_str(), "--format", "json"];
            args.extend(options);
            let output = matgrad(&args);
            assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
            let report = answer(question, &query).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(stdout(&output) == report.to_json(), "{args:?} differs from the library's report");
        }
    }
}

#[test]
fn every_independent_syntax_error_is_shown() {
    let output = matgrad_stdin(&["check", "-"], b"x: vector(n)\ny = x ! 2\nz = 2*x\nw = 3 ^^ x\nL = sum(z)\n");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert_eq!(text.matches("error:").count(), 2, "{text}");
    assert!(text.contains("<stdin>:2:7") && text.contains("<stdin>:4:8"), "{text}");
}

#[test]
fn memory_the_machine_cannot_give_is_an_error_not_an_abort() {
    // 8 GB of ones is within the budget; under a 2 GiB address-space limit the machine cannot
    // give it, which was an allocation abort in the middle of the evaluation.
    let program = std::env::temp_dir().join(format!("matgrad-memory-{}.mg", std::process::id()));
    std::fs::write(&program, "L = sum(𝟙_{1000000000})\n").expect("writes");
    let command = format!("ulimit -v 2097152 && exec '{}' eval '{}'", env!("CARGO_BIN_EXE_matgrad"), program.display());
    let output = Command::new("sh").args(["-c", &command]).output().expect("runs");
    let _ = std::fs::remove_file(&program);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("this machine could not give it"), "{}", stderr(&output));
}
