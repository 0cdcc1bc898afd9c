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

#[test]
fn jobs_declare_typed_params_and_steps() {
    let text = format!(
        r#"{GOOD}
[jobs.import-batch]
description = "Import a batch"
[jobs.import-batch.params.model]
type = "string"
required = true
[jobs.import-batch.params.since]
type = "duration"
default = "2d"
[[jobs.import-batch.steps]]
name = "read"
kind = "items"
chunk_size = 50
[[jobs.import-batch.steps]]
name = "report"
kind = "tasklet"
"#
    );
    let m = Manifest::parse(&text).unwrap();
    let job = &m.jobs["import-batch"];
    let params = job.param_list();
    assert_eq!(params[0].name, "model");
    assert_eq!(params[1].ty, crate::jobs::ParamType::Duration);
    assert_eq!(job.steps[0].chunk_size, 50);
    assert_eq!(job.steps[1].chunk_size, crate::jobs::DEFAULT_CHUNK_SIZE);
}

#[test]
fn a_bad_job_declaration_names_the_job_and_the_param() {
    for (decl, expected) in [
        (
            "[jobs.sync.params.level]\ntype = \"enum\"",
            "[jobs.sync] job `sync`: parameter `level`: an `enum` needs `one_of`",
        ),
        (
            "[jobs.sync.params.since]\ntype = \"duration\"\ndefault = \"later\"",
            "[jobs.sync] job `sync`: parameter `since`: its default: `later` is not a duration",
        ),
        (
            "[jobs.sync.params.code]\ntype = \"string\"\npattern = \"(\"",
            "[jobs.sync] job `sync`: parameter `code`: the pattern `(` is not a regular expression",
        ),
        (
            "[jobs.sync.params.n]\ntype = \"integer\"\nminimum = 5\nmaximum = 1",
            "[jobs.sync] job `sync`: parameter `n`: `minimum` 5 is more than `maximum` 1",
        ),
        (
            "[jobs.sync.params.n]\ntype = \"colour\"",
            "unknown variant `colour`",
        ),
    ] {
        let e = Manifest::parse(&format!("{GOOD}\n{decl}\n")).unwrap_err();
        assert!(e.contains(expected), "{decl}: {e}");
    }
}

#[test]
fn backend_params_are_typed() {
    let text = GOOD.replace(
        "[params.url]\nrequired = true",
        "[params.url]\ntype = \"url\"\nrequired = true\n\n[params.pages]\ntype = \"integer\"\ndefault = \"10\"\nmaximum = 100",
    );
    let m = Manifest::parse(&text).unwrap();
    assert_eq!(m.params["url"].ty, crate::jobs::ParamType::Url);
    let given = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
    };
    let check = |pairs: &[(&str, &str)]| {
        crate::params::check_instance_params("acme", &m.params, &given(pairs))
            .map_err(|e| e.to_string())
    };
    check(&[("url", "https://shop.example"), ("pages", "20")]).unwrap();
    assert_eq!(
        check(&[("url", "https://shop.example"), ("tokn", "x")]).unwrap_err(),
        "backend instance `acme`: parameter `tokn`: not declared (the declared parameters: pages, url)"
    );
    assert_eq!(
        check(&[("url", "not-a-url")]).unwrap_err(),
        "backend instance `acme`: parameter `url`: `not-a-url` is not an absolute http or https URL"
    );
    assert!(check(&[("url", "https://x.example"), ("pages", "500")]).is_err());
    assert!(check(&[]).unwrap_err().contains("`url`: required"));
    let bad = GOOD.replace(
        "[params.url]\nrequired = true",
        "[params.url]\ntype = \"url\"\ndefault = \"nope\"",
    );
    assert!(
        Manifest::parse(&bad).unwrap_err().contains("[params.url]"),
        "bad default"
    );
}

#[test]
fn new_manifests_need_a_semver_version_and_known_record_events() {
    let base = "[module]\nname = \"m\"\nversion = \"VERSION\"\n[[backend]]\nname = \"b\"\n";
    let with = |version: &str, more: &str| {
        Manifest::parse(&format!("{}{more}", base.replace("VERSION", version))).unwrap()
    };
    // Stored manifests of older installs still parse; a new one is refused.
    let err = with("one", "").check_new().unwrap_err();
    assert!(
        err.contains("[module] version = \"one\"") && err.contains("1.7.0"),
        "{err}"
    );
    assert!(with("1.7", "").check_new().is_err());
    assert!(with("1.7.0", "").check_new().is_ok());
    let typo = "[[subscription]]\nevent = \"record.update\"\nmodels = [\"contact\"]\njob = \"j\"\n";
    let err = with("1.0.0", typo).check_new().unwrap_err();
    assert!(
        err.contains("[[subscription]] #1") && err.contains("record.updated"),
        "{err}"
    );
}
