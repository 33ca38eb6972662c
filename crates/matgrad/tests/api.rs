//! The public API as a front end uses it: queries in, reports and errors out, as data.
//! Nothing here reaches past the façade (`matgrad::api`, `matgrad::report`, `Program`).

use matgrad::api::{answer, Query, Question};
use matgrad::{Array, ErrorKind, Program};
use serde_json::Value;

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const EXAMPLES: [&str; 9] = [
    "backprop.mg",
    "backprop.unicode.mg",
    "backprop.tex",
    "least_squares.mg",
    "logistic_regression.mg",
    "mlp.mg",
    "mlp2.mg",
    "shared_weight.mg",
    "softmax_cross_entropy.mg",
];

fn json(question: Question, query: &Query) -> Value {
    let report = answer(question, query).unwrap_or_else(|e| panic!("{question:?}: {}", e.render("q", &query.source)));
    serde_json::from_str(&report.to_json()).expect("a report is JSON")
}

/// Every number of a value, in order.
fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        other => other.as_f64().into_iter().collect(),
    }
}

fn query(source: &str) -> Query {
    Query { source: source.to_string(), ..Query::default() }
}

#[test]
fn every_example_answers_every_question_with_checked_gradients() {
    for name in EXAMPLES {
        let query = Query { check: true, ..query(&example(name)) };
        let grad = json(Question::Grad, &query);
        assert_eq!(grad["check"]["passed"], true, "{name}: {}", grad["check"]);
        let gradients = grad["gradients"].as_object().expect("gradients");
        assert!(!gradients.is_empty(), "{name}");
        for (variable, entry) in gradients {
            for form in ["expr", "latex", "ascii", "mathml"] {
                assert!(entry[form].as_str().is_some_and(|f| !f.is_empty()), "{name}: {variable} has no {form}");
            }
            assert!(entry["mathml"].as_str().is_some_and(|m| m.starts_with("<math>")), "{name}: {variable}");
            assert!(!entry["value"].is_null(), "{name}: {variable} has no value");
        }
        let check = json(Question::Check, &query);
        assert_eq!(check["output"], grad["output"], "{name}");
        assert!(check["statements"].as_array().is_some_and(|s| !s.is_empty()), "{name}");
        assert_eq!(check["inputs"], grad["inputs"], "{name}: one reading of the inputs");
        let explain = json(Question::Explain, &query);
        assert_eq!(explain["passed"], true, "{name}: {}", explain["failures"]);
        let titles: Vec<&str> = explain["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s["title"].as_str().unwrap_or(""))
            .collect();
        assert!(titles.iter().any(|t| t.contains("computation graph")), "{name}: {titles:?}");
        assert!(titles.iter().any(|t| t.contains("Backpropagation")), "{name}: {titles:?}");
        assert!(titles.iter().any(|t| t.contains("Differentials")), "{name}: {titles:?}");
        assert!(explain["svg"].as_str().is_some_and(|s| s.contains("<svg") && s.contains("</svg>")), "{name}");
        let eval = json(Question::Eval, &query);
        assert_eq!(eval["values"][grad["output"].as_str().expect("a name")], grad["value"], "{name}");
        let hessian = json(Question::Hessian, &query);
        assert_eq!(hessian["check"]["passed"], true, "{name}: {}", hessian["check"]);
        assert_eq!(hessian["wrt"], grad["wrt"], "{name}");
        let jacobian = json(Question::Jacobian, &query);
        assert_eq!(jacobian["check"]["passed"], true, "{name}: {}", jacobian["check"]);
        // The Jacobian of a scalar is its gradient, in the gradient's shape.
        for (variable, entry) in gradients {
            let block = &jacobian["jacobian"][variable];
            assert_eq!(block["shape"], entry["shape"], "{name}: ∂L/∂{variable}");
            let (ours, theirs) = (numbers(&block["value"]), numbers(&entry["value"]));
            let scale = theirs.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
            let close =
                ours.len() == theirs.len() && ours.iter().zip(&theirs).all(|(a, b)| (a - b).abs() <= 1e-12 * scale);
            assert!(close, "{name}: ∂L/∂{variable}: {ours:?} vs {theirs:?}");
        }
    }
}

/// The contract tooling relies on: `{"output", "wrt", "jacobian": {x: BLOCK}}` and
/// `{"output", "wrt", "hessian": {p: {q: BLOCK}}}`, each BLOCK with its shape (the value's
/// followed by the variable's), nested-list value, and its forms.
#[test]
fn jacobian_and_hessian_reports_have_jaxs_layout() {
    let source = "x: vector(n)\nA: matrix(m, n)\ny = tanh(A*x)\nL = sum(y.^2)";
    let dims = [("n".to_string(), 3), ("m".to_string(), 2)].into();
    let query = Query { of: Some("y".into()), dims, ..query(source) };
    let jacobian = json(Question::Jacobian, &query);
    assert_eq!(jacobian["output"], "y");
    assert_eq!(jacobian["wrt"], serde_json::json!(["x", "A"]));
    let x = &jacobian["jacobian"]["x"];
    assert_eq!(x["shape"], serde_json::json!([2, 3]));
    assert_eq!(x["value"].as_array().map(|rows| rows.len()), Some(2));
    assert_eq!(x["value"][0].as_array().map(|row| row.len()), Some(3));
    for form in ["expr", "latex", "ascii", "mathml", "map", "index"] {
        assert!(x[form].as_str().is_some_and(|f| !f.is_empty()), "x has no {form}: {x}");
    }
    let a = &jacobian["jacobian"]["A"];
    assert_eq!(a["shape"], serde_json::json!([2, 2, 3]));
    assert!(a["expr"].is_null() && a["map"].is_string() && a["index"].is_string(), "{a}");
    let hessian = json(Question::Hessian, &Query { of: None, ..query.clone() });
    assert_eq!(hessian["output"], "L");
    assert_eq!(hessian["hessian"]["x"]["x"]["shape"], serde_json::json!([3, 3]));
    assert_eq!(hessian["hessian"]["x"]["A"]["shape"], serde_json::json!([3, 2, 3]));
    assert_eq!(hessian["hessian"]["A"]["x"]["shape"], serde_json::json!([2, 3, 3]));
    assert_eq!(hessian["hessian"]["A"]["A"]["shape"], serde_json::json!([2, 3, 2, 3]));
    // Mixed blocks are each other's transposes: H[x][A][i,j,k] = H[A][x][j,k,i].
    let (xa, ax) = (&hessian["hessian"]["x"]["A"]["value"], &hessian["hessian"]["A"]["x"]["value"]);
    for i in 0..3 {
        for j in 0..2 {
            for k in 0..3 {
                let (p, q) = (xa[i][j][k].as_f64().expect("a number"), ax[j][k][i].as_f64().expect("a number"));
                assert!((p - q).abs() <= 1e-12 * (1.0 + p.abs()), "{p} vs {q}");
            }
        }
    }
    let not_scalar = answer(Question::Hessian, &query).expect_err("y is a vector");
    assert_eq!(not_scalar.kind, ErrorKind::Request);
    assert!(not_scalar.message.contains("a Hessian is of a scalar"), "{}", not_scalar.message);
    assert!(!not_scalar.hint.as_deref().unwrap_or("").contains("--"), "no flags in the library's words");
}

#[test]
fn the_seed_page_is_verified_through_the_api() {
    let page = include_str!("data/pages/backprop-question.txt");
    let verify = json(Question::Verify, &query(page));
    assert_eq!(verify["output"], "L");
    assert!(
        verify["summary"].as_str().is_some_and(|s| s.starts_with("45 hold, 0 fail, 1 unchecked")),
        "{}",
        verify["summary"]
    );
    assert_eq!(verify["claims"].as_array().map(Vec::len), Some(46));
}

#[test]
fn a_query_reads_from_json_with_defaults_and_refuses_unknown_fields() {
    let query: Query = serde_json::from_str(r#"{"source": "x: vector(n)\nL = sum(x.^2)", "inputs": {"x": [1, 2, 3]}}"#)
        .expect("a query");
    let grad = json(Question::Grad, &query);
    assert_eq!(grad["value"], 14.0);
    assert_eq!(grad["gradients"]["x"]["value"], serde_json::json!([2.0, 4.0, 6.0]));
    assert_eq!(grad["gradients"]["x"]["shape"], serde_json::json!([3]));
    assert_eq!(grad["sizes"]["n"], 3);
    assert!(serde_json::from_str::<Query>(r#"{"source": "y = x", "size": 3}"#).is_err());
    assert!(serde_json::from_str::<Query>(r#"{"source": "y = x", "inputs": {"x": [[1], [2, 3]]}}"#).is_err());
}

#[test]
fn every_independent_syntax_error_is_reported_with_its_place() {
    let source = "x: vector(n)\ny = x ! 2\nz = 2*x\nw = 3 ^^ x\nL = sum(z)";
    let error = Program::parse(source).expect_err("two bad statements");
    assert_eq!(error.kind, ErrorKind::Reading);
    assert_eq!(error.others.len(), 1, "{}", error.render("p", source));
    let report = error.report(source);
    let lines: Vec<usize> = report.errors.iter().map(|e| e.start.expect("a place").line).collect();
    assert_eq!(lines, vec![2, 4]);
    assert!(report.errors.iter().all(|e| e.rendered.contains("^")), "each rendered with a caret");
    assert_eq!(error.render("p", source).matches("error:").count(), 2);
}

#[test]
fn mistakes_in_the_question_and_the_inputs_have_their_kinds_and_no_flags_in_messages() {
    let kind = |question, query: &Query| answer(question, query).expect_err("a mistake");
    let not_scalar = kind(Question::Grad, &query("x: vector(n)\ny = 2*x"));
    assert_eq!(not_scalar.kind, ErrorKind::Request);
    assert!(not_scalar.span.is_none());
    let unknown = kind(Question::Grad, &Query { wrt: vec!["Q".into()], ..query("x: vector(n)\nL = sum(x)") });
    assert_eq!(unknown.kind, ErrorKind::Request);
    let twice =
        kind(Question::Grad, &Query { wrt: vec!["x".into(), " x".into()], ..query("x: vector(n)\nL = sum(x)") });
    assert_eq!(twice.kind, ErrorKind::Request);
    let mut huge = query("A: matrix(n, n)\nL = sum(A)");
    huge.dims.insert("n".into(), 1 << 20);
    let memory = kind(Question::Grad, &huge);
    assert_eq!(memory.kind, ErrorKind::Input);
    assert!(memory.message.contains("GiB") || memory.message.contains("memory"), "{}", memory.message);
    let mut small = query("A: matrix(n, n)\nL = sum(A)");
    small.dims.insert("n".into(), 1000);
    assert!(answer(Question::Grad, &small).is_ok(), "8 MB is within the default budget");
    small.memory_budget = 1 << 20;
    let over = kind(Question::Grad, &small);
    assert!(over.message.contains("more than the budget of 1 MiB"), "{}", over.message);
    // A Hessian's block of a matrix has its size squared: log det X at n = 150 has
    // 22 500 × 22 500 entries, refused before any is computed, where the program's own
    // arrays fit easily; the closed forms alone need no point.
    let mut blocks = query("X: matrix(n, n)\nL = logdet(X)");
    blocks.dims.insert("n".into(), 150);
    let dense = kind(Question::Hessian, &blocks);
    assert_eq!(dense.kind, ErrorKind::Input);
    assert!(dense.message.contains("22500 × 22500") && dense.message.contains("budget"), "{}", dense.message);
    blocks.dims.insert("n".into(), 3);
    assert!(answer(Question::Hessian, &blocks).is_ok(), "81 entries");
    // Y = X X at n = 40: 25 KiB of arrays, a 1600 × 1600 Jacobian; the server's budget.
    let mut square = query("X: matrix(n, n)\nY = X*X");
    (square.dims, square.memory_budget) = ([("n".to_string(), 40)].into_iter().collect(), 1 << 20);
    let jacobian = kind(Question::Jacobian, &square);
    assert_eq!(jacobian.kind, ErrorKind::Input);
    assert!(jacobian.message.contains("more than the budget of 1 MiB"), "{}", jacobian.message);
    let shape = kind(Question::Check, &query("x: vector(n)\nA: matrix(m, m)\ny = A*x"));
    assert_eq!(shape.kind, ErrorKind::Shape);
    for error in [&not_scalar, &unknown, &twice, &memory, &dense, &shape] {
        let text = format!("{} {}", error.message, error.hint.as_deref().unwrap_or(""));
        assert!(!text.contains("--"), "a library message names a flag: {text}");
    }
    let bad_tolerance = kind(Question::Grad, &Query { check: true, tol: -1.0, ..query("x: vector(n)\nL = sum(x)") });
    assert_eq!(bad_tolerance.kind, ErrorKind::Request);
}

#[test]
fn a_program_answers_many_questions_without_being_consumed() {
    let program = Program::parse(&example("backprop.mg")).expect("parses");
    let first = program.gradient(&["A"]).expect("a gradient").report(None, None).expect("a report");
    let second = program.gradient(&["A"]).expect("again").report(None, None).expect("a report");
    assert_eq!(first.gradients["A"].forms, second.gradients["A"].forms);
    let point = program.point(&[("K".to_string(), 3)], Default::default(), 7).expect("a point");
    assert_eq!(point.random, program.input_names().map(str::to_string).collect::<Vec<_>>());
    let explained = program.explain(&[]).expect("explains").at(&point).expect("evaluates");
    assert!(explained.failures().is_empty());
    assert_eq!(program.output_name(), "L");
}

#[test]
fn arrays_come_from_row_major_or_column_major_data() {
    let rows = Array::from_row_major(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).expect("2×3");
    let columns = Array::from_column_major(2, 3, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]).expect("2×3");
    assert_eq!(rows, columns);
    assert_eq!(rows.get(0, 2), 3.0);
    assert_eq!(serde_json::to_value(&rows).expect("JSON"), serde_json::json!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
    assert!(Array::from_row_major(2, 2, &[1.0]).is_none());
}

#[test]
fn a_question_past_its_time_limit_ends_soon_with_its_own_kind() {
    use std::time::{Duration, Instant};
    // Thousands of finite-difference steps: far longer than the limit.
    let mut slow = Query { check: true, ..query(&example("backprop.mg")) };
    slow.dims.insert("K".into(), 60);
    slow.time_limit = Some(Duration::from_millis(50));
    let start = Instant::now();
    let error = answer(Question::Grad, &slow).expect_err("past the limit");
    assert_eq!(error.kind, ErrorKind::TimeLimit, "{error}");
    assert!(start.elapsed() < Duration::from_secs(2), "ended soon after the limit: {:?}", start.elapsed());
    let report = error.report(&slow.source);
    assert_eq!(serde_json::to_value(&report).expect("JSON")["error"]["kind"], "time_limit");
    // The limit was the call's: the next question on this thread has none.
    slow.time_limit = None;
    slow.check = false;
    assert!(answer(Question::Grad, &slow).is_ok());
}

#[test]
fn an_array_whose_data_does_not_fit_its_shape_is_a_mistake_not_a_crash() {
    let program = Program::parse("x: vector(n)\nA: matrix(n, n)\nL = x'*A*x").expect("parses");
    let broken = Array { rows: 2, cols: 2, data: vec![1.0] };
    let error = program.point(&[], [("A".to_string(), broken.clone())].into(), 0).expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Input);
    assert!(error.message.contains("holds 1 entries"), "{}", error.message);
    let empty = Array::vector(Vec::new());
    assert!(program.point(&[], [("x".to_string(), empty)].into(), 0).is_err());
    assert!(matgrad::report::show("A", &broken).contains("holding 1 entries"));
}

#[test]
fn thousands_of_bad_lines_give_a_bounded_report() {
    let source: String = (0..5000).map(|i| format!("y{i} = x +* 2\n")).collect();
    let error = Program::parse(&source).expect_err("every line is wrong");
    assert_eq!(error.all().count(), matgrad::MAX_ERRORS);
    let last = error.all().last().expect("a last error");
    assert!(last.message.starts_with("4981 more errors"), "{}", last.message);
    assert_eq!(error.report(&source).errors.len(), matgrad::MAX_ERRORS);
}

#[test]
fn a_lone_carriage_return_ends_a_line_in_places_and_renderings() {
    let source = "x: vector(n)\ry = x +* 2\rL = sum(x)";
    let error = Program::parse(source).expect_err("line 2 is wrong");
    let start = error.report(source).error.start.expect("a place");
    assert_eq!((start.line, start.column), (2, 8));
    let rendered = error.render("p", source);
    assert!(rendered.contains("p:2:8") && rendered.contains("2 │ y = x +* 2"), "{rendered}");
}

#[test]
fn values_keep_their_shape_in_json_whatever_the_sizes() {
    let source = "W: matrix(m, n)\nx: vector(n)\nL = sum(W*x)";
    let mut q = query(source);
    q.dims.insert("m".into(), 3);
    q.dims.insert("n".into(), 1);
    let grad = json(Question::Grad, &q);
    assert_eq!(grad["gradients"]["W"]["shape"], serde_json::json!([3, 1]));
    let rows = grad["gradients"]["W"]["value"].as_array().expect("rows");
    assert!(rows.len() == 3 && rows.iter().all(|r| r.as_array().is_some_and(|r| r.len() == 1)), "{rows:?}");
    assert_eq!(grad["gradients"]["x"]["shape"], serde_json::json!([1]));
    assert!(grad["gradients"]["x"]["value"].as_array().is_some_and(|v| v.len() == 1));
    let eval = json(Question::Eval, &q);
    assert!(eval["inputs"]["x"].is_array() && eval["values"]["L"].is_number(), "{eval}");
    // A value undefined at the point is written as JavaScript reads it, and read back.
    let undefined = json(Question::Grad, &Query { check: true, ..query("x: vector(n)\nL = sum(log(x))") });
    assert!(undefined["check"]["errors"]["x"].is_string(), "{}", undefined["check"]);
    let back: Array = serde_json::from_str(r#"["NaN", "Infinity", 1]"#).expect("an array");
    assert!(back.data[0].is_nan() && back.data[1] == f64::INFINITY);
}

#[test]
fn the_variables_of_a_gradient_are_checked_by_the_library() {
    let program = Program::parse("x: vector(n)\nL = sum(x)").expect("parses");
    assert_eq!(program.gradient(&["x", "x"]).expect_err("twice").kind, ErrorKind::Request);
    assert_eq!(program.gradient(&[" x "]).expect("trimmed").wrt_names().collect::<Vec<_>>(), ["x"]);
    let gradient = program.gradient(&[]).expect("a gradient");
    let point = program.point(&[], Default::default(), 0).expect("a point");
    assert_eq!(gradient.report(Some(&point), Some(-1.0)).expect_err("a bad tolerance").kind, ErrorKind::Request);
}

#[test]
fn an_assigned_name_is_a_variable_of_its_own_uses() {
    // The graph shares equal expressions: `e` and the `exp(x)` written out are one value,
    // but ∂L/∂e counts the uses of `e` only (1 per entry, not 2), and ∂L/∂x both.
    let shared = Program::parse("x: vector(n)\ne = exp(x)\nL = sum(e) + sum(exp(x))").expect("parses");
    let point = shared.point(&[("n".to_string(), 3)], Default::default(), 0).expect("a point");
    let report = shared.gradient(&["e", "x"]).expect("a gradient").report(Some(&point), Some(1e-6)).expect("a report");
    let value = |name: &str| report.gradients[name].value.as_ref().expect("a value").data.clone();
    assert_eq!(value("e"), [1.0, 1.0, 1.0]);
    for (x, dx) in point.inputs["x"].data.iter().zip(value("x")) {
        assert!((dx - 2.0 * x.exp()).abs() < 1e-12, "{dx} against 2 exp({x})");
    }
    assert!(report.check.expect("checked").passed);
    // The statement is printed as written, not as the value it shares.
    assert_eq!(report.expression.expr, "sum(e) + sum(exp(x))");

    // A second name for a value that is not a variable is a variable of its own uses too.
    let alias = Program::parse("x: vector(n)\nz = 2*x\ny = z\nL = sum(y.^2) + sum(z)").expect("parses");
    let mut q = query(alias.source());
    q.wrt = vec!["y".into()];
    assert_eq!(json(Question::Grad, &q)["gradients"]["y"]["expr"], "2 y");
    // A second name for an input, or for another variable, cannot be moved apart from it.
    for (wrt, other) in [(&["z", "y"][..], "z"), (&["y"][..], "x")] {
        let source = if other == "x" { "x: vector(n)\ny = x\nL = sum(y.^2)" } else { alias.source() };
        let program = Program::parse(source).expect("parses");
        let error = program.gradient(wrt).expect_err("an alias of a variable");
        assert_eq!(error.kind, ErrorKind::Request);
        assert!(error.message.contains(&format!("`y` is another name for `{other}`")), "{}", error.message);
        assert!(program.hessian(wrt).is_err() && program.jacobian(wrt).is_err(), "every derivative reads wrt alike");
    }
    // A constant is folded into the numbers derivatives build, so it is refused.
    let constant = Program::parse("x: vector(n)\nc = 2\nL = c*sum(x.^2) + c").expect("parses");
    let error = constant.gradient(&["c"]).expect_err("a constant");
    assert!(error.message.contains("`c` is a constant"), "{}", error.message);
    assert!(constant.hessian(&["c"]).is_err() && constant.jacobian(&["c"]).is_err());
}

#[test]
fn a_caller_may_name_things_in_the_programs_own_spelling() {
    let source = "x: vector(n)\nλ: scalar\nW₁: matrix(n, n)\nL = λ * sum(W₁*x)";
    let mut q = query(source);
    q.wrt = vec!["λ".into(), "W₁".into()];
    q.inputs.insert("λ".into(), Array::scalar(2.0));
    let grad = json(Question::Grad, &q);
    assert_eq!(grad["wrt"], serde_json::json!(["lambda", "W_1"]));
    let program = Program::parse(source).expect("parses");
    let point = program.point(&[], [("λ".to_string(), Array::scalar(2.0))].into(), 0).expect("λ is an input");
    assert!(!point.random.contains(&"lambda".to_string()), "{:?}", point.random);
    assert!(program.gradient(&["\\lambda"]).is_ok());
    // And in matgrad's: a program's `W1` is printed W₁, and `W_1` names it too (a program
    // cannot have two names that print alike).
    let plain = Program::parse("x: vector(n)\nW1: matrix(n, n)\nL = sum(W1*x)").expect("parses");
    for spelling in ["W₁", "W_1", "W1"] {
        let names: Vec<String> = plain.gradient(&[spelling]).expect(spelling).wrt_names().map(String::from).collect();
        assert_eq!(names, ["W1"], "{spelling}");
    }
}

#[test]
fn the_explanation_keeps_the_gradients_names() {
    for name in EXAMPLES {
        let q = query(&example(name));
        let grad = json(Question::Grad, &q);
        let explain = json(Question::Explain, &q);
        let text = explain["text"].as_str().expect("text");
        for (letter, forms) in grad["definitions"].as_object().expect("definitions") {
            // The same node, so the same value; its form may use the explanation's further
            // names (`p = (W₃ᵀ (o − t)) ⊙ r` with `r = 1 − h₂²`), so the whole form is
            // compared when the explanation named nothing inside it.
            let line = format!("{} = {}", letter, forms["expr"].as_str().expect("expr"));
            let defined = text.lines().find(|l| l.trim_start().starts_with(&format!("{letter} = ")));
            let defined = defined.unwrap_or_else(|| panic!("{name}: the explanation does not define {letter}"));
            // The rules cited after the form (`   by elementwise-order`) are not part of it.
            let defined = defined.split_once("   by ").map_or(defined, |(form, _)| form);
            let nested = explain_names(text).iter().any(|n| n != letter && defined.contains(n.as_str()));
            assert!(nested || defined.trim() == line, "{name}: `{defined}` is not `{line}`");
        }
        // Each view that is shown alone says what its names are.
        let sections = explain["sections"].as_array().expect("sections");
        if !grad["definitions"].as_object().expect("definitions").is_empty() {
            for section in &sections[1..] {
                assert!(section["html"].as_str().is_some_and(|h| h.contains("where")), "{name}: {}", section["title"]);
            }
        }
    }
}

/// The names an explanation's text defines under `where`.
fn explain_names(text: &str) -> Vec<String> {
    let after = text.split("\nwhere\n").nth(1).unwrap_or("");
    after
        .lines()
        .take_while(|l| !l.starts_with("Checked"))
        .filter_map(|l| l.trim().split_once(" = ").map(|(n, _)| n.to_string()))
        .collect()
}
