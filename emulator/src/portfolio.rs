//! What each emulated account holds: fixed, realistic positions per broker and account, so tests
//! and screenshots see the same figures every time. Equities and cash at the broker, crypto at
//! the exchanges; the sandbox login `Mesh2` holds nothing.

use serde_json::{Value, json};

use super::brokers::{Broker, sandbox_portfolio};
use super::tokens::Grant;

/// One position: symbol, name, quantity, total cost, last price.
struct Holding {
    symbol: &'static str,
    name: &'static str,
    amount: f64,
    cost_basis: f64,
    last_price: f64,
    crypto: bool,
}

const fn equity(
    symbol: &'static str,
    name: &'static str,
    amount: f64,
    cost: f64,
    price: f64,
) -> Holding {
    Holding {
        symbol,
        name,
        amount,
        cost_basis: cost,
        last_price: price,
        crypto: false,
    }
}

const fn coin(
    symbol: &'static str,
    name: &'static str,
    amount: f64,
    cost: f64,
    price: f64,
) -> Holding {
    Holding {
        symbol,
        name,
        amount,
        cost_basis: cost,
        last_price: price,
        crypto: true,
    }
}

/// Positions by `(broker type, account name)`.
#[rustfmt::skip]
const HOLDINGS: &[(&str, &str, &[Holding])] = &[
    ("robinhood", "Individual", &[
        equity("AAPL", "Apple Inc.", 12.5, 1810.00, 232.14),
        equity("MSFT", "Microsoft Corporation", 8.0, 2950.40, 428.15),
        equity("VTI", "Vanguard Total Stock Market ETF", 20.25, 4870.12, 297.62),
    ]),
    ("coinbase", "Wallet", &[
        coin("BTC", "Bitcoin", 0.51234, 21110.55, 97250.00),
        coin("ETH", "Ethereum", 3.2, 8011.20, 3412.50),
        coin("USDC", "USD Coin", 1520.75, 1520.75, 1.00),
    ]),
    ("binanceUs", "Spot", &[
        coin("BTC", "Bitcoin", 0.125, 7400.00, 97250.00),
        coin("SOL", "Solana", 42.5, 6120.00, 238.40),
    ]),
    ("binanceUs", "Earn", &[
        coin("ETH", "Ethereum", 1.75, 4410.00, 3412.50),
        coin("USDT", "Tether", 500.0, 500.0, 1.00),
    ]),
];

/// When the emulated history begins (2026-09-01 00:00 UTC); entries are days apart from it.
const HISTORY_START: i64 = 1_788_220_800;

fn holdings_of(grant: &Grant) -> &'static [Holding] {
    if grant.username == "Mesh2" {
        return &[];
    }
    HOLDINGS
        .iter()
        .find(|(broker, account, _)| *broker == grant.broker_type && *account == grant.account_name)
        .map_or(&[], |(_, _, holdings)| holdings)
}

/// Rounds to cents, as a broker reports market values.
fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn position(h: &Holding) -> Value {
    json!({
        "symbol": h.symbol,
        "name": h.name,
        "amount": h.amount,
        "costBasis": h.cost_basis,
        "lastPrice": h.last_price,
        "marketValue": cents(h.amount * h.last_price),
    })
}

/// `HoldingsModel` for the account.
pub fn holdings(grant: &Grant) -> Value {
    let all = holdings_of(grant);
    let (crypto, equities): (Vec<&Holding>, Vec<&Holding>) = all.iter().partition(|h| h.crypto);
    json!({
        "status": "succeeded",
        "type": grant.broker_type,
        "accountId": grant.account_id,
        "institutionName": Broker::find(&grant.broker_type).map(|b| b.name),
        "accountName": grant.account_name,
        "equityPositions": equities.into_iter().map(position).collect::<Vec<_>>(),
        "cryptocurrencyPositions": crypto.into_iter().map(position).collect::<Vec<_>>(),
        "notSupportedEquityPositions": [],
        "notSupportedCryptocurrencyPositions": [],
        "nftPositions": [],
        "optionPositions": [],
    })
}

/// `B2BBrokerAccountBalanceModel` for the account: the login's sandbox cash, shared among the
/// broker's accounts as Link reported it.
pub fn balances(grant: &Grant) -> Value {
    let (cash, fund) = sandbox_portfolio(&grant.username).unwrap_or((0.0, 0.0));
    let share = Broker::find(&grant.broker_type).map_or(1, |b| b.accounts.len().max(1)) as f64;
    let (cash, fund) = (cents(cash / share), cents(fund / share));
    json!({
        "balances": [{
            "cash": cash,
            "buyingPower": fund,
            "cryptocurrencyBuyingPower": fund,
            "currencyCode": "USD",
        }],
        "totalCashUsdValue": cash,
        "totalBuyingPowerUsdValue": fund,
    })
}

/// `B2BBrokerOrderListResponse`: the buys that made the positions, newest first.
pub fn orders(grant: &Grant, count: usize) -> Value {
    let held = holdings_of(grant);
    let orders: Vec<Value> = held
        .iter()
        .enumerate()
        .rev()
        .take(count)
        .map(|(i, h)| {
            let at = HISTORY_START + 86_400 * 7 * i as i64;
            json!({
                "id": format!("{}-order-{i}", grant.account_id),
                "side": "buy",
                "symbol": h.symbol,
                "name": h.name,
                "assetType": if h.crypto { "cryptocurrency" } else { "equity" },
                "paymentSymbol": "USD",
                "amount": h.amount,
                "price": cents(h.cost_basis / h.amount),
                "fee": 0.0,
                "value": h.cost_basis,
                "createdTimestamp": at,
                "updatedTimestamp": at,
                "status": "success",
                "brokerType": grant.broker_type,
                "transactionType": "order",
            })
        })
        .collect();
    json!({
        "transactions": orders,
        "total": held.len(),
        "earliestTimestamp": HISTORY_START,
    })
}

/// `B2BBrokerTransactionsListModel`: the deposits that brought the coins in, newest first.
pub fn transfers(grant: &Grant, count: usize) -> Value {
    let held: Vec<&Holding> = holdings_of(grant).iter().filter(|h| h.crypto).collect();
    let transfers: Vec<Value> = held
        .iter()
        .enumerate()
        .rev()
        .take(count)
        .map(|(i, h)| {
            let at = HISTORY_START + 86_400 * 5 * i as i64;
            json!({
                "id": format!("{}-transfer-{i}", grant.account_id),
                "status": "succeeded",
                "type": "deposit",
                "symbol": h.symbol,
                "chain": chain(h.symbol),
                "amount": h.amount,
                "transactionAmount": h.amount,
                "createdTimestamp": at,
                "updatedTimestamp": at,
                "confirmations": 12,
            })
        })
        .collect();
    json!({
        "transfers": transfers,
        "total": held.len(),
        "earliestTimestamp": HISTORY_START,
    })
}

fn chain(symbol: &str) -> &'static str {
    match symbol {
        "BTC" => "Bitcoin",
        "SOL" => "Solana",
        _ => "Ethereum",
    }
}
