//! Mesh's transfer webhooks: the signature over the raw body, and the event it carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::Amount;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-mesh-signature-256";

/// The Base64 HMAC-SHA-256 of `body` under `secret`, as Mesh sends it (the emulator signs with it).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(mac(secret, body).finalize().into_bytes())
}

// Mesh signs each delivery with `X-Mesh-Signature-256`: the Base64 of an HMAC-SHA-256 over the
// raw body bytes, keyed with the secret shown once in Mesh's dashboard. The signature is checked
// before anything is parsed; the body is never re-serialised.
/// True when `signature` (the header's value) is the signature of `body` under `secret`. The
/// comparison takes the same time wherever the bytes differ.
pub fn signature_matches(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(sent) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(secret, body).verify_slice(&sent).is_ok()
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    mac
}

/// A transfer's state as Mesh reports it. Refund states and any later ones are kept as
/// [`TransferStatus::Other`] and not applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum TransferStatus {
    /// Sent, not yet final.
    Pending,
    /// Final: the funds arrived.
    Succeeded,
    /// Final: the transfer did not happen.
    Failed,
    /// A state this app does not act on (for example `RefundPending`).
    Other(String),
}

impl<'de> Deserialize<'de> for TransferStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Mesh's sources differ in case: compare without it.
        Ok(match text.to_ascii_lowercase().as_str() {
            "pending" => Self::Pending,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => Self::Other(text),
        })
    }
}

/// One webhook delivery. The body is flat; unknown fields are ignored, `EventId` is required.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransferEvent {
    /// The same on every retry of one event: deliveries are deduplicated by it.
    pub event_id: String,
    /// New on every attempt.
    #[serde(default)]
    pub id: Option<String>,
    /// When this attempt was sent (Unix time).
    #[serde(default)]
    pub sent_timestamp: Option<i64>,
    /// Mesh's id of the transfer.
    pub transfer_id: String,
    /// The transfer's state.
    pub transfer_status: TransferStatus,
    /// The `userId` the link token was created for.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The asset's symbol.
    #[serde(default)]
    pub token: Option<String>,
    /// The network.
    #[serde(default)]
    pub chain: Option<String>,
    /// The amount that arrives.
    #[serde(default)]
    pub destination_amount: Option<Amount>,
    /// The amount sent.
    #[serde(default)]
    pub source_amount: Option<Amount>,
    /// The receiving address.
    #[serde(default)]
    pub destination_address: Option<String>,
    /// The on-chain transaction, once there is one.
    #[serde(default)]
    pub tx_hash: Option<String>,
}

impl TransferEvent {
    /// When the attempt was sent, in Unix seconds (Mesh's docs say "unix, long" without a unit:
    /// values too large for seconds are read as milliseconds).
    pub fn sent_at_seconds(&self) -> Option<i64> {
        self.sent_timestamp.map(|sent| {
            if sent > 100_000_000_000 {
                sent / 1000
            } else {
                sent
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_only_its_body_and_secret() {
        let body = br#"{"EventId":"e1","TransferId":"t1","TransferStatus":"pending"}"#;
        let signature = sign(b"secret", body);
        assert!(signature_matches(b"secret", body, &signature));
        assert!(!signature_matches(b"other", body, &signature));
        assert!(!signature_matches(b"secret", b"{}", &signature));
        assert!(!signature_matches(b"secret", body, "not base64!"));
        assert!(!signature_matches(b"secret", body, ""));
    }

    #[test]
    fn the_known_answer_of_rfc_4231_case_2() {
        // HMAC-SHA-256, key "Jefe", data "what do ya want for nothing?".
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let signature = STANDARD
            .decode(sign(b"Jefe", b"what do ya want for nothing?"))
            .unwrap();
        let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn events_read_any_case_of_status_and_ignore_unknown_fields() {
        let event: TransferEvent = serde_json::from_str(
            r#"{"EventId":"e","Id":"i","SentTimestamp":1764000000000,"TransferId":"t",
                "TransferStatus":"SUCCEEDED","DestinationAmount":0.1,"Surprise":true}"#,
        )
        .unwrap();
        assert_eq!(event.transfer_status, TransferStatus::Succeeded);
        assert_eq!(event.sent_at_seconds(), Some(1_764_000_000));
        assert_eq!(event.destination_amount.unwrap().0.to_string(), "0.1");
        let refund: TransferEvent = serde_json::from_str(
            r#"{"EventId":"e","TransferId":"t","TransferStatus":"RefundPending"}"#,
        )
        .unwrap();
        assert_eq!(
            refund.transfer_status,
            TransferStatus::Other("RefundPending".into())
        );
        assert!(serde_json::from_str::<TransferEvent>(r#"{"TransferId":"t"}"#).is_err());
    }
}
