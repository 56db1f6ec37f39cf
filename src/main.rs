//! The server binary: configuration → state → router → serve.

use std::process::ExitCode;
use std::sync::Arc;

mod emulator;

use app::link_settings::{LinkSettings, MeshMode};
use app::router::router;
use app::state::AppState;
use leptos::prelude::get_configuration;
use server::config::{Config, MeshEnvironment, ProcessEnv};
use server::edge::EdgePolicy;
use server::mesh::MeshClient;
use server::startup::{open_vault, rotate_token_key, session, shutdown_signal, spawn_background};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // cargo-leptos applies only LEPTOS_* keys from .env; dotenvy loads the rest (never overriding
    // variables already set in the environment).
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("error: the .env file could not be read: {error}");
        return ExitCode::FAILURE;
    }
    tracing_subscriber::fmt()
        // Colours for a person at a terminal, plain text for a log collector.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let options = get_configuration(None)
        .map_err(|e| format!("the Leptos configuration is invalid: {e}"))?
        .leptos_options;
    let addr = options.site_addr;
    let config = Config::load(&ProcessEnv, &format!("http://{addr}")).map_err(|e| e.to_string())?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("rotate-token-key") => return rotate_token_key(&config).await,
        Some(other) => {
            return Err(format!(
                "unknown command \"{other}\": run without arguments to serve, or with rotate-token-key"
            ));
        }
    }

    // A release binary serves the site it embeds; one built the wrong way has none.
    let site = app::router::asset_names(&options);
    if !cfg!(debug_assertions) && !site.has_front_end::<server::edge::assets::Site>() {
        return Err("this binary holds no site (wasm, JS, CSS): build it with \
                    `cargo leptos build --release --precompress --split`, which builds the site first"
            .into());
    }
    if site.built_without_split::<server::edge::assets::Site>() {
        return Err(
            "the site's code imports a lazy chunk that only `--split` builds make, so no \
                    button on any page would work: a `#[lazy]` function or `#[island(lazy)]` is lazy \
                    in every build; make it lazy only in split builds, \
                    `#[cfg_attr(wasm_split, lazy)]` as in `app/src` (see `app/build.rs`), or \
                    build with `--split`"
                .into(),
        );
    }
    let emulator_origin = emulator::start(&config).await?;
    let vault = open_vault(&config).await?;
    tracing::info!("token vault ready ({:?})", vault.backend());
    let mesh = MeshClient::new(config.mesh_api_url.clone(), config.mesh_credentials.clone())
        .map_err(|e| e.to_string())?;
    let link_settings = LinkSettings {
        mode: match config.mesh_env {
            MeshEnvironment::Emulator => MeshMode::Emulator,
            MeshEnvironment::Sandbox => MeshMode::Sandbox,
            MeshEnvironment::Production => MeshMode::Production,
        },
        emulator_origin,
        deposits: !config.deposit_addresses.is_empty(),
    };
    let session = session(&config)?;

    let state = AppState {
        mesh,
        vault: Arc::new(vault),
        link_settings,
        webhook_secret: config.webhook_secret.clone(),
        deposit_addresses: config.deposit_addresses.clone(),
        deposit_addresses_emulated: config.deposit_addresses_emulated,
        integrations: Arc::default(),
        managed_tokens: config.managed_tokens,
    };
    let edge = EdgePolicy {
        link_frame_src: state
            .link_settings
            .emulator_origin
            .clone()
            .unwrap_or_else(|| EdgePolicy::MESH_LINK_HOSTS.to_string()),
        public_url: config.public_url,
        rate_limit: config.rate_limit,
        // `cargo leptos watch` sets LEPTOS_WATCH; only then does the page open the websocket.
        live_reload_port: std::env::var_os("LEPTOS_WATCH")
            .map(|_| options.reload_external_port.unwrap_or(options.reload_port)),
    };
    let refresher = spawn_background(&state.mesh, &state.vault, config.retention_days);
    let app = router(state, session, edge, options);
    let listener = server::net::bind(addr).await.map_err(|e| {
        format!("cannot listen on {addr} ({e}): set LEPTOS_SITE_ADDR to a free address")
    })?;
    tracing::info!("listening on http://{addr} (Mesh: {})", config.mesh_env);
    // With each connection's peer address, which the rate limits key on.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("the server stopped: {e}"))?;
    // Mesh may have rotated tokens for refreshes in flight: store its answers before exiting.
    refresher.stop().await;
    Ok(())
}
