//! What Link posts to the host page: the typed event keys of `onEvent` and the parsing of a
//! `message` event's data into a [`LinkMessage`].

use serde::Deserialize;
use serde_json::Value;

use super::payload::{
    AccessTokenPayload, DelayedAuthPayload, IntegrationConnected, SessionSummary,
    TransferFinishedPayload,
};

/// Declares [`LinkEventType`] once, with the key Link uses for each variant.
macro_rules! link_event_types {
    ($($variant:ident => $key:literal,)*) => {
        /// Every event key Mesh's web SDK passes to `onEvent`, plus a fallback for new ones.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum LinkEventType {
            $(
                #[doc = concat!("`", $key, "`")]
                $variant,
            )*
            /// A key this client does not know yet (Link adds events over time).
            Unknown(String),
        }

        impl LinkEventType {
            /// The type for a key Link sent.
            pub fn from_key(key: &str) -> Self {
                match key {
                    $($key => Self::$variant,)*
                    other => Self::Unknown(other.to_string()),
                }
            }

            /// The key as Link spells it.
            pub fn key(&self) -> &str {
                match self {
                    $(Self::$variant => $key,)*
                    Self::Unknown(key) => key,
                }
            }
        }
    };
}

link_event_types! {
    IntegrationConnected => "integrationConnected",
    IntegrationConnectionError => "integrationConnectionError",
    IntegrationMfaRequired => "integrationMfaRequired",
    IntegrationMfaEntered => "integrationMfaEntered",
    IntegrationOAuthStarted => "integrationOAuthStarted",
    IntegrationAccountSelectionRequired => "integrationAccountSelectionRequired",
    TransferCompleted => "transferCompleted",
    IntegrationSelected => "integrationSelected",
    CredentialsEntered => "credentialsEntered",
    TransferStarted => "transferStarted",
    TransferPreviewed => "transferPreviewed",
    TransferPreviewError => "transferPreviewError",
    TransferExecutionError => "transferExecutionError",
    TransferConfigureError => "transferConfigureError",
    PageLoaded => "pageLoaded",
    TransferAssetSelected => "transferAssetSelected",
    TransferNetworkSelected => "transferNetworkSelected",
    TransferAmountEntered => "transferAmountEntered",
    TransferMfaRequired => "transferMfaRequired",
    TransferMfaEntered => "transferMfaEntered",
    TransferKycRequired => "transferKycRequired",
    TransferExecuted => "transferExecuted",
    TransferInitiated => "transferInitiated",
    TransferNoEligibleAssets => "transferNoEligibleAssets",
    WalletMessageSigned => "walletMessageSigned",
    VerifyDonePage => "verifyDonePage",
    VerifyWalletRejected => "verifyWalletRejected",
    ConnectionDeclined => "connectionDeclined",
    ConnectionUnavailable => "connectionUnavailable",
    TransferDeclined => "transferDeclined",
    Done => "done",
    Close => "close",
    SdkInjectedWalletProviders => "SDKinjectedWalletProviders",
    LegalTermsViewed => "legalTermsViewed",
    SeeWhatHappenedClicked => "seeWhatHappenedClicked",
    ExecuteFundingStep => "executeFundingStep",
    FundingOptionsUpdated => "fundingOptionsUpdated",
    FundingOptionsViewed => "fundingOptionsViewed",
    GasIncreaseWarning => "gasIncreaseWarning",
    LinkTransferQrGenerated => "linkTransferQRGenerated",
    MethodSelected => "methodSelected",
    DefiWalletError => "defiWalletError",
    HomePageLoaded => "homePageLoaded",
    WithdrawalRequested => "withdrawalRequested",
}

/// One `onEvent` call: the type and Link's payload, unchanged.
///
/// Unlike Mesh's SDK, `integrationConnected` carries no payload here: its tokens go only to
/// `on_integration_connected`, so an event log can never hold one.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkEvent {
    /// What happened.
    pub event_type: LinkEventType,
    /// Link's payload for it (`Null` when there is none).
    pub payload: Value,
}

impl LinkEvent {
    /// An event without a payload.
    pub fn bare(event_type: LinkEventType) -> Self {
        Self {
            event_type,
            payload: Value::Null,
        }
    }

    /// The `errorMessage` of error events, if any.
    pub fn error_message(&self) -> Option<&str> {
        self.payload.get("errorMessage").and_then(Value::as_str)
    }

    /// The `integrationName` of `integrationSelected`, if any.
    pub fn integration_name(&self) -> Option<&str> {
        self.payload.get("integrationName").and_then(Value::as_str)
    }
}

