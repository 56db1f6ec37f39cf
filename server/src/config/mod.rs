//! Environment → validated [`Config`]. Every bad or missing value stops start-up with one
//! sentence that names the variable and the fix; secret values are never echoed.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use url::Url;

mod deposits;
mod edge_settings;
pub mod emulator_settings;
mod error;
mod keys;
mod vars;

use crate::vault::{Backend, TOKEN_KEY_LEN};
pub use deposits::{DepositAddress, EMULATED_DEPOSIT_ADDRESSES, parse_deposit_addresses};
pub(crate) use edge_settings::local_spellings;
pub use edge_settings::{PublicUrl, RateLimitSettings};
pub use emulator_settings::{EmulatorSettings, EmulatorWebhook, emulator_base_url};
pub use error::ConfigError;
pub use keys::KeyMaterial;
use keys::{create_private_dir, decode_key, load_key};
pub use vars::{ProcessEnv, VarSource};
pub(crate) use vars::{flag, parse_addr, parse_http_url, positive_count};

/// Mesh's production API host.
pub const PRODUCTION_API_URL: &str = "https://integration-api.meshconnect.com";
/// Mesh's sandbox API host.
pub const SANDBOX_API_URL: &str = "https://sandbox-integration-api.meshconnect.com";

/// The largest `DATABASE_MAX_CONNECTIONS` accepted.
pub const MAX_DATABASE_CONNECTIONS: u32 = 1000;

/// Default `MAX_CONNECTIONS_PER_USER`.
pub const DEFAULT_MAX_CONNECTIONS_PER_USER: usize = 100;

/// Default `RETENTION_DAYS`: longer than the session cookie's year.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

/// Length of the session cookie key in bytes (the cookie crate's private-jar key).
pub const SESSION_KEY_LEN: usize = 64;

/// Which Mesh the app talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshEnvironment {
    /// The embedded offline emulator (no keys needed).
    Emulator,
    /// Mesh's sandbox, with `sk_sandbox_` keys.
    Sandbox,
    /// Mesh's production API.
    Production,
}

