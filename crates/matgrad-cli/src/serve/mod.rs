//! `matgrad serve`: the page and its JSON API on a local HTTP server (axum on tokio).
//!
//! The server computes nothing itself: `POST /api/{question}` hands the request to the
//! library's `api::answer` and returns its report as the same JSON the command prints with
//! `--format json`. What it owns is the limits that make it safe to leave running: a body of
//! at most [`BODY_LIMIT`], a memory budget per computation (`--memory`, handed to the
//! library, which refuses larger sizes before computing), each computation on a bounded pool
//! ([`pool`]) with a time limit, and a panic failing only its own request. Every asset is built into the binary
//! ([`assets`]); the page loads nothing from elsewhere.

mod assets;
mod pool;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use matgrad::api::{answer, Query, Question};
use matgrad::report::to_json;
use matgrad::ErrorKind;
use pool::{Outcome, Pool};

use crate::Failure;

/// The largest request body the API reads: a pasted page is a few kilobytes, inputs for a
/// program checked by hand a few hundred.
pub const BODY_LIMIT: usize = 1 << 20;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The port to listen on; 0 picks a free one (the URL printed says which).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// The address to listen on; the default is this machine only.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Open the page in the default browser.
    #[arg(long)]
    open: bool,
    /// The time limit of one request's computation, in seconds.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS", value_parser = parse_seconds)]
    timeout: f64,
    /// How many computations run at once [default: 4, or the number of cores if more].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,
    /// The most memory one computation may need, in MiB; larger sizes are refused (422)
    /// before anything is computed. At most `--jobs` computations run at once.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    memory: u64,
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(seconds),
        _ => Err(format!("`{text}` is not a time limit: give seconds between 0 and 3600, such as 2 or 0.5")),
    }
}

/// What the handlers share: the pool and the function that answers a question.
#[derive(Clone)]
struct Server {
    pool: Pool,
    answerer: Answerer,
}

/// Answers one question: the real one calls the library; tests put in slow or panicking ones.
type Answerer = Arc<dyn Fn(Question, Query) -> Reply + Send + Sync>;

/// An HTTP status and its JSON body.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: String,
}

impl Reply {
    fn ok(body: String) -> Reply {
        Reply { status: StatusCode::OK, body }
    }

    /// `{"error": {"kind": …, "message": …, "hint": …}}`, the shape of the library's errors
    /// without a place in the source.
    fn error(status: StatusCode, kind: &str, message: impl Into<String>, hint: Option<&str>) -> Reply {
        let error = json!({"kind": kind, "message": message.into(), "hint": hint});
        let body = json!({"error": error, "errors": [error]});
        Reply { status, body: format!("{}\n", serde_json::to_string_pretty(&body).unwrap_or_default()) }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (self.status, [(header::CONTENT_TYPE, "application/json")], self.body).into_response()
    }
}

/// The library's answer within `memory_budget` bytes and `time_limit`: its report, a user's
/// mistake (422), past the limit (503, and the computation has stopped), or its own failure
/// (500).
fn library_answer(question: Question, mut query: Query, memory_budget: u64, time_limit: Duration) -> Reply {
    // The limits are the server's, never the request's (the library does not read them from
    // JSON).
    query.memory_budget = memory_budget;
    query.time_limit = Some(time_limit);
    match answer(question, &query) {
        Ok(report) => Reply::ok(report.to_json()),
        Err(error) if error.is_internal() => {
            Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", internal_message(), None)
        }
        Err(error) if error.kind == ErrorKind::TimeLimit => timed_out(time_limit),
        Err(error) => Reply { status: StatusCode::UNPROCESSABLE_ENTITY, body: to_json(&error.report(&query.source)) },
    }
}

fn internal_message() -> &'static str {
    "matgrad failed on this request; this is a bug, please report it with the program"
}

