//! Each rule of a job's parameters, on payloads and on declarations.

use super::*;
use serde_json::json;

fn param(name: &str, ty: ParamType) -> JobParam {
    JobParam {
        name: name.into(),
        ty,
        required: false,
        default: None,
        minimum: None,
        maximum: None,
        pattern: None,
        one_of: Vec::new(),
        description: String::new(),
    }
}

/// `import-batch`: a required model, a since with a default, a bounded limit.
fn import_batch() -> Vec<JobParam> {
    vec![
        JobParam {
            required: true,
            one_of: vec![json!("product"), json!("partner")],
            ..param("model", ParamType::String)
        },
        JobParam {
            default: Some(json!("2d")),
            ..param("since", ParamType::Duration)
        },
        JobParam {
            minimum: Some(1.0),
            maximum: Some(1000.0),
            ..param("limit", ParamType::Integer)
        },
    ]
}

fn refused(payload: serde_json::Value) -> String {
    validate("profile `nightly`", &import_batch(), &payload)
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_are_applied_and_values_kept_as_given() {
    let out = validate(
        "job `import-batch`",
        &import_batch(),
        &json!({ "model": "product" }),
    )
    .unwrap();
    assert_eq!(out, json!({ "model": "product", "since": "2d" }));
    let out = validate(
        "job `import-batch`",
        &import_batch(),
        &json!({ "model": "partner", "since": "15m", "limit": 10 }),
    )
    .unwrap();
    assert_eq!(out["since"], "15m");
    assert_eq!(out["limit"], 10);
}

#[test]
fn a_job_without_params_takes_any_payload() {
    for payload in [json!({ "anything": [1, 2] }), json!([1]), json!(null)] {
        assert_eq!(validate("job `x`", &[], &payload).unwrap(), payload);
    }
}

#[test]
fn each_rule_names_the_subject_the_parameter_and_the_rule() {
    assert_eq!(
        refused(json!({ "model": "product", "since": "tomorrow" })),
        "profile `nightly`: parameter `since`: `tomorrow` is not a duration (90s, 15m, 2h, 2d, 1w)"
    );
    assert_eq!(
        refused(json!({ "model": "product", "modle": "x" })),
        "profile `nightly`: parameter `modle`: not declared (the declared parameters: model, since, limit)"
    );
    assert_eq!(
        refused(json!({ "since": "1d" })),
        "profile `nightly`: parameter `model`: required, and not given"
    );
    assert_eq!(
        refused(json!({ "model": "product", "limit": 0 })),
        "profile `nightly`: parameter `limit`: 0 is less than the minimum 1"
    );
    assert_eq!(
        refused(json!({ "model": "product", "limit": 5000 })),
        "profile `nightly`: parameter `limit`: 5000 is more than the maximum 1000"
    );
    assert_eq!(
        refused(json!({ "model": "product", "limit": 1.5 })),
        "profile `nightly`: parameter `limit`: `1.5` is not an integer"
    );
    assert_eq!(
        refused(json!({ "model": "order" })),
        "profile `nightly`: parameter `model`: `order` is not one of product, partner"
    );
    assert_eq!(
        refused(json!("product")),
        "profile `nightly`: the parameters must be a JSON object, not a string"
    );
}

#[test]
fn patterns_match_whole_values_and_list_items() {
    let code = JobParam {
        pattern: Some("[A-Z]{3}".into()),
        ..param("currency", ParamType::String)
    };
    let tags = JobParam {
        pattern: Some("[a-z]+".into()),
        maximum: Some(2.0),
        ..param("tags", ParamType::List)
    };
    let params = [code, tags];
    assert!(
        validate(
            "job `j`",
            &params,
            &json!({ "currency": "EUR", "tags": ["a", "b"] })
        )
        .is_ok()
    );
    let e = validate("job `j`", &params, &json!({ "currency": "EURO" })).unwrap_err();
    assert_eq!(
        e.to_string(),
        "job `j`: parameter `currency`: `EURO` does not match the pattern `[A-Z]{3}`"
    );
    let e = validate("job `j`", &params, &json!({ "tags": ["a", "B"] })).unwrap_err();
    assert_eq!(
        e.problem,
        Problem::NoMatch {
            value: "B".into(),
            pattern: "[a-z]+".into()
        }
    );
    let e = validate("job `j`", &params, &json!({ "tags": ["a", "b", "c"] })).unwrap_err();
    assert!(matches!(e.problem, Problem::AboveMaximum { .. }), "{e}");
}

#[test]
fn types_accept_their_values_and_refuse_others() {
    let cases = [
        (ParamType::String, json!("x"), json!(1)),
        (ParamType::Integer, json!(-3), json!("3")),
        (ParamType::Number, json!(2.5), json!("2.5")),
        (ParamType::Boolean, json!(true), json!("yes")),
        (ParamType::List, json!(["a"]), json!("a,b")),
        (ParamType::Date, json!("2026-12-03"), json!("03/12/2026")),
        (
            ParamType::Date,
            json!("2026-12-03T10:00:00Z"),
            json!("2026-13-03"),
        ),
        (ParamType::Duration, json!("2h"), json!("2 hours")),
        (ParamType::Duration, json!(90000), json!(-5)),
        (
            ParamType::Url,
            json!("https://shop.example/api"),
            json!("not-a-url"),
        ),
        (
            ParamType::Url,
            json!("http://localhost:8080"),
            json!("ftp://files.example"),
        ),
    ];
    for (ty, good, bad) in cases {
        let p = [param("p", ty)];
        assert!(
            validate("job `j`", &p, &json!({ "p": good })).is_ok(),
            "{ty} {good}"
        );
        let e = validate("job `j`", &p, &json!({ "p": bad })).unwrap_err();
        assert!(
            matches!(e.problem, Problem::WrongType { .. }),
            "{ty} {bad}: {e}"
        );
    }
    let level = JobParam {
        one_of: vec![json!("low"), json!("high")],
        ..param("level", ParamType::Enum)
    };
    let p = [level];
    assert!(validate("job `j`", &p, &json!({ "level": "low" })).is_ok());
    let e = validate("job `j`", &p, &json!({ "level": "mid" })).unwrap_err();
    assert_eq!(
        e.to_string(),
        "job `j`: parameter `level`: `mid` is not one of low, high"
    );
}

#[test]
fn command_line_values_are_read_by_type() {
    let read = |ty, text| parse_value(&param("p", ty), text);
    assert_eq!(read(ParamType::Integer, "42").unwrap(), json!(42));
    assert_eq!(read(ParamType::Number, "2.5").unwrap(), json!(2.5));
    assert_eq!(read(ParamType::Boolean, "false").unwrap(), json!(false));
    assert_eq!(
        read(ParamType::List, "a, b,c").unwrap(),
        json!(["a", "b", "c"])
    );
    assert_eq!(read(ParamType::Duration, "2d").unwrap(), json!("2d"));
    assert_eq!(
        read(ParamType::Integer, "many").unwrap_err().to_string(),
        "`many` is not an integer"
    );
    assert!(read(ParamType::Boolean, "yes").is_err());
}

#[test]
fn declarations_that_cannot_hold_are_refused() {
    let check = |p: JobParam| check_params("import-batch", &[p]).unwrap_err();
    assert_eq!(
        check(param("kind", ParamType::Enum)),
        "job `import-batch`: parameter `kind`: an `enum` needs `one_of`, its allowed values"
    );
    let e = check(JobParam {
        default: Some(json!("soon")),
        ..param("since", ParamType::Duration)
    });
    assert_eq!(
        e,
        "job `import-batch`: parameter `since`: its default: `soon` is not a duration (90s, 15m, 2h, 2d, 1w)"
    );
    let e = check(JobParam {
        pattern: Some("[a-".into()),
        ..param("code", ParamType::String)
    });
    assert!(
        e.starts_with(
            "job `import-batch`: parameter `code`: the pattern `[a-` is not a regular expression"
        ),
        "{e}"
    );
    let e = check(JobParam {
        minimum: Some(10.0),
        maximum: Some(1.0),
        ..param("limit", ParamType::Integer)
    });
    assert_eq!(
        e,
        "job `import-batch`: parameter `limit`: `minimum` 10 is more than `maximum` 1"
    );
    let e = check(JobParam {
        minimum: Some(1.0),
        ..param("name", ParamType::String)
    });
    assert!(e.contains("apply to integer, number and list"), "{e}");
    let e = check_params(
        "j",
        &[
            param("a", ParamType::String),
            param("a", ParamType::Integer),
        ],
    )
    .unwrap_err();
    assert_eq!(e, "job `j`: parameter `a`: declared twice");
}

#[test]
fn steps_need_unique_names_and_a_usable_chunk_size() {
    let step = |name: &str, chunk_size| StepDecl {
        name: name.into(),
        kind: StepKind::Items,
        chunk_size,
        description: String::new(),
    };
    assert!(check_steps("j", &[step("read", 100), step("write", 1)]).is_ok());
    assert_eq!(
        check_steps("j", &[step("read", 100), step("read", 100)]).unwrap_err(),
        "job `j`: step `read`: declared twice"
    );
    assert!(
        check_steps("j", &[step("read", 0)])
            .unwrap_err()
            .contains("chunk_size 0")
    );
}