impl MeshEnvironment {
    /// The value as written in `MESH_ENV`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Emulator => "emulator",
            Self::Sandbox => "sandbox",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for MeshEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The API key pair sent as `X-Client-Id` / `X-Client-Secret`.
#[derive(Clone)]
pub struct MeshCredentials {
    /// The public client id.
    pub client_id: String,
    /// The client secret; never printed, never sent to the browser.
    pub client_secret: SecretString,
}

impl fmt::Debug for MeshCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeshCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// The validated configuration of the app.
#[derive(Debug)]
pub struct Config {
    /// Which Mesh to talk to.
    pub mesh_env: MeshEnvironment,
    /// Base URL of the Mesh API (the emulator's address in emulator mode).
    pub mesh_api_url: Url,
    /// The key pair for the Mesh API.
    pub mesh_credentials: MeshCredentials,
    /// The emulator to start inside the app, in emulator mode only.
    pub emulator: Option<EmulatorSettings>,
    /// Key of the private session cookie.
    pub session_key: KeyMaterial,
    /// Key of the token vault (AES-256-GCM).
    pub token_key: KeyMaterial,
    /// Older vault keys, still read until `rotate-token-key` has re-encrypted their rows
    /// (`TOKEN_KEY_PREVIOUS`).
    pub token_keys_previous: Vec<KeyMaterial>,
    /// The session key before the last rotation: its cookies are read once and reissued
    /// (`SESSION_KEY_PREVIOUS`).
    pub session_key_previous: Option<KeyMaterial>,
    /// Where connections are stored: a SQLite file under `DATA_DIR` by default, or PostgreSQL.
    pub database_url: String,
    /// Most pooled database connections per instance (`DATABASE_MAX_CONNECTIONS`).
    pub database_max_connections: u32,
    /// Folder for generated keys and the default SQLite database.
    pub data_dir: PathBuf,
    /// Where browsers reach the app (`PUBLIC_URL`).
    pub public_url: PublicUrl,
    /// Per-address limits on the server functions that call Mesh or write.
    pub rate_limit: RateLimitSettings,
    /// Days after a user's last visit when their connections are revoked and deleted
    /// (`RETENTION_DAYS`, default 400: longer than the session cookie's year).
    pub retention_days: u32,
    /// Most connections one user may hold (`MAX_CONNECTIONS_PER_USER`, default 100).
    pub max_connections_per_user: usize,
    /// The secret Mesh signs its webhooks with (`MESH_WEBHOOK_SECRET`); without it the webhook
    /// route is absent.
    pub webhook_secret: Option<SecretString>,
    /// Where deposits go (`DEPOSIT_ADDRESSES`); empty means no deposit page.
    pub deposit_addresses: Vec<DepositAddress>,
    /// True when the addresses are the emulator's stand-ins (emulator mode, none configured).
    pub deposit_addresses_emulated: bool,
    /// The client's Mesh account uses Mesh-managed tokens (`MESH_MANAGED_TOKENS=true`): a
    /// connection's `tokenId` stands for its tokens, and Mesh keeps them fresh.
    pub managed_tokens: bool,
}

impl Config {
    /// Validates the configuration. `app_origin` is where the app is served (the emulator allows
    /// it by default). Missing keys are generated into `DATA_DIR` outside production.
    pub fn load(env: &impl VarSource, app_origin: &str) -> Result<Config, ConfigError> {
        let client_id = env.var("MESH_CLIENT_ID");
        let client_secret = env.var("MESH_CLIENT_SECRET");
        let keys = match (client_id, client_secret) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (Some(_), None) => {
                return Err(ConfigError::HalfAKeyPair {
                    set: "MESH_CLIENT_ID",
                    missing: "MESH_CLIENT_SECRET",
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::HalfAKeyPair {
                    set: "MESH_CLIENT_SECRET",
                    missing: "MESH_CLIENT_ID",
                });
            }
            (None, None) => None,
        };

        let mesh_env = match env.var("MESH_ENV").as_deref().map(str::trim) {
            None if keys.is_some() => MeshEnvironment::Sandbox,
            None => MeshEnvironment::Emulator,
            Some("emulator") => MeshEnvironment::Emulator,
            Some("sandbox") => MeshEnvironment::Sandbox,
            Some("production") => MeshEnvironment::Production,
            Some(other) => return Err(ConfigError::UnknownMeshEnv(other.to_string())),
        };

        let api_url_override = env
            .var("MESH_API_URL")
            .map(|value| parse_http_url("MESH_API_URL", &value))
            .transpose()?;

        let (mesh_credentials, emulator, default_api_url) = match mesh_env {
            MeshEnvironment::Emulator if !cfg!(feature = "emulator") => {
                return Err(ConfigError::EmulatorNotBuilt);
            }
            MeshEnvironment::Emulator => {
                let settings = EmulatorSettings::from_env(env, app_origin)?;
                let credentials = settings.credentials();
                let url = settings.base_url();
                (credentials, Some(settings), url)
            }
            MeshEnvironment::Sandbox | MeshEnvironment::Production => {
                let (client_id, client_secret) = keys.ok_or(ConfigError::KeysRequired(mesh_env))?;
                let credentials = MeshCredentials {
                    client_id,
                    client_secret: SecretString::from(client_secret),
                };
                let url = if mesh_env == MeshEnvironment::Sandbox {
                    SANDBOX_API_URL
                } else {
                    PRODUCTION_API_URL
                };
                (credentials, None, parse_http_url("MESH_API_URL", url)?)
            }
        };

        let data_dir = PathBuf::from(env.var("DATA_DIR").unwrap_or_else(|| "data".to_string()));
        let session_key = load_key(env, mesh_env, &data_dir, "SESSION_KEY", SESSION_KEY_LEN)?;
        let token_key = load_key(env, mesh_env, &data_dir, "TOKEN_KEY", TOKEN_KEY_LEN)?;
        let token_keys_previous = env
            .var("TOKEN_KEY_PREVIOUS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(|key| decode_key(key, "TOKEN_KEY_PREVIOUS", TOKEN_KEY_LEN))
            .collect::<Result<Vec<_>, _>>()?;
        let session_key_previous = env
            .var("SESSION_KEY_PREVIOUS")
            .map(|key| decode_key(&key, "SESSION_KEY_PREVIOUS", SESSION_KEY_LEN))
            .transpose()?;
        let database_url = match env.var("DATABASE_URL") {
            Some(url) => {
                let url = url.trim().to_string();
                if Backend::of(&url).is_err() {
                    let scheme = url.split(':').next().unwrap_or_default().to_string();
                    return Err(ConfigError::UnsupportedDatabase(scheme));
                }
                url
            }
            None => {
                // Created here too: with both keys set, nothing else creates the folder.
                create_private_dir(&data_dir).map_err(|e| ConfigError::DataDir {
                    path: data_dir.display().to_string(),
                    reason: e.to_string(),
                })?;
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("connections.db").display()
                )
            }
        };

        let database_max_connections = match env.var("DATABASE_MAX_CONNECTIONS") {
            Some(value) => value
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=MAX_DATABASE_CONNECTIONS).contains(n))
                .ok_or(ConfigError::InvalidPoolSize(value))?,
            // The URL was checked above.
            None => Backend::of(&database_url)
                .map(Backend::default_max_connections)
                .unwrap_or(1),
        };

