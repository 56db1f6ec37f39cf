//! Reconciliation: asks Mesh (`GET /api/v1/transfers/managed/mesh`) about every transfer not yet
//! final, so a deposit reaches its final state without webhooks too.

use std::time::Duration;

use std::sync::Arc;

use crate::clock::unix_now;
use crate::mesh::{ManagedTransfer, MeshClient};
use crate::vault::{CheckSchedule, DepositStatus, TokenVault, TransferUpdate};

/// How often each instance looks for transfers due to be asked about.
pub const TICK: Duration = Duration::from_secs(2);

/// Asked about at once after a report or a change, then 2 s later, doubling up to 5 minutes
/// once Mesh has confirmed the transfer, up to an hour while it has not; a report Mesh has not
/// confirmed within a day is no longer asked about. So a made-up report costs about 34 Mesh
/// calls: 11 in its first hour, then one an hour.
pub const SCHEDULE: CheckSchedule = CheckSchedule {
    first_wait: Duration::from_secs(2),
    longest_wait: Duration::from_secs(300),
    longest_wait_unconfirmed: Duration::from_secs(3600),
    reports_checked_for: Duration::from_secs(24 * 60 * 60),
};

/// Most transfers asked about per round.
const PER_ROUND: i64 = 50;

// Local development has no public URL for Mesh to call, and a delivery can be lost. The schedule
// is stored with each transfer, so several instances share it: each transfer is asked about by one
// of them, soon after a report or a change, then less and less often while nothing changes.
/// Starts the polling task. Call it inside the Tokio runtime.
pub fn spawn_reconciler(mesh: MeshClient, vault: Arc<TokenVault>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            reconcile_once(&mesh, &vault).await;
        }
    });
}

/// What one round found.
#[derive(Debug, PartialEq, Eq)]
pub enum Round {
    /// At least one transfer moved on.
    Changed,
    /// Transfers were asked about, none moved.
    Unchanged,
    /// No open transfer was due.
    NothingDue,
}

/// Claims the open transfers due to be asked about, asks Mesh once about each and applies what
/// it says.
pub async fn reconcile_once(mesh: &MeshClient, vault: &TokenVault) -> Round {
    let due = match vault
        .claim_due_transfers(unix_now(), &SCHEDULE, PER_ROUND)
        .await
    {
        Ok(due) if due.is_empty() => return Round::NothingDue,
        Ok(due) => due,
        Err(error) => {
            tracing::error!(%error, "could not read the open transfers");
            return Round::Unchanged;
        }
    };
    let mut changed = false;
    for transfer_id in due {
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
