//! The emulated Mesh API: the same paths, headers, envelopes and statuses as Mesh.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::brokers::Broker;
use super::portfolio;
use super::reply::{bad_request, ok};
use super::state::{EmulatorState, authorized, lock};
use super::tokens::{Grant, REFRESH_TTL, Refusal, token_id};
use super::wire::{Network, TransferOptions};

/// Longest `userId` Mesh accepts (`GetLinkTokenRequest.userId.maxLength` in Mesh's spec); the
/// emulator keeps its own copy so a mistake in the client cannot hide here.
const MAX_USER_ID_CHARS: usize = 300;

/// The API routes.
pub fn routes() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/api/v1/linktoken", post(link_token))
        .route("/api/v1/account", delete(delete_account))
        .route("/api/v1/holdings/get", post(holdings_get))
        .route("/api/v1/balance/get", post(balance_get))
        .route("/api/v1/transactions/list", post(transactions_list))
        .route("/api/v1/transfers/list", post(transfers_list))
        .route("/api/v1/token/refresh", post(token_refresh))
}

/// Every field of the spec's `GetLinkTokenRequest`; unknown ones are refused as its
/// `additionalProperties: false` says.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // Fields are accepted for fidelity; the emulator acts on userId, transferOptions and integrationId.
struct GetLinkTokenRequest {
    user_id: Option<String>,
    broker_type: Option<Value>,
    restrict_multiple_accounts: Option<bool>,
    transfer_options: Option<TransferOptions>,
    integration_id: Option<String>,
    disable_api_key_generation: Option<bool>,
    verify_wallet_options: Option<Value>,
    sub_client_id: Option<String>,
}

async fn link_token(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: GetLinkTokenRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request("invalidRequest", &format!("Invalid request body: {e}")),
    };
    let user_id = match request.user_id {
        Some(id) if !id.is_empty() && id.chars().count() <= MAX_USER_ID_CHARS => id,
        Some(id) if !id.is_empty() => {
            return bad_request(
                "invalidField",
                &format!("UserId must be at most {MAX_USER_ID_CHARS} characters"),
            );
        }
        _ => return bad_request("missingField", "UserId is required"),
    };
    if let Some(options) = &request.transfer_options
        && let Err(problem) = check_transfer_options(options)
    {
        return bad_request("invalidField", problem);
    }
    let integration = match request.integration_id.as_deref() {
        None => None,
        Some(id) => match Broker::by_integration_id(id) {
            Some(broker) => Some(broker),
            None => return bad_request("invalidField", "IntegrationId is not a known integration"),
        },
    };
    let code = state.issue_link_session(user_id, request.transfer_options, integration);
    let link_url = format!(
        "{}b2b-iframe/{}/broker-connect?auth_code={code}",
        state.settings.base_url(),
        state.settings.client_id
    );
    ok(json!({ "linkToken": BASE64.encode(link_url) }))
}

/// What Mesh would refuse in `transferOptions`: no destination, an unknown network, a blank
/// symbol or address, an over-long `transactionId`, or no amount at all.
fn check_transfer_options(options: &TransferOptions) -> Result<(), &'static str> {
    if options.to_addresses.is_empty() {
        return Err("TransferOptions.ToAddresses must not be empty");
    }
    for to in &options.to_addresses {
        if Network::find(&to.network_id).is_none() {
            return Err("TransferOptions.ToAddresses: unknown NetworkId");
        }
        if to.symbol.trim().is_empty() || to.address.trim().is_empty() {
            return Err("TransferOptions.ToAddresses: Symbol and Address are required");
        }
    }
    if options
        .transaction_id
        .as_ref()
        .is_some_and(|id| id.chars().count() > 128)
    {
        return Err("TransferOptions.TransactionId must be at most 128 characters");
    }
    if options.amount_in_fiat.is_none() && options.to_addresses.iter().any(|to| to.amount.is_none())
    {
        return Err("TransferOptions needs AmountInFiat or an Amount for every address");
    }
    Ok(())
}

/// `BrokerBaseRequest`: the body of `DELETE /api/v1/account`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BrokerBaseRequest {
    auth_token: String,
    #[serde(rename = "type")]
    broker_type: String,
}

/// Revokes a connection; only tokens this emulator issued are accepted.
async fn delete_account(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: BrokerBaseRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request("invalidRequest", &format!("Invalid request body: {e}")),
    };
    if request.auth_token.is_empty() {
        return bad_request("missingField", "AuthToken is required");
    }
    // An expired token is refused as on the data calls: the client refreshes it first.
    let mut tokens = lock(&state.tokens);
    match tokens.check_access(&request.auth_token, &request.broker_type) {
        Ok(_) => {
            tokens.revoke(&request.auth_token, &request.broker_type);
            ok(Value::Null)
        }
        Err(Refusal::Expired) => bad_request(
            "expiredAuthToken",
            "The auth token has expired. Refresh it, or connect the account again.",
        ),
        Err(Refusal::Unknown) => bad_request(
            "invalidAuthToken",
            "The auth token is not valid for this integration",
        ),
    }
}

