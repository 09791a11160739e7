//! Rendering an [`Error`] as a caret diagnostic against the expression text.
//!
//! This is the one place errors are drawn (with `ariadne`); the rest of the
//! crate only builds [`Error`] values.

use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind, Source};

use crate::error::{Error, Span};

impl Error {
    /// The error as a multi-line caret diagnostic, without colours:
    ///
    /// ```text
    /// Error: unclosed `(`
    ///    ╭─[ <expr>:1:6 ]
    ///    │
    ///  1 │ sin(a
    ///    │    ┬ ┬
    ///    …
    /// ```
    ///
    /// Without a span or source text it is `Error: message` plus the hint.
    pub fn render(&self) -> String {
        self.render_with(false)
    }

    /// Like [`Error::render`], with ANSI colours (for terminals).
    pub fn render_colored(&self) -> String {
        self.render_with(true)
    }

    fn render_with(&self, color: bool) -> String {
        let (Some(source), Some(span)) = (self.source_text(), self.span()) else {
            let mut out = format!("Error: {}", self.message());
            if let Some(help) = self.help() {
                out.push_str("\nhelp: ");
                out.push_str(help);
            }
            return out;
        };
        // One trailing space gives a column for carets placed at the end of the input.
        let text = format!("{source} ");
        let clamp = |s: Span| {
            let start = s.start.min(source.len());
            let end = s.end.clamp(start, source.len());
            if start == end {
                ("<expr>", start..start + 1)
            } else {
                ("<expr>", start..end)
            }
        };
        let config = Config::default()
            .with_color(color)
            .with_index_type(IndexType::Byte)
            .with_char_set(if color {
                CharSet::Unicode
            } else {
                CharSet::Ascii
            });
        let mut report = Report::build(ReportKind::Error, clamp(span))
            .with_config(config)
            .with_message(self.message())
            .with_label(
                Label::new(clamp(span))
                    .with_message(self.label().unwrap_or("here"))
                    .with_order(0),
            );
        for (i, label) in self.labels().iter().enumerate() {
            report = report.with_label(
                Label::new(clamp(label.span))
                    .with_message(&label.message)
                    .with_order(i as i32 + 1),
            );
        }
        if let Some(help) = self.help() {
            report = report.with_help(help);
        }
        let mut out = Vec::new();
        let written = report
            .finish()
            .write(("<expr>", Source::from(text.as_str())), &mut out);
        match written {
            Ok(()) => String::from_utf8_lossy(&out).into_owned(),
            Err(_) => format!("Error: {}", self.message()),
        }
    }
}
