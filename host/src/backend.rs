//! Backends, their versions and parents, and the registry of installed
//! modules: plain data from the `ferry-manifest` crate (see
//! [`ferry_manifest::registry`]). A registry's modules name their components
//! by content hash; the compiled components are the engine's
//! ([`crate::engine`], `Engine::prepared`).

pub use ferry_manifest::{BackendKey, Description, JobDecl, Module, Registry, Resolved, UnitDecl};
