//! Transfers through the emulated Link: the preview and execution steps, and what
//! `GET /api/v1/transfers/managed/mesh` serves from the transfer book (settling them and their
//! webhooks is [`super::settlement`]).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::brokers::Broker;
use super::reply::ok;
use super::settlement::settle;
use super::state::{EmulatorState, authorized, lock};
use super::tokens::random_code;
use super::transfer_book::{DEFAULT_SETTLE_AFTER, Outcome, Preview, Transfer, WebhookFault};
use super::wire::{NETWORKS, Network, TransferOptions, json_number, unix_now};

/// USD prices of the emulated market.
fn price_in_usd(symbol: &str) -> Decimal {
    let price = match symbol {
        "ETH" | "WETH" => "3000",
        "BTC" | "WBTC" => "60000",
        "SOL" => "150",
        "POL" | "MATIC" => "0.5",
        _ => "1",
    };
    Decimal::from_str(price).unwrap_or(Decimal::ONE)
}

/// The network fee, in USD.
fn fee_in_usd(network: &Network) -> Decimal {
    let fee = if network.name == "Ethereum" {
        "1.25"
    } else {
        "0.01"
    };
    Decimal::from_str(fee).unwrap_or(Decimal::ZERO)
}

/// Why a preview cannot be made.
pub fn preview(options: &TransferOptions, index: usize) -> Result<Preview, &'static str> {
    let to = options
        .to_addresses
        .get(index)
        .ok_or("Choose one of the offered assets.")?;
    let network = Network::find(&to.network_id).ok_or("This network is not supported.")?;
    let price = price_in_usd(&to.symbol);
    let (amount, amount_in_fiat) = match (to.amount, options.amount_in_fiat) {
        (Some(amount), _) => (amount, (amount * price).round_dp(2)),
        (None, Some(fiat)) => ((fiat / price).round_dp(8), fiat),
        (None, None) => return Err("The transfer names no amount."),
    };
    if amount <= Decimal::ZERO {
        return Err("The amount must be above zero.");
    }
    Ok(Preview {
        id: random_code(),
        index,
        amount: amount.normalize(),
        amount_in_fiat,
        fee_in_fiat: fee_in_usd(&network),
    })
}

/// The preview as the Link page shows it.
pub fn preview_json(options: &TransferOptions, preview: &Preview) -> Value {
    let to = &options.to_addresses[preview.index];
    json!({
        "previewId": preview.id,
        "symbol": to.symbol,
        "networkName": Network::find(&to.network_id).map(|n| n.name),
        "toAddress": to.address,
        "amount": preview.amount.to_string(),
        "amountInFiat": format!("{:.2}", preview.amount_in_fiat),
        "feeInFiat": format!("{:.2}", preview.fee_in_fiat),
        "totalInFiat": format!("{:.2}", preview.amount_in_fiat + preview.fee_in_fiat),
    })
}

/// Executes `preview` for `user_id` from `broker`: records the transfer as pending, starts its
/// settlement and webhooks, and returns the `transferFinished` payload Link posts to the host.
pub fn execute(
    state: &Arc<EmulatorState>,
    user_id: &str,
    broker: &'static Broker,
    options: &TransferOptions,
    preview: &Preview,
) -> Value {
    let to = &options.to_addresses[preview.index];
    let network = Network::find(&to.network_id).unwrap_or(NETWORKS[0]);
    let now = unix_now();
    let transfer = Transfer {
        id: uuid::Uuid::new_v4().to_string(),
        client_transaction_id: options.transaction_id.clone(),
        user_id: user_id.to_string(),
        status: "pending",
        symbol: to.symbol.clone(),
        network,
        address: to.address.clone(),
        amount: preview.amount,
        amount_in_fiat: preview.amount_in_fiat,
        fee_in_fiat: preview.fee_in_fiat,
        hash: Some(format!("0x{}{}", random_code(), random_code())),
        from: broker,
        created: now,
        executed: Some(now),
    };
    let (outcome, settle_after, fault) = {
        let mut book = lock(&state.transfers);
        book.transfers.push(transfer.clone());
        let fault = (!book.webhook_faults.is_empty()).then(|| book.webhook_faults.remove(0));
        (book.next_outcome, book.settle_after, fault)
    };
    tokio::spawn(settle(
        state.clone(),
        transfer.id.clone(),
        outcome,
        settle_after,
        fault,
    ));
    json!({
        "status": "success",
        "txId": transfer.id,
        "transferId": transfer.id,
        "fromAddress": format!("{}-{}", broker.broker_type, &user_id.chars().take(8).collect::<String>()),
        "toAddress": transfer.address,
        "symbol": transfer.symbol,
        "amount": json_number(transfer.amount),
        "networkId": network.id,
        "networkName": network.name,
        "userId": transfer.user_id,
        "clientTransactionId": transfer.client_transaction_id,
        "amountInFiat": json_number(transfer.amount_in_fiat),
        "totalAmountInFiat": json_number(transfer.amount_in_fiat + transfer.fee_in_fiat),
        "txHash": transfer.hash,
    })
}

