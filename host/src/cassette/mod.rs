//! Cassettes: a connector's outbound HTTP, recorded once against the live
//! API and replayed offline (VCR and Polly.JS do the same for test suites).
//!
//! A [`Cassette`] is one scenario's exchanges ([`Interaction`]s) with what the
//! scenario left behind (its [`Snapshot`](crate::scenarios::Snapshot)), kept as
//! JSON in the connector's folder (`cassettes/SCENARIO.json`) so that it is
//! reviewed and versioned with the code. A [`Tape`] is a cassette being
//! recorded or played by the outbound HTTP capability
//! ([`crate::capabilities::http`]): it sees a request after the manifest's
//! `allowed_hosts` let it through and before a sealed credential is added, so
//! a credential's value is never on tape. What could still carry a secret (a
//! parameter named like one, a header such as `Authorization`, an instance
//! secret's value anywhere) is replaced by [`REDACTED`] by the [`Redactor`],
//! on the way to the cassette and, on replay, on the request being matched.

mod format;
mod redact;
mod tape;
#[cfg(test)]
mod tests;

pub use format::{Body, Cassette, FORMAT, Interaction, RecordedRequest, RecordedResponse};
pub use redact::{REDACTED, Redactor, sensitive_name};
pub use tape::{Played, Tape, TapeMode};
