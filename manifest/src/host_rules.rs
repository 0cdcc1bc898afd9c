//! The grammar of host rules: the entries of `[capabilities] allowed_hosts`
//! and of a credential's `hosts`, and what a request must be to match one.
//!
//! An entry is `[METHOD ]SCHEME://HOST[:PORT][PATH]`:
//!
//! | part | forms | meaning |
//! | --- | --- | --- |
//! | method | `GET`, `POST`… (optional) | only this method; any when absent |
//! | scheme | `http`, `https` | exactly this scheme |
//! | host | `api.shop.example`, `127.0.0.1`, `[::1]` | exactly this host: a *literal* entry |
//! | | `*.shop.example` | any subdomain (one or more labels), not `shop.example` itself |
//! | | `*` | any host |
//! | port | `:8443`, `:*` | this port, any port; the scheme's default when absent |
//! | path | `/v2/products/*` | paths starting with `/v2/products/` |
//! | | `/v2` | `/v2` and what is below it (`/v2/…`), not `/v2x` |
//!
//! Any part may come from the backend instance's params: `{{ params.url }}`,
//! `GET {{ params.url }}/v2/*`. Templates are checked at install (they must name
//! declared params) and filled in when a run starts.
//!
//! Only a literal host (an exact name or IP written in the entry, or put there by
//! a template) may resolve to loopback, private, link-local or metadata
//! addresses; the host checks that after DNS resolution, when it sends the
//! request.

use std::net::IpAddr;

pub(crate) use ferry_declarative::render;

/// The host part of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    /// Exactly this name (lower case, no trailing dot).
    Name(String),
    /// Exactly this address.
    Ip(IpAddr),
    /// Any name below this domain (`*.shop.example`).
    Subdomains(String),
    /// Any host (`*`).
    Any,
}

/// The path part of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// Paths starting with this text (`/v2/products/*`).
    Prefix(String),
    /// This path and what is below it (`/v2` matches `/v2` and `/v2/x`).
    Under(String),
}

/// One `allowed_hosts` entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    /// Only this method (upper case); any when `None`.
    pub method: Option<String>,
    /// `http` or `https`.
    pub scheme: String,
    /// Which hosts.
    pub host: HostMatch,
    /// Which port; any when `None` (`:*`).
    pub port: Option<u16>,
    /// Which paths; any when `None`.
    pub path: Option<PathMatch>,
}

/// A request as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Method, upper case.
    pub method: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// Host, lower case, without IPv6 brackets or a trailing dot.
    pub host: &'a str,
    /// Port (the scheme's default when the URL has none).
    pub port: u16,
    /// Path, without the query.
    pub path: &'a str,
}

