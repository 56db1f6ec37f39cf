//! Server-side work of the accounts feature: what the browser may see of a connection.

use std::sync::Arc;

use server::mesh::sends_crypto;
use server::vault::Connection;

use crate::accounts::ConnectionSummary;
use crate::state::AppState;

/// An amount in US dollars as Link reported it, to the cent.
fn dollars(amount: rust_decimal::Decimal) -> String {
    crate::format::money(amount, "USD")
}

/// What the browser may see of the stored connections. Whether a deposit can come from each is
/// read off Mesh's integrations list as cached, without waiting for Mesh.
pub fn summaries(state: &Arc<AppState>, connections: Vec<Connection>) -> Vec<ConnectionSummary> {
    let integrations = if state.deposit_addresses.is_empty() {
        None
    } else {
        state.integrations.peek(&state.mesh)
    };
    connections
        .into_iter()
        .map(|connection| {
            let can_deposit = !connection.is_pending()
                && !connection.needs_reconnect
                && integrations
                    .as_deref()
                    .is_some_and(|list| sends_crypto(list, &connection.broker_type).is_some());
            summary(connection, can_deposit)
        })
        .collect()
}

/// What the browser may see of a stored connection.
fn summary(connection: Connection, can_deposit: bool) -> ConnectionSummary {
    ConnectionSummary {
        can_deposit,
        pending: connection.is_pending(),
        id: connection.id,
        broker_type: connection.broker_type,
        broker_name: connection.broker_name,
        logo_url: connection
            .logo_hash
            .map(|hash| format!("{}/{hash}", server::edge::logos::LOGOS_PATH)),
        account_name: connection.account_name,
        cash: connection.cash.map(dollars),
        fund: connection.fund.map(dollars),
        connected: crate::format::minute(connection.connected_at),
        expires: connection.expires_at.map(crate::format::minute),
        needs_reconnect: connection.needs_reconnect,
    }
}
