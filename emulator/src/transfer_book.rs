//! The emulator's record of transfers made through Link: each transfer, the previews Link
//! showed, and how the next transfers end.

use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::brokers::Broker;
use super::wire::Network;

/// How a transfer ends.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The funds arrive.
    #[default]
    Succeeded,
    /// The exchange gives up.
    Failed,
}

impl Outcome {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// What can go wrong with one transfer's webhooks (`POST /_emulator/webhooks`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum WebhookFault {
    /// Neither event is ever delivered (only polling finds the final state).
    Drop,
    /// Each event is delivered twice.
    Duplicate,
    /// The final event is delivered before `pending`.
    OutOfOrder,
}

/// A preview Link showed: what executing it would send.
#[derive(Clone, Debug)]
pub struct Preview {
    /// Its id.
    pub id: String,
    /// Which of the token's `toAddresses`.
    pub index: usize,
    /// The amount in the asset.
    pub amount: Decimal,
    /// The amount in USD.
    pub amount_in_fiat: Decimal,
    /// The network fee in USD.
    pub fee_in_fiat: Decimal,
}

/// One transfer made through Link.
#[derive(Clone, Debug)]
pub(super) struct Transfer {
    pub(super) id: String,
    pub(super) client_transaction_id: Option<String>,
    pub(super) user_id: String,
    pub(super) status: &'static str,
    pub(super) symbol: String,
    pub(super) network: Network,
    pub(super) address: String,
    pub(super) amount: Decimal,
    pub(super) amount_in_fiat: Decimal,
    pub(super) fee_in_fiat: Decimal,
    pub(super) hash: Option<String>,
    pub(super) from: &'static Broker,
    pub(super) created: i64,
    pub(super) executed: Option<i64>,
}

/// Transfers, newest last, and the settings of the next ones.
#[derive(Debug)]
pub struct TransferBook {
    pub(super) transfers: Vec<Transfer>,
    pub(super) next_outcome: Outcome,
    pub(super) settle_after: Duration,
    pub(super) webhook_faults: Vec<WebhookFault>,
}

impl Default for TransferBook {
    fn default() -> Self {
        Self {
            transfers: Vec::new(),
            next_outcome: Outcome::Succeeded,
            settle_after: DEFAULT_SETTLE_AFTER,
            webhook_faults: Vec::new(),
        }
    }
}

/// How long a transfer stays `pending` before it ends, by default.
pub const DEFAULT_SETTLE_AFTER: Duration = Duration::from_secs(3);
