//! `verify --format json`: each claim of the page with its verdict (the text, Markdown and
//! HTML reports are the library's `verify::render`).

use matgrad::verify::Verification;
use serde_json::{json, Value};

pub fn json(verification: &Verification) -> String {
    let number = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    let claims: Vec<Value> = verification
        .claims
        .iter()
        .map(|c| {
            json!({
                "line": c.line,
                "column": c.column,
                "source": c.source,
                "kind": c.kind.as_str(),
                "verdict": c.verdict.as_str(),
                "relative_error": c.relative_error.map_or(Value::Null, number),
                "note": c.note,
            })
        })
        .collect();
    let document = json!({"output": verification.output, "claims": claims});
    format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())
}
