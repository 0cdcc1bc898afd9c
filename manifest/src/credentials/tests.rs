//! Tests of `[[capabilities.credential]]`, checked as part of `[capabilities]`.

use super::*;
use crate::capabilities::Capabilities;

fn caps(text: &str) -> Result<Capabilities, String> {
    let caps: Capabilities = toml::from_str(text).map_err(|e| e.to_string())?;
    let declared: BTreeMap<String, ParamDecl> = [("url".to_string(), ParamDecl::default())].into();
    caps.check(&declared).map(|()| caps)
}

#[test]
fn a_credential_needs_one_way_to_be_presented_and_valid_hosts() {
    let ok = caps(
        r#"[[credential]]
name = "t"
secret = "token"
hosts = ["{{ params.url }}"]
present = "basic"
user = "me""#,
    )
    .unwrap();
    let params = serde_json::json!({ "url": "http://127.0.0.1:1" });
    let (creds, problems) = ok.credentials(params.as_object().unwrap());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        creds[0].presentation,
        Presentation::Basic { user: "me".into() }
    );
    for (bad, why) in [
        (
            r#"name = "t"
secret = "s"
hosts = ["https://a.example"]"#,
            "exactly one",
        ),
        (
            r#"name = "t"
secret = "s"
hosts = ["https://a.example"]
present = "bearer"
header = "X-Key""#,
            "exactly one",
        ),
        (
            r#"name = "t"
secret = "s"
hosts = []
present = "bearer""#,
            "at least one host",
        ),
        (
            r#"name = "t"
secret = "s"
hosts = ["{{ params.nope }}"]
present = "bearer""#,
            "nope",
        ),
        (
            r#"name = "t"
secret = "s"
hosts = ["https://a.example"]
header = "Host""#,
            "cannot carry",
        ),
        (
            r#"name = "t"
secret = "s"
hosts = ["https://a.example"]
present = "basic""#,
            "needs `user`",
        ),
        (
            r#"name = "t t"
secret = "s"
hosts = ["https://a.example"]
present = "bearer""#,
            "secret name",
        ),
    ] {
        let err = caps(&format!("[[credential]]\n{bad}")).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}
