//! The Mesh emulator alone, for tests and tools: `cargo run -p mesh-emulator`.

use clap::Parser;
use mesh_emulator::{self as emulator, Settings, Webhook};
use secrecy::SecretString;

/// Serve the offline Mesh API and Link page.
#[derive(Parser)]
#[command(
    version,
    about = "The offline Mesh: its API and Link page on one loopback port"
)]
struct Args {
    /// Listen address.
    #[arg(long, env = "MESH_EMULATOR_ADDR", default_value = emulator::DEFAULT_ADDR)]
    addr: std::net::SocketAddr,
    /// Client id the API accepts.
    #[arg(long, env = "MESH_EMULATOR_CLIENT_ID", default_value = emulator::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Client secret the API accepts.
    #[arg(long, env = "MESH_EMULATOR_CLIENT_SECRET", default_value = emulator::DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    client_secret: String,
    /// Comma-separated host-page origins Link may send tokens to.
    #[arg(
        long,
        env = "MESH_EMULATOR_ALLOWED_ORIGINS",
        default_value = "http://127.0.0.1:3000,http://localhost:3000"
    )]
    allowed_origins: String,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, env = "MESH_EMULATOR_TOKEN_TTL", default_value_t = emulator::DEFAULT_TOKEN_TTL.as_secs())]
    token_ttl: u64,
    /// Where to deliver signed transfer webhooks (none when unset).
    #[arg(long, env = "MESH_EMULATOR_WEBHOOK_URL")]
    webhook_url: Option<url::Url>,
    /// The secret webhooks are signed with (needed with a webhook URL).
    #[arg(long, env = "MESH_EMULATOR_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// Mesh-managed tokens: Link's payload carries a `tokenId` per account, accepted wherever an
    /// access token is.
    #[arg(long, env = "MESH_EMULATOR_MANAGED_TOKENS")]
    managed_tokens: bool,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let allowed_origins = match parse_origins(&args.allowed_origins) {
        Ok(origins) => origins,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let webhook = match (args.webhook_url, args.webhook_secret) {
        (Some(url), Some(secret)) => Some(Webhook {
            url,
            secret: SecretString::from(secret),
        }),
        (None, _) => None,
        (Some(_), None) => {
            eprintln!("error: --webhook-url needs --webhook-secret (MESH_EMULATOR_WEBHOOK_SECRET)");
            std::process::exit(2);
        }
    };
    let settings = Settings {
        addr: args.addr,
        client_id: args.client_id,
        client_secret: SecretString::from(args.client_secret),
        allowed_origins,
        token_ttl: std::time::Duration::from_secs(args.token_ttl.max(1)),
        webhook,
        managed_tokens: args.managed_tokens,
    };
    // `spawn` logs the address it listens on.
    let running = match emulator::spawn(settings).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("error: cannot listen on {}: {error}", args.addr);
            std::process::exit(1);
        }
    };
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {error}");
    }
    running.stop();
}

/// Each origin of a comma-separated list (`scheme://host[:port]`), or the first that is not one.
fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| match url::Url::parse(origin) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.path() == "/"
                    && url.query().is_none()
                    && !origin.ends_with('/') =>
            {
                Ok(url.origin().ascii_serialization())
            }
            _ => Err(format!(
                "MESH_EMULATOR_ALLOWED_ORIGINS: \"{origin}\" is not an origin (scheme://host[:port])"
            )),
        })
        .collect()
}
