//! `GET /api/v1/integrations`: the brokers and exchanges Link can open on, with the ids a link
//! token's `integrationId` names.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::MeshClient;

/// One `IntegrationModel`, as far as the app reads it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    /// The id a link token's `integrationId` names.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Mesh's `BrokerType` (`coinbase`).
    #[serde(rename = "type")]
    pub broker_type: String,
    /// Whether crypto can be sent from it through Link.
    #[serde(default)]
    pub crypto_transfers_supported: bool,
}

/// The `content` of the answer.
#[derive(Debug, Deserialize)]
pub struct IntegrationList {
    /// Every integration (`null` reads as none).
    #[serde(default)]
    pub items: Option<Vec<Integration>>,
}

/// Mesh's integrations list, asked for at most once an hour: it changes when Mesh adds a broker.
#[derive(Debug, Default)]
pub struct IntegrationCache {
    cached: RwLock<Cached>,
    /// Held while Mesh is asked, so one call at a time goes out.
    asking: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
}

/// The last list Mesh answered, and when the last call failed.
#[derive(Debug, Default)]
struct Cached {
    list: Option<(Instant, Arc<Vec<Integration>>)>,
    failed_at: Option<Instant>,
}

impl Cached {
    fn last(&self) -> Option<Arc<Vec<Integration>>> {
        self.list.as_ref().map(|(_, list)| list.clone())
    }

    fn fresh(&self) -> bool {
        self.list
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < KEEP_FOR)
    }

    fn resting(&self) -> bool {
        self.failed_at
            .is_some_and(|at| at.elapsed() < AFTER_FAILURE)
    }
}

/// How long the list is reused.
const KEEP_FOR: Duration = Duration::from_secs(60 * 60);
/// How long after a failed call Mesh is not asked again (the last list, if any, serves).
const AFTER_FAILURE: Duration = Duration::from_secs(60);

impl IntegrationCache {
    /// The list, from the cache while it is fresh, otherwise from Mesh (one call at a time).
    /// When Mesh fails it is not asked again for a minute: the last list it gave serves, or
    /// `None` when it never gave one (the failure is logged).
    pub async fn get(&self, mesh: &MeshClient) -> Option<Arc<Vec<Integration>>> {
        let _asking = self.asking.lock().await;
        {
            let cached = self.read();
            if cached.fresh() || cached.resting() {
                return cached.last();
            }
        }
        let answer = mesh.integrations().await;
        let mut cached = self.cached.write().unwrap_or_else(|p| p.into_inner());
        match answer {
            Ok(list) => {
                let list = Arc::new(list);
                cached.list = Some((Instant::now(), list.clone()));
                cached.failed_at = None;
                Some(list)
            }
            Err(error) => {
                tracing::warn!(%error, "could not read Mesh's integrations");
                cached.failed_at = Some(Instant::now());
                cached.last()
            }
        }
    }

    /// The list as it stands, without waiting for Mesh: when it is missing or old, one refresh
    /// starts in the background for the next caller. For pages that must not wait on Mesh.
    pub fn peek(self: &Arc<Self>, mesh: &MeshClient) -> Option<Arc<Vec<Integration>>> {
        let (last, fresh) = {
            let cached = self.read();
            (cached.last(), cached.fresh())
        };
        if !fresh && !self.refreshing.swap(true, Ordering::AcqRel) {
            let (cache, mesh) = (self.clone(), mesh.clone());
            tokio::spawn(async move {
                cache.get(&mesh).await;
                cache.refreshing.store(false, Ordering::Release);
            });
        }
        last
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cached> {
        self.cached.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The integration of `broker_type` in `list` that can send crypto, if there is one.
pub fn sends_crypto<'a>(list: &'a [Integration], broker_type: &str) -> Option<&'a Integration> {
    list.iter()
        .find(|i| i.broker_type == broker_type && i.crypto_transfers_supported)
}
