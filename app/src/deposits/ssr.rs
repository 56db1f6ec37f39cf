//! Server-side work of the deposits feature: checking what the browser sends, building the
//! link token's `transferOptions`, and the transfers list as the user reads it.

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use server::clock::unix_now;
use server::mesh::{Amount, LinkTokenRequest, ToAddress, TransferOptions};
use server::vault::{DepositStatus, StoredTransfer, TransferUpdate};

use crate::error::{AppError, ErrorKind};
use crate::model::TransferLine;
use crate::state::AppState;
use mesh_link::TransferFinishedPayload;
use server::deposits::reconcile::SCHEDULE;

/// The smallest and largest deposit accepted, in US dollars.
const MIN_DEPOSIT_USD: u32 = 1;
const MAX_DEPOSIT_USD: u32 = 100_000;

/// How many transfers the page lists.
const LISTED_TRANSFERS: i64 = 20;

/// Longest id, symbol or network name accepted from the browser.
const MAX_FIELD_CHARS: usize = 128;

/// 404 when this server takes no deposits (no `DEPOSIT_ADDRESSES` outside the emulator).
pub fn configured(state: &AppState) -> Result<(), AppError> {
    if state.deposit_addresses.is_empty() {
        return Err(AppError::new(
            ErrorKind::NotFound,
            "Deposits are not set up on this server: set DEPOSIT_ADDRESSES.",
        ));
    }
    Ok(())
}

/// The link-token request for a deposit of `amount` US dollars of asset number `asset`.
pub fn deposit_request(
    state: &AppState,
    user: String,
    asset: usize,
    amount: &str,
) -> Result<LinkTokenRequest, AppError> {
    configured(state)?;
    let address = state
        .deposit_addresses
        .get(asset)
        .ok_or_else(|| AppError::invalid("Choose one of the offered assets."))?;
    let amount = usd_amount(amount)?;
    Ok(LinkTokenRequest {
        transfer_options: Some(TransferOptions {
            to_addresses: vec![ToAddress {
                network_id: address.network.id.to_string(),
                symbol: address.symbol.clone(),
                address: address.address.clone(),
                amount: None,
            }],
            amount_in_fiat: Some(Amount(amount)),
            transfer_type: Some("deposit".into()),
            // Mesh reports it back: it ties Mesh's transfer to this request in logs and support.
            transaction_id: Some(uuid::Uuid::new_v4().to_string()),
        }),
        // Link goes straight on to the transfer after one account.
        restrict_multiple_accounts: Some(true),
        ..LinkTokenRequest::for_user(user)
    })
}

/// A dollar amount as typed (`25`, `25.50`, `$1,000`), within the accepted range.
fn usd_amount(text: &str) -> Result<Decimal, AppError> {
    let refused = || {
        AppError::invalid(format!(
            "Enter an amount in US dollars from {MIN_DEPOSIT_USD} to {MAX_DEPOSIT_USD}, like 25 or 25.50."
        ))
    };
    let cleaned: String = text
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    // Digits and one point only: `Decimal` would also read `1e3` and `-5`.
    if cleaned.len() > 16 || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(refused());
    }
    let amount = Decimal::from_str(&cleaned).map_err(|_| refused())?;
    let in_range = amount >= Decimal::from(MIN_DEPOSIT_USD)
        && amount <= Decimal::from(MAX_DEPOSIT_USD)
        && amount.normalize().scale() <= 2;
    if in_range { Ok(amount) } else { Err(refused()) }
}

/// What the browser said Link finished, checked: a transfer to one of this app's addresses,
/// recorded for the session user as reported (Mesh's word may overrule it).
pub fn reported_transfer(
    state: &AppState,
    user: String,
    payload: TransferFinishedPayload,
) -> Result<TransferUpdate, AppError> {
    configured(state)?;
    let transfer_id = payload.transfer_id.unwrap_or(payload.tx_id);
    let too_long = |field: &str| field.chars().count() > MAX_FIELD_CHARS;
    if transfer_id.trim().is_empty()
        || too_long(&transfer_id)
        || too_long(&payload.symbol)
        || payload.network_name.as_deref().is_some_and(too_long)
    {
        return Err(AppError::invalid(
            "Link's transfer report is missing its id or has fields too long to be real.",
        ));
    }
    let ours = state
        .deposit_addresses
        .iter()
        .find(|a| a.address == payload.to_address && a.symbol == payload.symbol);
    let Some(ours) = ours else {
        return Err(AppError::invalid(
            "That transfer did not go to one of this app's deposit addresses, so it was not recorded.",
        ));
    };
    let amount = Decimal::from_str(&payload.amount.to_string())
        .ok()
        .filter(|amount| *amount > Decimal::ZERO)
        .ok_or_else(|| AppError::invalid("Link's transfer report has no valid amount."))?;
    Ok(TransferUpdate {
        transfer_id,
        user_id: user,
        status: DepositStatus::Reported,
        symbol: Some(ours.symbol.clone()),
        network: Some(ours.network.name.to_string()),
        amount: Some(amount.normalize().to_string()),
        destination: Some(ours.address.clone()),
        tx_hash: payload.tx_hash.filter(|hash| !too_long(hash)),
        at: unix_now(),
    })
}

