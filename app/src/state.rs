//! Shared server state, handed to server functions as context.

use leptos::prelude::*;
use std::sync::Arc;

use server::mesh::MeshClient;
use server::session::UserId;
use server::vault::TokenVault;

use crate::error::AppError;
use crate::link_settings::LinkSettings;

/// Everything server functions share: the Mesh client, the token vault and what the browser
/// may know.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Mesh (or emulator) API client.
    pub mesh: MeshClient,
    /// Encrypted storage of broker connections.
    pub vault: Arc<TokenVault>,
    /// The settings the Link client needs.
    pub link_settings: LinkSettings,
    /// The secret Mesh signs its webhooks with (`MESH_WEBHOOK_SECRET`): without it there is no
    /// webhook route.
    pub webhook_secret: Option<secrecy::SecretString>,
    /// Where deposits go (`DEPOSIT_ADDRESSES`); empty means no Deposit page.
    pub deposit_addresses: Vec<server::config::DepositAddress>,
    /// True when the addresses are the emulator's stand-ins.
    pub deposit_addresses_emulated: bool,
    /// Mesh's integrations list, cached: which connected accounts can send crypto, and the
    /// `integrationId` a deposit from one opens Link on.
    pub integrations: Arc<server::mesh::IntegrationCache>,
    /// The Mesh account uses Mesh-managed tokens (`MESH_MANAGED_TOKENS`).
    pub managed_tokens: bool,
}

/// The [`AppState`] provided by the router (shared: providing it costs a reference count per
/// request, not a copy of the Mesh client and settings).
pub fn app_state() -> Result<Arc<AppState>, AppError> {
    use_context::<Arc<AppState>>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::internal()
    })
}

/// The session's user id, put in the request by the session middleware.
pub fn current_user() -> Result<UserId, AppError> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<UserId>().copied())
        .ok_or_else(|| {
            tracing::error!("no UserId in the request: is the session middleware installed?");
            AppError::internal()
        })
}
