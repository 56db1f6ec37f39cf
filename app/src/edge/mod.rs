//! The app's edge: what every request passes through before its handler, and what every
//! response carries after it. `router.rs` installs these layers around the whole app.

mod forgery;
mod headers;
mod limits;
mod operations;
mod server_fns;

pub use forgery::refuse_cross_site;
pub use headers::{provide_page_nonce, security_headers};
pub use limits::{LIMITED_PAGES, RateLimits, rate_limit};
pub use operations::{AccessLog, access_log, health_routes};
pub use server_fns::{Limit, ServerFnRule, rule_for, server_fn_rules};

use server::config::{PublicUrl, RateLimitSettings};

/// What the edge needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct EdgePolicy {
    /// The app's public origins: the only ones allowed to change state from a browser.
    pub public_url: PublicUrl,
    /// Where Link's iframe may be loaded from: the emulator's exact origin, or Mesh's hosts.
    pub link_frame_src: String,
    /// The port of `cargo leptos watch`'s live-reload websocket, allowed to connect in development.
    pub live_reload_port: Option<u32>,
    /// Per-address limits on the server functions that call Mesh or write.
    pub rate_limit: RateLimitSettings,
}

impl EdgePolicy {
    /// Link's hosts in Mesh's sandbox and production.
    pub const MESH_LINK_HOSTS: &str = "https://*.meshconnect.com";
}