/// Most browser reports one user may have waiting for Mesh to confirm them: each is a Mesh call
/// an hour (more in its first hour) for a day.
pub const MAX_OPEN_REPORTS: u64 = 5;

/// Refuses a new report while the user has [`MAX_OPEN_REPORTS`] others waiting for Mesh;
/// reporting a transfer already stored again is no new report.
pub async fn within_open_reports(
    state: &AppState,
    user: &str,
    transfer_id: &str,
) -> Result<(), AppError> {
    let open = state
        .vault
        .open_reports(user, unix_now(), &SCHEDULE, transfer_id)
        .await
        .map_err(|error| crate::error::ssr::vault_failure("count open reports", error))?;
    if open >= MAX_OPEN_REPORTS {
        return Err(AppError::invalid(format!(
            "You have {open} deposits waiting for Mesh to confirm them; this one was not recorded. Once Mesh confirms them (or a day passes), report again."
        )));
    }
    Ok(())
}

/// The user's latest transfers as the page shows them.
pub async fn transfer_lines(state: &AppState, user: &str) -> Result<Vec<TransferLine>, AppError> {
    state
        .vault
        .transfers_of(user, LISTED_TRANSFERS)
        .await
        .map(|list| {
            let now = unix_now();
            list.into_iter()
                .map(|transfer| line(transfer, now))
                .collect()
        })
        .map_err(|error| crate::error::ssr::vault_failure("list transfers", error))
}

fn line(transfer: StoredTransfer, now: i64) -> TransferLine {
    let status = DepositStatus::parse(&transfer.status).unwrap_or(DepositStatus::Reported);
    let unconfirmed_for =
        Duration::from_secs(now.saturating_sub(transfer.updated_at).max(0) as u64);
    let given_up =
        status == DepositStatus::Reported && unconfirmed_for > SCHEDULE.reports_checked_for;
    let note = match status {
        DepositStatus::Reported if given_up => {
            "Mesh had no record of it a day after Link reported it, so it is no longer checked. If the exchange shows it as sent, contact support with its transaction."
        }
        DepositStatus::Reported => "Link says it was sent; waiting for Mesh to confirm it.",
        DepositStatus::Pending => "Mesh confirmed it is on its way.",
        DepositStatus::Succeeded => "Arrived: Mesh confirmed the deposit.",
        DepositStatus::Failed => {
            "The exchange did not complete this transfer, so nothing was deposited. Check the exchange account, then try again."
        }
    };
    let symbol = transfer.symbol.unwrap_or_default();
    let amount = transfer
        .amount
        .and_then(|amount| Decimal::from_str(&amount).ok())
        .map(|amount| format!("{} {symbol}", crate::format::quantity(amount)))
        .unwrap_or(symbol);
    TransferLine {
        id: transfer.transfer_id,
        amount,
        network: transfer.network.unwrap_or_default(),
        status: status.as_str().to_string(),
        note: note.to_string(),
        updated: crate::format::minute(transfer.updated_at),
        open: matches!(status, DepositStatus::Reported | DepositStatus::Pending) && !given_up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_amounts_are_read_as_typed_and_kept_in_range() {
        assert_eq!(usd_amount("25").unwrap().to_string(), "25");
        assert_eq!(usd_amount(" $1,000.50 ").unwrap().to_string(), "1000.50");
        for refused in ["0", "0.99", "100000.01", "12.345", "abc", "-5", "", "1e3"] {
            assert!(usd_amount(refused).is_err(), "{refused} was accepted");
        }
    }

    #[test]
    fn a_report_mesh_never_confirmed_says_it_is_no_longer_checked() {
        let reported = StoredTransfer {
            transfer_id: "t-1".into(),
            status: "reported".into(),
            symbol: Some("USDC".into()),
            network: Some("Ethereum".into()),
            amount: Some("40.00".into()),
            destination: None,
            tx_hash: None,
            updated_at: 1_000,
        };
        let day = SCHEDULE.reports_checked_for.as_secs() as i64;
        let fresh = line(reported.clone(), 1_000 + day);
        assert!(fresh.note.contains("waiting for Mesh"), "{}", fresh.note);
        assert_eq!(fresh.amount, "40 USDC");
        assert!(fresh.open);
        let stale = line(reported, 1_001 + day);
        assert!(stale.note.contains("no longer checked"), "{}", stale.note);
        assert!(!stale.open, "the page stops reading the list again for it");
    }
}
