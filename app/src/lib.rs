//! The Leptos app: the HTML shell, the router and the home page that composes the features,
//! rendered in islands mode (only the islands hydrate, so the wasm holds them and nothing else).

pub mod accounts;
pub mod connect;
pub mod deposits;
pub mod error;
#[cfg(feature = "ssr")]
pub mod format;
pub mod launcher;
pub mod link_settings;
pub mod panel;
pub mod portfolio;
#[cfg(feature = "ssr")]
pub mod router;
#[cfg(feature = "ssr")]
pub mod server_fn_rules;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_query_map;
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::accounts::list_connections;
use crate::connect::get_link_settings;
use crate::deposits::DepositPage;
use crate::link_settings::MeshMode;
use crate::panel::AccountsPanel;
use crate::portfolio::PortfolioPage;

/// Hydrates the page's islands; the browser entry (`src/lib.rs`) calls it once the wasm has
/// loaded. Calling it from there also links this crate's islands into the wasm.
#[cfg(feature = "hydrate")]
pub fn hydrate_islands() {
    leptos::mount::hydrate_islands();
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link
                    rel="stylesheet"
                    href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
                />
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
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
        <Title text="Connect your accounts"/>
        <Router>
            <main>
                <Routes fallback=NotFound>
                    // Rendered whole before sending: a page this small gains nothing from streaming.
                    <Route path=StaticSegment("") view=|| view! { <HomePage/> } ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("accounts"), ParamSegment("id"))
                        view=PortfolioPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("deposit") view=DepositPage ssr=SsrMode::Async/>
                    <Route
                        path=StaticSegment("embedded")
                        view=|| view! { <HomePage embedded=true/> }
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// Any other path: says so, with a 404 status for the server-rendered answer.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! { <p>"Page not found."</p> }
}

/// The home page: which Mesh is in use, then the [`AccountsPanel`] island.
/// At `/embedded` Link renders inside the page instead of the overlay.
#[component]
fn HomePage(
    /// Render Link in an iframe of the page (Mesh's `embedded` render type).
    #[prop(optional)]
    embedded: bool,
) -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_link_settings());
    let connections = Resource::new(|| (), |_| list_connections());
    let query = use_query_map();
    let confirm_disconnect = query.with_untracked(|query| query.get("disconnect"));
    let open_link = query.with_untracked(|query| query.get_str("reconnect") == Some("1"));
    let disconnect_failed = query.with_untracked(|query| {
        crate::accounts::no_script_disconnect_failure(
            query.get_str("__path"),
            query.get_str("__err"),
        )
    });
    view! {
        <header>
            <h1>"Connect your accounts"</h1>
            <p class="lede">"Link a brokerage or exchange account through Mesh Connect."</p>
            <nav aria-label="Link render type">
                <A href="/">"Overlay"</A>
                " · "
                <A href="/embedded">"Embedded"</A>
            </nav>
            <noscript>
                <p class="status">
                    "Connecting an account needs JavaScript. The accounts below work without it."
                </p>
            </noscript>
        </header>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let (confirm_disconnect, disconnect_failed) =
                    (confirm_disconnect.clone(), disconnect_failed.clone());
                let (connections, connections_failed) = match connections.get()? {
                    Ok(list) => (list, None),
                    Err(error) => {
                        error.set_page_status();
                        (Vec::new(), Some(error.message))
                    }
                };
                settings
                    .get()
                    .map(|settings| match settings {
                        Ok(settings) => {
                            view! {
                                <MeshModeBanner mode=settings.mode/>
                                {settings.deposits.then(|| view! {
                                    <p class="deposit-link"><a href="/deposit">"Deposit crypto →"</a></p>
                                })}
                                <AccountsPanel
                                    settings
                                    embedded
                                    connections
                                    connections_failed
                                    confirm_disconnect
                                    disconnect_failed
                                    open_link
                                />
                            }
                                .into_any()
                        }
                        Err(error) => {
                            error.set_page_status();
                            view! { <p class="banner error" role="alert">{error.message}</p> }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
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
