//! The accounts' server functions: save what Link captured, list, disconnect.

use leptos::prelude::*;

use crate::accounts::ConnectionSummary;
use crate::error::AppError;
use mesh_link::IntegrationConnected;

/// Stores the accounts (or the delayed authentication) Link handed over, all or none, and
/// returns their summaries.
#[server(endpoint = "save_connection", input = server_fn::codec::Json)]
pub async fn save_connection(
    payload: IntegrationConnected,
) -> Result<Vec<ConnectionSummary>, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let saved = match payload {
        IntegrationConnected::AccessToken(payload) => {
            let accounts = super::validation::validate_accounts(payload)?;
            state.vault.save_accounts(&user, accounts).await
        }
        IntegrationConnected::DelayedAuth(payload) => {
            let pending = super::validation::validate_pending(payload)?;
            state
                .vault
                .save_pending(&user, pending)
                .await
                .map(|c| vec![c])
        }
    };
    saved
        .map(|list| super::ssr::summaries(&state, list))
        .map_err(AppError::from)
}

/// The session user's connections.
#[server(endpoint = "list_connections")]
pub async fn list_connections() -> Result<Vec<ConnectionSummary>, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    state
        .vault
        .list(&user)
        .await
        .map(|list| super::ssr::summaries(&state, list))
        .map_err(AppError::from)
}

/// Revokes connection `id` at Mesh, then deletes it. If Mesh answers that the token is no
/// longer valid it is deleted anyway; if Mesh refuses our keys or cannot be reached it is kept.
#[server(endpoint = "disconnect")]
pub async fn disconnect(id: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let id = server::vault::ConnectionId::parse(&id)?;
    if server::accounts::revoke_and_delete(&state.mesh, &state.vault, &user, id.as_str()).await? {
        Ok(())
    } else {
        Err(AppError::new(
            crate::error::ErrorKind::NotFound,
            "That connection does not exist (it may already be disconnected).",
        ))
    }
}
