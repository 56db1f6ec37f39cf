//! The offline Mesh: the same paths, headers, envelopes and statuses as Mesh's sandbox API, plus
//! the Link page, on its own loopback port so the Link iframe is cross-origin as in production.
//! Tests inject faults through `POST /_emulator/faults`.

mod api;
mod brokers;
mod deliveries;
mod fault_queue;
mod faults;
mod integrations;
mod link_transfer;
mod link_ui;
mod portfolio;
mod reply;
mod settings;
mod settlement;
mod state;
mod tokens;
mod transfer_book;
mod transfers;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt as _;
use tokio::task::JoinHandle;
use url::Url;

pub use settings::{
    DEFAULT_ADDR, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN_TTL, Settings, Webhook,
};

/// A running emulator; dropping it does not stop it, call [`RunningEmulator::stop`].
pub struct RunningEmulator {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://ADDR/`.
    pub fn base_url(&self) -> Url {
        settings::base_url(self.addr)
    }

    /// Connects `broker` through the emulated Link as a user would (opens the page of
    /// `link_token`, signs in as `Mesh`/`Pass123` for `host_origin`), and returns the
    /// `brokerageAccountAccessToken` payload the page would post to the host. For tests and
    /// scripts that need a real connection without a browser.
    pub async fn connect_through_link(
        &self,
        link_token: &str,
        broker: &str,
        host_origin: &str,
    ) -> Result<serde_json::Value, String> {
        let (_, body) = self
            .sign_in_through_link(link_token, broker, host_origin)
            .await?;
        Ok(body["payload"].clone())
    }

    /// Goes on, after connecting `broker` as [`Self::connect_through_link`] does, into the link
    /// token's transfer: previews its first asset, confirms (with the sandbox code where the
    /// broker asks for one), and returns the `transferFinished` payload Link would post.
    pub async fn transfer_through_link(
        &self,
        link_token: &str,
        broker: &str,
        host_origin: &str,
    ) -> Result<serde_json::Value, String> {
        let (session, _) = self
            .sign_in_through_link(link_token, broker, host_origin)
            .await?;
        let preview = self
            .link_call(
                &session,
                "transfer/preview",
                serde_json::json!({ "index": 0, "hostOrigin": host_origin }),
            )
            .await?;
        let preview_id = preview["preview"]["previewId"].clone();
        let mut executed = self
            .link_call(
                &session,
                "transfer/execute",
                serde_json::json!({ "previewId": preview_id, "hostOrigin": host_origin }),
            )
            .await?;
        if executed["status"] == "mfaRequired" {
            executed = self
                .link_call(&session, "transfer/execute", serde_json::json!({
                    "previewId": preview_id, "code": brokers::SANDBOX_MFA_CODE, "hostOrigin": host_origin,
                }))
                .await?;
        }
        Ok(executed["payload"].clone())
    }

    /// Opens the Link page of `link_token` and signs in to `broker`; returns the page's session
    /// and the sign-in answer.
    async fn sign_in_through_link(
        &self,
        link_token: &str,
        broker: &str,
        host_origin: &str,
    ) -> Result<(String, serde_json::Value), String> {
        use base64::Engine as _;
        let url = base64::engine::general_purpose::STANDARD
            .decode(link_token)
            .ok()
            .and_then(|url| String::from_utf8(url).ok())
            .ok_or("the link token is not a Base64 URL")?;
        let page = reqwest::get(url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| error.to_string())?
            .text()
            .await
            .map_err(|error| error.to_string())?;
        let session = page
            .split_once("\"session\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(session, _)| session.to_string())
            .ok_or("the Link page holds no session")?;
        let mut body = self
            .link_call(
                &session,
                "sign-in",
                serde_json::json!({
                    "brokerType": broker, "username": "Mesh", "password": "Pass123",
                    "hostOrigin": host_origin,
                }),
            )
            .await?;
        if body["status"] == "mfaRequired" {
            body = self
                .link_call(
                    &session,
                    "mfa",
                    serde_json::json!({
                        "code": brokers::SANDBOX_MFA_CODE, "hostOrigin": host_origin,
                    }),
                )
                .await?;
        }
        Ok((session, body))
    }

    /// One call of the Link page to its own API, as the page makes it.
    async fn link_call(
        &self,
        session: &str,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let url = self
            .base_url()
            .join(&format!("/_link/{session}/{path}"))
            .map_err(|error| error.to_string())?;
        reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| error.to_string())?
            .json()
            .await
            .map_err(|error| error.to_string())
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Binds `settings.addr` and serves the emulator in a background task.
pub async fn spawn(settings: Settings) -> std::io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind(settings.addr).await?;
    let addr = listener.local_addr()?;
    let router = router(Settings { addr, ..settings });
    // Without TCP_NODELAY a keep-alive client waits ~40 ms for each answer's last segment.
    let listener = listener.tap_io(|socket: &mut tokio::net::TcpStream| {
        if let Err(error) = socket.set_nodelay(true) {
            tracing::warn!(%error, "TCP_NODELAY could not be set on an accepted socket");
        }
    });
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "Mesh emulator stopped");
        }
    });
    tracing::info!("Mesh emulator listening on http://{addr}");
    Ok(RunningEmulator { addr, task })
}

/// The emulator's routes (API, Link page, fault control).
pub fn router(settings: Settings) -> Router {
    let state = Arc::new(state::EmulatorState::new(settings));
    api::routes()
        .merge(link_ui::routes())
        .merge(link_transfer::routes())
        .merge(integrations::routes())
        .merge(faults::control_routes())
        .merge(transfers::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .with_state(state)
}
