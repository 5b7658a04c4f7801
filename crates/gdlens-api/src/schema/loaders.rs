//! DataLoaders: one batched store call per page instead of one query per finding.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::error::ApiError;
use gdlens_domain::Finding;

use crate::ports::{AuditRecord, TicketLinkRecord, TriageRecord, VersionRecord};
use crate::state::AppState;

/// Batches store reads of one kind.
pub struct StoreLoader {
    /// State.
    pub state: Arc<AppState>,
}

/// Original JSON by id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawKey(pub String);
/// Versions by id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VersionsKey(pub String);
/// Triage by id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TriageKey(pub String);
/// Ticket links by id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TicketsKey(pub String);
/// Latest normalized finding by id (details the index does not keep).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DetailKey(pub String);
/// Audit by id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuditKey(pub String);

macro_rules! store_loader {
    ($key:ty, $value:ty, $method:ident) => {
        impl Loader<$key> for StoreLoader {
            type Value = $value;
            type Error = Arc<ApiError>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
                let found = self
                    .state
                    .with_store(move |s| s.$method(&ids))
                    .await
                    .map_err(Arc::new)?;
                Ok(found
                    .into_iter()
                    .map(|(k, v)| (<$key>::from_id(k), v))
                    .collect())
            }
        }
        impl $key {
            fn from_id(id: String) -> Self {
                Self(id)
            }
        }
    };
}

store_loader!(RawKey, String, raw);

impl Loader<DetailKey> for StoreLoader {
    type Value = Arc<Finding>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[DetailKey],
    ) -> Result<HashMap<DetailKey, Self::Value>, Self::Error> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let found = self
            .state
            .with_store(move |s| s.findings(&ids))
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(k, v)| (DetailKey(k), Arc::new(v)))
            .collect())
    }
}
store_loader!(VersionsKey, Vec<VersionRecord>, versions);
store_loader!(TriageKey, TriageRecord, triage);
store_loader!(TicketsKey, Vec<TicketLinkRecord>, ticket_links);
store_loader!(AuditKey, Vec<AuditRecord>, audit);
