//! Tests of whole manifests: parsing, and errors that name the key.

use super::*;

const GOOD: &str = r#"
[module]
name = "shop-v2"
version = "2.0.0"

[[backend]]
name = "shop"
version = "2.0"
parent = "shop@1.7"

[params.url]
required = true

[capabilities]
allowed_hosts = ["{{ params.url }}", "https://api.example.com:8443"]

[[subscription]]
event = "record.updated"
models = ["product"]
job = "export-record"
priority = 4
"#;

#[test]
fn parses_a_full_manifest() {
    let m = Manifest::parse(GOOD).unwrap();
    assert_eq!(m.backends[0].key().to_string(), "shop@2.0");
    assert_eq!(m.subscriptions[0].priority, 4);
    assert!(m.params["url"].required);
}

#[test]
fn schedules_and_record_conditions_are_part_of_the_manifest() {
    let text = format!(
        r#"{GOOD}
fields = ["name", "list_price"]
filter = {{ active = true }}

[[subscription]]
event = "record.timed"
models = ["order"]
job = "send-survey"
after = {{ field = "closed_at", delay = "1d" }}

[[cron]]
name = "import-products"
schedule = "*/15 * * * *"
job = "import-batch"
payload = {{ model = "product" }}
since_key = "since"
"#
    );
    let m = Manifest::parse(&text).unwrap();
    let conditions = m.subscriptions[0].conditions().unwrap();
    assert_eq!(conditions.fields, ["list_price", "name"]);
    assert_eq!(conditions.filter.len(), 1);
    assert_eq!(
        m.subscriptions[1]
            .conditions()
            .unwrap()
            .after
            .unwrap()
            .delay_ms,
        86_400_000
    );
    assert_eq!(m.crons[0].payload().unwrap()["model"], "product");

    let twice = format!(
        "{text}\n[[cron]]\nname = \"import-products\"\nschedule = \"@daily\"\njob = \"import-batch\"\n"
    );
    let err = Manifest::parse(&twice).unwrap_err();
    assert!(
        err.contains("[[cron]] #2 name = \"import-products\": another [[cron]]"),
        "{err}"
    );
    let err = Manifest::parse(&text.replace("*/15 * * * *", "*/15 * *")).unwrap_err();
    assert!(
        err.contains("[[cron]] #1 (`import-products`) schedule"),
        "{err}"
    );
    let err = Manifest::parse(&text.replace("delay = \"1d\"", "delay = \"soon\"")).unwrap_err();
    assert!(err.contains("[[subscription]] #2 after delay"), "{err}");
    let err = Manifest::parse(&text.replace("sched", "shed")).unwrap_err();
    assert!(err.contains("unknown field `shedule`"), "{err}");
}

#[test]
fn errors_name_the_key_and_reason() {
    let err =
        Manifest::parse(&GOOD.replace("name = \"shop-v2\"", "name = \"shop v2\"")).unwrap_err();
    assert!(err.contains("[module] name"), "{err}");
    let err = Manifest::parse(&GOOD.replace("priority = 4", "priority = \"high\"")).unwrap_err();
    assert!(
        err.contains("line") && err.contains("invalid type"),
        "{err}"
    );
    let err =
        Manifest::parse(&GOOD.replace("parent = \"shop@1.7\"", "parent = \"shop@@\"")).unwrap_err();
    assert!(err.contains("[[backend]] #1 parent"), "{err}");
    let err = Manifest::parse(&GOOD.replace("[capabilities]", "[capabilites]")).unwrap_err();
    assert!(err.contains("unknown field `capabilites`"), "{err}");
    let err = Manifest::parse(&GOOD.replace("{{ params.url }}", "{{ params.nope }}")).unwrap_err();
    assert!(
        err.contains("allowed_hosts[0]") && err.contains("nope"),
        "{err}"
    );
}
