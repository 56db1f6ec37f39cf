//! Feature: fetch a single-use link token with the server-held secret, then open Link with it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::LinkSettings;

/// Asks Mesh for a link token for the session's user. The client secret stays on the server.
#[server(endpoint = "create_link_token")]
pub async fn create_link_token() -> Result<String, AppError> {
    use server::mesh::LinkTokenRequest;

    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?;
    state
        .mesh
        .create_link_token(&LinkTokenRequest::for_user(user.to_string()))
        .await
        .map(|content| content.link_token)
        .map_err(|error| crate::error::ssr::from_mesh("create a link token", error))
}

/// Which Mesh is in use and where Link may come from.
#[server(endpoint = "link_settings")]
pub async fn get_link_settings() -> Result<LinkSettings, AppError> {
    Ok(crate::state::app_state()?.link_settings)
}

/// The "Connect an account" button: fetches a link token, showing progress and errors.
#[component]
pub fn ConnectAccount() -> impl IntoView {
    let create_token = ServerAction::<CreateLinkToken>::new();
    let pending = create_token.pending();
    // Effects run only in the browser: the button stays disabled until the page has hydrated,
    // so an early click is never silently lost.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let status = move || match create_token.value().get() {
        None => String::new(),
        Some(Ok(_)) => "Link token received.".to_string(),
        Some(Err(error)) => error.message,
    };
    let failed = move || matches!(create_token.value().get(), Some(Err(_)));

    view! {
        <section class="connect">
            <button
                class="primary"
                disabled=move || !hydrated.get() || pending.get()
                on:click=move |_| {
                    create_token.dispatch(CreateLinkToken {});
                }
            >
                {move || if pending.get() { "Requesting a link token…" } else { "Connect an account" }}
            </button>
            <p class="status" class:error=failed role="status" aria-live="polite">
                {status}
            </p>
        </section>
    }
}
