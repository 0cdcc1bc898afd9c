//! The host's own log lines on stderr (tracing): which ones, in colour or not,
//! and escaped, since their messages and fields often carry guest text (a
//! module's name, a guest's error, a URL it asked for).

use super::telemetry::Traces;
use super::terminal::LineWriter;
use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Dependencies whose warnings are for their own developers, not for
/// operators (wasmtime-wasi-http warns about every refused connection, with
/// Rust debug text): kept at `error` unless the filter names them.
const NOISY: [&str; 11] = [
    "wasmtime_wasi_http",
    "wasmtime_wasi",
    "wasmtime",
    "cranelift_codegen",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "reqwest",
    "sqlx",
    "tower_http",
];

/// The filter: `FERRY_LOG`, else `RUST_LOG`, else warnings; with [`NOISY`]
/// targets at `error` unless the filter names them (`RUST_LOG=warn,hyper=debug`).
pub fn filter(spec: Option<&str>) -> EnvFilter {
    let spec = spec.map(str::trim).filter(|s| !s.is_empty());
    let mut filter = spec
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("warn"));
    let named = |target: &str| {
        spec.is_some_and(|s| {
            s.split(',')
                .any(|d| d.trim().split(['=', '[']).next() == Some(target))
        })
    };
    for target in NOISY {
        if !named(target)
            && let Ok(directive) = format!("{target}=error").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (and not empty).
pub fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// How the host's lines on stderr are written (`--log-format`, `FERRY_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event, in colour on a terminal only.
    #[default]
    Text,
    /// One JSON object per line, for log shippers: `timestamp`, `level`,
    /// `target`, `fields` (with `message`), and `span`/`spans` with the
    /// instance, module and job id of the run the line belongs to.
    Json,
}

/// Start logging to stderr in `format`, and tracing to an OTLP collector when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` asks for it (the returned [`Traces`] must be
/// shut down at exit to send the last spans).
pub fn init(format: LogFormat) -> Option<Traces> {
    use std::io::IsTerminal;
    let spec = std::env::var("FERRY_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let ansi = colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let lines = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .fmt_fields(EscapedFields)
            .with_filter(filter(spec.as_deref()))
            .boxed(),
        // JSON escapes every control character in strings: a guest's text
        // cannot break a line or forge a field.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_current_span(true)
            .with_span_list(true)
            .with_filter(filter(spec.as_deref()))
            .boxed(),
    };
    let (traces_layer, traces) = match super::telemetry::layer() {
        Some((layer, traces)) => (Some(layer), Some(traces)),
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(lines)
        .with(traces_layer)
        .init();
    traces
}

/// Fields of events and spans, each value escaped as one line: tracing 0.3.23
/// escapes ESC and C1 in messages, but leaves line breaks, carriage returns
/// and bidi overrides, with which a guest could forge or hide a log line.
pub struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = Escaping {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct Escaping<'a, W: Write> {
    writer: &'a mut W,
    first: bool,
    result: fmt::Result,
}

impl<W: Write> Escaping<'_, W> {
    fn write(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_err() {
            return;
        }
        let separator = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.result = match field.name() {
            "message" => write!(self.writer, "{separator}"),
            name => write!(self.writer, "{separator}{name}="),
        }
        .and_then(|()| LineWriter(&mut *self.writer).write_fmt(value));
    }
}

impl<W: Write> Visit for Escaping<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // Plain text, as a message: `url=http://…`, not `url="http://…"`.
        self.write(field, format_args!("{value}"));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.write(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // A message's Debug is its Display (`format_args!`).
        self.write(field, format_args!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn guest_text_in_a_log_line_is_escaped() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .fmt_fields(EscapedFields)
            .finish();
        let guest = "lab\n2026-01-01T00:00:00Z  WARN forged\r\x1b]52;c;aGk=\x07\u{202e}";
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(module = %guest, url = guest, "job failed: {guest}");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(super::super::terminal::inert(&text), "{text:?}");
        assert!(
            text.contains("job failed: lab\\n2026-01-01T00:00:00Z  WARN forged\\r\\x1b]52;c;aGk=\\x07\\u{202e} module=lab\\n"),
            "{text}"
        );
    }

    #[test]
    fn json_lines_carry_the_span_and_escape_guest_text() {
        use tracing_subscriber::layer::SubscriberExt;
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(move || sink.clone())
                .with_ansi(false)
                .with_current_span(true)
                .with_span_list(true),
        );
        let guest = "lab\n{\"forged\":1}\x1b[2J";
        tracing::subscriber::with_default(subscriber, || {
            let span =
                tracing::error_span!("job", job_id = 7_i64, instance = "shop", module = "shop");
            span.in_scope(|| tracing::warn!("guest said: {guest}"));
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\x1b'), "{text:?}");
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["span"]["job_id"], 7, "{line}");
        assert_eq!(line["span"]["instance"], "shop", "{line}");
        assert_eq!(line["fields"]["message"], format!("guest said: {guest}"));
    }

    #[test]
    fn noisy_dependencies_stay_at_error_unless_named() {
        let quiet = filter(None).to_string();
        assert!(quiet.contains("wasmtime_wasi_http=error"), "{quiet}");
        assert!(quiet.contains("warn"), "{quiet}");
        let raised = filter(Some("info,wasmtime_wasi_http=warn")).to_string();
        assert!(raised.contains("wasmtime_wasi_http=warn"), "{raised}");
        assert!(!raised.contains("wasmtime_wasi_http=error"), "{raised}");
        assert!(raised.contains("hyper=error"), "{raised}");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }
}
