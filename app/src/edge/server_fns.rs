//! How the edge treats each server function. Every server function the app defines has one
//! rule here (a test walks the registered server functions, so a new one cannot be left out):
//! its path and whether its input is JSON are read off its type, and whether it is rate limited
//! is said beside it.

use std::sync::LazyLock;

use leptos::server_fn::{ContentType, Http, ServerFn};

use crate::accounts::{Disconnect, ListConnections, SaveConnection};
use crate::connect::{CreateLinkToken, GetLinkSettings};
use crate::deposits::{CreateDepositLinkToken, GetDepositSettings, ListTransfers, ReportTransfer};
use crate::portfolio::{GetPortfolio, RefreshConnection};

/// Whether a server function is rate limited per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// It calls Mesh or writes: limited per client address.
    PerAddress,
    /// It makes work for a day (a deposit report, asked about at Mesh until confirmed):
    /// limited per client address per hour (`RATE_LIMIT_REPORTS_PER_HOUR`).
    PerAddressHourly,
    /// It only reads the session's own rows or the app's settings.
    None,
}

/// The edge's rule for one server function.
#[derive(Clone, Copy, Debug)]
pub struct ServerFnRule {
    /// Where it is served (`/api/...`).
    pub path: &'static str,
    /// Whether it is rate limited.
    pub limit: Limit,
    /// Whether its input is JSON: any other content type is refused with 415, so an HTML form
    /// (which can send `text/plain` across sites) cannot reach it.
    pub json_input: bool,
}

fn rule<F, Input, Output>(limit: Limit) -> ServerFnRule
where
    F: ServerFn<Protocol = Http<Input, Output>>,
    Input: ContentType,
{
    ServerFnRule {
        path: F::PATH,
        limit,
        json_input: Input::CONTENT_TYPE == "application/json",
    }
}

/// The rules of every server function of the app.
pub fn server_fn_rules() -> &'static [ServerFnRule] {
    static RULES: LazyLock<Vec<ServerFnRule>> = LazyLock::new(|| {
        use Limit::{None, PerAddress, PerAddressHourly};
        vec![
            rule::<CreateLinkToken, _, _>(PerAddress),
            rule::<GetLinkSettings, _, _>(None),
            rule::<SaveConnection, _, _>(PerAddress),
            rule::<ListConnections, _, _>(None),
            rule::<Disconnect, _, _>(PerAddress),
            rule::<GetPortfolio, _, _>(PerAddress),
            rule::<RefreshConnection, _, _>(PerAddress),
            rule::<GetDepositSettings, _, _>(None),
            rule::<CreateDepositLinkToken, _, _>(PerAddress),
            rule::<ReportTransfer, _, _>(PerAddressHourly),
            rule::<ListTransfers, _, _>(None),
        ]
    });
    &RULES
}

/// The rule of the server function at `path`, if one is served there.
pub fn rule_for(path: &str) -> Option<&'static ServerFnRule> {
    server_fn_rules().iter().find(|rule| rule.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_server_function_has_a_rule() {
        let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect();
        assert!(registered.len() >= server_fn_rules().len());
        for path in registered {
            assert!(rule_for(path).is_some(), "{path} has no edge rule");
        }
    }

    #[test]
    fn json_input_is_read_off_the_types() {
        let json: Vec<&str> = server_fn_rules()
            .iter()
            .filter(|rule| rule.json_input)
            .map(|rule| rule.path)
            .collect();
        assert_eq!(json, ["/api/save_connection", "/api/report_transfer"]);
    }
}
