//! Server-side work of the accounts feature: what the browser may see of a connection, and
//! revoking at Mesh before deleting.

use secrecy::SecretString;
use server::vault::{Connection, StoredTokens};

use crate::error::AppError;
use crate::error::ssr::vault_failure;
use crate::model::ConnectionSummary;

/// An amount in US dollars as Link reported it, to the cent.
fn dollars(amount: rust_decimal::Decimal) -> String {
    crate::format::money(amount, "USD")
}

/// What the browser may see of a stored connection.
pub fn summary(connection: Connection) -> ConnectionSummary {
    ConnectionSummary {
        pending: connection.is_pending(),
        id: connection.id,
        broker_type: connection.broker_type,
        broker_name: connection.broker_name,
        logo_url: connection
            .logo_hash
            .map(|hash| format!("{}/{hash}", server::edge::logos::LOGOS_PATH)),
        account_name: connection.account_name,
        cash: connection.cash.map(dollars),
        fund: connection.fund.map(dollars),
        connected: crate::format::minute(connection.connected_at),
        expires: connection.expires_at.map(crate::format::minute),
        needs_reconnect: connection.needs_reconnect,
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
    mesh: &server::mesh::MeshClient,
    vault: &server::vault::TokenVault,
    user: &str,
    id: &str,
) -> Result<bool, AppError> {
    let found = vault
        .find_with_tokens(user, id)
        .await
        .map_err(|error| vault_failure("read a connection", error))?;
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
        .map_err(|error| vault_failure("delete a connection", error))?;
    let still_there = vault
        .find_with_tokens(user, id)
        .await
        .map_err(|error| vault_failure("read a connection", error))?
        .is_some();
    if !deleted && still_there {
        return Err(AppError::invalid(
            "This account was connected again or renewed while it was being disconnected, so it is still connected with its new sign-in. Disconnect it again to remove it.",
        ));
    }
    Ok(true)
}

/// Revokes a connection's access token at Mesh and returns the version of the tokens revoked.
/// A token Mesh does not know is as good as revoked; an expired one is refreshed first (when it
/// can be, waiting for another instance that is refreshing it) and the new one revoked. Any
/// other refusal keeps the connection, with a sentence saying so.
async fn revoke(
    mesh: &server::mesh::MeshClient,
    vault: &server::vault::TokenVault,
    user: &str,
    connection: &Connection,
    access_token: SecretString,
    read: StoredTokens,
) -> Result<StoredTokens, AppError> {
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
        Err(error) => {
            let refusal = crate::error::ssr::from_mesh("revoke a connection", error);
            Err(AppError::new(
                refusal.kind,
                format!("{} The account is still connected.", refusal.message),
            ))
        }
    }
}

/// The connection's tokens after renewing its expired access token (or after another instance
/// renewed it), or `None` when its refresh token no longer works or it has none: then nothing
/// can use the connection at Mesh.
async fn refreshed_tokens(
    mesh: &server::mesh::MeshClient,
    vault: &server::vault::TokenVault,
    user: &str,
    id: &str,
) -> Result<Option<StoredTokens>, AppError> {
    use crate::error::ErrorKind;
    match crate::portfolio::tokens::refresh_now_with(mesh, vault, user, id).await {
        Ok(()) => Ok(vault
            .find_with_tokens(user, id)
            .await
            .map_err(|error| vault_failure("read a connection", error))?
            .map(|(_, tokens)| tokens)),
        Err(error) if error.kind == ErrorKind::NeedsReconnect => Ok(None),
        Err(error) if error.kind == ErrorKind::NotFound => Ok(None),
        Err(_) => Err(AppError::new(
            ErrorKind::MeshRefused,
            "Mesh could not renew this account's expired sign-in to revoke it. The account is still connected; please try again shortly.",
        )),
    }
}
