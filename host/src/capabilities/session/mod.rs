//! `ferry:connector/session`: the context of a call, and the local records
//! (guests' reads and searches are bounded: `crate::store::GuestQueryLimits`).

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::{Produced, RunContext};
use super::wit::{WitResult, check_model, final_error, parse_json, record_id};
use crate::bindings::session::{self, CallInfo, Filter, FilterOp, LocalRecord, LogLevel};
use crate::bindings::types;
use crate::engine::config::EngineConfig;
use crate::events::NO_EXPORT;
use crate::store::{self, GuestQueryLimits, RecordRow, Store};
use ferry_manifest::declarative::CONFIG_PARAM;
use serde_json::Value;
use std::sync::Arc;
use wasmtime::component::{Linker, Resource};

/// Context flags one session may carry, and their length: flags are names
/// such as `no-export`, not a place to store data.
const MAX_FLAGS: usize = 32;
const MAX_FLAG_LEN: usize = 64;
/// Records one search of links returns at most (record searches: the
/// configured [`GuestQueryLimits::max_results`](crate::store::GuestQueryLimits)).
pub const MAX_SEARCH: u32 = crate::store::GuestQueryLimits::DEFAULT.max_results;

/// The session: what a call runs for, and local records. Its instance state
/// is the bounds of guests' record queries.
pub struct Session;

impl Capability for Session {
    type Config = Arc<GuestQueryLimits>;
    type RunState = ();
    type State = Arc<GuestQueryLimits>;

    fn config(engine: &EngineConfig, _store: &Store) -> Self::Config {
        Arc::new(engine.guest_queries.clone())
    }

    fn run_state(_config: &Self::Config, _run: &RunContext) {}

