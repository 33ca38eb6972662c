//! `matgrad serve`'s API through the real binary: status codes, every limit, and the same
//! JSON as the command's `--format json` for every question.

mod common;

use std::time::{Duration, Instant};

use common::{example, matgrad, query, Server};
use serde_json::{json, Value};

const EXAMPLES: &[&str] = &[
    "examples/backprop.mg",
    "examples/backprop.unicode.mg",
    "examples/backprop.tex",
    "examples/logistic_regression.mg",
    "examples/softmax_cross_entropy.mg",
    "examples/least_squares.mg",
    "examples/mlp.mg",
    "examples/mlp2.mg",
    "examples/shared_weight.mg",
];

const PAGE: &str = "crates/matgrad/tests/data/pages/backprop-question.txt";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn grad_answers_the_same_bytes_as_the_command() {
    let server = Server::start(&[]);
    for file in EXAMPLES {
        let (status, body) = server.post("grad", query(&example(file), json!({})));
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body, matgrad(&["grad", file, "--format", "json"]), "{file}");
        let (status, body) = server.post("grad", query(&example(file), json!({"check": true, "seed": 3})));
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body, matgrad(&["grad", file, "--format", "json", "--check", "--seed", "3"]), "{file}");
    }
}

#[test]
fn check_and_explain_answer_the_same_bytes_as_the_command() {
    let server = Server::start(&[]);
    for file in EXAMPLES.iter().chain([&PAGE]) {
        for question in ["check", "explain"] {
            let (status, body) = server.post(question, query(&example(file), json!({})));
            assert_eq!(status, 200, "{question} {file}: {body}");
            assert_eq!(body, matgrad(&[question, file, "--format", "json"]), "{question} {file}");
        }
    }
}

#[test]
fn verify_answers_the_same_bytes_as_the_command() {
    let server = Server::start(&[]);
    // The seed page, and the same page with an error planted (q and r swapped), whose claims
    // fail from the first one that uses them.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let planted = dir.path().join("planted.txt");
    let page = example(PAGE).replace("q = VA^TA^Tw", "q = UA^TA^Tw").replace("r = UA^TA^Tw", "r = VA^TA^Tw");
    std::fs::write(&planted, page).expect("writes the page");
    for file in [PAGE, planted.to_str().expect("UTF-8"), "examples/backprop.tex"] {
        let (status, body) = server.post("verify", query(&example(file), json!({})));
        assert_eq!(status, 200, "{file}: {body}");
        assert_eq!(body, matgrad(&["verify", file, "--format", "json"]), "{file}");
    }
    let (_, body) = server.post("verify", query(&example(planted.to_str().unwrap()), json!({})));
    assert!(body.contains("\"verdict\": \"fails\""), "the planted error is found");
}

#[test]
fn every_question_answers_the_examples() {
    let server = Server::start(&[]);
    for file in EXAMPLES.iter().chain([&PAGE]) {
        for question in ["check", "grad", "explain", "verify"] {
            let (status, body) = server.post(question, query(&example(file), json!({"check": true})));
            assert_eq!(status, 200, "{question} {file}: {body}");
            assert_eq!(json(&body)["output"], "L", "{question} {file}");
        }
    }
}

#[test]
fn a_mistake_in_the_program_is_422_with_its_place() {
    let server = Server::start(&[]);
    let source = "x: vector(n)\nA: matrix(K, K)\ny = A*x\nL = norm2(y)^2\n";
    let (status, body) = server.post("grad", query(source, json!({})));
    assert_eq!(status, 422, "{body}");
    let error = &json(&body)["error"];
    assert_eq!(error["kind"], "shape");
    assert_eq!(error["start"], json!({"line": 3, "column": 5}), "{error}");
    assert_eq!(error["end"], json!({"line": 3, "column": 8}), "{error}");
    let span = &error["span"];
    let (start, end) = (span["start"].as_u64().unwrap() as usize, span["end"].as_u64().unwrap() as usize);
    assert_eq!(&source[start..end], "A*x");
    assert!(error["message"].as_str().unwrap().contains("K×K"), "{error}");
    assert!(error["hint"].is_string(), "{error}");

    // Columns count characters, spans bytes: `θ` is one column and two bytes.
    let (status, body) = server.post("check", query("θ = A*x +\n", json!({})));
    assert_eq!(status, 422, "{body}");
    let error = &json(&body)["error"];
    assert_eq!(error["start"], json!({"line": 1, "column": 9}), "{error}");
    assert_eq!(error["span"]["start"].as_u64(), Some(9), "{error}");
}

