//! The page and everything it loads, built into the binary: its HTML, CSS and JavaScript
//! (`page/`), and the bundled examples for its menu. The Content-Security-Policy lets the
//! page load nothing but these.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Only this server: no script, style, font or image from elsewhere, no inline script.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                      base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("page/index.html");

/// `/assets/NAME`: the files the page links to, with their types.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", "text/javascript; charset=utf-8", include_str!("page/app.js")),
    ("style.css", "text/css; charset=utf-8", include_str!("page/style.css")),
];

/// One entry of the examples menu.
struct Example {
    /// Its path in the repository.
    path: &'static str,
    group: &'static str,
    title: &'static str,
    source: &'static str,
}

macro_rules! example {
    ($group:expr, $title:expr, $path:literal) => {
        Example { path: $path, group: $group, title: $title, source: include_str!(concat!("../../../../", $path)) }
    };
}

const QUESTION: &str = "The question's model";
const OTHERS: &str = "Other models";
const PAGES: &str = "Paste a whole page";

/// The menu, in order: the question's model in its three spellings, the other examples, and
/// the page the question was asked on.
const EXAMPLES: &[Example] = &[
    example!(QUESTION, "ASCII (backprop.mg)", "examples/backprop.mg"),
    example!(QUESTION, "Unicode (backprop.unicode.mg)", "examples/backprop.unicode.mg"),
    example!(QUESTION, "LaTeX (backprop.tex)", "examples/backprop.tex"),
    example!(OTHERS, "Logistic regression", "examples/logistic_regression.mg"),
    example!(OTHERS, "Softmax cross-entropy", "examples/softmax_cross_entropy.mg"),
    example!(OTHERS, "Least squares", "examples/least_squares.mg"),
    example!(OTHERS, "3-layer tanh network", "examples/mlp.mg"),
    example!(OTHERS, "2-layer sigmoid network", "examples/mlp2.mg"),
    example!(OTHERS, "Shared weight", "examples/shared_weight.mg"),
    example!(PAGES, "The question and its answers", "crates/matgrad/tests/data/pages/backprop-question.txt"),
];

fn with_type(content_type: &'static str, body: impl IntoResponse) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body).into_response()
}

pub fn page() -> Response {
    with_type("text/html; charset=utf-8", INDEX)
}

pub fn asset(name: &str) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, text)) => with_type(content_type, *text),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// `/examples.json`: `[{"file", "group", "title", "source"}]`, in menu order.
pub fn examples() -> Response {
    let list: Vec<_> = EXAMPLES
        .iter()
        .map(|e| json!({"file": e.path.rsplit('/').next(), "group": e.group, "title": e.title, "source": e.source}))
        .collect();
    with_type("application/json", serde_json::to_string(&list).unwrap_or_default())
}
