//! From a link token to the URL the iframe loads: base64 decoding, the host allowlist, the query
//! parameters Mesh's SDK appends (URL-encoded here), and the `link_style` the URL may carry.

use super::link_url::LinkUrl;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Decodes link tokens as the SDK's `atob` does: with or without `=` padding.
const LINK_TOKEN_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
use serde::Deserialize;

/// Where Link may be loaded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOriginPolicy {
    /// Sandbox and production: `https` on `meshconnect.com`, `meshpay.com` or a subdomain.
    MeshHosted,
    /// Emulator mode: exactly this origin (for example `http://127.0.0.1:3100`).
    Exactly(String),
}

/// The domains Mesh serves Link from (SDK 3.15's allowlist).
const MESH_DOMAINS: [&str; 2] = ["meshconnect.com", "meshpay.com"];

/// Why a link token cannot be opened. The message is what `on_exit` reports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkTokenError {
    /// Empty, not base64, not UTF-8 or not a URL.
    #[error("Invalid link token!")]
    Invalid,
    /// A URL outside the allowed origins (a forged token, or the wrong Mesh environment).
    #[error("Link token points to {0}, which is not an allowed Link origin")]
    DisallowedOrigin(String),
}

/// Theme of the Link UI (`th`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkTheme {
    /// `light`.
    Light,
    /// `dark`.
    Dark,
    /// `system`.
    System,
}

impl LinkTheme {
    fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::System => "system",
        }
    }
}

/// The query parameters appended to the Link URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkUrlParams {
    /// `lng`: a language such as `en` or `en-US` (already resolved if it was `system`).
    pub language: Option<String>,
    /// `fiatCur`: the display currency, for example `USD`.
    pub display_fiat_currency: Option<String>,
    /// `th`: the theme.
    pub theme: Option<LinkTheme>,
    /// `rt=embedded` when Link renders in the caller's iframe.
    pub embedded: bool,
}

/// Decodes `link_token`, checks its origin against `policy`, and appends `params`.
pub fn link_url(
    link_token: &str,
    policy: &LinkOriginPolicy,
    params: &LinkUrlParams,
) -> Result<LinkUrl, LinkTokenError> {
    let bytes = LINK_TOKEN_BASE64
        .decode(link_token.trim())
        .map_err(|_| LinkTokenError::Invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| LinkTokenError::Invalid)?;
    let mut url = LinkUrl::parse(&text).ok_or(LinkTokenError::Invalid)?;
    if !is_allowed(&url, policy) {
        return Err(LinkTokenError::DisallowedOrigin(url.origin()));
    }
    url.append_query("lng", params.language.as_deref().unwrap_or("en"));
    if let Some(currency) = &params.display_fiat_currency {
        url.append_query("fiatCur", currency);
    }
    if let Some(theme) = params.theme {
        url.append_query("th", theme.as_str());
    }
    if params.embedded {
        url.append_query("rt", "embedded");
    }
    Ok(url)
}

/// Whether `url` may be loaded in the Link iframe under `policy`.
pub fn is_allowed(url: &LinkUrl, policy: &LinkOriginPolicy) -> bool {
    if url.has_credentials() {
        return false;
    }
    match policy {
        LinkOriginPolicy::MeshHosted => {
            let host = url.host();
            url.scheme() == "https"
                && MESH_DOMAINS.iter().any(|domain| {
                    host == *domain
                        || host
                            .strip_suffix(domain)
                            .is_some_and(|prefix| prefix.ends_with('.'))
                })
        }
        LinkOriginPolicy::Exactly(origin) => {
            matches!(url.scheme().as_str(), "http" | "https") && url.origin() == *origin
        }
    }
}

/// Corner radius and backdrop opacity of the overlay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkStyle {
    /// `ir`: corner radius in px (default 24).
    pub radius_px: f64,
    /// `io`: backdrop opacity (default 0.6).
    pub backdrop_opacity: f64,
}

impl Default for LinkStyle {
    fn default() -> Self {
        Self {
            radius_px: 24.0,
            backdrop_opacity: 0.6,
        }
    }
}

#[derive(Deserialize)]
struct RawLinkStyle {
    ir: Option<f64>,
    io: Option<f64>,
}