/// The body of the data calls (`PortfolioHoldingsRequest`, `BalanceBrokerBaseRequest`, the
/// history requests): the token and its type; the other documented fields are accepted.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // Accepted for fidelity; the emulator's answers do not depend on them.
struct DataRequest {
    auth_token: String,
    #[serde(rename = "type")]
    broker_type: String,
    include_market_value: Option<bool>,
    count: Option<u32>,
    cursor: Option<String>,
    statuses: Option<Value>,
    from: Option<i64>,
    cryptocurrency_address_type: Option<Value>,
}

/// Answers a data call: checks the keys, the body, the access token and `count` (Mesh's default
/// 100, at most 250), then answers with `content(account, count)`.
fn serve_data(
    state: &EmulatorState,
    headers: &HeaderMap,
    body: &[u8],
    content: fn(&Grant, usize) -> Value,
) -> Response {
    if !authorized(state, headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: DataRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => return bad_request("invalidRequest", &format!("Invalid request body: {e}")),
    };
    if request.auth_token.is_empty() {
        return bad_request("missingField", "AuthToken is required");
    }
    let count = match request.count.unwrap_or(100) {
        count @ 1..=250 => count as usize,
        _ => return bad_request("invalidField", "Count must be between 1 and 250"),
    };
    let checked = lock(&state.tokens).check_access(&request.auth_token, &request.broker_type);
    match checked {
        Ok(grant) => ok(content(&grant, count)),
        Err(Refusal::Expired) => bad_request(
            "expiredAuthToken",
            "The auth token has expired. Refresh it, or connect the account again.",
        ),
        Err(Refusal::Unknown) => bad_request(
            "invalidAuthToken",
            "The auth token is not valid for this integration",
        ),
    }
}

async fn holdings_get(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_data(&state, &headers, &body, |grant, _| {
        portfolio::holdings(grant)
    })
}

async fn balance_get(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_data(&state, &headers, &body, |grant, _| {
        portfolio::balances(grant)
    })
}

async fn transactions_list(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_data(&state, &headers, &body, portfolio::orders)
}

async fn transfers_list(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_data(&state, &headers, &body, portfolio::transfers)
}

/// `BrokerRefreshTokenRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // Accepted for fidelity; only the type, the token and rotation are read.
struct RefreshTokenRequest {
    #[serde(rename = "type")]
    broker_type: String,
    refresh_token: String,
    create_new_refresh_token: Option<bool>,
    access_token: Option<String>,
    trade_token: Option<String>,
    mfa_code: Option<String>,
    metadata: Option<Value>,
}

async fn token_refresh(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: RefreshTokenRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request("invalidRequest", &format!("Invalid request body: {e}")),
    };
    if request.refresh_token.is_empty() {
        return bad_request("missingField", "RefreshToken is required");
    }
    let mut tokens = lock(&state.tokens);
    // Rotating unless told not to, as the emulator always did.
    let rotate = request.create_new_refresh_token.unwrap_or(true);
    let pair = match tokens.refresh(&request.refresh_token, &request.broker_type, rotate) {
        Ok(pair) => pair,
        Err(Refusal::Expired) => {
            return bad_request(
                "expiredRefreshToken",
                "The refresh token has expired. Connect the account again.",
            );
        }
        Err(Refusal::Unknown) => {
            return bad_request(
                "invalidRefreshToken",
                "The refresh token is not valid for this integration",
            );
        }
    };
    let broker_name = Broker::find(&pair.grant.broker_type).map_or("", |b| b.name);
    ok(json!({
        "status": "succeeded",
        "expiresInSeconds": tokens.access_ttl().as_secs(),
        // The refresh token's life runs on when it was not replaced.
        "refreshTokenExpiresInSeconds": pair.refresh_token.is_some().then(|| REFRESH_TTL.as_secs()),
        "brokerAccountTokens": [{
            "account": {
                "accountId": pair.grant.account_id,
                "accountName": format!("{broker_name} {}", pair.grant.account_name),
            },
            "accessToken": pair.access_token,
            "refreshToken": pair.refresh_token,
            "tokenId": state.settings.managed_tokens.then(|| token_id(&pair.grant.account_id)),
        }],
    }))
}
