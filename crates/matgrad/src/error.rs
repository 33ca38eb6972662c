//! The library's one error type: a mistake in what the caller gave (the program, the
//! question asked of it, the sizes or the arrays), with the place in the program it is
//! about, a label and a hint; or, rarely, an internal error.
//!
//! An `Error` is a value, never a panic. Its messages speak of the program, not of any
//! front end's options (a command line adds `--dims`, a web page its own words). Front
//! ends render it with [`Error::render`] (rustc-style, with line:column and a caret under
//! the span), serialise it ([`Error::report`]) and map it to exit code 2 (or 1 when
//! [`Error::is_internal`]).

use std::fmt;
use std::ops::Range;

use serde::Serialize;

/// A byte range `start..end` in the source text the user gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
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

/// What kind of mistake an error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The text cannot be read: syntax, unknown names or functions, ambiguity.
    #[default]
    Reading,
    /// The text reads, but the shapes of the operands do not fit the operation.
    Shape,
    /// The program reads, but the question does not fit it: a gradient of a non-scalar
    /// output, a variable or an output the program does not have.
    Request,
    /// The sizes or the arrays given do not fit the program, or need more memory than the
    /// budget allows.
    Input,
    /// The computation ran past the time limit the caller set.
    #[serde(rename = "time_limit")]
    TimeLimit,
    /// A bug in matgrad, not the caller's mistake.
    Internal,
}

/// The most errors one report lists (the first, the others, and a last one saying how many
/// more there were).
pub const MAX_ERRORS: usize = 20;

/// One problem with what the caller gave, and the further independent ones found with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Where in the program the problem is; none for a problem with the question or the
    /// inputs.
    pub span: Option<Span>,
    /// A short note printed under the caret.
    pub label: Option<String>,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
    /// Further errors independent of this one, in the order of the text (parsing goes on
    /// after an error at the next statement, so that an editor can show them all).
    /// (A boxed slice, to keep `Result<_, Error>` small.)
    pub others: Box<[Error]>,
}

impl Error {
    /// A reading error at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Reading,
            message: message.into(),
            span: Some(span),
            label: None,
            hint: None,
            others: Box::default(),
        }
    }

    /// A shape error: the operands of an operation do not fit.
    pub fn shape(span: Span, message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Shape, ..Error::new(span, message) }
    }

    /// A question that does not fit the program (no place in the text).
    pub fn request(message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Request, span: None, ..Error::new(Span::default(), message) }
    }

    /// Sizes or arrays that do not fit the program.
    pub fn input(message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Input, span: None, ..Error::new(Span::default(), message) }
    }

    /// The computation ran past the caller's time limit.
    pub(crate) fn time_limit() -> Error {
        Error { kind: ErrorKind::TimeLimit, ..Error::input("the computation ran past its time limit") }
            .with_hint("ask for smaller sizes, or fewer variables")
    }

    /// A bug: something the library should never have let happen.
    pub fn internal(message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Internal, span: None, ..Error::new(Span::default(), message) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Error {
        self.label = Some(label.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// This error followed by `others`, at most [`MAX_ERRORS`] in all: past them, one more
    /// says how many were left out (a text of thousands of bad lines gets a readable report,
    /// and the report's size does not grow with the text).
    pub(crate) fn with_others(mut self, others: Vec<Error>) -> Error {
        let mut all: Vec<Error> = self.others.into_vec().into_iter().chain(others).collect();
        if all.len() >= MAX_ERRORS {
            let left_out = all.len() - (MAX_ERRORS - 2);
            let first_left_out = all[MAX_ERRORS - 2].span;
            all.truncate(MAX_ERRORS - 2);
            let mut more =
                Error::new(Span::default(), format!("{left_out} more errors after this point are not shown"))
                    .with_hint("fix the errors above first");
            more.span = first_left_out;
            all.push(more);
        }
        self.others = all.into_boxed_slice();
        self
    }

    pub fn is_internal(&self) -> bool {
        self.kind == ErrorKind::Internal
    }

    /// This error and the others, in order.
    pub fn all(&self) -> impl Iterator<Item = &Error> {
        std::iter::once(self).chain(self.others.iter())
    }

    /// Every error as data, with line and column in `source` (the program's text).
    pub fn report(&self, source: &str) -> ErrorReport {
        let lines = crate::program::Lines::new(source);
        let one = |e: &Error| {
            let span = e.span.map(|s| clamp(s, source));
            let place = |offset: usize| {
                let (line, column) = lines.locate(source, offset);
                Location { line, column }
            };
            ErrorEntry {
                kind: e.kind,
                message: e.message.clone(),
                hint: e.hint.clone(),
                label: e.label.clone(),
                start: span.map(|s| place(s.start)),
                end: span.map(|s| place(s.end)),
                span,
                rendered: e.render_one("program", source),
            }
        };
        ErrorReport { error: one(self), errors: self.all().map(one).collect() }
    }

    /// Every error rendered rustc-style (see [`Error::render_one`]), one after another.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let rendered: Vec<String> = self.all().map(|e| e.render_one(file_name, source)).collect();
        rendered.join("\n")
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
    pub fn render_one(&self, file_name: &str, source: &str) -> String {
        let Some(span) = self.span else { return self.render_unplaced() };
        // A lone `\r` ends a line too (old Mac files); the renderer knows only `\n`, so it
        // reads a copy where each is one (the same length, so the span still fits).
        let unified;
        let source = if source.contains('\r') {
            let bytes = source.as_bytes();
            unified = source
                .char_indices()
                .map(|(i, c)| if c == '\r' && bytes.get(i + 1) != Some(&b'\n') { '\n' } else { c })
                .collect::<String>();
            unified.as_str()
        } else {
            source
        };
        use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
        use codespan_reporting::files::SimpleFile;
        use codespan_reporting::term;

        let window = Window::around(source, clamp(span, source));
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
            return self.render_unplaced();
        }
        window.restore_location(out, file_name)
    }

    /// An error with no place in the text: `error: …` and `  = hint: …`.
    fn render_unplaced(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  = hint: {hint}\n"));
        }
        out
    }
}

/// A 1-based line and column, the column counted in characters (Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// What a front end shows of an error: `{"error": {…}, "errors": [{…}, …]}`, the first
/// error and then all of them (the first included), each with its place in the program.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub error: ErrorEntry,
    pub errors: Vec<ErrorEntry>,
}

/// One error as data.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorEntry {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    pub label: Option<String>,
    pub start: Option<Location>,
    pub end: Option<Location>,
    /// Byte offsets into the program's text.
    pub span: Option<Span>,
    /// The error as the command line prints it.
    pub rendered: String,
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

/// The message, and the hint in parentheses: one line, for logs and `?` in a `main`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

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