#[test]
fn a_malformed_request_is_400_and_an_unknown_question_404() {
    let server = Server::start(&[]);
    for body in
        ["", "{", "[1, 2]", r#"{"source": 3}"#, r#"{"sourc": "y = x"}"#, r#"{"source": "y = x", "dims": {"n": -1}}"#]
    {
        let (status, text) = server.post("grad", body);
        assert_eq!(status, 400, "{body}: {text}");
        let error = &json(&text)["error"];
        assert_eq!(error["kind"], "request", "{body}");
        assert!(error["message"].as_str().unwrap().starts_with("not a valid request"), "{text}");
    }
    let (status, text) = server.post("integrate", query("y = x", json!({})));
    assert_eq!(status, 404, "{text}");
    assert!(json(&text)["error"]["message"].as_str().unwrap().contains("integrate"));
}

#[test]
fn a_body_over_1_mib_is_413() {
    let server = Server::start(&[]);
    // A request of exactly `bytes` bytes: a program after a long comment.
    let request = |bytes: usize| {
        let empty = query("#\nL = x'*x\n", json!({}));
        let request = query(&format!("#{}\nL = x'*x\n", "-".repeat(bytes - empty.len())), json!({}));
        assert_eq!(request.len(), bytes);
        request
    };
    let (status, text) = server.post("grad", request((1 << 20) + 1));
    assert_eq!(status, 413, "{}", &text[..text.len().min(300)]);
    let error = &json(&text)["error"];
    assert_eq!(
        (error["kind"].as_str(), error["message"].as_str()),
        (Some("request"), Some("the request is larger than 1 MiB"))
    );
    let (status, text) = server.post("grad", request(1 << 20));
    assert_eq!(status, 200, "{}", &text[..text.len().min(300)]);
}

#[test]
fn sizes_over_the_memory_budget_are_refused_before_anything_is_computed() {
    let server = Server::start(&[]);
    let started = Instant::now();
    let (status, text) =
        server.post("grad", query(&example("examples/backprop.mg"), json!({"dims": {"K": 1_000_000}})));
    assert_eq!(status, 422, "{text}");
    let error = &json(&text)["error"];
    assert_eq!(error["kind"], "input", "{error}");
    assert!(error["message"].as_str().unwrap().contains("budget"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    // The server's own budget (--memory, MiB), far below the library's: K = 1000 needs
    // about 100 MiB.
    let server = Server::start(&["--memory", "16"]);
    let (status, text) = server.post("grad", query(&example("examples/backprop.mg"), json!({"dims": {"K": 1000}})));
    assert_eq!(status, 422, "{text}");
    assert!(json(&text)["error"]["message"].as_str().unwrap().contains("more than the budget of 16 MiB"), "{text}");
    let (status, text) = server.post("grad", query(&example("examples/backprop.mg"), json!({"dims": {"K": 100}})));
    assert_eq!(status, 200, "{text}");
    // A request cannot raise it.
    let (status, text) = server.post("grad", r#"{"source": "L = x'*x", "memory_budget": 99999999999}"#);
    assert_eq!(status, 400, "{text}");
}

#[test]
fn a_computation_past_the_time_limit_is_503_and_the_server_goes_on() {
    let server = Server::start(&["--timeout", "0.3"]);
    let heavy = query(&example("examples/backprop.mg"), json!({"dims": {"K": 600}, "check": true}));
    let started = Instant::now();
    let (status, text) = server.post("explain", &heavy);
    let waited = started.elapsed();
    assert_eq!(status, 503, "{text}");
    let error = &json(&text)["error"];
    assert_eq!(error["kind"], "timeout", "{error}");
    assert!(error["message"].as_str().unwrap().contains("0.3 s"), "{error}");
    assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    // Still answering, the page and the API alike.
    assert_eq!(server.get("/").0, 200);
    let (status, text) = server.post("check", query(&example("examples/backprop.mg"), json!({})));
    assert_eq!(status, 200, "{text}");
}

/// The library stops a computation past the limit, so its slot is free again: with one
/// slot, the next request is answered, not refused as busy.
#[test]
fn a_computation_past_the_time_limit_stops_and_frees_its_slot() {
    let server = Server::start(&["--timeout", "0.3", "--jobs", "1"]);
    let heavy = query(&example("examples/backprop.mg"), json!({"dims": {"K": 600}, "check": true}));
    let (status, text) = server.post("explain", &heavy);
    assert_eq!(status, 503, "{text}");
    std::thread::sleep(Duration::from_millis(100));
    let (status, text) = server.post("grad", query(&example("examples/backprop.mg"), json!({})));
    assert_eq!(status, 200, "the one slot is free again: {text}");
}

#[test]
fn the_page_and_its_assets_load_nothing_from_elsewhere() {
    let server = Server::start(&[]);
    let (status, content_type, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let mut files = vec![page.clone()];
    for (path, kind) in [("/assets/app.js", "text/javascript"), ("/assets/style.css", "text/css")] {
        assert!(page.contains(&format!("\"{path}\"")), "the page links {path}");
        let (status, content_type, text) = server.get(path);
        assert_eq!(status, 200, "{path}");
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        files.push(text);
    }
    for text in &files {
        assert!(!text.contains("http://") && !text.contains("https://"), "an address elsewhere");
        assert!(!text.contains("@import") && !text.contains("url("), "a stylesheet that loads");
    }
    let (status, _, _) = server.get("/assets/secrets.txt");
    assert_eq!(status, 404);
}

#[test]
fn the_menu_holds_every_bundled_example_the_question_first() {
    let server = Server::start(&[]);
    let (status, content_type, text) = server.get("/examples.json");
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let menu = json(&text);
    let files: Vec<&str> = menu.as_array().unwrap().iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert_eq!(files[..3], ["backprop.mg", "backprop.unicode.mg", "backprop.tex"]);
    assert_eq!(files.last(), Some(&"backprop-question.txt"));
    let mut bundled: Vec<String> = std::fs::read_dir(common::workspace().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    bundled.sort();
    let mut listed: Vec<&str> = files[..files.len() - 1].to_vec();
    listed.sort();
    assert_eq!(listed, bundled, "every file of examples/ is in the menu");
    for entry in menu.as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        let path = if file.ends_with(".txt") { PAGE.to_string() } else { format!("examples/{file}") };
        assert_eq!(entry["source"].as_str().unwrap(), example(&path), "{file} as bundled");
    }
}
