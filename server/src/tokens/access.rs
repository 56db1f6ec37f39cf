//! Using a stored connection: its access token for a call to Mesh, renewed once when Mesh
//! answers that it expired.

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;

use super::refresh::{Outcome, refresh_leased};
use super::{LEASE, TokenError};
use crate::mesh::{MeshClient, MeshError};
use crate::vault::{Connection, StoredTokens, TokenVault};

/// Refreshes the user's connection `id` now, or waits (up to [`LEASE`]) for the instance that
/// holds its lease to finish.
pub async fn refresh_now(
    mesh: &MeshClient,
    vault: &TokenVault,
    user: &str,
    id: &str,
) -> Result<(), TokenError> {
    let deadline = tokio::time::Instant::now() + LEASE;
    loop {
        let leased = vault
            .lease_one(user, id, LEASE)
            .await
            .map_err(TokenError::vault("lease a connection"))?;
        if let Some(leased) = leased {
            return match refresh_leased(mesh, vault, leased).await {
                Outcome::Renewed => Ok(()),
                Outcome::NeedsReconnect => Err(TokenError::NeedsReconnect),
                Outcome::Disconnected => Err(TokenError::DisconnectedMeanwhile),
                Outcome::Failed | Outcome::LeaseLost => Err(TokenError::RenewalFailed),
            };
        }
        // No lease: the connection is gone, cannot be refreshed, or another instance holds it.
        let (connection, tokens) = find(vault, user, id).await?;
        if connection.needs_reconnect || tokens.refresh_token.is_none() {
            return Err(TokenError::NeedsReconnect);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(TokenError::RenewalBusy);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (after, _) = find(vault, user, id).await?;
        if after.expires_at != connection.expires_at {
            return Ok(());
        }
    }
}

/// Calls Mesh with the access token of the user's connection `id`. When Mesh answers that the
/// token expired, refreshes it once and calls again.
pub async fn with_access_token<T, F, Fut>(
    mesh: &MeshClient,
    vault: &TokenVault,
    user: &str,
    id: &str,
    call: F,
) -> Result<(Connection, T), TokenError>
where
    F: Fn(SecretString, String) -> Fut,
    Fut: Future<Output = Result<T, MeshError>>,
{
    let (connection, token) = usable(vault, user, id).await?;
    match call(token, connection.broker_type.clone()).await {
        Err(error) if error.access_token_expired() => {
            tracing::info!(id, "access token expired; refreshing once");
            refresh_now(mesh, vault, user, id).await?;
            let (connection, token) = usable(vault, user, id).await?;
            let answer = call(token, connection.broker_type.clone()).await;
            answer
                .map(|value| (connection, value))
                .map_err(|source| TokenError::Mesh {
                    action: "read a portfolio",
                    source,
                })
        }
        answer => answer
            .map(|value| (connection, value))
            .map_err(|source| TokenError::Mesh {
                action: "read a portfolio",
                source,
            }),
    }
}

/// The connection and its access token, or why it cannot be used.
async fn usable(
    vault: &TokenVault,
    user: &str,
    id: &str,
) -> Result<(Connection, SecretString), TokenError> {
    let (connection, tokens) = find(vault, user, id).await?;
    if connection.needs_reconnect {
        return Err(TokenError::NeedsReconnect);
    }
    match tokens.access_token {
        Some(token) => Ok((connection, token)),
        None => Err(TokenError::AwaitingBroker),
    }
}

async fn find(
    vault: &TokenVault,
    user: &str,
    id: &str,
) -> Result<(Connection, StoredTokens), TokenError> {
    vault
        .find_with_tokens(user, id)
        .await
        .map_err(TokenError::vault("read a connection"))?
        .ok_or(TokenError::NotFound)
}
