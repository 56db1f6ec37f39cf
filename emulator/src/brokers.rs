//! The emulated brokers and Mesh's documented sandbox logins (password `Pass123`, MFA `123456`).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use serde_json::{Value, json};

use super::tokens::{Pair, REFRESH_TTL, token_id};

/// The sandbox password of every test login.
pub const SANDBOX_PASSWORD: &str = "Pass123";
/// The sandbox MFA code.
pub const SANDBOX_MFA_CODE: &str = "123456";

/// One emulated integration.
#[derive(Clone, Copy, Debug)]
pub struct Broker {
    /// The integration's id in `GET /api/v1/integrations` (a link token's `integrationId`).
    pub integration_id: &'static str,
    /// Mesh's `BrokerType`.
    pub broker_type: &'static str,
    /// Mesh's category: `brokerage` or `exchange`.
    pub category: &'static str,
    /// Whether crypto can be sent from it through Link.
    pub crypto_transfers: bool,
    /// Display name.
    pub name: &'static str,
    /// Whether sign-in asks for an MFA code.
    pub needs_mfa: bool,
    /// Whether it issues refresh tokens and expiring access tokens (OAuth-style brokers).
    pub refreshable: bool,
    /// Account names; one account each per sign-in.
    pub accounts: &'static [&'static str],
    logo_png: &'static [u8],
}

/// The catalog: a broker with refresh tokens and expiry, one that needs MFA, and an exchange
/// with two accounts and non-expiring tokens.
pub const BROKERS: [Broker; 3] = [
    Broker {
        integration_id: "9ce8ac63-1b5f-4b3c-9d1e-6f2a0c4e8b71",
        broker_type: "robinhood",
        category: "brokerage",
        crypto_transfers: false,
        name: "Robinhood",
        needs_mfa: false,
        refreshable: true,
        accounts: &["Individual"],
        logo_png: include_bytes!("assets/robinhood.png"),
    },
    Broker {
        integration_id: "47624467-e52e-4938-a41a-7926b6c27acf",
        broker_type: "coinbase",
        category: "exchange",
        crypto_transfers: true,
        name: "Coinbase",
        needs_mfa: true,
        refreshable: true,
        accounts: &["Wallet"],
        logo_png: include_bytes!("assets/coinbase.png"),
    },
    Broker {
        integration_id: "5b1f3e2a-7c4d-4e8f-a9b0-c1d2e3f4a5b6",
        broker_type: "binanceUs",
        category: "exchange",
        crypto_transfers: true,
        name: "Binance.US",
        needs_mfa: false,
        refreshable: false,
        accounts: &["Spot", "Earn"],
        logo_png: include_bytes!("assets/binanceUs.png"),
    },
];

impl Broker {
    /// The broker with this `BrokerType`.
    pub fn find(broker_type: &str) -> Option<&'static Broker> {
        BROKERS.iter().find(|b| b.broker_type == broker_type)
    }

    /// The broker whose integration id is `id`.
    pub fn by_integration_id(id: &str) -> Option<&'static Broker> {
        BROKERS
            .iter()
            .find(|b| b.integration_id.eq_ignore_ascii_case(id))
    }

    /// Base64 of the logo PNG, as Link's `brokerLogo` carries it.
    pub fn logo_base64(&self) -> String {
        BASE64.encode(self.logo_png)
    }
}

/// What the Link page needs to draw a broker's button.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry {
    broker_type: &'static str,
    name: &'static str,
    logo: String,
}

/// The catalog as the Link page shows it.
pub fn catalog() -> Vec<CatalogEntry> {
    BROKERS
        .iter()
        .map(|b| CatalogEntry {
            broker_type: b.broker_type,
            name: b.name,
            logo: b.logo_base64(),
        })
        .collect()
}

/// A sandbox login's balances: `(cash, fund)` in USD.
pub fn sandbox_portfolio(username: &str) -> Option<(f64, f64)> {
    Some(match username {
        "Mesh" => (10_000_000.0, 12_480_312.55),
        "Mesh2" => (0.0, 0.0),
        "Mesh3" => (10_000_000.0, 10_000_000.0),
        "Mesh4" => (100_000_000.0, 124_803_125.50),
        "MeshBTC" | "MeshUSDC" | "MeshUSDT" | "MeshETH" | "MeshSOL" => (0.0, 50_000.0),
        _ => return None,
    })
}

/// The `brokerageAccountAccessToken` payload, exactly as Link's `AccessTokenPayload`.
pub fn access_token_payload(
    broker: &Broker,
    username: &str,
    accounts: &[(Pair, bool)],
    access_ttl: Duration,
    managed_tokens: bool,
) -> Value {
    let (cash, fund) = sandbox_portfolio(username).unwrap_or((0.0, 0.0));
    let share = accounts.len().max(1) as f64;
    let account_tokens: Vec<Value> = accounts
        .iter()
        .map(|(issued, reconnected)| {
            let name = &issued.grant.account_name;
            let mut token = json!({
                "account": {
                    "accountId": issued.grant.account_id,
                    "accountName": format!("{} {name}", broker.name),
                    "cash": cash / share,
                    "fund": fund / share,
                    "isReconnected": reconnected,
                },
                "accessToken": issued.access_token,
            });
            if managed_tokens {
                token["tokenId"] = json!(token_id(&issued.grant.account_id));
            }
            if let Some(refresh) = &issued.refresh_token {
                token["refreshToken"] = json!(refresh);
            }
            token
        })
        .collect();
    let mut payload = json!({
        "accountTokens": account_tokens,
        "brokerBrandInfo": { "brokerLogo": broker.logo_base64() },
        "brokerType": broker.broker_type,
        "brokerName": broker.name,
    });
    if broker.refreshable {
        payload["expiresInSeconds"] = json!(access_ttl.as_secs());
        payload["refreshTokenExpiresInSeconds"] = json!(REFRESH_TTL.as_secs());
    }
    payload
}
