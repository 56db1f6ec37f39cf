//! `GET /api/v1/integrations`: the emulated brokers as Mesh lists its integrations, with the ids
//! a link token's `integrationId` names.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::brokers::BROKERS;
use super::reply::ok;
use super::state::{EmulatorState, authorized};

/// The integrations route.
pub fn routes() -> Router<Arc<EmulatorState>> {
    Router::new().route("/api/v1/integrations", get(integrations))
}

/// Every emulated broker as an `IntegrationModel`.
async fn integrations(State(state): State<Arc<EmulatorState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let items: Vec<_> = BROKERS
        .iter()
        .map(|broker| {
            json!({
                "id": broker.integration_id,
                "name": broker.name,
                "type": broker.broker_type,
                "categories": [broker.category],
                "logo": { "base64Logo": broker.logo_base64() },
                "cryptoTransfersSupported": broker.crypto_transfers,
            })
        })
        .collect();
    ok(json!({ "items": items }))
}
