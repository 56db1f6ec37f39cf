//! Retention: a daily task revokes at Mesh and deletes the connections of users not seen for
//! `RETENTION_DAYS`, since browsers forget anonymous sessions and their tokens must not live forever.

use std::time::Duration;

use std::sync::Arc;

use crate::accounts::revoke_and_delete;
use crate::clock::unix_now;
use crate::mesh::MeshClient;
use crate::vault::TokenVault;

const DAY: i64 = 24 * 3600;

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Connections revoked at Mesh (or already unknown to it) and deleted.
    pub deleted: u64,
    /// Connections kept because Mesh could not revoke them now; the next sweep tries again.
    pub kept: u64,
    /// Users forgotten with all their connections.
    pub users_forgotten: u64,
    /// Logos no connection names any more (disconnected, forgotten or reconnected with a new
    /// logo), deleted.
    pub logos_forgotten: u64,
}

/// Revokes and deletes the connections of users last seen before `cutoff` (Unix seconds), then
/// deletes the logos no connection names any more.
pub async fn sweep(mesh: &MeshClient, vault: &TokenVault, cutoff: i64) -> SweepReport {
    let mut report = sweep_idle_users(mesh, vault, cutoff).await;
    match vault.forget_unused_logos().await {
        Ok(forgotten) => report.logos_forgotten = forgotten,
        Err(error) => tracing::error!(%error, "retention: could not delete unused logos"),
    }
    report
}

async fn sweep_idle_users(mesh: &MeshClient, vault: &TokenVault, cutoff: i64) -> SweepReport {
    const BATCH: i64 = 100;
    let mut report = SweepReport::default();
    loop {
        let users = match vault.users_not_seen_since(cutoff, BATCH).await {
            Ok(users) => users,
            Err(error) => {
                tracing::error!(%error, "retention: could not list idle users");
                return report;
            }
        };
        let forgotten_before = report.users_forgotten;
        let full_batch = users.len() as i64 == BATCH;
        sweep_users(mesh, vault, users, &mut report).await;
        // Users whose connections had to be kept come back first: stop when a batch frees none.
        if !full_batch || report.users_forgotten == forgotten_before {
            return report;
        }
    }
}

async fn sweep_users(
    mesh: &MeshClient,
    vault: &TokenVault,
    users: Vec<String>,
    report: &mut SweepReport,
) {
    for user in users {
        let connections = vault.list(&user).await.unwrap_or_default();
        for connection in connections {
            match revoke_and_delete(mesh, vault, &user, &connection.id).await {
                Ok(_) => report.deleted += 1,
                Err(error) => {
                    tracing::warn!(%error, "retention: a connection was kept");
                    report.kept += 1;
                }
            }
        }
        if matches!(vault.forget_user(&user).await, Ok(true)) {
            report.users_forgotten += 1;
        }
    }
}

/// Starts the daily sweep for connections of users not seen for `days` days.
pub fn spawn_daily_sweep(mesh: MeshClient, vault: Arc<TokenVault>, days: u32) {
    tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_secs(DAY as u64));
        loop {
            daily.tick().await;
            let cutoff = unix_now() - i64::from(days) * DAY;
            let report = sweep(&mesh, &vault, cutoff).await;
            if report != SweepReport::default() {
                tracing::info!(?report, "retention sweep");
            }
        }
    });
}
