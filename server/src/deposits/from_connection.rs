//! Deposit from an account already connected: a link token opened on the account's integration
//! with the deposit's `transferOptions`, and the one account token Link is handed for it.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::reports::{DepositError, deposit_request};
use crate::clock::unix_now;
use crate::config::DepositAddress;
use crate::mesh::{IntegrationCache, MeshClient, MeshError, sends_crypto};
use crate::tokens::{TokenError, refresh_now};
use crate::vault::{ConnectionId, TokenVault, VaultError};

/// An access token that expires within this is renewed before it is handed to Link, so it
/// outlives the Link session.
pub const RENEW_WITHIN: Duration = Duration::from_secs(5 * 60);

/// The one `IntegrationAccessToken` Link is handed. `Debug` shows no token.
pub struct HandedToken {
    /// The account's id at the institution.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// Its access token, or under Mesh-managed tokens its `tokenId`.
    pub access_token: SecretString,
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// The broker's name.
    pub broker_name: String,
}

impl fmt::Debug for HandedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandedToken")
            .field("broker_type", &self.broker_type)
            .finish_non_exhaustive()
    }
}

/// What opens Link on a deposit from a connected account.
#[derive(Debug)]
pub struct FromConnection {
    /// The link token, opened on the account's integration.
    pub link_token: String,
    /// The account's token, for Link's `accessTokens`.
    pub token: HandedToken,
}

/// Why a deposit from a connected account cannot start.
#[derive(Debug, thiserror::Error)]
pub enum FromConnectionError {
    /// The asset, the amount or the deposit set-up.
    #[error(transparent)]
    Deposit(#[from] DepositError),
    /// The connection: not the user's, waiting for the broker, needing a reconnect, or its
    /// renewal failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Mesh's integrations list could not be read.
    #[error("Mesh's integrations list is unavailable")]
    IntegrationsUnavailable,
    /// Mesh lists no integration of this broker that can send crypto.
    #[error("the account's integration cannot send crypto through Link")]
    NotACryptoSource,
    /// Mesh-managed tokens are on, but the connection was stored without a `tokenId`.
    #[error("the connection has no tokenId")]
    NoTokenId,
    /// A call to Mesh failed.
    #[error("could not {action}: {source}")]
    Mesh {
        /// What was being done, for the log.
        action: &'static str,
        /// Mesh's error.
        source: MeshError,
    },
}

impl From<VaultError> for FromConnectionError {
    fn from(source: VaultError) -> Self {
        Self::Token(TokenError::Vault {
            action: "read a connection",
            source,
        })
    }
}

/// Where a deposit from a connected account goes, and how its token is handed over.
pub struct Sources<'a> {
    /// The Mesh client.
    pub mesh: &'a MeshClient,
    /// The token vault.
    pub vault: &'a TokenVault,
    /// Mesh's integrations list.
    pub integrations: &'a IntegrationCache,
    /// The app's deposit addresses.
    pub addresses: &'a [DepositAddress],
    /// Whether the Mesh account uses Mesh-managed tokens (the `tokenId` is handed over).
    pub managed_tokens: bool,
}

/// A link token for a deposit of `amount` US dollars of asset number `asset` from the user's
/// connection `id`, opened on its integration, with the account's token. An access token that
/// expires within [`RENEW_WITHIN`] is renewed first.
pub async fn deposit_from_connection(
    sources: &Sources<'_>,
    user: &str,
    id: &ConnectionId,
    asset: usize,
    amount: &str,
) -> Result<FromConnection, FromConnectionError> {
    let mut request = deposit_request(sources.addresses, user.to_string(), asset, amount)?;
    let (connection, _) = read(sources.vault, user, id).await?;
    if connection.is_pending() {
        return Err(TokenError::AwaitingBroker.into());
    }
    if connection.needs_reconnect {
        return Err(TokenError::NeedsReconnect.into());
    }
    let integrations = sources
        .integrations
        .get(sources.mesh)
        .await
        .ok_or(FromConnectionError::IntegrationsUnavailable)?;
    let integration = sends_crypto(&integrations, &connection.broker_type)
        .cloned()
        .ok_or(FromConnectionError::NotACryptoSource)?;
    let (connection, access_token) = if sources.managed_tokens {
        let token_id = connection
            .token_id
            .clone()
            .ok_or(FromConnectionError::NoTokenId)?;
        (connection, SecretString::from(token_id))
    } else {
        let expiring = connection
            .expires_at
            .is_some_and(|at| at <= unix_now() + RENEW_WITHIN.as_secs() as i64);
        if expiring {
            refresh_now(sources.mesh, sources.vault, user, id.as_str()).await?;
        }
        let (connection, tokens) = read(sources.vault, user, id).await?;
        let access_token = tokens.access_token.ok_or(TokenError::AwaitingBroker)?;
        (connection, access_token)
    };
    request.integration_id = Some(integration.id);
    let link_token = sources
        .mesh
        .create_link_token(&request)
        .await
        .map_err(|source| FromConnectionError::Mesh {
            action: "create a deposit link token",
            source,
        })?
        .link_token;
    Ok(FromConnection {
        link_token,
        token: HandedToken {
            account_id: connection.account_id.unwrap_or_default(),
            account_name: connection.account_name.unwrap_or_default(),
            access_token,
            broker_type: connection.broker_type,
            broker_name: connection.broker_name,
        },
    })
}

/// The user's connection `id` with its tokens, or `NotFound`.
async fn read(
    vault: &TokenVault,
    user: &str,
    id: &ConnectionId,
) -> Result<(crate::vault::Connection, crate::vault::StoredTokens), FromConnectionError> {
    vault
        .find_with_tokens(user, id.as_str())
        .await?
        .ok_or_else(|| TokenError::NotFound.into())
}
