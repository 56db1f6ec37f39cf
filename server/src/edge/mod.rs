//! The HTTP edge: what every request passes through before the pages and server functions, and
//! what every response carries after them. [`wrap`] installs all of it around the pages' router.

pub mod assets;
mod forgery;
mod headers;
mod limits;
pub mod logos;
mod operations;
mod refusal;
mod server_fns;
pub mod visits;

pub use forgery::refuse_cross_site;
pub use headers::{PageNonce, security_headers};
pub use limits::{LIMITED_PAGES, RateLimits, rate_limit};
pub use operations::{AccessLog, access_log, health_routes};
pub use refusal::{Refusal, RefusalKind};
pub use server_fns::{Limit, ServerFnRule, rule_for};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::validate_request::ValidateRequestHeaderLayer;

use crate::config::{PublicUrl, RateLimitSettings};
use crate::session::{SessionConfig, assign_user_id};
use crate::vault::TokenVault;
use assets::{AssetNames, Site};
use visits::{Visits, record_visit};

/// The largest request body accepted (413 beyond it).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The longest a request may take before it is answered 408 (Mesh calls time out well before).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the edge needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct EdgePolicy {
    /// The app's public origins: the only ones allowed to change state from a browser.
    pub public_url: PublicUrl,
    /// Where Link's iframe may be loaded from: the emulator's exact origin, or Mesh's hosts.
    pub link_frame_src: String,
    /// The port of `cargo leptos watch`'s live-reload websocket, allowed to connect in development.
    pub live_reload_port: Option<u32>,
    /// Per-address limits on the server functions that call Mesh or write.
    pub rate_limit: RateLimitSettings,
}

impl EdgePolicy {
    /// Link's hosts in Mesh's sandbox and production.
    pub const MESH_LINK_HOSTS: &str = "https://*.meshconnect.com";
}

/// What the edge serves and guards besides the pages.
pub struct Surroundings {
    /// The deployment's policy.
    pub policy: EdgePolicy,
    /// The rule of each server function the pages define.
    pub server_fns: &'static [ServerFnRule],
    /// The names the front-end files are served under.
    pub assets: AssetNames,
    /// The anonymous session cookie.
    pub session: SessionConfig,
    /// The vault: health checks, logos, visits and webhooks read or write it.
    pub vault: Arc<TokenVault>,
    /// `MESH_WEBHOOK_SECRET`: without it there is no webhook route.
    pub webhook_secret: Option<SecretString>,
}

/// Wraps `pages` (the pages and server functions) in the edge: static files, compression, the
/// forgery check, rate limits, the session, visits, no caching of user data and the body limit;
/// beside them the routes other servers call (health, webhooks, logos); around it all the
/// request id, the access log, the security headers and the timeout.
#[allow(
    clippy::result_large_err,
    reason = "`ValidateRequest` checks return the refusal itself; it is built only on refusal"
)]
pub fn wrap(pages: Router, with: Surroundings) -> Router {
    let Surroundings {
        policy,
        server_fns,
        assets,
        session,
        vault,
        webhook_secret,
    } = with;
    let policy = Arc::new(policy);
    // Each stack is one `ServiceBuilder` (listed outermost first) installed by one `layer`
    // call: a `Router::layer` per middleware boxes every layer as a route of its own, which is
    // cloned, with all it wraps, for every request.
    let pages = pages.layer(
        ServiceBuilder::new()
            // Static files from memory (or disk in development), before any session or check:
            // they are the same for everybody.
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(assets),
                static_files,
            ))
            // Pages and JSON answers of 1 KiB or more (smaller ones cost more time than they
            // save), at level 1: zstd where the browser takes it (preferred), else brotli or
            // gzip. At the encoders' default levels (brotli 4) a page cost a third of the
            // throughput, mostly zeroing hash tables set up per answer and searching matches;
            // at level 1 it costs about a tenth, for 15 % more bytes (README, "Performance").
            // Static files arrive precompressed and are left alone.
            .layer(
                CompressionLayer::new()
                    .quality(CompressionLevel::Precise(1))
                    .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
            )
            // The checks are plain functions of the request: unlike `from_fn`, these layers
            // call the service they wrap without cloning it.
            .layer(ValidateRequestHeaderLayer::custom({
                let policy = policy.clone();
                move |request: &mut Request<Body>| refuse_cross_site(&policy, server_fns, request)
            }))
            .layer(ValidateRequestHeaderLayer::custom({
                let limits = RateLimits::start(&policy.rate_limit, server_fns);
                move |request: &mut Request<Body>| rate_limit(&limits, request)
            }))
            .layer(axum::middleware::from_fn_with_state(
                session,
                assign_user_id,
            ))
            .map_request({
                let (vault, visits) = (vault.clone(), Arc::new(Visits::default()));
                move |request: Request<Body>| {
                    record_visit(&vault, &visits, &request);
                    request
                }
            })
            .map_response(finish_response)
            .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES)),
    );
    // Routes that another server or the load balancer calls: outside the browser checks.
    health_routes(vault.clone())
        .merge(crate::deposits::webhooks::webhook_routes(
            webhook_secret,
            vault.clone(),
        ))
        .merge(logos::logo_routes(vault))
        .merge(pages)
        .layer(
            ServiceBuilder::new()
                // The id is set first (or kept from a proxy), then logged and echoed in the
                // answer.
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(access_log())
                .layer(axum::middleware::from_fn_with_state(
                    policy,
                    security_headers,
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                )),
        )
}

/// Answers a request for a front-end file from memory (or disk in development); passes any
/// other request on.
async fn static_files(
    State(names): State<Arc<AssetNames>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    match assets::respond::<Site>(&names, path, request.headers()) {
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
        response = Refusal::new(
            RefusalKind::TooLarge,
            format!(
                "The request is larger than the {} KiB the server accepts.",
                MAX_REQUEST_BYTES / 1024
            ),
        )
        .into_response();
    }
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-store"));
    response
}
