//! `connector.toml`: what a connector module is and what it asks for. Parsed
//! and checked in the `ferry-manifest` crate, without the runtime (see
//! [`ferry_manifest::manifest`]); here under the host's own paths.

pub use ferry_manifest::{
    After, AfterDecl, BackendDecl, ButtonDecl, Capabilities, Conditions, Credential,
    CredentialDecl, CronDecl, DEFAULT_SIGNATURE_HEADER, DEFAULT_TOKEN_HEADER, EventSource,
    FieldCondition, HostMatch, HostRule, ListenerDecl, Manifest, MetadataField, ModuleInfo,
    ParamDecl, PathMatch, Presentation, RECORD_EVENT_PREFIX, Schedule, SubscriptionDecl,
    TIMED_EVENT, Target, TopicPattern, WebhookAuth, WebhookContent, WebhookDecl, WorkDirDecl,
    check_topic, is_record_event, op_text, valid_name,
};
