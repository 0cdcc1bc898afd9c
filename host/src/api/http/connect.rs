//! Resolving a host name, screening the addresses, and sending the request to
//! the very address that was screened.
//!
//! `wasmtime_wasi_http::default_send_request` connects by name (a second
//! lookup the screen would not see), so the host connects itself: TCP to the
//! checked [`SocketAddr`], TLS verified against the name (rustls with the
//! webpki roots, as the default does), HTTP/1.1 with hyper over
//! `wasmtime_wasi_http::io::TokioIo`.

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

/// Why an address is off limits to guests, or `None` for a public address.
pub(crate) fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                Some("cloud metadata")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if seg[0] & 0xffc0 == 0xfec0 {
                Some("private (site-local)")
            } else if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64: the IPv4 address it stands for decides.
                forbidden_v4(Ipv4Addr::from(
                    (u32::from(seg[6]) << 16) | u32::from(seg[7]),
                ))
            } else if seg[0] == 0x2002 {
                // 6to4: likewise.
                forbidden_v4(Ipv4Addr::from(
                    (u32::from(seg[1]) << 16) | u32::from(seg[2]),
                ))
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("cloud metadata")
    } else if a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else {
        None
    }
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
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match forbidden(ip) {
            None => return Ok(SocketAddr::new(ip, port)),
            Some(_) if literal || trusted.iter().any(|net| net.contains(&ip)) => {
                return Ok(SocketAddr::new(ip, port));
            }
            Some(why) => {
                refused.get_or_insert_with(|| {
                    if host.parse::<IpAddr>().is_ok() {
                        format!("{ip} is a {why} address")
                    } else {
                        format!("`{host}` resolves to {ip}, a {why} address")
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

    fn why(ip: &str) -> Option<&'static str> {
        forbidden(ip.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_screened() {
        assert_eq!(why("169.254.169.254"), Some("cloud metadata"));
        assert_eq!(why("fd00:ec2::254"), Some("cloud metadata"));
        assert_eq!(why("127.0.0.1"), Some("loopback"));
        assert_eq!(why("::1"), Some("loopback"));
        assert_eq!(why("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(why("10.1.2.3"), Some("private"));
        assert_eq!(why("172.16.0.1"), Some("private"));
        assert_eq!(why("192.168.1.1"), Some("private"));
        assert_eq!(why("fc00::1"), Some("private (unique local)"));
        assert_eq!(why("169.254.1.1"), Some("link-local"));
        assert_eq!(why("fe80::1"), Some("link-local"));
        assert_eq!(why("100.64.0.1"), Some("shared (CGNAT)"));
        assert_eq!(why("0.0.0.0"), Some("unspecified"));
        assert_eq!(why("::"), Some("unspecified"));
        assert_eq!(why("224.0.0.1"), Some("multicast"));
        assert_eq!(why("ff02::1"), Some("multicast"));
        assert_eq!(why("64:ff9b::7f00:1"), Some("loopback"));
        assert_eq!(why("2002:a00:1::"), Some("private"));
        assert_eq!(why("93.184.216.34"), None);
        assert_eq!(why("2606:2800:220:1::"), None);
        assert_eq!(why("100.128.0.1"), None);
    }

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
}
