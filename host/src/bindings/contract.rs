//! One view of a connector component, whichever contract it was built
//! against: the calls every contract has (`describe`, `invoke`, `run-job`,
//! `handle-event`, `handle-webhook`) answer the same host types, and the step
//! calls of 0.2 are there when the component has them.

use super::{guest as g1, guest_v0_2 as g2, types, v0_1, v0_2};
use crate::capabilities::HostState;
use crate::capabilities::jobs::JobRunState;
use crate::capabilities::session::SessionState;
use ferry_manifest::{Description, JobDecl, JobParam, ParamType, StepDecl, StepKind, UnitDecl};
use wasmtime::component::{InstancePre, Resource};

type Store<'a> = &'a mut wasmtime::Store<HostState>;
type Answer<T> = wasmtime::Result<Result<T, types::Error>>;

/// A component pre-linked to the host, of contract 0.1 or 0.2.
#[derive(Clone)]
pub enum GuestPre {
    /// Built against `ferry:connector@0.1.x`.
    V0_1(v0_1::ConnectorPre<HostState>),
    /// Built against `ferry:connector@0.2.x`.
    V0_2(v0_2::ConnectorPre<HostState>),
}

impl GuestPre {
    /// Look up the `guest` export of contract `contract` (`0.1` or `0.2`).
    pub fn new(contract: &str, pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        Ok(match contract {
            "0.2" => GuestPre::V0_2(v0_2::ConnectorPre::new(pre)?),
            _ => GuestPre::V0_1(v0_1::ConnectorPre::new(pre)?),
        })
    }

    /// The contract the component was built against: `0.1` or `0.2`.
    pub fn contract(&self) -> &'static str {
        match self {
            GuestPre::V0_1(_) => "0.1",
            GuestPre::V0_2(_) => "0.2",
        }
    }

    /// The engine it was linked for: the one its stores must be made in.
    pub fn engine(&self) -> &wasmtime::Engine {
        match self {
            GuestPre::V0_1(pre) => pre.engine(),
            GuestPre::V0_2(pre) => pre.engine(),
        }
    }

    /// A fresh instance in `store`.
    pub async fn instantiate_async(&self, store: Store<'_>) -> wasmtime::Result<Guest> {
        Ok(match self {
            GuestPre::V0_1(pre) => Guest::V0_1(pre.instantiate_async(store).await?),
            GuestPre::V0_2(pre) => Guest::V0_2(pre.instantiate_async(store).await?),
        })
    }
}

/// An instance of a connector component.
pub enum Guest {
    /// Of contract 0.1.
    V0_1(v0_1::Connector),
    /// Of contract 0.2.
    V0_2(v0_2::Connector),
}

/// The step calls of a 0.2 component (`run-tasklet`, `read-chunk`,
/// `process-chunk`, `write-chunk`), with their own types.
pub type StepCalls = g2::Guest;

impl Guest {
    /// `describe`, as the host's [`Description`].
    pub async fn describe(&self, store: Store<'_>) -> wasmtime::Result<Description> {
        Ok(match self {
            Guest::V0_1(c) => {
                let d = c.ferry_connector_guest().call_describe(store).await?;
                Description {
                    units: d.units.into_iter().map(unit_v0_1).collect(),
                    jobs: d
                        .jobs
                        .into_iter()
                        .map(|j| JobDecl {
                            name: j.name,
                            description: j.description,
                            params: Vec::new(),
                            steps: Vec::new(),
                        })
                        .collect(),
                    events: d.events,
                    sdk_version: d.sdk_version,
                }
            }
            Guest::V0_2(c) => {
                let d = c.ferry_connector0_2_0_guest().call_describe(store).await?;
                Description {
                    units: d
                        .units
                        .into_iter()
                        .map(|u| UnitDecl {
                            kind: u.kind,
                            model: u.model,
                            methods: u.methods,
                        })
                        .collect(),
                    jobs: d.jobs.into_iter().map(job_v0_2).collect(),
                    events: d.events,
                    sdk_version: d.sdk_version,
                }
            }
        })
    }

    /// `invoke`: call a method of a unit.
    #[allow(clippy::ptr_arg)] // the generated calls take `&String`
    pub async fn invoke(
        &self,
        store: Store<'_>,
        session: Resource<SessionState>,
        kind: &String,
        model: &String,
        method: &String,
        payload: &String,
    ) -> Answer<String> {
        match self {
            Guest::V0_1(c) => {
                c.ferry_connector_guest()
                    .call_invoke(store, session, kind, model, method, payload)
                    .await
            }
            Guest::V0_2(c) => {
                c.ferry_connector0_2_0_guest()
                    .call_invoke(store, session, kind, model, method, payload)
                    .await
            }
        }
    }

