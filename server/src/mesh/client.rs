//! [`MeshClient`]: authenticated JSON calls to Mesh with timeouts and a bounded retry.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::MeshError;
use super::portfolio::{
    AuthStatus, Balances, Holdings, InstitutionStatus, OrderList, RefreshRequest, Refreshed,
    TokenRequest, TransferList,
};
use super::transfers::{ManagedTransfer, ManagedTransferPage};
use super::types::{ApiResult, ApiStatus, LinkTokenContent, LinkTokenRequest, MAX_USER_ID_CHARS};
use crate::config::MeshCredentials;

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

/// A client for Mesh's integration API (or the emulator, which speaks the same protocol).
#[derive(Clone, Debug)]
pub struct MeshClient {
    http: reqwest::Client,
    base_url: Url,
    credentials: MeshCredentials,
    timeouts: Timeouts,
    retry: RetryPolicy,
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
    /// A client with the default timeouts and retry policy.
    pub fn new(base_url: Url, credentials: MeshCredentials) -> Result<Self, MeshError> {
        Self::with_policy(
            base_url,
            credentials,
            Timeouts::default(),
            RetryPolicy::default(),
        )
    }

    /// A client with explicit timeouts and retry policy.
    pub fn with_policy(
        base_url: Url,
        credentials: MeshCredentials,
        timeouts: Timeouts,
        retry: RetryPolicy,
    ) -> Result<Self, MeshError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            // A redirect would carry X-Client-Secret to wherever it points: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mesh-link-starter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MeshError::InvalidRequest(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url,
            credentials,
            timeouts,
            retry,
        })
    }

    /// `POST /api/v1/linktoken`: a single-use token that opens Link for `request.user_id`.
    pub async fn create_link_token(
        &self,
        request: &LinkTokenRequest,
    ) -> Result<LinkTokenContent, MeshError> {
        let chars = request.user_id.chars().count();
        if chars == 0 || chars > MAX_USER_ID_CHARS {
            return Err(MeshError::InvalidRequest(format!(
                "userId must be 1 to {MAX_USER_ID_CHARS} characters, not {chars}"
            )));
        }
        self.call::<_, LinkTokenContent>(Method::POST, "/api/v1/linktoken", request)
            .await?
            .ok_or_else(|| MeshError::MalformedResponse("no content in link token response".into()))
    }

    /// `DELETE /api/v1/account`: revokes the connection behind `auth_token` at Mesh, which
    /// erases its data there.
    pub async fn delete_account(
        &self,
        auth_token: &SecretString,
        broker_type: &str,
    ) -> Result<(), MeshError> {
        let body = serde_json::json!({
            "authToken": auth_token.expose_secret(),
            "type": broker_type,
        });
        self.call::<_, serde_json::Value>(Method::DELETE, "/api/v1/account", &body)
            .await
            .map(|_| ())
    }

    /// `POST /api/v1/holdings/get`, with market values. A `notAuthorized` or `failed` answer
    /// from the institution is an error.
    pub async fn holdings(
        &self,
        auth_token: &SecretString,
        broker_type: &str,
    ) -> Result<Holdings, MeshError> {
        let request = TokenRequest {
            auth_token,
            broker_type,
            include_market_value: Some(true),
            count: None,
        };
        let holdings: Holdings = self.content("/api/v1/holdings/get", &request).await?;
        match holdings.status {
            InstitutionStatus::Succeeded => Ok(holdings),
            InstitutionStatus::NotAuthorized => Err(MeshError::NotAuthorized {
                display_message: holdings.display_message,
            }),
            InstitutionStatus::Failed => Err(MeshError::InstitutionFailed {
                message: holdings.error_message.unwrap_or_default(),
                display_message: holdings.display_message,
            }),
        }
    }

    /// `POST /api/v1/balance/get`.
    pub async fn balances(
        &self,
        auth_token: &SecretString,
        broker_type: &str,
    ) -> Result<Balances, MeshError> {
        let request = TokenRequest {
            auth_token,
            broker_type,
            include_market_value: None,
            count: None,
        };
        self.content("/api/v1/balance/get", &request).await
    }

    /// `POST /api/v1/transactions/list`: a broker's latest `count` orders.
    pub async fn orders(
        &self,
        auth_token: &SecretString,
        broker_type: &str,
        count: u32,
    ) -> Result<OrderList, MeshError> {
        let request = TokenRequest {
            auth_token,
            broker_type,
            include_market_value: None,
            count: Some(count),
        };
        self.content("/api/v1/transactions/list", &request).await
    }

    /// `POST /api/v1/transfers/list`: an exchange's latest `count` deposits and withdrawals.
    pub async fn transfer_history(
        &self,
        auth_token: &SecretString,
        broker_type: &str,
        count: u32,
    ) -> Result<TransferList, MeshError> {
        let request = TokenRequest {
            auth_token,
            broker_type,
            include_market_value: None,
            count: Some(count),
        };
        self.content("/api/v1/transfers/list", &request).await
    }

    /// `POST /api/v1/token/refresh`: new tokens for the account behind `refresh_token`, with a
    /// new refresh token too when `rotate`. Anything but `succeeded` is an error.
    pub async fn refresh_token(
        &self,
        refresh_token: &SecretString,
        broker_type: &str,
        rotate: bool,
    ) -> Result<Refreshed, MeshError> {
        let request = RefreshRequest {
            broker_type,
            refresh_token,
            create_new_refresh_token: rotate,
        };
        let refreshed: Refreshed = self.content("/api/v1/token/refresh", &request).await?;
        match refreshed.status {
            AuthStatus::Succeeded => Ok(refreshed),
            AuthStatus::MfaRequired => Err(MeshError::MfaRequired),
            AuthStatus::Failed => Err(MeshError::InstitutionFailed {
                message: refreshed.error_message.unwrap_or_default(),
                display_message: None,
            }),
        }
    }

    /// `GET /api/v1/transfers/managed/mesh?Id=…`: the transfer Link made with this Mesh id, if
    /// Mesh knows it.
    pub async fn managed_transfer(
        &self,
        transfer_id: &str,
    ) -> Result<Option<ManagedTransfer>, MeshError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("Id", transfer_id)
            .finish();
        let path = format!("/api/v1/transfers/managed/mesh?{query}");
        let page: Option<ManagedTransferPage> = self.call(Method::GET, &path, &()).await?;
        Ok(page
            .and_then(|page| page.items)
            .and_then(|items| items.into_iter().find(|t| t.id == transfer_id)))
    }

    /// A POST whose answer must carry `content`.
    async fn content<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, MeshError> {
        self.call(Method::POST, path, body).await?.ok_or_else(|| {
            MeshError::MalformedResponse(format!("no content in the answer of {path}"))
        })
    }

    /// Sends `body` to `path`, retrying what is worth retrying, and returns the envelope's content.
    async fn call<B: Serialize, T: DeserializeOwned>(
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
