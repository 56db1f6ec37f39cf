//! Starts the embedded Mesh emulator (the `mesh-emulator` crate) in emulator mode.

use server::config::Config;

/// Starts the emulator when the configuration asks for it; returns its origin for the Link client.
#[cfg(feature = "emulator")]
pub async fn start(config: &Config) -> Result<Option<String>, String> {
    let Some(settings) = &config.emulator else {
        return Ok(None);
    };
    let running = mesh_emulator::spawn(mesh_emulator::Settings {
        addr: settings.addr,
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.clone(),
        allowed_origins: settings.allowed_origins.clone(),
        token_ttl: settings.token_ttl,
        webhook: settings
            .webhook
            .as_ref()
            .map(|webhook| mesh_emulator::Webhook {
                url: webhook.url.clone(),
                secret: webhook.secret.clone(),
            }),
        managed_tokens: config.managed_tokens,
    })
    .await
    .map_err(|e| {
        format!(
            "the Mesh emulator cannot listen on {} ({e}): set MESH_EMULATOR_ADDR to a free address",
            settings.addr
        )
    })?;
    Ok(Some(running.base_url().origin().ascii_serialization()))
}

/// This build has no emulator; the configuration refuses emulator mode before this runs.
#[cfg(not(feature = "emulator"))]
pub async fn start(_config: &Config) -> Result<Option<String>, String> {
    Ok(None)
}
