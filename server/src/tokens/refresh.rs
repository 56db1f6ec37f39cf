//! The refresh itself: the background task, one leased connection's refresh with its retries,
//! and storing what Mesh answered.

use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::watch;

use super::{
    ATTEMPT_TIMEOUT, CHECK_EVERY, LEASE, PARALLEL, REFRESH_MARGIN, RETRY_FOR, RETRY_PAUSE,
};
use crate::clock::unix_now;
use crate::mesh::{MeshClient, MeshError, Refreshed};
use crate::vault::{
    BrokerInfo, BrokerTokens, ConnectedAccounts, Leased, NewAccount, RenewedTokens, TokenVault,
    VaultError,
};

/// What one refresh did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// New tokens are stored.
    Renewed,
    /// The refresh token no longer works: marked "needs reconnect".
    NeedsReconnect,
    /// Mesh failed or could not be reached: tried again after a backoff.
    Failed,
    /// The lease ran out before the tokens were stored; another instance took over.
    LeaseLost,
    /// The user disconnected the pending connection while Mesh redeemed it: the accounts Mesh
    /// sent were revoked there, not stored.
    Disconnected,
}

/// What [`refresh_due`] did, by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Connections with new tokens.
    pub renewed: usize,
    /// Connections now waiting for the user to connect them again.
    pub needs_reconnect: usize,
    /// Connections to try again later.
    pub failed: usize,
}

impl RefreshReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Renewed => self.renewed += 1,
            Outcome::NeedsReconnect => self.needs_reconnect += 1,
            Outcome::Failed | Outcome::LeaseLost => self.failed += 1,
            Outcome::Disconnected => {}
        }
    }
}

/// Refreshes every connection whose access token expires before `now` plus the margin (and
/// redeems pending delayed authentications), as far as this instance gets their leases.
pub async fn refresh_due(mesh: &MeshClient, vault: &TokenVault, now: i64) -> RefreshReport {
    refresh_due_until(mesh, vault, now, &watch::channel(false).1).await
}

/// [`refresh_due`], taking no new lease once `stop` turns true (in-flight refreshes finish).
async fn refresh_due_until(
    mesh: &MeshClient,
    vault: &TokenVault,
    now: i64,
    stop: &watch::Receiver<bool>,
) -> RefreshReport {
    let expiring_before = now + REFRESH_MARGIN.as_secs() as i64;
    // Each worker leases one connection at a time, just before refreshing it, so a lease
    // covers its own refresh and never waits behind others in a slow batch. A run refreshes a
    // connection once: meeting one it already renewed (its new token expires within the margin
    // too, as with a short MESH_EMULATOR_TOKEN_TTL) means the rest waits for the next check.
    let refreshed = std::sync::Mutex::new(std::collections::HashSet::new());
    let worker = || async {
        let mut report = RefreshReport::default();
        while !*stop.borrow() {
            let leased = match vault.lease_due(expiring_before, LEASE, 1).await {
                Ok(mut leased) => leased.pop(),
                Err(error) => {
                    tracing::error!(%error, "could not read connections due for refresh");
                    None
                }
            };
            let Some(leased) = leased else { break };
            let first_time = refreshed
                .lock()
                .map(|mut ids| ids.insert(leased.connection.id.clone()))
                .unwrap_or(false);
            if !first_time {
                if let Err(error) = vault.release(&leased).await {
                    tracing::warn!(%error, "could not free a refresh lease; it runs out by itself");
                }
                break;
            }
            report.add(refresh_leased(mesh, vault, leased).await);
        }
        report
    };
    let reports = futures_util::future::join_all((0..PARALLEL).map(|_| worker())).await;
    reports
        .into_iter()
        .fold(RefreshReport::default(), |total, report| RefreshReport {
            renewed: total.renewed + report.renewed,
            needs_reconnect: total.needs_reconnect + report.needs_reconnect,
            failed: total.failed + report.failed,
        })
}

/// The background refresh: a check at start-up, then every [`CHECK_EVERY`](super::CHECK_EVERY). [`Self::stop`]
/// lets the refreshes in flight store their answers.
pub struct TokenRefresher {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl TokenRefresher {
    /// Takes no new lease, and waits (at most a [`LEASE`]) for the refreshes in flight to store
    /// what Mesh answered: call it on shutdown, after the server stopped taking requests.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(LEASE, self.task).await.is_err() {
            tracing::warn!("token refreshes still in flight at shutdown");
        }
    }
}

/// Starts the background refresh.
pub fn spawn_token_refresher(mesh: MeshClient, vault: Arc<TokenVault>) -> TokenRefresher {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut every = tokio::time::interval(CHECK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopped.changed() => return,
            }
            let report = refresh_due_until(&mesh, &vault, unix_now(), &stopped).await;
            if report != RefreshReport::default() {
                tracing::info!(?report, "token refresh");
            }
            if *stopped.borrow() {
                return;
            }
        }
    });
    TokenRefresher { stop, task }
}

