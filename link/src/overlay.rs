//! The overlay render type: the SDK's DOM ids and geometry, a scroll lock while open, and the
//! iframe `allow` policy. The builders run only in the browser (from `open`).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, HtmlIFrameElement};

use super::token::LinkStyle;

/// Id of the overlay's root element.
pub const ROOT_ID: &str = "mesh-link-popup";
/// Id of the overlay's style sheet in `<head>`.
pub const STYLE_ID: &str = "mesh-link-popup__styles";
/// Id of the backdrop.
pub const BACKDROP_ID: &str = "mesh-link-popup__backdrop";
/// Id of the content box.
pub const CONTENT_ID: &str = "mesh-link-popup__popup-content";
/// Id of the overlay's iframe.
pub const IFRAME_ID: &str = "mesh-link-popup__iframe";

/// The iframe `allow` policy of SDK 3.11: clipboard anywhere, camera and microphone (for KYC
/// liveness checks) for the Link origin only.
pub fn allow_policy(link_origin: &str) -> String {
    format!("clipboard-read *; clipboard-write *; camera {link_origin}; microphone {link_origin}")
}

/// The overlay's style sheet: the SDK's geometry, full screen at ≤ 768 px wide, and a body
/// scroll lock that goes away with the sheet.
pub fn overlay_css(style: LinkStyle) -> String {
    let LinkStyle {
        radius_px: radius,
        backdrop_opacity: opacity,
    } = style;
    format!(
        "body {{ position: fixed; inset: 0; overflow: hidden; }}
#{ROOT_ID} {{ all: unset; position: fixed; inset: 0; display: flex; align-items: center; justify-content: center; z-index: 10000; pointer-events: auto; }}
#{BACKDROP_ID} {{ position: absolute; inset: 0; background: black; opacity: {opacity}; z-index: 10000; }}
#{CONTENT_ID} {{ position: relative; height: 80%; min-height: 685px; max-height: 710px; width: 30%; min-width: 380px; max-width: 430px; border-radius: {radius}px; overflow: hidden; z-index: 10001; }}
#{IFRAME_ID} {{ display: block; width: 100%; height: 100%; border: none; border-radius: {radius}px; }}
@media (max-width: 768px) {{
  #{CONTENT_ID} {{ width: 100vw; min-width: 100vw; max-width: 100vw; height: 100vh; min-height: 100vh; max-height: 100vh; border-radius: 0; }}
  #{IFRAME_ID} {{ border-radius: 0; }}
}}
@media (max-height: 710px) {{
  #{CONTENT_ID} {{ min-height: 100%; max-height: 100%; }}
}}"
    )
}

/// The overlay's elements while it is open.
pub struct Overlay {
    root: Element,
    style: Element,
}

/// The nonce the server gave this page's scripts (empty or absent without a nonce policy).
fn page_nonce(document: &Document) -> Option<String> {
    let script: HtmlElement = document
        .query_selector("script[nonce]")
        .ok()??
        .dyn_into()
        .ok()?;
    Some(script.nonce()).filter(|nonce| !nonce.is_empty())
}

impl Overlay {
    /// Builds the overlay around a new iframe loading `src` and returns both.
    pub fn open(
        document: &Document,
        src: &str,
        link_origin: &str,
        style: LinkStyle,
    ) -> Result<(Self, HtmlIFrameElement), JsValue> {
        let sheet: HtmlElement = document.create_element("style")?.dyn_into()?;
        sheet.set_id(STYLE_ID);
        // Under a Content-Security-Policy that allows styles by nonce, the sheet needs the page's.
        if let Some(nonce) = page_nonce(document) {
            sheet.set_nonce(&nonce);
        }
        sheet.set_text_content(Some(&overlay_css(style)));
        let root = document.create_element("div")?;
        root.set_id(ROOT_ID);
        let backdrop = document.create_element("div")?;
        backdrop.set_id(BACKDROP_ID);
        let content = document.create_element("div")?;
        content.set_id(CONTENT_ID);
        let iframe: HtmlIFrameElement = document.create_element("iframe")?.dyn_into()?;
        iframe.set_id(IFRAME_ID);
        iframe.set_title("Mesh Link");
        iframe.set_attribute("allow", &allow_policy(link_origin))?;
        iframe.set_src(src);

        content.append_child(&iframe)?;
        root.append_child(&backdrop)?;
        root.append_child(&content)?;
        document
            .head()
            .ok_or_else(|| JsValue::from_str("the document has no <head>"))?
            .append_child(&sheet)?;
        document
            .body()
            .ok_or_else(|| JsValue::from_str("the document has no <body>"))?
            .append_child(&root)?;
        Ok((
            Self {
                root,
                style: sheet.into(),
            },
            iframe,
        ))
    }

    /// Removes the overlay and its style sheet (which lifts the scroll lock).
    pub fn remove(self) {
        self.root.remove();
        self.style.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_policy_scopes_camera_and_microphone_to_the_link_origin() {
        assert_eq!(
            allow_policy("https://web.meshconnect.com"),
            "clipboard-read *; clipboard-write *; camera https://web.meshconnect.com; microphone https://web.meshconnect.com"
        );
    }

    #[test]
    fn css_uses_the_link_style_and_the_sdk_geometry() {
        let css = overlay_css(LinkStyle {
            radius_px: 12.0,
            backdrop_opacity: 0.3,
        });
        assert!(css.contains("opacity: 0.3;"));
        assert!(css.contains("border-radius: 12px;"));
        assert!(css.contains("min-width: 380px; max-width: 430px;"));
        assert!(css.contains("min-height: 685px; max-height: 710px;"));
        assert!(css.contains("@media (max-width: 768px)"));
        assert!(css.contains("body { position: fixed; inset: 0; overflow: hidden; }"));
    }
}
