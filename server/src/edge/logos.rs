//! Broker logos, served from the vault by the name each connection stores: the page links
//! `<img src="/logos/<hash>">` instead of inlining the image in every account it decorates.

use std::sync::Arc;

use crate::vault::TokenVault;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;

/// The path logos are served under.
pub const LOGOS_PATH: &str = "/logos";

/// `GET /logos/{hash}`: the image, with its type read from its first bytes, cached for good
/// (a name always means the same image). Logos are public: no session is needed.
pub fn logo_routes<S: Clone + Send + Sync + 'static>(vault: Arc<TokenVault>) -> Router<S> {
    Router::new().route(
        &format!("{LOGOS_PATH}/{{hash}}"),
        get(move |Path(hash): Path<String>| {
            let vault = vault.clone();
            async move { logo(&vault, &hash).await }
        }),
    )
}

async fn logo(vault: &TokenVault, hash: &str) -> Response {
    let well_formed = (1..=80).contains(&hash.len())
        && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !well_formed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let stored = match vault.logo(hash).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "could not read a logo");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Ok(image) = base64::engine::general_purpose::STANDARD.decode(stored.trim()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (CONTENT_TYPE, image_type(&image)),
            (CACHE_CONTROL, super::assets::IMMUTABLE),
        ],
        image,
    )
        .into_response()
}

/// The image type from its signature; anything else is served as bytes, never as a document.
fn image_type(image: &[u8]) -> &'static str {
    match image {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xff, 0xd8, 0xff, ..] => "image/jpeg",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "image/webp",
        _ if image.starts_with(b"<svg") || image.starts_with(b"<?xml") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn the_type_comes_from_the_signature() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n..."), "image/png");
        assert_eq!(image_type(b"\xff\xd8\xff\xe0"), "image/jpeg");
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(image_type(b"<svg xmlns='...'/>"), "image/svg+xml");
        assert_eq!(image_type(b"<html>"), "application/octet-stream");
    }
}
