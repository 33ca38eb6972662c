//! The verification as a person reads it: text for a terminal, Markdown for a post, HTML
//! for a browser. Every format shows the same rows: where the claim is, its verdict, its
//! kind, the relative error, the claim as written, and the note.

use std::fmt::Write;

use super::{Claim, Verdict, Verification};
use crate::explain::Format;
use crate::print::{escape, one_line};

/// `verification` in `format`; `header` (the reading of the inputs, the point) opens the
/// text format.
pub fn render(verification: &Verification, format: Format, header: &str) -> String {
    match format {
        Format::Text => text(verification, header),
        Format::Markdown => markdown(verification),
        Format::Html => html(verification),
    }
}

fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Holds => "✓",
        Verdict::Fails => "✗",
        Verdict::Unchecked => "?",
    }
}

fn error(claim: &Claim) -> String {
    match claim.relative_error {
        Some(0.0) => "0".to_string(),
        Some(e) => format!("{e:.1e}"),
        None => "–".to_string(),
    }
}

fn kind(claim: &Claim) -> String {
    claim.kind.as_str().replace('_', " ")
}

/// The closing sentence: counts, and the first failing step.
pub fn summary(verification: &Verification) -> String {
    let count = |v: Verdict| verification.claims.iter().filter(|c| c.verdict == v).count();
    let (holds, fails, unchecked) = (count(Verdict::Holds), count(Verdict::Fails), count(Verdict::Unchecked));
    let mut out = format!("{holds} hold, {fails} fail, {unchecked} unchecked. ");
    match verification.first_failure() {
        Some(claim) => {
            let _ = write!(
                out,
                "The first failing step is at line {}:{}: {}{}",
                claim.line,
                claim.column,
                one_line(&claim.source, 80),
                if claim.note.is_empty() { String::new() } else { format!(" — {}", claim.note) }
            );
        }
        None if verification.claims.is_empty() => {
            out = "The text makes no claims besides its model: nothing to verify.".to_string()
        }
        None if holds == 0 => out.push_str("No claim could be checked."),
        None => out.push_str("Every checked claim holds."),
    }
    out
}

fn text(verification: &Verification, header: &str) -> String {
    let mut out = format!("# verify: the page's claims against its model, whose output is {}\n", verification.output);
    out.push_str(header);
    let width = verification.claims.iter().map(|c| format!("{}:{}", c.line, c.column).len()).max().unwrap_or(0);
    for claim in &verification.claims {
        let at = format!("{}:{}", claim.line, claim.column);
        let _ = write!(
            out,
            "{} {at:<width$}  {:<12} {:>7}  {}",
            mark(claim.verdict),
            kind(claim),
            error(claim),
            one_line(&claim.source, 64)
        );
        if !claim.note.is_empty() {
            let _ = write!(out, "\n  {:width$}  {}", "", claim.note);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n✓ holds, ✗ fails, ? unchecked. {}", summary(verification));
    out
}

fn markdown(verification: &Verification) -> String {
    let mut out = format!("## The page's claims, checked against its model (output {})\n\n", verification.output);
    out.push_str("| | line | kind | claim | error | note |\n|---|---|---|---|---|---|\n");
    for claim in &verification.claims {
        let cell = |text: &str| text.replace('|', "\\|");
        let _ = writeln!(
            out,
            "| {} | {}:{} | {} | `{}` | {} | {} |",
            mark(claim.verdict),
            claim.line,
            claim.column,
            kind(claim),
            cell(&one_line(&claim.source, 200)).replace('`', "'"),
            error(claim),
            cell(&claim.note)
        );
    }
    let _ = writeln!(out, "\n{}", summary(verification));
    out
}

fn html(verification: &Verification) -> String {
    let mut rows = String::new();
    for claim in &verification.claims {
        let class = match claim.verdict {
            Verdict::Holds => "ok",
            Verdict::Fails => "bad",
            Verdict::Unchecked => "unchecked",
        };
        let _ = writeln!(
            rows,
            "<tr class=\"{class}\"><td>{}</td><td>{}:{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            mark(claim.verdict),
            claim.line,
            claim.column,
            escape(&kind(claim)),
            escape(&one_line(&claim.source, 200)),
            escape(&error(claim)),
            escape(&claim.note)
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>matgrad verify</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>The page's claims, checked against its model (output {})</h1>\n<table>\n<thead><tr><th></th><th>line</th><th>kind</th><th>claim</th><th>error</th><th>note</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n<p>{}</p>\n</body>\n</html>\n",
        escape(&verification.output),
        escape(&summary(verification))
    )
}

const STYLE: &str = "body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; line-height: 1.4; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
code { font-size: 0.9em; }
tr.ok td:first-child { color: #1a7f37; }
tr.bad td:first-child, tr.bad td:nth-child(6) { color: #c0392b; }
tr.unchecked td:first-child { color: #8a6d00; }
@media (prefers-color-scheme: dark) { body { background: #111; color: #eee; } td, th { border-color: #333; } }
";
