//! Wire types of Mesh's API, named and shaped as in Mesh's OpenAPI spec.

use serde::{Deserialize, Serialize};

/// Longest `userId` Mesh accepts (`GetLinkTokenRequest.userId.maxLength`).
pub const MAX_USER_ID_CHARS: usize = 300;

/// The body of `POST /api/v1/linktoken` (`GetLinkTokenRequest`): the fields a starter needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkTokenRequest {
    /// Your stable, non-PII id of the end user (1–300 characters).
    pub user_id: String,
    /// Hide "Link another account" on Link's last screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_multiple_accounts: Option<bool>,
    /// Open Link directly on one integration (an id from `GET /api/v1/integrations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// `LinkTokenTransferOptions`: Link continues into this transfer once the account connects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_options: Option<super::TransferOptions>,
}

impl LinkTokenRequest {
    /// A request for `user_id` with every option left to Mesh's defaults.
    pub fn for_user(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            restrict_multiple_accounts: None,
            integration_id: None,
            transfer_options: None,
        }
    }
}

/// `ApiResult.status`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ApiStatus {
    /// Success.
    Ok,
    /// Mesh failed.
    ServerFailure,
    /// The key lacks a permission.
    PermissionDenied,
    /// The request was invalid.
    BadRequest,
    /// Not found.
    NotFound,
    /// Conflict.
    Conflict,
    /// Rate limited.
    TooManyRequest,
    /// Locked.
    Locked,
    /// Unavailable for legal reasons.
    UnavailableForLegalReasons,
}

/// Mesh's response envelope (`ApiResult` and its `*ApiResult` wrappers).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiResult<T> {
    /// Outcome of the call.
    pub status: ApiStatus,
    /// The API's own message (for logs, not users).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A message meant for the end user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_message: Option<String>,
    /// A typed reason code, for example `missingField`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<T>,
}

/// `LinkTokenModel`: the `content` of a link-token response.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LinkTokenContent {
    /// Base64 of the Link URL; single use, valid for 10 minutes.
    pub link_token: String,
    /// A payment link, when `generatePayLink` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_link: Option<String>,
}
