//! Wire types of the data calls on a stored token: holdings, balances, history and refresh,
//! named and shaped as in Mesh's OpenAPI spec. Only the fields the starter reads are declared;
//! Mesh may add others. Money is [`Amount`], never `f64`.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use super::money::Amount;

/// Serializes a secret for the request body only; it never appears in `Debug`.
fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// `BrokerBaseRequest` (and the holdings, balance and history requests built on it).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest<'a> {
    /// The connection's access token.
    #[serde(serialize_with = "expose")]
    pub auth_token: &'a SecretString,
    /// Mesh's `BrokerType`.
    #[serde(rename = "type")]
    pub broker_type: &'a str,
    /// Holdings only: ask for `marketValue` and `lastPrice`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_market_value: Option<bool>,
    /// History only: how many records (Mesh's default 100, maximum 250).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// `BrokerRequestStatus`: the institution's answer inside a `HoldingsModel`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum InstitutionStatus {
    /// The institution answered.
    Succeeded,
    /// The institution failed.
    Failed,
    /// The token no longer opens the account.
    NotAuthorized,
}

/// `PositionWithMarketValue`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// Name of the asset.
    #[serde(default)]
    pub name: Option<String>,
    /// Symbol of the asset.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Quantity held.
    pub amount: Amount,
    /// What was paid for the whole position.
    #[serde(default)]
    pub cost_basis: Option<Amount>,
    /// Quantity times the last price.
    #[serde(default)]
    pub market_value: Option<Amount>,
    /// Last price of one unit.
    #[serde(default)]
    pub last_price: Option<Amount>,
}

/// `HoldingsModel`: the `content` of `POST /api/v1/holdings/get`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Holdings {
    /// The institution's answer.
    pub status: InstitutionStatus,
    /// Why it failed, for logs.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Why it failed, for the end user.
    #[serde(default)]
    pub display_message: Option<String>,
    /// Stocks and ETFs.
    #[serde(default)]
    pub equity_positions: Option<Vec<Position>>,
    /// Cryptocurrencies.
    #[serde(default)]
    pub cryptocurrency_positions: Option<Vec<Position>>,
}

/// `B2BBrokerAccountBalance`: one currency's balance.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Withdrawable cash.
    #[serde(default)]
    pub cash: Option<Amount>,
    /// The most the user can spend (cash plus margin).
    #[serde(default)]
    pub buying_power: Option<Amount>,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency_code: Option<String>,
}

/// `B2BBrokerAccountBalanceModel`: the `content` of `POST /api/v1/balance/get`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Balances {
    /// One entry per currency.
    #[serde(default)]
    pub balances: Option<Vec<Balance>>,
    /// All currencies' cash in USD.
    #[serde(default)]
    pub total_cash_usd_value: Option<Amount>,
}

/// `B2BBrokerOrder`: one order, from `POST /api/v1/transactions/list` (brokers).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The institution's id.
    #[serde(default)]
    pub id: Option<String>,
    /// `buy`, `sell`, …
    #[serde(default)]
    pub side: Option<String>,
    /// Traded symbol.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Executed quantity.
    #[serde(default)]
    pub amount: Option<Amount>,
    /// Total value.
    #[serde(default)]
    pub value: Option<Amount>,
    /// Fiat or crypto paid with (the value's currency).
    #[serde(default)]
    pub payment_symbol: Option<String>,
    /// `success`, `inProgress`, …
    #[serde(default)]
    pub status: Option<String>,
    /// Unix seconds.
    pub created_timestamp: i64,
}

/// `B2BBrokerOrderListResponse`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderList {
    /// Newest first.
    #[serde(default)]
    pub transactions: Option<Vec<Order>>,
}

/// `B2BBrokerCryptocurrencyTransaction`: one transfer, from `POST /api/v1/transfers/list`
/// (exchanges).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// The institution's id.
    #[serde(default)]
    pub id: Option<String>,
    /// `succeeded`, `pending`, …
    #[serde(default)]
    pub status: Option<String>,
    /// `deposit` or `withdrawal`.
    #[serde(default, rename = "type")]
    pub direction: Option<String>,
    /// Ticker.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Chain.
    #[serde(default)]
    pub chain: Option<String>,
    /// What the balance moved by (amount plus fee).
    pub amount: Amount,
    /// Unix seconds.
    pub created_timestamp: i64,
}

/// `B2BBrokerTransactionsListModel`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TransferList {
    /// Newest first.
    #[serde(default)]
    pub transfers: Option<Vec<Transfer>>,
}

/// `BrokerRefreshTokenRequest`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest<'a> {
    /// Mesh's `BrokerType`.
    #[serde(rename = "type")]
    pub broker_type: &'a str,
    /// The refresh token.
    #[serde(serialize_with = "expose")]
    pub refresh_token: &'a SecretString,
    /// Ask for a new refresh token too (Mesh's advice when the refresh token expires).
    pub create_new_refresh_token: bool,
}

/// `B2BBrokerAuthStatus`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AuthStatus {
    /// New tokens were issued.
    Succeeded,
    /// The refresh failed.
    Failed,
    /// The institution asks for an MFA code.
    MfaRequired,
}

/// `BrokerAccount`, as far as a refresh names it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RefreshedAccount {
    /// The institution's account id.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The account's name.
    #[serde(default)]
    pub account_name: Option<String>,
}

/// `BrokerAccountTokens`, one account's new tokens. `Debug` shows no token.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RefreshedTokens {
    /// The account.
    #[serde(default)]
    pub account: Option<RefreshedAccount>,
    /// The new access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// The new refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The account's id under Mesh-managed tokens.
    #[serde(default)]
    pub token_id: Option<String>,
}

impl std::fmt::Debug for RefreshedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshedTokens")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// `B2BBrokerRefreshTokenResponse`: the `content` of `POST /api/v1/token/refresh`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Refreshed {
    /// The outcome.
    pub status: AuthStatus,
    /// Why it failed.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Lifetime of the new access tokens.
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// Lifetime of the new refresh tokens.
    #[serde(default)]
    pub refresh_token_expires_in_seconds: Option<i64>,
    /// The new tokens, one entry per account.
    #[serde(default)]
    pub broker_account_tokens: Option<Vec<RefreshedTokens>>,
}
