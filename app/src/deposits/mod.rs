//! Feature: deposits through Link, to this app's addresses; the browser's `transferFinished` is a
//! hint, and Mesh's word (`server::deposits`) decides the final state.

mod model;
#[cfg(feature = "ssr")]
mod ssr;
mod view;

use leptos::prelude::*;

use crate::error::AppError;
use mesh_link::TransferFinishedPayload;
pub use model::{DepositFromConnection, DepositSettings, DepositSource, TransferLine};
pub use view::{DepositPage, DepositPanel};

/// The Deposit page with connected account `id` chosen as the source.
pub fn from_url(id: &str) -> String {
    format!("/deposit?from={id}")
}

/// The assets users may deposit, or 404 when no addresses are configured.
#[server(endpoint = "deposit_settings")]
pub async fn get_deposit_settings() -> Result<DepositSettings, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    ssr::configured(&state)?;
    Ok(DepositSettings {
        sources: ssr::deposit_sources(&state, &user).await,
        link: state.link_settings.clone(),
        assets: state
            .deposit_addresses
            .iter()
            .map(|a| format!("{} on {}", a.symbol, a.network.name))
            .collect(),
        emulated: state.deposit_addresses_emulated,
    })
}

/// A deposit of `amount` US dollars of asset number `asset` from the session user's connected
/// account `id`: a link token opened on its integration, and that account's token for Link (its
/// access token, renewed first if it expires soon, or under Mesh-managed tokens its `tokenId`).
#[server(endpoint = "create_deposit_from_connection")]
pub async fn create_deposit_from_connection(
    id: String,
    asset: usize,
    amount: String,
) -> Result<DepositFromConnection, AppError> {
    use server::deposits::from_connection::{Sources, deposit_from_connection};
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let id = server::vault::ConnectionId::parse(&id)?;
    let sources = Sources {
        mesh: &state.mesh,
        vault: &state.vault,
        integrations: &state.integrations,
        addresses: &state.deposit_addresses,
        managed_tokens: state.managed_tokens,
    };
    let from = deposit_from_connection(&sources, &user, &id, asset, &amount).await?;
    let token = from.token;
    Ok(DepositFromConnection {
        link_token: from.link_token,
        access_token: mesh_link::IntegrationAccessToken {
            account_id: token.account_id,
            account_name: token.account_name,
            access_token: secrecy::ExposeSecret::expose_secret(&token.access_token).to_string(),
            broker_type: token.broker_type,
            broker_name: token.broker_name,
        },
    })
}

/// A link token that opens Link on a deposit of `amount` US dollars of asset number `asset`
/// (in [`get_deposit_settings`]'s order) to this app's address for it.
#[server(endpoint = "create_deposit_link_token")]
pub async fn create_deposit_link_token(asset: usize, amount: String) -> Result<String, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let request =
        server::deposits::reports::deposit_request(&state.deposit_addresses, user, asset, &amount)?;
    state
        .mesh
        .create_link_token(&request)
        .await
        .map(|content| content.link_token)
        .map_err(AppError::from)
}

/// Records what Link's `transferFinished` said, as reported by the browser (never final), and
/// returns the user's transfers.
#[server(endpoint = "report_transfer", input = server_fn::codec::Json)]
pub async fn report_transfer(
    payload: TransferFinishedPayload,
) -> Result<Vec<TransferLine>, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let report = server::deposits::reports::TransferReport {
        transfer_id: payload.transfer_id.unwrap_or(payload.tx_id),
        symbol: payload.symbol,
        network_name: payload.network_name,
        to_address: payload.to_address,
        amount: payload.amount.to_string(),
        tx_hash: payload.tx_hash,
    };
    server::deposits::reports::record_report(&state.vault, &state.deposit_addresses, &user, report)
        .await?;
    ssr::transfer_lines(&state, &user).await
}

/// The session user's latest transfers, newest first.
#[server(endpoint = "list_transfers")]
pub async fn list_transfers() -> Result<Vec<TransferLine>, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    ssr::transfer_lines(&state, &user).await
}
