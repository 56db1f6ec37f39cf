//! Feature: what a connected account holds, read from Mesh with the stored token and formatted on
//! the server (`get_portfolio`), and renewing the account's sign-in (`refresh_connection`).

mod model;
#[cfg(feature = "ssr")]
mod read;
mod view;

use leptos::prelude::*;

use crate::error::AppError;
pub use model::{BalanceLine, HistoryLine, HoldingLine, Portfolio};
pub use view::{PortfolioPage, RefreshButton};

/// Where the portfolio of connection `id` is shown.
pub fn page_url(id: &str) -> String {
    format!("/accounts/{id}")
}

/// Balances, holdings and recent history of the session user's connection `id`, as Mesh
/// reports them now.
#[server(endpoint = "portfolio")]
pub async fn get_portfolio(id: String) -> Result<Portfolio, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let id = server::vault::ConnectionId::parse(&id)?;
    read::portfolio(&state, &user, id.as_str()).await
}

/// Renews the sign-in of the session user's connection `id` at Mesh now (and redeems a
/// delayed authentication). Returns the page to show next: the account's portfolio, or the
/// accounts list when a delayed authentication became accounts. Posted as a plain form, it
/// answers with a redirect to that page.
#[server(endpoint = "refresh_connection")]
pub async fn refresh_connection(id: String) -> Result<String, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let id = server::vault::ConnectionId::parse(&id)?;
    let found = state.vault.find_with_tokens(&user, id.as_str()).await?;
    let Some((connection, tokens)) = found else {
        return Err(AppError::new(
            crate::error::ErrorKind::NotFound,
            "That connection does not exist (it may have been disconnected).",
        ));
    };
    if tokens.refresh_token.is_none() {
        // Nothing to renew (the broker's tokens do not expire): reading again is the refresh.
        return Ok(page_url(id.as_str()));
    }
    server::tokens::refresh_now(&state.mesh, &state.vault, &user, id.as_str()).await?;
    let next = if connection.is_pending() {
        "/".to_string()
    } else {
        page_url(id.as_str())
    };
    if crate::error::ssr::is_form_post() {
        leptos_axum::redirect(&next);
    }
    Ok(next)
}
