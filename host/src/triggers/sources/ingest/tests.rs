use super::*;
use crate::manifest::Manifest;

fn listener(toml: &str) -> BoundListener {
    let manifest = Manifest::parse(&format!(
        "[module]\nname = \"m\"\nversion = \"1.0.0\"\n[[backend]]\nname = \"shop\"\n{toml}"
    ))
    .unwrap();
    BoundListener {
        declared_by: "m".into(),
        decl: manifest.listeners[0].clone(),
    }
}

fn message(body: &str) -> Message {
    Message {
        id: "m-1".into(),
        subject: "order.created".into(),
        content_type: Some("application/json".into()),
        headers: [("traceparent".to_string(), "00-abc".to_string())].into(),
        body: body.as_bytes().to_vec(),
    }
}

const ORDERS: &str = "[[listener]]\nname = \"orders\"\njob = \"import-order\"\n\
    [listener.fields]\norder_id = { key = \"id\", required = true }\ntotal = { key = \"amount.total\" }\n\
    [listener.metadata]\nmessage_id = \"id\"\nsubject = \"subject\"\ntrace = \"header:traceparent\"\n";

#[test]
fn fields_map_by_dotted_path_and_metadata_fills_payload_keys() {
    let l = listener(ORDERS);
    let payload = payload_of(
        &l,
        "acme/orders",
        &message(r#"{"id": "o-7", "amount": {"total": 12.5}, "other": 1}"#),
    )
    .unwrap();
    assert_eq!(
        Value::Object(payload),
        serde_json::json!({
            "order_id": "o-7", "total": 12.5, "message_id": "m-1",
            "subject": "order.created", "trace": "00-abc"
        })
    );
}

#[test]
fn each_bad_message_gets_a_reason_an_operator_can_act_on() {
    let l = listener(ORDERS);
    let refused = |m: Message| payload_of(&l, "acme/orders", &m).unwrap_err();
    assert!(refused(message("not json")).contains("not JSON"));
    assert!(refused(message(r#"{"amount": {}}"#)).contains("required field `id` is missing"));
    let mut text = message(r#"{"id": 1}"#);
    text.content_type = Some("text/plain".into());
    assert!(refused(text).contains("content type `text/plain`"));
    let big = message(&format!(r#"{{"id": "{}"}}"#, "x".repeat(2 << 20)));
    assert!(refused(big).contains("more than listener `orders` takes"));
}

#[test]
fn a_message_without_content_type_is_taken_as_the_first_listed_one() {
    let l = listener(ORDERS);
    let mut m = message(r#"{"id": "o-1"}"#);
    m.content_type = None;
    assert!(payload_of(&l, "s", &m).is_ok());
}

#[test]
fn without_fields_the_body_object_is_the_payload() {
    let l = listener("[[listener]]\nname = \"raw\"\njob = \"j\"\n");
    let p = payload_of(&l, "s", &message(r#"{"a": 1}"#)).unwrap();
    assert_eq!(Value::Object(p), serde_json::json!({"a": 1}));
    assert!(
        payload_of(&l, "s", &message("[1]"))
            .unwrap_err()
            .contains("not a JSON object")
    );
}

#[test]
fn a_dead_letter_keeps_the_start_of_the_body_and_its_size() {
    let m = message(&"x".repeat(DEAD_LETTER_BODY + 10));
    let dead = dead_letter(&m, "too big".into());
    assert_eq!(dead.body.len(), DEAD_LETTER_BODY);
    assert_eq!(dead.body_size as usize, DEAD_LETTER_BODY + 10);
    assert_eq!(dead.headers["subject"], "order.created");
    assert_eq!(
        Message::content_id("a", b"b"),
        Message::content_id("a", b"b")
    );
    assert_ne!(
        Message::content_id("a", b"b"),
        Message::content_id("ab", b"")
    );
}
