//! Paging: how an API splits a list into pages, read whole
//! ([`paginate`]) or a chunk at a time from a position ([`read_page`], what
//! a batch step's reader needs: it must start again where the last
//! committed chunk ended).

use crate::{Error, Result};
use serde_json::{Value, json};

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

/// One chunk of a list: its records, and the position the next one starts
/// at (none at the end). A position is JSON: an offset, a page number, a
/// cursor or a URL, as the paging needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The records read.
    pub records: Vec<Value>,
    /// Where the next chunk starts; none when the list ends here.
    pub next: Option<Value>,
}

/// A page body and the `Link` header's next URL, as `fetch` answers them.
pub type Fetched = (Value, Option<String>);

/// Read every page from `first`, fetching with `fetch` (a page's body and
/// its `Link` next URL): the paging logic, apart from the network.
pub fn paginate(
    first: &str,
    paging: &Paging,
    records: &str,
    mut fetch: impl FnMut(&str) -> Result<Fetched>,
) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut from: Option<Value> = None;
    for _ in 0..MAX_PAGES {
        let page = read_page(first, paging, records, from.as_ref(), None, &mut fetch)?;
        all.extend(page.records);
        match page.next {
            // The same position twice would read the same page forever.
            Some(next) if from.as_ref() != Some(&next) => from = Some(next),
            _ => return Ok(all),
        }
    }
    Err(Error::fatal(format!(
        "the list at {first} did not end within {MAX_PAGES} pages: check its paging"
    )))
}

/// Read the chunk of the list at `first` that starts at `from` (none: the
/// start), about `size` records (none: one page of the paging's own size).
///
/// - Page numbers with a page-size parameter: the position is an offset,
///   and pages are asked at a size dividing both the offset and `size`
///   (at most the paging's size), so a chunk starts exactly where the last
///   one ended whatever the chunk size; without a page-size parameter the
///   position is the page number and a chunk is one page.
/// - Offset/limit: the position is the offset; `limit` is `size` (at most
///   the paging's size).
/// - Cursor, `Link` header, next URL: the position is the cursor or URL
///   the last page gave, and a chunk is one page of the API's size.
pub fn read_page(
    first: &str,
    paging: &Paging,
    records: &str,
    from: Option<&Value>,
    size: Option<u64>,
    mut fetch: impl FnMut(&str) -> Result<Fetched>,
) -> Result<Page> {
    let offset = from.and_then(Value::as_u64);
    match paging {
        Paging::None => Ok(Page {
            records: records_of(&fetch(first)?.0, records)?,
            next: None,
        }),
        Paging::PageNumber {
            per_page: Some((_, max)),
            first: first_number,
            last_page,
            ..
        } => {
            let offset = offset.unwrap_or(0);
            let want = size.unwrap_or(*max).clamp(1, (*max).max(1));
            let per = gcd(offset, want);
            let mut number = first_number + offset / per;
            let mut read = Vec::new();
            loop {
                let body = fetch(&page_url(first, paging, number, None, Some(per))?)?.0;
                let page = records_of(&body, records)?;
                let count = page.len() as u64;
                read.extend(page);
                let more = match last_page_of(&body, last_page) {
                    Some(last) => number < last,
                    None => count >= per,
                };
                if !more || count == 0 {
                    return Ok(Page {
                        records: read,
                        next: None,
                    });
                }
                if read.len() as u64 >= want {
                    let next = json!(offset + read.len() as u64);
                    return Ok(Page {
                        records: read,
                        next: Some(next),
                    });
                }
                number += 1;
            }
        }
        Paging::PageNumber {
            first: first_number,
            last_page,
            ..
        } => {
            let number = offset.unwrap_or(*first_number);
            let body = fetch(&page_url(first, paging, number, None, None)?)?.0;
            let page = records_of(&body, records)?;
            let more = match last_page_of(&body, last_page) {
                Some(last) => number < last,
                None => !page.is_empty(),
            };
            Ok(Page {
                next: more.then(|| json!(number + 1)),
                records: page,
            })
        }
        Paging::OffsetLimit { size: max, .. } => {
            let offset = offset.unwrap_or(0);
            let limit = size.unwrap_or(*max).clamp(1, (*max).max(1));
            let url = page_url(first, paging, offset, None, Some(limit))?;
            let page = records_of(&fetch(&url)?.0, records)?;
            let count = page.len() as u64;
            Ok(Page {
                next: (count >= limit && count > 0).then(|| json!(offset + count)),
                records: page,
            })
        }
        Paging::Cursor { next, .. } => {
            let cursor = from.and_then(Value::as_str);
            let body = fetch(&page_url(first, paging, 0, cursor, None)?)?.0;
            let next = match body.pointer(next) {
                Some(Value::String(c)) if !c.is_empty() => Some(json!(c)),
                Some(Value::Number(n)) => Some(json!(n.to_string())),
                _ => None,
            };
            Ok(Page {
                records: records_of(&body, records)?,
                next,
            })
        }
        Paging::LinkHeader => {
            let url = from.and_then(Value::as_str).unwrap_or(first);
            let (body, link_next) = fetch(url)?;
            Ok(Page {
                records: records_of(&body, records)?,
                next: link_next.map(Value::from),
            })
        }
        Paging::NextUrl { next } => {
            let url = from.and_then(Value::as_str).unwrap_or(first);
            let (body, _) = fetch(url)?;
            let next = body
                .pointer(next)
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .map(|u| absolute(url, u))
                .transpose()?;
            Ok(Page {
                records: records_of(&body, records)?,
                next: next.map(Value::from),
            })
        }
    }
}

/// The page count the body gives at `pointer`, when it gives one.
fn last_page_of(body: &Value, pointer: &Option<String>) -> Option<u64> {
    pointer
        .as_ref()
        .and_then(|p| body.pointer(p))
        .and_then(Value::as_u64)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `first` with the query of page `number` (or offset, or cursor
/// `cursor`), asking `size` records when given, else the paging's size.
fn page_url(
    first: &str,
    paging: &Paging,
    number: u64,
    cursor: Option<&str>,
    size: Option<u64>,
) -> Result<String> {
    let mut url =
        url::Url::parse(first).map_err(|e| Error::fatal(format!("URL `{first}`: {e}")))?;
    let set: Vec<(String, String)> = match paging {
        Paging::PageNumber {
            param, per_page, ..
        } => {
            let mut set = vec![(param.clone(), number.to_string())];
            if let Some((name, per)) = per_page {
                set.push((name.clone(), size.unwrap_or(*per).to_string()));
            }
            set
        }
        Paging::OffsetLimit {
            offset,
            limit,
            size: per,
        } => vec![
            (offset.clone(), number.to_string()),
            (limit.clone(), size.unwrap_or(*per).to_string()),
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
