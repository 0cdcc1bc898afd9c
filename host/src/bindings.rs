//! Host bindings of the WIT contract, one module per supported version.
//!
//! `v0_1` is `ferry:connector@0.1.0`. A later contract gets its own module next
//! to it, generated from its own folder under `wit/`, and the engine links both,
//! so that components built against either keep loading.

/// Bindings of `ferry:connector@0.1.0` (generated: the WIT files document them).
#[allow(missing_docs)]
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "connector",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ferry:connector/session.session": crate::capabilities::session::SessionState,
            "ferry:connector/jobs.job-run": crate::capabilities::jobs::JobRunState,
        },
    });
}

pub use v0_1::exports::ferry::connector::guest;
pub use v0_1::ferry::connector::{events, jobs, links, secrets, session, types, units};
pub use v0_1::{Connector, ConnectorPre};

/// The name of the interface every connector exports.
pub const GUEST_INTERFACE: &str = "ferry:connector/guest@0.1.0";
