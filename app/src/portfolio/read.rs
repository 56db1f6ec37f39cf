//! Reads one connection's portfolio from Mesh and shapes it for the page.

use rust_decimal::Decimal;
use server::clock::unix_now;
use server::mesh::{Amount, Balances, Holdings, Order, Position, Transfer};
use server::tokens::with_access_token;

use crate::error::AppError;
use crate::format::{day, minute, money, quantity};
use crate::portfolio::{BalanceLine, HistoryLine, HoldingLine, Portfolio};
use crate::state::AppState;

/// Mesh reports market values and prices in US dollars.
const DISPLAY_CURRENCY: &str = "USD";
/// Orders or transfers shown.
const HISTORY_COUNT: u32 = 10;

/// Balances, holdings and history of the user's connection `id`.
pub async fn portfolio(state: &AppState, user: &str, id: &str) -> Result<Portfolio, AppError> {
    let (mesh, vault) = (&state.mesh, &*state.vault);
    let (connection, holdings) =
        with_access_token(mesh, vault, user, id, |token, broker| async move {
            mesh.holdings(&token, &broker).await
        })
        .await?;
    let exchange = is_exchange(&holdings);
    let balances = with_access_token(mesh, vault, user, id, |token, broker| async move {
        mesh.balances(&token, &broker).await
    });
    let history = with_access_token(mesh, vault, user, id, |token, broker| async move {
        if exchange {
            let list = mesh
                .transfer_history(&token, &broker, HISTORY_COUNT)
                .await?;
            Ok(list
                .transfers
                .unwrap_or_default()
                .iter()
                .map(transfer_line)
                .collect())
        } else {
            let list = mesh.orders(&token, &broker, HISTORY_COUNT).await?;
            Ok(list
                .transactions
                .unwrap_or_default()
                .iter()
                .map(order_line)
                .collect::<Vec<_>>())
        }
    });
    let ((_, balances), (_, history)) = tokio::try_join!(balances, history)?;
    let (holdings, total) = holding_lines(&holdings).ok_or_else(|| {
        tracing::warn!(id, "Mesh reported holdings whose values overflow a decimal");
        AppError::new(
            crate::error::ErrorKind::MeshRefused,
            "Mesh reported figures for this account too large to add up, so its portfolio cannot be shown. The account stays connected.",
        )
    })?;
    let can_deposit = !state.deposit_addresses.is_empty()
        && state.integrations.peek(&state.mesh).is_some_and(|list| {
            server::mesh::sends_crypto(&list, &connection.broker_type).is_some()
        });
    Ok(Portfolio {
        can_deposit,
        id: connection.id,
        broker_name: connection.broker_name,
        account_name: connection.account_name.unwrap_or_default(),
        fetched_at: minute(unix_now()),
        balances: balance_lines(&balances),
        holdings,
        holdings_total: money(total, DISPLAY_CURRENCY),
        history_kind: if exchange { "Transfers" } else { "Orders" }.to_string(),
        history,
    })
}

/// An exchange holds crypto only; its history is transfers (Mesh's transfers list serves
/// exchanges), a broker's is orders.
fn is_exchange(holdings: &Holdings) -> bool {
    let held =
        |positions: &Option<Vec<Position>>| positions.as_ref().is_some_and(|p| !p.is_empty());
    held(&holdings.cryptocurrency_positions) && !held(&holdings.equity_positions)
}

/// One line per position, largest value first, and their total value; `None` when a value or
/// the total is past what a decimal holds (about 7.9e28).
fn holding_lines(holdings: &Holdings) -> Option<(Vec<HoldingLine>, Decimal)> {
    let mut positions: Vec<(&Position, Decimal)> = [
        &holdings.equity_positions,
        &holdings.cryptocurrency_positions,
    ]
    .into_iter()
    .flatten()
    .flatten()
    .map(|position| Some((position, value(position)?)))
    .collect::<Option<_>>()?;
    positions.sort_by_key(|(_, value)| std::cmp::Reverse(*value));
    let total = positions
        .iter()
        .try_fold(Decimal::ZERO, |total, (_, value)| total.checked_add(*value))?;
    let lines = positions
        .into_iter()
        .map(|(position, value)| HoldingLine {
            symbol: position.symbol.clone().unwrap_or_default(),
            name: position.name.clone().unwrap_or_default(),
            quantity: quantity(position.amount.0),
            price: position
                .last_price
                .map(|price| money(price.0, DISPLAY_CURRENCY))
                .unwrap_or_default(),
            value: money(value, DISPLAY_CURRENCY),
        })
        .collect();
    Some((lines, total))
}

/// Mesh's market value, or quantity times last price when it sent none (zero without a
/// price); `None` when that product overflows.
fn value(position: &Position) -> Option<Decimal> {
    match (position.market_value, position.last_price) {
        (Some(Amount(value)), _) => Some(value),
        (None, Some(Amount(price))) => price.checked_mul(position.amount.0),
        (None, None) => Some(Decimal::ZERO),
    }
}

fn balance_lines(balances: &Balances) -> Vec<BalanceLine> {
    balances
        .balances
        .iter()
        .flatten()
        .map(|balance| {
            let currency = balance
                .currency_code
                .clone()
                .unwrap_or_else(|| DISPLAY_CURRENCY.to_string());
            let figure =
                |amount: Option<Amount>| amount.map(|a| money(a.0, &currency)).unwrap_or_default();
            BalanceLine {
                cash: figure(balance.cash),
                buying_power: figure(balance.buying_power),
                currency,
            }
        })
        .collect()
}

fn order_line(order: &Order) -> HistoryLine {
    let side = capitalized(order.side.as_deref().unwrap_or("order"));
    let amount = order.amount.map(|a| quantity(a.0)).unwrap_or_default();
    let symbol = order.symbol.as_deref().unwrap_or_default();
    HistoryLine {
        date: day(order.created_timestamp),
        description: format!("{side} {amount} {symbol}").trim().to_string(),
        amount: order
            .value
            .map(|v| {
                money(
                    v.0,
                    order.payment_symbol.as_deref().unwrap_or(DISPLAY_CURRENCY),
                )
            })
            .unwrap_or_default(),
        status: order.status.clone().unwrap_or_default(),
    }
}

fn transfer_line(transfer: &Transfer) -> HistoryLine {
    let direction = capitalized(transfer.direction.as_deref().unwrap_or("transfer"));
    let symbol = transfer.symbol.as_deref().unwrap_or_default();
    let chain = transfer
        .chain
        .as_deref()
        .map(|chain| format!(" on {chain}"))
        .unwrap_or_default();
    HistoryLine {
        date: day(transfer.created_timestamp),
        description: format!("{direction} {symbol}{chain}"),
        amount: format!("{} {symbol}", quantity(transfer.amount.0)),
        status: transfer.status.clone().unwrap_or_default(),
    }
}

/// `buy` → `Buy`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
