//! `connector.toml` as anyone may write it: parsing and checking must refuse
//! bad text with an error, never panic (`ferry install` and every start of the
//! host parse the stored manifests).
//!
//! A manifest that passes also goes through what the host does with it later,
//! with the same calls: subscription conditions (install), cron payloads and
//! schedules (the scheduler), `allowed_hosts` and credentials filled in from an
//! instance's params (every run), and the webhooks' header names.

#![no_main]

use ferry_manifest::{HostRule, Manifest, Schedule, Target};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// A recent "now" in ms since the epoch, as the scheduler passes it.
const NOW_MS: i64 = 1_780_000_000_000;

fuzz_target!(|text: &str| {
    let Ok(manifest) = Manifest::parse(text) else {
        return;
    };

    for subscription in &manifest.subscriptions {
        let _ = subscription.conditions();
    }

    for cron in &manifest.crons {
        let _ = cron.payload();
        // `check` accepted the expression: it parses again, and fires.
        let schedule = Schedule::parse(&cron.schedule)
            .unwrap_or_else(|e| panic!("a checked schedule {:?} fails: {e}", cron.schedule));
        if let Some(next) = schedule.next_after(NOW_MS) {
            assert!(next > NOW_MS, "next tick {next} is not after {NOW_MS}");
            let latest = schedule.latest_at_or_before(next);
            assert_eq!(latest, Some(next), "the tick before {next} is not itself");
        }
        if let Some(latest) = schedule.latest_at_or_before(NOW_MS) {
            assert!(latest <= NOW_MS, "latest tick {latest} is after {NOW_MS}");
        }
    }

    // The params of an instance: the declared default, or else the text of
    // the description, so that the fuzzer controls what templates fill in.
    let params: Map<String, Value> = manifest
        .params
        .iter()
        .map(|(name, p)| {
            let value = p.default.clone().unwrap_or_else(|| p.description.clone());
            (name.clone(), Value::String(value))
        })
        .collect();
    let (rules, _problems) = manifest.capabilities.host_rules(&params);
    let (credentials, _problems) = manifest.capabilities.credentials(&params);
    let target = Target {
        method: "GET",
        scheme: "https",
        host: "api.example.com",
        port: 443,
        path: "/v2/products",
    };
    for rule in rules
        .iter()
        .chain(credentials.iter().flat_map(|c| &c.rules))
    {
        let _ = rule.allows(&target);
        // What `ferry` shows of a rule is what it enforces.
        let shown = rule.to_string();
        assert_eq!(
            HostRule::parse(&shown).as_ref(),
            Ok(rule),
            "rule shown as {shown:?}"
        );
    }

    for hook in &manifest.webhooks {
        let header = hook.header_name();
        assert!(
            http::HeaderName::from_bytes(header.as_bytes()).is_ok(),
            "webhook header {header:?} is not a header name"
        );
    }
});
