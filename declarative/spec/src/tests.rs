use super::*;

fn parse(text: &str) -> Result<RestConnector, String> {
    #[derive(Deserialize)]
    struct Doc {
        rest: RestConnector,
    }
    let doc: Doc = toml_like(text)?;
    let declared = |p: &str| ["url", "api_key"].contains(&p);
    doc.rest.check(&declared)?;
    Ok(doc.rest)
}

/// The tests write the section as JSON (this crate has no TOML parser).
fn toml_like<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

const SHOP: &str = r#"{"rest": {
  "base_url": "{{ params.url }}",
  "headers": {"x-api-key": "{{ params.api_key }}"},
  "stream": [{
    "model": "product", "path": "api/v1/products", "records": "/items",
    "paging": {"type": "page_number", "param": "page", "size_param": "per_page", "size": 200, "pages_at": "/pages"},
    "cursor": {"field": "updated_at", "param": "updated_since"},
    "write": {"method": "PUT", "if_match": true, "idempotency_header": "idempotency-key"},
    "fields": {"name": "name", "price": {"local": "list_price", "type": "decimal"}},
    "on_create": {"origin": "shop"}
  }]
}}"#;

#[test]
fn a_stream_reads_with_its_defaults() {
    let rest = parse(SHOP).unwrap();
    let stream = rest.stream("product").unwrap();
    assert_eq!(stream.primary_key, "id");
    assert_eq!(stream.fields["price"].ty(), Some(FieldType::Decimal));
    assert_eq!(stream.fields["price"].decimals(), 2);
    assert_eq!(stream.fields["name"].direction(), Direction::Both);
    assert!(rest.stream("order").is_none());
}

#[test]
fn mistakes_are_named_by_their_key() {
    let cases = [
        (
            "{{ params.url }}",
            "{{ params.token }}",
            "no [params.token] declares",
        ),
        ("\"PUT\"", "\"POST\"", "write.method = \"POST\""),
        (
            "\"/items\"",
            "\"items\"",
            "records = \"items\": a JSON pointer",
        ),
        ("\"/pages\"", "\"pages\"", "paging.pages_at"),
        ("\"size\": 200", "\"size\": 0", "paging.size: at least 1"),
        (
            "\"type\": \"decimal\"",
            "\"typ\": \"decimal\"",
            "unknown field `typ`",
        ),
    ];
    for (from, to, expected) in cases {
        let text = SHOP.replacen(from, to, 1);
        let err = parse(&text).expect_err(expected);
        assert!(err.contains(expected), "{err} (expected {expected})");
    }
    let twice = SHOP.replace(
        "}]\n}}",
        "}, {\"model\": \"product\", \"path\": \"x\", \"fields\": {\"a\": \"b\"}}]\n}}",
    );
    assert!(parse(&twice).unwrap_err().contains("declared twice"));
    let unknown = SHOP.replace("\"records\"", "\"record\"");
    assert!(
        parse(&unknown)
            .unwrap_err()
            .contains("unknown field `record`")
    );
}

#[test]
fn templates_render_and_name_their_params() {
    let lookup = |p: &str| (p == "url").then(|| "http://127.0.0.1:1".to_string());
    assert_eq!(
        render("{{ params.url }}/api", lookup).unwrap(),
        "http://127.0.0.1:1/api"
    );
    assert!(render("{{ params.other }}", lookup).is_err());
    assert!(
        render("{{ env.HOME }}", lookup)
            .unwrap_err()
            .contains("only")
    );
    assert_eq!(
        template_params("{{params.a}}-{{ params.b }}").unwrap(),
        ["a", "b"]
    );
}
