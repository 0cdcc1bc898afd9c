//! [`Connector`]: what a module implements, and the glue to the WIT exports.

use crate::bindings::exports::ferry::connector0_2_0::guest as wit;
use crate::bindings::ferry::connector0_1_3::{events, jobs, session, types};
use crate::job::JobDef;
use crate::unit::Unit;
use crate::webhook;
use crate::{Context, Error, Result};
use serde_json::Value;

type JobFn = dyn Fn(&Context, Value) -> Result<Value> + Send + Sync;
type EventFn = dyn Fn(&Context, Event) -> Result<()> + Send + Sync;
type WebhookFn = dyn Fn(&Context, webhook::Request) -> Result<webhook::Response> + Send + Sync;

/// An event delivered to [`Connector::on_event`].
#[derive(Debug, Clone)]
pub struct Event {
    /// `record.created`, `record.updated`, `record.deleted` or a custom name.
    pub name: String,
    /// Model of the record.
    pub model: String,
    /// The record, when the event is about one.
    pub record_id: Option<u64>,
    /// For `record.updated`: the fields whose values changed.
    pub changed_fields: Vec<String>,
    /// Extra data.
    pub payload: Value,
}

struct UnitEntry {
    kind: String,
    model: String,
    unit: Box<dyn Unit>,
}

struct JobEntry {
    def: JobDef,
    /// The function of a plain job; none for a batch job (made of steps).
    run: Option<Box<JobFn>>,
}

struct WebhookEntry {
    name: String,
    handle: Box<WebhookFn>,
}

/// The units, jobs, event handler and webhooks of one connector module.
///
/// Build it in a function and export it with [`crate::export_connector!`]:
/// the SDK builds it once per instance and dispatches the host's calls to it.
#[derive(Default)]
pub struct Connector {
    units: Vec<UnitEntry>,
    jobs: Vec<JobEntry>,
    on_event: Option<Box<EventFn>>,
    events: Vec<String>,
    webhooks: Vec<WebhookEntry>,
}

impl Connector {
    /// A connector with nothing in it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a unit of `kind` for `model` (`*` for every model).
    pub fn unit(mut self, kind: &str, model: &str, unit: impl Unit + 'static) -> Self {
        self.units.push(UnitEntry {
            kind: kind.to_string(),
            model: model.to_string(),
            unit: Box::new(unit),
        });
        self
    }

    /// Register a plain job that declares no parameters: its payload may be
    /// any JSON value, and `run` gets it as given.
    pub fn job(
        self,
        name: &str,
        description: &str,
        run: impl Fn(&Context, Value) -> Result<Value> + Send + Sync + 'static,
    ) -> Self {
        self.job_with(JobDef::new(name, description), run)
    }

    /// Register a job whose payload is an `In` and whose result an `Out`:
    /// the payload is read into `In` before `run` sees it (a payload that
    /// does not fit fails the job with a final error naming the job and the
    /// field), and `Out` is written as the job's result.
    ///
    /// ```ignore
    /// #[derive(Deserialize)]
    /// struct Import { model: String, since: Option<i64> }
    /// #[derive(Serialize)]
    /// struct Imported { enqueued: usize }
    ///
    /// connector.typed_job("import", "Import what changed", |ctx, job: Import| {
    ///     Ok(Imported { enqueued: 0 })
    /// })
    /// ```
    pub fn typed_job<In, Out>(
        self,
        name: &str,
        description: &str,
        run: impl Fn(&Context, In) -> Result<Out> + Send + Sync + 'static,
    ) -> Self
    where
        In: serde::de::DeserializeOwned,
        Out: serde::Serialize,
    {
        let typed = crate::unit::typed_fn(format!("job `{name}`"), run);
        self.job(name, description, typed)
    }

    /// Register a plain job with typed parameters (see [`crate::job`]): the
    /// host validates the payload against them and fills in defaults, and
    /// `run` gets that object. Steps added to `def` are ignored: a job is
    /// either plain or a [`Connector::batch`].
    pub fn job_with(
        mut self,
        mut def: JobDef,
        run: impl Fn(&Context, Value) -> Result<Value> + Send + Sync + 'static,
    ) -> Self {
        def.steps.clear();
        self.jobs.push(JobEntry {
            def,
            run: Some(Box::new(run)),
        });
        self
    }

    /// Register a batch job: its parameters and its steps, which the host
    /// runs in order, an item step chunk by chunk (see [`crate::step`]);
    /// or a generic one ([`crate::generic::BatchImport`],
    /// [`crate::generic::BatchExport`]).
    pub fn batch(mut self, def: impl Into<JobDef>) -> Self {
        self.jobs.push(JobEntry {
            def: def.into(),
            run: None,
        });
        self
    }

