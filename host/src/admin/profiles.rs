//! Job profiles through [`Admin`]: the CLI (`ferry profile …`), the admin API
//! (`/api/profiles`) and the CLI in remote mode share these; the work is
//! [`crate::profiles`]'.

use super::Admin;
use super::types::Done;
use crate::error::Result;
use crate::profiles::{self, NewProfile, ParamInput, ProfileDetail, ProfileEdit, ProfileRun};
use crate::store::ProfileRow;

impl Admin {
    /// Every profile, by name.
    pub async fn profiles(&self) -> Result<Vec<ProfileRow>> {
        match self {
            Admin::Local(ferry) => profiles::list(ferry).await,
            Admin::Remote(r) => r.get(&["api", "profiles"]).await,
        }
    }

    /// One profile, with the payload it would run now or why it cannot.
    pub async fn profile(&self, name: &str) -> Result<ProfileDetail> {
        match self {
            Admin::Local(ferry) => profiles::show(ferry, name).await,
            Admin::Remote(r) => r.get(&["api", "profiles", name]).await,
        }
    }

    /// Create a profile for `actor` (a server records its caller instead).
    pub async fn create_profile(&self, new: &NewProfile, actor: &str) -> Result<ProfileRow> {
        match self {
            Admin::Local(ferry) => profiles::create(ferry, new, actor).await,
            Admin::Remote(r) => r.post(&["api", "profiles"], new).await,
        }
    }

    /// Change a profile's parameters or description for `actor`.
    pub async fn edit_profile(
        &self,
        name: &str,
        edit: &ProfileEdit,
        actor: &str,
    ) -> Result<ProfileRow> {
        match self {
            Admin::Local(ferry) => profiles::edit(ferry, name, edit, actor).await,
            Admin::Remote(r) => r.put(&["api", "profiles", name], edit).await,
        }
    }

    /// Remove a profile for `actor`.
    pub async fn remove_profile(&self, name: &str, actor: &str) -> Result<Done> {
        match self {
            Admin::Local(ferry) => {
                profiles::remove(ferry, name, actor).await?;
                Ok(Done { done: true })
            }
            Admin::Remote(r) => r.delete(&["api", "profiles", name]).await,
        }
    }

    /// Run a profile for `actor`, with one-off `overrides`: its job is enqueued.
    pub async fn run_profile(
        &self,
        name: &str,
        overrides: &ParamInput,
        actor: &str,
    ) -> Result<ProfileRun> {
        match self {
            Admin::Local(ferry) => profiles::run(ferry, name, overrides, actor).await,
            Admin::Remote(r) => r.post(&["api", "profiles", name, "run"], overrides).await,
        }
    }
}
