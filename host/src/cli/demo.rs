//! `ferry demo`: the reference scenario, end to end, in one command.

use super::output::Output;
use anyhow::{Context, Result};
use ferry::Ferry;
use ferry::demo;
use ferry::store::{JobFilter, JobState};
use serde_json::json;
use std::path::Path;

pub async fn run(data_dir: &Path, products: u64, out: &Output) -> Result<()> {
    let say = |text: &str| out.message(text);
    let dir = data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot reset {}", dir.display()))?;
    }
    say(
        "1. building the example connectors shop (shop, shop@1.7) and shop-v2 (shop@2.0 → shop@1.7)…",
    );
    let ferry = Ferry::open(&dir).await?;
    demo::install_shop_connectors(&ferry).await?;
    out.connectors(&ferry.registry());

    let (customers, orders) = (50, 100);
    let (shop, url) = demo::start_shop(products, customers, orders).await?;
    say(&format!(
        "2. shop simulator on {url}: {products} products, {customers} customers, {orders} orders"
    ));
    ferry
        .add_instance("acme", "shop@2.0", demo::shop_params("shop@2.0", &url))
        .await?;
    say("   backend instance `acme` on shop@2.0");

    say("3. importing customers, products and orders (one job per record)…");
    for model in ["customer", "product", "order"] {
        demo::enqueue_import(&ferry, "acme", model).await?;
    }
    let bar = out.progress_bar("import");
    let stats = demo::drain(&ferry, |s| {
        bar.set_position(s.done);
        bar.set_message(format!("{} done, {} failed", s.done, s.failed));
    })
    .await?;
    bar.finish_and_clear();
    let store = ferry.store();
    let (p, c, o) = (
        store.count_records("product").await?,
        store.count_records("customer").await?,
        store.count_records("order").await?,
    );
    say(&format!(
        "   {} jobs done, {} failed: {p} products, {c} customers, {o} orders imported",
        stats.done, stats.failed
    ));
    let requests = shop.data().requests.clone();
    let v1: u64 = requests
        .iter()
        .filter(|(k, _)| k.contains(" v1 "))
        .map(|(_, n)| n)
        .sum();
    let v2: u64 = requests
        .iter()
        .filter(|(k, _)| k.contains(" v2 "))
        .map(|(_, n)| n)
        .sum();
    say(&format!(
        "   the shop saw {v2} v2 calls and {v1} v1 calls: the shop-v2 adapter answered, the rest fell back to shop@1.7"
    ));
    let order = store.search_records("order", &[], Some(1), 0).await?;
    if let Some(order) = order.first() {
        say(&format!(
            "   order {}: {}",
            order.id,
            serde_json::Value::Object(order.values.clone())
        ));
    }

    say("4. a person changes a product locally…");
    let product = store
        .search_records("product", &[], Some(1), 0)
        .await?
        .into_iter()
        .next()
        .context("no product was imported")?;
    let link = store
        .link_by_local("acme", "product", product.id)
        .await?
        .context("the product has no link")?;
    ferry
        .write_record(
            "product",
            product.id,
            json!({ "name": "Renamed locally", "list_price": 99.99 }),
            "demo",
        )
        .await?;
    let exports = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Pending),
            instance: Some("acme".into()),
            limit: 10,
            ..Default::default()
        })
        .await?;
    say(&format!(
        "   record.updated fired: {} export job(s) queued",
        exports.len()
    ));
    demo::drain(&ferry, |_| {}).await?;
    let external_id: u64 = link
        .external_id
        .parse()
        .context("external id is not a number")?;
    let remote = shop
        .data()
        .get("products", external_id)
        .cloned()
        .context("product gone from the shop")?;
    let writes = shop.data().writes.get("products").copied().unwrap_or(0);
    say(&format!("   in the shop now: {remote}"));
    say(&format!(
        "   product writes received by the shop: {writes} (exported once, no loop)"
    ));
    say(&format!(
        "done. Look around with: ferry --data-dir {} jobs | records product | links",
        dir.display()
    ));
    Ok(())
}