/// Refreshes a connection whose lease this instance holds, and stores the outcome. An attempt
/// whose outcome is unknown is repeated at once with the same refresh token, until Mesh
/// answers or [`RETRY_FOR`](super::RETRY_FOR) has passed.
pub async fn refresh_leased(mesh: &MeshClient, vault: &TokenVault, leased: Leased) -> Outcome {
    let connection = &leased.connection;
    let Some(refresh_token) = &leased.tokens.refresh_token else {
        return Outcome::Failed;
    };
    let rotate = connection.refresh_expires_at.is_some();
    let last_start = tokio::time::Instant::now() + RETRY_FOR;
    let answer = loop {
        let attempt = mesh.refresh_token(refresh_token, &connection.broker_type, rotate);
        let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
            .await
            .unwrap_or(Err(MeshError::Timeout(ATTEMPT_TIMEOUT)));
        match answer {
            Err(error)
                if error.outcome_unknown()
                    && tokio::time::Instant::now() + RETRY_PAUSE < last_start =>
            {
                tracing::warn!(id = connection.id, %error, "token refresh answer lost; retrying with the same refresh token");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            answer => break answer,
        }
    };
    let stored = match answer {
        Ok(refreshed) => store(mesh, vault, &leased, refreshed).await,
        Err(error) if error.refresh_token_dead() => {
            tracing::info!(id = connection.id, %error, "refresh token no longer works");
            vault
                .needs_reconnect(&leased)
                .await
                .map(|()| Outcome::NeedsReconnect)
        }
        Err(error) => {
            tracing::warn!(id = connection.id, %error, "token refresh failed");
            vault.retry_later(&leased).await.map(|_| Outcome::Failed)
        }
    };
    stored.unwrap_or_else(|error| {
        tracing::error!(id = connection.id, %error, "could not store a token refresh");
        Outcome::Failed
    })
}

/// Stores Mesh's answer: new tokens for an account, or the accounts a delayed authentication
/// turned into (which replace the pending connection).
async fn store(
    mesh: &MeshClient,
    vault: &TokenVault,
    leased: &Leased,
    refreshed: Refreshed,
) -> Result<Outcome, VaultError> {
    let connection = &leased.connection;
    let lifetime = |seconds: Option<i64>| seconds.and_then(|s| u64::try_from(s).ok());
    let expires_in_seconds = lifetime(refreshed.expires_in_seconds);
    let refresh_expires_in_seconds = lifetime(refreshed.refresh_token_expires_in_seconds);
    let entries = refreshed.broker_account_tokens.unwrap_or_default();
    if connection.is_pending() {
        let accounts: Vec<NewAccount> = entries
            .into_iter()
            .filter_map(|entry| {
                let account = entry.account?;
                Some(NewAccount {
                    account_id: account.account_id?,
                    account_name: account.account_name.unwrap_or_default(),
                    cash: None,
                    fund: None,
                    // Kept: under Mesh-managed tokens it is what Link is handed later.
                    token_id: entry.token_id,
                    tokens: BrokerTokens {
                        access_token: SecretString::from(entry.access_token?),
                        refresh_token: entry.refresh_token.map(SecretString::from),
                    },
                })
            })
            .collect();
        if accounts.is_empty() {
            vault.retry_later(leased).await?;
            return Ok(Outcome::Failed);
        }
        let new_access_tokens: Vec<SecretString> = accounts
            .iter()
            .map(|account| account.tokens.access_token.clone())
            .collect();
        let broker = BrokerInfo {
            broker_type: connection.broker_type.clone(),
            broker_name: connection.broker_name.clone(),
            logo: None,
        };
        let connected = ConnectedAccounts {
            broker,
            accounts,
            expires_in_seconds,
            refresh_expires_in_seconds,
        };
        let redeemed = vault.redeem_pending(leased, connected).await;
        if let Err(VaultError::PendingGone) = redeemed {
            tracing::info!(
                id = connection.id,
                "a delayed authentication was disconnected while Mesh redeemed it; revoking what Mesh sent"
            );
            for token in new_access_tokens {
                if let Err(error) = mesh.delete_account(&token, &connection.broker_type).await {
                    tracing::warn!(%error, "could not revoke an account of a disconnected delayed authentication");
                }
            }
            return Ok(Outcome::Disconnected);
        }
        redeemed?;
        return Ok(Outcome::Renewed);
    }
    // The entry for this account (Mesh answers per account; one refresh token opens one).
    let entry = entries
        .iter()
        .find(|entry| {
            entry.account.as_ref().and_then(|a| a.account_id.as_deref())
                == connection.account_id.as_deref()
        })
        .or(entries.first());
    let Some(access_token) = entry.and_then(|entry| entry.access_token.clone()) else {
        tracing::warn!(
            id = connection.id,
            "Mesh's refresh answer held no access token"
        );
        vault.retry_later(leased).await?;
        return Ok(Outcome::Failed);
    };
    let renewed = RenewedTokens {
        access_token: SecretString::from(access_token),
        refresh_token: entry
            .and_then(|entry| entry.refresh_token.clone())
            .map(SecretString::from),
        expires_in_seconds,
        refresh_expires_in_seconds,
    };
    Ok(if vault.renew(leased, renewed).await? {
        Outcome::Renewed
    } else {
        Outcome::LeaseLost
    })
}
