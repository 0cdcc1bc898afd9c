//! Tests of `[[subscription]]`: events, conditions, timed delays.

use super::*;
use serde_json::json;

fn decl(event: &str) -> SubscriptionDecl {
    SubscriptionDecl {
        event: event.into(),
        models: vec!["order".into()],
        job: Some("ok".into()),
        priority: 10,
        fields: Vec::new(),
        filter: None,
        after: None,
        from: EventSource::Instance,
    }
}

#[test]
fn filters_are_lists_of_triples_or_tables() {
    let mut d = decl("record.updated");
    d.filter = Some(json!([
        ["state", "=", "done"],
        ["amount", ">=", 10],
        ["tag", "in", ["a", "b"]]
    ]));
    let c = d.conditions().unwrap();
    assert_eq!(c.filter.len(), 3);
    assert_eq!(c.filter[1].op, FilterOp::Ge);
    assert_eq!(c.filter[2].op, FilterOp::OneOf);

    d.filter = Some(json!({ "state": "done", "tag": ["a", "b"] }));
    let c = d.conditions().unwrap();
    assert_eq!(
        c.filter.iter().map(|f| f.op).collect::<Vec<_>>(),
        [FilterOp::Eq, FilterOp::OneOf]
    );

    // Stored as JSON and read back unchanged.
    let stored = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<Conditions>(&stored).unwrap(), c);
}

#[test]
fn bad_filters_name_the_condition_and_reason() {
    let mut d = decl("record.updated");
    d.filter = Some(json!([["state", "=>", "done"]]));
    let err = d.check("[[subscription]] #1").unwrap_err();
    assert!(
        err.starts_with(
            "[[subscription]] #1 filter[0] = [\"state\",\"=>\",\"done\"]: unknown operator"
        ),
        "{err}"
    );
    d.filter = Some(json!([["state", "in", "done"]]));
    assert!(d.check("#1").unwrap_err().contains("`in` needs a list"));
    d.filter = Some(json!([["state", "="]]));
    assert!(
        d.check("#1")
            .unwrap_err()
            .contains("expected [field, op, value]")
    );
    d.filter = Some(json!({ "bad field": 1 }));
    assert!(d.check("#1").unwrap_err().contains("filter.bad field"));
    d.filter = Some(json!("state = done"));
    assert!(d.check("#1").unwrap_err().contains("expected a list"));
}

#[test]
fn timed_conditions_parse_delays_and_need_their_event() {
    let mut d = decl(TIMED_EVENT);
    d.after = Some(AfterDecl {
        field: "closed_at".into(),
        delay: "1d".into(),
    });
    let after = d.conditions().unwrap().after.unwrap();
    assert_eq!(after.delay_ms, 86_400_000);
    d.check("#1").unwrap();

    d.after = Some(AfterDecl {
        field: "closed_at".into(),
        delay: "-2h 30m".into(),
    });
    assert_eq!(d.conditions().unwrap().after.unwrap().delay_ms, -9_000_000);

    d.after = Some(AfterDecl {
        field: "closed_at".into(),
        delay: "1 fortnight".into(),
    });
    let err = d.check("[[subscription]] #3").unwrap_err();
    assert!(
        err.starts_with("[[subscription]] #3 after delay = \"1 fortnight\""),
        "{err}"
    );

    let mut d = decl("record.updated");
    d.after = Some(AfterDecl {
        field: "closed_at".into(),
        delay: "1d".into(),
    });
    assert!(
        d.check("#1")
            .unwrap_err()
            .contains("needs event = \"record.timed\"")
    );
    assert!(
        decl(TIMED_EVENT)
            .check("#1")
            .unwrap_err()
            .contains("needs `after")
    );
}

#[test]
fn watched_fields_only_where_updates_are() {
    let mut d = decl("record.created");
    d.fields = vec!["name".into()];
    assert!(
        d.check("#1")
            .unwrap_err()
            .contains("fields: watched fields apply")
    );
    d.event = "record.updated".into();
    d.check("#1").unwrap();
    d.fields = vec!["na me".into()];
    assert!(d.check("#1").unwrap_err().contains("fields:"));
}

#[test]
fn a_mistyped_record_event_is_refused_with_the_closest_name() {
    let d = decl("record.update");
    let err = d.check_event_name("[[subscription]] #1").unwrap_err();
    assert!(err.contains("did you mean \"record.updated\""), "{err}");
    assert!(decl("record.deleted").check_event_name("x").is_ok());
    // Custom events are the module's own: any valid name.
    assert!(decl("shop.order-paid").check_event_name("x").is_ok());
}
