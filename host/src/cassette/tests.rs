use super::*;
use serde_json::{Map, Value, json};

fn request(method: &str, url: &str, body: Option<&str>) -> RecordedRequest {
    RecordedRequest {
        method: method.into(),
        url: url.into(),
        headers: Map::new(),
        body: body.map(|b| Body::Text(b.into())),
    }
}

fn response(status: u16, body: &str) -> RecordedResponse {
    RecordedResponse {
        status,
        headers: Map::new(),
        body: Body::of(body.as_bytes()),
    }
}

fn cassette(interactions: Vec<(RecordedRequest, RecordedResponse)>) -> Cassette {
    Cassette {
        format: FORMAT,
        scenario: "s".into(),
        recorded_with: "shop 1.0.0".into(),
        recorded_at: "2026-12-05T00:00:00Z".into(),
        params: Map::new(),
        interactions: interactions
            .into_iter()
            .map(|(request, response)| Interaction { request, response })
            .collect(),
        result: Value::Null,
    }
}

#[test]
fn json_bodies_match_as_values_and_headers_do_not_count() {
    let mut a = request("PUT", "http://x/p/1", Some(r#"{"a":1,"b":[1,2]}"#));
    let b = request("put", "http://x/p/1", Some(r#"{ "b": [1, 2], "a": 1 }"#));
    a.headers.insert("date".into(), json!("now"));
    assert!(a.matches(&b));
    assert!(!a.matches(&request(
        "PUT",
        "http://x/p/1",
        Some(r#"{"a":2,"b":[1,2]}"#)
    )));
    assert!(!a.matches(&request(
        "PUT",
        "http://x/p/2",
        Some(r#"{"a":1,"b":[1,2]}"#)
    )));
}

#[test]
fn a_replay_answers_in_order_and_names_what_it_could_not() {
    let page = request("GET", "http://x/p?page=1", None);
    let tape = Tape::replay(
        &cassette(vec![
            (page.clone(), response(200, "first")),
            (page.clone(), response(200, "second")),
            (request("GET", "http://x/q", None), response(200, "q")),
        ]),
        true,
        Redactor::default(),
    );
    let body = |r: Option<RecordedResponse>| r.and_then(|r| r.body).map(|b| b.bytes());
    assert_eq!(body(tape.play(&page)), Some(b"first".to_vec()));
    assert_eq!(body(tape.play(&page)), Some(b"second".to_vec()));
    assert!(tape.play(&page).is_none(), "each recording answers once");
    assert!(
        tape.play(&request("DELETE", "http://x/p/1", None))
            .is_none()
    );
    let played = tape.played();
    assert_eq!(
        played.unmatched,
        ["GET http://x/p?page=1", "DELETE http://x/p/1"]
    );
    assert_eq!(played.unplayed, ["GET http://x/q"]);
    assert_eq!(played.asked.len(), 4);
}

#[test]
fn a_canary_replay_answers_a_changed_body_by_method_and_url() {
    let recorded = request("PUT", "http://x/p/1", Some(r#"{"stock":3}"#));
    let changed = request("PUT", "http://x/p/1", Some(r#"{"stock":"3"}"#));
    let strict = Tape::replay(
        &cassette(vec![(recorded.clone(), response(200, "{}"))]),
        true,
        Redactor::default(),
    );
    assert!(strict.play(&changed).is_none());
    let loose = Tape::replay(
        &cassette(vec![(recorded, response(200, "{}"))]),
        false,
        Redactor::default(),
    );
    assert_eq!(loose.play(&changed).map(|r| r.status), Some(200));
    assert_eq!(loose.played().asked, [changed]);
}

#[test]
fn secrets_are_redacted_in_urls_headers_bodies_and_params() {
    let redactor = Redactor::new(["s3cr3t value".to_string(), String::new()]);
    assert_eq!(
        redactor.url("https://x/p?api_key=abc&page=2&q=s3cr3t+value"),
        format!("https://x/p?api_key={REDACTED}&page=2&q={REDACTED}")
    );
    let mut headers = http::HeaderMap::new();
    headers.insert("x-api-key", "abc".parse().unwrap());
    headers.insert("accept", "application/json".parse().unwrap());
    headers.insert("x-note", "s3cr3t value".parse().unwrap());
    let headers = redactor.headers(&headers);
    assert_eq!(headers["x-api-key"], json!(REDACTED));
    assert_eq!(headers["accept"], json!("application/json"));
    assert_eq!(headers["x-note"], json!(REDACTED));
    assert_eq!(
        redactor.body(br#"{"password":"s3cr3t value"}"#),
        Some(Body::Text(format!(r#"{{"password":"{REDACTED}"}}"#)))
    );
    let params = json!({ "url": "https://x", "api_key": "abc", "pages": 3 });
    let params = redactor.params(params.as_object().unwrap());
    assert_eq!(
        Value::Object(params),
        json!({ "url": "https://x", "api_key": REDACTED, "pages": 3 })
    );
}

#[test]
fn bodies_that_are_not_text_round_trip_as_base64() {
    let bytes = [0xff, 0x00, 0x10];
    let body = Body::of(&bytes).unwrap();
    assert!(matches!(body, Body::Base64 { .. }));
    let text = serde_json::to_string(&body).unwrap();
    let back: Body = serde_json::from_str(&text).unwrap();
    assert_eq!(back.bytes(), bytes);
    assert_eq!(Body::of(b""), None);
}

#[test]
fn a_cassette_is_saved_and_loaded_and_an_old_format_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassettes/s.json");
    let c = cassette(vec![(request("GET", "http://x", None), response(204, ""))]);
    c.save(&path).unwrap();
    let back = Cassette::load(&path).unwrap();
    assert_eq!(back.interactions[0].request, c.interactions[0].request);
    let mut old = serde_json::to_value(&c).unwrap();
    old["format"] = json!(0);
    std::fs::write(&path, old.to_string()).unwrap();
    let err = Cassette::load(&path).unwrap_err().to_string();
    assert!(err.contains("--record"), "{err}");
}
