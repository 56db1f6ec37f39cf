//! The emulator's own reading of Mesh's wire format: a link token's `transferOptions`, the
//! networks Mesh names, amounts as JSON numbers and the webhook signature. Written from Mesh's
//! spec apart from the client's types, so a wrong field name cannot pass on both sides at once.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::Sha256;

/// A network of Mesh's `GET /api/v1/transfers/managed/networks`, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    /// Mesh's network id.
    pub id: &'static str,
    /// The name Mesh shows.
    pub name: &'static str,
}

/// The networks the emulator transfers on (their ids as in Mesh's docs).
pub const NETWORKS: [Network; 4] = [
    Network {
        id: "e3c7fdd8-b1fc-4e51-85ae-bb276e075611",
        name: "Ethereum",
    },
    Network {
        id: "7436e9d0-ba42-4d2b-b4c0-8e4e606b2c12",
        name: "Polygon",
    },
    Network {
        id: "0291810a-5947-424d-9a59-e88bb33e999d",
        name: "Solana",
    },
    Network {
        id: "aa883b03-120d-477c-a588-37c2afd3ca71",
        name: "Base",
    },
];

impl Network {
    /// The network with this id or name (any case).
    pub fn find(name_or_id: &str) -> Option<Network> {
        NETWORKS.into_iter().find(|network| {
            network.id.eq_ignore_ascii_case(name_or_id)
                || network.name.eq_ignore_ascii_case(name_or_id)
        })
    }
}

/// `LinkTokenTransferOptions` of Mesh's spec: the fields the emulator acts on.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferOptions {
    /// `toAddresses`: where the funds may go.
    pub to_addresses: Vec<ToAddress>,
    /// `amountInFiat`, in USD.
    #[serde(default, deserialize_with = "amount")]
    pub amount_in_fiat: Option<Decimal>,
    /// `transferType`; read so that a malformed one is refused, as Mesh refuses it.
    #[serde(default)]
    #[allow(dead_code)]
    pub transfer_type: Option<String>,
    /// `transactionId`: the client's id of the transfer.
    #[serde(default)]
    pub transaction_id: Option<String>,
}

/// One of `toAddresses`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToAddress {
    /// `networkId`.
    pub network_id: String,
    /// `symbol`.
    pub symbol: String,
    /// `address`.
    pub address: String,
    /// `amount`, in the asset.
    #[serde(default, deserialize_with = "amount")]
    pub amount: Option<Decimal>,
}

/// Reads an amount from its JSON text (a number, or a string holding one) without `f64`.
fn amount<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    let Some(raw) = Option::<Box<RawValue>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let text = raw.get().trim_matches('"');
    if text == "null" {
        return Ok(None);
    }
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map(Some)
        .map_err(|_| D::Error::custom(format!("not an amount: {}", raw.get())))
}

/// An amount as Mesh writes one: a JSON number.
pub fn json_number(amount: Decimal) -> Value {
    serde_json::Number::from_str(&amount.normalize().to_string()).map_or(Value::Null, Value::Number)
}

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-mesh-signature-256";

/// The Base64 HMAC-SHA-256 of `body` under `secret`, as Mesh signs a webhook.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_from_their_text() {
        let options: TransferOptions = serde_json::from_str(
            r#"{"toAddresses":[{"networkId":"x","symbol":"ETH","address":"0x1","amount":"0.1"}],
                "amountInFiat":1234567890.123456789,"transferType":null}"#,
        )
        .unwrap();
        assert_eq!(
            options.amount_in_fiat.unwrap().to_string(),
            "1234567890.123456789"
        );
        assert_eq!(options.to_addresses[0].amount.unwrap().to_string(), "0.1");
        assert!(
            serde_json::from_str::<ToAddress>(
                r#"{"networkId":"x","symbol":"ETH","address":"0x1","amount":true}"#
            )
            .is_err()
        );
    }
}
