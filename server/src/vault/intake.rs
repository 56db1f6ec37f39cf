//! What Link hands over, checked before it reaches the vault: tokens and ids strictly (a bad one
//! refuses the save, naming the field), names and logos leniently (a token is never lost for a logo).

use rust_decimal::Decimal;
use secrecy::SecretString;

use super::{BrokerInfo, BrokerTokens, ConnectedAccounts, NewAccount, PendingConnection};

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Longest id or name accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 256;
/// Most accounts in one payload.
pub const MAX_ACCOUNTS: usize = 50;
/// Largest logo kept; a larger one is dropped so a token is never lost for a logo.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// Longest token lifetime believed (ten years); longer values are treated as absent.
const MAX_LIFETIME_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// A refused payload: the sentence names the first field that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IntakeError(pub String);

/// The broker, as Link describes it.
#[derive(Clone, Debug, Default)]
pub struct LinkedBroker {
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// Display name.
    pub broker_name: String,
    /// Base64 logo; empty when Link sent none.
    pub logo: String,
}

/// One account Link connected, with its tokens (never logged: `Debug` is not derived).
pub struct LinkedAccount {
    /// The institution's account id.
    pub account_id: String,
    /// Its name; empty or unusable falls back to the id.
    pub account_name: String,
    /// Cash, when reported.
    pub cash: Option<f64>,
    /// Fund value, when reported.
    pub fund: Option<f64>,
    /// Mesh Managed Tokens id.
    pub token_id: Option<String>,
    /// The access token.
    pub access_token: String,
    /// The refresh token, when the broker issues one.
    pub refresh_token: Option<String>,
}

/// Checks every limit of the accounts Link connected together; the first violation names its
/// field (`accountTokens[1].accessToken`, as in Link's payload).
pub fn accounts(
    broker: LinkedBroker,
    entries: Vec<LinkedAccount>,
    expires_in_seconds: Option<u64>,
    refresh_expires_in_seconds: Option<u64>,
) -> Result<ConnectedAccounts, IntakeError> {
    let count = entries.len();
    if count == 0 || count > MAX_ACCOUNTS {
        return Err(IntakeError(format!(
            "accountTokens must hold 1 to {MAX_ACCOUNTS} accounts, not {count}."
        )));
    }
    let broker = broker_info(broker)?;
    let accounts = entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let field = |name: &str| format!("accountTokens[{i}].{name}");
            let account_id = text(&field("account.accountId"), entry.account_id)?;
            // A missing or unusable name is decoration: show the account id instead.
            let account_name = if is_text(&entry.account_name) {
                entry.account_name
            } else {
                account_id.clone()
            };
            Ok(NewAccount {
                account_id,
                account_name,
                cash: amount(&field("account.cash"), entry.cash)?,
                fund: amount(&field("account.fund"), entry.fund)?,
                token_id: entry
                    .token_id
                    .map(|id| text(&field("tokenId"), id))
                    .transpose()?,
                tokens: BrokerTokens {
                    access_token: token(&field("accessToken"), entry.access_token)?,
                    refresh_token: entry
                        .refresh_token
                        .map(|t| token(&field("refreshToken"), t))
                        .transpose()?,
                },
            })
        })
        .collect::<Result<Vec<_>, IntakeError>>()?;
    Ok(ConnectedAccounts {
        broker,
        accounts,
        expires_in_seconds: lifetime(expires_in_seconds),
        refresh_expires_in_seconds: lifetime(refresh_expires_in_seconds),
    })
}

/// Checks a delayed authentication: a refresh token, no account yet.
pub fn pending(
    broker: LinkedBroker,
    refresh_token: String,
    refresh_expires_in_seconds: Option<u64>,
) -> Result<PendingConnection, IntakeError> {
    Ok(PendingConnection {
        refresh_token: token("refreshToken", refresh_token)?,
        refresh_expires_in_seconds: lifetime(refresh_expires_in_seconds),
        broker: broker_info(broker)?,
    })
}

fn token(field: &str, value: String) -> Result<SecretString, IntakeError> {
    if value.is_empty() || value.len() > MAX_TOKEN_BYTES {
        return Err(IntakeError(format!(
            "{field} must be 1 to {MAX_TOKEN_BYTES} bytes."
        )));
    }
    Ok(SecretString::from(value))
}

/// 1 to [`MAX_TEXT_CHARS`] characters, none of them control characters.
fn is_text(value: &str) -> bool {
    let chars = value.chars().count();
    chars > 0 && chars <= MAX_TEXT_CHARS && !value.chars().any(char::is_control)
}

fn text(field: &str, value: String) -> Result<String, IntakeError> {
    if !is_text(&value) {
        return Err(IntakeError(format!(
            "{field} must be 1 to {MAX_TEXT_CHARS} characters of text."
        )));
    }
    Ok(value)
}

/// Link's amounts are JavaScript numbers: their shortest decimal spelling (what Rust prints) is
/// exactly what the user saw, and that is what is kept.
fn amount(field: &str, value: Option<f64>) -> Result<Option<Decimal>, IntakeError> {
    value
        .map(|v| {
            v.is_finite()
                .then(|| v.to_string().parse::<Decimal>().ok())
                .flatten()
                .ok_or_else(|| IntakeError(format!("{field} must be a number.")))
        })
        .transpose()
}

fn lifetime(value: Option<u64>) -> Option<u64> {
    value.filter(|&s| s <= MAX_LIFETIME_SECONDS)
}

fn broker_info(broker: LinkedBroker) -> Result<BrokerInfo, IntakeError> {
    let logo = if broker.logo.is_empty() {
        None
    } else if broker.logo.len() > MAX_LOGO_BYTES {
        tracing::info!(
            bytes = broker.logo.len(),
            "dropping an oversized broker logo"
        );
        None
    } else {
        Some(broker.logo)
    };
    Ok(BrokerInfo {
        broker_type: text("brokerType", broker.broker_type)?,
        broker_name: text("brokerName", broker.broker_name)?,
        logo,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, access_token: &str) -> LinkedAccount {
        LinkedAccount {
            account_id: id.into(),
            account_name: String::new(),
            cash: Some(1.5),
            fund: None,
            token_id: None,
            access_token: access_token.into(),
            refresh_token: None,
        }
    }

    fn broker(logo: String) -> LinkedBroker {
        LinkedBroker {
            broker_type: "robinhood".into(),
            broker_name: "Robinhood".into(),
            logo,
        }
    }

    #[test]
    fn decoration_is_lenient_and_tokens_are_strict() {
        let big_logo = "A".repeat(MAX_LOGO_BYTES + 1);
        let kept = accounts(
            broker(big_logo),
            vec![account("a", "at")],
            None,
            Some(u64::MAX),
        )
        .expect("a logo never costs the tokens");
        assert_eq!(kept.broker.logo, None);
        assert_eq!(
            kept.accounts[0].account_name, "a",
            "no name: the id stands in"
        );
        assert_eq!(
            kept.refresh_expires_in_seconds, None,
            "an absurd lifetime is ignored"
        );

        let refused = accounts(
            broker(String::new()),
            vec![account("a", "at"), account("b", "")],
            None,
            None,
        )
        .expect_err("an empty token is refused");
        assert_eq!(
            refused.0,
            "accountTokens[1].accessToken must be 1 to 8192 bytes."
        );
        assert!(pending(broker(String::new()), String::new(), None).is_err());
    }
}