pub fn run(args: ServeArgs) -> Result<String, Failure> {
    let jobs = args.jobs.map_or_else(default_jobs, |n| n as usize);
    let pool = Pool::new(jobs, Duration::from_secs_f64(args.timeout));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // The library runs on 2 MiB threads (it grows its stack where it recurses).
        .thread_stack_size(2 << 20)
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the server: {e}")))?;
    runtime.block_on(async {
        let address = SocketAddr::new(args.host, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| Failure::user(format!("cannot listen on {address}: {e}")))?;
        let bound = listener.local_addr().map_err(|e| Failure::internal(e.to_string()))?;
        let url = page_url(bound);
        // The tests read this line to find the port; it must reach them before any request.
        crate::write_stdout(&format!("matgrad serve: {url}\n"))
            .map_err(|e| Failure::internal(format!("cannot write the output: {e}")))?;
        if !bound.ip().is_loopback() {
            eprintln!("matgrad serve: listening on {bound}, which other machines may reach");
        }
        if args.open {
            open_browser(&url);
        }
        let budget = args.memory << 20;
        let limit = Duration::from_secs_f64(args.timeout);
        let answerer: Answerer = Arc::new(move |question, query| library_answer(question, query, budget, limit));
        let app = router(Server { pool, answerer });
        // Until the process is stopped (Ctrl-C ends it at once: there is nothing to save).
        axum::serve(listener, app).await.map_err(|e| Failure::internal(format!("the server stopped: {e}")))
    })?;
    Ok(String::new())
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get().max(4))
}

/// `http://127.0.0.1:8000/`, and for a server listening on every address, the loopback
/// address that reaches it from here.
fn page_url(bound: SocketAddr) -> String {
    let host = match bound.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    format!("http://{host}:{}/", bound.port())
}

/// Best effort: the page works without it, and the URL is printed.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(error) = std::process::Command::new(opener).arg(url).spawn() {
        eprintln!("matgrad serve: cannot open a browser ({opener}: {error}); open {url}");
    }
}

fn router(server: Server) -> Router {
    Router::new()
        .route("/", get(|| async { assets::page() }))
        .route("/assets/{name}", get(|Path(name): Path<String>| async move { assets::asset(&name) }))
        .route("/examples.json", get(|| async { assets::examples() }))
        .route("/api/{question}", post(api))
        .fallback(|| async { Reply::error(StatusCode::NOT_FOUND, "request", "no such page", None) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(server)
}

/// `POST /api/{question}`: the body is a query; the answer comes from the pool.
async fn api(State(server): State<Server>, Path(question): Path<String>, body: Result<Bytes, BytesRejection>) -> Reply {
    let Ok(question) = question.parse::<Question>() else {
        let message = format!("there is no question `{question}`");
        return Reply::error(StatusCode::NOT_FOUND, "request", message, Some("ask check, grad, explain or verify"));
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message = format!("the request is larger than {} MiB", BODY_LIMIT >> 20);
            return Reply::error(StatusCode::PAYLOAD_TOO_LARGE, "request", message, None);
        }
        Err(rejection) => return Reply::error(rejection.status(), "request", rejection.body_text(), None),
    };
    let query: Query = match serde_json::from_slice(&body) {
        Ok(query) => query,
        Err(error) => {
            let hint = r#"a request looks like {"source": "y = A*x\nL = norm2(y)^2", "wrt": ["A"], "dims": {"n": 3}, "seed": 0}"#;
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "request",
                format!("not a valid request: {error}"),
                Some(hint),
            );
        }
    };
    let answerer = server.answerer.clone();
    match server.pool.run(move || answerer(question, query)).await {
        Outcome::Done(reply) => reply,
        Outcome::Panicked => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", internal_message(), None),
        Outcome::Busy(limit) => Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("the server is busy: no computation could start within {}", seconds(limit)),
            Some("try again in a moment; other requests are still computing"),
        ),
        Outcome::TimedOut(limit) => timed_out(limit),
    }
}

fn timed_out(limit: Duration) -> Reply {
    Reply::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        format!("the computation took longer than the limit of {}", seconds(limit)),
        Some("choose smaller sizes, or start the server with a longer --timeout"),
    )
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests;
