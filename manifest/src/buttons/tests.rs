//! Tests of `[[button]]`, read as part of a whole manifest.

use crate::manifest::Manifest;

const BASE: &str = "[module]\nname = \"m\"\nversion = \"1.0.0\"\n[[backend]]\nname = \"b\"\n";

#[test]
fn parses_buttons_and_names_bad_keys() {
    let m = Manifest::parse(&format!(
        "{BASE}[[button]]\nname = \"import\"\njob = \"import-batch\"\ndescription = \"Import\"\npriority = 3\nchannel = \"root.manual\"\n"
    ))
    .unwrap();
    assert_eq!(m.buttons[0].job, "import-batch");
    assert_eq!(m.buttons[0].priority, Some(3));

    let err = Manifest::parse(&format!("{BASE}[[button]]\nname = \"import\"\n")).unwrap_err();
    assert!(err.contains("missing field `job`"), "{err}");
    let err = Manifest::parse(&format!(
        "{BASE}[[button]]\nname = \"import\"\njob = \"x\"\nchannel = \"root..a\"\n"
    ))
    .unwrap_err();
    assert!(
        err.contains("[[button]] #1 (import) channel = \"root..a\""),
        "{err}"
    );
    let err = Manifest::parse(&format!(
        "{BASE}[[button]]\nname = \"a\"\njob = \"x\"\n[[button]]\nname = \"a\"\njob = \"y\"\n"
    ))
    .unwrap_err();
    assert!(err.contains("[[button]] #2"), "{err}");
}