        let public_url = PublicUrl::load(env, mesh_env, app_origin)?;
        let rate_limit = RateLimitSettings::load(env)?;
        let retention_days = positive_count(env, "RETENTION_DAYS", DEFAULT_RETENTION_DAYS)?;
        let max_connections_per_user = positive_count(
            env,
            "MAX_CONNECTIONS_PER_USER",
            DEFAULT_MAX_CONNECTIONS_PER_USER,
        )?;

        // In emulator mode the emulator signs its webhooks to this app with the same secret.
        let webhook_secret = env
            .var("MESH_WEBHOOK_SECRET")
            .map(SecretString::from)
            .or_else(|| {
                emulator
                    .as_ref()
                    .and_then(|e| e.webhook.as_ref())
                    .map(|webhook| webhook.secret.clone())
            });
        let (deposit_addresses, deposit_addresses_emulated) =
            match (env.var("DEPOSIT_ADDRESSES"), &emulator) {
                (Some(list), _) => (parse_deposit_addresses(&list), false),
                (None, Some(_)) => (parse_deposit_addresses(EMULATED_DEPOSIT_ADDRESSES), true),
                (None, None) => (Ok(Vec::new()), false),
            };
        let deposit_addresses = deposit_addresses.map_err(ConfigError::DepositAddresses)?;
        let managed_tokens = flag(env, "MESH_MANAGED_TOKENS")?;

