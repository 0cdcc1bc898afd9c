//! The `mirror` connector: keeps the products of two shops in step, both ways.
//!
//! There is no local record in between: each product of the left shop is
//! coupled with its twin in the right shop by a *pair* (an external↔external
//! link, `links.bind-pair`), as Sync Studio couples a github issue with a
//! trello card. The job `mirror` reads what changed on each side since its
//! cursor (`mirror:left`, `mirror:right`, committed with the job) and writes it
//! to the other side.
//!
//! Why it never loops: a pair keeps the version (`updated_at`) each side had
//! after the last copy. Copying left → right changes the right record, and the
//! pair records that new right version; when the right side's changes are read
//! next, that version is recognised as the copy itself and skipped.
//!
//! When both twins changed since the last copy, the newer change wins (by the
//! shops' `updated_at`) and the decision is logged; writes carry `If-Match`, so
//! a change made in the shop between the read and the write is not overwritten
//! (the job is retried and decides again). Creates carry an `Idempotency-Key`
//! that is the same on every try, so a worker killed between the create and
//! the pair cannot make a second twin.

use ferry_sdk::bindings::ferry::connector0_1_3::cursors;
use ferry_sdk::http;
use ferry_sdk::mapper::id_text;
use ferry_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The product fields both shops keep, copied as they are.
const FIELDS: [&str; 5] = ["name", "sku", "price", "stock", "active"];

/// One of the two shops.
struct Side {
    /// `left` or `right`: the side of the pair its ids are on.
    name: &'static str,
    url: String,
    api_key: String,
}

impl Side {
    fn of(ctx: &Context, name: &'static str) -> Result<Side> {
        Ok(Side {
            name,
            url: ctx
                .require_param(&format!("{name}_url"))?
                .trim_end_matches('/')
                .to_string(),
            api_key: ctx.param(&format!("{name}_api_key")).unwrap_or_default(),
        })
    }

    fn is_left(&self) -> bool {
        self.name == "left"
    }

    /// The key of this side's version in a pair's data.
    fn version_key(&self) -> String {
        format!("{}_version", self.name)
    }

    fn send(&self, request: http::Request) -> Result<Value> {
        request
            .header("x-api-key", &self.api_key)
            .send()?
            .error_for_status()?
            .json()
    }

    /// Products changed after `since` (all when none), every page.
    fn changed(&self, since: Option<i64>) -> Result<Vec<Value>> {
        let since = since
            .map(|s| format!("&updated_since={s}"))
            .unwrap_or_default();
        let mut found = Vec::new();
        let mut page = 1;
        loop {
            let url = format!(
                "{}/api/v1/products?page={page}&per_page=200{since}",
                self.url
            );
            let body = self.send(http::Request::get(&url))?;
            let items = body["items"].as_array().ok_or_else(|| {
                Error::fatal(format!("{} shop: a list without `items`", self.name))
            })?;
            found.extend(items.iter().cloned());
            if page >= body["pages"].as_u64().unwrap_or(0) {
                return Ok(found);
            }
            page += 1;
        }
    }

    fn read(&self, id: &str) -> Result<Value> {
        self.send(http::Request::get(&format!(
            "{}/api/v1/products/{id}",
            self.url
        )))
    }

    /// Create a product; `key` makes a retried create answer the first one.
    fn create(&self, fields: &Value, key: &str) -> Result<Value> {
        self.send(
            http::Request::post(&format!("{}/api/v1/products", self.url))
                .header("idempotency-key", key)
                .json(fields),
        )
    }

    /// Write a product, unless it changed since `version` was read.
    fn write(&self, id: &str, fields: &Value, version: i64) -> Result<Value> {
        let response = http::Request::put(&format!("{}/api/v1/products/{id}", self.url))
            .header("x-api-key", &self.api_key)
            .header("if-match", &format!("\"{version}\""))
            .json(fields)
            .send()?;
        if response.status == 412 {
            return Err(Error::retryable(format!(
                "product {id} changed in the {} shop meanwhile: the next try decides again",
                self.name
            )));
        }
        response.error_for_status()?.json()
    }
}

