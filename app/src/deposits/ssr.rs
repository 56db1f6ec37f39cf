//! Server-side work of the deposits page: whether deposits are set up, and the transfers list as
//! the user reads it.

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use server::clock::unix_now;
use server::mesh::sends_crypto;
use server::vault::{DepositStatus, StoredTransfer};

use crate::deposits::{DepositSource, TransferLine};
use crate::error::AppError;
use crate::state::AppState;
use server::deposits::reconcile::SCHEDULE;

/// How many transfers the page lists.
const LISTED_TRANSFERS: i64 = 20;

/// 404 when this server takes no deposits (no `DEPOSIT_ADDRESSES` outside the emulator).
pub fn configured(state: &AppState) -> Result<(), AppError> {
    if state.deposit_addresses.is_empty() {
        return Err(server::deposits::reports::DepositError::NotConfigured.into());
    }
    Ok(())
}

/// The user's connected accounts a deposit can come from (Mesh's integrations list says which
/// can send crypto; when it cannot be read, none are offered and connecting another still is).
pub async fn deposit_sources(state: &AppState, user: &str) -> Vec<DepositSource> {
    let Some(integrations) = state.integrations.get(&state.mesh).await else {
        return Vec::new();
    };
    let connections = match state.vault.list(user).await {
        Ok(connections) => connections,
        Err(error) => {
            tracing::error!(%error, "could not list the deposit sources");
            return Vec::new();
        }
    };
    connections
        .into_iter()
        .filter(|c| !c.is_pending() && !c.needs_reconnect)
        .filter(|c| sends_crypto(&integrations, &c.broker_type).is_some())
        .map(|c| DepositSource {
            label: c.account_name.unwrap_or(c.broker_name),
            id: c.id,
        })
        .collect()
}

/// The user's latest transfers as the page shows them.
pub async fn transfer_lines(state: &AppState, user: &str) -> Result<Vec<TransferLine>, AppError> {
    state
        .vault
        .transfers_of(user, LISTED_TRANSFERS)
        .await
        .map(|list| {
            let now = unix_now();
            list.into_iter()
                .map(|transfer| line(transfer, now))
                .collect()
        })
        .map_err(AppError::from)
}

fn line(transfer: StoredTransfer, now: i64) -> TransferLine {
    let status = DepositStatus::parse(&transfer.status).unwrap_or(DepositStatus::Reported);
    let unconfirmed_for =
        Duration::from_secs(now.saturating_sub(transfer.updated_at).max(0) as u64);
    let given_up =
        status == DepositStatus::Reported && unconfirmed_for > SCHEDULE.reports_checked_for;
    let note = match status {
        DepositStatus::Reported if given_up => {
            "Mesh had no record of it a day after Link reported it, so it is no longer checked. If the exchange shows it as sent, contact support with its transaction."
        }
        DepositStatus::Reported => "Link says it was sent; waiting for Mesh to confirm it.",
        DepositStatus::Pending => "Mesh confirmed it is on its way.",
        DepositStatus::Succeeded => "Arrived: Mesh confirmed the deposit.",
        DepositStatus::Failed => {
            "The exchange did not complete this transfer, so nothing was deposited. Check the exchange account, then try again."
        }
    };
    let symbol = transfer.symbol.unwrap_or_default();
    let amount = transfer
        .amount
        .and_then(|amount| Decimal::from_str(&amount).ok())
        .map(|amount| format!("{} {symbol}", crate::format::quantity(amount)))
        .unwrap_or(symbol);
    TransferLine {
        id: transfer.transfer_id,
        amount,
        network: transfer.network.unwrap_or_default(),
        status: status.as_str().to_string(),
        note: note.to_string(),
        updated: crate::format::minute(transfer.updated_at),
        open: matches!(status, DepositStatus::Reported | DepositStatus::Pending) && !given_up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_mesh_never_confirmed_says_it_is_no_longer_checked() {
        let reported = StoredTransfer {
            transfer_id: "t-1".into(),
            status: "reported".into(),
            symbol: Some("USDC".into()),
            network: Some("Ethereum".into()),
            amount: Some("40.00".into()),
            destination: None,
            tx_hash: None,
            updated_at: 1_000,
        };
        let day = SCHEDULE.reports_checked_for.as_secs() as i64;
        let fresh = line(reported.clone(), 1_000 + day);
        assert!(fresh.note.contains("waiting for Mesh"), "{}", fresh.note);
        assert_eq!(fresh.amount, "40 USDC");
        assert!(fresh.open);
        let stale = line(reported, 1_001 + day);
        assert!(stale.note.contains("no longer checked"), "{}", stale.note);
        assert!(!stale.open, "the page stops reading the list again for it");
    }
}
