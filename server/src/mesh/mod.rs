//! The Mesh REST client: typed requests and responses, the `ApiResult` envelope, typed errors,
//! timeouts and a bounded retry.

mod client;
mod error;
mod types;

pub use client::{MAX_ANSWER_BYTES, MeshClient, RetryPolicy, Timeouts};
pub use error::MeshError;
pub use types::{ApiResult, ApiStatus, LinkTokenContent, LinkTokenRequest, MAX_USER_ID_CHARS};