fn version(record: &Value) -> Option<i64> {
    record["updated_at"].as_i64()
}

fn copied_fields(record: &Value) -> Value {
    let fields: Map<String, Value> = FIELDS
        .iter()
        .filter_map(|f| record.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect();
    Value::Object(fields)
}

/// What happened to one changed product.
enum Outcome {
    Created,
    Updated,
    /// Its change was the copy of the other side's, or lost to a newer one.
    Skipped,
}

/// Copy one product changed on `from` to `to`.
fn copy(ctx: &Context, label: &str, from: &Side, to: &Side, record: &Value) -> Result<Outcome> {
    let links = ctx.links();
    let id = id_text(&record["id"]);
    let seen = version(record).ok_or_else(|| Error::fatal("a product without `updated_at`"))?;
    let pair = if from.is_left() {
        links.pair_by_left(label, &id)?
    } else {
        links.pair_by_right(label, &id)?
    };
    let fields = copied_fields(record);
    let (twin, twin_version) = match &pair {
        Some(pair) => {
            if pair.data[from.version_key()].as_i64() == Some(seen) {
                return Ok(Outcome::Skipped);
            }
            let twin_id = if from.is_left() {
                &pair.right_id
            } else {
                &pair.left_id
            };
            let twin = to.read(twin_id)?;
            let now = version(&twin).unwrap_or_default();
            let copied = pair.data[to.version_key()].as_i64();
            if copied.is_some_and(|c| c != now) && now > seen {
                ctx.warn_log(&format!(
                    "product {id} changed in both shops since the last copy: the {} shop's change is newer and wins",
                    to.name
                ));
                return Ok(Outcome::Skipped);
            }
            if copied.is_some_and(|c| c != now) {
                ctx.warn_log(&format!(
                    "product {id} changed in both shops since the last copy: the {} shop's change is newer and wins",
                    from.name
                ));
            }
            let written = to.write(twin_id, &fields, now)?;
            (twin_id.clone(), version(&written))
        }
        None => {
            let key = format!("mirror-{label}-{}-{id}", from.name);
            let created = to.create(&fields, &key)?;
            (id_text(&created["id"]), version(&created))
        }
    };
    let data = json!({ from.version_key(): seen, to.version_key(): twin_version });
    let (left, right) = if from.is_left() {
        (id.as_str(), twin.as_str())
    } else {
        (twin.as_str(), id.as_str())
    };
    links.bind_pair(label, left, right, Some(&data))?;
    Ok(if pair.is_some() {
        Outcome::Updated
    } else {
        Outcome::Created
    })
}

/// Job `mirror`: copy what changed on each side since its cursor to the other.
pub fn mirror(ctx: &Context, _payload: Value) -> Result<Value> {
    let label = ctx.param("label").unwrap_or_else(|| "products".into());
    let left = Side::of(ctx, "left")?;
    let right = Side::of(ctx, "right")?;
    let mut report = Map::new();
    for (from, to) in [(&left, &right), (&right, &left)] {
        let cursor = format!("mirror:{}", from.name);
        let since = cursors::get(&cursor)?
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|v| v.as_i64());
        let changed = from.changed(since)?;
        let (mut created, mut updated, mut skipped) = (0u64, 0u64, 0u64);
        let mut newest = since;
        for record in &changed {
            match copy(ctx, &label, from, to, record)? {
                Outcome::Created => created += 1,
                Outcome::Updated => updated += 1,
                Outcome::Skipped => skipped += 1,
            }
            newest = newest.max(version(record));
        }
        if let Some(newest) = newest {
            cursors::set(&cursor, &newest.to_string())?;
        }
        ctx.info_log(&format!(
            "{} → {}: {created} created, {updated} updated, {skipped} unchanged",
            from.name, to.name
        ));
        report.insert(
            format!("{}_to_{}", from.name, to.name),
            json!({ "created": created, "updated": updated, "skipped": skipped }),
        );
    }
    Ok(Value::Object(report))
}

/// The connector.
pub fn connector() -> Connector {
    Connector::new().job(
        "mirror",
        "Copy what changed in either shop to the other one",
        mirror,
    )
}

ferry_sdk::export_connector!(connector);
