//! Retention: anonymous sessions are forgotten by browsers, so their tokens must not live
//! forever. The last visit of each user with something stored is recorded (at most once a day
//! per instance, and on every save); a daily task revokes at Mesh and deletes the connections of users not seen for
//! `RETENTION_DAYS`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Request;
use server::clock::unix_now;
use server::mesh::MeshClient;
use server::session::{NewVisitor, UserId};
use server::vault::TokenVault;

use crate::state::AppState;

const DAY: i64 = 24 * 3600;

/// The users this instance has recorded today, so a visit costs a write once a day at most.
/// Yesterday's are forgotten all at once when the day changes, so a visit costs the same
/// however many users came today.
#[derive(Default)]
pub struct Visits {
    recorded: Mutex<(i64, HashSet<UserId>)>,
}

impl Visits {
    /// True the first time `user` is seen on `day` (days since the epoch).
    fn first_today(&self, user: UserId, day: i64) -> bool {
        let Ok(mut recorded) = self.recorded.lock() else {
            return false;
        };
        let (today, users) = &mut *recorded;
        if *today != day {
            *today = day;
            users.clear();
        }
        users.insert(user)
    }
}

/// Records the visit of the request's user (installed with `map_request`, inside the session
/// layer): a write at most once a day per user and instance, in the background, and none for a
/// visitor who came without a session (they have nothing stored; a save records them).
pub fn record_visit<B>(vault: &Arc<TokenVault>, visits: &Visits, request: &Request<B>) {
    if request.extensions().get::<NewVisitor>().is_some() {
        return;
    }
    if let Some(user) = request.extensions().get::<UserId>().copied() {
        let now = unix_now();
        if visits.first_today(user, now / DAY) {
            let vault = vault.clone();
            tokio::spawn(async move {
                if let Err(error) = vault.touch_user(&user.to_string(), now).await {
                    tracing::warn!(%error, "could not record a visit");
                }
            });
        }
    }
}

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
            match crate::accounts::ssr::revoke_and_delete(mesh, vault, &user, &connection.id).await
            {
                Ok(_) => report.deleted += 1,
                Err(error) => {
                    tracing::warn!(error = %error.message, "retention: a connection was kept");
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
pub fn spawn_daily_sweep(state: AppState, days: u32) {
    tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_secs(DAY as u64));
        loop {
            daily.tick().await;
            let cutoff = unix_now() - i64::from(days) * DAY;
            let report = sweep(&state.mesh, &state.vault, cutoff).await;
            if report != SweepReport::default() {
                tracing::info!(?report, "retention sweep");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_is_recorded_once_a_day() {
        let visits = Visits::default();
        let user = UserId(uuid::Uuid::new_v4());
        assert!(visits.first_today(user, 100));
        assert!(!visits.first_today(user, 100));
        assert!(visits.first_today(user, 101));
        assert!(visits.first_today(UserId(uuid::Uuid::new_v4()), 101));
    }
}
