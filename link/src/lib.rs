//! The Link client: opens Mesh Link from Rust and reports what it posts back.
//!
//! It implements the host side of the protocol of Mesh's web SDK 3.13.0 (`@meshconnect/web-link-sdk`,
//! whose runtime code equals 3.11.0's), and is stricter where the SDK is weak: a host allowlist for
//! the Link URL, messages accepted only from the link token's origin and the Link iframe, URL-encoded
//! parameters, and an invalid token reported through `on_exit` instead of an exception.
//!
//! ```ignore
//! let link = use_mesh_link(LinkOptions::new(policy).on_integration_connected(save));
//! link.open(&token); // from a click handler or an action's result
//! ```
//!
//! The DOM is touched only from `open`, `close` and the message listener, so components using
//! this module render on the server too.

mod events;
mod link_url;
mod overlay;
mod payload;
mod token;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{HtmlIFrameElement, KeyboardEvent, MessageEvent};

pub use events::{LinkEvent, LinkEventType, LinkMessage, MessageError, parse_message};
pub use link_url::LinkUrl;
pub use overlay::{BACKDROP_ID, CONTENT_ID, IFRAME_ID, ROOT_ID, STYLE_ID, allow_policy};
pub use payload::{
    AccessTokenPayload, Account, AccountToken, BrandInfo, DelayedAuthPayload,
    IntegrationAccessToken, IntegrationConnected, SelectedIntegration, SessionSummary,
    TransferFinishedPayload, TransferSummary,
};
pub use token::{
    LinkOriginPolicy, LinkStyle, LinkTheme, LinkTokenError, LinkUrlParams, is_allowed, link_style,
    link_url,
};

/// The web SDK version whose protocol this client implements, sent in `meshSDKSpecs`.
pub const SDK_VERSION: &str = "3.13.0";

/// Where Link renders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderType {
    /// A full-window overlay built by this client (the default).
    Overlay,
    /// Inside the caller's own `<iframe id=…>`; adds `rt=embedded` to the URL.
    Embedded {
        /// The id of the caller's iframe.
        iframe_id: String,
    },
}

/// Why Link closed: `error` is set when Link (or this client) reports one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkExit {
    /// Link's `errorMessage`, or why the token could not be opened.
    pub error: Option<String>,
    /// Link's session summary (absent when closed by [`MeshLink::close`] or on a bad token).
    pub summary: Option<SessionSummary>,
}

/// Where Link is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not open.
    Closed,
    /// The iframe is loading.
    Loading,
    /// Link has loaded and is showing.
    Open,
}

/// How to open Link and whom to tell what happens.
#[derive(Clone)]
pub struct LinkOptions {
    /// Which origins the link token may point to.
    pub origin_policy: LinkOriginPolicy,
    /// `lng`: `en`, `en-US`, … or `system` for the browser's language (default `en`).
    pub language: Option<String>,
    /// `fiatCur`: display currency (Link's default is USD).
    pub display_fiat_currency: Option<String>,
    /// `th`: theme.
    pub theme: Option<LinkTheme>,
    /// Overlay or embedded.
    pub render_type: RenderType,
    /// Tokens handed to Link on `loaded` (`frontAccessTokens`) for returning users.
    pub access_tokens: Vec<IntegrationAccessToken>,
    /// Accounts connected (or a delayed authentication).
    pub on_integration_connected: Option<Callback<IntegrationConnected>>,
    /// Link closed, with or without an error.
    pub on_exit: Option<Callback<LinkExit>>,
    /// A transfer finished.
    pub on_transfer_finished: Option<Callback<TransferFinishedPayload>>,
    /// Every event Link reports.
    pub on_event: Option<Callback<LinkEvent>>,
}

impl LinkOptions {
    /// Options with the defaults of Mesh's SDK (overlay, English) and no callbacks.
    pub fn new(origin_policy: LinkOriginPolicy) -> Self {
        Self {
            origin_policy,
            language: None,
            display_fiat_currency: None,
            theme: None,
            render_type: RenderType::Overlay,
            access_tokens: Vec::new(),
            on_integration_connected: None,
            on_exit: None,
            on_transfer_finished: None,
            on_event: None,
        }
    }
}

/// How long Link may take to post `loaded` before it is closed with an explanation.
pub const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Why Link closes when it never loads: the frame is blocked or unreachable.
pub const LOAD_TIMEOUT_MESSAGE: &str = "Link did not load within 20 seconds. This site may not be among the allowed domains in the Mesh dashboard, a browser extension or content blocker may be blocking it, or the network may be down.";

/// What a token message Link posted but this page could not read becomes, for the user.
pub const UNREADABLE_TOKENS_MESSAGE: &str = "Link sent account details this page could not read, so nothing was saved. Please connect the account again.";

