//! Feature: fetch a single-use link token with the server-held secret, then open Link with it
//! and report what Link posts back.

use leptos::prelude::*;

use crate::error::AppError;
use crate::launcher::{link_options, use_link_launcher};
use crate::link_settings::LinkSettings;
use mesh_link::{IntegrationConnected, LinkEvent, LinkExit, LinkState, RenderType};

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
        .map_err(AppError::from)
}

/// Which Mesh is in use and where Link may come from.
#[server(endpoint = "link_settings")]
pub async fn get_link_settings() -> Result<LinkSettings, AppError> {
    Ok(crate::state::app_state()?.link_settings.clone())
}

/// One line of the event timeline: what Link reported, with a safe detail (never a token).
#[derive(Clone, Debug, PartialEq)]
struct TimelineEntry {
    label: String,
    detail: Option<String>,
}

impl From<&LinkEvent> for TimelineEntry {
    fn from(event: &LinkEvent) -> Self {
        Self {
            label: event.event_type.key().to_string(),
            detail: event
                .error_message()
                .or_else(|| event.integration_name())
                .map(str::to_string),
        }
    }
}

/// Id of the page's own iframe when Link is embedded.
pub const EMBEDDED_IFRAME_ID: &str = "mesh-link-embedded";

/// The "Connect an account" button: fetches a link token, opens Link, hands what Link connects
/// to `on_connected`, and shows progress, an event timeline and why Link closed.
#[component]
pub fn ConnectAccount(
    /// Which Mesh is in use (from [`get_link_settings`]).
    settings: LinkSettings,
    /// Receives the tokens Link captured; they go to the server and never into the page.
    on_connected: Callback<IntegrationConnected>,
    /// Render Link inside this page's own iframe instead of the overlay.
    #[prop(optional)]
    embedded: bool,
    /// Open Link as soon as the page has hydrated (`?reconnect=1`, from "Reconnect this
    /// account").
    #[prop(optional)]
    open_on_load: bool,
) -> impl IntoView {
    let timeline = RwSignal::new(Vec::<TimelineEntry>::new());
    let last_exit = RwSignal::new(None::<LinkExit>);
    let embedded_frame = NodeRef::<leptos::html::Iframe>::new();

    let mut options = link_options(&settings);
    if embedded {
        options.render_type = RenderType::Embedded {
            iframe_id: EMBEDDED_IFRAME_ID.to_string(),
        };
    }
    options.on_integration_connected = Some(on_connected);
    options.on_event = Some(Callback::new(move |event: LinkEvent| {
        timeline.update(|entries| entries.push(TimelineEntry::from(&event)));
    }));
    options.on_exit = Some(Callback::new(move |exit: LinkExit| {
        timeline.update(|entries| {
            entries.push(TimelineEntry {
                label: "exit".into(),
                detail: exit
                    .error
                    .clone()
                    .or_else(|| exit.summary.as_ref().map(|s| format!("on page {}", s.page))),
            })
        });
        last_exit.set(Some(exit));
        // Link never removes an iframe it did not create: blank ours, as Mesh's example does.
        if let Some(frame) = embedded_frame.get_untracked() {
            frame.set_src("about:blank");
        }
    }));
    let launcher = use_link_launcher::<CreateLinkToken>(options);
    let (link, create_token, hydrated) = (launcher.link, launcher.token, launcher.hydrated);
    // The button stays disabled until the page has hydrated, so an early click is never lost.
    Effect::new(move || {
        if open_on_load {
            create_token.dispatch(CreateLinkToken {});
        }
    });

    let busy = move || launcher.busy();
    let status = move || {
        if let Some(progress) = launcher.progress("Link is open.") {
            return progress;
        }
        if let Some(error) = launcher.token_error() {
            return error;
        }
        match last_exit.get() {
            Some(LinkExit {
                error: Some(error), ..
            }) => format!("Link closed: {error}"),
            Some(_) => "Link closed.".to_string(),
            None => String::new(),
        }
    };
    let failed = move || {
        matches!(create_token.value().get(), Some(Err(_)))
            || matches!(last_exit.get(), Some(LinkExit { error: Some(_), .. }))
    };

    view! {
        <section class="connect">
            <button
                class="primary"
                disabled=move || !hydrated.get() || busy()
                on:click=move |_| {
                    last_exit.set(None);
                    timeline.set(Vec::new());
                    create_token.dispatch(CreateLinkToken {});
                }
            >
                {move || {
                    if !hydrated.get() {
                        // Server-rendered: the button works once the page's code has loaded.
                        "Loading…"
                    } else if create_token.pending().get() {
                        "Requesting a link token…"
                    } else {
                        "Connect an account"
                    }
                }}
            </button>
            {move || (embedded && link.state().get() != LinkState::Closed).then(|| view! {
                <button on:click=move |_| link.request_close()>"Close Link"</button>
            })}
            <p class="status" class:error=failed role="status" aria-live="polite">
                {status}
            </p>
        </section>
        {embedded.then(|| view! {
            <iframe
                id=EMBEDDED_IFRAME_ID
                node_ref=embedded_frame
                class="embedded-link"
                class:open=move || link.state().get() != LinkState::Closed
                title="Mesh Link"
            ></iframe>
        })}
        {move || (!timeline.with(Vec::is_empty)).then(|| view! {
            <section aria-labelledby="timeline-heading">
                <h2 id="timeline-heading">"What Link reported this time"</h2>
                <ol class="timeline" aria-label="Link events">
                    {timeline.get().into_iter().map(|entry| view! {
                        <li>
                            <code>{entry.label}</code>
                            {entry.detail.map(|detail| format!(" — {detail}"))}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        })}
    }
}