    /// Handle events subscribed to without a job.
    pub fn on_event(
        mut self,
        handler: impl Fn(&Context, Event) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.on_event = Some(Box::new(handler));
        self
    }

    /// Handle webhook `name` (declared as `[[webhook]]` in `connector.toml`,
    /// where its authentication is set). See [`crate::webhook`].
    pub fn webhook(
        mut self,
        name: &str,
        handler: impl Fn(&Context, webhook::Request) -> Result<webhook::Response>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.webhooks.push(WebhookEntry {
            name: name.to_string(),
            handle: Box::new(handler),
        });
        self
    }

    /// Declare a custom event this module may emit.
    pub fn emits(mut self, event: &str) -> Self {
        self.events.push(event.to_string());
        self
    }

    fn find_unit(&self, kind: &str, model: &str) -> Option<&dyn Unit> {
        let exact = self
            .units
            .iter()
            .find(|u| u.kind == kind && u.model == model);
        exact
            .or_else(|| self.units.iter().find(|u| u.kind == kind && u.model == "*"))
            .map(|u| &*u.unit)
    }

    /// Call one of this connector's units directly, in-process (used by tests
    /// and benchmarks that run the connector natively).
    pub fn call_local(
        &self,
        ctx: &Context,
        kind: &str,
        model: &str,
        method: &str,
        payload: Value,
    ) -> Result<Value> {
        let unit = self.find_unit(kind, model).ok_or_else(|| {
            Error::not_found(format!(
                "this module has no {kind} unit for model `{model}`"
            ))
        })?;
        unit.call_model(ctx, model, method, payload)
    }
}

mod dispatch;
#[cfg(test)]
mod dispatch_tests;

/// Glue called by the code that [`crate::export_connector!`] generates.
#[doc(hidden)]
pub mod glue {
    use super::*;

    pub use crate::bindings::exports::ferry::connector0_2_0::guest::Guest;
    pub use session::Session;
    pub use types::Error as WitError;
    pub use wit::Description;
    /// The running job, as the host passes it.
    pub type JobRun = jobs::JobRun;
    /// An event, as the host passes it.
    pub type WitEvent = events::Event;
    pub use wit::{Chunk, Processed, StepContext, WebhookRequest, WebhookResponse, Written};

    pub fn run_tasklet(
        c: &Connector,
        session: &Session,
        step: StepContext,
    ) -> Result<String, WitError> {
        let ctx = Context::new(session, None);
        let call = dispatch::step_call(step)?;
        Ok(crate::json::answer(c.run_tasklet(&ctx, &call)?))
    }

    pub fn read_chunk(
        c: &Connector,
        session: &Session,
        step: StepContext,
        position: Option<String>,
        size: u32,
    ) -> Result<Chunk, WitError> {
        let ctx = Context::new(session, None);
        let call = dispatch::step_call(step)?;
        let position = position
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(Error::from)?;
        Ok(dispatch::chunk_to_wit(
            c.read_chunk(&ctx, &call, position, size)?,
        ))
    }

    pub fn process_chunk(
        c: &Connector,
        session: &Session,
        step: StepContext,
        items: Vec<String>,
    ) -> Result<Vec<Processed>, WitError> {
        let ctx = Context::new(session, None);
        let call = dispatch::step_call(step)?;
        let items = dispatch::items_from_wit(items)?;
        Ok(c.process_chunk(&ctx, &call, items)?
            .into_iter()
            .map(dispatch::processed_to_wit)
            .collect())
    }

    pub fn write_chunk(
        c: &Connector,
        session: &Session,
        step: StepContext,
        items: Vec<String>,
    ) -> Result<Written, WitError> {
        let ctx = Context::new(session, None);
        let call = dispatch::step_call(step)?;
        let items = dispatch::items_from_wit(items)?;
        Ok(dispatch::written_to_wit(c.write_chunk(&ctx, &call, items)?))
    }

    pub fn describe(c: &Connector) -> wit::Description {
        c.describe()
    }

    pub fn invoke(
        c: &Connector,
        session: &Session,
        kind: String,
        model: String,
        method: String,
        payload: String,
    ) -> Result<String, WitError> {
        let ctx = Context::new(session, None);
        let payload: Value = serde_json::from_str(&payload).map_err(Error::from)?;
        Ok(crate::json::answer(
            c.call_local(&ctx, &kind, &model, &method, payload)?,
        ))
    }

    pub fn run_job(
        c: &Connector,
        session: &Session,
        job: &JobRun,
        name: String,
        payload: String,
    ) -> Result<String, WitError> {
        let ctx = Context::new(session, Some(job));
        let payload: Value = serde_json::from_str(&payload).map_err(Error::from)?;
        Ok(crate::json::answer(c.run_job(&ctx, &name, payload)?))
    }

