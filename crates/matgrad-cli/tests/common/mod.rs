//! `matgrad serve` as a child process on a free loopback port, and a small HTTP client for it.
#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running `matgrad serve --port 0 ARGS`, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/`, as the server printed it.
    pub url: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_matgrad"))
            .args(["serve", "--port", "0"])
            .args(args)
            .current_dir(workspace())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("matgrad serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("reads the URL line");
        let url = line.trim().strip_prefix("matgrad serve: ").unwrap_or_else(|| panic!("no URL in {line:?}"));
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "{url}");
        Server { url: url.to_string(), child }
    }

    /// `POST /api/{question}` with `body`: the status and the body's text.
    pub fn post(&self, question: &str, body: impl AsRef<[u8]>) -> (u16, String) {
        let mut response = agent()
            .post(format!("{}api/{question}", self.url))
            .header("Content-Type", "application/json")
            .send(body.as_ref())
            .unwrap_or_else(|e| panic!("POST /api/{question}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(64 << 20).read_to_string().expect("a UTF-8 body");
        (status, text)
    }

    /// `GET path`: the status, the Content-Type and the body's text.
    pub fn get(&self, path: &str) -> (u16, String, String) {
        let mut response =
            agent().get(format!("{}{}", self.url, path.trim_start_matches('/'))).call().expect("GET answers");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (status, content_type, response.body_mut().read_to_string().expect("a UTF-8 body"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that returns every status as a response (the tests look at 4xx and 5xx).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// `{"source": …}` and the other fields of a query, as JSON.
pub fn query(source: &str, rest: serde_json::Value) -> String {
    let mut query = serde_json::json!({ "source": source });
    if let (Some(map), serde_json::Value::Object(rest)) = (query.as_object_mut(), rest) {
        map.extend(rest);
    }
    query.to_string()
}

pub fn example(file: &str) -> String {
    std::fs::read_to_string(workspace().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `matgrad ARGS` in the workspace: its standard output (whatever the exit code).
pub fn matgrad(args: &[&str]) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_matgrad")).args(args).current_dir(workspace()).output().expect("runs");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}