/// The `TransferModel` of a transfer, with the spec's field names.
fn transfer_model(transfer: &Transfer) -> Value {
    let fee = json!({
        "fee": json_number((transfer.fee_in_fiat / price_in_usd(&transfer.symbol)).round_dp(8)),
        "feeCurrency": transfer.symbol,
        "feeInFiat": json_number(transfer.fee_in_fiat),
    });
    json!({
        "id": transfer.id,
        "clientTransactionId": transfer.client_transaction_id,
        "institutionTransactionId": null,
        "userId": transfer.user_id,
        "status": transfer.status,
        "amountInFiat": json_number(transfer.amount_in_fiat),
        "amountToReceiveInFiat": json_number(transfer.amount_in_fiat),
        "amountInFiatCurrencyCode": "USD",
        "amount": json_number(transfer.amount),
        "amountToReceive": json_number(transfer.amount),
        "symbol": transfer.symbol,
        "tokenAddress": null,
        "networkName": transfer.network.name,
        "networkId": transfer.network.id,
        "networkLogoUrl": null,
        "createdTimestamp": transfer.created,
        "from": {
            "id": transfer.from.broker_type,
            "type": transfer.from.broker_type,
            "name": transfer.from.name,
            "logoUrl": null,
        },
        "hash": transfer.hash,
        "infoUrl": null,
        "gasFee": fee,
        "executedTimestamp": transfer.executed,
        "transferType": "deposit",
        "isFeeIncluded": false,
        "sourceAmount": json_number(transfer.amount),
        "destinationAmount": json_number(transfer.amount),
        "totalFeesAmountInFiat": json_number(transfer.fee_in_fiat),
        "totalTransactionAmountInFiat": json_number(transfer.amount_in_fiat + transfer.fee_in_fiat),
        "destinationAddress": transfer.address,
    })
}

/// `GET /api/v1/transfers/managed/mesh` and the `/_emulator/` transfer controls.
pub fn routes() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/api/v1/transfers/managed/mesh", get(managed_transfers))
        .route("/_emulator/transfers", post(set_outcome))
        .route("/_emulator/webhooks", post(queue_webhook_fault))
}

/// Filters of `GET /api/v1/transfers/managed/mesh` (`Statuses` may repeat).
async fn managed_transfers(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut filters: HashMap<&str, Vec<&str>> = HashMap::new();
    for (key, value) in &query {
        filters
            .entry(key.as_str())
            .or_default()
            .push(value.as_str());
    }
    let one = |key: &str| filters.get(key).and_then(|values| values.first().copied());
    let number =
        |key: &str, default: usize| one(key).and_then(|n| n.parse().ok()).unwrap_or(default);
    let (count, offset) = (number("Count", 10).min(100), number("Offset", 0));
    let statuses = filters.get("Statuses").cloned().unwrap_or_default();
    let book = lock(&state.transfers);
    let matching: Vec<&Transfer> = book
        .transfers
        .iter()
        .rev()
        .filter(|t| one("Id").is_none_or(|id| id.eq_ignore_ascii_case(&t.id)))
        .filter(|t| one("UserId").is_none_or(|user| user == t.user_id))
        .filter(|t| {
            one("ClientTransactionId")
                .is_none_or(|id| t.client_transaction_id.as_deref() == Some(id))
        })
        .filter(|t| {
            statuses.is_empty() || statuses.iter().any(|s| s.eq_ignore_ascii_case(t.status))
        })
        .collect();
    let items: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(count)
        .map(|t| transfer_model(t))
        .collect();
    ok(json!({ "items": items, "total": matching.len() }))
}

/// The body of `POST /_emulator/transfers`: how the next transfers end.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NextTransfers {
    outcome: Outcome,
    #[serde(default)]
    settle_ms: Option<u64>,
}

async fn set_outcome(
    State(state): State<Arc<EmulatorState>>,
    Json(next): Json<NextTransfers>,
) -> StatusCode {
    let mut book = lock(&state.transfers);
    book.next_outcome = next.outcome;
    book.settle_after = next.settle_ms.map_or(DEFAULT_SETTLE_AFTER, |ms| {
        Duration::from_millis(ms.min(60_000))
    });
    StatusCode::NO_CONTENT
}

/// The body of `POST /_emulator/webhooks`: a fault for the next transfer's webhooks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueuedWebhookFault {
    fault: WebhookFault,
}

async fn queue_webhook_fault(
    State(state): State<Arc<EmulatorState>>,
    Json(queued): Json<QueuedWebhookFault>,
) -> StatusCode {
    lock(&state.transfers).webhook_faults.push(queued.fault);
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::super::wire::ToAddress;
    use super::*;

    fn options(amount: Option<&str>, fiat: Option<&str>) -> TransferOptions {
        TransferOptions {
            to_addresses: vec![ToAddress {
                network_id: NETWORKS[0].id.into(),
                symbol: "ETH".into(),
                address: "0xabc".into(),
                amount: amount.map(|a| a.parse().expect("decimal")),
            }],
            amount_in_fiat: fiat.map(|a| a.parse().expect("decimal")),
            transfer_type: Some("deposit".into()),
            transaction_id: None,
        }
    }

    #[test]
    fn a_preview_converts_fiat_at_the_emulated_price() {
        let preview = preview(&options(None, Some("75")), 0).expect("previewed");
        assert_eq!(preview.amount.to_string(), "0.025");
        assert_eq!(preview.fee_in_fiat.to_string(), "1.25");
        let by_amount = super::preview(&options(Some("0.5"), None), 0).expect("previewed");
        assert_eq!(by_amount.amount_in_fiat.to_string(), "1500.0");
        assert!(super::preview(&options(None, None), 0).is_err());
        assert!(super::preview(&options(None, Some("5")), 1).is_err());
    }
}
