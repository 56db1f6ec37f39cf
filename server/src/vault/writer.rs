//! SQLite's single writer with group commit: one task owns the write connection and commits the
//! writes waiting for it together, answering each only after the commit that holds it.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection as _, Error};
use tokio::sync::{mpsc, oneshot};

use super::deposits::{WebhookDelivery, sqlite as deposits};
use super::queries::sqlite;
use super::rows::{Save, SaveError, StoredRow};

/// Most saves committed together; more wait for the next commit.
const MAX_BATCH: usize = 256;
/// Saves that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 1024;

/// One write and where its result goes.
enum Job {
    Save(Save, oneshot::Sender<Result<Vec<StoredRow>, WriteError>>),
    Webhook(WebhookDelivery, oneshot::Sender<Result<bool, WriteError>>),
}

/// Why a save handed to the writer failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// This save's statements failed; it was rolled back, the others in its batch were not.
    #[error("database error: {0}")]
    Save(#[from] Error),
    /// The pending connection this redemption was to replace is gone; it was rolled back.
    #[error("the pending connection was disconnected while it was redeemed")]
    PendingGone,
    /// This save would have taken its user past the connection cap; it was rolled back.
    #[error("the user holds {held} connections; the cap is {cap}")]
    OverCap {
        /// Connections the user holds.
        held: u64,
        /// The cap.
        cap: u64,
    },
    /// The commit of the batch failed: none of its saves was stored.
    #[error("the database could not commit the saves: {0}")]
    Commit(String),
    /// The writer task has stopped.
    #[error("the database writer has stopped")]
    Stopped,
}

/// A handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqliteWriter {
    queue: mpsc::Sender<Job>,
}

impl SqliteWriter {
    /// Opens the write connection and starts the writer task.
    pub async fn start(options: &SqliteConnectOptions) -> Result<Self, Error> {
        let connection = SqliteConnection::connect_with(options).await?;
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(run(connection, jobs));
        Ok(Self { queue })
    }

    /// Stores `save` in the next group commit; answers once that commit is durable.
    pub async fn save(&self, save: Save) -> Result<Vec<StoredRow>, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.hand_over(Job::Save(save, reply)).await?;
        answer.await.unwrap_or(Err(WriteError::Stopped))
    }

    /// Stores a webhook delivery in the next group commit; true when its event is new.
    pub(crate) async fn record_webhook(
        &self,
        delivery: WebhookDelivery,
    ) -> Result<bool, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.hand_over(Job::Webhook(delivery, reply)).await?;
        answer.await.unwrap_or(Err(WriteError::Stopped))
    }

    async fn hand_over(&self, job: Job) -> Result<(), WriteError> {
        self.queue.send(job).await.map_err(|_| WriteError::Stopped)
    }
}

// SQLite lets one transaction write at a time, so concurrent writes each waiting for the lock
// and for their own fsync queue up. Instead this task takes every write waiting (connection saves
// and webhook deliveries, the two that come in bursts), writes each in its own savepoint (one bad
// write does not undo the others), commits once, and only then answers each caller: a write is
// acknowledged only after the commit that holds it (`synchronous=FULL`).
/// The writer loop: runs until every handle is dropped.
async fn run(mut connection: SqliteConnection, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write_batch(&mut connection, &batch).await {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    // A caller that gave up no longer listens; its write is stored all the same.
                    match (job, result) {
                        (Job::Save(_, reply), Written::Save(result)) => {
                            let _ = reply.send(result);
                        }
                        (Job::Webhook(_, reply), Written::Webhook(result)) => {
                            let _ = reply.send(result);
                        }
                        _ => unreachable!("write_batch answers each job in kind"),
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, writes = batch.len(), "a group commit failed");
                let failed = || WriteError::Commit(error.to_string());
                for job in batch.drain(..) {
                    match job {
                        Job::Save(_, reply) => drop(reply.send(Err(failed()))),
                        Job::Webhook(_, reply) => drop(reply.send(Err(failed()))),
                    }
                }
            }
        }
    }
}

/// What one job wrote.
enum Written {
    Save(Result<Vec<StoredRow>, WriteError>),
    Webhook(Result<bool, WriteError>),
}

/// Writes each job in its own savepoint inside one transaction, then commits. The outer error
/// means nothing was committed.
async fn write_batch(
    connection: &mut SqliteConnection,
    batch: &[Job],
) -> Result<Vec<Written>, Error> {
    let mut transaction = connection.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let mut savepoint = transaction.begin().await?;
        let written = match job {
            Job::Save(save, _) => sqlite::save(&mut savepoint, save)
                .await
                .map(|rows| Written::Save(Ok(rows))),
            Job::Webhook(delivery, _) => deposits::record_webhook(
                &mut savepoint,
                &delivery.event_id,
                &delivery.body,
                delivery.now,
            )
            .await
            .map(|first| Written::Webhook(Ok(first)))
            .map_err(SaveError::from),
        };
        match written {
            Ok(written) => {
                savepoint.commit().await?;
                results.push(written);
            }
            Err(error) => {
                savepoint.rollback().await?;
                let error = match error {
                    SaveError::Database(error) => WriteError::Save(error),
                    SaveError::OverCap { held, cap } => WriteError::OverCap { held, cap },
                    SaveError::PendingGone => WriteError::PendingGone,
                };
                results.push(match job {
                    Job::Save(..) => Written::Save(Err(error)),
                    Job::Webhook(..) => Written::Webhook(Err(error)),
                });
            }
        }
    }
    transaction.commit().await?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::vault::rows::SealedRow;

    fn save(user: &str, ids: &[&str]) -> Save {
        Save {
            user_id: user.into(),
            broker_type: "robinhood".into(),
            broker_name: "Robinhood".into(),
            broker_logo: None,
            logo_hash: None,
            key_id: "k".into(),
            connected_at: 1,
            refresh_expires_at: None,
            cap: None,
            replaces: None,
            rows: ids
                .iter()
                .enumerate()
                .map(|(n, id)| SealedRow {
                    id: id.to_string(),
                    account_id: format!("acc-{n}"),
                    account_name: None,
                    cash: None,
                    fund: None,
                    access_token: Some(vec![1, 2, 3]),
                    refresh_token: None,
                    token_id: None,
                    expires_at: None,
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn a_failing_save_is_rolled_back_alone_and_the_others_commit() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let options = SqliteConnectOptions::from_str(&url).unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.clone())
            .await
            .unwrap();
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .unwrap();
        let writer = SqliteWriter::start(&options).await.unwrap();

        // Queued together, so they share a commit; the middle one repeats a primary key.
        let (first, bad, last) = tokio::join!(
            writer.save(save("u1", &["id-1"])),
            writer.save(save("u2", &["id-2", "id-2"])),
            writer.save(save("u3", &["id-3"])),
        );
        assert_eq!(first.unwrap().len(), 1);
        assert!(matches!(bad, Err(WriteError::Save(_))), "{bad:?}");
        assert_eq!(last.unwrap().len(), 1);
        let users: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM broker_connections ORDER BY user_id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(
            users,
            ["u1", "u3"],
            "the bad save left nothing, the others are stored"
        );
    }
}
