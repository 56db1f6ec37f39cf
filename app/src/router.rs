//! The axum router of the whole app: pages, server functions, static files, the session cookie
//! and the request-size limit. `src/main.rs` serves it; tests drive it over HTTP.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use server::session::{SessionConfig, assign_user_id};
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::{AppError, ErrorKind};
use crate::state::AppState;
use crate::{App, shell};

/// The largest request body accepted (413 beyond it).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Builds the router: server functions get `state` as context; every request gets a user id.
pub fn router(state: AppState, session: SessionConfig, options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .layer(axum::middleware::map_response(explain_too_large))
        .layer(axum::middleware::from_fn_with_state(
            session,
            assign_user_id,
        ))
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
