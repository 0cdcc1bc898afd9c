//! Tests of `[[cron]]`: declarations and schedules.

use super::*;

fn decl(schedule: &str) -> CronDecl {
    CronDecl {
        name: "import-products".into(),
        schedule: schedule.into(),
        job: "import-batch".into(),
        payload: None,
        since_key: None,
        priority: 10,
        channel: None,
        description: String::new(),
    }
}

#[test]
fn schedules_are_five_fields_or_nicknames() {
    assert!(Schedule::parse("*/15 * * * *").is_ok());
    assert!(Schedule::parse("@daily").is_ok());
    assert!(Schedule::parse("0 6 * * MON-FRI").is_ok());
    let err = Schedule::parse("0 */15 * * * *").unwrap_err();
    assert!(err.contains("minute hour day-of-month"), "{err}");
    assert!(Schedule::parse("every 15 minutes").is_err());
    assert!(Schedule::parse("61 * * * *").is_err());
    assert_eq!(
        Schedule::parse("0 0 30 2 *").unwrap_err(),
        "this schedule never fires"
    );
}

#[test]
fn ticks_are_found_both_ways() {
    let s = Schedule::parse("*/15 * * * *").unwrap();
    let t0 = 1_700_000_100_000; // 2023-11-14 22:15:00 UTC
    assert_eq!(s.latest_at_or_before(t0), Some(t0));
    assert_eq!(s.latest_at_or_before(t0 + 60_000), Some(t0));
    assert_eq!(s.next_after(t0), Some(t0 + 15 * 60_000));
    assert_eq!(s.next_after(t0 - 1), Some(t0));
}

#[test]
fn payloads_are_tables_or_json_objects() {
    let mut d = decl("@hourly");
    assert_eq!(d.payload().unwrap(), serde_json::json!({}));
    d.payload = Some(serde_json::json!({ "model": "product" }));
    assert_eq!(d.payload().unwrap()["model"], "product");
    d.payload = Some(Value::String(r#"{"model": "order"}"#.into()));
    assert_eq!(d.payload().unwrap()["model"], "order");
    d.payload = Some(Value::String("[1, 2]".into()));
    let err = d.check("[[cron]] #1").unwrap_err();
    assert!(
        err.starts_with("[[cron]] #1 (`import-products`) payload: must be a table"),
        "{err}"
    );
}

#[test]
fn errors_name_the_cron_key_and_reason() {
    let err = decl("*/15 * *").check("[[cron]] #2").unwrap_err();
    assert!(
        err.starts_with(
            "[[cron]] #2 (`import-products`) schedule = \"*/15 * *\": not a cron expression"
        ),
        "{err}"
    );
    let mut d = decl("@hourly");
    d.name = "import products".into();
    assert!(
        d.check("[[cron]] #1")
            .unwrap_err()
            .contains("[[cron]] #1 name")
    );
    let mut d = decl("@hourly");
    d.channel = Some("root import".into());
    assert!(d.check("[[cron]] #1").unwrap_err().contains("channel"));
    let mut d = decl("@hourly");
    d.job = String::new();
    assert!(d.check("[[cron]] #1").unwrap_err().contains("job = \"\""));
}
