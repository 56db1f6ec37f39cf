//! The portfolio's wire types: what an account holds, formatted on the server.

use serde::{Deserialize, Serialize};

/// One connected account's portfolio as Mesh reported it, formatted on the server (so the
/// browser needs no money or date code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    /// The connection's id.
    pub id: String,
    /// The broker's display name.
    pub broker_name: String,
    /// The account's name.
    pub account_name: String,
    /// When Mesh answered, for example `2026-11-27 17:52 UTC`.
    pub fetched_at: String,
    /// Cash and buying power, one line per currency.
    pub balances: Vec<BalanceLine>,
    /// Positions, largest value first.
    pub holdings: Vec<HoldingLine>,
    /// The positions' total value, in the display currency (USD).
    pub holdings_total: String,
    /// `Orders` for a broker, `Transfers` for an exchange.
    pub history_kind: String,
    /// The latest orders or transfers, newest first.
    pub history: Vec<HistoryLine>,
    /// True when a deposit can come from this account (see `ConnectionSummary::can_deposit`).
    pub can_deposit: bool,
}

/// One currency's balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceLine {
    /// ISO 4217 code.
    pub currency: String,
    /// Withdrawable cash.
    pub cash: String,
    /// What the user can spend.
    pub buying_power: String,
}

/// One position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldingLine {
    /// Ticker.
    pub symbol: String,
    /// Asset name.
    pub name: String,
    /// Quantity held.
    pub quantity: String,
    /// Last price of one unit.
    pub price: String,
    /// Market value.
    pub value: String,
}

/// One order or transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// When, for example `2026-09-15`.
    pub date: String,
    /// What, for example `Buy 12.5 AAPL` or `Deposit 0.125 BTC on Bitcoin`.
    pub description: String,
    /// Its value, when known.
    pub amount: String,
    /// Its status, as the institution names it.
    pub status: String,
}
