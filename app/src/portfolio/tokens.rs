//! Keeping stored tokens alive. A background task refreshes access tokens that expire within
//! [`REFRESH_MARGIN`]; a data call that meets an expired token refreshes it once and retries.
//! Either way the instance first takes the connection's refresh lease in the vault, so with
//! several instances on one database only one of them calls Mesh for a given connection.

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;
use server::clock::unix_now;
use server::mesh::{MeshClient, MeshError, Refreshed};
use server::vault::{
    BrokerInfo, BrokerTokens, ConnectedAccounts, Connection, Leased, NewAccount, RenewedTokens,
    TokenVault,
};

use crate::accounts::ssr::vault_failure;
use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// Access tokens that expire within this margin are refreshed. Fifteen minutes covers a missed
/// check (they run every minute), an instance restarting, and Mesh being briefly unreachable
/// (three retries back off for at most a few seconds, then the next check tries again), while
/// refreshing a day-long token only once a day.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);
/// How often the background task looks for tokens to refresh.
const CHECK_EVERY: Duration = Duration::from_secs(60);
/// How long an instance holds a connection's refresh lease. Longer than a refresh may take
/// ([`REFRESH_TIMEOUT`]), shorter than Mesh's grace for a replaced refresh token (60 s in the
/// emulator), so after a crash another attempt comes while the old refresh token still works.
pub const LEASE: Duration = Duration::from_secs(45);
/// The longest one refresh may take, Mesh's retries included.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections refreshed per check and instance.
const BATCH: i64 = 100;

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

/// Refreshes every connection whose access token expires before `now` plus the margin (and
/// redeems pending delayed authentications), as far as this instance gets their leases.
pub async fn refresh_due(mesh: &MeshClient, vault: &TokenVault, now: i64) -> RefreshReport {
    let expiring_before = now + REFRESH_MARGIN.as_secs() as i64;
    let leased = match vault.lease_due(expiring_before, LEASE, BATCH).await {
        Ok(leased) => leased,
        Err(error) => {
            tracing::error!(%error, "could not read connections due for refresh");
            return RefreshReport::default();
        }
    };
    let mut report = RefreshReport::default();
    for connection in leased {
        match refresh_leased(mesh, vault, connection).await {
            Outcome::Renewed => report.renewed += 1,
            Outcome::NeedsReconnect => report.needs_reconnect += 1,
            Outcome::Failed | Outcome::LeaseLost => report.failed += 1,
        }
    }
    report
}

/// Starts the background refresh: a check at start-up, then every minute.
pub fn spawn_token_refresher(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CHECK_EVERY);
        loop {
            every.tick().await;
            let report = refresh_due(&state.mesh, &state.vault, unix_now()).await;
            if report != RefreshReport::default() {
                tracing::info!(?report, "token refresh");
            }
        }
    });
}

