//! A REST toolkit over [`crate::http`]: a client with its base URL and auth
//! from the instance's params or sealed credentials, lists read page by page
//! with the paging the API uses, records picked out of each page.
//! Rate limits are the [`http::Response::error_for_status`]'s business:
//! 429 and 5xx are retryable, after `Retry-After` when the API says it.
//!
//! ```ignore
//! let rest = Rest::from_param(ctx, "url")?.header("x-api-key", &ctx.param("api_key").unwrap_or_default());
//! let paging = Paging::page_number("page").per_page("per_page", 200).last_page_at("/pages");
//! let since = since.map(|s| s.to_string());
//! let items = rest.list("api/v1/products", &[("updated_since", since.as_deref())], &paging, "/items")?;
//! ```
//!
//! A [`Collection`] is a whole [`crate::Adapter`] for the usual REST
//! collection (`GET path`, `GET path/{id}`, `POST path`, `PUT path/{id}`),
//! configured instead of written.

mod collection;
mod pages;

pub use collection::Collection;
pub use pages::{Fetched, MAX_PAGES, Page, Paging, next_link, paginate, read_page};

use crate::http::{self, Request};
use crate::{Context, Error, Result};
use serde_json::Value;

/// A client of one REST API.
#[derive(Debug, Clone)]
pub struct Rest {
    base: String,
    headers: Vec<(String, String)>,
    credential: Option<String>,
}

impl Rest {
    /// A client of the API at `base` (`https://api.example.com/v2`).
    pub fn new(base: &str) -> Rest {
        Rest {
            base: base.trim_end_matches('/').to_string(),
            headers: Vec::new(),
            credential: None,
        }
    }

    /// A client of the API whose base URL is the instance's param `name`.
    pub fn from_param(ctx: &Context, name: &str) -> Result<Rest> {
        Ok(Rest::new(&ctx.require_param(name)?))
    }

    /// Send `name: value` with every request (an API key from a param…).
    pub fn header(mut self, name: &str, value: &str) -> Rest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Present the sealed credential `name` with every request: the host
    /// adds the secret, the guest never holds it.
    pub fn credential(mut self, name: &str) -> Rest {
        self.credential = Some(name.into());
        self
    }

    /// The URL of `path` (relative to the base, or absolute) with `query`
    /// (pairs whose value is none are left out).
    pub fn url(&self, path: &str, query: &[(&str, Option<&str>)]) -> Result<String> {
        let text = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        };
        let mut url =
            url::Url::parse(&text).map_err(|e| Error::fatal(format!("URL `{text}`: {e}")))?;
        if query.iter().any(|(_, v)| v.is_some()) {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                if let Some(value) = value {
                    pairs.append_pair(name, value);
                }
            }
        }
        Ok(url.into())
    }

    /// A request of `method` to `url`, with the client's headers and credential.
    pub fn request(&self, method: &str, url: &str) -> Request {
        let mut request = Request::new(method, url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(name) = &self.credential {
            request = request.credential(name);
        }
        request
    }

    /// Send `request`; a 4xx/5xx is an error (429 and 5xx retryable).
    pub fn send(&self, request: Request) -> Result<http::Response> {
        request.send()?.error_for_status()
    }

    /// `GET path` as JSON.
    pub fn get(&self, path: &str) -> Result<Value> {
        self.send(self.request("GET", &self.url(path, &[])?))?
            .json()
    }

    /// `method path` with a JSON body, answered as JSON (null when empty).
    pub fn send_json(&self, method: &str, path: &str, body: &Value) -> Result<Value> {
        let response = self.send(self.request(method, &self.url(path, &[])?).json(body))?;
        if response.body.is_empty() {
            return Ok(Value::Null);
        }
        response.json()
    }

    /// Every record of the list at `path` with `query`: page by page as
    /// `paging` says, the records of each page at `records` (a JSON pointer;
    /// `""` when the body is the array).
    pub fn list(
        &self,
        path: &str,
        query: &[(&str, Option<&str>)],
        paging: &Paging,
        records: &str,
    ) -> Result<Vec<Value>> {
        let first = self.url(path, query)?;
        paginate(&first, paging, records, |url| self.fetch(url))
    }

    /// The chunk of the list at `path` with `query` that starts at `from`
    /// (none: the start), about `size` records: what a batch step reads per
    /// chunk. See [`read_page`] for what a position is under each paging.
    pub fn page(
        &self,
        path: &str,
        query: &[(&str, Option<&str>)],
        paging: &Paging,
        records: &str,
        from: Option<&Value>,
        size: u64,
    ) -> Result<Page> {
        let first = self.url(path, query)?;
        read_page(&first, paging, records, from, Some(size), |url| {
            self.fetch(url)
        })
    }

    /// `GET url`: the body as JSON and the `Link` header's next URL.
    fn fetch(&self, url: &str) -> Result<Fetched> {
        let response = self.send(self.request("GET", url))?;
        let next = response.header("link").and_then(next_link);
        Ok((response.json()?, next))
    }
}

#[cfg(test)]
mod tests;
