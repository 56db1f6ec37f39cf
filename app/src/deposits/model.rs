//! The deposits' wire types: the Deposit page's settings and a transfer as listed.

use serde::{Deserialize, Serialize};

use crate::link_settings::LinkSettings;

/// What the Deposit page offers: the assets users may send, and whether the addresses are the
/// emulator's stand-ins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositSettings {
    /// Which Mesh is in use and where Link may come from.
    pub link: LinkSettings,
    /// One entry per configured address, in the configured order (`USDC on Ethereum`).
    pub assets: Vec<String>,
    /// True when no addresses are configured and the emulator's are used.
    pub emulated: bool,
    /// The user's connected accounts that can send crypto, offered as sources.
    pub sources: Vec<DepositSource>,
}

/// A connected account a deposit can come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositSource {
    /// The connection's id.
    pub id: String,
    /// What the form shows (`Coinbase Wallet`).
    pub label: String,
}

/// What opens Link on a deposit from a connected account: the link token, and that one
/// account's token for Link's `accessTokens`. The one answer that carries a stored token to the
/// browser (never a page, never storage): the panel drops it when Link closes.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DepositFromConnection {
    /// The link token, opened on the account's integration.
    pub link_token: String,
    /// The account's token (under Mesh-managed tokens, its `tokenId`).
    pub access_token: mesh_link::IntegrationAccessToken,
}

impl std::fmt::Debug for DepositFromConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DepositFromConnection")
            .field("access_token", &self.access_token)
            .finish_non_exhaustive()
    }
}

/// One transfer as the user sees it, formatted on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferLine {
    /// Mesh's transfer id.
    pub id: String,
    /// The amount with its asset (`25.5 USDC`).
    pub amount: String,
    /// The network (`Ethereum`).
    pub network: String,
    /// `reported`, `pending`, `succeeded` or `failed`.
    pub status: String,
    /// What the status means for the user, in a sentence.
    pub note: String,
    /// When the status last changed (`2026-11-27 17:52 UTC`).
    pub updated: String,
    /// Whether it may still change: pending, or reported and still checked. The page reads the
    /// list again while one is.
    pub open: bool,
}
