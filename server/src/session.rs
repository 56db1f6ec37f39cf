//! The anonymous user id: a random UUID in a private (encrypted and authenticated), HttpOnly,
//! SameSite=Lax cookie, set on the first visit. A real app swaps in its own auth here.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::PrivateCookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use uuid::Uuid;

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "mesh_starter_user";

/// The session's user id; Mesh's `userId` is this value. Never PII.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Cookie settings for [`assign_user_id`].
#[derive(Clone)]
pub struct SessionConfig {
    key: Key,
    secure: bool,
}

impl SessionConfig {
    /// `key_bytes` is the 64-byte `SESSION_KEY`; `secure` adds the `Secure` attribute (set it
    /// whenever the app is served over https).
    pub fn new(key_bytes: &[u8], secure: bool) -> Result<Self, SessionKeyError> {
        let key = Key::try_from(key_bytes).map_err(|_| SessionKeyError)?;
        Ok(Self { key, secure })
    }
}

/// The session key is shorter than 64 bytes.
#[derive(Debug, thiserror::Error)]
#[error("SESSION_KEY must be 64 bytes")]
pub struct SessionKeyError;

/// Middleware: puts the caller's [`UserId`] in the request extensions, creating it (and its
/// cookie) when the request has no valid one.
pub async fn assign_user_id(
    State(config): State<SessionConfig>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = PrivateCookieJar::from_headers(request.headers(), config.key.clone());
    let existing = jar
        .get(COOKIE_NAME)
        .and_then(|cookie| Uuid::parse_str(cookie.value()).ok());
    let (user_id, new_jar) = match existing {
        Some(id) => (UserId(id), None),
        None => {
            let id = Uuid::new_v4();
            let cookie = Cookie::build((COOKIE_NAME, id.to_string()))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(config.secure)
                .max_age(time::Duration::days(365))
                .build();
            (UserId(id), Some(jar.add(cookie)))
        }
    };
    request.extensions_mut().insert(user_id);
    let response = next.run(request).await;
    match new_jar {
        Some(jar) => (jar, response).into_response(),
        None => response,
    }
}
