//! Serde types that cross the wire between server and browser.

use serde::{Deserialize, Serialize};

/// Which Mesh the server talks to, as the browser needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeshMode {
    /// The embedded offline emulator.
    Emulator,
    /// Mesh's sandbox.
    Sandbox,
    /// Mesh's production.
    Production,
}

/// What the Link client needs from the server before it opens Link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSettings {
    /// Which Mesh is in use.
    pub mode: MeshMode,
    /// In emulator mode, the only origin Link may be loaded from (`http://127.0.0.1:3100`).
    pub emulator_origin: Option<String>,
    /// Whether deposit addresses are configured (the Deposit page exists).
    pub deposits: bool,
}

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

/// One connected account (or pending connection) as the browser sees it: never a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// An unguessable id for this connection.
    pub id: String,
    /// Mesh's `BrokerType`, for example `robinhood`.
    pub broker_type: String,
    /// The broker's display name.
    pub broker_name: String,
    /// Where the broker's logo is served (`/logos/<hash>`), when Link sent one.
    pub logo_url: Option<String>,
    /// The account's name; `None` for a pending (delayed-auth) connection.
    pub account_name: Option<String>,
    /// Cash, when Link reported it, formatted (`$12.50`).
    pub cash: Option<String>,
    /// Fund value, when Link reported it, formatted.
    pub fund: Option<String>,
    /// When it connected (`2026-11-27 17:13 UTC`).
    pub connected: String,
    /// When its access token expires, when it does.
    pub expires: Option<String>,
    /// True for a delayed authentication: a refresh token, no account yet.
    pub pending: bool,
    /// True when the broker's sign-in expired and the user must connect the account again.
    pub needs_reconnect: bool,
}

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