/// An open Link session's browser objects.
struct ActiveSession {
    link_origin: String,
    iframe: HtmlIFrameElement,
    overlay: Option<overlay::Overlay>,
    listener: Closure<dyn FnMut(MessageEvent)>,
    escape: Closure<dyn FnMut(KeyboardEvent)>,
    load_timer: Option<TimeoutHandle>,
}

/// A handle to Link: [`MeshLink::open`], [`MeshLink::close`] and [`MeshLink::state`].
/// Copy it into handlers freely; it is a few arena ids.
#[derive(Clone, Copy)]
pub struct MeshLink {
    options: StoredValue<LinkOptions>,
    // Browser objects are not `Send`; they are created and used only on the browser's one thread,
    // and the slot stays `None` on the server.
    session: StoredValue<Option<SendWrapper<ActiveSession>>>,
    state: RwSignal<LinkState>,
}

/// Creates a Link handle owned by the current component: when the component unmounts, the
/// overlay and the message listener go away with it.
pub fn use_mesh_link(options: LinkOptions) -> MeshLink {
    let link = MeshLink {
        options: StoredValue::new(options),
        session: StoredValue::new(None),
        state: RwSignal::new(LinkState::Closed),
    };
    on_cleanup(move || {
        link.teardown();
    });
    link
}

impl MeshLink {
    /// Where Link is in its life.
    pub fn state(&self) -> ReadSignal<LinkState> {
        self.state.read_only()
    }

    /// Opens Link with `link_token`. A token that is invalid or points outside the allowed
    /// origins ends in `on_exit` with the reason. Opening while open replaces the session.
    pub fn open(&self, link_token: &str) {
        self.teardown();
        let options = self.options.get_value();
        let params = LinkUrlParams {
            language: options.language.as_deref().map(resolve_language),
            display_fiat_currency: options.display_fiat_currency.clone(),
            theme: options.theme,
            embedded: matches!(options.render_type, RenderType::Embedded { .. }),
        };
        let url = match link_url(link_token, &options.origin_policy, &params) {
            Ok(url) => url,
            Err(error) => return self.exit(Some(error.to_string()), None),
        };
        if let Err(reason) = self.start_session(&options, &url) {
            self.exit(Some(reason), None);
        }
    }

    /// Closes Link from the host page; `on_exit` gets no error and no summary, as in the SDK.
    pub fn close(&self) {
        if self.teardown() {
            self.exit(None, None);
        }
    }

    /// In embedded mode asks Link to close itself (`closeRequested`), so it can finish
    /// gracefully; otherwise the same as [`MeshLink::close`].
    pub fn request_close(&self) {
        let embedded = matches!(
            self.options.with_value(|o| o.render_type.clone()),
            RenderType::Embedded { .. }
        );
        if embedded && self.session.with_value(Option::is_some) {
            self.post(&json!({ "type": "closeRequested" }));
        } else {
            self.close();
        }
    }

