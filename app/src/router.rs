//! The axum router of the whole app: pages, server functions, static files, the session cookie
//! and the request-size limit. `src/main.rs` serves it; tests drive it over HTTP.

use axum::Router;
use axum::body::Body;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use server::session::{SessionConfig, assign_user_id};
use tower_http::limit::RequestBodyLimitLayer;

use std::sync::Arc;
use std::time::Duration;

use axum::middleware::Next;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};

use crate::assets::{AssetNames, Site};
use crate::edge::{
    EdgePolicy, RateLimits, provide_page_nonce, rate_limit, refuse_cross_site, security_headers,
    with_access_log,
};
use crate::error::{AppError, ErrorKind};
use crate::retention::{Visits, record_visit};
use crate::state::AppState;
use crate::{App, shell};

/// The largest request body accepted (413 beyond it).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The longest a request may take before it is answered 408 (Mesh calls time out well before).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The names the front-end files are served under: versioned by content in a release build
/// (which embeds them), plain in development (read from disk, rebuilt by `cargo leptos watch`).
pub fn asset_names(options: &LeptosOptions) -> AssetNames {
    if cfg!(debug_assertions) {
        AssetNames::unversioned(&options.output_name, &options.site_pkg_dir)
    } else {
        AssetNames::versioned::<Site>(&options.output_name, &options.site_pkg_dir)
    }
}

/// Builds the router: server functions get `state` as context; every request gets a user id,
/// passes the forgery check and gets the security headers of `edge`.
pub fn router(
    state: AppState,
    session: SessionConfig,
    edge: EdgePolicy,
    mut options: LeptosOptions,
) -> Router {
    let edge = Arc::new(edge);
    let names = asset_names(&options);
    // Leptos names the scripts after `output_name`; the shell names the stylesheet after it.
    options.output_name = names.output_name().into();
    let routes = generate_route_list(App);
    let render_page = leptos_axum::render_app_to_stream_with_context(provide_page_nonce, {
        let options = options.clone();
        move || shell(options.clone())
    });
    // Static files from memory (or disk in development), before any session or check: they
    // are the same for everybody.
    let static_files = move |request: Request<Body>, next: Next| {
        let path = request.uri().path().trim_start_matches('/').to_owned();
        let file = crate::assets::respond::<Site>(&names, &path, request.headers());
        async move {
            match file {
                Some(response) => response,
                None => next.run(request).await,
            }
        }
    };
    let vault = state.vault.clone();
    let app = Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
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
        .with_state(options)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .layer(axum::middleware::map_response(no_store_by_default))
        .layer(axum::middleware::map_response(explain_too_large))
        .layer(axum::middleware::from_fn_with_state(
            (state.vault.clone(), Arc::new(Visits::default())),
            record_visit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            session,
            assign_user_id,
        ))
        .layer(axum::middleware::from_fn_with_state(
            RateLimits::start(&edge.rate_limit),
            rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            edge.clone(),
            refuse_cross_site,
        ))
        // Pages and JSON answers of 1 KiB or more (smaller ones cost more time than they save);
        // static files arrive precompressed and are left alone.
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
        )
        .layer(axum::middleware::from_fn(static_files));
    let app = crate::edge::health_routes(vault.clone())
        .merge(crate::logos::logo_routes(vault))
        .merge(app)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn_with_state(edge, security_headers));
    with_access_log(app)
        // The id is set first (or kept from a proxy), then logged and echoed in the answer.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Pages and server-function answers hold one user's data: no cache may keep them. Static files
/// set their own `Cache-Control`.
async fn no_store_by_default(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-store"));
    response
}

/// The body-limit layer answers 413 with plain text; give the browser the same typed error as
/// every other refusal, so the client shows a sentence.
async fn explain_too_large(response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let error = AppError {
        kind: ErrorKind::TooLarge,
        message: format!(
            "The request is larger than the {} KiB the server accepts.",
            MAX_REQUEST_BYTES / 1024
        ),
    };
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response()
}
