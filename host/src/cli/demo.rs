//! `ferry demo`: the reference scenario, end to end, in one command.

use super::output::Output;
use anyhow::{Context, Result};
use ferry::Ferry;
use ferry::admin::Admin;
use ferry::demo;
use ferry::profiles::{NewProfile, ParamInput};
use ferry::store::{JobFilter, JobState};
use serde_json::json;
use shop_simulator::Shop;
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
    let shown = bar.clone();
    let stats = demo::drain(&ferry, move |s| {
        shown.set_position(s.done);
        shown.set_message(format!("{} done, {} failed", s.done, s.failed));
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
    batch_export(&ferry, &shop, out).await?;
    say(&format!(
        "done. Look around with: ferry --data-dir {} jobs | records product | links | profile list",
        dir.display()
    ));
    say(&format!(
        "     or in the console: ferry --data-dir {dir} token create me --role viewer, then \
         ferry --data-dir {dir} serve and open http://127.0.0.1:8080/",
        dir = dir.display()
    ));
    Ok(())
}

/// Step 5: a job profile runs `export-products`, a job made of an item step,
/// over new local products (one of them invalid).
async fn batch_export(ferry: &Ferry, shop: &Shop, out: &Output) -> Result<()> {
    let say = |text: &str| out.message(text);
    say("5. new products are made locally, and a job profile exports them in chunks…");
    let new = [
        ("Kayak", 480.0),
        ("Paddle", 35.5),
        ("Life vest", 59.0),
        ("Dry bag", -4.0),
    ];
    for (name, price) in new {
        let values = json!({ "name": name, "list_price": price, "active": true });
        ferry.create_record("product", values, "demo").await?;
    }
    let admin = Admin::Local(ferry.clone());
    let mut params = ParamInput::default();
    params.text_params.insert("since".into(), "1h".into());
    params.text_params.insert("chunk_size".into(), "10".into());
    admin
        .create_profile(
            &NewProfile {
                name: "catalog-export".into(),
                instance: "acme".into(),
                job: "export-products".into(),
                description: "Products changed in the last hour, to the shop".into(),
                params,
            },
            "demo",
        )
        .await?;
    let run = admin
        .run_profile("catalog-export", &ParamInput::default(), "demo")
        .await?;
    say(&format!(
        "   profile `catalog-export` → job {} export-products {}",
        run.job_id, run.payload
    ));
    let before = shop.data().writes.get("products").copied().unwrap_or(0);
    demo::drain(ferry, |_| {}).await?;
    for step in admin.job_steps(run.job_id).await? {
        say(&format!(
            "   step `{}`: {}, {} chunks: read {}, written {}, filtered {} (unchanged), skipped {}",
            step.step,
            step.status.as_str(),
            step.chunks,
            step.read,
            step.written,
            step.filtered,
            step.skipped
        ));
    }
    for warning in admin.job_warnings(run.job_id, 10).await?.warnings {
        say(&format!(
            "   warning: {} ({})",
            warning.reason, warning.item
        ));
    }
    let after = shop.data().writes.get("products").copied().unwrap_or(0);
    say(&format!(
        "   product writes received by the shop: {} more (the valid new ones, once)",
        after - before
    ));
    Ok(())
}
