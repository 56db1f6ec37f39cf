//! Deposits and the webhook deliveries that confirm them. A transfer's state only moves forward
//! (see [`DepositStatus::rank`]); every verified delivery is stored before it is answered, once
//! per `EventId`, and applied afterwards.

use std::time::Duration;

use super::{Store, TokenVault, VaultError};

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

/// The queries, written once for both databases; `$skip_locked` is PostgreSQL's row-lock
/// clause for claims (SQLite runs one writer at a time, so it needs none).
macro_rules! transfer_queries {
    ($db:ty, $skip_locked:literal) => {
        use super::{StoredTransfer, TransferUpdate};

        type Pool = sqlx::Pool<$db>;
        type DbConnection = <$db as sqlx::Database>::Connection;

        pub(in crate::vault) async fn record_webhook(
            conn: &mut DbConnection,
            event_id: &str,
            body: &str,
            now: i64,
        ) -> Result<bool, sqlx::Error> {
            let deliveries: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_events (event_id, body, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (event_id) DO UPDATE \
                 SET deliveries = webhook_events.deliveries + 1 \
                 RETURNING deliveries",
            )
            .bind(event_id)
            .bind(body)
            .bind(now)
            .fetch_one(conn)
            .await?;
            Ok(deliveries == 1)
        }

        pub(super) async fn unprocessed_webhooks(
            pool: &Pool,
            limit: i64,
        ) -> Result<Vec<(String, String)>, sqlx::Error> {
            sqlx::query_as(
                "SELECT event_id, body FROM webhook_events WHERE processed_at IS NULL \
                 ORDER BY received_at LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        }

        async fn mark_webhook_processed(
            conn: &mut DbConnection,
            event_id: &str,
            now: i64,
            set_aside_reason: Option<&str>,
        ) -> Result<(), sqlx::Error> {
            sqlx::query(
                "UPDATE webhook_events SET processed_at = $1, set_aside_reason = $2 \
                 WHERE event_id = $3",
            )
            .bind(now)
            .bind(set_aside_reason)
            .bind(event_id)
            .execute(conn)
            .await?;
            Ok(())
        }

        /// Applies each stored event's update (if any) and marks it processed, all in one
        /// transaction: one commit for a whole batch. An update the database refuses is rolled
        /// back alone (a savepoint each), and its event is set aside with the reason; returns
        /// the events set aside with their reasons.
        pub(super) async fn apply_webhooks(
            pool: &Pool,
            events: &[(String, Option<TransferUpdate>)],
            now: i64,
        ) -> Result<Vec<(String, String)>, sqlx::Error> {
            use sqlx::Acquire;
            let mut transaction = pool.begin().await?;
            let mut set_aside = Vec::new();
            for (event_id, update) in events {
                if let Some(update) = update {
                    let mut savepoint = transaction.begin().await?;
                    match apply(&mut savepoint, update).await {
                        Ok(_) => savepoint.commit().await?,
                        Err(error) => {
                            // A broken connection fails this rollback too, and the batch with it.
                            savepoint.rollback().await?;
                            set_aside.push((event_id.clone(), error.to_string()));
                        }
                    }
                }
                let reason = set_aside
                    .last()
                    .filter(|(aside, _)| aside == event_id)
                    .map(|(_, reason)| reason.as_str());
                mark_webhook_processed(&mut transaction, event_id, now, reason).await?;
            }
            transaction.commit().await?;
            Ok(set_aside)
        }

        pub(super) async fn apply_transfer(
            pool: &Pool,
            update: &TransferUpdate,
        ) -> Result<bool, sqlx::Error> {
            apply(&mut *pool.acquire().await?, update).await
        }

        async fn apply(
            conn: &mut DbConnection,
            update: &TransferUpdate,
        ) -> Result<bool, sqlx::Error> {
            let done = sqlx::query(
                "INSERT INTO transfers (transfer_id, user_id, status, status_rank, symbol, \
                 network, amount, destination, tx_hash, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (transfer_id) DO UPDATE SET \
                 user_id = excluded.user_id, \
                 status = excluded.status, status_rank = excluded.status_rank, \
                 symbol = COALESCE(excluded.symbol, transfers.symbol), \
                 network = COALESCE(excluded.network, transfers.network), \
                 amount = COALESCE(excluded.amount, transfers.amount), \
                 destination = COALESCE(excluded.destination, transfers.destination), \
                 tx_hash = COALESCE(excluded.tx_hash, transfers.tx_hash), \
                 updated_at = excluded.updated_at, check_after = 0, check_interval = 0 \
                 WHERE excluded.status_rank > transfers.status_rank \
                 AND (excluded.user_id = transfers.user_id OR transfers.status_rank = 0)",
            )
            .bind(&update.transfer_id)
            .bind(&update.user_id)
            .bind(update.status.as_str())
            .bind(update.status.rank())
            .bind(&update.symbol)
            .bind(&update.network)
            .bind(&update.amount)
            .bind(&update.destination)
            .bind(&update.tx_hash)
            .bind(update.at)
            .execute(conn)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        pub(super) async fn claim_due_transfers(
            pool: &Pool,
            now: i64,
            [first_wait, longest_wait, reported_since, longest_wait_unconfirmed]: [i64; 4],
            limit: i64,
        ) -> Result<Vec<String>, sqlx::Error> {
            // Read first: most rounds find nothing due and so take no write lock.
            let due: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM transfers WHERE status_rank < 2 \
                 AND check_after <= $1 AND (status_rank > 0 OR updated_at >= $2))",
            )
            .bind(now)
            .bind(reported_since)
            .fetch_one(pool)
            .await?;
            if !due {
                return Ok(Vec::new());
            }
            // Instances claiming at once get different rows: on PostgreSQL each skips the rows
            // another is claiming and takes the next due ones.
            // The next wait: the first one, then doubled up to the longest for the transfer's
            // kind ($6 for a report Mesh has not confirmed, $3 otherwise).
            sqlx::query_scalar(concat!(
                "UPDATE transfers SET check_interval = CASE \
                 WHEN check_interval = 0 THEN $2 \
                 WHEN status_rank = 0 AND check_interval * 2 > $6 THEN $6 \
                 WHEN status_rank > 0 AND check_interval * 2 > $3 THEN $3 \
                 ELSE check_interval * 2 END, \
                 check_after = $1 + CASE \
                 WHEN check_interval = 0 THEN $2 \
                 WHEN status_rank = 0 AND check_interval * 2 > $6 THEN $6 \
                 WHEN status_rank > 0 AND check_interval * 2 > $3 THEN $3 \
                 ELSE check_interval * 2 END \
                 WHERE transfer_id IN ( \
                 SELECT transfer_id FROM transfers WHERE status_rank < 2 AND check_after <= $1 \
                 AND (status_rank > 0 OR updated_at >= $5) \
                 ORDER BY check_after, updated_at DESC LIMIT $4",
                $skip_locked,
                ") RETURNING transfer_id",
            ))
            .bind(now)
            .bind(first_wait)
            .bind(longest_wait)
            .bind(limit)
            .bind(reported_since)
            .bind(longest_wait_unconfirmed)
            .fetch_all(pool)
            .await
        }

        pub(super) async fn open_reports(
            pool: &Pool,
            user_id: &str,
            reported_since: i64,
            except: &str,
        ) -> Result<i64, sqlx::Error> {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM transfers WHERE user_id = $1 AND status_rank = 0 \
                 AND updated_at >= $2 AND transfer_id <> $3",
            )
            .bind(user_id)
            .bind(reported_since)
            .bind(except)
            .fetch_one(pool)
            .await
        }

        pub(super) async fn transfers_of(
            pool: &Pool,
            user_id: &str,
            limit: i64,
        ) -> Result<Vec<StoredTransfer>, sqlx::Error> {
            sqlx::query_as(
                "SELECT transfer_id, status, symbol, network, amount, destination, tx_hash, \
                 updated_at FROM transfers WHERE user_id = $1 \
                 ORDER BY updated_at DESC, transfer_id LIMIT $2",
            )
            .bind(user_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        }
    };
}

pub(super) mod sqlite {
    transfer_queries!(sqlx::Sqlite, "");
}

mod postgres {
    transfer_queries!(sqlx::Postgres, " FOR UPDATE SKIP LOCKED");
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
