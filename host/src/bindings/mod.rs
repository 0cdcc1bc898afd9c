//! Host bindings of the WIT contract, one module per supported version.
//!
//! - `v0_1` is `ferry:connector@0.1.3` (0.1.0 plus `@since(version = 0.1.1)`
//!   `@since(version = 0.1.2)` and `0.1.3` additions; components built against 0.1.0 link to it unchanged). It
//!   holds every interface a connector imports: the host implements each
//!   once, in `capabilities/`.
//! - `v0_2` is `ferry:connector@0.2.0`: a new `guest` export (typed job
//!   parameters, steps) over the same 0.1 imports, which its bindings take
//!   from `v0_1` (`with`), so one linker serves both.
//!
//! [`GuestPre`] and [`Guest`] (in `contract.rs`) hide which contract a
//! component was built against from the rest of the host.

/// Bindings of `ferry:connector@0.1.3` (generated: the WIT files document them).
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

/// Bindings of `ferry:connector@0.2.0`: only its `guest` export is new.
#[allow(missing_docs)]
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: ["../wit/since_v0.1.0", "../wit/since_v0.2.0"],
        world: "ferry:connector/connector@0.2.0",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ferry:connector/types@0.1.3": super::v0_1::ferry::connector::types,
            "ferry:connector/session@0.1.3": super::v0_1::ferry::connector::session,
            "ferry:connector/events@0.1.3": super::v0_1::ferry::connector::events,
            "ferry:connector/jobs@0.1.3": super::v0_1::ferry::connector::jobs,
            "ferry:connector/links@0.1.3": super::v0_1::ferry::connector::links,
            "ferry:connector/units@0.1.3": super::v0_1::ferry::connector::units,
            "ferry:connector/secrets@0.1.3": super::v0_1::ferry::connector::secrets,
            "ferry:connector/cursors@0.1.3": super::v0_1::ferry::connector::cursors,
            "ferry:connector/conflicts@0.1.3": super::v0_1::ferry::connector::conflicts,
            "ferry:connector/messaging@0.1.3": super::v0_1::ferry::connector::messaging,
            "ferry:connector/meta@0.1.3": super::v0_1::ferry::connector::meta,
            "ferry:connector/blobs@0.1.3": super::v0_1::ferry::connector::blobs,
        },
    });
}

mod contract;

pub use contract::{Guest, GuestPre, StepCalls};
pub use v0_1::exports::ferry::connector::guest;
pub use v0_1::ferry::connector::{
    blobs, conflicts, cursors, events, jobs, links, messaging, meta, secrets, session, types, units,
};
/// The `guest` export of contract 0.2 (steps, typed parameters).
pub use v0_2::exports::ferry::connector0_2_0::guest as guest_v0_2;

/// The names of the interface every connector exports, newest contract first.
pub const GUEST_INTERFACE: &str = "ferry:connector/guest@0.2.0` or `ferry:connector/guest@0.1.3";

/// The contract (`0.1`, `0.2`) whose `guest` interface an export is, if it
/// is one this host runs: any patch of 0.1 or 0.2, as wasmtime matches
/// semver-compatible names (a component built against 0.1.0 exports
/// `guest@0.1.0` and imports 0.1.0 interfaces, which the 0.1.1 definitions
/// satisfy).
pub fn guest_contract(export: &str) -> Option<&'static str> {
    let rest = export.strip_prefix("ferry:connector/guest@")?;
    ["0.1", "0.2"].into_iter().find(|contract| {
        rest.strip_prefix(contract)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|patch| patch.parse::<u32>().is_ok())
    })
}

/// Whether an export is the `guest` interface of a contract this host runs.
pub fn is_guest_interface(export: &str) -> bool {
    guest_contract(export).is_some()
}

#[cfg(test)]
mod tests {
    use super::{guest_contract, is_guest_interface};

    #[test]
    fn components_of_every_0_1_contract_are_guests() {
        // Built against 0.1.0 (before the bump) and against 0.1.1 and later patches.
        assert!(is_guest_interface("ferry:connector/guest@0.1.0"));
        assert!(is_guest_interface("ferry:connector/guest@0.1.1"));
        assert!(is_guest_interface("ferry:connector/guest@0.1.12"));
        // 0.2 is linked beside 0.1; other versions are other contracts.
        assert_eq!(guest_contract("ferry:connector/guest@0.2.0"), Some("0.2"));
        assert_eq!(guest_contract("ferry:connector/guest@0.1.0"), Some("0.1"));
        assert!(!is_guest_interface("ferry:connector/guest@0.3.0"));
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
