//! The Mesh REST client: typed requests and responses, the `ApiResult` envelope, typed errors,
//! timeouts and a bounded retry.

mod client;
mod error;
mod integrations;
mod managed_transfers;
mod money;
mod portfolio;
mod types;
pub mod webhook;

pub use client::{MAX_ANSWER_BYTES, MeshClient, RetryPolicy, Timeouts};
pub use error::{
    EXPIRED_AUTH_TOKEN, EXPIRED_REFRESH_TOKEN, INVALID_AUTH_TOKEN, INVALID_REFRESH_TOKEN, MeshError,
};
pub use integrations::{Integration, IntegrationCache, sends_crypto};
pub use managed_transfers::{
    ManagedTransfer, ManagedTransferPage, NETWORKS, Network, ToAddress, TransferOptions,
};
pub use money::Amount;
pub use portfolio::{
    AuthStatus, Balance, Balances, Holdings, InstitutionStatus, Order, OrderList, Position,
    Refreshed, RefreshedAccount, RefreshedTokens, Transfer, TransferList,
};
pub use types::{ApiResult, ApiStatus, LinkTokenContent, LinkTokenRequest, MAX_USER_ID_CHARS};