    /// `run-job`: run a plain job.
    #[allow(clippy::ptr_arg)] // the generated calls take `&String`
    pub async fn run_job(
        &self,
        store: Store<'_>,
        session: Resource<SessionState>,
        run: Resource<JobRunState>,
        name: &String,
        payload: &String,
    ) -> Answer<String> {
        match self {
            Guest::V0_1(c) => {
                c.ferry_connector_guest()
                    .call_run_job(store, session, run, name, payload)
                    .await
            }
            Guest::V0_2(c) => {
                c.ferry_connector0_2_0_guest()
                    .call_run_job(store, session, run, name, payload)
                    .await
            }
        }
    }

    /// `handle-event`.
    pub async fn handle_event(
        &self,
        store: Store<'_>,
        session: Resource<SessionState>,
        event: &super::events::Event,
    ) -> Answer<()> {
        match self {
            Guest::V0_1(c) => {
                c.ferry_connector_guest()
                    .call_handle_event(store, session, event)
                    .await
            }
            Guest::V0_2(c) => {
                c.ferry_connector0_2_0_guest()
                    .call_handle_event(store, session, event)
                    .await
            }
        }
    }

    /// `handle-webhook`, in the 0.1 types (the 0.2 records are the same).
    pub async fn handle_webhook(
        &self,
        store: Store<'_>,
        session: Resource<SessionState>,
        hook: &str,
        request: &g1::WebhookRequest,
    ) -> Answer<g1::WebhookResponse> {
        match self {
            Guest::V0_1(c) => {
                c.ferry_connector_guest()
                    .call_handle_webhook(store, session, hook, request)
                    .await
            }
            Guest::V0_2(c) => {
                let request = g2::WebhookRequest {
                    method: request.method.clone(),
                    path: request.path.clone(),
                    query: request.query.clone(),
                    headers: request.headers.clone(),
                    body: request.body.clone(),
                };
                let answer = c
                    .ferry_connector0_2_0_guest()
                    .call_handle_webhook(store, session, hook, &request)
                    .await?;
                Ok(answer.map(|r| g1::WebhookResponse {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                }))
            }
        }
    }

    /// The step calls, for a component of contract 0.2; none for 0.1.
    pub fn steps(&self) -> Option<&StepCalls> {
        match self {
            Guest::V0_1(_) => None,
            Guest::V0_2(c) => Some(c.ferry_connector0_2_0_guest()),
        }
    }
}

fn unit_v0_1(u: g1::UnitDecl) -> UnitDecl {
    UnitDecl {
        kind: u.kind,
        model: u.model,
        methods: u.methods,
    }
}

fn job_v0_2(j: g2::JobDecl) -> JobDecl {
    JobDecl {
        name: j.name,
        description: j.description,
        params: j.params.into_iter().map(param_v0_2).collect(),
        steps: j
            .steps
            .into_iter()
            .map(|s| StepDecl {
                name: s.name,
                kind: match s.kind {
                    g2::StepKind::Tasklet => StepKind::Tasklet,
                    g2::StepKind::Items => StepKind::Items,
                },
                chunk_size: s.chunk_size,
                description: s.description,
            })
            .collect(),
    }
}

/// A parameter as the guest declared it. A default or a `one-of` value that
/// is not JSON becomes a JSON string of its text, which the check of the
/// declaration (at install) then judges against the type.
fn param_v0_2(p: g2::ParamDecl) -> JobParam {
    let json =
        |text: String| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    JobParam {
        name: p.name,
        ty: match p.type_ {
            g2::ParamType::String => ParamType::String,
            g2::ParamType::Integer => ParamType::Integer,
            g2::ParamType::Number => ParamType::Number,
            g2::ParamType::Boolean => ParamType::Boolean,
            g2::ParamType::Enumeration => ParamType::Enum,
            g2::ParamType::List => ParamType::List,
            g2::ParamType::Date => ParamType::Date,
            g2::ParamType::Duration => ParamType::Duration,
            g2::ParamType::Url => ParamType::Url,
        },
        required: p.required,
        default: p.default.map(json),
        minimum: p.minimum,
        maximum: p.maximum,
        pattern: p.pattern,
        one_of: p.one_of.into_iter().map(json).collect(),
        description: p.description,
    }
}
