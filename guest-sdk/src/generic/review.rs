//! Checks of a record's values that may name a reason: why the remote would
//! refuse it ([`super::BatchExport::refuse`]), what a person should review
//! after an import ([`super::Importer::review`]).

use serde_json::Value;
use std::sync::Arc;

/// A check of local values: `Some(reason)` when it has something to say.
pub(crate) type ValueCheck = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;
