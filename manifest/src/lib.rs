//! # Ferry's manifests and backend registry, without the runtime
//!
//! What a connector module is and asks for (`connector.toml`, [`manifest`]),
//! what its component says it implements ([`description`]), the backends it
//! answers for and the registry that walks their parents
//! (`shop@2.0 → shop@1.7 → shop`, [`registry`]), and the checks of a webhook
//! call before any guest runs ([`webhook_call`]).
//!
//! All of it is plain data: no WebAssembly runtime, no database. The host
//! (`ferry-host`) keeps the compiled components in its engine, keyed by the
//! content hash a [`Module`] carries, so that this crate builds (and fuzzes)
//! on its own.

#![warn(missing_docs)]

pub mod backend_key;
pub mod build;
pub mod buttons;
pub mod capabilities;
pub mod credentials;
pub mod cron;
pub mod description;
pub mod error;
pub mod host_rules;
pub mod job_decl;
pub mod jobs;
pub mod listeners;
pub mod manifest;
pub mod names;
pub mod params;
pub mod registry;
pub mod stores;
pub mod subscription;
pub mod topics;
pub mod webhook_call;
pub mod webhooks;

pub use backend_key::BackendKey;
pub use build::{BuildDecl, Language};
pub use buttons::ButtonDecl;
pub use capabilities::{Capabilities, WorkDirDecl};
pub use credentials::{Credential, CredentialDecl, Presentation};
pub use cron::{CronDecl, Schedule};
pub use description::{Description, JobDecl, UnitDecl};
pub use error::{Error, Result};
/// Declarative connectors' `[rest]` section (the `ferry-declarative` crate).
pub use ferry_declarative as declarative;
pub use host_rules::{HostMatch, HostRule, PathMatch, Target};
pub use job_decl::ManifestJob;
pub use jobs::{DEFAULT_CHUNK_SIZE, JobParam, ParamError, ParamType, Problem, StepDecl, StepKind};
pub use listeners::{FieldDecl, ListenerDecl, MetadataField};
pub use manifest::{BackendDecl, Manifest, ModuleInfo};
pub use names::{check_secret_name, valid_name};
pub use params::{ParamDecl, check_instance_params};
pub use registry::{Module, Registry, Resolved};
pub use stores::{StoreGrant, StoreKind};
pub use subscription::{
    After, AfterDecl, Conditions, EventSource, FieldCondition, FilterOp, RECORD_EVENT_PREFIX,
    SubscriptionDecl, TIMED_EVENT, is_record_event, op_text,
};
pub use topics::{TopicPattern, check_topic};
pub use webhooks::{
    DEFAULT_SIGNATURE_HEADER, DEFAULT_TOKEN_HEADER, WebhookAuth, WebhookContent, WebhookDecl,
};
