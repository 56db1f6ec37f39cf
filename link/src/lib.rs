//! The Link client: opens Mesh Link from Rust and reports what it posts back.
//!
//! It implements the host side of the protocol of Mesh's web SDK 3.13.0 (`@meshconnect/web-link-sdk`,
//! whose runtime code equals 3.11.0's), and is stricter where the SDK is weak: a host allowlist for
//! the Link URL, messages accepted only from the link token's origin and the Link iframe, URL-encoded
//! parameters, and an invalid token reported through `on_exit` instead of an exception.
//!
//! ```ignore
//! let link = use_mesh_link(LinkOptions::new(policy).on_integration_connected(save));
//! link.open(&token); // from a click handler or an action's result
//! ```
//!
//! The DOM is touched only from `open`, `close` and the message listener, so components using
//! this module render on the server too.

mod events;
mod handle;
mod link_url;
mod options;
mod overlay;
mod payload;
mod token;

pub use events::{LinkEvent, LinkEventType, LinkMessage, MessageError, parse_message};
pub use handle::{MeshLink, use_mesh_link};
pub use link_url::LinkUrl;
pub use options::{
    LOAD_TIMEOUT, LOAD_TIMEOUT_MESSAGE, LinkExit, LinkOptions, LinkState, RenderType,
    UNREADABLE_TOKENS_MESSAGE,
};
pub use overlay::{BACKDROP_ID, CONTENT_ID, IFRAME_ID, ROOT_ID, STYLE_ID, allow_policy};
pub use payload::{
    AccessTokenPayload, Account, AccountToken, BrandInfo, DelayedAuthPayload,
    IntegrationAccessToken, IntegrationConnected, SelectedIntegration, SessionSummary,
    TransferFinishedPayload, TransferSummary,
};
pub use token::{
    LinkOriginPolicy, LinkStyle, LinkTheme, LinkTokenError, LinkUrlParams, is_allowed, link_style,
    link_url,
};

/// The web SDK version whose protocol this client implements, sent in `meshSDKSpecs`.
pub const SDK_VERSION: &str = "3.13.0";

/// The README's example, compiled by `cargo test -p mesh-link` so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