        Ok(Config {
            managed_tokens,
            webhook_secret,
            deposit_addresses,
            deposit_addresses_emulated,
            public_url,
            rate_limit,
            retention_days,
            max_connections_per_user,
            mesh_env,
            mesh_api_url: api_url_override.unwrap_or(default_api_url),
            mesh_credentials,
            emulator,
            session_key,
            token_key,
            token_keys_previous,
            session_key_previous,
            database_url,
            database_max_connections,
            data_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use secrecy::ExposeSecret;

    use super::*;

    const APP: &str = "http://127.0.0.1:3000";

    fn key(len: usize) -> String {
        BASE64.encode(vec![7u8; len])
    }

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    fn load<const N: usize>(vars: [(&str, &str); N]) -> Result<Config, ConfigError> {
        Config::load(&vars, APP)
    }

    #[test]
    fn no_keys_means_emulator_with_its_own_credentials() {
        let dir = temp_dir();
        let config = load([("DATA_DIR", dir.path().to_str().unwrap())]).unwrap();
        assert_eq!(config.mesh_env, MeshEnvironment::Emulator);
        assert_eq!(config.mesh_api_url.as_str(), "http://127.0.0.1:3100/");
        assert_eq!(config.mesh_credentials.client_id, "emulator-client");
        let emulator = config.emulator.expect("emulator settings");
        assert_eq!(
            emulator.allowed_origins,
            vec![
                "http://127.0.0.1:3000".to_string(),
                "http://localhost:3000".to_string()
            ]
        );
    }

    #[test]
    fn the_emulator_offers_stand_in_deposits_and_signs_webhooks_to_the_app() {
        let dir = temp_dir();
        let config = load([("DATA_DIR", dir.path().to_str().unwrap())]).unwrap();
        assert!(config.deposit_addresses_emulated);
        assert_eq!(config.deposit_addresses.len(), 3);
        let webhook = config.emulator.and_then(|e| e.webhook).expect("a webhook");
        assert_eq!(webhook.url.as_str(), "http://127.0.0.1:3000/webhooks/mesh");
        // The app checks with the secret the emulator signs with.
        assert_eq!(
            config.webhook_secret.map(|s| s.expose_secret().to_string()),
            Some(webhook.secret.expose_secret().to_string())
        );

        let off = load([
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("MESH_EMULATOR_WEBHOOK_URL", "off"),
        ])
        .unwrap();
        assert!(off.emulator.and_then(|e| e.webhook).is_none());
        assert!(off.webhook_secret.is_none(), "no secret, no webhook route");
    }

    #[test]
    fn deposits_need_addresses_outside_the_emulator_and_bad_ones_are_named() {
        let dir = temp_dir();
        let sandbox = [
            ("MESH_CLIENT_ID", "id"),
            ("MESH_CLIENT_SECRET", "sk_sandbox_x"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
        ];
        let config = Config::load(&sandbox, APP).unwrap();
        assert!(config.deposit_addresses.is_empty() && !config.deposit_addresses_emulated);
        let error = load([
            ("MESH_CLIENT_ID", "id"),
            ("MESH_CLIENT_SECRET", "sk_sandbox_x"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("DEPOSIT_ADDRESSES", "USDC:ethereum:0x12,BTC:bitcoin:bc1q"),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("DEPOSIT_ADDRESSES has entries that cannot be used"));
        assert!(error.contains("not a valid Ethereum address"), "{error}");
        assert!(error.contains("unknown network \"bitcoin\""), "{error}");
    }

    #[test]
    fn keys_default_to_sandbox_never_production() {
        let dir = temp_dir();
        let config = load([
            ("MESH_CLIENT_ID", "id"),
            ("MESH_CLIENT_SECRET", "sk_sandbox_x"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
        ])
        .unwrap();
        assert_eq!(config.mesh_env, MeshEnvironment::Sandbox);
        assert_eq!(
            config.mesh_api_url.as_str(),
            "https://sandbox-integration-api.meshconnect.com/"
        );
        assert!(config.emulator.is_none());
    }

    #[test]
    fn production_uses_the_production_host_and_needs_explicit_keys() {
        let dir = temp_dir();
        let base = [
            ("MESH_CLIENT_ID", "id"),
            ("MESH_CLIENT_SECRET", "secret"),
            ("MESH_ENV", "production"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
        ];
        assert_eq!(
            Config::load(&base, APP).unwrap_err(),
            ConfigError::KeyRequiredInProduction {
                var: "SESSION_KEY",
                len: 64
            }
        );
        let session_key = key(64);
        let with_session = [
            base[0],
            base[1],
            base[2],
            base[3],
            ("SESSION_KEY", session_key.as_str()),
        ];
        assert_eq!(
            Config::load(&with_session, APP).unwrap_err(),
            ConfigError::KeyRequiredInProduction {
                var: "TOKEN_KEY",
                len: 32
            }
        );
        let token_key = key(32);
        let with_keys = [
            base[0],
            base[1],
            base[2],
            base[3],
            ("SESSION_KEY", session_key.as_str()),
            ("TOKEN_KEY", token_key.as_str()),
        ];
        assert_eq!(
            Config::load(&with_keys, APP).unwrap_err(),
            ConfigError::PublicUrlRequired
        );
        assert!(
            ConfigError::PublicUrlRequired
                .to_string()
                .starts_with("PUBLIC_URL is required when MESH_ENV=production")
        );
        let config = load([
            base[0],
            base[1],
            base[2],
            base[3],
            ("SESSION_KEY", session_key.as_str()),
            ("TOKEN_KEY", token_key.as_str()),
            ("PUBLIC_URL", "https://app.example.com/start"),
        ])
        .unwrap();
        assert_eq!(config.mesh_env, MeshEnvironment::Production);
        assert_eq!(config.public_url.origins(), ["https://app.example.com"]);
        assert!(config.public_url.is_https());
        assert_eq!(
            config.mesh_api_url.as_str(),
            "https://integration-api.meshconnect.com/"
        );
    }

    #[test]
    fn half_a_key_pair_is_refused_both_ways() {
        let err = load([("MESH_CLIENT_ID", "id")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("MESH_CLIENT_ID is set but MESH_CLIENT_SECRET is not")
        );
        let err = load([("MESH_CLIENT_SECRET", "hunter2")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("MESH_CLIENT_SECRET is set but MESH_CLIENT_ID is not")
        );
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn mesh_env_values() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        assert_eq!(
            load([("MESH_ENV", "staging")]).unwrap_err(),
            ConfigError::UnknownMeshEnv("staging".into())
        );
        assert_eq!(
            load([("MESH_ENV", "sandbox")]).unwrap_err(),
            ConfigError::KeysRequired(MeshEnvironment::Sandbox)
        );
        assert_eq!(
            load([("MESH_ENV", "production")]).unwrap_err(),
            ConfigError::KeysRequired(MeshEnvironment::Production)
        );
        let config = load([
            ("MESH_ENV", "emulator"),
            ("MESH_CLIENT_ID", "id"),
            ("MESH_CLIENT_SECRET", "secret"),
            ("DATA_DIR", data),
        ])
        .unwrap();
        assert_eq!(config.mesh_env, MeshEnvironment::Emulator);
        assert_eq!(config.mesh_credentials.client_id, "emulator-client");
    }

    #[test]
    fn mesh_api_url_override_must_be_http() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let config = load([
            ("MESH_API_URL", "http://127.0.0.1:9999"),
            ("DATA_DIR", data),
        ])
        .unwrap();
        assert_eq!(config.mesh_api_url.as_str(), "http://127.0.0.1:9999/");
        for bad in ["ftp://x", "not a url", "javascript:alert(1)"] {
            assert!(matches!(
                load([("MESH_API_URL", bad), ("DATA_DIR", data)]).unwrap_err(),
                ConfigError::InvalidUrl {
                    var: "MESH_API_URL",
                    ..
                }
            ));
        }
    }

    #[test]
    fn emulator_variables_are_validated() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let config = load([
            ("MESH_EMULATOR_ADDR", "127.0.0.1:4555"),
            ("MESH_EMULATOR_CLIENT_ID", "cid"),
            ("MESH_EMULATOR_CLIENT_SECRET", "csecret"),
            (
                "MESH_EMULATOR_ALLOWED_ORIGINS",
                "http://a.test:1, https://b.test",
            ),
            ("DATA_DIR", data),
        ])
        .unwrap();
        assert_eq!(config.mesh_api_url.as_str(), "http://127.0.0.1:4555/");
        assert_eq!(config.mesh_credentials.client_id, "cid");
        assert_eq!(
            config.mesh_credentials.client_secret.expose_secret(),
            "csecret"
        );
        assert_eq!(
            config.emulator.unwrap().allowed_origins,
            vec!["http://a.test:1".to_string(), "https://b.test".to_string()]
        );
        assert!(matches!(
            load([("MESH_EMULATOR_ADDR", "localhost"), ("DATA_DIR", data)]).unwrap_err(),
            ConfigError::InvalidAddr {
                var: "MESH_EMULATOR_ADDR",
                ..
            }
        ));
        assert!(matches!(
            load([
                ("MESH_EMULATOR_ALLOWED_ORIGINS", "b.test/path"),
                ("DATA_DIR", data)
            ])
            .unwrap_err(),
            ConfigError::InvalidUrl {
                var: "MESH_EMULATOR_ALLOWED_ORIGINS",
                ..
            }
        ));
    }

    #[test]
    fn session_key_from_env_must_be_64_bytes_and_is_never_echoed() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let good = key(64);
        let config = load([("SESSION_KEY", good.as_str()), ("DATA_DIR", data)]).unwrap();
        assert_eq!(config.session_key.bytes(), vec![7u8; 64].as_slice());
        for bad in [key(32), "not base64!".to_string()] {
            let err = load([("SESSION_KEY", bad.as_str()), ("DATA_DIR", data)]).unwrap_err();
            assert_eq!(
                err,
                ConfigError::InvalidKey {
                    var: "SESSION_KEY",
                    len: 64
                }
            );
            assert!(!err.to_string().contains(&bad));
        }
        assert!(!format!("{:?}", config.session_key).contains("7"));
    }

    #[test]
    fn missing_session_key_is_generated_once_and_reused() {
        let dir = temp_dir();
        let data = dir.path().join("nested");
        let data = data.to_str().unwrap();
        let first = load([("DATA_DIR", data)]).unwrap();
        let second = load([("DATA_DIR", data)]).unwrap();
        assert_eq!(first.session_key.bytes(), second.session_key.bytes());
        assert_eq!(first.session_key.bytes().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("nested/session_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.path().join("nested"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
    }

    #[test]
    fn public_url_defaults_to_the_listening_address_under_both_spellings() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let config = load([("DATA_DIR", data)]).unwrap();
        assert_eq!(
            config.public_url.origins(),
            [APP.to_string(), APP.replace("127.0.0.1", "localhost")]
        );
        assert!(!config.public_url.is_https());
        let config = load([("DATA_DIR", data), ("PUBLIC_URL", "http://10.0.0.5:8080/")]).unwrap();
        assert_eq!(config.public_url.origins(), ["http://10.0.0.5:8080"]);
        assert_eq!(
            load([("DATA_DIR", data), ("PUBLIC_URL", "app.example.com")]).unwrap_err(),
            ConfigError::InvalidUrl {
                var: "PUBLIC_URL",
                value: "app.example.com".into()
            }
        );
        assert_eq!(
            local_spellings("http://0.0.0.0:3000"),
            ["http://127.0.0.1:3000", "http://localhost:3000"]
        );
    }

    #[test]
    fn rate_limits_default_to_30_a_minute_burst_10_and_read_trusted_proxies() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        assert_eq!(
            load([("DATA_DIR", data)]).unwrap().rate_limit,
            RateLimitSettings::default()
        );
        let config = load([
            ("DATA_DIR", data),
            ("RATE_LIMIT_PER_MINUTE", "600"),
            ("RATE_LIMIT_BURST", "50"),
            ("RATE_LIMIT_REPORTS_PER_HOUR", "60"),
            ("TRUSTED_PROXIES", "10.0.0.2, ::1"),
        ])
        .unwrap();
        assert_eq!(config.rate_limit.per_minute, 600);
        assert_eq!(config.rate_limit.burst, 50);
        assert_eq!(config.rate_limit.reports_per_hour, 60);
        assert_eq!(
            config.rate_limit.trusted_proxies,
            [
                "10.0.0.2".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert_eq!(
            load([("DATA_DIR", data), ("RATE_LIMIT_BURST", "0")]).unwrap_err(),
            ConfigError::InvalidCount {
                var: "RATE_LIMIT_BURST",
                value: "0".into()
            }
        );
        assert_eq!(
            load([("DATA_DIR", data), ("TRUSTED_PROXIES", "10.0.0.0/8")]).unwrap_err(),
            ConfigError::InvalidProxy("10.0.0.0/8".into())
        );
    }

    #[test]
    fn the_data_folder_is_made_for_sqlite_even_when_both_keys_are_set() {
        let dir = temp_dir();
        let data = dir.path().join("fresh");
        let (session, token) = (key(64), key(32));
        load([
            ("DATA_DIR", data.to_str().unwrap()),
            ("SESSION_KEY", session.as_str()),
            ("TOKEN_KEY", token.as_str()),
        ])
        .unwrap();
        assert!(data.is_dir());
    }

    #[test]
    fn retention_and_the_connection_cap_default_to_400_days_and_100() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        assert_eq!(load([("DATA_DIR", data)]).unwrap().retention_days, 400);
        assert_eq!(
            load([("DATA_DIR", data)]).unwrap().max_connections_per_user,
            100
        );
        assert_eq!(
            load([("DATA_DIR", data), ("MAX_CONNECTIONS_PER_USER", "5000")])
                .unwrap()
                .max_connections_per_user,
            5000
        );
        assert_eq!(
            load([("DATA_DIR", data), ("RETENTION_DAYS", "30")])
                .unwrap()
                .retention_days,
            30
        );
        assert_eq!(
            load([("DATA_DIR", data), ("RETENTION_DAYS", "forever")]).unwrap_err(),
            ConfigError::InvalidCount {
                var: "RETENTION_DAYS",
                value: "forever".into()
            }
        );
    }

    #[test]
    fn previous_keys_are_read_for_rotation() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let config = load([("DATA_DIR", data)]).unwrap();
        assert!(config.token_keys_previous.is_empty());
        assert!(config.session_key_previous.is_none());
        let (old_a, old_b, old_session) = (key(32), key(32), key(64));
        let list = format!("{old_a}, {old_b}");
        let config = load([
            ("DATA_DIR", data),
            ("TOKEN_KEY_PREVIOUS", list.as_str()),
            ("SESSION_KEY_PREVIOUS", old_session.as_str()),
        ])
        .unwrap();
        assert_eq!(config.token_keys_previous.len(), 2);
        assert_eq!(config.session_key_previous.unwrap().bytes().len(), 64);
        assert_eq!(
            load([
                ("DATA_DIR", data),
                ("TOKEN_KEY_PREVIOUS", old_session.as_str())
            ])
            .unwrap_err(),
            ConfigError::InvalidKey {
                var: "TOKEN_KEY_PREVIOUS",
                len: 32
            }
        );
    }

    #[test]
    fn token_key_must_be_32_bytes_and_is_generated_outside_production() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let bad = key(64);
        assert_eq!(
            load([("TOKEN_KEY", bad.as_str()), ("DATA_DIR", data)]).unwrap_err(),
            ConfigError::InvalidKey {
                var: "TOKEN_KEY",
                len: 32
            }
        );
        let first = load([("DATA_DIR", data)]).unwrap();
        let second = load([("DATA_DIR", data)]).unwrap();
        assert_eq!(first.token_key.bytes().len(), 32);
        assert_eq!(first.token_key.bytes(), second.token_key.bytes());
        assert_ne!(first.token_key.bytes(), &first.session_key.bytes()[..32]);
    }

    #[test]
    fn database_url_defaults_to_sqlite_under_data_dir_and_accepts_postgres() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let config = load([("DATA_DIR", data)]).unwrap();
        assert_eq!(
            config.database_url,
            format!("sqlite://{data}/connections.db?mode=rwc")
        );
        let pg = "postgres://app@db.internal:5432/mesh";
        let config = load([("DATABASE_URL", pg), ("DATA_DIR", data)]).unwrap();
        assert_eq!(config.database_url, pg);
        assert_eq!(config.database_max_connections, 10);
        assert_eq!(
            load([("DATABASE_URL", "mysql://x/y"), ("DATA_DIR", data)]).unwrap_err(),
            ConfigError::UnsupportedDatabase("mysql".into())
        );
    }

    /// Run by CI with `--no-default-features`: a build without the emulator says why it cannot
    /// start without keys, and still starts with them.
    #[cfg(not(feature = "emulator"))]
    #[test]
    fn without_the_emulator_feature_emulator_mode_is_refused_with_a_sentence() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        for env in [
            [("DATA_DIR", data), ("MESH_ENV", "")],
            [("DATA_DIR", data), ("MESH_ENV", "emulator")],
        ] {
            let err = load(env).unwrap_err();
            assert_eq!(err, ConfigError::EmulatorNotBuilt);
            assert!(err.to_string().starts_with("MESH_ENV=emulator"));
            assert!(
                err.to_string()
                    .contains("MESH_CLIENT_ID and MESH_CLIENT_SECRET")
            );
        }
        let config = load([
            ("DATA_DIR", data),
            ("MESH_CLIENT_ID", "id"),
            ("MESH_CLIENT_SECRET", "sk_sandbox_x"),
        ])
        .unwrap();
        assert_eq!(config.mesh_env, MeshEnvironment::Sandbox);
    }

    #[test]
    fn database_pool_size_is_checked() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let config = load([("DATA_DIR", data)]).unwrap();
        assert_eq!(config.database_max_connections, 4, "SQLite's default");
        let config = load([("DATABASE_MAX_CONNECTIONS", "32"), ("DATA_DIR", data)]).unwrap();
        assert_eq!(config.database_max_connections, 32);
        for bad in ["0", "-1", "ten", "1001"] {
            let err = load([("DATABASE_MAX_CONNECTIONS", bad), ("DATA_DIR", data)]).unwrap_err();
            assert_eq!(err, ConfigError::InvalidPoolSize(bad.into()));
            assert!(
                err.to_string()
                    .starts_with("DATABASE_MAX_CONNECTIONS must be")
            );
        }
    }

    #[test]
    fn unusable_data_dir_is_reported() {
        let dir = temp_dir();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = load([("DATA_DIR", file.to_str().unwrap())]).unwrap_err();
        assert!(matches!(err, ConfigError::DataDir { .. }), "{err}");
        assert!(err.to_string().contains("DATA_DIR"));
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let credentials = MeshCredentials {
            client_id: "id".into(),
            client_secret: SecretString::from("sk_sandbox_topsecret"),
        };
        assert!(!format!("{credentials:?}").contains("topsecret"));
    }
}
