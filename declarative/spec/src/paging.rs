//! `paging`: how the API splits a list into pages.

use serde::{Deserialize, Serialize};

/// `paging = { type = "…", … }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paging {
    /// `?page=1`, `?page=2`… until a page is short or empty, or the page
    /// number reaches the count at `pages_at`.
    PageNumber {
        /// The page's query parameter.
        param: String,
        /// The page-size parameter.
        #[serde(default)]
        size_param: Option<String>,
        /// Records asked for per page (with `size_param`).
        #[serde(default)]
        size: Option<u64>,
        /// Where the body says how many pages there are (a JSON pointer).
        #[serde(default)]
        pages_at: Option<String>,
    },
    /// `?offset=0&limit=100`, then `offset=100`… until a page is short.
    OffsetLimit {
        /// The offset parameter.
        offset_param: String,
        /// The limit parameter.
        limit_param: String,
        /// Records per page.
        size: u64,
    },
    /// `?cursor=…` with the value the previous page gave at `next_at`.
    Cursor {
        /// The cursor's query parameter.
        param: String,
        /// Where the body holds the next cursor (a JSON pointer).
        next_at: String,
    },
    /// The next page's URL in the `Link` header (`rel="next"`).
    LinkHeader,
    /// The next page's URL in the body, at `next_at` (a JSON pointer).
    NextUrl {
        /// Where the body holds the next URL.
        next_at: String,
    },
}

impl Paging {
    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            Paging::PageNumber {
                size_param,
                size,
                pages_at,
                ..
            } => {
                if size_param.is_some() != size.is_some() {
                    return Err("paging: `size_param` and `size` go together".into());
                }
                if let Some(at) = pages_at {
                    crate::pointer("paging.pages_at", at)?;
                }
                if *size == Some(0) {
                    return Err("paging.size: at least 1".into());
                }
                Ok(())
            }
            Paging::OffsetLimit { size, .. } if *size == 0 => Err("paging.size: at least 1".into()),
            Paging::Cursor { next_at, .. } | Paging::NextUrl { next_at } => {
                crate::pointer("paging.next_at", next_at)
            }
            _ => Ok(()),
        }
    }
}
