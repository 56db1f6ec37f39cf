//! The one URL type of the Link client: the browser's own parser in the browser (so the `url`
//! crate's IDNA tables stay out of the download), the `url` crate (same WHATWG standard) elsewhere.

/// A parsed absolute URL.
#[derive(Clone, Debug)]
pub struct LinkUrl(Inner);

#[cfg(target_arch = "wasm32")]
type Inner = web_sys::Url;
#[cfg(not(target_arch = "wasm32"))]
type Inner = url::Url;

impl LinkUrl {
    /// Parses an absolute URL; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        #[cfg(target_arch = "wasm32")]
        let parsed = web_sys::Url::new(text).ok();
        #[cfg(not(target_arch = "wasm32"))]
        let parsed = url::Url::parse(text).ok();
        parsed.map(Self)
    }

    /// The scheme without its colon (`https`).
    pub fn scheme(&self) -> String {
        #[cfg(target_arch = "wasm32")]
        return self.0.protocol().trim_end_matches(':').to_string();
        #[cfg(not(target_arch = "wasm32"))]
        return self.0.scheme().to_string();
    }

    /// True when the URL carries a user name or password.
    pub fn has_credentials(&self) -> bool {
        #[cfg(target_arch = "wasm32")]
        return !self.0.username().is_empty() || !self.0.password().is_empty();
        #[cfg(not(target_arch = "wasm32"))]
        return !self.0.username().is_empty() || self.0.password().is_some();
    }

    /// The host name, lower-cased and (for international names) in its ASCII form.
    pub fn host(&self) -> String {
        #[cfg(target_arch = "wasm32")]
        return self.0.hostname();
        #[cfg(not(target_arch = "wasm32"))]
        return self.0.host_str().unwrap_or_default().to_string();
    }

    /// The serialized origin (`https://web.meshconnect.com`).
    pub fn origin(&self) -> String {
        #[cfg(target_arch = "wasm32")]
        return self.0.origin();
        #[cfg(not(target_arch = "wasm32"))]
        return self.0.origin().ascii_serialization();
    }

    /// Appends `key=value` to the query, encoded.
    pub fn append_query(&mut self, key: &str, value: &str) {
        #[cfg(target_arch = "wasm32")]
        self.0.search_params().append(key, value);
        #[cfg(not(target_arch = "wasm32"))]
        self.0.query_pairs_mut().append_pair(key, value);
    }

    /// The decoded value of the first `key` in the query.
    pub fn query_value(&self, key: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        return self.0.search_params().get(key);
        #[cfg(not(target_arch = "wasm32"))]
        return self
            .0
            .query_pairs()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.into_owned());
    }

    /// The whole URL as text.
    pub fn href(&self) -> String {
        #[cfg(target_arch = "wasm32")]
        return self.0.href();
        #[cfg(not(target_arch = "wasm32"))]
        return self.0.as_str().to_string();
    }
}
