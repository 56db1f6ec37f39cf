//! The Leptos app: the HTML shell, the router and the home page that composes the features.

pub mod accounts;
pub mod connect;
pub mod error;
pub mod link;
pub mod model;
#[cfg(feature = "ssr")]
pub mod router;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Router, Routes};

use crate::accounts::ConnectionCard;
use crate::connect::{ConnectAccount, get_link_settings};
use crate::link::IntegrationConnected;
use crate::model::{ConnectionSummary, MeshMode};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The root component: styles, title and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/mesh-link-starter.css"/>
        <Title text="Connect your accounts"/>
        <Router>
            <main>
                <Routes fallback=|| view! { <p>"Page not found."</p> }>
                    <Route path=StaticSegment("") view=HomePage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The home page: which Mesh is in use, the Connect button and the connected accounts.
#[component]
fn HomePage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_link_settings());
    let connected = RwSignal::new(Vec::<ConnectionSummary>::new());
    let on_connected = Callback::new(move |payload: IntegrationConnected| {
        connected.update(|list| list.extend(summaries_of(&payload)));
    });
    view! {
        <header>
            <h1>"Connect your accounts"</h1>
            <p class="lede">"Link a brokerage or exchange account through Mesh Connect."</p>
        </header>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                settings
                    .get()
                    .map(|settings| match settings {
                        Ok(settings) => {
                            view! {
                                <MeshModeBanner mode=settings.mode/>
                                <ConnectAccount settings on_connected/>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! { <p class="banner error" role="alert">{error.message}</p> }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
        <section aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">"Connected accounts"</h2>
            <Show
                when=move || !connected.with(Vec::is_empty)
                fallback=|| view! { <p class="empty">"No accounts connected yet."</p> }
            >
                <ul class="accounts" aria-label="Connected accounts">
                    <For each=move || connected.get() key=|c| c.id.clone() let(connection)>
                        <li class="card">
                            <ConnectionCard connection/>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// The summaries of what Link connected, for the page (the tokens are dropped here).
fn summaries_of(payload: &IntegrationConnected) -> Vec<ConnectionSummary> {
    match payload {
        IntegrationConnected::AccessToken(payload) => payload
            .account_tokens
            .iter()
            .map(|token| ConnectionSummary {
                id: format!("{}:{}", payload.broker_type, token.account.account_id),
                broker_type: payload.broker_type.clone(),
                broker_name: payload.broker_name.clone(),
                broker_logo: Some(payload.broker_brand_info.broker_logo.clone()),
                account_name: Some(token.account.account_name.clone()),
                cash: token.account.cash,
                fund: token.account.fund,
                connected_at: 0,
                expires_at: None,
                pending: false,
            })
            .collect(),
        IntegrationConnected::DelayedAuth(payload) => vec![ConnectionSummary {
            id: format!("{}:pending", payload.broker_type),
            broker_type: payload.broker_type.clone(),
            broker_name: payload.broker_name.clone(),
            broker_logo: Some(payload.broker_brand_info.broker_logo.clone()),
            account_name: None,
            cash: None,
            fund: None,
            connected_at: 0,
            expires_at: None,
            pending: true,
        }],
    }
}

/// Says plainly when Mesh is emulated, so nobody mistakes the demo brokers for real ones.
#[component]
fn MeshModeBanner(mode: MeshMode) -> impl IntoView {
    match mode {
        MeshMode::Emulator => view! {
            <p class="banner emulated" role="note">
                "Mesh is emulated: no real accounts are involved. Set MESH_CLIENT_ID and MESH_CLIENT_SECRET to use Mesh's sandbox."
            </p>
        }
        .into_any(),
        MeshMode::Sandbox => view! {
            <p class="banner sandbox" role="note">"Connected to Mesh's sandbox: use its test logins."</p>
        }
        .into_any(),
        MeshMode::Production => ().into_any(),
    }
}
