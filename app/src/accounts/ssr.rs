//! Server-side work of the accounts feature: what the browser may see of a connection, the
//! sentence for a save past the connection cap, and revoking at Mesh before deleting.

use secrecy::SecretString;
use server::vault::{Connection, VaultError};

use crate::error::AppError;
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
            .map(|hash| format!("{}/{hash}", crate::logos::LOGOS_PATH)),
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
    if let Some(access_token) = tokens.access_token {
        revoke(mesh, vault, user, &connection, access_token).await?;
    }
    vault
        .delete(user, id)
        .await
        .map_err(|error| vault_failure("delete a connection", error))
}

/// Revokes a connection's access token at Mesh. A token Mesh does not know is as good as
/// revoked; an expired one is refreshed first (when it can be) and the new one revoked.
/// Any other refusal keeps the connection, with a sentence saying so.
async fn revoke(
    mesh: &server::mesh::MeshClient,
    vault: &server::vault::TokenVault,
    user: &str,
    connection: &Connection,
    access_token: SecretString,
) -> Result<(), AppError> {
    let broker_type = &connection.broker_type;
    let mut answer = mesh.delete_account(&access_token, broker_type).await;
    if answer
        .as_ref()
        .is_err_and(|error| error.access_token_expired())
    {
        answer = match refreshed_access_token(mesh, vault, user, &connection.id).await? {
            Some(fresh) => mesh.delete_account(&fresh, broker_type).await,
            // Nothing left that could use the connection at Mesh.
            None => Ok(()),
        };
    }
    match answer {
        Ok(()) => Ok(()),
        Err(error) if error.access_token_unknown() => {
            tracing::info!(
                id = connection.id,
                "Mesh no longer knows this token; deleting the connection"
            );
            Ok(())
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

/// A new access token for the connection, or `None` when it has no refresh token or its
/// refresh token no longer works.
async fn refreshed_access_token(
    mesh: &server::mesh::MeshClient,
    vault: &server::vault::TokenVault,
    user: &str,
    id: &str,
) -> Result<Option<SecretString>, AppError> {
    use crate::portfolio::tokens::{LEASE, Outcome, refresh_leased};

    let leased = vault
        .lease_one(user, id, LEASE)
        .await
        .map_err(|error| vault_failure("lease a connection", error))?;
    let Some(leased) = leased else {
        return Ok(None);
    };
    match refresh_leased(mesh, vault, leased).await {
        Outcome::Renewed => Ok(vault
            .find_with_tokens(user, id)
            .await
            .map_err(|error| vault_failure("read a connection", error))?
            .and_then(|(_, tokens)| tokens.access_token)),
        Outcome::NeedsReconnect => Ok(None),
        Outcome::Failed | Outcome::LeaseLost => Err(AppError::new(
            crate::error::ErrorKind::MeshRefused,
            "Mesh could not renew this account's expired sign-in to revoke it. The account is still connected; please try again shortly.",
        )),
    }
}

/// Logs a vault failure and returns the user's sentence.
pub fn vault_failure(action: &str, error: VaultError) -> AppError {
    if let VaultError::OverCap { held, cap } = error {
        return AppError::invalid(format!(
            "You have {held} connected accounts; the limit is {cap}. Disconnect some before connecting more."
        ));
    }
    tracing::error!(%error, "could not {action}");
    AppError::internal()
}
