//! Why a stored connection could not be used or renewed.

use crate::mesh::MeshError;
use crate::vault::VaultError;

/// Why a stored connection could not be used or renewed. No variant carries a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The user has no such connection (it may have been disconnected).
    #[error("no such connection")]
    NotFound,
    /// The user disconnected a pending connection while its delayed sign-in was redeemed.
    #[error("the connection was disconnected while its sign-in was being finished")]
    DisconnectedMeanwhile,
    /// The broker's sign-in expired and cannot be renewed: the user must connect again.
    #[error("the connection needs to be connected again")]
    NeedsReconnect,
    /// A delayed sign-in the broker has not finished yet: no access token so far.
    #[error("the broker has not finished signing in")]
    AwaitingBroker,
    /// Mesh failed or could not be reached while renewing the sign-in.
    #[error("the sign-in could not be renewed")]
    RenewalFailed,
    /// Another instance held the renewal for longer than a lease.
    #[error("another instance is still renewing the sign-in")]
    RenewalBusy,
    /// The vault failed while doing `action`.
    #[error("could not {action}: {source}")]
    Vault {
        /// What was being done, for the log ("read a connection").
        action: &'static str,
        /// The vault's error.
        source: VaultError,
    },
    /// Mesh refused the call made with the token.
    #[error("could not {action}: {source}")]
    Mesh {
        /// What was being done, for the log ("read a portfolio").
        action: &'static str,
        /// Mesh's error.
        source: MeshError,
    },
}

impl TokenError {
    /// A vault failure while doing `action`.
    pub(super) fn vault(action: &'static str) -> impl FnOnce(VaultError) -> Self {
        move |source| Self::Vault { action, source }
    }
}
