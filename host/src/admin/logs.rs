//! Logs through [`Admin`]: job log lines across jobs (`ferry logs`,
//! `GET /api/logs`), the transmission log (`--transmissions`,
//! `GET /api/transmissions`) and the audit log (`--audit`, `GET /api/audit`).

use super::Admin;
use super::views::MAX_ENTRIES;
use crate::error::Result;
use crate::store::{
    AuditEntry, AuditFilter, LogFilter, LogRecord, MAX_LOG_LINES, Transmission, TransmissionFilter,
};

impl Admin {
    /// Job log lines matching `filter`, newest first (oldest first after
    /// `after`, for following); see [`LogFilter`].
    pub async fn logs(&self, filter: &LogFilter) -> Result<Vec<LogRecord>> {
        match self {
            Admin::Local(ferry) => {
                let mut filter = filter.clone();
                filter.limit = filter.limit.min(MAX_LOG_LINES);
                ferry.store().log_records(&filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "logs"], filter).await,
        }
    }

    /// Outbound HTTP requests of guests (sent and refused), newest first.
    pub async fn transmissions(&self, filter: &TransmissionFilter) -> Result<Vec<Transmission>> {
        match self {
            Admin::Local(ferry) => {
                let mut filter = filter.clone();
                filter.limit = filter.limit.min(MAX_ENTRIES);
                ferry.store().transmissions(&filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "transmissions"], filter).await,
        }
    }

    /// The audit log (who revealed, set or removed what), newest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        match self {
            Admin::Local(ferry) => {
                let mut filter = filter.clone();
                filter.limit = filter.limit.min(MAX_ENTRIES);
                crate::audit::list(ferry.store(), &filter).await
            }
            Admin::Remote(r) => r.get_with(&["api", "audit"], filter).await,
        }
    }
}
