//! [`Cursors`]: how far a job has read a stream of changes, per backend instance.
//!
//! A batch import reads "what changed since X" from the remote. Keeping X in a
//! cursor (rather than in the job's payload, or in the time the batch job
//! ended) makes it move only when the work it stands for is safe: in a job,
//! [`Cursors::set`] commits in the same transaction as the job's `done` state,
//! so a try that fails, or a worker that dies, leaves the cursor where it was
//! and the next run asks for the same changes again.

use crate::bindings::ferry::connector0_1_3::cursors as wit_cursors;
use crate::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The cursors of the current backend instance; see [`crate::Context::cursors`].
#[derive(Debug, Clone, Copy)]
pub struct Cursors;

impl Cursors {
    /// The committed value of stream `name` (e.g. `import:product`), or none
    /// before the first commit. In a job that already called [`Cursors::set`],
    /// this is still the committed value, not the one set.
    ///
    /// A stored value that does not fit `T` is a final error naming the
    /// stream: the code that set it and the code that reads it disagree.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let Some(text) = wit_cursors::get(name)? else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::fatal(format!(
                "cursor `{name}` holds {text}, which this connector cannot read: {e}"
            ))
        })
    }

    /// Set stream `name` to `value`. In a job it commits with the job's `done`
    /// state (the last `set` of a stream in a run wins); outside a job, at once.
    pub fn set<T: Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<()> {
        let text = serde_json::to_string(value)?;
        Ok(wit_cursors::set(name, &text)?)
    }
}
