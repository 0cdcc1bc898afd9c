//! Links (bindings) between local and external records, and a [`Binder`] over them.

use crate::bindings::ferry::connector::links as wit_links;
use crate::{Context, Result};
use serde_json::{Value, json};

/// A binding of one local record to one external record.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Model of the local record.
    pub model: String,
    /// Local record id.
    pub local_id: u64,
    /// Id of the record in the external system.
    pub external_id: String,
    /// Last synchronisation, ms since the epoch.
    pub sync_date: Option<i64>,
    /// Connector data kept with the link.
    pub data: Value,
}

impl Link {
    fn from_wit(l: wit_links::Link) -> Result<Self> {
        Ok(Link {
            model: l.model,
            local_id: l.local_id,
            external_id: l.external_id,
            sync_date: l.sync_date,
            data: serde_json::from_str(&l.data)?,
        })
    }

    /// The link as JSON (what the binder unit returns).
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.model, "local_id": self.local_id, "external_id": self.external_id,
            "sync_date": self.sync_date, "data": self.data,
        })
    }
}

/// A couple of ids of two external systems.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// What the couple means, e.g. `github-trello`.
    pub label: String,
    /// Id in the first system.
    pub left_id: String,
    /// Id in the second system.
    pub right_id: String,
    /// Connector data kept with the couple.
    pub data: Value,
}

impl Pair {
    fn from_wit(p: wit_links::Pair) -> Result<Self> {
        Ok(Pair {
            label: p.label,
            left_id: p.left_id,
            right_id: p.right_id,
            data: serde_json::from_str(&p.data)?,
        })
    }
}

/// The links of the current backend instance.
#[derive(Debug, Clone, Copy)]
pub struct Links;

impl Links {
    /// Bind a local record to an external id, stamping the sync date.
    pub fn bind(
        &self,
        model: &str,
        local_id: u64,
        external_id: &str,
        data: Option<&Value>,
    ) -> Result<Link> {
        let data = data.map(Value::to_string);
        Link::from_wit(wit_links::bind(
            model,
            local_id,
            external_id,
            data.as_deref(),
        )?)
    }
    /// The link of a local record.
    pub fn to_external(&self, model: &str, local_id: u64) -> Result<Option<Link>> {
        wit_links::to_external(model, local_id)?
            .map(Link::from_wit)
            .transpose()
    }
    /// The link of an external record.
    pub fn to_local(&self, model: &str, external_id: &str) -> Result<Option<Link>> {
        wit_links::to_local(model, external_id)?
            .map(Link::from_wit)
            .transpose()
    }
    /// Links of a model, optionally only those synced before a time.
    pub fn search(
        &self,
        model: &str,
        synced_before: Option<i64>,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<Link>> {
        wit_links::search(model, synced_before, limit, offset)?
            .into_iter()
            .map(Link::from_wit)
            .collect()
    }
    /// Remove the link of a local record.
    pub fn unbind(&self, model: &str, local_id: u64) -> Result<bool> {
        Ok(wit_links::unbind(model, local_id)?)
    }
    /// Couple two external ids under a label.
    pub fn bind_pair(
        &self,
        label: &str,
        left_id: &str,
        right_id: &str,
        data: Option<&Value>,
    ) -> Result<Pair> {
        let data = data.map(Value::to_string);
        Pair::from_wit(wit_links::bind_pair(
            label,
            left_id,
            right_id,
            data.as_deref(),
        )?)
    }
    /// The couple whose left id is given.
    pub fn pair_by_left(&self, label: &str, left_id: &str) -> Result<Option<Pair>> {
        wit_links::pair_by_left(label, left_id)?
            .map(Pair::from_wit)
            .transpose()
    }
    /// The couple whose right id is given.
    pub fn pair_by_right(&self, label: &str, right_id: &str) -> Result<Option<Pair>> {
        wit_links::pair_by_right(label, right_id)?
            .map(Pair::from_wit)
            .transpose()
    }
    /// Remove a couple.
    pub fn unbind_pair(&self, label: &str, left_id: &str) -> Result<bool> {
        Ok(wit_links::unbind_pair(label, left_id)?)
    }
}

/// Binder of one model: the Odoo-connector binder, over the host's links.
///
/// Registered as a `binder` unit (see [`crate::generic::LinkBinder`]) it answers
/// `to_local`, `to_external` and `bind`; used directly it saves a host round trip.
pub struct Binder<'c, 'a> {
    ctx: &'c Context<'a>,
    model: String,
}

impl<'c, 'a> Binder<'c, 'a> {
    /// The binder of `model` in this context.
    pub fn new(ctx: &'c Context<'a>, model: &str) -> Self {
        Binder {
            ctx,
            model: model.to_string(),
        }
    }
    /// Local id bound to an external id.
    pub fn to_local(&self, external_id: &str) -> Result<Option<u64>> {
        Ok(self
            .ctx
            .links()
            .to_local(&self.model, external_id)?
            .map(|l| l.local_id))
    }
    /// External id bound to a local id.
    pub fn to_external(&self, local_id: u64) -> Result<Option<String>> {
        Ok(self
            .ctx
            .links()
            .to_external(&self.model, local_id)?
            .map(|l| l.external_id))
    }
    /// Bind, stamping the sync date.
    pub fn bind(&self, local_id: u64, external_id: &str, data: Option<&Value>) -> Result<Link> {
        self.ctx
            .links()
            .bind(&self.model, local_id, external_id, data)
    }
}
