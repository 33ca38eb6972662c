//! Errors about the user's program: a message, the span it is about, and an optional hint.
//!
//! A `Diagnostic` is a value, never a panic; front ends render it with [`Diagnostic::render`]
//! (rustc-style, with line:column and a caret under the span) and map it to exit code 2.

use std::fmt;
use std::ops::Range;

/// A byte range `start..end` in the source text the user gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// What kind of mistake a diagnostic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorKind {
    /// The text cannot be read: syntax, unknown names or functions, ambiguity.
    #[default]
    Reading,
    /// The text reads, but the shapes of the operands do not fit the operation.
    Shape,
}

/// One problem with the user's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Span,
    /// A short note printed under the caret.
    pub label: Option<String>,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { kind: ErrorKind::Reading, message: message.into(), span, label: None, hint: None }
    }

    /// A shape error: the operands of an operation do not fit.
    pub fn shape(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { kind: ErrorKind::Shape, ..Diagnostic::new(span, message) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Renders rustc-style without colour:
    ///
    /// ```text
    /// error: A*x: A is K×K but x has length n
    ///   ┌─ model.mg:1:5
    ///   │
    /// 1 │ y = A*x
    ///   │     ^^^
    /// ```
    pub fn render(&self, file_name: &str, source: &str) -> String {
        use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
        use codespan_reporting::files::SimpleFile;
        use codespan_reporting::term;

        let window = Window::around(source, clamp(self.span, source));
        let file = SimpleFile::new(file_name, window.text.as_str());
        let span = window.span;
        let mut label = Label::primary((), span.range());
        if let Some(text) = &self.label {
            label = label.with_message(text);
        }
        let mut report = Report::error().with_message(&self.message).with_labels(vec![label]);
        if let Some(hint) = &self.hint {
            report = report.with_notes(vec![format!("hint: {hint}")]);
        }
        let mut out = String::new();
        if term::emit_to_string(&mut out, &term::Config::default(), &file, &report).is_err() {
            // Rendering only fails on a span outside the text, which `clamp` rules out; keep
            // the message rather than lose it.
            return format!("error: {}\n", self.message);
        }
        window.restore_location(out, file_name)
    }
}

/// The text a diagnostic shows: the source itself, or for a very long line (a generated or
/// pasted program) a window of it around the span, so an error never echoes megabytes.
struct Window {
    text: String,
    span: Span,
    /// The true column of the window's first character, when the line was cut.
    cut: Option<(usize, usize)>,
}

impl Window {
    const WIDTH: usize = 100;

    fn around(source: &str, span: Span) -> Window {
        let line_start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[span.start..].find('\n').map_or(source.len(), |i| span.start + i);
        let line = &source[line_start..line_end];
        if line.chars().count() <= 2 * Self::WIDTH {
            return Window { text: source.to_string(), span, cut: None };
        }
        // Keep WIDTH characters on each side of the span's start, on char boundaries.
        let before: Vec<(usize, char)> = source[line_start..span.start].char_indices().collect();
        let from = before.len().checked_sub(Self::WIDTH).map_or(line_start, |i| line_start + before[i].0);
        let to = source[span.start..line_end].char_indices().nth(Self::WIDTH).map_or(line_end, |(i, _)| span.start + i);
        let line_number = source[..line_start].matches('\n').count();
        let prefix = if from > line_start { "…" } else { "" };
        let suffix = if to < line_end { "…" } else { "" };
        let text = format!("{}{prefix}{}{suffix}", "\n".repeat(line_number), &source[from..to]);
        let offset = line_number + prefix.len();
        let true_column = source[line_start..span.start].chars().count() + 1;
        let window_column = prefix.chars().count() + source[from..span.start].chars().count() + 1;
        let span = Span::new(span.start - from + offset, span.end.min(to) - from + offset);
        Window { text, span, cut: Some((window_column, true_column)) }
    }

    /// Puts the true `line:column` back in the header of a report rendered from the window.
    fn restore_location(&self, rendered: String, file_name: &str) -> String {
        let Some((window_column, true_column)) = self.cut else { return rendered };
        let line = self.text[..self.span.start].matches('\n').count() + 1;
        rendered.replacen(
            &format!("{file_name}:{line}:{window_column}"),
            &format!("{file_name}:{line}:{true_column}"),
            1,
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Keeps a span inside the text and on character boundaries, so rendering never fails.
fn clamp(span: Span, source: &str) -> Span {
    let mut start = span.start.min(source.len());
    let mut end = span.end.clamp(start, source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    while !source.is_char_boundary(end) {
        end += 1;
    }
    Span::new(start, end)
}
