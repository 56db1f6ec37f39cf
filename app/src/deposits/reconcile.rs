//! Reconciliation: asks Mesh (`GET /api/v1/transfers/managed/mesh`) about every transfer not
//! yet final, so a deposit reaches its final state without webhooks too (local development has
//! no public URL for Mesh to call; a delivery can be lost). Polls soon after a browser reports
//! a transfer, then backs off while nothing changes.

use std::time::Duration;

use server::clock::unix_now;
use server::mesh::{ManagedTransfer, MeshClient};
use server::vault::{DepositStatus, TokenVault, TransferUpdate};

use crate::state::AppState;

/// The first wait after a report or a change.
pub const FIRST_POLL_AFTER: Duration = Duration::from_secs(2);

/// The longest wait between polls while transfers stay open (and the sweep when none are).
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// Most transfers asked about per round.
const PER_ROUND: i64 = 50;

/// Starts the polling task. Call it inside the Tokio runtime.
pub fn spawn_reconciler(state: AppState) {
    tokio::spawn(async move {
        let mut wait = FIRST_POLL_AFTER;
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // A new report: ask about it after the first wait (Mesh's webhook usually comes
                // first), not at the end of a long back-off.
                () = state.transfer_reported.notified() => {
                    wait = FIRST_POLL_AFTER;
                    continue;
                }
            }
            wait = match reconcile_once(&state.mesh, &state.vault).await {
                Round::Changed => FIRST_POLL_AFTER,
                Round::Unchanged => (wait * 2).min(MAX_POLL_INTERVAL),
                Round::NothingOpen => MAX_POLL_INTERVAL,
            };
        }
    });
}

/// What one round found.
#[derive(Debug, PartialEq, Eq)]
pub enum Round {
    /// At least one transfer moved on.
    Changed,
    /// Transfers are open, none moved.
    Unchanged,
    /// No transfer is open.
    NothingOpen,
}

/// Asks Mesh once about each open transfer and applies what it says.
pub async fn reconcile_once(mesh: &MeshClient, vault: &TokenVault) -> Round {
    let open = match vault.open_transfers(PER_ROUND).await {
        Ok(open) if open.is_empty() => return Round::NothingOpen,
        Ok(open) => open,
        Err(error) => {
            tracing::error!(%error, "could not read the open transfers");
            return Round::Unchanged;
        }
    };
    let mut changed = false;
    for transfer_id in open {
        let update = match mesh.managed_transfer(&transfer_id).await {
            Ok(Some(transfer)) => update_from(transfer),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, transfer = %transfer_id, "Mesh could not say how a transfer stands");
                None
            }
        };
        let Some(update) = update else { continue };
        match vault.apply_transfer(&update).await {
            Ok(applied) => changed |= applied,
            Err(error) => tracing::error!(%error, "could not record a transfer's state"),
        }
    }
    if changed {
        Round::Changed
    } else {
        Round::Unchanged
    }
}

/// The update Mesh's answer makes, if it names a state and a user.
fn update_from(transfer: ManagedTransfer) -> Option<TransferUpdate> {
    let status = DepositStatus::parse(&transfer.status.to_ascii_lowercase())
        .filter(|status| *status != DepositStatus::Reported)?;
    Some(TransferUpdate {
        transfer_id: transfer.id,
        user_id: transfer.user_id?,
        status,
        symbol: transfer.symbol,
        network: transfer.network_name,
        amount: transfer
            .destination_amount
            .or(transfer.amount)
            .map(|amount| amount.0.normalize().to_string()),
        destination: None,
        tx_hash: transfer.hash.filter(|hash| !hash.is_empty()),
        at: unix_now(),
    })
}
