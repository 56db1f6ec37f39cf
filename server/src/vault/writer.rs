//! SQLite's single writer with group commit. SQLite lets one transaction write at a time, so
//! concurrent saves each waiting for the lock and for their own fsync queue up. Instead one task
//! owns a write connection: it takes every save waiting, writes each in its own savepoint (one
//! bad save does not undo the others), commits once, and only then answers each caller. A save
//! is still acknowledged only after the commit that holds it (`synchronous=FULL`).

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Error};
use tokio::sync::{mpsc, oneshot};

use super::queries::{Save, StoredRow, sqlite};

/// Most saves committed together; more wait for the next commit.
const MAX_BATCH: usize = 256;
/// Saves that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 1024;

type Reply = oneshot::Sender<Result<Vec<StoredRow>, WriteError>>;

/// Why a save handed to the writer failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// This save's statements failed; it was rolled back, the others in its batch were not.
    #[error("database error: {0}")]
    Save(#[from] Error),
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
    queue: mpsc::Sender<(Save, Reply)>,
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
        self.queue
            .send((save, reply))
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer.await.unwrap_or(Err(WriteError::Stopped))
    }
}

/// The writer loop: runs until every handle is dropped.
async fn run(mut connection: SqliteConnection, mut jobs: mpsc::Receiver<(Save, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = write_batch(&mut connection, &batch).await;
        match outcome {
            Ok(results) => {
                for ((_, reply), result) in batch.drain(..).zip(results) {
                    // A caller that gave up no longer listens; its save is stored all the same.
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                tracing::error!(%error, saves = batch.len(), "a group commit failed");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(WriteError::Commit(error.to_string())));
                }
            }
        }
    }
}

/// Writes each save in its own savepoint inside one transaction, then commits. The outer
/// error means nothing was committed.
async fn write_batch(
    connection: &mut SqliteConnection,
    batch: &[(Save, Reply)],
) -> Result<Vec<Result<Vec<StoredRow>, WriteError>>, Error> {
    let mut transaction = connection.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for (save, _) in batch {
        let mut savepoint = transaction.begin().await?;
        match sqlite::save(&mut savepoint, save).await {
            Ok(rows) => {
                savepoint.commit().await?;
                results.push(Ok(rows));
            }
            Err(error) => {
                savepoint.rollback().await?;
                results.push(Err(WriteError::Save(error)));
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
    use crate::vault::queries::SealedRow;

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