impl HostRule {
    /// Parse `[METHOD ]scheme://host[:port][/path]` (templates already filled in).
    pub fn parse(text: &str) -> Result<HostRule, String> {
        let text = text.trim();
        let (method, url) = match text.split_once(char::is_whitespace) {
            Some((method, url)) => {
                if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(format!("`{method}` is not an HTTP method"));
                }
                (Some(method.to_ascii_uppercase()), url.trim())
            }
            None => (None, text),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` is not a URL (expected scheme://host)"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(format!("`{url}`: only http and https are allowed")),
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(format!(
                "`{url}`: user names and passwords do not belong here"
            ));
        }
        let (host, port) = split_host_port(authority).map_err(|e| format!("`{url}`: {e}"))?;
        let port = match port {
            None => Some(default_port),
            Some("*") => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("`{url}`: `{p}` is not a port"))?,
            ),
        };
        Ok(HostRule {
            method,
            scheme,
            host: parse_host(host).map_err(|e| format!("`{url}`: {e}"))?,
            port,
            path: parse_path(path).map_err(|e| format!("`{url}`: {e}"))?,
        })
    }

    /// Whether the entry names the host exactly (not a wildcard): only such
    /// entries may reach private and loopback addresses.
    pub fn is_literal(&self) -> bool {
        matches!(self.host, HostMatch::Name(_) | HostMatch::Ip(_))
    }

    /// Whether scheme, host and port match (method and path aside).
    pub fn matches_origin(&self, t: &Target<'_>) -> bool {
        self.scheme == t.scheme
            && self.port.is_none_or(|p| p == t.port)
            && match &self.host {
                HostMatch::Any => true,
                HostMatch::Name(name) => name == t.host,
                HostMatch::Ip(ip) => t.host.parse::<IpAddr>().is_ok_and(|h| h == *ip),
                HostMatch::Subdomains(domain) => t
                    .host
                    .strip_suffix(domain.as_str())
                    .and_then(|label| label.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty()),
            }
    }

    /// Whether the whole request matches.
    pub fn allows(&self, t: &Target<'_>) -> bool {
        self.matches_origin(t)
            && self.method.as_deref().is_none_or(|m| m == t.method)
            && match &self.path {
                None => true,
                Some(rule) => {
                    plain_path(t.path)
                        && match rule {
                            PathMatch::Prefix(p) => t.path.starts_with(p.as_str()),
                            PathMatch::Under(p) => {
                                t.path.strip_prefix(p.as_str()).is_some_and(|rest| {
                                    rest.is_empty() || rest.starts_with('/') || p.ends_with('/')
                                })
                            }
                        }
                }
            }
    }
}

impl std::fmt::Display for HostRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(m) = &self.method {
            write!(f, "{m} ")?;
        }
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            HostMatch::Name(n) => write!(f, "{n}")?,
            HostMatch::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            HostMatch::Ip(ip) => write!(f, "{ip}")?,
            HostMatch::Subdomains(d) => write!(f, "*.{d}")?,
            HostMatch::Any => write!(f, "*")?,
        }
        match self.port {
            Some(p) => write!(f, ":{p}")?,
            None => write!(f, ":*")?,
        }
        match &self.path {
            Some(PathMatch::Prefix(p)) => write!(f, "{p}*"),
            Some(PathMatch::Under(p)) => write!(f, "{p}"),
            None => Ok(()),
        }
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed `[` in the host".to_string())?;
        return match after {
            "" => Ok((host, None)),
            p => p
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or_else(|| format!("unexpected `{p}` after the host")),
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn parse_host(host: &str) -> Result<HostMatch, String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("no host".into());
    }
    if host == "*" {
        return Ok(HostMatch::Any);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(HostMatch::Ip(ip));
    }
    let (wildcard, name) = match host.strip_prefix("*.") {
        Some(domain) => (true, domain.to_string()),
        None => (false, host.clone()),
    };
    let valid = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if !valid {
        return Err(format!(
            "`{host}` is not a host name (a wildcard is only allowed as `*` or a leading `*.`)"
        ));
    }
    Ok(if wildcard {
        HostMatch::Subdomains(name)
    } else {
        HostMatch::Name(name)
    })
}

fn parse_path(path: &str) -> Result<Option<PathMatch>, String> {
    if path.is_empty() || path == "/" || path == "/*" {
        return Ok(None);
    }
    if path.contains(['?', '#']) {
        return Err("a rule's path cannot have a query or a fragment".into());
    }
    let (body, prefix) = match path.strip_suffix('*') {
        Some(body) => (body, true),
        None => (path, false),
    };
    if body.contains('*') {
        return Err("`*` is only allowed at the end of the path".into());
    }
    if !plain_path(body) {
        return Err("the path has `.`/`..` segments or encoded slashes".into());
    }
    Ok(Some(if prefix {
        PathMatch::Prefix(body.to_string())
    } else {
        PathMatch::Under(body.to_string())
    }))
}

/// A path without dot segments, encoded dots or slashes, or backslashes: such
/// a path could mean something else to the server than its text says, so a
/// path rule never matches it.
fn plain_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || path.contains('\\')
    {
        return false;
    }
    path.split('/').all(|seg| seg != "." && seg != "..")
}
