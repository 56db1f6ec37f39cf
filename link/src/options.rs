//! How to open Link ([`LinkOptions`]) and what it reports when it closes ([`LinkExit`]).

use leptos::prelude::Callback;

use crate::{
    IntegrationAccessToken, IntegrationConnected, LinkEvent, LinkOriginPolicy, LinkTheme,
    SessionSummary, TransferFinishedPayload,
};

/// Where Link renders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderType {
    /// A full-window overlay built by this client (the default).
    Overlay,
    /// Inside the caller's own `<iframe id=…>`; adds `rt=embedded` to the URL.
    Embedded {
        /// The id of the caller's iframe.
        iframe_id: String,
    },
}

/// Why Link closed: `error` is set when Link (or this client) reports one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkExit {
    /// Link's `errorMessage`, or why the token could not be opened.
    pub error: Option<String>,
    /// Link's session summary (absent when closed by [`MeshLink::close`](crate::MeshLink::close) or on a bad token).
    pub summary: Option<SessionSummary>,
}

/// Where Link is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not open.
    Closed,
    /// The iframe is loading.
    Loading,
    /// Link has loaded and is showing.
    Open,
}

/// How to open Link and whom to tell what happens.
#[derive(Clone)]
pub struct LinkOptions {
    /// Which origins the link token may point to.
    pub origin_policy: LinkOriginPolicy,
    /// `lng`: `en`, `en-US`, … or `system` for the browser's language (default `en`).
    pub language: Option<String>,
    /// `fiatCur`: display currency (Link's default is USD).
    pub display_fiat_currency: Option<String>,
    /// `th`: theme.
    pub theme: Option<LinkTheme>,
    /// Overlay or embedded.
    pub render_type: RenderType,
    /// Tokens handed to Link on `loaded` (`frontAccessTokens`) for returning users.
    pub access_tokens: Vec<IntegrationAccessToken>,
    /// Accounts connected (or a delayed authentication).
    pub on_integration_connected: Option<Callback<IntegrationConnected>>,
    /// Link closed, with or without an error.
    pub on_exit: Option<Callback<LinkExit>>,
    /// A transfer finished.
    pub on_transfer_finished: Option<Callback<TransferFinishedPayload>>,
    /// Every event Link reports.
    pub on_event: Option<Callback<LinkEvent>>,
}

impl LinkOptions {
    /// Options with the defaults of Mesh's SDK (overlay, English) and no callbacks.
    pub fn new(origin_policy: LinkOriginPolicy) -> Self {
        Self {
            origin_policy,
            language: None,
            display_fiat_currency: None,
            theme: None,
            render_type: RenderType::Overlay,
            access_tokens: Vec::new(),
            on_integration_connected: None,
            on_exit: None,
            on_transfer_finished: None,
            on_event: None,
        }
    }
}

/// How long Link may take to post `loaded` before it is closed with an explanation.
pub const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Why Link closes when it never loads: the frame is blocked or unreachable.
pub const LOAD_TIMEOUT_MESSAGE: &str = "Link did not load within 20 seconds. This site may not be among the allowed domains in the Mesh dashboard, a browser extension or content blocker may be blocking it, or the network may be down.";

/// What a token message Link posted but this page could not read becomes, for the user.
pub const UNREADABLE_TOKENS_MESSAGE: &str = "Link sent account details this page could not read, so nothing was saved. Please connect the account again.";
