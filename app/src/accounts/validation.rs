//! Link's wire payload mapped onto the vault's intake, whose rules (`server::vault::intake`)
//! decide what is stored: strict with tokens and ids, lenient with decoration.

use server::vault::intake::{self, IntakeError, LinkedAccount, LinkedBroker};
use server::vault::{ConnectedAccounts, PendingConnection};

use crate::error::AppError;
use mesh_link::{AccessTokenPayload, BrandInfo, DelayedAuthPayload};

/// The accounts of an access-token payload, checked; a refusal names the field.
pub fn validate_accounts(payload: AccessTokenPayload) -> Result<ConnectedAccounts, AppError> {
    let entries = payload
        .account_tokens
        .into_iter()
        .map(|entry| LinkedAccount {
            account_id: entry.account.account_id,
            account_name: entry.account.account_name,
            cash: entry.account.cash,
            fund: entry.account.fund,
            token_id: entry.token_id,
            access_token: entry.access_token,
            refresh_token: entry.refresh_token,
        })
        .collect();
    intake::accounts(
        broker(
            payload.broker_type,
            payload.broker_name,
            payload.broker_brand_info,
        ),
        entries,
        payload.expires_in_seconds,
        payload.refresh_token_expires_in_seconds,
    )
    .map_err(refused)
}

/// A delayed-authentication payload, checked.
pub fn validate_pending(payload: DelayedAuthPayload) -> Result<PendingConnection, AppError> {
    intake::pending(
        broker(
            payload.broker_type,
            payload.broker_name,
            payload.broker_brand_info,
        ),
        payload.refresh_token,
        payload.refresh_token_expires_in_seconds,
    )
    .map_err(refused)
}

fn broker(broker_type: String, broker_name: String, brand: BrandInfo) -> LinkedBroker {
    LinkedBroker {
        broker_type,
        broker_name,
        logo: brand.broker_logo,
    }
}

fn refused(error: IntakeError) -> AppError {
    AppError::invalid(error.0)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use server::vault::intake::MAX_LOGO_BYTES;

    use super::*;
    use crate::error::ErrorKind;
    use mesh_link::{Account, AccountToken};

    fn entry(id: &str) -> AccountToken {
        AccountToken {
            account: Account {
                account_id: id.into(),
                account_name: "Individual".into(),
                fund: Some(10.0),
                cash: Some(5.0),
                is_reconnected: None,
            },
            access_token: "at".into(),
            refresh_token: Some("rt".into()),
            token_id: None,
        }
    }

    fn payload(entries: Vec<AccountToken>) -> AccessTokenPayload {
        AccessTokenPayload {
            account_tokens: entries,
            broker_brand_info: BrandInfo {
                broker_logo: "iVBOR".into(),
                ..Default::default()
            },
            expires_in_seconds: Some(60),
            refresh_token_expires_in_seconds: None,
            broker_type: "robinhood".into(),
            broker_name: "Robinhood".into(),
        }
    }

    fn refused(payload: AccessTokenPayload) -> String {
        let error = validate_accounts(payload).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        error.message
    }

    #[test]
    fn a_valid_payload_becomes_vault_accounts() {
        let accounts = validate_accounts(payload(vec![entry("a"), entry("b")])).unwrap();
        assert_eq!(accounts.accounts.len(), 2);
        assert_eq!(
            accounts.accounts[1].tokens.access_token.expose_secret(),
            "at"
        );
        assert_eq!(accounts.broker.logo.as_deref(), Some("iVBOR"));
        assert_eq!(accounts.expires_in_seconds, Some(60));
    }

    #[test]
    fn account_count_is_limited() {
        assert_eq!(
            refused(payload(vec![])),
            "accountTokens must hold 1 to 50 accounts, not 0."
        );
        let many = (0..51).map(|i| entry(&i.to_string())).collect();
        assert!(refused(payload(many)).contains("not 51"));
    }

    #[test]
    fn tokens_must_be_1_byte_to_8_kib() {
        let mut empty = entry("a");
        empty.access_token = String::new();
        assert_eq!(
            refused(payload(vec![entry("ok"), empty])),
            "accountTokens[1].accessToken must be 1 to 8192 bytes."
        );
        let mut huge = entry("a");
        huge.refresh_token = Some("x".repeat(8 * 1024 + 1));
        assert!(refused(payload(vec![huge])).starts_with("accountTokens[0].refreshToken"));
        let mut largest = entry("a");
        largest.access_token = "x".repeat(8 * 1024);
        assert!(validate_accounts(payload(vec![largest])).is_ok());
    }

    #[test]
    fn ids_and_names_are_limited_to_256_characters() {
        let mut long = entry(&"é".repeat(257));
        assert!(
            refused(payload(vec![long.clone()])).starts_with("accountTokens[0].account.accountId")
        );
        long.account.account_id = "é".repeat(256);
        assert!(validate_accounts(payload(vec![long])).is_ok());
        let mut nameless = payload(vec![entry("a")]);
        nameless.broker_name = String::new();
        assert!(refused(nameless).starts_with("brokerName"));
        let mut control = payload(vec![entry("a")]);
        control.broker_type = "robin\u{0}hood".into();
        assert!(refused(control).starts_with("brokerType"));
    }

    #[test]
    fn a_missing_or_unusable_account_name_falls_back_to_the_account_id() {
        for name in ["", "bad\u{0}name"] {
            let mut nameless = entry("acc-7");
            nameless.account.account_name = name.into();
            let accounts = validate_accounts(payload(vec![nameless])).unwrap();
            assert_eq!(accounts.accounts[0].account_name, "acc-7");
        }
    }

    #[test]
    fn amounts_must_be_numbers() {
        let mut nan = entry("a");
        nan.account.cash = Some(f64::NAN);
        assert_eq!(
            refused(payload(vec![nan])),
            "accountTokens[0].account.cash must be a number."
        );
    }

    #[test]
    fn an_oversized_logo_is_dropped_not_refused() {
        let mut big = payload(vec![entry("a")]);
        big.broker_brand_info.broker_logo = "A".repeat(MAX_LOGO_BYTES + 1);
        let accounts = validate_accounts(big).unwrap();
        assert!(accounts.broker.logo.is_none());
        assert_eq!(accounts.accounts.len(), 1);
    }

    #[test]
    fn delayed_auth_needs_a_refresh_token() {
        let pending = DelayedAuthPayload {
            refresh_token: String::new(),
            refresh_token_expires_in_seconds: None,
            broker_type: "coinbase".into(),
            broker_name: "Coinbase".into(),
            broker_brand_info: BrandInfo::default(),
        };
        assert_eq!(
            validate_pending(pending).unwrap_err().message,
            "refreshToken must be 1 to 8192 bytes."
        );
    }
}
