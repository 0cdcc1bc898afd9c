//! Test scenarios of a connector, run on recorded traffic: `ferry test DIR
//! --record` runs each scenario of `DIR/scenarios.toml` against the live API
//! and keeps its exchanges in `DIR/cassettes/NAME.json` ([`crate::cassette`]);
//! `ferry test DIR` replays them with no network and fails on a request with
//! no recording, a recording left unasked, or a local result that changed,
//! naming each; `ferry install DIR --canary` replays them through the
//! installed version and through `DIR`, and shows where the two differ.
//!
//! ```toml
//! [instance]
//! params = { url = "${SHOP_URL}", api_key = "${SHOP_API_KEY}" }
//!
//! [[scenario]]
//! name = "import"
//! steps = [{ job = "import-batch", data = { model = "product" } }]
//! ```
//!
//! Each scenario runs in a scratch installation (a temporary directory) with
//! the installed modules copied in and the connector under test on top, on
//! a fresh database: what it leaves behind is the [`Snapshot`].

mod check;
mod run;
mod snapshot;
mod spec;

pub use check::{CanaryReport, ScenarioReport, canary, record, replay};
pub use run::Candidate;
pub use snapshot::{Snapshot, differences, request_differences};
pub(crate) use spec::{Action, Target, sensitive_values};
pub use spec::{FILE, InstanceSpec, Scenario, Scenarios, Step};
