//! Resolving a host name, screening the addresses, and sending the request to
//! the very address that was screened.
//!
//! `wasmtime_wasi_http::default_send_request` connects by name (a second
//! lookup the screen would not see), so the host connects itself: TCP to the
//! checked [`SocketAddr`], TLS verified against the name (rustls with the
//! webpki roots, as the default does), HTTP/1.1 with hyper over
//! `wasmtime_wasi_http::io::TokioIo`.

use super::blocked::forbidden;
use http_body_util::BodyExt;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::Error as HttpError;
use wasmtime_wasi_http::io::TokioIo;

/// Timeouts of one request (each already capped by the run's remaining time).
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    pub(super) connect: Duration,
    pub(super) first_byte: Duration,
    pub(super) between_bytes: Duration,
}

/// Why no address can be used.
pub(super) enum Refusal {
    /// The sandbox forbids every address the name has.
    Denied(String),
    /// The name does not resolve.
    Failed(HttpError),
}

/// `localhost` and its subdomains: resolved to loopback by the host itself
/// (RFC 6761), never through DNS.
pub(super) fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// The address to connect to for `host:port`: the first one the sandbox
/// allows. `literal` lifts the address checks (the allowing rule names this
/// IP, or `localhost`); `trusted` networks pass them.
pub(super) async fn resolve(
    host: &str,
    port: u16,
    literal: bool,
    trusted: &[IpNet],
    timeout: Duration,
) -> Result<SocketAddr, Refusal> {
    let dns_error = |rcode: &str| {
        Refusal::Failed(HttpError::DnsError {
            rcode: Some(rcode.to_string()),
            info_code: None,
        })
    };
    let addrs: Vec<IpAddr> = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![ip]
    } else if is_localhost(host) {
        vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
    } else if host == "invalid" || host.ends_with(".invalid") {
        // RFC 6761: never resolves; no query is sent.
        return Err(dns_error("NXDOMAIN"));
    } else {
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
            Err(_) => return Err(Refusal::Failed(HttpError::DnsTimeout)),
            Ok(Err(e)) => return Err(dns_error(&format!("{host}: {e}"))),
            Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
        }
    };
    let mut refused = None;
    for ip in addrs {
        // An IPv4-mapped address is its IPv4 address on the wire.
        let to = SocketAddr::new(ip.to_canonical(), port);
        match forbidden(ip) {
            None => return Ok(to),
            Some(_)
                if literal
                    || trusted
                        .iter()
                        .any(|net| net.contains(&ip) || net.contains(&to.ip())) =>
            {
                return Ok(to);
            }
            Some(why) => {
                refused.get_or_insert_with(|| {
                    if host.parse::<IpAddr>().is_ok() {
                        format!("{ip} is {why}")
                    } else {
                        format!("`{host}` resolves to {ip}, {why}")
                    }
                });
            }
        }
    }
    match refused {
        Some(why) => Err(Refusal::Denied(format!(
            "{why}; such addresses are reached only when allowed_hosts names the IP itself"
        ))),
        None => Err(dns_error(&format!("{host}: no address"))),
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth())
                // The ring provider supports the default versions: this cannot fail.
                .unwrap_or_else(|e| panic!("TLS configuration: {e}"));
            Arc::new(config)
        })
        .clone()
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Stream for T {}

type BoxedIo = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// Send `request` to `addr` (TLS for `host` when `tls`), and return the
/// response head with its body still streaming.
pub(super) async fn send<B>(
    mut request: http::Request<B>,
    addr: SocketAddr,
    host: &str,
    tls: bool,
    timeouts: &Timeouts,
) -> Result<(http::Response<hyper::body::Incoming>, BoxedIo), HttpError>
where
    B: http_body::Body<Data = bytes::Bytes, Error = HttpError> + Send + 'static,
{
    let tcp = tokio::time::timeout(timeouts.connect, TcpStream::connect(addr))
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(HttpError::Connect)?;
    let stream: Box<dyn Stream> = if tls {
        let name = rustls::pki_types::ServerName::try_from(host.to_string())?;
        let connector = tokio_rustls::TlsConnector::from(tls_config());
        let tls = tokio::time::timeout(timeouts.connect, connector.connect(name, tcp))
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(HttpError::Tls)?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = tokio::time::timeout(
        timeouts.connect,
        hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| HttpError::ConnectionTimeout)??;
    let conn = tokio::spawn(conn);
    // The request line carries the path only (the authority is for proxies).
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(path)
        .build()
        .map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let request = request.map(|b| b.boxed_unsync());
    let response = tokio::time::timeout(timeouts.first_byte, sender.send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)??;
    let io = async move {
        match conn.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(HttpError::from(e)),
            Err(join) => Err(HttpError::InternalError(Some(format!(
                "connection task: {join}"
            )))),
        }
    };
    Ok((response, Box::new(io)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_are_screened_after_resolution() {
        let t = Duration::from_secs(5);
        let denied = |r: Result<SocketAddr, Refusal>| match r {
            Err(Refusal::Denied(why)) => why,
            Ok(addr) => panic!("allowed {addr}"),
            Err(Refusal::Failed(e)) => panic!("failed: {e}"),
        };
        let why = denied(resolve("localhost", 80, false, &[], t).await);
        assert!(
            why.contains("`localhost` resolves to 127.0.0.1, a loopback"),
            "{why}"
        );
        let why = denied(resolve("169.254.169.254", 80, false, &[], t).await);
        assert!(why.contains("cloud metadata"), "{why}");
        let ok = resolve("127.0.0.1", 8080, true, &[], t).await;
        assert_eq!(ok.ok(), Some("127.0.0.1:8080".parse().unwrap()));
        let trusted = ["127.0.0.0/8".parse().unwrap()];
        let ok = resolve("api.localhost", 80, false, &trusted, t).await;
        assert_eq!(ok.ok(), Some("127.0.0.1:80".parse().unwrap()));
        assert!(matches!(
            resolve("shop.invalid", 80, false, &[], t).await,
            Err(Refusal::Failed(HttpError::DnsError { .. }))
        ));
    }

    #[tokio::test]
    async fn addresses_hiding_ipv4_are_refused_or_connect_as_ipv4() {
        let t = Duration::from_secs(5);
        for (host, said) in [
            (
                "::7f00:1",
                "::7f00:1 is an IPv4-compatible (deprecated) address",
            ),
            (
                "::ffff:127.0.0.1",
                "::ffff:127.0.0.1 is an IPv4-mapped address",
            ),
            (
                "64:ff9b:1::7f00:1",
                "64:ff9b:1::7f00:1 is a local-use NAT64",
            ),
            ("64:ff9b::7f00:1", "of 127.0.0.1, a loopback address"),
        ] {
            match resolve(host, 80, false, &[], t).await {
                Err(Refusal::Denied(why)) => assert!(why.contains(said), "{why}"),
                _ => panic!("{host} was not refused"),
            }
        }
        // Trusted (or named) mapped addresses are reached over IPv4.
        let trusted = ["127.0.0.0/8".parse().unwrap()];
        let ok = resolve("::ffff:127.0.0.1", 80, false, &trusted, t).await;
        assert_eq!(ok.ok(), Some("127.0.0.1:80".parse().unwrap()));
        let ok = resolve("::ffff:127.0.0.1", 80, true, &[], t).await;
        assert_eq!(ok.ok(), Some("127.0.0.1:80".parse().unwrap()));
    }
}
