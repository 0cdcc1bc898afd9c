//! Host bindings of the WIT contract, one module per supported version.
//!
//! `v0_1` is `ferry:connector@0.1.1` (0.1.0 plus `@since(version = 0.1.1)`
//! additions; components built against 0.1.0 link to it unchanged). A later contract gets its own module next
//! to it, generated from its own folder under `wit/`, and the engine links both,
//! so that components built against either keep loading.

/// Bindings of `ferry:connector@0.1.1` (generated: the WIT files document them).
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
pub use v0_1::ferry::connector::{
    conflicts, cursors, events, jobs, links, secrets, session, types, units,
};
pub use v0_1::{Connector, ConnectorPre};

/// The name of the interface every connector exports, in the contract the
/// host links.
pub const GUEST_INTERFACE: &str = "ferry:connector/guest@0.1.1";

/// Whether an export is the `guest` interface of a contract this host runs:
/// any `0.1.x`, as wasmtime matches semver-compatible names (a component built
/// against 0.1.0 exports `guest@0.1.0` and imports 0.1.0 interfaces, which
/// the 0.1.1 definitions satisfy).
pub fn is_guest_interface(export: &str) -> bool {
    export
        .strip_prefix("ferry:connector/guest@0.1.")
        .is_some_and(|patch| patch.parse::<u32>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::is_guest_interface;

    #[test]
    fn components_of_every_0_1_contract_are_guests() {
        // Built against 0.1.0 (before the bump) and against 0.1.1 and later patches.
        assert!(is_guest_interface("ferry:connector/guest@0.1.0"));
        assert!(is_guest_interface("ferry:connector/guest@0.1.1"));
        assert!(is_guest_interface("ferry:connector/guest@0.1.12"));
        // Another minor or major version is another contract.
        assert!(!is_guest_interface("ferry:connector/guest@0.2.0"));
        assert!(!is_guest_interface("ferry:connector/guest@1.0.0"));
        // Not a version, not the guest interface, pre-releases.
        assert!(!is_guest_interface("ferry:connector/guest"));
        assert!(!is_guest_interface("ferry:connector/guest@0.1."));
        assert!(!is_guest_interface("ferry:connector/guest@0.1.x"));
        assert!(!is_guest_interface("ferry:connector/guest@0.1.1-rc1"));
        assert!(!is_guest_interface("ferry:connector/session@0.1.1"));
        assert!(!is_guest_interface("other:connector/guest@0.1.1"));
    }
}
