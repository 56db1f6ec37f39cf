//! Start-up and shutdown of the server binary: the vault and session from the configuration,
//! the background tasks, the key rotation command and the shutdown signal. Errors are sentences
//! for the operator, naming what to fix.

use std::sync::Arc;

use crate::config::{Config, MeshEnvironment};
use crate::mesh::MeshClient;
use crate::session::SessionConfig;
use crate::tokens::{TokenRefresher, spawn_token_refresher};
use crate::vault::TokenVault;

/// The token vault under `TOKEN_KEY`, reading `TOKEN_KEY_PREVIOUS` too, with the connection
/// cap (`MAX_CONNECTIONS_PER_USER`).
pub async fn open_vault(config: &Config) -> Result<TokenVault, String> {
    TokenVault::connect(
        &config.database_url,
        config.token_key.bytes(),
        config.database_max_connections,
    )
    .await
    .and_then(|vault| {
        vault
            .with_previous_keys(config.token_keys_previous.iter().map(|k| k.bytes()))
            .map(|vault| vault.with_connection_cap(config.max_connections_per_user as u64))
    })
    .map_err(|e| format!("the token vault cannot be opened ({e}): check DATABASE_URL and DATA_DIR"))
}

/// The session cookie's keys (`SESSION_KEY`, and `SESSION_KEY_PREVIOUS` during a rotation).
pub fn session(config: &Config) -> Result<SessionConfig, String> {
    // Production is served over https behind a proxy; the cookie must not travel in clear there.
    let secure_cookie =
        config.mesh_env == MeshEnvironment::Production || config.public_url.is_https();
    let mut session =
        SessionConfig::new(config.session_key.bytes(), secure_cookie).map_err(|e| e.to_string())?;
    if let Some(previous) = &config.session_key_previous {
        session = session
            .with_previous_key(previous.bytes())
            .map_err(|e| e.to_string())?;
    }
    Ok(session)
}

/// Starts the background work: the daily retention sweep, the token refresher and the
/// reconciliation of open deposits. Stop the returned refresher on shutdown.
pub fn spawn_background(
    mesh: &MeshClient,
    vault: &Arc<TokenVault>,
    retention_days: u32,
) -> TokenRefresher {
    crate::retention::spawn_daily_sweep(mesh.clone(), vault.clone(), retention_days);
    let refresher = spawn_token_refresher(mesh.clone(), vault.clone());
    crate::deposits::reconcile::spawn_reconciler(mesh.clone(), vault.clone());
    refresher
}

/// `mesh-link-starter rotate-token-key`: re-encrypts every stored token under `TOKEN_KEY`, then
/// says what it did. Run it with the old key in `TOKEN_KEY_PREVIOUS`; once it reports nothing
/// left under another key, `TOKEN_KEY_PREVIOUS` can go.
pub async fn rotate_token_key(config: &Config) -> Result<(), String> {
    let vault = open_vault(config).await?;
    let report = vault
        .rotate_key()
        .await
        .map_err(|e| format!("the rotation stopped ({e}); run it again to finish"))?;
    println!("{report}");
    if report.unreadable > 0 {
        return Err("some connections are sealed under a key that is not set: add it to TOKEN_KEY_PREVIOUS and run again".into());
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before the process exits.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
