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

use crate::http::{self, Request};
use crate::{Context, Error, Result};
use serde_json::Value;

/// Most pages one listing reads: past it the paging is surely wrong (a
/// cursor that never ends), and the listing fails instead of looping.
pub const MAX_PAGES: usize = 10_000;

/// How an API splits a list into pages.
#[derive(Debug, Clone, PartialEq)]
pub enum Paging {
    /// One request answers everything.
    None,
    /// `?page=1`, `?page=2`… until a page is short or empty, or the page
    /// number reaches the count at `last_page` (a JSON pointer) in the body.
    PageNumber {
        /// The page's query parameter.
        param: String,
        /// The page-size parameter and the size asked for.
        per_page: Option<(String, u64)>,
        /// The first page's number (1 unless said).
        first: u64,
        /// Where the body says how many pages there are.
        last_page: Option<String>,
    },
    /// `?offset=0&limit=100`, then `offset=100`… until a page is short.
    OffsetLimit {
        /// The offset parameter.
        offset: String,
        /// The limit parameter.
        limit: String,
        /// Records per page.
        size: u64,
    },
    /// `?cursor=…` with the value the previous page gave at `next` (a JSON
    /// pointer), until it is null or missing.
    Cursor {
        /// The cursor's query parameter.
        param: String,
        /// Where the body holds the next cursor.
        next: String,
    },
    /// The next page's URL in the `Link` header (`rel="next"`, RFC 8288).
    LinkHeader,
    /// The next page's URL in the body, at `next` (a JSON pointer).
    NextUrl {
        /// Where the body holds the next URL.
        next: String,
    },
}

impl Paging {
    /// Pages numbered by `param`, from 1.
    pub fn page_number(param: &str) -> Paging {
        Paging::PageNumber {
            param: param.into(),
            per_page: None,
            first: 1,
            last_page: None,
        }
    }

    /// With page size `size` asked for by `param` (page-number paging).
    pub fn per_page(mut self, param: &str, size: u64) -> Paging {
        if let Paging::PageNumber { per_page, .. } = &mut self {
            *per_page = Some((param.into(), size));
        }
        self
    }

    /// With the page count at `pointer` in the body (page-number paging).
    pub fn last_page_at(mut self, pointer: &str) -> Paging {
        if let Paging::PageNumber { last_page, .. } = &mut self {
            *last_page = Some(pointer.into());
        }
        self
    }
}

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
        paginate(&first, paging, records, |url| {
            let response = self.send(self.request("GET", url))?;
            let next = response.header("link").and_then(next_link);
            Ok((response.json()?, next))
        })
    }
}

/// Read every page from `first`, fetching with `fetch` (a page's body and
/// its `Link` next URL): the paging logic, apart from the network.
pub fn paginate(
    first: &str,
    paging: &Paging,
    records: &str,
    mut fetch: impl FnMut(&str) -> Result<(Value, Option<String>)>,
) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut page_number = match paging {
        Paging::PageNumber { first, .. } => *first,
        _ => 0,
    };
    let mut url = page_url(first, paging, page_number, None)?;
    for _ in 0..MAX_PAGES {
        let (body, link_next) = fetch(&url)?;
        let page = records_of(&body, records)?;
        let count = page.len() as u64;
        all.extend(page);
        let next = match paging {
            Paging::None => None,
            Paging::PageNumber {
                per_page,
                last_page,
                ..
            } => {
                let last = last_page
                    .as_ref()
                    .and_then(|p| body.pointer(p))
                    .and_then(Value::as_u64);
                let short = per_page.as_ref().is_some_and(|(_, size)| count < *size);
                let more = match last {
                    Some(last) => page_number < last,
                    None => count > 0 && !short,
                };
                more.then(|| {
                    page_number += 1;
                    page_url(first, paging, page_number, None)
                })
                .transpose()?
            }
            Paging::OffsetLimit { size, .. } => (count >= *size && count > 0)
                .then(|| page_url(first, paging, all.len() as u64, None))
                .transpose()?,
            Paging::Cursor { next, .. } => match body.pointer(next) {
                Some(Value::String(c)) if !c.is_empty() => {
                    Some(page_url(first, paging, 0, Some(c))?)
                }
                Some(Value::Number(n)) => Some(page_url(first, paging, 0, Some(&n.to_string()))?),
                _ => None,
            },
            Paging::LinkHeader => link_next,
            Paging::NextUrl { next } => body
                .pointer(next)
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .map(|u| absolute(&url, u))
                .transpose()?,
        };
        match next {
            Some(next) if next != url => url = next,
            _ => return Ok(all),
        }
    }
    Err(Error::fatal(format!(
        "the list at {first} did not end within {MAX_PAGES} pages: check its paging"
    )))
}

/// `first` with the query of page `number` (or cursor `cursor`).
fn page_url(first: &str, paging: &Paging, number: u64, cursor: Option<&str>) -> Result<String> {
    let mut url =
        url::Url::parse(first).map_err(|e| Error::fatal(format!("URL `{first}`: {e}")))?;
    let set: Vec<(String, String)> = match paging {
        Paging::PageNumber {
            param, per_page, ..
        } => {
            let mut set = vec![(param.clone(), number.to_string())];
            if let Some((name, size)) = per_page {
                set.push((name.clone(), size.to_string()));
            }
            set
        }
        Paging::OffsetLimit {
            offset,
            limit,
            size,
        } => vec![
            (offset.clone(), number.to_string()),
            (limit.clone(), size.to_string()),
        ],
        Paging::Cursor { param, .. } => match cursor {
            Some(c) => vec![(param.clone(), c.to_string())],
            None => vec![],
        },
        _ => vec![],
    };
    if !set.is_empty() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !set.iter().any(|(name, _)| name == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .extend_pairs(set);
    }
    Ok(url.into())
}

/// The records of a page: the array at `pointer`.
fn records_of(body: &Value, pointer: &str) -> Result<Vec<Value>> {
    match body.pointer(pointer) {
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(Value::Null) | None if !pointer.is_empty() => Ok(Vec::new()),
        _ => Err(Error::fatal(format!(
            "a page of the list has no array at `{pointer}`: say where its records are"
        ))),
    }
}

/// `link` resolved against `base` (a next URL may be relative).
fn absolute(base: &str, link: &str) -> Result<String> {
    let base = url::Url::parse(base).map_err(|e| Error::fatal(format!("URL `{base}`: {e}")))?;
    base.join(link)
        .map(Into::into)
        .map_err(|e| Error::fatal(format!("next URL `{link}`: {e}")))
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests;
