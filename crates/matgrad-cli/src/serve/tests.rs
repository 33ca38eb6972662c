//! The server's limits with answerers that misbehave on purpose: one that panics, one that
//! outlasts the time limit. (The real answers are tested through the binary, in
//! `tests/serve.rs`.)

use std::time::{Duration, Instant};

use super::*;

/// A server with `answerer` on a free port, running until the value is dropped.
struct TestServer {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

impl TestServer {
    fn start(jobs: usize, limit: Duration, answerer: Answerer) -> TestServer {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a free port");
        let url = page_url(listener.local_addr().expect("an address"));
        let app = router(Server { pool: Pool::new(jobs, limit), answerer });
        runtime.spawn(async move { axum::serve(listener, app).await });
        TestServer { url, _runtime: runtime }
    }

    fn post(&self, question: &str, body: &str) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut response = agent.post(format!("{}api/{question}", self.url)).send(body).expect("an answer");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().expect("a body");
        (status, serde_json::from_str(&text).expect("JSON"))
    }
}

/// Sleeps for the number of milliseconds that the source is, then answers `{}`.
fn sleeper() -> Answerer {
    Arc::new(|_, query: Query| {
        std::thread::sleep(Duration::from_millis(query.source.parse().unwrap_or(0)));
        Reply::ok("{}".to_string())
    })
}

#[test]
fn a_panic_fails_its_request_only() {
    let server = TestServer::start(
        2,
        Duration::from_secs(2),
        Arc::new(|_, query: Query| if query.source == "panic" { panic!("planted") } else { Reply::ok("{}".into()) }),
    );
    let (status, body) = server.post("grad", r#"{"source": "panic"}"#);
    assert_eq!(status, 500);
    assert_eq!(body["error"]["kind"], "internal");
    assert!(!body.to_string().contains("planted"), "no panic message leaks: {body}");
    for _ in 0..3 {
        assert_eq!(server.post("grad", r#"{"source": "fine"}"#).0, 200);
    }
}

#[test]
fn a_computation_past_the_limit_is_answered_at_the_limit_and_others_go_on() {
    let server = TestServer::start(2, Duration::from_millis(300), sleeper());
    let started = Instant::now();
    let (status, body) = server.post("grad", r#"{"source": "3000"}"#);
    let waited = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["kind"], "timeout");
    assert!(waited < Duration::from_millis(1500), "answered after {waited:?}");
    // The heavy one still holds a slot; the other slot answers a cheap request at once.
    let started = Instant::now();
    assert_eq!(server.post("grad", r#"{"source": "1"}"#).0, 200);
    assert!(started.elapsed() < Duration::from_millis(250), "{:?}", started.elapsed());
}

#[test]
fn when_every_slot_is_taken_a_request_is_refused_as_busy_not_queued_forever() {
    let server = TestServer::start(1, Duration::from_millis(200), sleeper());
    assert_eq!(server.post("grad", r#"{"source": "2000"}"#).0, 503);
    let started = Instant::now();
    let (status, body) = server.post("grad", r#"{"source": "1"}"#);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["kind"], "busy");
    assert!(started.elapsed() < Duration::from_millis(1000), "{:?}", started.elapsed());
    // The page itself never waits for the pool.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    assert_eq!(agent.get(&server.url).call().expect("the page").status().as_u16(), 200);
}

#[test]
fn page_urls_name_an_address_a_browser_can_open() {
    let url = |text: &str| page_url(text.parse().expect("an address"));
    assert_eq!(url("127.0.0.1:8000"), "http://127.0.0.1:8000/");
    assert_eq!(url("0.0.0.0:80"), "http://127.0.0.1:80/");
    assert_eq!(url("[::]:8000"), "http://[::1]:8000/");
    assert_eq!(url("[::1]:8000"), "http://[::1]:8000/");
}
