//! The emulated Link UI: the page a link token points to, and the sign-in calls it makes to its
//! own origin. Tokens are issued here only for host origins in the allowed list.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::brokers::{self, Broker, SANDBOX_MFA_CODE, SANDBOX_PASSWORD};
use super::state::{EmulatorState, RedeemError, lock};
use super::tokens::{Grant, Pair, Refusal};
use super::wire::Network;

const PAGE: &str = include_str!("link_page.html");

/// The Link page and its sign-in API (the transfer steps are `link_transfer`'s).
pub fn routes() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/b2b-iframe/{client_id}/broker-connect", get(link_page))
        .route("/_link/{session}/sign-in", post(sign_in))
        .route("/_link/{session}/mfa", post(submit_mfa))
        .route("/_link/{session}/access-tokens", post(access_tokens))
}

#[derive(Deserialize)]
struct PageQuery {
    auth_code: Option<String>,
    lng: Option<String>,
    th: Option<String>,
    rt: Option<String>,
}

async fn link_page(
    State(state): State<Arc<EmulatorState>>,
    Path(client_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let redeemed = if client_id != state.settings.client_id {
        Err(RedeemError::Unknown)
    } else {
        state.redeem_link_session(query.auth_code.as_deref().unwrap_or_default())
    };
    let mut transfer_steps = None;
    let mut integration = None;
    let (session, error) = match redeemed {
        Ok(redeemed) => {
            integration = redeemed.integration.map(|broker| {
                json!({
                    "brokerType": broker.broker_type,
                    "name": broker.name,
                    "logo": broker.logo_base64(),
                })
            });
            transfer_steps = redeemed.transfer.as_ref().map(|options| {
                json!({
                    "assets": options.to_addresses.iter().map(|to| json!({
                        "symbol": to.symbol,
                        "networkName": Network::find(&to.network_id).map(|n| n.name),
                    })).collect::<Vec<_>>(),
                })
            });
            (Some(state.open_ui_session(redeemed)), None)
        }
        Err(RedeemError::Used) => (
            None,
            Some("This link token was already used. Link tokens work once: request a new one."),
        ),
        Err(RedeemError::Expired) => (
            None,
            Some("This link token has expired. Link tokens last 10 minutes: request a new one."),
        ),
        Err(RedeemError::Unknown) => (None, Some("This link token is not valid.")),
    };
    let config = json!({
        "session": session,
        "error": error,
        "allowedOrigins": state.settings.allowed_origins,
        "brokers": brokers::catalog(),
        "lng": query.lng.unwrap_or_else(|| "en".into()),
        "th": query.th.unwrap_or_else(|| "light".into()),
        "embedded": query.rt.as_deref() == Some("embedded"),
        "transfer": transfer_steps,
        "integration": integration,
    });
    // JSON inside <script>: escape `<` so no value can close the element.
    let config = config.to_string().replace('<', "\\u003c");
    // Like Mesh's Link page, only the allowed origins may frame it.
    let ancestors = match state.settings.allowed_origins.join(" ") {
        none if none.is_empty() => "frame-ancestors 'none'".to_string(),
        origins => format!("frame-ancestors {origins}"),
    };
    (
        [
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::CONTENT_SECURITY_POLICY, ancestors),
        ],
        Html(PAGE.replace("{{CONFIG}}", &config)),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    broker_type: String,
    username: String,
    password: String,
    host_origin: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MfaCode {
    code: String,
    host_origin: String,
}

/// A refusal the Link page shows on screen: `{status: "error", errorMessage}`.
pub(crate) type LinkUiError = (StatusCode, Json<Value>);

/// The refusal `message` with `status`.
pub(crate) fn link_error(status: StatusCode, message: &str) -> LinkUiError {
    (
        status,
        Json(json!({ "status": "error", "errorMessage": message })),
    )
}

/// Checks the session and the host origin; returns the session's user id.
pub(crate) fn authorize(
    state: &EmulatorState,
    session: &str,
    host_origin: &str,
) -> Result<String, LinkUiError> {
    let user_id = state
        .ui_session_user(session)
        .ok_or_else(|| link_error(StatusCode::NOT_FOUND, "This Link session has ended."))?;
    if !state
        .settings
        .allowed_origins
        .iter()
        .any(|o| o == host_origin)
    {
        return Err(link_error(
            StatusCode::FORBIDDEN,
            &format!("Domain not allowed: {host_origin} is not in this client's allowed domains."),
        ));
    }
    Ok(user_id)
}

/// `frontAccessTokens`, as the host page handed them to Link.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessTokens {
    access_tokens: Vec<IntegrationAccessToken>,
    host_origin: String,
}

/// One `IntegrationAccessToken` of the SDK's `accessTokens` option.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Accepted as the SDK sends it; the emulator checks the token and its type.
struct IntegrationAccessToken {
    account_id: String,
    account_name: String,
    access_token: String,
    broker_type: String,
    broker_name: String,
}

/// A returning user's tokens for a session opened on one integration with a transfer: a valid
/// token of that integration (an access token, or under managed tokens a `tokenId`) signs the
/// session in, so Link goes straight to the transfer. Anything else (unknown, revoked or expired,
/// another broker's, or a session with no integration or no transfer) leaves the sign-in to the
/// user, as Mesh does: the answer says `signIn`, with the reason.
async fn access_tokens(
    State(state): State<Arc<EmulatorState>>,
    Path(session): Path<String>,
    Json(request): Json<AccessTokens>,
) -> Response {
    if let Err(refusal) = authorize(&state, &session, &request.host_origin) {
        return refusal.into_response();
    }
    let sign_in =
        |reason: &str| Json(json!({ "status": "signIn", "reason": reason })).into_response();
    let Some((broker, true)) = state.ui_session_integration(&session) else {
        return sign_in("This Link session is not a transfer from one integration.");
    };
    let mut reason = "No token of this integration was handed over.";
    for token in request
        .access_tokens
        .iter()
        .filter(|t| t.broker_type == broker.broker_type)
    {
        match lock(&state.tokens).check_access(&token.access_token, broker.broker_type) {
            Ok(grant) => {
                state.signed_in(&session, broker.broker_type, &grant.username);
                return Json(json!({ "status": "connected", "brokerName": broker.name }))
                    .into_response();
            }
            Err(Refusal::Expired) => reason = "The token handed over has expired.",
            Err(Refusal::Unknown) => {
                reason = "The token handed over is not valid (revoked or never issued)."
            }
        }
    }
    sign_in(reason)
}

async fn sign_in(
    State(state): State<Arc<EmulatorState>>,
    Path(session): Path<String>,
    Json(request): Json<SignIn>,
) -> Response {
    let user_id = match authorize(&state, &session, &request.host_origin) {
        Ok(user_id) => user_id,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(broker) = Broker::find(&request.broker_type) else {
        return link_error(StatusCode::BAD_REQUEST, "Unknown integration.").into_response();
    };
    if brokers::sandbox_portfolio(&request.username).is_none()
        || request.password != SANDBOX_PASSWORD
    {
        return link_error(
            StatusCode::UNAUTHORIZED,
            "Invalid username or password. Sandbox logins: Mesh, Mesh2, Mesh3, Mesh4 with password Pass123.",
        ).into_response();
    }
    if broker.needs_mfa {
        state.await_mfa(&session, broker.broker_type, &request.username);
        return Json(json!({ "status": "mfaRequired" })).into_response();
    }
    state.signed_in(&session, broker.broker_type, &request.username);
    connected(&state, &user_id, broker, &request.username)
}

async fn submit_mfa(
    State(state): State<Arc<EmulatorState>>,
    Path(session): Path<String>,
    Json(request): Json<MfaCode>,
) -> Response {
    let user_id = match authorize(&state, &session, &request.host_origin) {
        Ok(user_id) => user_id,
        Err(refusal) => return refusal.into_response(),
    };
    let Some((broker_type, username)) = state.pending_mfa(&session) else {
        return link_error(StatusCode::BAD_REQUEST, "No sign-in is waiting for a code.")
            .into_response();
    };
    if request.code.trim() != SANDBOX_MFA_CODE {
        return link_error(
            StatusCode::UNAUTHORIZED,
            "Invalid code. The sandbox code is 123456.",
        )
        .into_response();
    }
    let Some(broker) = Broker::find(&broker_type) else {
        return link_error(StatusCode::BAD_REQUEST, "Unknown integration.").into_response();
    };
    state.clear_mfa(&session);
    state.signed_in(&session, broker.broker_type, &username);
    connected(&state, &user_id, broker, &username)
}

fn connected(state: &EmulatorState, user_id: &str, broker: &Broker, username: &str) -> Response {
    let accounts: Vec<(Pair, bool)> = broker
        .accounts
        .iter()
        .map(|name| {
            let grant = Grant {
                broker_type: broker.broker_type.to_string(),
                username: username.to_string(),
                account_id: format!(
                    "{}-{}-{}",
                    broker.broker_type,
                    username.to_lowercase(),
                    name.to_lowercase().replace(' ', "-")
                ),
                account_name: (*name).to_string(),
            };
            state.issue_tokens(user_id, grant, broker.refreshable)
        })
        .collect();
    let ttl = lock(&state.tokens).access_ttl();
    let payload: Value = brokers::access_token_payload(
        broker,
        username,
        &accounts,
        ttl,
        state.settings.managed_tokens,
    );
    Json(json!({ "status": "connected", "payload": payload })).into_response()
}
