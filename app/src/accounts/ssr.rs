//! Server-side work of the accounts feature: what the browser may see of a connection.

use server::vault::Connection;

use crate::accounts::ConnectionSummary;

/// An amount in US dollars as Link reported it, to the cent.
fn dollars(amount: rust_decimal::Decimal) -> String {
    crate::format::money(amount, "USD")
}

/// What the browser may see of a stored connection.
pub fn summary(connection: Connection) -> ConnectionSummary {
    ConnectionSummary {
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
