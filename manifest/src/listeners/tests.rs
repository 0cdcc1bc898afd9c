use crate::Manifest;

const HEAD: &str = "[module]\nname = \"m\"\nversion = \"1.0.0\"\n[[backend]]\nname = \"shop\"\n";

fn parse(listener: &str) -> Result<Manifest, String> {
    Manifest::parse(&format!("{HEAD}{listener}"))
}

#[test]
fn a_listener_maps_fields_and_metadata_with_defaults() {
    let m = parse(
        "[[listener]]\nname = \"orders\"\njob = \"import-order\"\n\
         [listener.fields]\norder_id = { key = \"id\", required = true }\ntotal = {}\n\
         [listener.metadata]\nmessage_id = \"id\"\ntrace = \"header:traceparent\"\n",
    )
    .unwrap();
    let l = &m.listeners[0];
    assert_eq!(l.content_types, ["application/json"]);
    assert_eq!(l.max_bytes, super::DEFAULT_MAX_BYTES);
    assert_eq!(l.message_key("order_id"), "id");
    assert_eq!(l.message_key("total"), "total");
    assert!(l.fields["order_id"].required);
    assert_eq!(
        l.metadata["trace"],
        super::MetadataField::Header("traceparent".into())
    );
    assert!(l.accepts("application/json; charset=utf-8"));
    assert!(l.accepts("Application/JSON"));
    assert!(!l.accepts("text/plain"));
}

#[test]
fn wildcard_content_types_take_a_family() {
    let m =
        parse("[[listener]]\nname = \"any\"\njob = \"j\"\ncontent_types = [\"application/*\"]\n")
            .unwrap();
    assert!(m.listeners[0].accepts("application/cloudevents+json"));
    assert!(!m.listeners[0].accepts("text/plain"));
}

#[test]
fn each_mistake_names_the_listener_and_the_key() {
    let cases = [
        ("name = \"a b\"\njob = \"j\"\n", "name = \"a b\""),
        ("name = \"a\"\njob = \"bad job\"\n", "job = \"bad job\""),
        (
            "name = \"a\"\njob = \"j\"\ncontent_types = []\n",
            "content_types: list at least one",
        ),
        (
            "name = \"a\"\njob = \"j\"\ncontent_types = [\"json\"]\n",
            "not a media type",
        ),
        (
            "name = \"a\"\njob = \"j\"\nmax_bytes = 0\n",
            "max_bytes = 0",
        ),
        (
            "name = \"a\"\njob = \"j\"\n[listener.fields]\nx = { key = \"a..b\" }\n",
            "fields.x key",
        ),
        (
            "name = \"a\"\njob = \"j\"\n[listener.metadata]\nx = \"colour\"\n",
            "unknown metadata `colour`",
        ),
        (
            "name = \"a\"\njob = \"j\"\n[listener.fields]\nx = {}\n[listener.metadata]\nx = \"id\"\n",
            "metadata.x: this payload key is already filled",
        ),
        (
            "name = \"a\"\njob = \"j\"\nhost = \"x\"\n",
            "unknown field `host`",
        ),
    ];
    for (body, expected) in cases {
        let err = parse(&format!("[[listener]]\n{body}")).unwrap_err();
        assert!(err.contains(expected), "{body:?}: {err}");
    }
    let twice =
        "[[listener]]\nname = \"a\"\njob = \"j\"\n[[listener]]\nname = \"a\"\njob = \"k\"\n";
    assert!(
        parse(twice)
            .unwrap_err()
            .contains("another [[listener]] has this name")
    );
}

#[test]
fn a_listener_of_a_job_with_declared_params_fills_only_declared_params() {
    let jobs = "[jobs.import-order.params.order_id]\ntype = \"string\"\nrequired = true\n";
    let ok = format!(
        "{jobs}[[listener]]\nname = \"orders\"\njob = \"import-order\"\n[listener.fields]\norder_id = {{ key = \"id\" }}\n"
    );
    parse(&ok).unwrap();
    let bad = format!(
        "{jobs}[[listener]]\nname = \"orders\"\njob = \"import-order\"\n[listener.metadata]\nmessage_id = \"id\"\n"
    );
    let err = parse(&bad).unwrap_err();
    assert!(
        err.contains("message_id") && err.contains("[jobs.import-order.params.message_id]"),
        "{err}"
    );
}
