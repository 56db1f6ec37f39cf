//! The Mesh client's data calls against the emulator over HTTP: holdings, balances, history and
//! token refresh, with every error path (expired, unknown, rotated tokens; keys; faults).

mod common;

use std::str::FromStr;
use std::time::Duration;

use mesh_emulator::{self as emulator, RunningEmulator, Settings as EmulatorSettings};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};
use server::mesh::{Amount, LinkTokenRequest, MeshClient, MeshError};

use common::{HOST, client, emulator_settings};

const TTL: Duration = Duration::from_secs(600);

async fn start() -> (RunningEmulator, MeshClient) {
    let emulator = emulator::spawn(EmulatorSettings {
        token_ttl: TTL,
        ..emulator_settings("secret")
    })
    .await
    .unwrap();
    let mesh = client(&emulator, "secret", 2);
    (emulator, mesh)
}

async fn post(emulator: &RunningEmulator, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(emulator.base_url().join(path).unwrap())
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Signs in through the emulated Link page; the first account's access and refresh tokens.
async fn connect(
    emulator: &RunningEmulator,
    client: &MeshClient,
    broker: &str,
) -> (SecretString, Option<SecretString>) {
    let token = client
        .create_link_token(&LinkTokenRequest::for_user("user-1"))
        .await
        .unwrap()
        .link_token;
    let payload = emulator
        .connect_through_link(&token, broker, HOST)
        .await
        .unwrap();
    let account = &payload["accountTokens"][0];
    let secret = |v: &Value| v.as_str().map(|s| SecretString::from(s.to_string()));
    (
        secret(&account["accessToken"]).unwrap(),
        secret(&account["refreshToken"]),
    )
}

async fn advance_clock(emulator: &RunningEmulator, seconds: u64) {
    let response = post(
        emulator,
        "/_emulator/clock",
        json!({"advanceSeconds": seconds}),
    )
    .await;
    assert_eq!(response.status(), 204);
}

fn amount(text: &str) -> Amount {
    Amount(Decimal::from_str(text).unwrap())
}

#[tokio::test]
async fn a_broker_has_equities_cash_and_orders() {
    let (emulator, client) = start().await;
    let (access, _) = connect(&emulator, &client, "robinhood").await;

    let holdings = client.holdings(&access, "robinhood").await.unwrap();
    let equities = holdings.equity_positions.unwrap();
    assert_eq!(equities.len(), 3);
    let apple = &equities[0];
    assert_eq!(apple.symbol.as_deref(), Some("AAPL"));
    assert_eq!(apple.amount, amount("12.5"));
    assert_eq!(apple.last_price, Some(amount("232.14")));
    assert_eq!(apple.market_value, Some(amount("2901.75")));
    assert_eq!(apple.cost_basis, Some(amount("1810")));
    assert!(holdings.cryptocurrency_positions.unwrap().is_empty());

    let balances = client.balances(&access, "robinhood").await.unwrap();
    let usd = &balances.balances.unwrap()[0];
    assert_eq!(usd.currency_code.as_deref(), Some("USD"));
    assert_eq!(usd.cash, Some(amount("10000000")));
    assert_eq!(usd.buying_power, Some(amount("12480312.55")));

    let orders = client.orders(&access, "robinhood", 2).await.unwrap();
    let orders = orders.transactions.unwrap();
    assert_eq!(orders.len(), 2, "count is honoured");
    assert!(
        orders[0].created_timestamp > orders[1].created_timestamp,
        "newest first"
    );
    assert_eq!(orders[0].symbol.as_deref(), Some("VTI"));
}

#[tokio::test]
async fn an_exchange_has_crypto_and_transfers() {
    let (emulator, client) = start().await;
    let (access, refresh) = connect(&emulator, &client, "binanceUs").await;
    assert!(refresh.is_none(), "Binance.US issues no refresh token");

    let holdings = client.holdings(&access, "binanceUs").await.unwrap();
    let coins = holdings.cryptocurrency_positions.unwrap();
    let symbols: Vec<_> = coins.iter().filter_map(|p| p.symbol.as_deref()).collect();
    assert_eq!(symbols, ["BTC", "SOL"]);
    assert_eq!(coins[0].market_value, Some(amount("12156.25")));

    let transfers = client
        .transfer_history(&access, "binanceUs", 100)
        .await
        .unwrap();
    let transfers = transfers.transfers.unwrap();
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0].direction.as_deref(), Some("deposit"));
    assert_eq!(transfers[0].amount, amount("42.5"));

    advance_clock(&emulator, 365 * 24 * 60 * 60).await;
    assert!(
        client.holdings(&access, "binanceUs").await.is_ok(),
        "tokens without refresh do not expire"
    );
}

