//! [`MeshLink`], the handle a component opens Link with: the overlay or embedded frame, the
//! message listener that checks where each message comes from, and the messages posted back.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{HtmlIFrameElement, KeyboardEvent, MessageEvent};

use crate::overlay;
use crate::{
    IntegrationAccessToken, LOAD_TIMEOUT, LOAD_TIMEOUT_MESSAGE, LinkEvent, LinkEventType, LinkExit,
    LinkMessage, LinkOptions, LinkState, LinkUrl, LinkUrlParams, MessageError, RenderType,
    SDK_VERSION, SessionSummary, UNREADABLE_TOKENS_MESSAGE, allow_policy, link_style, link_url,
    parse_message,
};

/// An open Link session's browser objects.
struct ActiveSession {
    link_origin: String,
    iframe: HtmlIFrameElement,
    overlay: Option<overlay::Overlay>,
    listener: Closure<dyn FnMut(MessageEvent)>,
    escape: Closure<dyn FnMut(KeyboardEvent)>,
    load_timer: Option<TimeoutHandle>,
    /// The `frontAccessTokens` message of this session's own tokens, for `loaded` (see
    /// [`MeshLink::open_with_access_tokens`]).
    front_access_tokens: Option<Value>,
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
        self.open_session(link_token, None);
    }

    /// Opens Link with `link_token` and hands it `access_tokens` (a returning user's accounts,
    /// posted as `frontAccessTokens` after `loaded`, with [`LinkOptions::access_tokens`]). They
    /// live only as long as this session: closing Link drops them.
    pub fn open_with_access_tokens(
        &self,
        link_token: &str,
        access_tokens: Vec<IntegrationAccessToken>,
    ) {
        let message = json!({ "type": "frontAccessTokens", "payload": access_tokens });
        self.open_session(link_token, Some(message));
    }

    /// Opens Link, handing it `front_access_tokens` (a `frontAccessTokens` message) on `loaded`.
    fn open_session(&self, link_token: &str, front_access_tokens: Option<Value>) {
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
        if let Err(reason) = self.start_session(&options, &url, front_access_tokens) {
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

    fn start_session(
        &self,
        options: &LinkOptions,
        url: &LinkUrl,
        front_access_tokens: Option<Value>,
    ) -> Result<(), String> {
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
            front_access_tokens,
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
                let own_tokens = self.session.with_value(|session| {
                    session
                        .as_ref()
                        .and_then(|session| session.front_access_tokens.clone())
                });
                if let Some(message) = own_tokens {
                    self.post(&message);
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
