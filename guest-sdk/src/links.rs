//! Links (bindings) between local and external records, and a [`Binder`] over them.
//!
//! Since contract 0.1.1 a link also remembers what both sides looked like at
//! the last sync ([`SyncState`]: the remote version, the local revision), which
//! is how the generic importer and exporter tell a one-sided change from a
//! conflict; and an exporter commits a [`CreateIntent`] before it creates the
//! remote twin of a record, so that a try cut short between the remote create
//! and the bind finds the record again instead of creating a second one.

use crate::bindings::ferry::connector0_1_3::links as wit_links;
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

/// What a link knew at the last sync, and where the local record stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    /// The link itself.
    pub link: Link,
    /// Version of the external record at the last sync (`updated_at`, an
    /// ETag, a hash, as the connector gave it); none if never given.
    pub remote_version: Option<String>,
    /// Revision of the local record at the last sync; none for a link made by
    /// [`Links::bind`], which records no versions.
    pub synced_revision: Option<u64>,
    /// Revision of the local record now (one more per write that changed a value).
    pub revision: u64,
    /// When the local record last changed, ms since the epoch.
    pub local_updated_at: i64,
}

impl SyncState {
    fn from_wit(s: wit_links::SyncState) -> Result<Self> {
        Ok(SyncState {
            link: Link::from_wit(s.link)?,
            remote_version: s.remote_version,
            synced_revision: s.synced_revision,
            revision: s.revision,
            local_updated_at: s.local_updated_at,
        })
    }

    /// Whether the local record changed since the last sync. A link that
    /// recorded no revision (made by [`Links::bind`]) says nothing either
    /// way: `false`, so that such links keep the behaviour they had.
    pub fn local_changed(&self) -> bool {
        self.synced_revision
            .is_some_and(|synced| synced != self.revision)
    }

    /// Whether the external record changed since the last sync, given its
    /// version now. Unknown (no version recorded) counts as not changed.
    pub fn remote_changed(&self, version_now: &str) -> bool {
        self.remote_version
            .as_deref()
            .is_some_and(|seen| seen != version_now)
    }
}

/// An intent to create the external twin of a local record, committed before
/// the create is sent; see [`Links::begin_create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIntent {
    /// The same on every try until the record is bound: send it as
    /// `Idempotency-Key`, or store it in the remote's external reference field.
    pub key: String,
    /// An earlier try made this intent and did not bind: the remote may
    /// already hold the record; find it by `key` before creating again.
    pub resumed: bool,
    /// When the intent was first made, ms since the epoch.
    pub created_at: i64,
    /// The local record's revision when asked: read the values after it, and
    /// bind as synced at this revision.
    pub revision: u64,
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
    /// The sync state of a local record's link (versions of both sides at
    /// the last sync, and the local revision now); none if it has no link.
    pub fn sync_state_of(&self, model: &str, local_id: u64) -> Result<Option<SyncState>> {
        wit_links::sync_state_of(model, local_id)?
            .map(SyncState::from_wit)
            .transpose()
    }
    /// Bind like [`Links::bind`] and record both sides as synced: the external
    /// record at `remote_version`, the local record at `synced_revision`,
    /// the revision whose values were sent (read the revision first, then the
    /// values) or written: never a later one, which would mark a change made
    /// meanwhile as synced. Ends any create intent of the record, in the same
    /// transaction.
    pub fn bind_synced(
        &self,
        model: &str,
        local_id: u64,
        external_id: &str,
        remote_version: Option<&str>,
        synced_revision: u64,
        data: Option<&Value>,
    ) -> Result<Link> {
        let data = data.map(Value::to_string);
        Link::from_wit(wit_links::bind_synced(
            model,
            local_id,
            external_id,
            remote_version,
            synced_revision,
            data.as_deref(),
        )?)
    }
    /// Commit (at once, not with the job) an intent to create the external
    /// twin of a local record, or get back the unfinished one an earlier try
    /// left (`resumed`): a crash between the remote create and the bind then
    /// leaves the intent, and the next try looks for the record (by its
    /// `key`) before it creates again. A bind of the record ends the intent.
    pub fn begin_create(&self, model: &str, local_id: u64) -> Result<CreateIntent> {
        let intent = wit_links::begin_create(model, local_id)?;
        Ok(CreateIntent {
            key: intent.key,
            resumed: intent.resumed,
            created_at: intent.created_at,
            revision: intent.revision,
        })
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
