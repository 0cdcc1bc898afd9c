//! Sealed credentials: the guest names one in a `ferry-credential` request
//! header; the host strips that header and, only when the request's target is
//! one the credential is bound to, adds the secret's value as the manifest
//! says (bearer, basic, a header, a query parameter). The value never enters
//! guest memory. The secrets are opened in the run's
//! `Vault` (`crate::secrets`), which redacts their values from the run's
//! log lines, transmission log rows, error and result.

use crate::manifest::{Credential, Presentation, Target};
use base64::Engine as _;
use wasmtime_wasi_http::WasiBody;

/// The request header by which a guest asks for a credential.
pub const HEADER: &str = "ferry-credential";

/// The credential the request asks for, with the asking header removed.
pub(super) fn asked(request: &mut http::Request<WasiBody>) -> Result<Option<String>, String> {
    let asked: Vec<_> = request.headers().get_all(HEADER).iter().cloned().collect();
    request.headers_mut().remove(HEADER);
    match asked.as_slice() {
        [] => Ok(None),
        [one] => one
            .to_str()
            .map(|s| Some(s.trim().to_string()))
            .map_err(|_| format!("the `{HEADER}` header is not text")),
        _ => Err(format!("more than one `{HEADER}` header")),
    }
}

/// The credential `name`, if the manifest declares it and binds it to `target`.
pub(super) fn choose<'a>(
    credentials: &'a [Credential],
    name: &str,
    target: &Target,
    origin: &str,
) -> Result<&'a Credential, String> {
    let credential = credentials
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("credential `{name}` is not declared in the manifest"))?;
    if credential.rules.iter().any(|r| r.allows(target)) {
        Ok(credential)
    } else {
        let hosts: Vec<String> = credential.rules.iter().map(|r| r.to_string()).collect();
        Err(format!(
            "credential `{name}` is not bound to {} {} on {origin} (its hosts: {})",
            target.method,
            target.path,
            hosts.join(", ")
        ))
    }
}

/// Add `value` to the request as `presentation` says.
pub(super) fn present(
    request: &mut http::Request<WasiBody>,
    presentation: &Presentation,
    value: &str,
) -> Result<(), String> {
    let bad = || "the secret's value cannot be sent in a header".to_string();
    let (name, text) = match presentation {
        Presentation::Bearer => (http::header::AUTHORIZATION, format!("Bearer {value}")),
        Presentation::Basic { user } => {
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{value}"));
            (http::header::AUTHORIZATION, format!("Basic {pair}"))
        }
        Presentation::Header(name) => (
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?,
            value.to_string(),
        ),
        Presentation::Query(name) => {
            let uri = request.uri();
            let pair: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(name, value)
                .finish();
            let path_and_query = match uri.query() {
                Some(q) if !q.is_empty() => format!("{}?{q}&{pair}", uri.path()),
                _ => format!("{}?{pair}", uri.path()),
            };
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query.parse().map_err(|_| bad())?);
            *request.uri_mut() = http::Uri::from_parts(parts).map_err(|_| bad())?;
            return Ok(());
        }
    };
    let mut header = http::HeaderValue::from_str(&text).map_err(|_| bad())?;
    header.set_sensitive(true);
    request.headers_mut().insert(name, header);
    Ok(())
}
