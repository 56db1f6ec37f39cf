//! Feature: the accounts Link connected.

use leptos::prelude::*;

use crate::model::ConnectionSummary;

/// Formats a money amount with two decimals and thousands separators.
fn money(value: f64) -> String {
    let cents = (value * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", cents % 100)
}

/// One connection: logo, broker, account and balances.
#[component]
pub fn ConnectionCard(connection: ConnectionSummary) -> impl IntoView {
    let logo = connection
        .broker_logo
        .filter(|logo| !logo.is_empty())
        .map(|logo| format!("data:image/png;base64,{logo}"));
    let balances = [("Cash", connection.cash), ("Fund", connection.fund)]
        .into_iter()
        .filter_map(|(label, value)| value.map(|v| format!("{label} ${}", money(v))))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <div class="account">
            {logo.map(|src| view! { <img src=src alt=format!("{} logo", connection.broker_name)/> })}
            <div class="details">
                <div class="name">
                    {connection.account_name.unwrap_or_else(|| "Pending connection".to_string())}
                </div>
                <div class="meta">
                    <span class="broker">{connection.broker_name}</span>
                    {(!balances.is_empty()).then(|| format!(" · {balances}"))}
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_groups_thousands_and_rounds_to_cents() {
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(1234.5), "1,234.50");
        assert_eq!(money(10_000_000.0), "10,000,000.00");
        assert_eq!(money(-999.999), "-1,000.00");
    }
}
