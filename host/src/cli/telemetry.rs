//! OpenTelemetry traces, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: the host's spans (one trace
//! per job try, with its instantiations, unit calls and outbound requests)
//! go over OTLP/HTTP to a collector. Protocol, headers, timeout, service name
//! and resource come from the standard `OTEL_*` variables. Without the
//! variable nothing is set up: no exporter, no thread, no cost.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;

/// Whether traces are asked for (a non-empty endpoint variable).
pub fn wanted(var: impl Fn(&str) -> Option<String>) -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| var(name).is_some_and(|v| !v.trim().is_empty()))
        && var("OTEL_SDK_DISABLED").is_none_or(|v| !v.trim().eq_ignore_ascii_case("true"))
}

/// The exporter of a process: flushed and stopped by [`Traces::shutdown`].
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Send what is still buffered and stop the exporter (at the end of
    /// `ferry serve`, `ferry worker`, any command).
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: could not send the last traces to the OTLP collector: {e}");
        }
    }
}

/// The tracing layer that turns Ferry's spans into OpenTelemetry spans, and
/// the exporter behind it; `None` when traces are not asked for. An exporter
/// that cannot be built is reported on stderr and leaves traces off (the
/// command itself still runs).
pub fn layer<S>() -> Option<(Box<dyn Layer<S> + Send + Sync>, Traces)>
where
    S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    if !wanted(|name| std::env::var(name).ok()) {
        return None;
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!(
                "warning: OpenTelemetry traces are off: cannot set up the OTLP exporter: {e}"
            );
            return None;
        }
    };
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("ferry");
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("ferry");
    // Ferry's own spans at info and above, whatever FERRY_LOG says about
    // the lines on stderr; dependencies' spans stay out of the traces.
    let spans = Targets::new()
        .with_target("ferry", LevelFilter::INFO)
        .with_default(LevelFilter::OFF);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(spans)
        .boxed();
    Some((layer, Traces { provider }))
}

#[cfg(test)]
mod tests {
    use super::wanted;

    #[test]
    fn traces_only_with_an_endpoint_and_not_disabled() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!wanted(env(&[])));
        assert!(!wanted(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])));
        assert!(wanted(env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://c:4318"
        )])));
        assert!(wanted(env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces"
        )])));
        assert!(!wanted(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ])));
    }
}