/// Refreshes a connection whose lease this instance holds, and stores the outcome.
pub async fn refresh_leased(mesh: &MeshClient, vault: &TokenVault, leased: Leased) -> Outcome {
    let connection = &leased.connection;
    let Some(refresh_token) = &leased.tokens.refresh_token else {
        return Outcome::Failed;
    };
    let rotate = connection.refresh_expires_at.is_some();
    let answer = tokio::time::timeout(
        REFRESH_TIMEOUT,
        mesh.refresh_token(refresh_token, &connection.broker_type, rotate),
    )
    .await;
    let stored = match answer {
        Ok(Ok(refreshed)) => store(vault, &leased, refreshed).await,
        Ok(Err(error)) if error.refresh_token_dead() => {
            tracing::info!(id = connection.id, %error, "refresh token no longer works");
            vault
                .needs_reconnect(&leased)
                .await
                .map(|()| Outcome::NeedsReconnect)
        }
        Ok(Err(error)) => {
            tracing::warn!(id = connection.id, %error, "token refresh failed");
            vault.retry_later(&leased).await.map(|_| Outcome::Failed)
        }
        Err(_) => {
            tracing::warn!(id = connection.id, "token refresh timed out");
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
    vault: &TokenVault,
    leased: &Leased,
    refreshed: Refreshed,
) -> Result<Outcome, server::vault::VaultError> {
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
                    token_id: None,
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
        vault.save_accounts(&leased.user_id, connected).await?;
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

/// Refreshes the user's connection `id` now, or waits (up to [`LEASE`]) for the instance that
/// holds its lease to finish.
pub async fn refresh_now(state: &AppState, user: &str, id: &str) -> Result<(), AppError> {
    let deadline = tokio::time::Instant::now() + LEASE;
    loop {
        let leased = state
            .vault
            .lease_one(user, id, LEASE)
            .await
            .map_err(|error| vault_failure("lease a connection", error))?;
        if let Some(leased) = leased {
            return match refresh_leased(&state.mesh, &state.vault, leased).await {
                Outcome::Renewed => Ok(()),
                Outcome::NeedsReconnect => Err(needs_reconnect()),
                Outcome::Failed | Outcome::LeaseLost => Err(AppError::new(
                    ErrorKind::MeshRefused,
                    "Mesh could not renew this account's sign-in just now. Please try again shortly.",
                )),
            };
        }
        // No lease: the connection is gone, cannot be refreshed, or another instance holds it.
        let (connection, tokens) = find(state, user, id).await?;
        if connection.needs_reconnect || tokens.refresh_token.is_none() {
            return Err(needs_reconnect());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AppError::new(
                ErrorKind::MeshRefused,
                "This account's sign-in could not be renewed. Please try again shortly.",
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (after, _) = find(state, user, id).await?;
        if after.expires_at != connection.expires_at {
            return Ok(());
        }
    }
}

/// Calls Mesh with the access token of the user's connection `id`. When Mesh answers that the
/// token expired, refreshes it once and calls again.
pub async fn with_access_token<T, F, Fut>(
    state: &AppState,
    user: &str,
    id: &str,
    call: F,
) -> Result<(Connection, T), AppError>
where
    F: Fn(SecretString, String) -> Fut,
    Fut: Future<Output = Result<T, MeshError>>,
{
    let (connection, token) = usable(state, user, id).await?;
    match call(token, connection.broker_type.clone()).await {
        Err(error) if error.access_token_expired() => {
            tracing::info!(id, "access token expired; refreshing once");
            refresh_now(state, user, id).await?;
            let (connection, token) = usable(state, user, id).await?;
            let answer = call(token, connection.broker_type.clone()).await;
            answer
                .map(|value| (connection, value))
                .map_err(|error| crate::error::ssr::from_mesh("read a portfolio", error))
        }
        answer => answer
            .map(|value| (connection, value))
            .map_err(|error| crate::error::ssr::from_mesh("read a portfolio", error)),
    }
}

/// The connection and its access token, or why it cannot be used.
async fn usable(
    state: &AppState,
    user: &str,
    id: &str,
) -> Result<(Connection, SecretString), AppError> {
    let (connection, tokens) = find(state, user, id).await?;
    if connection.needs_reconnect {
        return Err(needs_reconnect());
    }
    match tokens.access_token {
        Some(token) => Ok((connection, token)),
        None => Err(AppError::new(
            ErrorKind::NeedsReconnect,
            "This account is waiting for the broker to finish signing in. Press Refresh to check again; if it stays, reconnect this account.",
        )),
    }
}

async fn find(
    state: &AppState,
    user: &str,
    id: &str,
) -> Result<(Connection, server::vault::StoredTokens), AppError> {
    state
        .vault
        .find_with_tokens(user, id)
        .await
        .map_err(|error| vault_failure("read a connection", error))?
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                "That connection does not exist (it may have been disconnected).",
            )
        })
}

/// The sentence for a connection whose refresh token no longer works.
pub fn needs_reconnect() -> AppError {
    AppError::new(
        ErrorKind::NeedsReconnect,
        "The broker's sign-in for this account has expired. Reconnect this account.",
    )
}
