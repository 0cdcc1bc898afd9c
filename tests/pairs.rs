//! Couples of external ids (external↔external links) for operators: listed
//! across instances and labels, found by the id on either side, removed by
//! hand (audited); through the library, the admin API and the `ferry` binary.

use crate::conflicts::{cli, installation};
use ferry::admin::{Admin, Remote};
use ferry::serve::ServeOptions;
use ferry::store::PairFilter;
use ferry::tokens::Role;
use ferry::{Error, Ferry};
use ferry_tests::*;
use serde_json::Map;

/// Couples of `acme` and `north`: customers 1→A and 2→B, an order 1→X.
async fn couples(ferry: &Ferry) {
    let store = ferry.store();
    store
        .add_instance("north", "shop", &Map::new())
        .await
        .unwrap();
    for (instance, label, left, right) in [
        ("acme", "crm-customer", "1", "A"),
        ("acme", "crm-customer", "2", "B"),
        ("acme", "crm-order", "1", "X"),
        ("north", "crm-customer", "1", "A"),
    ] {
        store
            .bind_pair(instance, label, left, right, None)
            .await
            .unwrap();
    }
}

fn sides(rows: &[ferry::store::InstancePair]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|p| {
            (
                p.instance.clone(),
                p.label.clone(),
                p.left_id.clone(),
                p.right_id.clone(),
            )
        })
        .collect()
}

fn own(s: [&str; 4]) -> (String, String, String, String) {
    (s[0].into(), s[1].into(), s[2].into(), s[3].into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn couples_are_listed_found_by_either_id_and_removed_with_an_audit_entry() {
    let (_dir, ferry, _) = installation().await;
    couples(&ferry).await;
    let admin = Admin::Local(ferry.clone());

    let acme = PairFilter {
        instance: Some("acme".into()),
        ..Default::default()
    };
    assert_eq!(admin.pairs(&acme).await.unwrap().len(), 3);
    let by_right = PairFilter {
        id: Some("A".into()),
        ..Default::default()
    };
    assert_eq!(
        sides(&admin.pairs(&by_right).await.unwrap()),
        [
            own(["acme", "crm-customer", "1", "A"]),
            own(["north", "crm-customer", "1", "A"])
        ]
    );
    let by_left = PairFilter {
        instance: Some("acme".into()),
        label: Some("crm-order".into()),
        id: Some("1".into()),
        ..Default::default()
    };
    assert_eq!(
        sides(&admin.pairs(&by_left).await.unwrap()),
        [own(["acme", "crm-order", "1", "X"])]
    );

    let removed = admin
        .unpair("acme", "crm-customer", "2", "cli")
        .await
        .unwrap();
    assert_eq!(removed.right_id, "B");
    assert_eq!(admin.pairs(&acme).await.unwrap().len(), 2);
    let again = admin.unpair("acme", "crm-customer", "2", "cli").await;
    assert!(matches!(again, Err(Error::NotFound { .. })), "{again:?}");

    let filter = ferry::store::AuditFilter {
        instance: Some("acme".into()),
        limit: 10,
        ..Default::default()
    };
    let audit = ferry::audit::list(ferry.store(), &filter).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == ferry::audit::PAIR_REMOVE)
        .expect("an audit entry for the removal");
    assert_eq!(
        (entry.actor.as_str(), entry.subject.as_str()),
        ("cli", "crm-customer 2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferry_links_pairs_finds_couples_and_unpair_removes_one() {
    let (_dir, ferry, global) = installation().await;
    couples(&ferry).await;

    let table = cli(&global, &["links", "--pairs", "--instance", "acme"]).await;
    assert!(table.ok, "{}", table.stderr);
    assert!(
        table.stdout.contains("crm-order") && table.stdout.contains("X"),
        "{}",
        table.stdout
    );
    let found = cli(&global, &["--json", "links", "--pairs", "--id", "B"]).await;
    let found = found.json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["left_id"], "2");

    let removed = cli(&global, &["links", "unpair", "acme", "crm-customer", "2"]).await;
    assert!(removed.ok, "{}", removed.stderr);
    assert!(
        removed.stdout.contains("removed couple"),
        "{}",
        removed.stdout
    );
    let gone = cli(&global, &["links", "--pairs", "--id", "B"]).await;
    assert!(gone.stdout.contains("no couples"), "{}", gone.stdout);
    let missing = cli(&global, &["links", "unpair", "acme", "crm-customer", "2"]).await;
    assert!(!missing.ok);
    assert!(missing.stderr.contains("not found"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_lists_couples_for_viewers_and_unpairs_for_managers() {
    let (_dir, ferry, _) = installation().await;
    couples(&ferry).await;
    let url = start_server(&ferry, ServeOptions::default()).await;
    let as_role = async |role| {
        let token = api_token(&ferry, role).await;
        Admin::Remote(Remote::new(&url).unwrap().with_token(Some(token)))
    };
    let viewer = as_role(Role::Viewer).await;
    let manager = as_role(Role::Manager).await;
    let by_id = PairFilter {
        id: Some("X".into()),
        ..Default::default()
    };
    assert_eq!(
        sides(&viewer.pairs(&by_id).await.unwrap()),
        [own(["acme", "crm-order", "1", "X"])]
    );
    let refused = viewer.unpair("acme", "crm-order", "1", "ignored").await;
    assert!(
        matches!(
            refused,
            Err(Error::Remote {
                status: Some(403),
                ..
            })
        ),
        "{refused:?}"
    );
    let removed = manager
        .unpair("acme", "crm-order", "1", "ignored")
        .await
        .unwrap();
    assert_eq!(removed.right_id, "X");
    assert!(viewer.pairs(&by_id).await.unwrap().is_empty());
    let missing = manager.unpair("acme", "crm-order", "1", "ignored").await;
    assert!(
        matches!(
            missing,
            Err(Error::Remote {
                status: Some(404),
                ..
            })
        ),
        "{missing:?}"
    );
}
