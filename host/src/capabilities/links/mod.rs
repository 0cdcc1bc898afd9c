//! `ferry:connector/links`: bindings of the current backend instance.

use super::{HostState, WitResult, check_model, parse_json, record_id};
use crate::bindings::links::{self, Link, Pair};
use crate::invoke::Produced;
use crate::store::{LinkRow, PairRow};
use serde_json::Value;

fn link(row: LinkRow) -> Link {
    Link {
        model: row.model,
        local_id: row.local_id as u64,
        external_id: row.external_id,
        sync_date: row.sync_date,
        data: row.data.to_string(),
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

impl links::Host for HostState {
    async fn bind(
        &mut self,
        model: String,
        local_id: u64,
        external_id: String,
        extra: Option<String>,
    ) -> WitResult<Link> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            scope.charge(Produced::Links)?;
            check_model(&model)?;
            scope.check_key("external id", &external_id)?;
            if let Some(extra) = &extra {
                scope.check_payload("link data", extra)?;
            }
            let row = scope
                .store
                .bind(
                    &scope.instance.name,
                    &model,
                    record_id(local_id)?,
                    &external_id,
                    data(extra)?,
                )
                .await?;
            Ok(link(row))
        }
        .await)
    }

    async fn to_external(&mut self, model: String, local_id: u64) -> WitResult<Option<Link>> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            Ok(scope
                .store
                .link_by_local(&scope.instance.name, &model, record_id(local_id)?)
                .await?
                .map(link))
        }
        .await)
    }

    async fn to_local(&mut self, model: String, external_id: String) -> WitResult<Option<Link>> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            Ok(scope
                .store
                .link_by_external(&scope.instance.name, &model, &external_id)
                .await?
                .map(link))
        }
        .await)
    }

    async fn search(
        &mut self,
        model: String,
        synced_before: Option<i64>,
        limit: Option<u32>,
        offset: u32,
    ) -> WitResult<Vec<Link>> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            let limit = Some(
                limit
                    .unwrap_or(super::session::MAX_SEARCH)
                    .min(super::session::MAX_SEARCH),
            );
            let rows = scope
                .store
                .search_links(
                    Some(&scope.instance.name),
                    Some(&model),
                    synced_before,
                    limit,
                    offset,
                )
                .await?;
            Ok(rows.into_iter().map(link).collect())
        }
        .await)
    }

    async fn unbind(&mut self, model: String, local_id: u64) -> WitResult<bool> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            scope.charge(Produced::Links)?;
            Ok(scope
                .store
                .unbind(&scope.instance.name, &model, record_id(local_id)?)
                .await?)
        }
        .await)
    }

    async fn bind_pair(
        &mut self,
        label: String,
        left_id: String,
        right_id: String,
        extra: Option<String>,
    ) -> WitResult<Pair> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            scope.charge(Produced::Links)?;
            check_model(&label)?;
            scope.check_key("left id", &left_id)?;
            scope.check_key("right id", &right_id)?;
            if let Some(extra) = &extra {
                scope.check_payload("pair data", extra)?;
            }
            Ok(pair(
                scope
                    .store
                    .bind_pair(
                        &scope.instance.name,
                        &label,
                        &left_id,
                        &right_id,
                        data(extra)?,
                    )
                    .await?,
            ))
        }
        .await)
    }

    async fn pair_by_left(&mut self, label: String, left_id: String) -> WitResult<Option<Pair>> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            Ok(scope
                .store
                .find_pair(&scope.instance.name, &label, &left_id, true)
                .await?
                .map(pair))
        }
        .await)
    }

    async fn pair_by_right(&mut self, label: String, right_id: String) -> WitResult<Option<Pair>> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            Ok(scope
                .store
                .find_pair(&scope.instance.name, &label, &right_id, false)
                .await?
                .map(pair))
        }
        .await)
    }

    async fn unbind_pair(&mut self, label: String, left_id: String) -> WitResult<bool> {
        let scope = self.scope();
        Ok(async move {
            let scope = scope?;
            scope.charge(Produced::Links)?;
            Ok(scope
                .store
                .unbind_pair(&scope.instance.name, &label, &left_id)
                .await?)
        }
        .await)
    }
}