#[tokio::test]
async fn refresh_rotates_both_tokens_and_the_old_refresh_token_has_a_grace_minute() {
    let (emulator, client) = start().await;
    let (access, refresh) = connect(&emulator, &client, "robinhood").await;
    let refresh = refresh.unwrap();

    let renewed = client
        .refresh_token(&refresh, "robinhood", true)
        .await
        .unwrap();
    assert_eq!(renewed.expires_in_seconds, Some(TTL.as_secs() as i64));
    let tokens = &renewed.broker_account_tokens.unwrap()[0];
    let new_access = SecretString::from(tokens.access_token.clone().unwrap());
    let new_refresh = tokens.refresh_token.clone().unwrap();
    assert_ne!(new_refresh, secrecy::ExposeSecret::expose_secret(&refresh));
    assert!(client.holdings(&new_access, "robinhood").await.is_ok());
    assert!(
        client.holdings(&access, "robinhood").await.is_ok(),
        "old access lives out its TTL"
    );

    advance_clock(&emulator, 59).await;
    assert!(
        client
            .refresh_token(&refresh, "robinhood", true)
            .await
            .is_ok(),
        "a lost answer can be retried within the grace period"
    );
    advance_clock(&emulator, 1).await;
    let error = client
        .refresh_token(&refresh, "robinhood", true)
        .await
        .unwrap_err();
    assert!(error.refresh_token_dead(), "{error:?}");
    assert!(
        client
            .refresh_token(&SecretString::from(new_refresh), "robinhood", true)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_expired_access_token_is_recognised_and_a_refresh_brings_it_back() {
    let (emulator, client) = start().await;
    let (access, refresh) = connect(&emulator, &client, "robinhood").await;
    advance_clock(&emulator, TTL.as_secs()).await;

    let error = client.holdings(&access, "robinhood").await.unwrap_err();
    assert!(error.access_token_expired(), "{error:?}");
    assert!(!error.access_token_unknown());
    assert!(error.display_message().is_some(), "Mesh's sentence is kept");
    assert!(
        client
            .balances(&access, "robinhood")
            .await
            .unwrap_err()
            .access_token_expired()
    );

    let renewed = client
        .refresh_token(&refresh.unwrap(), "robinhood", true)
        .await
        .unwrap();
    let fresh = renewed.broker_account_tokens.unwrap()[0]
        .access_token
        .clone()
        .unwrap();
    assert!(
        client
            .holdings(&SecretString::from(fresh), "robinhood")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_expired_refresh_token_means_connecting_again() {
    let (emulator, client) = start().await;
    let (_, refresh) = connect(&emulator, &client, "robinhood").await;
    advance_clock(&emulator, 30 * 24 * 60 * 60).await;
    let error = client
        .refresh_token(&refresh.unwrap(), "robinhood", true)
        .await
        .unwrap_err();
    assert!(error.refresh_token_dead(), "{error:?}");
}

#[tokio::test]
async fn unknown_tokens_wrong_keys_and_faults_are_typed_errors() {
    let (emulator, client) = start().await;
    let (access, _) = connect(&emulator, &client, "robinhood").await;
    let made_up = SecretString::from("made-up");

    let error = client.holdings(&made_up, "robinhood").await.unwrap_err();
    assert!(
        error.access_token_unknown() && !error.access_token_expired(),
        "{error:?}"
    );
    let error = client.holdings(&access, "coinbase").await.unwrap_err();
    assert!(
        error.access_token_unknown(),
        "a token opens only its own broker type"
    );
    let error = client
        .refresh_token(&made_up, "robinhood", true)
        .await
        .unwrap_err();
    assert!(error.refresh_token_dead(), "{error:?}");

    let wrong_keys = common::client(&emulator, "wrong", 2);
    assert!(matches!(
        wrong_keys.holdings(&access, "robinhood").await,
        Err(MeshError::Unauthorized)
    ));

    for (path, fault, check) in [
        (
            "/api/v1/holdings/get",
            json!({"fault": "status", "status": 503, "times": 2}),
            "Server",
        ),
        (
            "/api/v1/balance/get",
            json!({"fault": "malformed"}),
            "MalformedResponse",
        ),
        (
            "/api/v1/transactions/list",
            json!({"fault": "status", "status": 403}),
            "Forbidden",
        ),
        (
            "/api/v1/token/refresh",
            json!({"fault": "drop", "times": 2}),
            "Unreachable",
        ),
    ] {
        let mut fault = fault;
        fault["path"] = json!(path);
        assert_eq!(
            post(&emulator, "/_emulator/faults", fault).await.status(),
            204
        );
        let error = match path {
            "/api/v1/holdings/get" => client.holdings(&access, "robinhood").await.map(drop),
            "/api/v1/balance/get" => client.balances(&access, "robinhood").await.map(drop),
            "/api/v1/transactions/list" => client.orders(&access, "robinhood", 5).await.map(drop),
            _ => client
                .refresh_token(&made_up, "robinhood", true)
                .await
                .map(drop),
        }
        .unwrap_err();
        assert!(format!("{error:?}").starts_with(check), "{path}: {error:?}");
    }
    assert!(
        client.holdings(&access, "robinhood").await.is_ok(),
        "faults were used up"
    );
}
