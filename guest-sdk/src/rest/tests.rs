use super::{Paging, next_link, paginate, read_page};
use serde_json::{Value, json};

/// A list of `total` records served `size` at a time from `start`.
fn serve(total: u64, size: u64) -> impl Fn(u64) -> Vec<Value> {
    move |start| {
        (start..total.min(start + size))
            .map(|i| json!({ "id": i }))
            .collect()
    }
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[test]
fn page_numbers_stop_at_the_last_page_or_a_short_one() {
    let records = serve(45, 20);
    let paging = Paging::page_number("page")
        .per_page("per_page", 20)
        .last_page_at("/pages");
    let mut asked = Vec::new();
    let all = paginate("https://api.test/items?since=5", &paging, "/items", |url| {
        let page: u64 = query(url, "page").unwrap().parse().unwrap();
        assert_eq!(
            query(url, "since").as_deref(),
            Some("5"),
            "the query is kept"
        );
        asked.push(page);
        Ok((
            json!({ "items": records((page - 1) * 20), "pages": 3 }),
            None,
        ))
    })
    .unwrap();
    assert_eq!(all.len(), 45);
    assert_eq!(asked, vec![1, 2, 3]);
    // Without a page count: until a short page.
    let paging = Paging::page_number("page").per_page("size", 20);
    let all = paginate("https://api.test/items", &paging, "", |url| {
        let page: u64 = query(url, "page").unwrap().parse().unwrap();
        Ok((Value::Array(records((page - 1) * 20)), None))
    })
    .unwrap();
    assert_eq!(all.len(), 45);
}

#[test]
fn offsets_cursors_links_and_next_urls_read_everything() {
    let records = serve(25, 10);
    let offset = Paging::OffsetLimit {
        offset: "offset".into(),
        limit: "limit".into(),
        size: 10,
    };
    let all = paginate("https://api.test/x", &offset, "/data", |url| {
        let start: u64 = query(url, "offset").unwrap().parse().unwrap();
        Ok((json!({ "data": records(start) }), None))
    })
    .unwrap();
    assert_eq!(all.len(), 25);

    let cursor = Paging::Cursor {
        param: "after".into(),
        next: "/next".into(),
    };
    let all = paginate("https://api.test/x", &cursor, "/data", |url| {
        let start: u64 = query(url, "after").map(|c| c.parse().unwrap()).unwrap_or(0);
        let next = (start + 10 < 25).then(|| (start + 10).to_string());
        Ok((json!({ "data": records(start), "next": next }), None))
    })
    .unwrap();
    assert_eq!(all.len(), 25);

    let all = paginate("https://api.test/x?p=0", &Paging::LinkHeader, "", |url| {
        let start: u64 = query(url, "p").unwrap().parse().unwrap();
        let next = (start + 10 < 25)
            .then(|| format!("<https://api.test/x?p={}>; rel=\"next\"", start + 10));
        Ok((
            Value::Array(records(start)),
            next.and_then(|h| next_link(&h)),
        ))
    })
    .unwrap();
    assert_eq!(all.len(), 25);

    let next_url = Paging::NextUrl {
        next: "/links/next".into(),
    };
    let all = paginate("https://api.test/x?p=0", &next_url, "/data", |url| {
        let start: u64 = query(url, "p").unwrap().parse().unwrap();
        let next = (start + 10 < 25).then(|| format!("/x?p={}", start + 10));
        Ok((
            json!({ "data": records(start), "links": { "next": next } }),
            None,
        ))
    })
    .unwrap();
    assert_eq!(all.len(), 25, "relative next URLs resolve against the page");
}

#[test]
fn a_paging_that_never_ends_fails_instead_of_looping() {
    let cursor = Paging::Cursor {
        param: "c".into(),
        next: "/next".into(),
    };
    let mut n = 0u64;
    let err = paginate("https://api.test/x", &cursor, "/data", |_| {
        n += 1;
        Ok((json!({ "data": [], "next": n.to_string() }), None))
    })
    .unwrap_err();
    assert!(err.message.contains("did not end"), "{}", err.message);
}

#[test]
fn link_headers_name_their_next_page() {
    let header = "<https://a.test/x?page=1>; rel=\"prev\", <https://a.test/x?page=3>; rel=\"next\"";
    assert_eq!(
        next_link(header).as_deref(),
        Some("https://a.test/x?page=3")
    );
    assert_eq!(next_link("<https://a.test/x>; rel=\"last\""), None);
}

/// The ids of a list read a chunk at a time with `sizes` (the last size
/// repeated), as a batch step does, and the pages asked.
fn read_in_chunks(paging: &Paging, total: u64, sizes: &[u64]) -> (Vec<u64>, Vec<String>) {
    let mut ids = Vec::new();
    let mut asked = Vec::new();
    let mut from: Option<Value> = None;
    for n in 0.. {
        let size = sizes[n.min(sizes.len() - 1)];
        let page = read_page(
            "https://api.test/items",
            paging,
            "/items",
            from.as_ref(),
            Some(size),
            |url| {
                asked.push(url.to_string());
                let (start, per) = match query(url, "page") {
                    Some(page) => {
                        let per: u64 = query(url, "per_page").unwrap().parse().unwrap();
                        ((page.parse::<u64>().unwrap() - 1) * per, per)
                    }
                    None => (
                        query(url, "offset").unwrap().parse().unwrap(),
                        query(url, "limit").unwrap().parse().unwrap(),
                    ),
                };
                let items = serve(total, per)(start);
                Ok((
                    json!({ "items": items, "pages": total.div_ceil(per) }),
                    None,
                ))
            },
        )
        .unwrap();
        assert!(
            page.records.len() as u64 <= size,
            "a chunk holds at most its size"
        );
        ids.extend(page.records.iter().map(|r| r["id"].as_u64().unwrap()));
        match page.next {
            Some(next) => from = Some(next),
            None => break,
        }
    }
    (ids, asked)
}

#[test]
fn a_list_read_a_chunk_at_a_time_reads_each_record_once_whatever_the_chunk_sizes() {
    let pages = Paging::page_number("page")
        .per_page("per_page", 200)
        .last_page_at("/pages");
    let offsets = Paging::OffsetLimit {
        offset: "offset".into(),
        limit: "limit".into(),
        size: 200,
    };
    for paging in [&pages, &offsets] {
        for sizes in [&[100][..], &[8], &[8, 100, 30], &[500], &[7, 3]] {
            let (ids, _) = read_in_chunks(paging, 250, sizes);
            assert_eq!(ids, (0..250).collect::<Vec<_>>(), "{paging:?} {sizes:?}");
        }
    }
    // A chunk as large as the largest page costs one request per page.
    let (_, asked) = read_in_chunks(&pages, 250, &[200]);
    assert_eq!(asked.len(), 2, "{asked:?}");
}

#[test]
fn cursor_and_next_url_lists_are_read_a_page_per_chunk() {
    let cursor = Paging::Cursor {
        param: "after".into(),
        next: "/next".into(),
    };
    let records = serve(25, 10);
    let mut from: Option<Value> = None;
    let mut read = 0;
    loop {
        let page = read_page(
            "https://api.test/x",
            &cursor,
            "/data",
            from.as_ref(),
            Some(3),
            |url| {
                let start: u64 = query(url, "after").map(|c| c.parse().unwrap()).unwrap_or(0);
                let next = (start + 10 < 25).then(|| (start + 10).to_string());
                Ok((json!({ "data": records(start), "next": next }), None))
            },
        )
        .unwrap();
        read += page.records.len();
        match page.next {
            Some(next) => from = Some(next),
            None => break,
        }
    }
    assert_eq!(read, 25);
}
