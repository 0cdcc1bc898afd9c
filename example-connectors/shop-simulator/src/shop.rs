//! [`Shop`]: the shared state of a running simulator (its data and the
//! credentials it accepts).

use crate::data::ShopData;
use std::sync::{Arc, Mutex, MutexGuard};

/// API key the v1 layout expects by default.
pub const DEFAULT_API_KEY: &str = "demo-key";
/// Bearer token the v2 layout expects by default.
pub const DEFAULT_TOKEN: &str = "demo-token";

/// Shared state of a running simulator.
#[derive(Clone)]
pub struct Shop {
    data: Arc<Mutex<ShopData>>,
    /// The v1 layout's `X-Api-Key`.
    pub(crate) api_key: String,
    /// The v2 layout's bearer token.
    pub(crate) token: String,
}

impl Default for Shop {
    fn default() -> Self {
        Self::new(DEFAULT_API_KEY, DEFAULT_TOKEN)
    }
}

impl Shop {
    /// An empty shop accepting these credentials.
    pub fn new(api_key: &str, token: &str) -> Self {
        Shop {
            data: Arc::default(),
            api_key: api_key.into(),
            token: token.into(),
        }
    }

    /// Lock the data (for tests and the demo: look or change directly).
    pub fn data(&self) -> MutexGuard<'_, ShopData> {
        self.data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
