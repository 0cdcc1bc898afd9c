//! JavaScript connectors: an ES module on the JS SDK (`ferry-sdk`), made
//! into a component by componentize-js (SpiderMonkey, pre-initialised with
//! the connector's modules loaded).
//!
//! The connector's folder is copied into a scratch folder with the SDK as
//! `node_modules/ferry-sdk`. componentize-js resolves a bare specifier as a
//! path relative to the importing module, not through `node_modules`, so
//! each folder of the sources also gets a file named `ferry-sdk` that
//! re-exports the SDK: `import … from "ferry-sdk"` then works both there
//! and under Node.js (the SDK's own tests).

use super::{stage, tools};
use crate::error::{Error, Result};
use std::path::Path;
use std::process::Stdio;

/// The world JS connectors are built against: the contract alone
/// (componentize-js adds the WASI its runtime needs, `wasi:http` for
/// `fetch` among them).
const WORLD: &str = "package ferry:js-connector@0.2.0;\n\n\
    world connector {\n    include ferry:connector/connector@0.2.0;\n}\n";

/// Build the JavaScript connector in `dir` whose entry is `entry` into `out`.
pub fn build(dir: &Path, entry: &Path, out: &Path) -> Result<()> {
    let relative = entry.strip_prefix(dir).map_err(|_| {
        Error::Invalid(format!(
            "{}: the entry must be inside the connector's folder",
            entry.display()
        ))
    })?;
    let scratch = stage::scratch()?;
    let (wit, src) = (scratch.path().join("wit"), scratch.path().join("src"));
    stage::write(&wit, stage::CONTRACT)?;
    let world = wit.join("world.wit");
    std::fs::write(&world, WORLD).map_err(|e| Error::io(&world, e))?;
    stage::copy_sources(dir, &src, &mut sdk_shim)?;
    stage::write(&src.join("node_modules/ferry-sdk"), stage::JS_SDK)?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    // componentize-js runs in the scratch folder: give it absolute paths.
    let out = std::path::absolute(out).map_err(|e| Error::io(out, e))?;
    let status = tools::componentize_js()?
        .arg(src.join(relative))
        .arg("-w")
        .arg(&wit)
        .args(["-n", "connector", "-o"])
        .arg(&out)
        .current_dir(&src)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| Error::Invalid(format!("cannot run componentize-js: {e}")))?;
    if !status.success() {
        return Err(Error::Invalid(format!(
            "componentize-js could not build {} ({status}; see its messages above)",
            entry.display()
        )));
    }
    Ok(())
}

/// Write, in `folder` (`depth` folders under the top of the sources), the
/// module `ferry-sdk` that re-exports the SDK.
fn sdk_shim(folder: &Path, depth: usize) -> Result<()> {
    let shim = folder.join("ferry-sdk");
    let up = if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    };
    let reexport = format!("export * from \"{up}node_modules/ferry-sdk/index.js\";\n");
    std::fs::write(&shim, reexport).map_err(|e| Error::io(&shim, e))
}
