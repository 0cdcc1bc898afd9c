//! The manifest's declaration of a job refining the component's.

use super::*;
use crate::jobs::{JobParam, ParamType, StepDecl, StepKind};
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

#[test]
fn the_manifest_refines_what_the_component_declares() {
    let component = JobDecl {
        name: "import-batch".into(),
        description: "Import".into(),
        params: import_batch(),
        steps: Vec::new(),
    };
    let mut manifest = ManifestJob::default();
    // Same names and types; an installation's own default wins.
    for p in import_batch() {
        manifest.params.insert(p.name.clone(), p);
    }
    manifest.params.get_mut("since").unwrap().default = Some(json!("1w"));
    agree(&component, &manifest).unwrap();
    let decl = effective(&component, Some(&manifest));
    let names: Vec<_> = decl.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["model", "since", "limit"]);
    assert_eq!(decl.params[1].default, Some(json!("1w")));

    manifest.params.get_mut("limit").unwrap().ty = ParamType::Number;
    assert_eq!(
        agree(&component, &manifest).unwrap_err(),
        "[jobs.import-batch.params.limit]: type number here, integer in the component"
    );
    manifest.params.remove("limit");
    assert!(
        agree(&component, &manifest)
            .unwrap_err()
            .contains("declares parameter `limit`")
    );

    // A component without params (contract 0.1) takes the manifest's.
    let plain = JobDecl {
        params: Vec::new(),
        ..component
    };
    agree(&plain, &manifest).unwrap();
    assert_eq!(effective(&plain, Some(&manifest)).params.len(), 2);
}

#[test]
fn steps_only_the_manifest_declares_are_refused() {
    let plain = JobDecl {
        name: "export-products".into(),
        description: String::new(),
        params: Vec::new(),
        steps: Vec::new(),
    };
    let manifest = ManifestJob {
        steps: vec![StepDecl {
            name: "export".into(),
            kind: StepKind::Items,
            chunk_size: 50,
            description: String::new(),
        }],
        ..ManifestJob::default()
    };
    let e = agree(&plain, &manifest).unwrap_err();
    assert!(
        e.starts_with("[[jobs.export-products.steps]]: the component declares no steps"),
        "{e}"
    );
    // Declared by the component too: the manifest sets the chunk size.
    let stepped = JobDecl {
        steps: vec![StepDecl {
            chunk_size: 100,
            ..manifest.steps[0].clone()
        }],
        ..plain
    };
    agree(&stepped, &manifest).unwrap();
    assert_eq!(effective(&stepped, Some(&manifest)).steps[0].chunk_size, 50);
}
