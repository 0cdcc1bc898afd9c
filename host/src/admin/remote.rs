//! The client side of the admin API: [`super::Admin::Remote`].

use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// A running `ferry serve`, reached over HTTP.
#[derive(Clone)]
pub struct Remote {
    base: Url,
    client: reqwest::Client,
    token: Option<String>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token: a Debug print ends up in logs.
        f.debug_struct("Remote")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Remote {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self> {
        let base =
            Url::parse(base).map_err(|e| Error::Invalid(format!("server URL `{base}`: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Invalid(format!(
                "server URL `{base}`: expected http://HOST:PORT or https://HOST:PORT"
            )));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(Remote {
            base,
            client,
            token: None,
        })
    }

    /// The same client, presenting API token `token` (`Authorization: Bearer`).
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    /// The server's URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(super) async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T> {
        let url = self.url(segments);
        let request = self.client.get(url.clone());
        self.send(url, request).await
    }

    pub(super) async fn get_with<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &impl Serialize,
    ) -> Result<T> {
        let url = self.url(segments);
        let request = self.client.get(url.clone()).query(query);
        self.send(url, request).await
    }

    pub(super) async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl Serialize,
    ) -> Result<T> {
        let url = self.url(segments);
        let request = self.client.post(url.clone()).json(body);
        self.send(url, request).await
    }

    pub(super) async fn put<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl Serialize,
    ) -> Result<T> {
        let url = self.url(segments);
        let request = self.client.put(url.clone()).json(body);
        self.send(url, request).await
    }

    pub(super) async fn put_text<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &str,
    ) -> Result<T> {
        let url = self.url(segments);
        let request = self
            .client
            .put(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(body.to_string());
        self.send(url, request).await
    }

    pub(super) async fn delete<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T> {
        let url = self.url(segments);
        let request = self.client.delete(url.clone());
        self.send(url, request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        url: Url,
        request: reqwest::RequestBuilder,
    ) -> Result<T> {
        let failed = |status: Option<u16>, message: String| Error::Remote {
            url: url.to_string(),
            status,
            message,
        };
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|e| {
            failed(
                None,
                format!("cannot reach the server: {}", unreachable(&e)),
            )
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| failed(Some(status.as_u16()), format!("reading the answer: {e}")))?;
        if !status.is_success() {
            // The API answers errors as `{"error": "..."}`; anything else is shown as is.
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(String::from))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
            return Err(failed(Some(status.as_u16()), message));
        }
        serde_json::from_slice(&body).map_err(|e| {
            failed(
                Some(status.as_u16()),
                format!("unexpected answer (is this a Ferry server of the same version?): {e}"),
            )
        })
    }
}

/// Why a server could not be reached, in words: reqwest's own message names
/// only the URL ("error sending request for url …"); the reason is deeper.
fn unreachable(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".into();
    }
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        if let Some(io) = source.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            let said = match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused",
                ErrorKind::TimedOut => "connection timed out",
                ErrorKind::ConnectionReset => "connection reset by the server",
                ErrorKind::HostUnreachable => "host unreachable",
                ErrorKind::NetworkUnreachable => "network unreachable",
                _ => "",
            };
            if !said.is_empty() {
                return said.into();
            }
        }
        innermost = source;
    }
    innermost.to_string()
}