    fn start_session(&self, options: &LinkOptions, url: &LinkUrl) -> Result<(), String> {
        let window = web_sys::window().ok_or("no browser window")?;
        let document = window.document().ok_or("no document")?;
        let link_origin = url.origin();
        let style = link_style(url);
        let (overlay, iframe) = match &options.render_type {
            RenderType::Overlay => {
                let (overlay, iframe) =
                    overlay::Overlay::open(&document, &url.href(), &link_origin, style)
                        .map_err(|_| "the Link overlay could not be created".to_string())?;
                (Some(overlay), iframe)
            }
            RenderType::Embedded { iframe_id } => {
                let iframe = document
                    .get_element_by_id(iframe_id)
                    .and_then(|element| element.dyn_into::<HtmlIFrameElement>().ok())
                    .ok_or_else(|| format!("no <iframe id=\"{iframe_id}\"> to embed Link in"))?;
                iframe
                    .set_attribute("allow", &allow_policy(&link_origin))
                    .map_err(|_| "the Link iframe could not be configured".to_string())?;
                iframe.set_src(&url.href());
                (None, iframe)
            }
        };
        let link = *self;
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            link.on_message(event);
        });
        window
            .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref())
            .map_err(|_| "the Link message listener could not be added".to_string())?;
        // Escape closes Link (when the page, not Link's own frame, has the keyboard).
        let escape = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                link.request_close();
            }
        });
        window
            .add_event_listener_with_callback("keydown", escape.as_ref().unchecked_ref())
            .map_err(|_| "the Escape key listener could not be added".to_string())?;
        // A frame that never loads (blocked by a policy, a content blocker, a domain Mesh does
        // not allow) would leave the user in front of nothing: close it with the likely causes.
        let load_timer = set_timeout_with_handle(
            move || {
                if link.state.try_get_untracked() == Some(LinkState::Loading) && link.teardown() {
                    link.exit(Some(LOAD_TIMEOUT_MESSAGE.to_string()), None);
                }
            },
            LOAD_TIMEOUT,
        )
        .ok();
        self.session.set_value(Some(SendWrapper::new(ActiveSession {
            link_origin,
            iframe,
            overlay,
            listener,
            escape,
            load_timer,
        })));
        self.state.set(LinkState::Loading);
        Ok(())
    }

    /// Removes the overlay and the listener; returns whether a session was open.
    fn teardown(&self) -> bool {
        let Some(session) = self.session.try_update_value(Option::take).flatten() else {
            return false;
        };
        let ActiveSession {
            overlay,
            listener,
            escape,
            load_timer,
            ..
        } = session.take();
        if let Some(timer) = load_timer {
            timer.clear();
        }
        if let Some(window) = web_sys::window() {
            let _ = window
                .remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
            let _ = window
                .remove_event_listener_with_callback("keydown", escape.as_ref().unchecked_ref());
        }
        if let Some(overlay) = overlay {
            overlay.remove();
        }
        // The listener may be the caller (a `close` message): free it after this turn.
        set_timeout(move || drop((listener, escape)), std::time::Duration::ZERO);
        self.state.try_set(LinkState::Closed);
        true
    }

    fn exit(&self, error: Option<String>, summary: Option<SessionSummary>) {
        self.state.try_set(LinkState::Closed);
        if let Some(on_exit) = self.options.try_with_value(|o| o.on_exit).flatten() {
            on_exit.run(LinkExit { error, summary });
        }
    }

    fn on_message(&self, event: MessageEvent) {
        let from_link = self
            .session
            .try_with_value(|session| {
                session.as_ref().is_some_and(|session| {
                    let from_iframe = match (event.source(), session.iframe.content_window()) {
                        (Some(source), Some(frame)) => js_sys::Object::is(&source, &frame),
                        _ => false,
                    };
                    event.origin() == session.link_origin && from_iframe
                })
            })
            .unwrap_or(false);
        if !from_link {
            return;
        }
        let data: Option<Value> = js_sys::JSON::stringify(&event.data())
            .ok()
            .and_then(|json| json.as_string())
            .and_then(|json| serde_json::from_str(&json).ok());
        let message = match data.map(parse_message) {
            Some(Ok(message)) => message,
            Some(Err(MessageError::MalformedPayload { kind, reason })) => {
                leptos::logging::warn!("Mesh Link sent a malformed {kind} message: {reason}");
                // Tokens lost to a message this page cannot read: the user must know.
                if let Some(on_event) = self.options.with_value(|o| o.on_event) {
                    on_event.run(LinkEvent {
                        event_type: LinkEventType::IntegrationConnectionError,
                        payload: json!({ "errorMessage": UNREADABLE_TOKENS_MESSAGE }),
                    });
                }
                return;
            }
            _ => return,
        };
        let options = self.options.get_value();
        let emit = |event: LinkEvent| {
            if let Some(on_event) = options.on_event {
                on_event.run(event);
            }
        };
        match message {
            LinkMessage::Loaded => {
                self.post(&json!({
                    "type": "meshSDKSpecs",
                    "payload": { "platform": "web", "version": SDK_VERSION, "origin": own_origin() },
                }));
                if !options.access_tokens.is_empty() {
                    self.post(
                        &json!({ "type": "frontAccessTokens", "payload": options.access_tokens }),
                    );
                }
                self.state.set(LinkState::Open);
                emit(LinkEvent::bare(LinkEventType::PageLoaded));
            }
            LinkMessage::IntegrationConnected(connected) => {
                emit(LinkEvent::bare(LinkEventType::IntegrationConnected));
                if let Some(callback) = options.on_integration_connected {
                    callback.run(connected);
                }
            }
            LinkMessage::TransferFinished(transfer, payload) => {
                emit(LinkEvent {
                    event_type: LinkEventType::TransferCompleted,
                    payload,
                });
                if let Some(callback) = options.on_transfer_finished {
                    callback.run(transfer);
                }
            }
            LinkMessage::Exit(summary) => {
                self.teardown();
                self.exit(summary.error_message.clone(), Some(summary));
            }
            LinkMessage::Event(event) => emit(event),
        }
    }

    /// Posts `message` to Link, addressed to the link token's origin only.
    fn post(&self, message: &Value) {
        self.session.with_value(|session| {
            let Some(session) = session else { return };
            let (Some(frame), Ok(value)) = (
                session.iframe.content_window(),
                js_sys::JSON::parse(&message.to_string()),
            ) else {
                return;
            };
            let _ = frame.post_message(&value, &session.link_origin);
        });
    }
}

/// `system` becomes the browser's language, as in the SDK.
fn resolve_language(language: &str) -> String {
    if language == "system" {
        web_sys::window()
            .and_then(|window| window.navigator().language())
            .unwrap_or_else(|| "en".to_string())
    } else {
        language.to_string()
    }
}

fn own_origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// The README's example, compiled by `cargo test -p mesh-link` so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
