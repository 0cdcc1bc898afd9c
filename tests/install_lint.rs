//! The mistakes that used to install silently now fail the install, or warn,
//! naming the file, the key and the fix.

use ferry_tests::{built, fresh};

/// The shop manifest with `edit` applied, next to the shop's component.
fn edited_shop(dir: &std::path::Path, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let shop = built("shop");
    let text = std::fs::read_to_string(&shop.manifest).unwrap();
    let path = dir.join("connector.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_is_not_semver_is_refused() {
    let (dir, ferry) = fresh(|_| {}).await;
    let bad = edited_shop(dir.path(), |t| {
        t.replace("version = \"1.7.0\"", "version = \"one\"")
    });
    let err = ferry
        .install(&bad, &built("shop").wasm)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("connector.toml")
            && err.contains("[module] version = \"one\"")
            && err.contains("MAJOR.MINOR.PATCH")
            && err.contains("docs/manifest.md"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_record_event_is_refused_with_the_right_name() {
    let (dir, ferry) = fresh(|_| {}).await;
    let bad = edited_shop(dir.path(), |t| {
        t.replacen("event = \"record.updated\"", "event = \"record.update\"", 1)
    });
    let err = ferry
        .install(&bad, &built("shop").wasm)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[[subscription]] #")
            && err.contains("\"record.update\"")
            && err.contains("did you mean \"record.updated\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downgrade_and_a_model_no_unit_answers_warn_naming_both() {
    let (dir, ferry) = fresh(|_| {}).await;
    let shop = built("shop");
    let first = ferry.install(&shop.manifest, &shop.wasm).await.unwrap();
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);

    let older = edited_shop(dir.path(), |t| {
        t.replace("version = \"1.7.0\"", "version = \"1.6.2\"")
    });
    let installed = ferry.install(&older, &shop.wasm).await.unwrap();
    assert!(
        installed
            .warnings
            .iter()
            .any(|w| w.contains("1.6.2") && w.contains("1.7.0") && w.contains("downgrade")),
        "{:?}",
        installed.warnings
    );

    let contacts = edited_shop(dir.path(), |t| {
        format!(
            "{t}\n[[subscription]]\nevent = \"record.created\"\nmodels = [\"contacts\"]\njob = \"export-record\"\n"
        )
    });
    let installed = ferry.install(&contacts, &shop.wasm).await.unwrap();
    let warning = installed
        .warnings
        .iter()
        .find(|w| w.contains("contacts"))
        .unwrap_or_else(|| panic!("no warning for `contacts`: {:?}", installed.warnings));
    assert!(
        warning.contains("models = [\"contacts\"]") && warning.contains("product"),
        "{warning}"
    );
}
