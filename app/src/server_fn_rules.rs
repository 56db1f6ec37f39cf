//! How the edge treats each server function: its path, whether its input is JSON, whether it is
//! rate limited. A test walks the registered server functions, so none can be left out.

use std::sync::LazyLock;

use leptos::server_fn::{ContentType, Http, ServerFn};
use server::edge::{Limit, ServerFnRule};

use crate::accounts::{Disconnect, ListConnections, SaveConnection};
use crate::connect::{CreateLinkToken, GetLinkSettings};
use crate::deposits::{
    CreateDepositFromConnection, CreateDepositLinkToken, GetDepositSettings, ListTransfers,
    ReportTransfer,
};
use crate::portfolio::{GetPortfolio, RefreshConnection};

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
            rule::<CreateDepositFromConnection, _, _>(PerAddress),
            rule::<ReportTransfer, _, _>(PerAddressHourly),
            rule::<ListTransfers, _, _>(None),
        ]
    });
    &RULES
}

/// The rule of the server function at `path`, if one is served there.
pub fn rule_for(path: &str) -> Option<&'static ServerFnRule> {
    server::edge::rule_for(server_fn_rules(), path)
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
