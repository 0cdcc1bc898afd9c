//! Tests of `[capabilities]`: host rules, credentials, work directories.

use super::*;
use crate::host_rules::{HostRule, Target};

fn target<'a>(method: &'a str, url: &'a url::Url) -> Target<'a> {
    Target {
        method,
        scheme: url.scheme(),
        host: url
            .host_str()
            .unwrap()
            .trim_start_matches('[')
            .trim_end_matches(']'),
        port: url.port_or_known_default().unwrap(),
        path: url.path(),
    }
}

fn allows(rule: &str, method: &str, url: &str) -> bool {
    let url = url::Url::parse(url).unwrap();
    HostRule::parse(rule).unwrap().allows(&target(method, &url))
}

#[test]
fn origins_match_exactly_by_default() {
    assert!(allows(
        "https://API.shop.example",
        "GET",
        "https://api.shop.example/x"
    ));
    assert!(!allows(
        "https://api.shop.example",
        "GET",
        "http://api.shop.example/x"
    ));
    assert!(!allows(
        "https://api.shop.example",
        "GET",
        "https://api.shop.example:8443/"
    ));
    assert!(allows(
        "http://127.0.0.1:8790",
        "POST",
        "http://127.0.0.1:8790/a"
    ));
    assert!(allows("http://[::1]:80", "GET", "http://[::1]/"));
    assert!(!allows(
        "http://127.0.0.1:8790",
        "GET",
        "http://127.0.0.2:8790/"
    ));
}

#[test]
fn wildcards_cover_subdomains_and_ports() {
    let rule = "https://*.shop.example";
    assert!(allows(rule, "GET", "https://api.shop.example/"));
    assert!(allows(rule, "GET", "https://a.b.shop.example/"));
    assert!(!allows(rule, "GET", "https://shop.example/"));
    assert!(!allows(rule, "GET", "https://evilshop.example/"));
    assert!(!allows(rule, "GET", "https://api.shop.example.evil.com/"));
    assert!(allows(
        "http://127.0.0.1:*",
        "GET",
        "http://127.0.0.1:1234/"
    ));
    assert!(allows("https://*", "GET", "https://anything.example/"));
    assert!(!HostRule::parse(rule).unwrap().is_literal());
    assert!(
        HostRule::parse("https://api.shop.example")
            .unwrap()
            .is_literal()
    );
}

#[test]
fn methods_and_paths_narrow_a_rule() {
    let rule = "GET https://api.shop.example/v2/products/*";
    assert!(allows(
        rule,
        "GET",
        "https://api.shop.example/v2/products/7?x=1"
    ));
    assert!(!allows(
        rule,
        "POST",
        "https://api.shop.example/v2/products/7"
    ));
    assert!(!allows(rule, "GET", "https://api.shop.example/v2/orders"));
    assert!(!allows(
        rule,
        "GET",
        "https://api.shop.example/v2/products/../orders"
    ));
    assert!(!allows(
        rule,
        "GET",
        "https://api.shop.example/v2/products/%2e%2e/orders"
    ));
    let under = "https://api.shop.example/v2";
    assert!(allows(under, "DELETE", "https://api.shop.example/v2"));
    assert!(allows(under, "GET", "https://api.shop.example/v2/x"));
    assert!(!allows(under, "GET", "https://api.shop.example/v2x"));
}

#[test]
fn bad_entries_say_why() {
    let err = |text: &str| HostRule::parse(text).unwrap_err();
    assert!(err("ftp://x").contains("only http and https"));
    assert!(err("api.shop.example").contains("not a URL"));
    assert!(err("https://a.*.example").contains("wildcard"));
    assert!(err("https://x:99999").contains("not a port"));
    assert!(err("https://user:pw@x").contains("passwords"));
    assert!(err("GE7 https://x").contains("not an HTTP method"));
    assert!(err("https://x/a/*/b").contains("only allowed at the end"));
    assert!(err("https://x/a/../b").contains("segments"));
}

#[test]
fn revealed_secrets_must_be_valid_names_listed_once() {
    let check = |reveal: &[&str]| {
        Capabilities {
            reveal: reveal.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
        .check(&BTreeMap::new())
    };
    assert!(check(&["signing_key", "other.key"]).is_ok());
    let err = check(&["a", "b c"]).unwrap_err();
    assert!(
        err.contains("reveal[1]") && err.contains("secret name"),
        "{err}"
    );
    let err = check(&["a", "a"]).unwrap_err();
    assert!(err.contains("reveal[1]") && err.contains("twice"), "{err}");
}

#[test]
fn templates_fill_in_params() {
    let caps = Capabilities {
        allowed_hosts: vec![
            "{{ params.url }}".into(),
            "GET {{ params.url }}/v2/*".into(),
            "{{ params.token }}".into(),
        ],
        ..Default::default()
    };
    let mut params = Map::new();
    params.insert("url".into(), Value::from("http://127.0.0.1:8790"));
    let (rules, problems) = caps.host_rules(&params);
    assert_eq!(rules[0].to_string(), "http://127.0.0.1:8790");
    assert_eq!(rules[1].to_string(), "GET http://127.0.0.1:8790/v2/*");
    assert!(problems[0].contains("token"), "{problems:?}");
    let declared: BTreeMap<String, ParamDecl> = [("url".to_string(), ParamDecl::default())].into();
    let err = caps.check(&declared).unwrap_err();
    assert!(
        err.contains("allowed_hosts[2]") && err.contains("token"),
        "{err}"
    );
}
