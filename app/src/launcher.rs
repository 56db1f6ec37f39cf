//! The one way an island opens Link: a server action fetches the link token, Link opens the
//! moment it arrives, from the origin the app's Mesh mode allows, and buttons wait for hydration.
//! Link's own code (its frame, its messages) is a chunk of its own in a `--split` build, fetched
//! with the first token, so a page's first load does not carry it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use mesh_link::{
    IntegrationAccessToken, LinkOptions, LinkOriginPolicy, LinkState, MeshLink, use_mesh_link,
};

use crate::error::AppError;
use crate::link_settings::LinkSettings;

/// Link and the server action that fetches its token; `Copy`, so handlers take it freely.
pub struct LinkLauncher<S: ServerFn + 'static> {
    /// Link itself: its state, and `close` for an embedded frame.
    pub link: MeshLink,
    /// Fetches a link token; dispatching it opens Link with the token it answers.
    pub token: ServerAction<S>,
    /// False until the page has hydrated: a click before then would be lost, so buttons wait.
    pub hydrated: ReadSignal<bool>,
    /// True while Link's code is fetched, between a token's arrival and Link's frame.
    opening: RwSignal<bool>,
}

impl<S: ServerFn + 'static> Clone for LinkLauncher<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: ServerFn + 'static> Copy for LinkLauncher<S> {}

/// Link options with no callbacks yet, for the origin `settings` allow.
pub fn link_options(settings: &LinkSettings) -> LinkOptions {
    LinkOptions::new(match &settings.emulator_origin {
        Some(origin) => LinkOriginPolicy::Exactly(origin.clone()),
        None => LinkOriginPolicy::MeshHosted,
    })
}

/// Creates Link with `options` (from [`link_options`]) and opens it with each token the server
/// function `S` answers.
pub fn use_link_launcher<S>(options: LinkOptions) -> LinkLauncher<S>
where
    S: ServerFn<Output = String, Error = AppError> + Clone + Send + Sync + 'static,
{
    let token = ServerAction::<S>::new();
    // Effects run only in the browser, so this turns true once the island has hydrated.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let launcher = LinkLauncher {
        link: use_mesh_link(options),
        token,
        hydrated: hydrated.read_only(),
        opening: RwSignal::new(false),
    };
    Effect::new(move || {
        if let Some(Ok(link_token)) = token.value().get() {
            launcher.open(link_token, Vec::new());
        }
    });
    preload_link_code_while(token.pending());
    launcher
}

/// Fetches Link's chunk while `busy` holds (a token is on its way), so the two downloads overlap
/// instead of following each other. Nothing to fetch in a build without `--split`.
#[cfg_attr(not(wasm_split), allow(unused_variables))]
fn preload_link_code_while(busy: Memo<bool>) {
    #[cfg(wasm_split)]
    Effect::new(move || {
        if busy.get() {
            lazy_preload!(open_link);
        }
    });
}

/// Opens `link` with `link_token`, handing it `access_tokens` if there are any. Lazy in a
/// `--split` build (`app/build.rs`): everything Link runs is reachable only from here.
#[cfg_attr(wasm_split, lazy)]
async fn open_link(link: MeshLink, link_token: String, access_tokens: Vec<IntegrationAccessToken>) {
    if access_tokens.is_empty() {
        link.open(&link_token);
    } else {
        link.open_with_access_tokens(&link_token, access_tokens);
    }
}

impl<S> LinkLauncher<S>
where
    S: ServerFn<Output = String, Error = AppError> + Clone + Send + Sync + 'static,
{
    /// Opens Link with `link_token`, handing it `access_tokens` (a returning user's account, for
    /// one session) if there are any.
    pub fn open(&self, link_token: String, access_tokens: Vec<IntegrationAccessToken>) {
        let (link, opening) = (self.link, self.opening);
        opening.set(true);
        leptos::task::spawn_local(async move {
            open_link(link, link_token, access_tokens).await;
            opening.try_set(false);
        });
    }

    /// True while a token is fetched or Link is open.
    pub fn busy(&self) -> bool {
        self.token.pending().get()
            || self.opening.get()
            || self.link.state().get() != LinkState::Closed
    }

    /// What is under way, in words (`while_open` once Link shows), or `None` when nothing is.
    pub fn progress(&self, while_open: &str) -> Option<String> {
        if self.token.pending().get() {
            return Some("Requesting a link token…".to_string());
        }
        if self.opening.get() {
            return Some("Opening Link…".to_string());
        }
        match self.link.state().get() {
            LinkState::Loading => Some("Opening Link…".to_string()),
            LinkState::Open => Some(while_open.to_string()),
            LinkState::Closed => None,
        }
    }

    /// Why the last token could not be fetched, in words.
    pub fn token_error(&self) -> Option<String> {
        match self.token.value().get() {
            Some(Err(error)) => Some(error.message),
            _ => None,
        }
    }
}
