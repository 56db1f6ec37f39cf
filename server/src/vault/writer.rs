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
