//! Offline tests from `cargo test`: replay a connector's recorded scenarios
//! (`scenarios.toml` and `cassettes/` in its folder) through `ferry test`.
//!
//! ```no_run
//! #[test]
//! fn recorded_scenarios_replay() {
//!     ferry_sdk::testing::assert_replays(env!("CARGO_MANIFEST_DIR"));
//! }
//! ```
//!
//! Record the cassettes once against the live API with `ferry test .
//! --record` (the values of `scenarios.toml`'s `${NAME}`s from the
//! environment); a replay needs no network and no secret. The `ferry` binary
//! is `$FERRY_BIN`, else `ferry` on the `PATH`; the installation it copies
//! modules from (a parent backend, the `rest` runtime) is `$FERRY_HOME`, else
//! `.ferry`. Native code only: tests run on the host, not in the sandbox.

use std::path::Path;
use std::process::Command;

/// The `ferry test DIR [--scenario NAME]` command a replay runs (add
/// arguments or environment to it, e.g. `--data-dir`, before [`check`]).
pub fn replay_command(dir: impl AsRef<Path>, scenario: Option<&str>) -> Command {
    let ferry = std::env::var_os("FERRY_BIN").unwrap_or_else(|| "ferry".into());
    let mut command = Command::new(ferry);
    command.arg("test").arg(dir.as_ref());
    if let Some(scenario) = scenario {
        command.args(["--scenario", scenario]);
    }
    command
}

/// Run a replay `command`: `Ok` with its report, or `Err` with what failed
/// (a request with no recording, a recording never asked, a local result
/// that changed, a missing cassette), each named.
pub fn check(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|e| {
        format!(
            "could not run `{}`: {e} (install Ferry's command line, or set FERRY_BIN to it)",
            Path::new(command.get_program()).display()
        )
    })?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}

/// Replay every scenario of the connector in `dir` (or only `scenario`);
/// see [`check`].
pub fn replay(dir: impl AsRef<Path>, scenario: Option<&str>) -> Result<String, String> {
    check(&mut replay_command(dir, scenario))
}

/// Replay every scenario of the connector in `dir`; panics with the report
/// when one fails.
pub fn assert_replays(dir: impl AsRef<Path>) {
    if let Err(report) = replay(dir, None) {
        panic!("the recorded scenarios do not replay:\n{report}");
    }
}
