//! The SQL of deposits and webhook deliveries, written once for both databases.

/// The queries, written once for both databases; `$skip_locked` is PostgreSQL's row-lock
/// clause for claims (SQLite runs one writer at a time, so it needs none).
macro_rules! transfer_queries {
    ($db:ty, $skip_locked:literal) => {
        use crate::vault::deposits::{StoredTransfer, TransferUpdate};

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

        pub(in crate::vault) async fn unprocessed_webhooks(
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
        pub(in crate::vault) async fn apply_webhooks(
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

        pub(in crate::vault) async fn apply_transfer(
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

        pub(in crate::vault) async fn claim_due_transfers(
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

        pub(in crate::vault) async fn open_reports(
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

        pub(in crate::vault) async fn transfers_of(
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

/// The queries on SQLite.
pub(in crate::vault) mod sqlite {
    transfer_queries!(sqlx::Sqlite, "");
}

/// The queries on PostgreSQL.
pub(super) mod postgres {
    transfer_queries!(sqlx::Postgres, " FOR UPDATE SKIP LOCKED");
}