/// The `link_style` parameter (base64 of `{"ir":…, "io":…}`), defaults where absent or invalid.
/// Values are clamped to sane ranges, since they are written into a style sheet.
pub fn link_style(url: &LinkUrl) -> LinkStyle {
    let defaults = LinkStyle::default();
    let raw = url
        .query_value("link_style")
        // An unencoded `+` of the base64 reads back as a space in a query string.
        .and_then(|value| BASE64.decode(value.replace(' ', "+")).ok())
        .and_then(|json| serde_json::from_slice::<RawLinkStyle>(&json).ok());
    let Some(raw) = raw else {
        return defaults;
    };
    LinkStyle {
        radius_px: raw
            .ir
            .filter(|r| r.is_finite())
            .map_or(defaults.radius_px, |r| r.clamp(0.0, 64.0)),
        backdrop_opacity: raw
            .io
            .filter(|o| o.is_finite())
            .map_or(defaults.backdrop_opacity, |o| o.clamp(0.0, 1.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(url: &str) -> String {
        BASE64.encode(url)
    }

    const EMULATOR: &str = "http://127.0.0.1:3100";

    #[test]
    fn decodes_a_mesh_token_and_appends_encoded_parameters() {
        let url = link_url(
            &token("https://web.meshconnect.com/b2b-iframe/cid/broker-connect?auth_code=abc"),
            &LinkOriginPolicy::MeshHosted,
            &LinkUrlParams {
                language: Some("en-US".into()),
                display_fiat_currency: Some("EUR".into()),
                theme: Some(LinkTheme::Dark),
                embedded: true,
            },
        )
        .unwrap();
        assert_eq!(
            url.href(),
            "https://web.meshconnect.com/b2b-iframe/cid/broker-connect?auth_code=abc&lng=en-US&fiatCur=EUR&th=dark&rt=embedded"
        );
    }

    #[test]
    fn a_token_without_padding_opens_as_atob_opens_it() {
        // 37 bytes of URL: base64 pads it with `==`; Mesh's SDK decodes it with or without.
        let padded = token("https://web.meshconnect.com/x?a=bcdef");
        assert!(padded.ends_with('='));
        let unpadded = padded.trim_end_matches('=');
        let policy = LinkOriginPolicy::MeshHosted;
        let params = LinkUrlParams::default();
        assert_eq!(
            link_url(unpadded, &policy, &params).unwrap().href(),
            link_url(&padded, &policy, &params).unwrap().href()
        );
    }

    #[test]
    fn parameters_are_url_encoded_and_lng_defaults_to_en() {
        let url = link_url(
            &token("https://web.meshconnect.com/x"),
            &LinkOriginPolicy::MeshHosted,
            &LinkUrlParams {
                display_fiat_currency: Some("US D&th=light".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            url.href(),
            "https://web.meshconnect.com/x?lng=en&fiatCur=US+D%26th%3Dlight"
        );
    }

    #[test]
    fn invalid_tokens_are_errors_not_panics() {
        for bad in [
            "",
            "%%%not base64",
            &BASE64.encode([0xff, 0xfe]),
            &token("not a url"),
        ] {
            assert_eq!(
                link_url(
                    bad,
                    &LinkOriginPolicy::MeshHosted,
                    &LinkUrlParams::default()
                )
                .err(),
                Some(LinkTokenError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(LinkTokenError::Invalid.to_string(), "Invalid link token!");
    }

    #[test]
    fn mesh_hosts_and_subdomains_are_allowed_over_https_only() {
        let policy = LinkOriginPolicy::MeshHosted;
        for good in [
            "https://web.meshconnect.com/x",
            "https://meshconnect.com/",
            "https://a.b.meshpay.com/",
            "https://meshpay.com:443/",
        ] {
            assert!(
                is_allowed(&LinkUrl::parse(good).unwrap(), &policy),
                "{good}"
            );
        }
        for bad in [
            "http://web.meshconnect.com/",
            "https://evilmeshconnect.com/",
            "https://meshconnect.com.evil.com/",
            "https://web.meshconnect.com@evil.com/",
            "https://user:pw@web.meshconnect.com/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://127.0.0.1/",
            "http://127.0.0.1:3100/",
        ] {
            assert!(!is_allowed(&LinkUrl::parse(bad).unwrap(), &policy), "{bad}");
        }
    }

    #[test]
    fn emulator_mode_allows_exactly_the_emulator_origin() {
        let policy = LinkOriginPolicy::Exactly(EMULATOR.into());
        assert!(is_allowed(
            &LinkUrl::parse("http://127.0.0.1:3100/b2b-iframe/x").unwrap(),
            &policy
        ));
        for bad in [
            "http://127.0.0.1:3101/",
            "http://localhost:3100/",
            "https://127.0.0.1:3100/",
            "https://web.meshconnect.com/",
        ] {
            assert!(!is_allowed(&LinkUrl::parse(bad).unwrap(), &policy), "{bad}");
        }
        assert_eq!(
            link_url(
                &token("https://web.meshconnect.com/"),
                &policy,
                &LinkUrlParams::default()
            )
            .err(),
            Some(LinkTokenError::DisallowedOrigin(
                "https://web.meshconnect.com".into()
            ))
        );
    }

    #[test]
    fn link_style_is_read_from_the_url_with_defaults_and_clamping() {
        let style = |json: &str| {
            let url = LinkUrl::parse(&format!(
                "https://web.meshconnect.com/x?link_style={}",
                BASE64.encode(json)
            ))
            .unwrap();
            link_style(&url)
        };
        assert_eq!(
            style(r#"{"ir":12,"io":0.3}"#),
            LinkStyle {
                radius_px: 12.0,
                backdrop_opacity: 0.3
            }
        );
        // `{"ir":8,"io":0.5,"n":">>"}` encodes with a `+`, which a query string reads as a space.
        let plus = LinkUrl::parse(
            "https://web.meshconnect.com/x?link_style=eyJpciI6OCwiaW8iOjAuNSwibiI6Ij4+In0=",
        )
        .unwrap();
        assert_eq!(
            link_style(&plus),
            LinkStyle {
                radius_px: 8.0,
                backdrop_opacity: 0.5
            }
        );
        assert_eq!(
            style(r#"{"io":0.9}"#),
            LinkStyle {
                radius_px: 24.0,
                backdrop_opacity: 0.9
            }
        );
        assert_eq!(
            style(r#"{"ir":9999,"io":-2}"#),
            LinkStyle {
                radius_px: 64.0,
                backdrop_opacity: 0.0
            }
        );
        assert_eq!(style("not json"), LinkStyle::default());
        assert_eq!(
            link_style(&LinkUrl::parse("https://web.meshconnect.com/").unwrap()),
            LinkStyle::default()
        );
    }
}
