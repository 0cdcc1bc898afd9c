//! Offline tests from recorded traffic (`ferry test DIR [--record]`) and the
//! canary before an upgrade (`ferry install DIR --canary | --promote`), on
//! the declarative shop connector and the shop simulator.

use ferry::cassette::{Cassette, REDACTED};
use ferry_tests::{ferry_cli, fresh, install_rest_runtime};
use shop_simulator::Shop;
use std::path::{Path, PathBuf};

/// A copy of `example-connectors/shop-declarative` (manifest and scenarios,
/// no cassettes) in `dir`.
fn connector_copy(dir: &Path) -> PathBuf {
    let from = ferry::demo::examples_dir().join("shop-declarative");
    let to = dir.join("shop-declarative");
    std::fs::create_dir_all(&to).unwrap();
    for file in ["connector.toml", "scenarios.toml"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    to
}

/// Change `from` to `to` in the connector's manifest.
fn edit_manifest(dir: &Path, from: &str, to: &str) {
    let path = dir.join("connector.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// A shop of `products` products served on a free port, stopped by
/// aborting the task: the shop, its address, the task and its URL.
async fn live_shop(
    products: u64,
) -> (
    Shop,
    std::net::SocketAddr,
    tokio::task::JoinHandle<()>,
    String,
) {
    let shop = Shop::default();
    shop.data().seed(products, 0, 0);
    let (addr, server) = shop.serve(([127, 0, 0, 1], 0).into()).await.unwrap();
    let url = format!("http://{addr}");
    (shop, addr, server, url)
}

/// `ferry test DIR --record` against the shop at `url`: stdout, once it passed.
fn record(ferry: &ferry::Ferry, path: &str, url: &str) -> String {
    let env = [
        ("SHOP_URL", url),
        ("SHOP_API_KEY", shop_simulator::DEFAULT_API_KEY),
    ];
    let (ok, out, err) =
        tokio::task::block_in_place(|| ferry_cli(ferry, &env, &["test", path, "--record"]));
    assert!(ok, "{out}\n{err}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_scenarios_replay_offline_and_name_what_changed() {
    let (dir, ferry) = fresh(|_| {}).await;
    install_rest_runtime(&ferry).await;
    let connector = connector_copy(dir.path());
    let path = connector.to_str().unwrap();

    // Record against a live shop.
    let (shop, addr, server, url) = live_shop(30).await;
    let out = record(&ferry, path, &url);
    assert!(out.contains("2 scenarios recorded, 0 failed"), "{out}");
    assert_eq!(
        shop.data().writes.get("products"),
        Some(&1),
        "export ran live"
    );

    let import = Cassette::load(&connector.join("cassettes/import.json")).unwrap();
    assert_eq!(import.recorded_with, "shop-declarative 1.0.0");
    assert!(
        import.interactions[0]
            .request
            .url
            .starts_with(&format!("{url}/api/v1/products")),
        "{:?}",
        import.interactions[0].request
    );
    let export = Cassette::load(&connector.join("cassettes/export.json")).unwrap();
    let put = export
        .interactions
        .iter()
        .find(|i| i.request.method == "PUT")
        .expect("the export's PUT is on tape");
    assert_eq!(put.request.url, format!("{url}/api/v1/products/7"));
    assert_eq!(put.request.body_value()["price"], "19.90");
    // No secret on tape: the key is neither in the params nor in a header.
    for name in ["import", "export"] {
        let text =
            std::fs::read_to_string(connector.join(format!("cassettes/{name}.json"))).unwrap();
        assert!(
            !text.contains(shop_simulator::DEFAULT_API_KEY),
            "{name}: {text}"
        );
        assert!(text.contains(REDACTED), "{name}");
    }
    assert_eq!(import.params["api_key"], REDACTED);

    // Replay with the network cut: the shop is gone.
    server.abort();
    let _ = server.await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "shop still up"
    );
    let (ok, out, err) = tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["test", path]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("ok     import (replayed"), "{out}");
    assert!(out.contains("2 scenarios replayed, 0 failed"), "{out}");
    // The same from `cargo test`, through the SDK's helper.
    let mut replay = ferry_sdk::testing::replay_command(&connector, Some("export"));
    let bin_dir = ferry_tests::ferry_bin().parent().unwrap().to_path_buf();
    let search = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    replay
        .env("PATH", search)
        .arg("--data-dir")
        .arg(ferry.data_dir())
        .arg("--database")
        .arg(ferry.store().url());
    let report = tokio::task::block_in_place(|| ferry_sdk::testing::check(&mut replay)).unwrap();
    assert!(
        report.contains("1 scenarios replayed, 0 failed"),
        "{report}"
    );

    // A change that asks for other pages fails the replay, naming the request.
    edit_manifest(&connector, "size = 200", "size = 10");
    let (ok, out, err) = tokio::task::block_in_place(|| {
        ferry_cli(&ferry, &[], &["test", path, "--scenario", "import"])
    });
    assert!(!ok, "{out}");
    let asked =
        format!("request not in the cassette: GET {url}/api/v1/products?page=1&per_page=10");
    assert!(out.contains(&asked), "{out}");
    assert!(out.contains("recorded request never made: GET"), "{out}");
    assert!(err.contains("1 of 1 scenarios failed"), "{err}");
    edit_manifest(&connector, "size = 10", "size = 200");

    // A missing cassette is named, with how to make it.
    std::fs::remove_file(connector.join("cassettes/export.json")).unwrap();
    let (ok, _, err) = tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["test", path]));
    assert!(!ok);
    assert!(err.contains("scenario `export`: no cassette at"), "{err}");
    assert!(err.contains("ferry test DIR --record"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_shows_what_a_new_version_maps_differently_then_promote_installs_it() {
    let (dir, ferry) = fresh(|_| {}).await;
    install_rest_runtime(&ferry).await;
    let connector = connector_copy(dir.path());
    let path = connector.to_str().unwrap();
    let (_shop, _, server, url) = live_shop(12).await;
    record(&ferry, path, &url);
    server.abort();
    let (ok, out, err) = tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["install", path]));
    assert!(ok, "{out}\n{err}");

    // Nothing changed: no difference.
    let (ok, out, err) =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["install", path, "--canary"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("canary: 0 of 2 scenarios differ"), "{out}");

    // v1.1 keeps the shop's price as its text: exactly that shows.
    edit_manifest(&connector, "version = \"1.0.0\"", "version = \"1.1.0\"");
    edit_manifest(
        &connector,
        "price = { local = \"list_price\", type = \"decimal\" }",
        "price = \"list_price\"",
    );
    let (ok, out, err) =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["install", path, "--canary"]));
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("scenario import: shop-declarative 1.0.0 → shop-declarative 1.1.0"),
        "{out}"
    );
    let local: Vec<&str> = out.lines().filter(|l| l.contains("local:")).collect();
    assert!(!local.is_empty(), "{out}");
    for line in &local {
        assert!(
            line.contains("product.list_price: differs in"),
            "only the price differs: {out}"
        );
    }
    let outbound: Vec<&str> = out.lines().filter(|l| l.contains("outbound:")).collect();
    assert_eq!(outbound.len(), 1, "{out}");
    assert!(
        outbound[0].contains(&format!(
            "PUT body.price: differs in 1 request, e.g. PUT {url}/api/v1/products/7"
        )),
        "{out}"
    );
    assert!(out.contains("canary: 2 of 2 scenarios differ"), "{out}");
    // The canary installed nothing.
    let installed = ferry.store().modules().await.unwrap();
    let module = installed
        .iter()
        .find(|m| m.name == "shop-declarative")
        .unwrap();
    assert_eq!(module.version, "1.0.0");

    // --promote shows the same, then installs it.
    let (ok, out, err) =
        tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["install", path, "--promote"]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("canary: 2 of 2 scenarios differ"), "{out}");
    assert!(out.contains("installed shop-declarative 1.1.0"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_credential_and_an_instance_secret_never_reach_the_cassette() {
    let (dir, ferry) = fresh(|_| {}).await;
    install_rest_runtime(&ferry).await;
    // The shop's key as an instance secret, presented by the host.
    let connector = connector_copy(dir.path());
    edit_manifest(
        &connector,
        "headers = { x-api-key = \"{{ params.api_key }}\" }",
        "credential = \"shop-key\"",
    );
    edit_manifest(
        &connector,
        "[rest]",
        "[[capabilities.credential]]\nname = \"shop-key\"\nsecret = \"api_key\"\nhosts = [\"{{ params.url }}\"]\nheader = \"x-api-key\"\n\n[rest]",
    );
    std::fs::write(
        connector.join("scenarios.toml"),
        r#"[instance]
params = { url = "${SHOP_URL}" }
secrets = { api_key = "${SHOP_API_KEY}" }

[[scenario]]
name = "import"
steps = [{ job = "import-batch", data = { model = "product" } }]
"#,
    )
    .unwrap();
    let path = connector.to_str().unwrap();
    let (_shop, _, _server, url) = live_shop(5).await;
    let out = record(&ferry, path, &url);
    // The shop answered (it refuses a request without the key)…
    assert!(
        out.contains("(recorded 6 requests, 5 local records)"),
        "{out}"
    );
    // …and the key is nowhere on tape: the host adds it after the tape.
    let text = std::fs::read_to_string(connector.join("cassettes/import.json")).unwrap();
    assert!(!text.contains(shop_simulator::DEFAULT_API_KEY), "{text}");
    assert!(!text.contains("x-api-key"), "{text}");
    // The replay needs no secret: a placeholder is sealed in its place.
    let (ok, out, err) = tokio::task::block_in_place(|| ferry_cli(&ferry, &[], &["test", path]));
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("1 scenarios replayed, 0 failed"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_connectors_cassettes_replay() {
    let (_dir, ferry) = fresh(|_| {}).await;
    install_rest_runtime(&ferry).await;
    let example = ferry::demo::examples_dir().join("shop-declarative");
    let (ok, out, err) = tokio::task::block_in_place(|| {
        ferry_cli(&ferry, &[], &["test", example.to_str().unwrap()])
    });
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("2 scenarios replayed, 0 failed"), "{out}");
}