/// A message from Link, by `data.type`.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkMessage {
    /// `loaded`: Link is ready for `meshSDKSpecs`.
    Loaded,
    /// `brokerageAccountAccessToken` or `delayedAuthentication`.
    IntegrationConnected(IntegrationConnected),
    /// `transferFinished`, read, and Link's payload as sent (for `onEvent`).
    TransferFinished(TransferFinishedPayload, Value),
    /// `close` or `done`: Link is finished.
    Exit(SessionSummary),
    /// Any other key, reported to `onEvent`.
    Event(LinkEvent),
}

/// Why a message from the Link origin was not understood.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not an object with a string `type`.
    #[error("not a Link message")]
    NotLinkMessage,
    /// A known type whose payload has the wrong shape.
    #[error("malformed {kind} payload: {reason}")]
    MalformedPayload {
        /// The message type.
        kind: &'static str,
        /// What serde said.
        reason: String,
    },
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Value,
}

/// Parses `event.data` of a `message` event from the Link origin.
pub fn parse_message(data: Value) -> Result<LinkMessage, MessageError> {
    let Envelope { kind, payload } =
        serde_json::from_value(data).map_err(|_| MessageError::NotLinkMessage)?;
    fn typed<T: serde::de::DeserializeOwned>(
        kind: &'static str,
        payload: Value,
    ) -> Result<T, MessageError> {
        serde_json::from_value(payload).map_err(|e| MessageError::MalformedPayload {
            kind,
            reason: e.to_string(),
        })
    }
    Ok(match kind.as_str() {
        "loaded" => LinkMessage::Loaded,
        "brokerageAccountAccessToken" => {
            LinkMessage::IntegrationConnected(IntegrationConnected::AccessToken(typed::<
                AccessTokenPayload,
            >(
                "brokerageAccountAccessToken",
                payload,
            )?))
        }
        "delayedAuthentication" => {
            LinkMessage::IntegrationConnected(IntegrationConnected::DelayedAuth(typed::<
                DelayedAuthPayload,
            >(
                "delayedAuthentication",
                payload,
            )?))
        }
        "transferFinished" => {
            LinkMessage::TransferFinished(typed("transferFinished", payload.clone())?, payload)
        }
        // Link is finished whatever its summary holds: one it cannot read is left out.
        "close" | "done" => LinkMessage::Exit(serde_json::from_value(payload).unwrap_or_default()),
        // Unknown keys are passed on too: Link adds events faster than clients update.
        key => LinkMessage::Event(LinkEvent {
            event_type: LinkEventType::from_key(key),
            payload,
        }),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn access_token_payload_parses_with_every_documented_field() {
        let message = parse_message(json!({
            "type": "brokerageAccountAccessToken",
            "payload": {
                "accountTokens": [{
                    "account": {"accountId": "acc-1", "accountName": "Individual", "fund": 1500.5, "cash": 200.0, "isReconnected": false},
                    "accessToken": "at-secret",
                    "refreshToken": "rt-secret",
                    "tokenId": "tok-1"
                }],
                "brokerBrandInfo": {"brokerLogo": "iVBORw0KGgo=", "logoLightUrl": "https://x/l.png"},
                "expiresInSeconds": 86400,
                "refreshTokenExpiresInSeconds": 2592000,
                "brokerType": "robinhood",
                "brokerName": "Robinhood"
            }
        }))
        .unwrap();
        let LinkMessage::IntegrationConnected(IntegrationConnected::AccessToken(payload)) = message
        else {
            panic!("expected an access token payload, got {message:?}");
        };
        assert_eq!(payload.broker_type, "robinhood");
        assert_eq!(payload.expires_in_seconds, Some(86400));
        let token = &payload.account_tokens[0];
        assert_eq!(token.account.account_id, "acc-1");
        assert_eq!(token.account.fund, Some(1500.5));
        assert_eq!(token.refresh_token.as_deref(), Some("rt-secret"));
        assert_eq!(token.token_id.as_deref(), Some("tok-1"));
        let debug = format!("{payload:?}");
        assert!(
            !debug.contains("at-secret") && !debug.contains("rt-secret"),
            "{debug}"
        );
    }

    #[test]
    fn odd_decoration_is_dropped_and_the_tokens_are_kept() {
        let message = parse_message(json!({
            "type": "brokerageAccountAccessToken",
            "payload": {
                "accountTokens": [{
                    "account": {"accountId": "acc-1", "accountName": null, "cash": "12.50", "fund": {"x": 1}, "extra": true},
                    "accessToken": "at-secret"
                }],
                "brokerType": "robinhood",
                "brokerName": "Robinhood",
                "somethingNew": [1, 2]
            }
        }))
        .unwrap();
        let LinkMessage::IntegrationConnected(IntegrationConnected::AccessToken(payload)) = message
        else {
            panic!("expected an access token payload, got {message:?}");
        };
        assert_eq!(payload.broker_brand_info, crate::BrandInfo::default());
        let token = &payload.account_tokens[0];
        assert_eq!(token.access_token, "at-secret");
        assert_eq!(token.account.account_name, "");
        assert_eq!((token.account.cash, token.account.fund), (None, None));

        let odd_brand = parse_message(json!({
            "type": "delayedAuthentication",
            "payload": {"refreshToken": "rt-x", "brokerType": "coinbase", "brokerName": "Coinbase", "brokerBrandInfo": {"brokerLogo": 7}}
        }));
        assert!(odd_brand.is_ok(), "{odd_brand:?}");
    }

    #[test]
    fn tokens_stay_strict() {
        let message = parse_message(json!({
            "type": "brokerageAccountAccessToken",
            "payload": {
                "accountTokens": [{"account": {"accountId": "acc-1"}, "accessToken": 42}],
                "brokerType": "robinhood",
                "brokerName": "Robinhood"
            }
        }));
        assert!(message.is_err(), "{message:?}");
    }

    #[test]
    fn delayed_auth_parses_and_redacts() {
        let message = parse_message(json!({
            "type": "delayedAuthentication",
            "payload": {"refreshToken": "rt-x", "brokerType": "coinbase", "brokerName": "Coinbase", "brokerBrandInfo": {"brokerLogo": ""}}
        }))
        .unwrap();
        let LinkMessage::IntegrationConnected(IntegrationConnected::DelayedAuth(payload)) = message
        else {
            panic!("expected delayed auth");
        };
        assert_eq!(payload.broker_type, "coinbase");
        assert!(!format!("{payload:?}").contains("rt-x"));
    }

    #[test]
    fn malformed_token_payload_is_an_error_not_a_panic() {
        let error = parse_message(json!({
            "type": "brokerageAccountAccessToken",
            "payload": {"accountTokens": "nope"}
        }))
        .unwrap_err();
        assert!(matches!(
            error,
            MessageError::MalformedPayload {
                kind: "brokerageAccountAccessToken",
                ..
            }
        ));
    }

    #[test]
    fn close_and_done_carry_the_session_summary() {
        let message = parse_message(json!({
            "type": "done",
            "payload": {"page": "integrationConnected", "selectedIntegration": {"id": "1", "name": "Robinhood"}, "errorMessage": "oops"}
        }))
        .unwrap();
        let LinkMessage::Exit(summary) = message else {
            panic!("expected exit");
        };
        assert_eq!(summary.page, "integrationConnected");
        assert_eq!(summary.error_message.as_deref(), Some("oops"));
        assert_eq!(
            parse_message(json!({"type": "close"})).unwrap(),
            LinkMessage::Exit(SessionSummary::default())
        );
        // Link is finished whatever its summary holds: an unreadable one still closes Link.
        for odd in [json!("a string"), json!({"page": 42}), json!([1, 2])] {
            assert_eq!(
                parse_message(json!({"type": "close", "payload": odd})).unwrap(),
                LinkMessage::Exit(SessionSummary::default())
            );
        }
    }

    #[test]
    fn generic_events_are_typed_and_keep_their_payload() {
        let message = parse_message(json!({
            "type": "integrationConnectionError",
            "payload": {"errorMessage": "Wrong password"}
        }))
        .unwrap();
        let LinkMessage::Event(event) = message else {
            panic!("expected an event");
        };
        assert_eq!(event.event_type, LinkEventType::IntegrationConnectionError);
        assert_eq!(event.error_message(), Some("Wrong password"));
    }

    #[test]
    fn keys_round_trip_and_unknown_keys_fall_back() {
        for key in [
            "integrationSelected",
            "SDKinjectedWalletProviders",
            "linkTransferQRGenerated",
            "withdrawalRequested",
        ] {
            assert_eq!(LinkEventType::from_key(key).key(), key);
        }
        assert_eq!(
            LinkEventType::from_key("brandNewEvent"),
            LinkEventType::Unknown("brandNewEvent".into())
        );
    }

    #[test]
    fn unknown_types_become_unknown_events_and_shapeless_data_is_rejected() {
        let message = parse_message(json!({"type": "somethingNew", "payload": {"a": 1}})).unwrap();
        assert_eq!(
            message,
            LinkMessage::Event(LinkEvent {
                event_type: LinkEventType::Unknown("somethingNew".into()),
                payload: json!({"a": 1}),
            })
        );
        assert_eq!(
            parse_message(json!("a string")),
            Err(MessageError::NotLinkMessage)
        );
        assert_eq!(
            parse_message(json!({"payload": {}})),
            Err(MessageError::NotLinkMessage)
        );
    }
}