    pub fn handle_event(c: &Connector, session: &Session, event: WitEvent) -> Result<(), WitError> {
        let handler = c
            .on_event
            .as_ref()
            .ok_or_else(|| Error::not_found("this module does not handle events without a job"))?;
        let ctx = Context::new(session, None);
        let event = Event {
            name: event.name,
            model: event.model,
            record_id: event.record_id,
            changed_fields: event.changed_fields,
            payload: serde_json::from_str(&event.payload).map_err(Error::from)?,
        };
        Ok(handler(&ctx, event)?)
    }

    pub fn handle_webhook(
        c: &Connector,
        session: &Session,
        hook: String,
        request: WebhookRequest,
    ) -> Result<WebhookResponse, WitError> {
        let entry = c.webhooks.iter().find(|w| w.name == hook).ok_or_else(|| {
            let known: Vec<&str> = c.webhooks.iter().map(|w| w.name.as_str()).collect();
            Error::not_found(format!(
                "this module has no webhook `{hook}` (it has: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let ctx = Context::new(session, None);
        let request = webhook::Request {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: request.headers,
            body: request.body,
        };
        let response = (entry.handle)(&ctx, request)?;
        Ok(WebhookResponse {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}

/// Export a connector: `export_connector!(build_fn)` where `build_fn() -> Connector`.
///
/// ```no_run
/// fn connector() -> ferry_sdk::Connector { ferry_sdk::Connector::new() /* .unit(...) .job(...) */ }
/// ferry_sdk::export_connector!(connector);
/// ```
#[macro_export]
macro_rules! export_connector {
    ($build:path) => {
        #[doc(hidden)]
        pub struct __FerryConnector;

        #[doc(hidden)]
        pub fn __ferry_connector() -> &'static $crate::Connector {
            static CONNECTOR: ::std::sync::OnceLock<$crate::Connector> = ::std::sync::OnceLock::new();
            CONNECTOR.get_or_init($build)
        }

        impl $crate::connector::glue::Guest for __FerryConnector {
            fn describe() -> $crate::connector::glue::Description {
                $crate::connector::glue::describe(__ferry_connector())
            }
            fn invoke(
                session: &$crate::connector::glue::Session,
                kind: ::std::string::String,
                model: ::std::string::String,
                method: ::std::string::String,
                payload: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, $crate::connector::glue::WitError> {
                $crate::connector::glue::invoke(__ferry_connector(), session, kind, model, method, payload)
            }
            fn run_job(
                session: &$crate::connector::glue::Session,
                job: &$crate::connector::glue::JobRun,
                name: ::std::string::String,
                payload: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, $crate::connector::glue::WitError> {
                $crate::connector::glue::run_job(__ferry_connector(), session, job, name, payload)
            }
            fn handle_event(
                session: &$crate::connector::glue::Session,
                event: $crate::connector::glue::WitEvent,
            ) -> ::std::result::Result<(), $crate::connector::glue::WitError> {
                $crate::connector::glue::handle_event(__ferry_connector(), session, event)
            }
            fn handle_webhook(
                session: &$crate::connector::glue::Session,
                hook: ::std::string::String,
                request: $crate::connector::glue::WebhookRequest,
            ) -> ::std::result::Result<
                $crate::connector::glue::WebhookResponse,
                $crate::connector::glue::WitError,
            > {
                $crate::connector::glue::handle_webhook(__ferry_connector(), session, hook, request)
            }
            fn run_tasklet(
                session: &$crate::connector::glue::Session,
                step: $crate::connector::glue::StepContext,
            ) -> ::std::result::Result<::std::string::String, $crate::connector::glue::WitError> {
                $crate::connector::glue::run_tasklet(__ferry_connector(), session, step)
            }
            fn read_chunk(
                session: &$crate::connector::glue::Session,
                step: $crate::connector::glue::StepContext,
                position: ::std::option::Option<::std::string::String>,
                size: u32,
            ) -> ::std::result::Result<$crate::connector::glue::Chunk, $crate::connector::glue::WitError> {
                $crate::connector::glue::read_chunk(__ferry_connector(), session, step, position, size)
            }
            fn process_chunk(
                session: &$crate::connector::glue::Session,
                step: $crate::connector::glue::StepContext,
                items: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::connector::glue::Processed>,
                $crate::connector::glue::WitError,
            > {
                $crate::connector::glue::process_chunk(__ferry_connector(), session, step, items)
            }
            fn write_chunk(
                session: &$crate::connector::glue::Session,
                step: $crate::connector::glue::StepContext,
                items: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<$crate::connector::glue::Written, $crate::connector::glue::WitError> {
                $crate::connector::glue::write_chunk(__ferry_connector(), session, step, items)
            }
        }

        // The component exports exist only in the wasm build: natively (tests,
        // benchmarks, clippy) the crate is a plain library.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export!(__FerryConnector with_types_in $crate::bindings);
    };
}
