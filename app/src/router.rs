//! The axum router of the whole app: pages, server functions, static files, the session cookie
//! and the request-size limit. `src/main.rs` serves it; tests drive it over HTTP.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use server::session::{SessionConfig, assign_user_id};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::validate_request::ValidateRequestHeaderLayer;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::middleware::Next;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};

use crate::assets::{AssetNames, Site};
use crate::edge::{
    EdgePolicy, RateLimits, access_log, provide_page_nonce, rate_limit, refuse_cross_site,
    security_headers,
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
#[allow(
    clippy::result_large_err,
    reason = "`ValidateRequest` checks return the refusal itself; it is built only on refusal"
)]
pub fn router(
    state: AppState,
    session: SessionConfig,
    edge: EdgePolicy,
    mut options: LeptosOptions,
) -> Router {
    let edge = Arc::new(edge);
    let state = Arc::new(state);
    let names = asset_names(&options);
    // Leptos loads the scripts from `site_pkg_dir`; the shell links the stylesheet from it.
    options.site_pkg_dir = names.pkg_dir().into();
    let routes = route_list();
    let render_page = leptos_axum::render_app_to_stream_with_context(provide_page_nonce, {
        let options = options.clone();
        move || shell(options.clone())
    });
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
        // Each stack is one `ServiceBuilder` (listed outermost first) installed by one `layer`
        // call: a `Router::layer` per middleware boxes every layer as a route of its own, which
        // is cloned, with all it wraps, for every request.
        .layer(
            ServiceBuilder::new()
                // Static files from memory (or disk in development), before any session or
                // check: they are the same for everybody.
                .layer(axum::middleware::from_fn_with_state(
                    Arc::new(names),
                    static_files,
                ))
                // Pages and JSON answers of 1 KiB or more (smaller ones cost more time than
                // they save); static files arrive precompressed and are left alone.
                .layer(
                    CompressionLayer::new()
                        .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
                )
                // The checks are plain functions of the request: unlike `from_fn`, these
                // layers call the service they wrap without cloning it.
                .layer(ValidateRequestHeaderLayer::custom({
                    let edge = edge.clone();
                    move |request: &mut Request<Body>| refuse_cross_site(&edge, request)
                }))
                .layer(ValidateRequestHeaderLayer::custom({
                    let limits = RateLimits::start(&edge.rate_limit);
                    move |request: &mut Request<Body>| rate_limit(&limits, request)
                }))
                .layer(axum::middleware::from_fn_with_state(
                    session,
                    assign_user_id,
                ))
                .map_request({
                    let (vault, visits) = (state.vault.clone(), Arc::new(Visits::default()));
                    move |request: Request<Body>| {
                        record_visit(&vault, &visits, &request);
                        request
                    }
                })
                .map_response(finish_response)
                .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES)),
        );
    // Routes that another server or the load balancer calls: outside the browser checks.
    crate::edge::health_routes(vault.clone())
        .merge(crate::webhooks::webhook_routes(
            state.webhook_secret.clone(),
            vault.clone(),
        ))
        .merge(crate::logos::logo_routes(vault))
        .merge(app)
        .layer(
            ServiceBuilder::new()
                // The id is set first (or kept from a proxy), then logged and echoed in the
                // answer.
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(access_log())
                .layer(axum::middleware::from_fn_with_state(edge, security_headers))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                )),
        )
}

/// The app's routes, listed once per process. While Leptos lists them it holds back every
/// resource that starts loading anywhere in the process, and such a resource never loads
/// (leptos-rs/leptos#4773): a second router built in the same process, as the tests build them,
/// would stall pages that another router is rendering.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Answers a request for a front-end file from memory (or disk in development); passes any
/// other request on.
async fn static_files(
    State(names): State<Arc<AssetNames>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    match crate::assets::respond::<Site>(&names, path, request.headers()) {
        Some(response) => response,
        None => next.run(request).await,
    }
}

/// Every answer of the app (one layer for both jobs, as each layer costs a little on every
/// request):
/// - pages and server-function answers hold one user's data, so no cache may keep them (static
///   files set their own `Cache-Control`);
/// - the body-limit layer answers 413 with plain text: give the browser the same typed error as
///   every other refusal, so the client shows a sentence.
fn finish_response<B>(response: Response<B>) -> Response
where
    Response<B>: IntoResponse,
{
    let mut response = response.into_response();
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let error = AppError {
            kind: ErrorKind::TooLarge,
            message: format!(
                "The request is larger than the {} KiB the server accepts.",
                MAX_REQUEST_BYTES / 1024
            ),
        };
        response = (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response();
    }
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-store"));
    response
}
