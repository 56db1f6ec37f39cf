//! What an emulator is told at start: where it listens, which key pair and host origins it
//! accepts, how long its tokens live and where its webhooks go.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// Default address (not 3001, which `cargo leptos watch` uses for live reload).
pub const DEFAULT_ADDR: &str = "127.0.0.1:3100";
/// Default client id the API accepts.
pub const DEFAULT_CLIENT_ID: &str = "emulator-client";
/// Default client secret the API accepts.
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";
/// Default lifetime of issued access tokens: a day, as Mesh's sandbox example.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How the emulator is reached and which credentials and host origins it accepts.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Listen address (loopback).
    pub addr: SocketAddr,
    /// Accepted `X-Client-Id`.
    pub client_id: String,
    /// Accepted `X-Client-Secret`.
    pub client_secret: SecretString,
    /// Host-page origins Link may post tokens to (Mesh's "allowed domains").
    pub allowed_origins: Vec<String>,
    /// Lifetime of issued access tokens.
    pub token_ttl: Duration,
    /// Where signed transfer webhooks go, if anywhere.
    pub webhook: Option<Webhook>,
    /// Mesh-managed tokens: each account Link connects carries a `tokenId`, accepted wherever
    /// an access token is, and never expiring (Mesh refreshes behind it).
    pub managed_tokens: bool,
}

impl Settings {
    /// `http://ADDR/`: the API base URL and the origin of the Link page.
    pub fn base_url(&self) -> Url {
        base_url(self.addr)
    }
}

/// Where and how transfer webhooks are delivered (Mesh's dashboard setting).
#[derive(Clone, Debug)]
pub struct Webhook {
    /// The receiver's URL.
    pub url: Url,
    /// The secret each delivery is signed with.
    pub secret: SecretString,
}

/// `http://ADDR/`: the API base URL and the origin of the Link page.
pub fn base_url(addr: SocketAddr) -> Url {
    // A socket address always forms a valid URL authority.
    Url::parse(&format!("http://{addr}/")).expect("socket address is a valid URL host")
}
