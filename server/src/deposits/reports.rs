//! A deposit as the user asks for it (the link token's `transferOptions`) and as the browser
//! reports it finished: checked against this app's addresses and recorded as a hint only.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::clock::unix_now;
use crate::config::DepositAddress;
use crate::mesh::{Amount, LinkTokenRequest, ToAddress, TransferOptions};
use crate::vault::{DepositStatus, TokenVault, TransferUpdate, VaultError};

use super::reconcile::SCHEDULE;

/// The smallest deposit accepted, in US dollars.
pub const MIN_DEPOSIT_USD: u32 = 1;
/// The largest deposit accepted, in US dollars.
pub const MAX_DEPOSIT_USD: u32 = 100_000;

/// Most browser reports one user may have waiting for Mesh to confirm them: each is a Mesh call
/// an hour (more in its first hour) for a day.
pub const MAX_OPEN_REPORTS: u64 = 5;

/// Longest id, symbol or network name accepted from the browser.
const MAX_FIELD_CHARS: usize = 128;

/// Why a deposit was not asked for or a report not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    /// This server takes no deposits (no `DEPOSIT_ADDRESSES` outside the emulator).
    #[error("no deposit addresses are configured")]
    NotConfigured,
    /// The asset number is not one of the offered assets.
    #[error("no such asset")]
    UnknownAsset,
    /// The amount is not dollars within the accepted range.
    #[error("the amount is not accepted")]
    BadAmount,
    /// The report has no id, or fields too long to be real.
    #[error("the report is malformed")]
    MalformedReport,
    /// The report names an address or asset that is not this app's.
    #[error("the report is not to this app's addresses")]
    NotOurAddress,
    /// The report's amount is not a positive number.
    #[error("the report has no valid amount")]
    NoAmount,
    /// The user has [`MAX_OPEN_REPORTS`] others waiting for Mesh.
    #[error("{open} reports are waiting for Mesh")]
    TooManyOpen {
        /// How many are waiting.
        open: u64,
    },
    /// The vault failed while doing `action`.
    #[error("could not {action}: {source}")]
    Vault {
        /// What was being done, for the log.
        action: &'static str,
        /// The vault's error.
        source: VaultError,
    },
}

/// What the browser says Link's `transferFinished` reported, as text.
#[derive(Clone, Debug)]
pub struct TransferReport {
    /// Mesh's transfer id (or the transaction id when Link gave none).
    pub transfer_id: String,
    /// The asset symbol.
    pub symbol: String,
    /// The network's name, when Link gave one.
    pub network_name: Option<String>,
    /// Where it was sent.
    pub to_address: String,
    /// The amount in the asset, as a decimal number.
    pub amount: String,
    /// The on-chain hash, when Link gave one.
    pub tx_hash: Option<String>,
}

/// The link-token request for a deposit of `amount` US dollars of asset number `asset`.
pub fn deposit_request(
    addresses: &[DepositAddress],
    user: String,
    asset: usize,
    amount: &str,
) -> Result<LinkTokenRequest, DepositError> {
    if addresses.is_empty() {
        return Err(DepositError::NotConfigured);
    }
    let address = addresses.get(asset).ok_or(DepositError::UnknownAsset)?;
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
fn usd_amount(text: &str) -> Result<Decimal, DepositError> {
    let cleaned: String = text
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    // Digits and one point only: `Decimal` would also read `1e3` and `-5`.
    if cleaned.len() > 16 || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(DepositError::BadAmount);
    }
    let amount = Decimal::from_str(&cleaned).map_err(|_| DepositError::BadAmount)?;
    let in_range = amount >= Decimal::from(MIN_DEPOSIT_USD)
        && amount <= Decimal::from(MAX_DEPOSIT_USD)
        && amount.normalize().scale() <= 2;
    if in_range {
        Ok(amount)
    } else {
        Err(DepositError::BadAmount)
    }
}

/// Records `report` for `user` as reported by the browser (Mesh's word may overrule it): a
/// transfer to one of `addresses`, while the user has fewer than [`MAX_OPEN_REPORTS`] others
/// waiting for Mesh (reporting a transfer already stored again is no new report).
pub async fn record_report(
    vault: &TokenVault,
    addresses: &[DepositAddress],
    user: &str,
    report: TransferReport,
) -> Result<(), DepositError> {
    let update = reported_transfer(addresses, user, report)?;
    let open = vault
        .open_reports(user, unix_now(), &SCHEDULE, &update.transfer_id)
        .await
        .map_err(|source| DepositError::Vault {
            action: "count open reports",
            source,
        })?;
    if open >= MAX_OPEN_REPORTS {
        return Err(DepositError::TooManyOpen { open });
    }
    // Stored as due: an instance's reconciler asks Mesh about it within 2 s.
    vault
        .apply_transfer(&update)
        .await
        .map_err(|source| DepositError::Vault {
            action: "record a transfer",
            source,
        })?;
    Ok(())
}

/// The report checked: a transfer to one of `addresses`, as the vault records it.
fn reported_transfer(
    addresses: &[DepositAddress],
    user: &str,
    report: TransferReport,
) -> Result<TransferUpdate, DepositError> {
    if addresses.is_empty() {
        return Err(DepositError::NotConfigured);
    }
    let too_long = |field: &str| field.chars().count() > MAX_FIELD_CHARS;
    if report.transfer_id.trim().is_empty()
        || too_long(&report.transfer_id)
        || too_long(&report.symbol)
        || report.network_name.as_deref().is_some_and(too_long)
    {
        return Err(DepositError::MalformedReport);
    }
    let ours = addresses
        .iter()
        .find(|a| a.address == report.to_address && a.symbol == report.symbol)
        .ok_or(DepositError::NotOurAddress)?;
    let amount = Decimal::from_str(&report.amount)
        .ok()
        .filter(|amount| *amount > Decimal::ZERO)
        .ok_or(DepositError::NoAmount)?;
    Ok(TransferUpdate {
        transfer_id: report.transfer_id,
        user_id: user.to_string(),
        status: DepositStatus::Reported,
        symbol: Some(ours.symbol.clone()),
        network: Some(ours.network.name.to_string()),
        amount: Some(amount.normalize().to_string()),
        destination: Some(ours.address.clone()),
        tx_hash: report.tx_hash.filter(|hash| !too_long(hash)),
        at: unix_now(),
    })
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
}
