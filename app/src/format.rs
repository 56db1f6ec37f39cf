//! How figures read on the page: money by currency, quantities exactly as Mesh sent them, dates
//! in UTC. Runs on the server only, so the browser's code carries no money or date formatting.

use rust_decimal::Decimal;
use rusty_money::{Money, iso};
use time::OffsetDateTime;
use time::macros::format_description;

/// `amount` in `currency` (`$12,480,312.55`); an unknown code is written after the figure.
pub fn money(amount: Decimal, currency: &str) -> String {
    match iso::find(currency) {
        Some(known) => {
            // Whole minor units, always written (`$10.00`, not `$10`).
            let mut rounded = amount.round_dp(known.exponent);
            rounded.rescale(known.exponent);
            Money::from_decimal(rounded, known).to_string()
        }
        None => format!("{} {currency}", quantity(amount)),
    }
}

/// A quantity with its significant digits only (`12.5`, `0.51234`).
pub fn quantity(amount: Decimal) -> String {
    amount.normalize().to_string()
}

/// The day of a Unix time, in UTC (`2026-09-15`).
pub fn day(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|at| at.format(format_description!("[year]-[month]-[day]")).ok())
        .unwrap_or_default()
}

/// A Unix time to the minute, in UTC (`2026-11-27 17:52 UTC`).
pub fn minute(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|at| {
            at.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn money_reads_as_its_currency() {
        assert_eq!(money(dec("12480312.55"), "USD"), "$12,480,312.55");
        assert_eq!(money(dec("2901.75"), "USD"), "$2,901.75");
        assert_eq!(money(dec("0.1") + dec("0.2"), "USD"), "$0.30");
        assert_eq!(money(dec("1.5"), "XYZ"), "1.5 XYZ");
    }

    #[test]
    fn quantities_keep_their_digits_and_dates_are_utc() {
        assert_eq!(quantity(dec("0.512340")), "0.51234");
        assert_eq!(quantity(dec("20.25")), "20.25");
        assert_eq!(day(1_788_220_800), "2026-09-01");
        assert_eq!(minute(1_795_000_000), "2026-11-18 11:06 UTC");
    }
}
