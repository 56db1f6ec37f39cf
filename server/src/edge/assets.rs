//! The site's static files (wasm, JS, CSS, favicon) served from memory: embedded in a release
//! binary, read from disk in a debug build so `cargo leptos watch` reloads live.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use rust_embed::Embed;
use sha2::{Digest, Sha256};

/// The site folder cargo-leptos writes (`site-root`): embedded in a release binary, so one file
/// is the whole deploy; read from disk on each request in a debug build. A build made before any
/// site exists (`cargo clippy`, `cargo test` on a fresh clone) embeds nothing and still compiles.
#[derive(Embed)]
#[folder = "../target/site"]
#[allow_missing = true]
pub struct Site;

/// `Cache-Control` of content-hashed files: their URL changes whenever their bytes do.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of other files: reuse for five minutes, then revalidate with the `ETag`.
pub const REVALIDATE: &str = "public, max-age=300, must-revalidate";

/// Where the front-end files (JS glue, wasm, CSS, and the chunks of lazy islands) are served:
/// in release, under a folder named after a hash of them all (`pkg/3f9c…/`), so they keep
/// cargo-leptos's own names, and the imports between them (main JS, split loader, chunks)
/// still resolve, while a new build gets new URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetNames {
    /// The unversioned output name (`LEPTOS_OUTPUT_NAME`).
    output_name: String,
    /// The folder of the compiled files under the site root (`site-pkg-dir`).
    pkg_dir: String,
    /// A hash of every file in that folder; `None` when it is not versioned.
    version: Option<String>,
}

impl AssetNames {
    /// The plain folder, as cargo-leptos writes it (development).
    pub fn unversioned(output_name: &str, pkg_dir: &str) -> Self {
        Self {
            output_name: output_name.to_string(),
            pkg_dir: pkg_dir.to_string(),
            version: None,
        }
    }

    /// A folder named after a hash of every file `E` holds in `pkg_dir`; the plain folder when
    /// it holds none.
    pub fn versioned<E: Embed>(output_name: &str, pkg_dir: &str) -> Self {
        let plain = Self::unversioned(output_name, pkg_dir);
        let prefix = format!("{pkg_dir}/");
        let mut files: Vec<_> = E::iter().filter(|path| path.starts_with(&prefix)).collect();
        files.sort();
        let mut hasher = Sha256::new();
        for path in &files {
            if let Some(file) = E::get(path) {
                hasher.update(path.as_bytes());
                hasher.update(file.metadata.sha256_hash());
            }
        }
        // 15 bytes: 30 hex digits that change when any file does.
        let version = (!files.is_empty()).then(|| hex(&hasher.finalize()[..15]));
        Self { version, ..plain }
    }

    /// The folder the page loads the front end from, for `LeptosOptions::site_pkg_dir`:
    /// Leptos's `HydrationScripts` requests `{folder}/{name}.js` and `{folder}/{name}.wasm`,
    /// and the shell links `{folder}/{name}.css`.
    pub fn pkg_dir(&self) -> String {
        match &self.version {
            Some(version) => format!("{}/{version}", self.pkg_dir),
            None => self.pkg_dir.clone(),
        }
    }

    /// True when the site holds a compiled front end.
    pub fn has_front_end<E: Embed>(&self) -> bool {
        E::get(&format!("{}/{}.wasm", self.pkg_dir, self.output_name)).is_some()
    }

    /// True when the front end was built without `--split` although some of its code is lazy in
    /// every build: its JS glue then imports a module that does not exist, and no island would
    /// ever hydrate.
    pub fn built_without_split<E: Embed>(&self) -> bool {
        // What cargo-leptos leaves where the split loader's name belongs without `--split`.
        const PLACEHOLDER: &[u8] = b"__wasm_split_placeholder__";
        E::get(&format!("{}/{}.js", self.pkg_dir, self.output_name)).is_some_and(|js| {
            js.data
                .windows(PLACEHOLDER.len())
                .any(|bytes| bytes == PLACEHOLDER)
        })
    }

    /// The stored file behind a request path, and whether that path is content-hashed.
    /// A path in another version's folder finds nothing.
    fn resolve<'a>(&self, path: &'a str) -> (Cow<'a, str>, bool) {
        // Compared piece by piece: this runs for every request, and a miss allocates nothing.
        let file = self.version.as_deref().and_then(|version| {
            path.strip_prefix(self.pkg_dir.as_str())?
                .strip_prefix('/')?
                .strip_prefix(version)?
                .strip_prefix('/')
        });
        match file {
            Some(file) => (Cow::Owned(format!("{}/{file}", self.pkg_dir)), true),
            None => (Cow::Borrowed(path), false),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Content codings we store beside each file, best first.
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// True when `accept_encoding` accepts `coding` (a `q=0` refuses it).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
    })
}

// In release the front end (JS glue, wasm, CSS and split chunks, built together, so versioned
// together) is served under a content-hashed folder, cached for a year as immutable; every other
// file gets a short cache and an `ETag`. Each file is answered in the best encoding the browser
// accepts among those `cargo leptos build --release --precompress --split` made beside it (`.br`,
// `.gz`).
/// The response for static file `path` (no leading slash) from `E`, or `None` when there is
/// no such file.
pub fn respond<E: Embed>(names: &AssetNames, path: &str, headers: &HeaderMap) -> Option<Response> {
    let (stored, hashed) = names.resolve(path);
    let file = E::get(&stored)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    let cache = if hashed { IMMUTABLE } else { REVALIDATE };
    let mut response = Response::builder()
        .header(CACHE_CONTROL, cache)
        .header(VARY, "accept-encoding")
        .header(ETAG, &etag);
    let revalidated = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if revalidated {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .ok();
    }
    let accept = headers
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut body = file.data;
    for (coding, suffix) in ENCODINGS {
        if accepts(accept, coding)
            && let Some(encoded) = E::get(&format!("{stored}{suffix}"))
        {
            response = response.header(CONTENT_ENCODING, coding);
            body = encoded.data;
            break;
        }
    }
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let body = match body {
        // Embedded bytes are served in place, never copied.
        Cow::Borrowed(bytes) => Body::from(bytes),
        Cow::Owned(bytes) => Body::from(bytes),
    };
    response.header(CONTENT_TYPE, mime).body(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=0.8, br;q=1.0", "gzip"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }

    #[test]
    fn unversioned_names_are_cargo_leptos_plain_names() {
        let names = AssetNames::unversioned("app", "pkg");
        assert_eq!(names.pkg_dir(), "pkg");
        assert_eq!(
            names.resolve("pkg/app.js"),
            (Cow::Borrowed("pkg/app.js"), false)
        );
    }

    #[test]
    fn versioned_paths_resolve_to_the_stored_file_and_other_versions_do_not() {
        let names = AssetNames {
            output_name: "app".into(),
            pkg_dir: "pkg".into(),
            version: Some("0123abcd".into()),
        };
        assert_eq!(names.pkg_dir(), "pkg/0123abcd");
        for file in [
            "app.js",
            "app.wasm",
            "app.css",
            "__wasm_split.js",
            "split_x.wasm",
        ] {
            let asked = format!("pkg/0123abcd/{file}");
            let (stored, hashed) = names.resolve(&asked);
            assert_eq!(
                (stored.as_ref(), hashed),
                (format!("pkg/{file}").as_str(), true)
            );
        }
        let (stale, hashed) = names.resolve("pkg/00000000/app.js");
        assert_eq!((stale.as_ref(), hashed), ("pkg/00000000/app.js", false));
    }
}
