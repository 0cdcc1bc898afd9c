//! `ferry:connector/links`: bindings of the current backend instance.

use super::capability::{Capability, HasCapability, Setup, View, ViewOf};
use super::context::{Produced, RunContext};
use super::session::MAX_SEARCH;
use super::wit::{WitResult, check_model, parse_json, record_id};
use crate::bindings::links::{self, Link, Pair};
use crate::engine::config::EngineConfig;
use crate::store::{LinkRow, PairRow, Store, SyncStateRow, SyncedAt};
use serde_json::Value;
use wasmtime::component::Linker;

/// Links: bindings of the backend instance's records to external ids. No
/// state of its own: everything is in the store, for the run's instance.
pub struct Links;

impl Capability for Links {
    type Config = ();
    type RunState = ();
    type State = ();

    fn config(_engine: &EngineConfig, _store: &Store) {}

    fn run_state(_config: &(), _run: &RunContext) {}

    fn state(_setup: &mut Setup<'_, Self>) {}

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        links::add_to_linker::<_, ViewOf<Self>>(linker, T::view)
    }
}

fn link(row: LinkRow) -> Link {
    Link {
        model: row.model,
        local_id: row.local_id as u64,
        external_id: row.external_id,
        sync_date: row.sync_date,
        data: row.data.to_string(),
    }
}

fn sync_state(row: SyncStateRow) -> links::SyncState {
    links::SyncState {
        remote_version: row.link.remote_version.clone(),
        // Revisions start at 1 and only grow: never negative.
        synced_revision: row.link.synced_revision.map(|r| r.max(0) as u64),
        revision: row.revision.max(0) as u64,
        local_updated_at: row.local_updated_at,
        link: link(row.link),
    }
}

fn pair(row: PairRow) -> Pair {
    Pair {
        label: row.label,
        left_id: row.left_id,
        right_id: row.right_id,
        data: row.data.to_string(),
        updated_at: row.updated_at,
    }
}

fn data(text: Option<String>) -> Result<Option<Value>, crate::bindings::types::Error> {
    text.map(|t| parse_json(&t, "link data")).transpose()
}

impl links::Host for View<'_, Links> {
    async fn bind(
        &mut self,
        model: String,
        local_id: u64,
        external_id: String,
        extra: Option<String>,
    ) -> WitResult<Link> {
        self.with_run(async move |run| {
            run.charge(Produced::Links)?;
            check_model(&model)?;
            run.check_key("external id", &external_id)?;
            if let Some(extra) = &extra {
                run.check_payload("link data", extra)?;
            }
            let row = run
                .store
                .bind(
                    &run.instance.name,
                    &model,
                    record_id(local_id)?,
                    &external_id,
                    data(extra)?,
                )
                .await?;
            Ok(link(row))
        })
        .await
    }

    async fn to_external(&mut self, model: String, local_id: u64) -> WitResult<Option<Link>> {
        self.with_run(async move |run| {
            Ok(run
                .store
                .link_by_local(&run.instance.name, &model, record_id(local_id)?)
                .await?
                .map(link))
        })
        .await
    }

    async fn to_local(&mut self, model: String, external_id: String) -> WitResult<Option<Link>> {
        self.with_run(async move |run| {
            Ok(run
                .store
                .link_by_external(&run.instance.name, &model, &external_id)
                .await?
                .map(link))
        })
        .await
    }

    async fn search(
        &mut self,
        model: String,
        synced_before: Option<i64>,
        limit: Option<u32>,
        offset: u32,
    ) -> WitResult<Vec<Link>> {
        self.with_run(async move |run| {
            let limit = Some(limit.unwrap_or(MAX_SEARCH).min(MAX_SEARCH));
            let rows = run
                .store
                .search_links(
                    Some(&run.instance.name),
                    Some(&model),
                    synced_before,
                    limit,
                    offset,
                )
                .await?;
            Ok(rows.into_iter().map(link).collect())
        })
        .await
    }

    async fn unbind(&mut self, model: String, local_id: u64) -> WitResult<bool> {
        self.with_run(async move |run| {
            run.charge(Produced::Links)?;
            Ok(run
                .store
                .unbind(&run.instance.name, &model, record_id(local_id)?)
                .await?)
        })
        .await
    }

    async fn bind_pair(
        &mut self,
        label: String,
        left_id: String,
        right_id: String,
        extra: Option<String>,
    ) -> WitResult<Pair> {
        self.with_run(async move |run| {
            run.charge(Produced::Links)?;
            check_model(&label)?;
            run.check_key("left id", &left_id)?;
            run.check_key("right id", &right_id)?;
            if let Some(extra) = &extra {
                run.check_payload("pair data", extra)?;
            }
            Ok(pair(
                run.store
                    .bind_pair(
                        &run.instance.name,
                        &label,
                        &left_id,
                        &right_id,
                        data(extra)?,
                    )
                    .await?,
            ))
        })
        .await
    }

    async fn pair_by_left(&mut self, label: String, left_id: String) -> WitResult<Option<Pair>> {
        self.with_run(async move |run| {
            Ok(run
                .store
                .find_pair(&run.instance.name, &label, &left_id, true)
                .await?
                .map(pair))
        })
        .await
    }

    async fn pair_by_right(&mut self, label: String, right_id: String) -> WitResult<Option<Pair>> {
        self.with_run(async move |run| {
            Ok(run
                .store
                .find_pair(&run.instance.name, &label, &right_id, false)
                .await?
                .map(pair))
        })
        .await
    }

    async fn unbind_pair(&mut self, label: String, left_id: String) -> WitResult<bool> {
        self.with_run(async move |run| {
            run.charge(Produced::Links)?;
            Ok(run
                .store
                .unbind_pair(&run.instance.name, &label, &left_id)
                .await?)
        })
        .await
    }

    async fn sync_state_of(
        &mut self,
        model: String,
        local_id: u64,
    ) -> WitResult<Option<links::SyncState>> {
        self.with_run(async move |run| {
            check_model(&model)?;
            let state = run
                .store
                .sync_state(&run.instance.name, &model, record_id(local_id)?)
                .await?;
            Ok(state.map(sync_state))
        })
        .await
    }

    async fn bind_synced(
        &mut self,
        model: String,
        local_id: u64,
        external_id: String,
        remote_version: Option<String>,
        synced_revision: u64,
        extra: Option<String>,
    ) -> WitResult<Link> {
        self.with_run(async move |run| {
            run.charge(Produced::Links)?;
            check_model(&model)?;
            run.check_key("external id", &external_id)?;
            if let Some(version) = &remote_version {
                run.check_key("remote version", version)?;
            }
            if let Some(extra) = &extra {
                run.check_payload("link data", extra)?;
            }
            let row = run
                .store
                .bind_synced(
                    &run.instance.name,
                    &model,
                    record_id(local_id)?,
                    &external_id,
                    SyncedAt {
                        remote_version: remote_version.as_deref(),
                        revision: i64::try_from(synced_revision).unwrap_or(i64::MAX),
                    },
                    data(extra)?,
                )
                .await?;
            Ok(link(row))
        })
        .await
    }

    async fn begin_create(
        &mut self,
        model: String,
        local_id: u64,
    ) -> WitResult<links::CreateIntent> {
        self.with_run(async move |run| {
            run.charge(Produced::Links)?;
            check_model(&model)?;
            let intent = run
                .store
                .begin_create(&run.instance.name, &model, record_id(local_id)?)
                .await?;
            Ok(links::CreateIntent {
                key: intent.key,
                resumed: intent.resumed,
                created_at: intent.created_at,
                revision: intent.revision as u64,
            })
        })
        .await
    }
}
