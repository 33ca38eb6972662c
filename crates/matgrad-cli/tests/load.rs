//! A load test on loopback: 500 requests from 32 concurrent clients, mixing good programs,
//! mistakes, malformed requests and heavy programs. Every answer must be the right one (the
//! command's own output, or the answer the server gave the same request alone), none lost,
//! the server still answering after, all within a bounded time. Prints the latencies
//! (`cargo test --release -p matgrad-cli --test load -- --nocapture`; figures in bench/README.md).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{example, matgrad, query, Server};
use serde_json::json;

const REQUESTS: usize = 500;
const CLIENTS: usize = 32;

/// One kind of request and the answer it must get.
struct Case {
    name: String,
    question: &'static str,
    body: String,
    status: u16,
    answer: String,
}

fn cases(server: &Server) -> Vec<Case> {
    let mut cases = Vec::new();
    // Good programs: the answer is what the command prints.
    for (file, seed) in [
        ("examples/backprop.mg", "0"),
        ("examples/backprop.tex", "1"),
        ("examples/backprop.unicode.mg", "2"),
        ("examples/mlp.mg", "3"),
        ("examples/logistic_regression.mg", "4"),
        ("examples/softmax_cross_entropy.mg", "5"),
        ("examples/least_squares.mg", "6"),
    ] {
        let body = query(&example(file), json!({"check": true, "seed": seed.parse::<u64>().unwrap()}));
        let answer = matgrad(&["grad", file, "--format", "json", "--check", "--seed", seed]);
        cases.push(Case { name: format!("grad {file}"), question: "grad", body, status: 200, answer });
    }
    let page = "crates/matgrad/tests/data/pages/backprop-question.txt";
    let answer = matgrad(&["verify", page, "--format", "json"]);
    cases.push(Case {
        name: "verify the page".into(),
        question: "verify",
        body: query(&example(page), json!({})),
        status: 200,
        answer,
    });
    // Mistakes, malformed requests and heavy programs: the answer the server gives the same
    // request on its own, before the load.
    let mut alone = |name: &str, question: &'static str, body: String, status: u16| {
        let (got, answer) = server.post(question, &body);
        assert_eq!(got, status, "{name} alone: {answer}");
        cases.push(Case { name: name.to_string(), question, body, status, answer });
    };
    alone("a syntax error", "grad", query("y = A*x +\nL = y'*y\n", json!({})), 422);
    alone(
        "a shape error",
        "explain",
        query("x: vector(n)\nA: matrix(K, K)\ny = A*x\nL = norm2(y)^2\n", json!({})),
        422,
    );
    alone("an unknown name in wrt", "grad", query(&example("examples/mlp.mg"), json!({"wrt": ["W9"]})), 422);
    alone(
        "sizes over the budget",
        "grad",
        query(&example("examples/backprop.mg"), json!({"dims": {"K": 10_000_000}})),
        422,
    );
    alone("malformed JSON", "grad", "{\"source\": ".to_string(), 400);
    alone("an unknown field", "check", r#"{"source": "L = x'*x", "size": 3}"#.to_string(), 400);
    alone("check a page", "check", query(&example(page), json!({})), 200);
    let backprop = example("examples/backprop.mg");
    alone("heavy: explain K = 32", "explain", query(&backprop, json!({"dims": {"K": 32}})), 200);
    alone("heavy: grad K = 40 checked", "grad", query(&backprop, json!({"dims": {"K": 40}, "check": true})), 200);
    let mlp = example("examples/mlp.mg");
    let sizes = json!({"n0": 24, "n1": 24, "n2": 24, "n3": 8});
    alone("heavy: explain the network", "explain", query(&mlp, json!({"dims": sizes})), 200);
    cases
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[test]
fn five_hundred_requests_from_32_clients_all_answered_right() {
    // A generous time limit: under load on 2 cores a heavy request must still be answered,
    // so that every answer can be checked (the limit itself is tested in serve.rs).
    let server = Server::start(&["--timeout", "30"]);
    let cases = cases(&server);
    // Request i asks case order[i]: every case often, in a scrambled order.
    let order: Vec<usize> = (0..REQUESTS).map(|i| (i * 7 + i / cases.len()) % cases.len()).collect();
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Option<(u16, String, Duration)>>> = Mutex::new(vec![None; REQUESTS]);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..CLIENTS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= REQUESTS {
                    break;
                }
                let case = &cases[order[i]];
                let sent = Instant::now();
                let (status, body) = server.post(case.question, &case.body);
                let latency = sent.elapsed();
                answers.lock().unwrap()[i] = Some((status, body, latency));
            });
        }
    });
    let elapsed = started.elapsed();
    let answers = answers.into_inner().unwrap();
    let mut latencies = Vec::new();
    let mut heavy = Vec::new();
    let mut by_case = vec![0usize; cases.len()];
    for (i, answer) in answers.into_iter().enumerate() {
        let (status, body, latency) = answer.unwrap_or_else(|| panic!("request {i} was lost"));
        let case = &cases[order[i]];
        assert_eq!(status, case.status, "request {i}, {}: {body}", case.name);
        assert!(body == case.answer, "request {i}, {}: another answer than alone:\n{body}", case.name);
        latencies.push(latency);
        if case.name.starts_with("heavy") {
            heavy.push(latency);
        }
        by_case[order[i]] += 1;
    }
    assert!(by_case.iter().all(|&n| n >= REQUESTS / cases.len() - 1), "every case asked: {by_case:?}");
    latencies.sort();
    heavy.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "load: {REQUESTS} requests ({} heavy), {CLIENTS} clients, {} kinds, {:.1} s, {:.0} requests/s; \
         latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; heavy p50 {:.1} ms, p99 {:.1} ms",
        heavy.len(),
        cases.len(),
        elapsed.as_secs_f64(),
        REQUESTS as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap()),
        ms(percentile(&heavy, 0.50)),
        ms(percentile(&heavy, 0.99)),
    );
    assert!(elapsed < Duration::from_secs(240), "the load took {elapsed:?}");
    // Still answering, at once.
    let sent = Instant::now();
    assert_eq!(server.get("/").0, 200);
    let (status, _) = server.post("check", query("L = x'*x\n", json!({})));
    assert_eq!(status, 200);
    assert!(sent.elapsed() < Duration::from_secs(2), "{:?} after the load", sent.elapsed());
}