    fn state(setup: &mut Setup<'_, Self>) -> Self::State {
        match setup.run {
            Some((queries, _)) => queries.clone(),
            None => Arc::new(GuestQueryLimits::DEFAULT),
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        session::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

/// The host state behind a guest's `session` handle: its context flags.
/// Everything else (instance, user, job) belongs to the call.
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    pub(crate) flags: Vec<String>,
}

fn local_record(row: RecordRow) -> LocalRecord {
    LocalRecord {
        id: row.id as u64,
        model: row.model,
        values: Value::Object(row.values).to_string(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn filter(f: Filter) -> Result<store::RecordFilter, types::Error> {
    let value = parse_json(&f.value, &format!("filter on `{}`", f.field))?;
    let op = match f.op {
        FilterOp::Eq => store::FilterOp::Eq,
        FilterOp::Ne => store::FilterOp::Ne,
        FilterOp::Lt => store::FilterOp::Lt,
        FilterOp::Le => store::FilterOp::Le,
        FilterOp::Gt => store::FilterOp::Gt,
        FilterOp::Ge => store::FilterOp::Ge,
        FilterOp::Like => store::FilterOp::Like,
        FilterOp::OneOf => store::FilterOp::OneOf,
    };
    Ok(store::RecordFilter {
        field: f.field,
        op,
        value,
    })
}

impl View<'_, Session> {
    /// Whether writes through this session fire record events.
    fn fires_events(&self, s: &Resource<SessionState>) -> wasmtime::Result<bool> {
        Ok(!self.table.get(s)?.flags.iter().any(|f| f == NO_EXPORT))
    }
}

impl session::Host for View<'_, Session> {}

impl session::HostSession for View<'_, Session> {
    async fn info(&mut self, s: Resource<SessionState>) -> wasmtime::Result<CallInfo> {
        let flags = self.table.get(&s)?.flags.clone();
        let run = self.instance.run.as_ref();
        Ok(CallInfo {
            instance: run.map(|c| c.instance.name.clone()).unwrap_or_default(),
            backend: run.map(|c| c.instance.backend.clone()).unwrap_or_default(),
            module: self.instance.module.clone(),
            module_backend: self
                .instance
                .module_backend
                .as_ref()
                .map(|k| k.to_string())
                .unwrap_or_default(),
            user: run.map(|c| c.user.clone()).unwrap_or_default(),
            context_flags: flags,
            job_id: run.and_then(|c| c.job.as_ref()).map(|j| j.id as u64),
        })
    }

    async fn param(
        &mut self,
        _s: Resource<SessionState>,
        key: String,
    ) -> wasmtime::Result<Option<String>> {
        if key == CONFIG_PARAM {
            let rest = self.instance.installed.as_ref();
            let rest = rest.and_then(|m| m.manifest.rest.as_ref());
            return Ok(rest.map(serde_json::to_string).transpose()?);
        }
        Ok(self
            .instance
            .run
            .as_ref()
            .and_then(|c| c.params.get(&key))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }))
    }

    async fn params(&mut self, _s: Resource<SessionState>) -> wasmtime::Result<String> {
        Ok(self
            .instance
            .run
            .as_ref()
            .map(|c| Value::Object(c.params.clone()).to_string())
            .unwrap_or_else(|| "{}".into()))
    }

    async fn has_flag(
        &mut self,
        s: Resource<SessionState>,
        flag: String,
    ) -> wasmtime::Result<bool> {
        Ok(self.table.get(&s)?.flags.contains(&flag))
    }

    async fn with_flags(
        &mut self,
        s: Resource<SessionState>,
        flags: Vec<String>,
    ) -> wasmtime::Result<Resource<SessionState>> {
        let mut state = self.table.get(&s)?.clone();
        for flag in flags {
            if flag.len() > MAX_FLAG_LEN {
                return Err(wasmtime::Error::msg(format!(
                    "context flag longer than {MAX_FLAG_LEN} bytes"
                )));
            }
            if !state.flags.contains(&flag) {
                state.flags.push(flag);
            }
        }
        if state.flags.len() > MAX_FLAGS {
            return Err(wasmtime::Error::msg(format!(
                "more than {MAX_FLAGS} context flags"
            )));
        }
        Ok(self.table.push(state)?)
    }

    async fn log(
        &mut self,
        _s: Resource<SessionState>,
        level: LogLevel,
        message: String,
    ) -> wasmtime::Result<()> {
        let level = match level {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        // The run redacts opened secrets' values from the line.
        if let Some(run) = &self.instance.run {
            run.log(level, self.module(), &message);
        }
        Ok(())
    }

    async fn read(
        &mut self,
        _s: Resource<SessionState>,
        model: String,
        id: u64,
    ) -> WitResult<LocalRecord> {
        let limits = self.state.clone();
        self.with_run(async move |run| {
            check_model(&model)?;
            let row = run
                .store
                .guest_read(&limits, run.deadline, &model, record_id(id)?)
                .await?;
            Ok(local_record(row))
        })
        .await
    }

    async fn search(
        &mut self,
        _s: Resource<SessionState>,
        model: String,
        filters: Vec<Filter>,
        limit: Option<u32>,
        offset: u32,
    ) -> WitResult<Vec<LocalRecord>> {
        let limits = self.state.clone();
        self.with_run(async move |run| {
            check_model(&model)?;
            let filters = filters
                .into_iter()
                .map(filter)
                .collect::<Result<Vec<_>, _>>()?;
            // Bounded by the limits, stopped at the end of the run's budget.
            let rows = run
                .store
                .guest_search(&limits, run.deadline, &model, &filters, limit, offset)
                .await?;
            Ok(rows.into_iter().map(local_record).collect())
        })
        .await
    }

    async fn create(
        &mut self,
        s: Resource<SessionState>,
        model: String,
        values: String,
    ) -> WitResult<u64> {
        let fire = self.fires_events(&s)?;
        self.with_run(async move |run| {
            check_model(&model)?;
            run.charge(Produced::RecordWrites)?;
            run.check_payload(&format!("values of {model}"), &values)?;
            let values = parse_json(&values, &format!("create {model}"))?;
            Ok(run.writer(fire).create(&model, values).await?.id as u64)
        })
        .await
    }

    async fn create_linked(
        &mut self,
        s: Resource<SessionState>,
        model: String,
        values: String,
        external_id: String,
    ) -> WitResult<u64> {
        let fire = self.fires_events(&s)?;
        self.with_run(async move |run| {
            check_model(&model)?;
            run.charge(Produced::RecordWrites)?;
            run.check_payload(&format!("values of {model}"), &values)?;
            run.check_key("external id", &external_id)?;
            let values = parse_json(&values, &format!("create {model}"))?;
            let row = run
                .writer(fire)
                .create_linked(&model, values, &run.instance.name, &external_id)
                .await?;
            Ok(row.id as u64)
        })
        .await
    }

    async fn write(
        &mut self,
        s: Resource<SessionState>,
        model: String,
        id: u64,
        values: String,
    ) -> WitResult<()> {
        let fire = self.fires_events(&s)?;
        self.with_run(async move |run| {
            check_model(&model)?;
            run.charge(Produced::RecordWrites)?;
            run.check_payload(&format!("values of {model}"), &values)?;
            let id = record_id(id)?;
            let values = parse_json(&values, &format!("write {model} {id}"))?;
            run.writer(fire).write(&model, id, values).await?;
            Ok(())
        })
        .await
    }

    async fn unlink(&mut self, s: Resource<SessionState>, model: String, id: u64) -> WitResult<()> {
        let fire = self.fires_events(&s)?;
        self.with_run(async move |run| {
            check_model(&model)?;
            run.charge(Produced::RecordWrites)?;
            run.writer(fire).unlink(&model, record_id(id)?).await?;
            Ok(())
        })
        .await
    }

    async fn checkpoint(
        &mut self,
        _s: Resource<SessionState>,
        model: String,
        id: u64,
        message: String,
    ) -> WitResult<()> {
        self.with_run(async move |run| {
            check_model(&model)?;
            if message.len() > 4096 {
                return Err(final_error("checkpoint message longer than 4096 bytes"));
            }
            let job = run.job.as_ref().map(|j| j.id);
            run.store
                .add_checkpoint(&run.instance.name, &model, record_id(id)?, &message, job)
                .await?;
            Ok(())
        })
        .await
    }

    async fn drop(&mut self, s: Resource<SessionState>) -> wasmtime::Result<()> {
        self.table.delete(s)?;
        Ok(())
    }
}
