//! Declarative connectors: a connector.toml with a `[rest]` section and no
//! code, run by Ferry's `rest` module against the shop simulator's v1 API.

use ferry::store::JobState;
use ferry_tests::{drain, enqueue_import, ferry_cli, fresh, install_rest_runtime, start_shop};
use serde_json::json;
use std::path::{Path, PathBuf};

fn shop_declarative() -> PathBuf {
    ferry::demo::examples_dir().join("shop-declarative")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declarative_connector_imports_and_exports_the_shop_v1_products() {
    let (_dir, ferry) = fresh(|_| {}).await;
    install_rest_runtime(&ferry).await;
    // `ferry install DIR`: no Cargo.toml there, so nothing is built.
    let dir = shop_declarative();
    let (ok, out, err) =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["install", dir.to_str().unwrap()]));
    assert!(ok, "{err}");
    assert!(out.contains("installed shop-declarative 1.0.0"), "{out}");
    assert!(ferry.refresh().await.unwrap());

    let (shop, url) = start_shop(40, 0, 0).await.unwrap();
    let params = json!({ "url": url, "api_key": shop_simulator::DEFAULT_API_KEY });
    ferry
        .add_instance(
            "acme",
            "shop-declarative",
            params.as_object().unwrap().clone(),
        )
        .await
        .unwrap();
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    let store = ferry.store();
    assert_eq!(store.count_records("product").await.unwrap(), 40);
    let link = store
        .link_by_external("acme", "product", "7")
        .await
        .unwrap()
        .expect("product 7 linked");
    let local = store.read_record("product", link.local_id).await.unwrap();
    let remote = shop.data().get("products", 7).unwrap().clone();
    assert_eq!(local.values["name"], remote["name"]);
    assert_eq!(local.values["default_code"], remote["sku"]);
    assert_eq!(local.values["qty_available"], remote["stock"]);
    assert!(local.values["list_price"].is_number(), "{:?}", local.values);
    assert_eq!(local.values["origin"], json!("shop"), "on_create");

    // A second import duplicates nothing (and writes nothing: the cursor
    // asks only for what changed, and nothing did).
    enqueue_import(&ferry, "acme", "product").await.unwrap();
    drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(store.count_records("product").await.unwrap(), 40);
    assert_eq!(shop.data().writes.get("products"), None);

    // A local change is exported once, the decimal written as the shop's text.
    ferry
        .write_record(
            "product",
            link.local_id,
            json!({ "list_price": 19.9 }),
            "test",
        )
        .await
        .unwrap();
    let stats = drain(&ferry, |_| {}).await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(store.count_jobs(JobState::Failed).await.unwrap(), 0);
    let data = shop.data();
    assert_eq!(data.writes.get("products"), Some(&1));
    assert_eq!(data.get("products", 7).unwrap()["price"], json!("19.90"));
}

/// A declarative connector with `mistake` made in its manifest.
fn with_mistake(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(shop_declarative().join("connector.toml")).unwrap();
    assert!(text.contains(from), "{from}");
    let path = dir.join("connector.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declarative_mistakes_are_refused_at_install_naming_the_key() {
    let (dir, ferry) = fresh(|_| {}).await;
    let manifest = shop_declarative().join("connector.toml");
    // Without the runtime, the refusal says how to install it.
    let err = ferry.install_declarative(&manifest).await.unwrap_err();
    assert!(
        err.to_string().contains("ferry install declarative/rest"),
        "{err}"
    );

    install_rest_runtime(&ferry).await;
    let cases = [
        (
            "records = \"/items\"",
            "records = \"items\"",
            "records = \"items\": a JSON pointer",
        ),
        (
            "method = \"PUT\"",
            "method = \"POST\"",
            "write.method = \"POST\"",
        ),
        (
            "{{ params.api_key }}",
            "{{ params.token }}",
            "no [params.token] declares",
        ),
        (
            "models = [\"product\"]",
            "models = [\"products\"]",
            "no [[rest.stream]] has model \"products\"",
        ),
        ("pages_at", "page_at", "unknown field `page_at`"),
        (
            "name = \"shop-declarative\"\nversion",
            "name = \"rest\"\nversion",
            "Ferry's runtime",
        ),
        ("write = {", "# write = {", "has no `write`"),
        (
            "[[subscription]]",
            "[[webhook]]\nname = \"x\"\nauth = \"none\"\n\n[[subscription]]",
            "cannot answer webhooks",
        ),
    ];
    for (from, to, expected) in cases {
        let path = with_mistake(dir.path(), from, to);
        let err = ferry
            .install_declarative(&path)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{to}: {err}");
        assert!(err.contains("connector.toml"), "names the file: {err}");
    }

    // Each declarative connector, and each change to its streams, is a
    // component of its own (the runtime's, with its section appended): pins
    // and the "same version, changed component" warning see it.
    let first = ferry.install_declarative(&manifest).await.unwrap();
    let runtime_hash = ferry
        .registry()
        .module("rest")
        .unwrap()
        .content_hash
        .clone();
    assert_ne!(first.module.content_hash, runtime_hash);
    let changed = with_mistake(dir.path(), "origin = \"shop\"", "origin = \"webshop\"");
    let second = ferry.install_declarative(&changed).await.unwrap();
    assert_ne!(second.module.content_hash, first.module.content_hash);
    assert!(
        second.warnings.iter().any(|w| w.contains("1.0.0")),
        "same version, changed streams: {:?}",
        second.warnings
    );

    // `ferry build` of a declarative connector says there is nothing to build.
    let (ok, out, err) = ferry_cli(
        &ferry,
        &[],
        &["build", shop_declarative().to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("nothing to build") && out.contains("streams: product"),
        "{out}"
    );
}
