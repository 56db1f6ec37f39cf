//! [`MeshClient`]: Mesh's endpoints as typed calls; how each is sent is in `client/transport.rs`.

mod transport;

pub use transport::{MAX_ANSWER_BYTES, RetryPolicy, Timeouts};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::error::MeshError;
use super::integrations::{Integration, IntegrationList};
use super::managed_transfers::{ManagedTransfer, ManagedTransferPage};
use super::portfolio::{
    AuthStatus, Balances, Holdings, InstitutionStatus, OrderList, RefreshRequest, Refreshed,
    TokenRequest, TransferList,
};
use super::types::{LinkTokenContent, LinkTokenRequest, MAX_USER_ID_CHARS};
use crate::config::MeshCredentials;

/// A client for Mesh's integration API (or the emulator, which speaks the same protocol).
#[derive(Clone, Debug)]
pub struct MeshClient {
    http: reqwest::Client,
    base_url: Url,
    credentials: MeshCredentials,
    timeouts: Timeouts,
    retry: RetryPolicy,
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

    /// `GET /api/v1/integrations`: every integration Link can open on.
    pub async fn integrations(&self) -> Result<Vec<Integration>, MeshError> {
        let list: IntegrationList = self
            .call(Method::GET, "/api/v1/integrations", &())
            .await?
            .ok_or_else(|| MeshError::MalformedResponse("no integrations in the answer".into()))?;
        Ok(list.items.unwrap_or_default())
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
}
