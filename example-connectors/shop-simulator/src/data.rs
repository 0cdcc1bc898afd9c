//! What the shop holds (records per kind), what it was asked (requests,
//! writes, replayed creates), and the switches tests turn (failures, slow
//! creates).

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the shop holds, and what happened to it.
#[derive(Debug, Default)]
pub struct ShopData {
    /// Records per kind, by id.
    pub records: BTreeMap<String, BTreeMap<u64, Value>>,
    next_id: u64,
    /// Requests served, per `METHOD layout kind` (e.g. `GET v2 products`).
    pub requests: BTreeMap<String, u64>,
    /// Writes (create + update) applied, per kind.
    pub writes: BTreeMap<String, u64>,
    /// Creates answered with the record an earlier create with the same
    /// `Idempotency-Key` made (nothing new stored), per kind.
    pub replayed: BTreeMap<String, u64>,
    /// The next this many API calls answer 503.
    pub fail_next: u64,
    /// Creates store the record, then wait this many ms before answering:
    /// the window in which a test kills a worker between the remote create
    /// and the bind.
    pub create_delay_ms: u64,
    /// Record ids by (kind, idempotency key).
    keys: BTreeMap<(String, String), u64>,
    clock: i64,
}

impl ShopData {
    fn now(&mut self) -> i64 {
        // Strictly increasing, so that `updated_since` filters and versions
        // (`updated_at`, the ETag) are exact.
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.clock = wall.max(self.clock + 1);
        self.clock
    }

    /// Store a new record of `kind` (it gets an `id` and an `updated_at`).
    pub fn insert(&mut self, kind: &str, mut fields: Map<String, Value>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        fields.insert("id".into(), json!(id));
        fields.insert("updated_at".into(), json!(self.now()));
        let record = Value::Object(fields);
        self.records
            .entry(kind.to_string())
            .or_default()
            .insert(id, record.clone());
        record
    }

    /// Merge `fields` into a record (not its `id`) and move its `updated_at`,
    /// as an edit in the shop would; `None` if there is no such record.
    pub fn update(&mut self, kind: &str, id: u64, fields: Map<String, Value>) -> Option<Value> {
        let now = self.now();
        let record = self.records.get_mut(kind)?.get_mut(&id)?;
        let obj = record.as_object_mut()?;
        for (k, v) in fields.into_iter().filter(|(k, _)| k != "id") {
            obj.insert(k, v);
        }
        obj.insert("updated_at".into(), json!(now));
        Some(record.clone())
    }

    /// The record an earlier create of `kind` made with this idempotency key.
    pub(crate) fn by_key(&self, kind: &str, key: &str) -> Option<&Value> {
        let id = self.keys.get(&(kind.to_string(), key.to_string()))?;
        self.get(kind, *id)
    }

    /// Remember that the create with this key made record `id`.
    pub(crate) fn remember_key(&mut self, kind: &str, key: &str, id: u64) {
        self.keys.insert((kind.to_string(), key.to_string()), id);
    }

    /// Fill the shop with `products`, `customers` and `orders` (each order has
    /// 1 to 3 lines on existing products).
    pub fn seed(&mut self, products: u64, customers: u64, orders: u64) {
        let mut product_ids = Vec::new();
        for i in 1..=products {
            let mut f = Map::new();
            f.insert("name".into(), json!(format!("Product {i}")));
            f.insert("sku".into(), json!(format!("SKU-{i:05}")));
            f.insert(
                "price".into(),
                json!(format!("{}.{:02}", 5 + i % 95, i % 100)),
            );
            f.insert("stock".into(), json!(i % 50));
            f.insert("active".into(), json!(true));
            product_ids.push(
                self.insert("products", f)["id"]
                    .as_u64()
                    .unwrap_or_default(),
            );
        }
        let mut customer_ids = Vec::new();
        for i in 1..=customers {
            let mut f = Map::new();
            f.insert("name".into(), json!(format!("Customer {i}")));
            f.insert("email".into(), json!(format!("customer{i}@example.com")));
            f.insert(
                "city".into(),
                json!(["Lyon", "Berlin", "Porto", "Oslo"][i as usize % 4]),
            );
            customer_ids.push(
                self.insert("customers", f)["id"]
                    .as_u64()
                    .unwrap_or_default(),
            );
        }
        for i in 1..=orders {
            if product_ids.is_empty() || customer_ids.is_empty() {
                break;
            }
            let lines: Vec<Value> = (0..(1 + i % 3))
                .map(|l| {
                    let product = product_ids[((i * 7 + l * 13) as usize) % product_ids.len()];
                    json!({ "product_id": product, "qty": 1 + (i + l) % 4, "price": format!("{}.50", 3 + l) })
                })
                .collect();
            let mut f = Map::new();
            f.insert("number".into(), json!(format!("SO-{i:05}")));
            f.insert(
                "customer_id".into(),
                json!(customer_ids[i as usize % customer_ids.len()]),
            );
            f.insert("lines".into(), Value::Array(lines));
            self.insert("orders", f);
        }
    }

    /// A record of `kind` by id, in the v1 shape.
    pub fn get(&self, kind: &str, id: u64) -> Option<&Value> {
        self.records.get(kind).and_then(|r| r.get(&id))
    }

    /// How many records of `kind` there are.
    pub fn count(&self, kind: &str) -> usize {
        self.records.get(kind).map(|r| r.len()).unwrap_or(0)
    }
}
