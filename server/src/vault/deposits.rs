//! Deposits and the webhook deliveries that confirm them. A transfer's state only moves forward
//! (see [`DepositStatus::rank`]); every verified delivery is stored before it is answered, once
//! per `EventId`, and applied afterwards.

use std::time::Duration;

use super::{Store, TokenVault, VaultError};

mod queries;

use queries::postgres;
pub(super) use queries::sqlite;

/// A verified webhook delivery to store (see `TokenVault::record_webhook`).
#[derive(Debug)]
pub(crate) struct WebhookDelivery {
    pub event_id: String,
    pub body: String,
    pub now: i64,
}

/// Where a deposit stands, as far as this app knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepositStatus {
    /// The browser said Link finished it: a hint, never final.
    Reported,
    /// Mesh says it is under way.
    Pending,
    /// Mesh says it arrived.
    Succeeded,
    /// Mesh says it did not happen.
    Failed,
}

impl DepositStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Reported, Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// The order states move in: an update applies only to a transfer of a lower rank, so a
    /// late `pending` never undoes `succeeded`, and a final state is never changed.
    pub fn rank(self) -> i64 {
        match self {
            Self::Reported => 0,
            Self::Pending => 1,
            Self::Succeeded | Self::Failed => 2,
        }
    }
}

/// How reconciliation spaces its questions to Mesh about each open transfer.
#[derive(Clone, Copy, Debug)]
pub struct CheckSchedule {
    /// The wait after the first question (after a report or a change of state); doubled after
    /// each answer that changes nothing.
    pub first_wait: Duration,
    /// The longest wait between two questions about a transfer Mesh has confirmed.
    pub longest_wait: Duration,
    /// The longest wait between two questions about a browser's report Mesh has not confirmed
    /// (longer: such a report may be made up, and each question is a Mesh call).
    pub longest_wait_unconfirmed: Duration,
    /// How long a browser's report is asked about while Mesh has not confirmed it: anyone can
    /// make one up, and it must not cost Mesh calls for ever.
    pub reports_checked_for: Duration,
}

/// A transfer's new state, with what the reporter knows of it (unknown fields keep their value).
#[derive(Clone, Debug)]
pub struct TransferUpdate {
    /// Mesh's transfer id.
    pub transfer_id: String,
    /// The user the transfer belongs to (the link token's `userId`).
    pub user_id: String,
    /// The new state.
    pub status: DepositStatus,
    /// The asset's symbol.
    pub symbol: Option<String>,
    /// The network.
    pub network: Option<String>,
    /// The amount, exact decimal text.
    pub amount: Option<String>,
    /// The receiving address.
    pub destination: Option<String>,
    /// The on-chain transaction.
    pub tx_hash: Option<String>,
    /// When (Unix seconds).
    pub at: i64,
}

/// A stored transfer.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredTransfer {
    /// Mesh's transfer id.
    pub transfer_id: String,
    /// The state's stored spelling (see [`DepositStatus::parse`]).
    pub status: String,
    /// The asset's symbol.
    pub symbol: Option<String>,
    /// The network.
    pub network: Option<String>,
    /// The amount, exact decimal text.
    pub amount: Option<String>,
    /// The receiving address.
    pub destination: Option<String>,
    /// The on-chain transaction.
    pub tx_hash: Option<String>,
    /// When the state last changed (Unix seconds).
    pub updated_at: i64,
}

impl TokenVault {
    /// Stores a verified webhook delivery; false when its event was stored before (a retry).
    pub async fn record_webhook(
        &self,
        event_id: &str,
        body: &str,
        now: i64,
    ) -> Result<bool, VaultError> {
        Ok(match &self.store {
            // In the writer's next group commit: a burst of deliveries shares one fsync.
            Store::Sqlite { writer, .. } => {
                writer
                    .record_webhook(WebhookDelivery {
                        event_id: event_id.into(),
                        body: body.into(),
                        now,
                    })
                    .await?
            }
            Store::Postgres(pool) => {
                postgres::record_webhook(&mut *pool.acquire().await?, event_id, body, now).await?
            }
        })
    }

    /// Up to `limit` stored deliveries not yet applied, oldest first: `(event id, body)`.
    pub async fn unprocessed_webhooks(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String)>, VaultError> {
        Ok(on_store!(self, unprocessed_webhooks(limit))?)
    }

    /// Applies stored deliveries, each with its update (none for a state this app does not act
    /// on), and marks them processed, in one transaction. One whose update the database refuses
    /// is set aside (marked processed, with the reason in `set_aside_reason`) instead of
    /// blocking the rest; returns those, as `(event id, reason)`.
    pub async fn apply_webhooks(
        &self,
        events: &[(String, Option<TransferUpdate>)],
        now: i64,
    ) -> Result<Vec<(String, String)>, VaultError> {
        Ok(on_store!(self, apply_webhooks(events, now))?)
    }

    /// Records a transfer's new state unless it already stands at that rank or beyond, or
    /// belongs to another user; true when applied. Only a browser's report (rank 0, which
    /// anyone can make up) may be taken over by Mesh's word for another user.
    pub async fn apply_transfer(&self, update: &TransferUpdate) -> Result<bool, VaultError> {
        Ok(on_store!(self, apply_transfer(update))?)
    }

    /// Claims up to `limit` transfers not yet final whose check is due at `now` (Unix seconds),
    /// for reconciliation to ask Mesh about; reports older than `schedule.reports_checked_for`
    /// are left alone. Each claimed transfer gets its next check on `schedule`, and no instance
    /// claims it again before then.
    pub async fn claim_due_transfers(
        &self,
        now: i64,
        schedule: &CheckSchedule,
        limit: i64,
    ) -> Result<Vec<String>, VaultError> {
        // The schedule in the database's units: two waits in seconds, and the oldest report
        // still checked as a Unix time.
        let in_seconds = [
            seconds(schedule.first_wait),
            seconds(schedule.longest_wait),
            now - seconds(schedule.reports_checked_for),
            seconds(schedule.longest_wait_unconfirmed),
        ];
        Ok(on_store!(
            self,
            claim_due_transfers(now, in_seconds, limit)
        )?)
    }

    /// How many of the user's browser reports Mesh has not confirmed and are still checked at
    /// `now` on `schedule`, leaving out transfer `except` (the one being reported).
    pub async fn open_reports(
        &self,
        user_id: &str,
        now: i64,
        schedule: &CheckSchedule,
        except: &str,
    ) -> Result<u64, VaultError> {
        let reported_since = now - seconds(schedule.reports_checked_for);
        let count = on_store!(self, open_reports(user_id, reported_since, except))?;
        Ok(count.max(0) as u64)
    }

    /// The user's latest `limit` transfers, newest first.
    pub async fn transfers_of(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredTransfer>, VaultError> {
        Ok(on_store!(self, transfers_of(user_id, limit))?)
    }
}

/// A wait in whole seconds, at least one.
fn seconds(wait: Duration) -> i64 {
    i64::try_from(wait.as_secs()).unwrap_or(i64::MAX).max(1)
}
