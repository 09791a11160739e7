//! The one error type of the crate: a kind, a message, a byte span into the
//! expression, optional secondary labels and an optional hint.
//!
//! Errors are built in the core without any formatting beyond one line of text;
//! [`Error::render`] (in `syntax::diagnostics`) draws the caret diagnostic.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A half-open byte range `start..end` into the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// As a `Range<usize>`.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Span {
        Span::new(r.start, r.end)
    }
}

/// What went wrong, broadly: lets callers (and the Python bindings) map errors to
/// exception types without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not a valid expression (lexing or parsing).
    Syntax,
    /// An unknown variable or function name.
    Name,
    /// An operation does not accept the dtypes of its operands, or a call has wrong arguments.
    Type,
    /// Operand shapes do not broadcast, or an axis is out of range.
    Shape,
    /// A value is invalid (integer literal out of range, reduction of an empty array, …).
    Value,
    /// Valid syntax that jitexpr does not support (yet).
    Unsupported,
    /// A size or nesting limit was exceeded.
    Limit,
    /// The evaluation was cancelled (Ctrl-C).
    Cancelled,
    /// A bug in jitexpr (an IR invariant was violated).
    Internal,
    /// A file could not be read or written (CLI input and output files).
    Io,
}

impl ErrorKind {
    /// A short lowercase name (`"syntax error"`).
    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Name => "name error",
            ErrorKind::Type => "type error",
            ErrorKind::Shape => "shape error",
            ErrorKind::Value => "value error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Limit => "limit exceeded",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal error",
            ErrorKind::Io => "I/O error",
        }
    }
}

/// A secondary location in a diagnostic, with its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it.
    pub message: String,
}

/// An error from compiling or evaluating an expression.
///
/// `Display` prints one line (`unknown function 'sinn'; did you mean 'sin'?`);
/// [`Error::render`] prints the caret diagnostic against the expression text.
#[derive(Debug, Clone, thiserror::Error)]
pub struct Error {
    // Boxed: errors are rare and `Result<T, Error>` stays one pointer wide.
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    span: Option<Span>,
    label: Option<String>,
    labels: Vec<Label>,
    help: Option<String>,
    source_text: Option<Arc<str>>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(span) = self.inner.span {
            write!(f, " (at {}..{})", span.start, span.end)?;
        }
        Ok(())
    }
}

impl Error {
    /// A new error of `kind` with a one-line message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                span: None,
                label: None,
                labels: Vec::new(),
                help: None,
                source_text: None,
            }),
        }
    }

    /// Sets the primary location.
    pub fn at(mut self, span: Span) -> Error {
        self.inner.span = Some(span);
        self
    }

    /// Sets the text written under the primary caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Error {
        self.inner.label = Some(label.into());
        self
    }

    /// Adds a secondary location.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Error {
        self.inner.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the hint shown after the diagnostic.
    pub fn with_help(mut self, help: impl Into<String>) -> Error {
        self.inner.help = Some(help.into());
        self
    }

    /// Attaches the expression text the spans point into (done once by the API entry points).
    pub(crate) fn with_source(mut self, source: &Arc<str>) -> Error {
        if self.inner.source_text.is_none() {
            self.inner.source_text = Some(Arc::clone(source));
        }
        self
    }

    /// The broad category.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The one-line message, without location.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The primary byte span in the expression, if the error has a location.
    pub fn span(&self) -> Option<Span> {
        self.inner.span
    }

    /// The text under the primary caret, if any.
    pub fn label(&self) -> Option<&str> {
        self.inner.label.as_deref()
    }

    /// Secondary locations.
    pub fn labels(&self) -> &[Label] {
        &self.inner.labels
    }

    /// The hint, if any.
    pub fn help(&self) -> Option<&str> {
        self.inner.help.as_deref()
    }

    /// The expression text the spans refer to, when known.
    pub fn source_text(&self) -> Option<&str> {
        self.inner.source_text.as_deref()
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
