//! The app's axum router: the pages and server functions (with the app's state as context),
//! wrapped in the server's edge. `src/main.rs` serves it; tests drive it over HTTP.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::http::request::Parts;
use leptos::nonce::Nonce;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use server::edge::assets::{AssetNames, Site};
use server::edge::{EdgePolicy, PageNonce, Surroundings, wrap};
use server::session::SessionConfig;

use crate::server_fn_rules::server_fn_rules;
use crate::state::AppState;
use crate::{App, shell};

/// The names the front-end files are served under: versioned by content in a release build
/// (which embeds them), plain in development (read from disk, rebuilt by `cargo leptos watch`).
pub fn asset_names(options: &LeptosOptions) -> AssetNames {
    if cfg!(debug_assertions) {
        AssetNames::unversioned(&options.output_name, &options.site_pkg_dir)
    } else {
        AssetNames::versioned::<Site>(&options.output_name, &options.site_pkg_dir)
    }
}

/// Builds the router: server functions get `state` as context; the server's edge wraps it all
/// (every request gets a user id, passes the forgery check and gets the headers of `edge`).
pub fn router(
    state: AppState,
    session: SessionConfig,
    edge: EdgePolicy,
    mut options: LeptosOptions,
) -> Router {
    let state = Arc::new(state);
    let names = asset_names(&options);
    // Leptos loads the scripts from `site_pkg_dir`; the shell links the stylesheet from it.
    options.site_pkg_dir = names.pkg_dir().into();
    let render_page = leptos_axum::render_app_to_stream_with_context(provide_page_nonce, {
        let options = options.clone();
        move || shell(options.clone())
    });
    let pages = Router::new()
        .leptos_routes_with_context(
            &options,
            route_list(),
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    provide_page_nonce();
                }
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        // Any other path renders the app, whose router answers "Page not found."
        .fallback(move |request: Request<Body>| render_page(request))
        .with_state(options);
    wrap(
        pages,
        Surroundings {
            policy: edge,
            server_fns: server_fn_rules(),
            assets: names,
            session,
            vault: state.vault.clone(),
            webhook_secret: state.webhook_secret.clone(),
        },
    )
}

/// Gives the page being rendered the request's CSP nonce, so Leptos writes it on the hydration
/// scripts.
fn provide_page_nonce() {
    let nonce = use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned())
        .map(|PageNonce(nonce)| Nonce::from_value(nonce));
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

/// The app's routes, listed once per process. While Leptos lists them it holds back every
/// resource that starts loading anywhere in the process, and such a resource never loads
/// (leptos-rs/leptos#4773): a second router built in the same process, as the tests build them,
/// would stall pages that another router is rendering.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}
