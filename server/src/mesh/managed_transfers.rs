//! Transfers through Link: the `transferOptions` of a link token, the networks Mesh names, and
//! `GET /api/v1/transfers/managed/mesh`, where Mesh lists the transfers Link made.

use serde::{Deserialize, Serialize};

use super::Amount;

/// A network Mesh knows by id (`GET /api/v1/transfers/managed/networks` lists them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    /// Mesh's network id.
    pub id: &'static str,
    /// The name Mesh shows, for example `Ethereum`.
    pub name: &'static str,
    /// Whether addresses are Ethereum-style (`0x` and 40 hex digits).
    pub evm: bool,
}

/// The networks named in Mesh's docs and spec, with their ids.
pub const NETWORKS: [Network; 4] = [
    Network {
        id: "e3c7fdd8-b1fc-4e51-85ae-bb276e075611",
        name: "Ethereum",
        evm: true,
    },
    Network {
        id: "7436e9d0-ba42-4d2b-b4c0-8e4e606b2c12",
        name: "Polygon",
        evm: true,
    },
    Network {
        id: "0291810a-5947-424d-9a59-e88bb33e999d",
        name: "Solana",
        evm: false,
    },
    Network {
        id: "aa883b03-120d-477c-a588-37c2afd3ca71",
        name: "Base",
        evm: true,
    },
];

impl Network {
    /// The network with this name (any case) or id.
    pub fn find(name_or_id: &str) -> Option<Network> {
        NETWORKS.into_iter().find(|network| {
            network.id.eq_ignore_ascii_case(name_or_id)
                || network.name.eq_ignore_ascii_case(name_or_id)
        })
    }
}

/// `LinkTokenTransferOptions`: what Link transfers after the account connects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferOptions {
    /// Where the funds may go; Link offers these and nothing else.
    pub to_addresses: Vec<ToAddress>,
    /// The amount in USD, when it is given in fiat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_in_fiat: Option<Amount>,
    /// `deposit`, `payment`, `onramp`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_type: Option<String>,
    /// Your id of this transfer (0–128 characters); Mesh reports it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

/// One destination of a transfer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToAddress {
    /// Mesh's network id.
    pub network_id: String,
    /// The asset's symbol, for example `USDC`.
    pub symbol: String,
    /// The receiving address.
    pub address: String,
    /// The amount in the asset, when it is given that way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
}

/// `TransferModel`: one transfer Link made, as `GET /api/v1/transfers/managed/mesh` lists it
/// (the fields this app reads; the others are ignored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedTransfer {
    /// Mesh's transfer id.
    pub id: String,
    /// Your `transactionId`.
    #[serde(default)]
    pub client_transaction_id: Option<String>,
    /// The link token's `userId`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// The amount sent, in the asset.
    #[serde(default)]
    pub amount: Option<Amount>,
    /// The amount that arrives, in the asset.
    #[serde(default)]
    pub destination_amount: Option<Amount>,
    /// The asset.
    #[serde(default)]
    pub symbol: Option<String>,
    /// The network's name.
    #[serde(default)]
    pub network_name: Option<String>,
    /// The on-chain transaction.
    #[serde(default)]
    pub hash: Option<String>,
}

/// `TransferModelPaginationResponse`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedTransferPage {
    /// The transfers on this page.
    #[serde(default)]
    pub items: Option<Vec<ManagedTransfer>>,
    /// How many match in all.
    #[serde(default)]
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_found_by_name_or_id() {
        assert_eq!(Network::find("base").map(|n| n.name), Some("Base"));
        assert_eq!(
            Network::find("0291810A-5947-424D-9A59-E88BB33E999D").map(|n| n.name),
            Some("Solana")
        );
        assert_eq!(Network::find("dogechain"), None);
    }

    #[test]
    fn transfer_options_serialize_as_mesh_names_them() {
        let options = TransferOptions {
            to_addresses: vec![ToAddress {
                network_id: NETWORKS[0].id.into(),
                symbol: "USDC".into(),
                address: "0xabc".into(),
                amount: None,
            }],
            amount_in_fiat: Some(Amount("25.5".parse().expect("decimal"))),
            transfer_type: Some("deposit".into()),
            transaction_id: Some("t-1".into()),
        };
        assert_eq!(
            serde_json::to_value(&options).expect("serializes"),
            serde_json::json!({
                "toAddresses": [{"networkId": NETWORKS[0].id, "symbol": "USDC", "address": "0xabc"}],
                "amountInFiat": 25.5, "transferType": "deposit", "transactionId": "t-1",
            })
        );
    }
}
