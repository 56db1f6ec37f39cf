//! Payloads Link posts to the host page, shaped exactly as Mesh's web SDK types them
//! (`AccessTokenPayload`, `DelayedAuthPayload`, `TransferFinishedPayload`, `SessionSummary`).
//! Token-bearing types redact their tokens in `Debug`, so a stray log line cannot leak one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Reads a decorative field (a name, a balance, branding) leniently: `null` or a value of another
/// type reads as absent instead of failing the whole payload, so the tokens beside it are never
/// lost for a logo. Tokens and ids stay strict.
fn decoration<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).unwrap_or_default())
}

/// `Account`: the account a token opens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The institution's account id.
    pub account_id: String,
    /// A display name for the account; empty when Link sent none.
    #[serde(default, deserialize_with = "decoration")]
    pub account_name: String,
    /// Fund value, when Link reports it as a number.
    #[serde(
        default,
        deserialize_with = "decoration",
        skip_serializing_if = "Option::is_none"
    )]
    pub fund: Option<f64>,
    /// Cash value, when Link reports it as a number.
    #[serde(
        default,
        deserialize_with = "decoration",
        skip_serializing_if = "Option::is_none"
    )]
    pub cash: Option<f64>,
    /// True when the user reconnected an account connected before.
    #[serde(
        default,
        deserialize_with = "decoration",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_reconnected: Option<bool>,
}

/// `AccountToken`: one account and the tokens that open it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountToken {
    /// The account.
    pub account: Account,
    /// The access token for Mesh's API calls on this account.
    pub access_token: String,
    /// The refresh token, for integrations that issue one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Mesh Managed Tokens id, persistent across reconnects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

impl fmt::Debug for AccountToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountToken")
            .field("account", &self.account)
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("token_id", &self.token_id)
            .finish()
    }
}

/// `BrandInfo`: the broker's logo (base64 image) and logo URLs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandInfo {
    /// Base64 of the broker's logo image.
    #[serde(default)]
    pub broker_logo: String,
    /// URL of the logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_logo_url: Option<String>,
    /// URL of the logo for light backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_light_url: Option<String>,
    /// URL of the logo for dark backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_dark_url: Option<String>,
    /// URL of the icon for light backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_light_url: Option<String>,
    /// URL of the icon for dark backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_dark_url: Option<String>,
}

/// `AccessTokenPayload`: posted as `brokerageAccountAccessToken` when accounts connect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenPayload {
    /// One entry per connected account.
    pub account_tokens: Vec<AccountToken>,
    /// The broker's branding; empty when absent or unreadable.
    #[serde(default, deserialize_with = "decoration")]
    pub broker_brand_info: BrandInfo,
    /// Lifetime of the access tokens, when they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
    /// Lifetime of the refresh tokens, when they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in_seconds: Option<u64>,
    /// Mesh's `BrokerType`, for example `robinhood`.
    pub broker_type: String,
    /// The broker's display name.
    pub broker_name: String,
}

/// `DelayedAuthPayload`: posted as `delayedAuthentication`; a refresh token, no account yet.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DelayedAuthPayload {
    /// The refresh token to redeem later.
    pub refresh_token: String,
    /// Its lifetime, when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in_seconds: Option<u64>,
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// The broker's display name.
    pub broker_name: String,
    /// The broker's branding; empty when absent or unreadable.
    #[serde(default, deserialize_with = "decoration")]
    pub broker_brand_info: BrandInfo,
}

impl fmt::Debug for DelayedAuthPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayedAuthPayload")
            .field("refresh_token", &"[redacted]")
            .field(
                "refresh_token_expires_in_seconds",
                &self.refresh_token_expires_in_seconds,
            )
            .field("broker_type", &self.broker_type)
            .field("broker_name", &self.broker_name)
            .finish_non_exhaustive()
    }
}

/// What `onIntegrationConnected` receives: tokens for accounts, or a delayed authentication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IntegrationConnected {
    /// `{accessToken: AccessTokenPayload}`.
    AccessToken(AccessTokenPayload),
    /// `{delayedAuth: DelayedAuthPayload}`.
    DelayedAuth(DelayedAuthPayload),
}

/// `TransferFinishedPayload`: posted as `transferFinished`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferFinishedPayload {
    /// `success` in SDK 3.11's type (the docs also list pending and failed).
    pub status: String,
    /// Transaction id.
    pub tx_id: String,
    /// Source address.
    pub from_address: String,
    /// Destination address.
    pub to_address: String,
    /// Asset symbol.
    pub symbol: String,
    /// Amount in the asset.
    pub amount: f64,
    /// Mesh network id.
    pub network_id: String,
    /// Your user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Your transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_transaction_id: Option<String>,
    /// Amount in fiat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_in_fiat: Option<f64>,
    /// Total in fiat, fees included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount_in_fiat: Option<f64>,
    /// Network name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_name: Option<String>,
    /// On-chain hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
    /// Mesh's transfer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    /// Refund address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_address: Option<String>,
}

/// `SessionSummary.selectedIntegration`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectedIntegration {
    /// Integration id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Integration name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `BrokerType` of the integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_type: Option<String>,
    /// Display name of the integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_name: Option<String>,
}

/// `SessionSummary.transfer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferSummary {
    /// Preview id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_id: Option<String>,
    /// Asset symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Amount in the asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Amount in fiat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_in_fiat: Option<f64>,
    /// Transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Network id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
}

/// `SessionSummary`: posted with `close` and `done`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// The Link page the user was on.
    #[serde(default)]
    pub page: String,
    /// The integration the user picked, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_integration: Option<SelectedIntegration>,
    /// The transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferSummary>,
    /// Why Link ended with an error, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `IntegrationAccessToken`: a stored token handed back to Link (`frontAccessTokens`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationAccessToken {
    /// The account id.
    pub account_id: String,
    /// The account name.
    pub account_name: String,
    /// The access token (or a Mesh Managed Tokens `tokenId`).
    pub access_token: String,
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// The broker's display name.
    pub broker_name: String,
}

impl fmt::Debug for IntegrationAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegrationAccessToken")
            .field("account_id", &self.account_id)
            .field("access_token", &"[redacted]")
            .field("broker_type", &self.broker_type)
            .finish_non_exhaustive()
    }
}
