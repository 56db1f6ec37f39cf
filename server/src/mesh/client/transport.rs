//! How [`MeshClient`] talks to Mesh: the timeouts, the bounded retry with backoff, the
//! credentials on every request, and reading Mesh's envelope within a size limit.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::MeshClient;
use crate::mesh::error::MeshError;
use crate::mesh::types::{ApiResult, ApiStatus};

/// Connect and total timeouts of every call.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// Time to establish the TCP (and TLS) connection.
    pub connect: Duration,
    /// Time for the whole call, body included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(20),
        }
    }
}

/// How often and how patiently to retry 429, 5xx and connection errors.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of any delay, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// What one attempt ended in: a final result, or a failure worth another try.
enum Attempt<T> {
    Done(Result<T, MeshError>),
    Retry {
        error: MeshError,
        retry_after: Option<Duration>,
    },
}

impl MeshClient {
    /// A POST whose answer must carry `content`.
    pub(super) async fn content<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, MeshError> {
        self.call(Method::POST, path, body).await?.ok_or_else(|| {
            MeshError::MalformedResponse(format!("no content in the answer of {path}"))
        })
    }

    /// Sends `body` to `path`, retrying what is worth retrying, and returns the envelope's content.
    pub(super) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Option<T>, MeshError> {
        let url = self
            .base_url
            .join(path)
            .map_err(|e| MeshError::InvalidRequest(format!("bad path {path}: {e}")))?;
        let mut attempt = 1;
        loop {
            match self
                .attempt(method.clone(), url.clone(), path, body, attempt)
                .await
            {
                Attempt::Done(result) => return result,
                Attempt::Retry { error, .. } if attempt >= self.retry.max_attempts => {
                    return Err(error);
                }
                Attempt::Retry { error, retry_after } => {
                    let delay = self.delay_before(attempt + 1, retry_after);
                    tracing::warn!(%error, ?delay, attempt, "Mesh call failed; retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        path: &str,
        body: &B,
        attempt: u32,
    ) -> Attempt<Option<T>> {
        // Marked sensitive, so no layer that prints headers (a debug log, a proxy) shows it.
        let Ok(mut secret) =
            reqwest::header::HeaderValue::from_str(self.credentials.client_secret.expose_secret())
        else {
            return Attempt::Done(Err(MeshError::InvalidRequest(
                "MESH_CLIENT_SECRET holds characters a header cannot carry".into(),
            )));
        };
        secret.set_sensitive(true);
        let request = self
            .http
            .request(method.clone(), url)
            .header("X-Client-Id", &self.credentials.client_id)
            .header("X-Client-Secret", secret);
        // A GET carries its parameters in the URL, never a body.
        let request = if method == Method::GET {
            request
        } else {
            request.json(body)
        };
        let sent = request.send().await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() => {
                return Attempt::Done(Err(MeshError::Timeout(self.timeouts.total)));
            }
            Err(e) => {
                return Attempt::Retry {
                    error: self.unreachable(attempt, &e),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let bytes = match read_at_most(response, MAX_ANSWER_BYTES).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Attempt::Done(Err(MeshError::MalformedResponse(format!(
                    "the answer is larger than {} MiB",
                    MAX_ANSWER_BYTES / (1024 * 1024)
                ))));
            }
            Err(e) if e.is_timeout() => {
                return Attempt::Done(Err(MeshError::Timeout(self.timeouts.total)));
            }
            Err(e) => {
                return Attempt::Retry {
                    error: self.unreachable(attempt, &e),
                    retry_after: None,
                };
            }
        };
        let result = match status {
            s if s.is_success() => parse_success(&bytes),
            StatusCode::BAD_REQUEST => Err(parse_bad_request(&bytes)),
            StatusCode::UNAUTHORIZED => Err(MeshError::Unauthorized),
            StatusCode::FORBIDDEN => Err(MeshError::Forbidden { path: path.into() }),
            StatusCode::NOT_FOUND => Err(MeshError::NotFound { path: path.into() }),
            StatusCode::TOO_MANY_REQUESTS => {
                return Attempt::Retry {
                    error: MeshError::RateLimited { attempts: attempt },
                    retry_after,
                };
            }
            s if s.is_server_error() => {
                return Attempt::Retry {
                    error: MeshError::Server {
                        status: s.as_u16(),
                        attempts: attempt,
                    },
                    retry_after,
                };
            }
            s => Err(MeshError::UnexpectedStatus { status: s.as_u16() }),
        };
        Attempt::Done(result)
    }

    fn unreachable(&self, attempts: u32, error: &reqwest::Error) -> MeshError {
        // reqwest's Display names the URL (no credentials are ever in it) and the cause.
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        MeshError::Unreachable {
            url: self.base_url.to_string(),
            attempts,
            reason,
        }
    }

    /// Exponential backoff with jitter, or the server's `Retry-After`, never above `max_delay`.
    fn delay_before(&self, next_attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential =
            self.retry.base_delay * 2u32.saturating_pow(next_attempt.saturating_sub(2));
        let jitter = exponential.mul_f64(rand::random::<f64>() * 0.25);
        retry_after
            .unwrap_or(exponential + jitter)
            .min(self.retry.max_delay)
    }
}

fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

fn parse_success<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, MeshError> {
    let envelope: ApiResult<T> =
        serde_json::from_slice(bytes).map_err(|e| MeshError::MalformedResponse(e.to_string()))?;
    if envelope.status != ApiStatus::Ok {
        return Err(MeshError::BadRequest {
            error_type: envelope
                .error_type
                .unwrap_or_else(|| format!("{:?}", envelope.status)),
            message: envelope.message.unwrap_or_default(),
            display_message: envelope.display_message,
        });
    }
    Ok(envelope.content)
}

fn parse_bad_request(bytes: &[u8]) -> MeshError {
    match serde_json::from_slice::<ApiResult<serde_json::Value>>(bytes) {
        Ok(envelope) => MeshError::BadRequest {
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            message: envelope.message.unwrap_or_default(),
            display_message: envelope.display_message,
        },
        Err(_) => MeshError::BadRequest {
            error_type: "unknown".into(),
            message: "HTTP 400 without an ApiResult body".into(),
            display_message: None,
        },
    }
}

/// The largest answer read from Mesh; a larger one is refused rather than held in memory.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Reads `response`'s body, or `None` once it passes `limit` bytes.
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
