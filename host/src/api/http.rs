//! Outbound HTTP (`wasi:http`): deny by default, allow the origins the manifest
//! lists in `[capabilities] allowed_hosts`.
//!
//! An entry is an origin (`https://api.example.com`, `http://127.0.0.1:8790`) or a
//! template of the backend instance's params (`{{ params.url }}`), resolved when
//! a run starts. Every request's scheme, host and port must equal one of the
//! resolved origins; anything else fails with `HttpRequestDenied` before a
//! connection is made. Requests get the run's remaining time as their timeout.

use crate::manifest::ParamDecl;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks, default_send_request,
};

/// An origin a module may send requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(text: &str) -> Result<Origin, String> {
        let url =
            url::Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{text}`: only http and https are allowed"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("`{text}` has no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("`{text}` has no port"))?;
        Ok(Origin {
            scheme: url.scheme().into(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    fn of_uri(uri: &http::Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let port = uri.port_u16().or(match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        })?;
        Some(Origin {
            scheme,
            host: uri.host()?.to_ascii_lowercase(),
            port,
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Entries of `allowed_hosts`, checked and resolved.
pub struct HostPattern;

impl HostPattern {
    /// Check an entry at install: its templates name declared params, and a
    /// literal entry is an http(s) origin.
    pub fn check(entry: &str, params: &BTreeMap<String, ParamDecl>) -> Result<(), String> {
        let rendered = render(entry, |name| {
            params
                .contains_key(name)
                .then(|| "http://template.invalid".to_string())
        })?;
        Origin::parse(&rendered).map(|_| ())
    }

    /// Resolve an entry with an instance's params.
    pub fn resolve(entry: &str, params: &Map<String, Value>) -> Result<Origin, String> {
        let rendered = render(entry, |name| match params.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        })?;
        Origin::parse(&rendered)
    }
}

/// Replace each `{{ params.NAME }}` with `lookup(NAME)`.
fn render(entry: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = entry;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| "unclosed `{{`".to_string())?
            + start;
        let inner = rest[start + 2..end].trim();
        let name = inner.strip_prefix("params.").ok_or_else(|| {
            format!("`{{{{ {inner} }}}}`: only `{{{{ params.NAME }}}}` can be used")
        })?;
        out.push_str(
            &lookup(name).ok_or_else(|| format!("param `{name}` is not declared or not set"))?,
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What one instance may reach over HTTP, and until when.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    pub(crate) allowed: Arc<Vec<Origin>>,
    pub(crate) deadline: Option<Instant>,
}

impl OutboundPolicy {
    /// Allow `allowed` until `deadline`.
    pub(crate) fn new(allowed: Arc<Vec<Origin>>, deadline: Option<Instant>) -> Self {
        OutboundPolicy { allowed, deadline }
    }

    /// Nothing allowed (used while a module is described at install).
    pub(crate) fn deny_all() -> Self {
        Self::default()
    }
}

type BoxedIo = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, BoxedIo), HttpError>> + Send>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: BoxedIo,
    ) -> SendFuture {
        let origin = Origin::of_uri(request.uri());
        let allowed = origin.as_ref().is_some_and(|o| self.allowed.contains(o));
        if !allowed {
            tracing::info!(uri = %request.uri(), "outbound request denied: origin not in allowed_hosts");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let remaining = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return Box::new(async { Err(HttpError::ConnectionTimeout) });
        }
        let mut options = options.unwrap_or_default();
        let cap = |t: Option<Duration>| match (t, remaining) {
            (Some(t), Some(r)) => Some(t.min(r)),
            (t, r) => t.or(r),
        };
        options.connect_timeout = cap(options.connect_timeout);
        options.first_byte_timeout = cap(options.first_byte_timeout);
        options.between_bytes_timeout = cap(options.between_bytes_timeout);
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = default_send_request(request, Some(options)).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as BoxedIo))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_resolve_from_params() {
        let mut params = Map::new();
        params.insert("url".into(), Value::from("http://127.0.0.1:8790/shop/"));
        let origin = HostPattern::resolve("{{ params.url }}", &params).unwrap();
        assert_eq!(origin.to_string(), "http://127.0.0.1:8790");
        let origin = HostPattern::resolve("https://API.example.com", &params).unwrap();
        assert_eq!(origin.to_string(), "https://api.example.com:443");
        assert!(
            HostPattern::resolve("{{ params.token }}", &params)
                .unwrap_err()
                .contains("token")
        );
        assert!(HostPattern::resolve("ftp://x", &params).is_err());
    }

    #[test]
    fn uri_origins_match_exactly() {
        let allowed = Origin::parse("http://127.0.0.1:8790").unwrap();
        let same: http::Uri = "http://127.0.0.1:8790/api/v1/products".parse().unwrap();
        let other_port: http::Uri = "http://127.0.0.1:8791/".parse().unwrap();
        assert_eq!(Origin::of_uri(&same), Some(allowed.clone()));
        assert_ne!(Origin::of_uri(&other_port), Some(allowed));
    }
}
