//! Disconnecting: a connection's token is revoked at Mesh before its row is deleted.

use secrecy::SecretString;

use crate::mesh::{MeshClient, MeshError};
use crate::tokens::{TokenError, refresh_now};
use crate::vault::{Connection, StoredTokens, TokenVault, VaultError};

/// Why a connection was kept instead of disconnected. No variant carries a token.
#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    /// The vault failed while doing `action`.
    #[error("could not {action}: {source}")]
    Vault {
        /// What was being done, for the log ("delete a connection").
        action: &'static str,
        /// The vault's error.
        source: VaultError,
    },
    /// The account was connected again or renewed meanwhile: it stays, with its new sign-in.
    #[error("the connection was connected again or renewed while it was being disconnected")]
    RenewedMeanwhile,
    /// Mesh refused to revoke the token (other than not knowing it): the connection stays.
    #[error("Mesh did not revoke the connection: {0}")]
    Refused(MeshError),
    /// The token had expired and could not be renewed to revoke it: the connection stays.
    #[error("the expired sign-in could not be renewed to revoke it")]
    CannotRenew,
}

impl DisconnectError {
    fn vault(action: &'static str) -> impl FnOnce(VaultError) -> Self {
        move |source| Self::Vault { action, source }
    }
}

/// Revokes the user's connection `id` at Mesh, then deletes it; false when there is no such
/// connection. If Mesh answers that the token is no longer valid it is deleted anyway; if
/// Mesh refuses our keys or cannot be reached it is kept, and the error says so.
///
/// The rule with a reconnect or a renewal racing: a disconnect deletes only the version of the
/// row whose token it revoked. If new tokens were stored meanwhile (the account connected
/// again, or renewed by another instance), the row is kept with them and the user told.
pub async fn revoke_and_delete(
    mesh: &MeshClient,
    vault: &TokenVault,
    user: &str,
    id: &str,
) -> Result<bool, DisconnectError> {
    let found = vault
        .find_with_tokens(user, id)
        .await
        .map_err(DisconnectError::vault("read a connection"))?;
    let Some((connection, tokens)) = found else {
        return Ok(false);
    };
    let revoked = match tokens.access_token.clone() {
        Some(access_token) => revoke(mesh, vault, user, &connection, access_token, tokens).await?,
        // A pending connection was never connected at Mesh.
        None => tokens,
    };
    let deleted = vault
        .delete_version(user, id, &revoked)
        .await
        .map_err(DisconnectError::vault("delete a connection"))?;
    let still_there = vault
        .find_with_tokens(user, id)
        .await
        .map_err(DisconnectError::vault("read a connection"))?
        .is_some();
    if !deleted && still_there {
        return Err(DisconnectError::RenewedMeanwhile);
    }
    Ok(true)
}

/// Revokes a connection's access token at Mesh and returns the version of the tokens revoked.
/// A token Mesh does not know is as good as revoked; an expired one is refreshed first (when it
/// can be, waiting for another instance that is refreshing it) and the new one revoked. Any
/// other refusal keeps the connection, with a sentence saying so.
async fn revoke(
    mesh: &MeshClient,
    vault: &TokenVault,
    user: &str,
    connection: &Connection,
    access_token: SecretString,
    read: StoredTokens,
) -> Result<StoredTokens, DisconnectError> {
    let broker_type = &connection.broker_type;
    let mut revoked = read;
    let mut answer = mesh.delete_account(&access_token, broker_type).await;
    if answer
        .as_ref()
        .is_err_and(|error| error.access_token_expired())
    {
        answer = match refreshed_tokens(mesh, vault, user, &connection.id).await? {
            Some(fresh) => {
                let token = fresh.access_token.clone();
                revoked = fresh;
                match token {
                    Some(token) => mesh.delete_account(&token, broker_type).await,
                    None => Ok(()),
                }
            }
            // Nothing left that could use the connection at Mesh.
            None => Ok(()),
        };
    }
    match answer {
        Ok(()) => Ok(revoked),
        Err(error) if error.access_token_unknown() => {
            tracing::info!(
                id = connection.id,
                "Mesh no longer knows this token; deleting the connection"
            );
            Ok(revoked)
        }
        Err(error) => Err(DisconnectError::Refused(error)),
    }
}

/// The connection's tokens after renewing its expired access token (or after another instance
/// renewed it), or `None` when its refresh token no longer works or it has none: then nothing
/// can use the connection at Mesh.
async fn refreshed_tokens(
    mesh: &MeshClient,
    vault: &TokenVault,
    user: &str,
    id: &str,
) -> Result<Option<StoredTokens>, DisconnectError> {
    match refresh_now(mesh, vault, user, id).await {
        Ok(()) => Ok(vault
            .find_with_tokens(user, id)
            .await
            .map_err(DisconnectError::vault("read a connection"))?
            .map(|(_, tokens)| tokens)),
        Err(
            TokenError::NeedsReconnect
            | TokenError::AwaitingBroker
            | TokenError::NotFound
            | TokenError::DisconnectedMeanwhile,
        ) => Ok(None),
        Err(error) => {
            if let TokenError::Vault { .. } = error {
                tracing::error!(%error, "could not renew a connection to revoke it");
            }
            Err(DisconnectError::CannotRenew)
        }
    }
}
