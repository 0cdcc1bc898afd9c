//! Couples of external ids (external↔external links), through [`Admin`]:
//! `ferry links --pairs`, `ferry links unpair` and the admin API share these.

use super::Admin;
use super::local::MAX_LIST;
use crate::error::{Error, Result};
use crate::store::{InstancePair, PairFilter};

impl Admin {
    /// Couples matching `filter` (at most 1 000); with `filter.id`, the
    /// couples where that id is on either side.
    pub async fn pairs(&self, filter: &PairFilter) -> Result<Vec<InstancePair>> {
        match self {
            Admin::Local(ferry) => {
                let mut filter = filter.clone();
                filter.limit = filter.limit.min(MAX_LIST);
                ferry.store().search_pairs(&filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "pairs"], filter).await,
        }
    }

    /// Remove the couple of `instance` and `label` whose left id is
    /// `left_id`, for `actor` (audited); the couple removed.
    pub async fn unpair(
        &self,
        instance: &str,
        label: &str,
        left_id: &str,
        actor: &str,
    ) -> Result<InstancePair> {
        match self {
            Admin::Local(ferry) => ferry
                .store()
                .remove_pair(instance, label, left_id, actor)
                .await?
                .ok_or_else(|| Error::NotFound {
                    kind: "couple",
                    name: format!("{label} {left_id} of {instance}"),
                    hint: format!(
                        " (its couples: `ferry links --pairs --instance {instance} --label {label}`; \
                         LEFT_ID is the id on the left)"
                    ),
                }),
            Admin::Remote(r) => {
                r.delete(&["api", "instances", instance, "pairs", label, left_id])
                    .await
            }
        }
    }
}
