//! How the edge treats each server function: the app gives one rule per server function it
//! defines (its path, whether it is rate limited, whether its input is JSON).

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

/// The rule of the server function at `path`, if one is served there.
pub fn rule_for<'a>(rules: &'a [ServerFnRule], path: &str) -> Option<&'a ServerFnRule> {
    rules.iter().find(|rule| rule.path == path)
}
