//! The offline Mesh: the same paths, headers, envelopes and statuses as Mesh's sandbox API, plus
//! the Link page, on its own loopback port so the Link iframe is cross-origin as in production.
//! Tests inject faults through `POST /_emulator/faults`.

mod api;
mod brokers;
mod faults;
mod link_ui;
mod portfolio;
mod state;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::task::JoinHandle;
use url::Url;

pub use crate::config::EmulatorSettings;
use crate::config::emulator_base_url;

/// A running emulator; dropping it does not stop it, call [`RunningEmulator::stop`].
pub struct RunningEmulator {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://ADDR/`.
    pub fn base_url(&self) -> Url {
        emulator_base_url(self.addr)
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Binds `settings.addr` and serves the emulator in a background task.
pub async fn spawn(settings: EmulatorSettings) -> std::io::Result<RunningEmulator> {
    let listener = crate::net::bind(settings.addr).await?;
    let addr = axum::serve::Listener::local_addr(&listener)?;
    let router = router(EmulatorSettings { addr, ..settings });
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "Mesh emulator stopped");
        }
    });
    tracing::info!("Mesh emulator listening on http://{addr}");
    Ok(RunningEmulator { addr, task })
}

/// The emulator's routes (API, Link page, fault control).
pub fn router(settings: EmulatorSettings) -> Router {
    let state = Arc::new(state::EmulatorState::new(settings));
    api::routes()
        .merge(link_ui::routes())
        .merge(faults::control_routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .with_state(state)
}
