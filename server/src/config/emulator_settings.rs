//! Settings of the offline Mesh emulator, read from `MESH_EMULATOR_*`. They live with the rest
//! of the configuration so that a build without the emulator (feature `emulator` off) still
//! parses its configuration and can refuse `MESH_ENV=emulator` with a sentence.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::{
    ConfigError, MeshCredentials, VarSource, local_spellings, parse_addr, parse_http_url,
    positive_count,
};

/// Default address of the emulator (not 3001, which `cargo leptos watch` uses for live reload).
pub const DEFAULT_ADDR: &str = "127.0.0.1:3100";
/// Default client id the emulator accepts.
pub const DEFAULT_CLIENT_ID: &str = "emulator-client";
/// Default client secret the emulator accepts.
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";

/// Default lifetime of the access tokens the emulator issues: a day, as Mesh's sandbox example.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How the emulator is reached and which credentials and host origins it accepts.
#[derive(Clone, Debug)]
pub struct EmulatorSettings {
    /// Listen address (loopback).
    pub addr: SocketAddr,
    /// Accepted `X-Client-Id`.
    pub client_id: String,
    /// Accepted `X-Client-Secret`.
    pub client_secret: SecretString,
    /// Host-page origins Link may post tokens to (Mesh's "allowed domains").
    pub allowed_origins: Vec<String>,
    /// Lifetime of issued access tokens (`MESH_EMULATOR_TOKEN_TTL`, seconds).
    pub token_ttl: Duration,
    /// Where the emulator sends signed transfer webhooks, if anywhere.
    pub webhook: Option<EmulatorWebhook>,
}

/// Where and how the emulator delivers transfer webhooks (Mesh's dashboard setting).
#[derive(Clone, Debug)]
pub struct EmulatorWebhook {
    /// `MESH_EMULATOR_WEBHOOK_URL`; in the app it defaults to the app's own receiver.
    pub url: Url,
    /// `MESH_EMULATOR_WEBHOOK_SECRET`; in the app it defaults to `MESH_WEBHOOK_SECRET`, or to a
    /// random secret the app is given too.
    pub secret: SecretString,
}

/// The path of the app's webhook receiver, which the emulator in the app delivers to.
pub const WEBHOOK_PATH: &str = "/webhooks/mesh";

impl EmulatorSettings {
    /// Settings from `MESH_EMULATOR_*` variables; `app_origin` is allowed when none are listed,
    /// and receives the webhooks unless `MESH_EMULATOR_WEBHOOK_URL` says otherwise (`off`: none).
    pub fn from_env(env: &impl VarSource, app_origin: &str) -> Result<Self, ConfigError> {
        let webhook_url = match env.var("MESH_EMULATOR_WEBHOOK_URL") {
            Some(off) if off.trim().eq_ignore_ascii_case("off") => None,
            Some(url) => Some(parse_http_url("MESH_EMULATOR_WEBHOOK_URL", &url)?),
            None => Some(parse_http_url(
                "MESH_EMULATOR_WEBHOOK_URL",
                &format!("{}{WEBHOOK_PATH}", app_origin.trim_end_matches('/')),
            )?),
        };
        let webhook = webhook_url.map(|url| EmulatorWebhook {
            url,
            secret: SecretString::from(
                env.var("MESH_EMULATOR_WEBHOOK_SECRET")
                    .or_else(|| env.var("MESH_WEBHOOK_SECRET"))
                    .unwrap_or_else(random_secret),
            ),
        });
        let addr = parse_addr(
            "MESH_EMULATOR_ADDR",
            &env.var("MESH_EMULATOR_ADDR")
                .unwrap_or_else(|| DEFAULT_ADDR.into()),
        )?;
        let allowed_origins = match env.var("MESH_EMULATOR_ALLOWED_ORIGINS") {
            Some(list) => parse_origins(&list)?,
            None => local_spellings(app_origin),
        };
        Ok(Self {
            addr,
            client_id: env
                .var("MESH_EMULATOR_CLIENT_ID")
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.into()),
            client_secret: SecretString::from(
                env.var("MESH_EMULATOR_CLIENT_SECRET")
                    .unwrap_or_else(|| DEFAULT_CLIENT_SECRET.into()),
            ),
            allowed_origins,
            token_ttl: Duration::from_secs(positive_count(
                env,
                "MESH_EMULATOR_TOKEN_TTL",
                DEFAULT_TOKEN_TTL.as_secs(),
            )?),
            webhook,
        })
    }

    /// The credentials a client must send to this emulator.
    pub fn credentials(&self) -> MeshCredentials {
        MeshCredentials {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
        }
    }

    /// `http://ADDR/`, the API base URL and the origin of the Link page.
    pub fn base_url(&self) -> Url {
        emulator_base_url(self.addr)
    }
}

/// A webhook secret for this process only, when none is configured.
fn random_secret() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
}

/// Parses a comma-separated list of origins (`scheme://host[:port]`).
pub fn parse_origins(list: &str) -> Result<Vec<String>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let url = parse_http_url("MESH_EMULATOR_ALLOWED_ORIGINS", origin)?;
            if url.path() != "/" || url.query().is_some() || origin.ends_with('/') {
                return Err(ConfigError::InvalidUrl {
                    var: "MESH_EMULATOR_ALLOWED_ORIGINS",
                    value: origin.to_string(),
                });
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// `http://ADDR/`: the emulator's API base URL and the origin of its Link page.
pub fn emulator_base_url(addr: SocketAddr) -> Url {
    // A socket address always forms a valid URL authority.
    Url::parse(&format!("http://{addr}/")).expect("socket address is a valid URL host")
}
