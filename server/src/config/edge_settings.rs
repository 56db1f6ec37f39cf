//! What the HTTP edge is configured with: per-address rate limits and the app's public address.

use std::net::IpAddr;

use super::{ConfigError, MeshEnvironment, VarSource, parse_http_url, positive_count};

/// Per-client-address limits (`RATE_LIMIT_PER_MINUTE`, `RATE_LIMIT_BURST`,
/// `RATE_LIMIT_REPORTS_PER_HOUR`, `TRUSTED_PROXIES`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Requests per minute per client address and endpoint, once the burst is spent.
    pub per_minute: u32,
    /// Requests a client address may make at once.
    pub burst: u32,
    /// Deposit reports per hour per client address, after a burst of
    /// [`Self::REPORTS_BURST`]: each costs Mesh calls for a day.
    pub reports_per_hour: u32,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimitSettings {
    /// 10 at once, then one every 2 seconds: far above what a person clicking does, far below
    /// what spends a Mesh quota.
    fn default() -> Self {
        Self {
            per_minute: 30,
            burst: 10,
            reports_per_hour: 12,
            trusted_proxies: Vec::new(),
        }
    }
}

impl RateLimitSettings {
    /// Deposit reports a client address may make at once.
    pub const REPORTS_BURST: u32 = 5;

    pub(super) fn load(env: &impl VarSource) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let trusted_proxies = env
            .var("TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse()
                    .map_err(|_| ConfigError::InvalidProxy(entry.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            per_minute: positive_count(env, "RATE_LIMIT_PER_MINUTE", defaults.per_minute)?,
            burst: positive_count(env, "RATE_LIMIT_BURST", defaults.burst)?,
            reports_per_hour: positive_count(
                env,
                "RATE_LIMIT_REPORTS_PER_HOUR",
                defaults.reports_per_hour,
            )?,
            trusted_proxies,
        })
    }
}

/// The app's public address: the only origins allowed to change state from a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    origins: Vec<String>,
}

impl PublicUrl {
    /// The origin of `PUBLIC_URL`, or (outside production, where it is required) the listening
    /// address under both spellings people type: `127.0.0.1` and `localhost`.
    pub(super) fn load(
        env: &impl VarSource,
        mesh_env: MeshEnvironment,
        app_origin: &str,
    ) -> Result<Self, ConfigError> {
        let origins = match env.var("PUBLIC_URL") {
            Some(value) => vec![
                parse_http_url("PUBLIC_URL", &value)?
                    .origin()
                    .ascii_serialization(),
            ],
            None if mesh_env == MeshEnvironment::Production => {
                return Err(ConfigError::PublicUrlRequired);
            }
            None => local_spellings(app_origin),
        };
        Ok(Self { origins })
    }

    /// These exact origins (`scheme://host[:port]`); for tests and tools.
    pub fn from_origins(origins: Vec<String>) -> Self {
        Self { origins }
    }

    /// The origins a browser's `Origin` header may name.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// True when the app is served over https (so cookies are `Secure` and HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.origins
            .iter()
            .all(|origin| origin.starts_with("https://"))
    }
}

/// `origin`, plus its `localhost` spelling when it is served on 127.0.0.1 (or on every address),
/// since people type either into the address bar.
pub(crate) fn local_spellings(origin: &str) -> Vec<String> {
    let mut origins = vec![origin.to_string()];
    for host in ["http://127.0.0.1", "http://0.0.0.0"] {
        if let Some(port) = origin.strip_prefix(host) {
            origins = vec![
                format!("http://127.0.0.1{port}"),
                format!("http://localhost{port}"),
            ];
        }
    }
    origins
}
