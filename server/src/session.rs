//! The anonymous user id: a random UUID in a private (encrypted and authenticated), HttpOnly,
//! SameSite=Lax cookie, set on the first visit. A real app swaps in its own auth here.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::PrivateCookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use uuid::Uuid;

// Over https the cookie is `Secure` and named with the `__Host-` prefix (no subdomain can set or
// overwrite it); a visitor who still holds the plain-named cookie keeps their id, reissued under
// the new name.
/// Name of the session cookie on plain http (local development).
pub const COOKIE_NAME: &str = "mesh_starter_user";
/// Name of the session cookie over https.
pub const SECURE_COOKIE_NAME: &str = "__Host-mesh_starter_user";

/// Marks a request that came without a session: the [`UserId`] beside it was made for it and has
/// nothing stored yet, so nothing needs recording about it.
#[derive(Clone, Copy, Debug)]
pub struct NewVisitor;

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
    previous: Option<Key>,
    secure: bool,
}

impl SessionConfig {
    /// `key_bytes` is the 64-byte `SESSION_KEY`; `secure` adds the `Secure` attribute and the
    /// `__Host-` prefix (set it whenever the app is served over https).
    pub fn new(key_bytes: &[u8], secure: bool) -> Result<Self, SessionKeyError> {
        let key = Key::try_from(key_bytes).map_err(|_| SessionKeyError)?;
        Ok(Self {
            key,
            previous: None,
            secure,
        })
    }

    /// Also reads cookies made under `key_bytes`, the `SESSION_KEY` before a rotation, and
    /// reissues them under the current key, so rotating it logs nobody out.
    pub fn with_previous_key(mut self, key_bytes: &[u8]) -> Result<Self, SessionKeyError> {
        self.previous = Some(Key::try_from(key_bytes).map_err(|_| SessionKeyError)?);
        Ok(self)
    }

    /// The cookie's name under these settings.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        }
    }
}

/// The session cookie holding `id`, for a year.
fn session_cookie(config: &SessionConfig, id: Uuid) -> Cookie<'static> {
    Cookie::build((config.cookie_name(), id.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.secure)
        .max_age(time::Duration::days(365))
        .build()
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
    let previous = config
        .previous
        .as_ref()
        .map(|key| PrivateCookieJar::from_headers(request.headers(), key.clone()));
    let read = |jar: &PrivateCookieJar, name: &str| {
        jar.get(name)
            .and_then(|cookie| Uuid::parse_str(cookie.value()).ok())
    };
    let name = config.cookie_name();
    // Cookies of an earlier setup, read once and reissued: the plain name of an http deployment
    // (over https) and the session key before the last rotation.
    let earlier = || {
        let plain = (name != COOKIE_NAME).then_some(COOKIE_NAME);
        plain.and_then(|plain| read(&jar, plain)).or_else(|| {
            let previous = previous.as_ref()?;
            read(previous, name).or_else(|| read(previous, plain?))
        })
    };
    let (user_id, new_jar) = match read(&jar, name) {
        Some(id) => (UserId(id), None),
        None => {
            let (id, jar) = match earlier() {
                Some(id) if name != COOKIE_NAME => {
                    (id, jar.clone().remove(Cookie::build(COOKIE_NAME).path("/")))
                }
                Some(id) => (id, jar.clone()),
                None => {
                    request.extensions_mut().insert(NewVisitor);
                    (Uuid::new_v4(), jar.clone())
                }
            };
            (UserId(id), Some(jar.add(session_cookie(&config, id))))
        }
    };
    request.extensions_mut().insert(user_id);
    let response = next.run(request).await;
    match new_jar {
        Some(jar) => (jar, response).into_response(),
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Extension;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    const KEY: [u8; 64] = [7; 64];

    fn app(secure: bool) -> Router {
        app_with(SessionConfig::new(&KEY, secure).unwrap())
    }

    fn app_with(config: SessionConfig) -> Router {
        Router::new()
            .route(
                "/",
                get(|Extension(user): Extension<UserId>| async move { user.to_string() }),
            )
            .layer(axum::middleware::from_fn_with_state(config, assign_user_id))
    }

    /// GETs `/` with `cookie`; returns the user id and the Set-Cookie headers.
    async fn visit(app: Router, cookie: Option<&str>) -> (String, Vec<String>) {
        let mut request = Request::get("/");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (String::from_utf8(body.to_vec()).unwrap(), set)
    }

    fn pair(set_cookie: &str) -> &str {
        set_cookie.split(';').next().unwrap()
    }

    #[tokio::test]
    async fn plain_http_keeps_the_plain_name_without_secure() {
        let (id, set) = visit(app(false), None).await;
        assert_eq!(set.len(), 1);
        assert!(set[0].starts_with("mesh_starter_user="), "{set:?}");
        assert!(!set[0].contains("Secure"));
        let (again, set_again) = visit(app(false), Some(pair(&set[0]))).await;
        assert_eq!(again, id);
        assert!(set_again.is_empty());
    }

    #[tokio::test]
    async fn a_cookie_under_the_previous_key_keeps_its_user_once_reissued() {
        let (id, old) = visit(app(false), None).await;
        let rotated = app_with(
            SessionConfig::new(&[8; 64], false)
                .unwrap()
                .with_previous_key(&KEY)
                .unwrap(),
        );
        let (same, set) = visit(rotated.clone(), Some(pair(&old[0]))).await;
        assert_eq!(same, id);
        assert_eq!(set.len(), 1, "reissued under the new key: {set:?}");
        assert_ne!(pair(&set[0]), pair(&old[0]));
        let (after, set_after) = visit(rotated, Some(pair(&set[0]))).await;
        assert_eq!(after, id);
        assert!(set_after.is_empty());
        // Without the previous key the old cookie is just unreadable: a new visitor.
        let (stranger, _) = visit(
            app_with(SessionConfig::new(&[8; 64], false).unwrap()),
            Some(pair(&old[0])),
        )
        .await;
        assert_ne!(stranger, id);
    }

    #[tokio::test]
    async fn https_uses_the_host_prefix_and_secure() {
        let (_, set) = visit(app(true), None).await;
        assert!(set[0].starts_with("__Host-mesh_starter_user="), "{set:?}");
        assert!(set[0].contains("Secure") && set[0].contains("Path=/"));
        assert!(!set[0].contains("Domain"));
    }

    #[tokio::test]
    async fn the_old_cookie_keeps_its_user_once_reissued_under_the_new_name() {
        let (id, old) = visit(app(false), None).await;
        let (same, set) = visit(app(true), Some(pair(&old[0]))).await;
        assert_eq!(
            same, id,
            "the visitor keeps their user id, so their connections"
        );
        let new = set
            .iter()
            .find(|c| c.starts_with("__Host-"))
            .expect("reissued under __Host-");
        assert!(
            set.iter()
                .any(|c| c.starts_with("mesh_starter_user=;") || c.contains("Max-Age=0")),
            "the old cookie is removed: {set:?}"
        );
        let (after, set_after) = visit(app(true), Some(pair(new))).await;
        assert_eq!(after, id);
        assert!(set_after.is_empty());
    }
}
