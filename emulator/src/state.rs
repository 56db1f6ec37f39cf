//! What the emulator remembers: issued link tokens (single use, 10 minutes) and queued faults.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use secrecy::ExposeSecret;

use super::brokers::Broker;
use super::fault_queue::FaultQueue;
use super::tokens::{Grant, Pair, TokenBook, random_code};
use super::transfer_book::{Preview, TransferBook};
use super::wire::TransferOptions;
use crate::Settings;

/// How long one webhook delivery may take before it counts as failed.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a link token can be redeemed, as Mesh documents.
pub const LINK_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// A link token the emulator issued, keyed by its `auth_code`.
#[derive(Debug)]
pub struct LinkSession {
    /// The `userId` the token was issued for.
    pub user_id: String,
    /// When it was issued.
    pub issued_at: Instant,
    /// Whether the Link page has been opened with it.
    pub used: bool,
    /// The transfer Link continues into after the account connects, if any.
    pub transfer: Option<TransferOptions>,
    /// The one integration Link opens on (`integrationId`), if any.
    pub integration: Option<&'static Broker>,
}

/// What a redeemed link token opens Link with.
#[derive(Clone, Debug)]
pub struct Redeemed {
    /// The token's `userId`.
    pub user_id: String,
    /// Its `transferOptions`.
    pub transfer: Option<TransferOptions>,
    /// The integration named by its `integrationId`.
    pub integration: Option<&'static Broker>,
}

/// Why a link token cannot open Link.
#[derive(Debug, PartialEq, Eq)]
pub enum RedeemError {
    /// Never issued here.
    Unknown,
    /// Opened once already.
    Used,
    /// Older than ten minutes.
    Expired,
}

/// A Link page session: opened by redeeming a link token, used by the page's sign-in calls.
#[derive(Debug)]
struct UiSession {
    user_id: String,
    opened_at: Instant,
    pending_mfa: Option<(String, String)>,
    transfer: Option<TransferOptions>,
    integration: Option<&'static Broker>,
    /// The `(broker type, username)` signed in, once an account is connected.
    connected: Option<(String, String)>,
    preview: Option<Preview>,
}

/// What a Link page session knows once a user signed in: for the transfer steps.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The link token's `userId`.
    pub user_id: String,
    /// The connected broker's type.
    pub broker_type: String,
    /// The link token's `transferOptions`.
    pub transfer: TransferOptions,
    /// The last preview shown.
    pub preview: Option<Preview>,
}

/// Link tokens by auth code, and when expired ones were last forgotten.
#[derive(Default)]
struct LinkSessions {
    by_code: HashMap<String, LinkSession>,
    pruned_at: Option<Instant>,
}

/// Shared state behind the emulator's routes.
pub struct EmulatorState {
    /// Listen address, credentials and allowed origins.
    pub settings: Settings,
    /// Faults queued by tests.
    pub faults: Mutex<FaultQueue>,
    /// API calls received, by path (`GET /_emulator/calls`).
    pub calls: Mutex<HashMap<String, u64>>,
    link_sessions: Mutex<LinkSessions>,
    ui_sessions: Mutex<HashMap<String, UiSession>>,
    /// Issued access and refresh tokens, and the emulator's clock.
    pub tokens: Mutex<TokenBook>,
    /// Transfers made through Link, and how the next ones end.
    pub transfers: Mutex<TransferBook>,
    connected_accounts: Mutex<HashSet<(String, String, String)>>,
    /// The client webhooks are delivered with (one connection pool for every delivery).
    pub webhook_client: reqwest::Client,
}

impl EmulatorState {
    /// Fresh state with nothing issued.
    pub fn new(settings: Settings) -> Self {
        Self {
            tokens: Mutex::new(
                TokenBook::new(settings.token_ttl).with_managed_tokens(settings.managed_tokens),
            ),
            settings,
            faults: Mutex::default(),
            calls: Mutex::default(),
            link_sessions: Mutex::default(),
            ui_sessions: Mutex::default(),
            connected_accounts: Mutex::default(),
            transfers: Mutex::default(),
            webhook_client: reqwest::Client::builder()
                .timeout(WEBHOOK_TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }

    /// Records a new link token for `user_id` (continuing into `transfer`, and opening on
    /// `integration`, if any) and returns its auth code.
    pub fn issue_link_session(
        &self,
        user_id: String,
        transfer: Option<TransferOptions>,
        integration: Option<&'static Broker>,
    ) -> String {
        let code = random_code();
        let mut sessions = lock(&self.link_sessions);
        // Forget expired tokens at most once a second: scanning them all on every issue made
        // issuing slower the more tokens were issued.
        if sessions
            .pruned_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            sessions
                .by_code
                .retain(|_, s| s.issued_at.elapsed() < LINK_TOKEN_LIFETIME);
            sessions.pruned_at = Some(Instant::now());
        }
        sessions.by_code.insert(
            code.clone(),
            LinkSession {
                user_id,
                issued_at: Instant::now(),
                used: false,
                transfer,
                integration,
            },
        );
        code
    }

    /// Marks the token behind `code` used, if it still may be; returns what it opens Link with.
    pub fn redeem_link_session(&self, code: &str) -> Result<Redeemed, RedeemError> {
        let mut sessions = lock(&self.link_sessions);
        let session = sessions.by_code.get_mut(code).ok_or(RedeemError::Unknown)?;
        if session.used {
            return Err(RedeemError::Used);
        }
        if session.issued_at.elapsed() >= LINK_TOKEN_LIFETIME {
            return Err(RedeemError::Expired);
        }
        session.used = true;
        Ok(Redeemed {
            user_id: session.user_id.clone(),
            transfer: session.transfer.clone(),
            integration: session.integration,
        })
    }

    /// Starts a Link page session for what a link token opened; returns its id.
    pub fn open_ui_session(&self, redeemed: Redeemed) -> String {
        let Redeemed {
            user_id,
            transfer,
            integration,
        } = redeemed;
        let id = random_code();
        let mut sessions = lock(&self.ui_sessions);
        sessions.retain(|_, s| s.opened_at.elapsed() < UI_SESSION_LIFETIME);
        sessions.insert(
            id.clone(),
            UiSession {
                user_id,
                opened_at: Instant::now(),
                pending_mfa: None,
                transfer,
                integration,
                connected: None,
                preview: None,
            },
        );
        id
    }

    /// The user of a live Link page session.
    pub fn ui_session_user(&self, id: &str) -> Option<String> {
        lock(&self.ui_sessions)
            .get(id)
            .filter(|s| s.opened_at.elapsed() < UI_SESSION_LIFETIME)
            .map(|s| s.user_id.clone())
    }

    /// The integration a live Link page session opened on, and whether it has a transfer to make.
    pub fn ui_session_integration(&self, id: &str) -> Option<(&'static Broker, bool)> {
        let sessions = lock(&self.ui_sessions);
        let session = sessions
            .get(id)
            .filter(|s| s.opened_at.elapsed() < UI_SESSION_LIFETIME)?;
        Some((session.integration?, session.transfer.is_some()))
    }

    /// Remembers that the session's sign-in waits for an MFA code.
    pub fn await_mfa(&self, id: &str, broker_type: &str, username: &str) {
        if let Some(session) = lock(&self.ui_sessions).get_mut(id) {
            session.pending_mfa = Some((broker_type.to_string(), username.to_string()));
        }
    }

    /// The `(broker type, username)` waiting for an MFA code, if any.
    pub fn pending_mfa(&self, id: &str) -> Option<(String, String)> {
        lock(&self.ui_sessions).get(id)?.pending_mfa.clone()
    }

    /// Clears the wait for an MFA code.
    pub fn clear_mfa(&self, id: &str) {
        if let Some(session) = lock(&self.ui_sessions).get_mut(id) {
            session.pending_mfa = None;
        }
    }

    /// Remembers who signed in, for the transfer steps that follow.
    pub fn signed_in(&self, id: &str, broker_type: &str, username: &str) {
        if let Some(session) = lock(&self.ui_sessions).get_mut(id) {
            session.connected = Some((broker_type.to_string(), username.to_string()));
        }
    }

    /// The session's signed-in user and transfer, when it has both.
    pub fn transfer_session(&self, id: &str) -> Option<SignedIn> {
        let sessions = lock(&self.ui_sessions);
        let session = sessions.get(id)?;
        Some(SignedIn {
            user_id: session.user_id.clone(),
            broker_type: session.connected.as_ref()?.0.clone(),
            transfer: session.transfer.clone()?,
            preview: session.preview.clone(),
        })
    }

    /// Stores the preview the page shows (replacing any earlier one).
    pub fn set_preview(&self, id: &str, preview: Option<Preview>) {
        if let Some(session) = lock(&self.ui_sessions).get_mut(id) {
            session.preview = preview;
        }
    }

    /// Issues tokens for `grant` to `user_id`; returns them and whether this account was
    /// connected before.
    pub fn issue_tokens(&self, user_id: &str, grant: Grant, refreshable: bool) -> (Pair, bool) {
        let reconnected = !lock(&self.connected_accounts).insert((
            user_id.to_string(),
            grant.broker_type.clone(),
            grant.account_id.clone(),
        ));
        (lock(&self.tokens).issue(grant, refreshable), reconnected)
    }
}

/// How long a Link page session may sign in after the token was redeemed.
const UI_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Mesh answers 401 with an empty body when the key pair is wrong or missing.
pub fn authorized(state: &EmulatorState, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-client-id") == Some(state.settings.client_id.as_str())
        && header("x-client-secret") == Some(state.settings.client_secret.expose_secret())
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the emulator's state
/// stays consistent because every critical section is a single map operation).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> EmulatorState {
        EmulatorState::new(Settings {
            addr: "127.0.0.1:0".parse().unwrap(),
            client_id: "c".into(),
            client_secret: secrecy::SecretString::from("s"),
            allowed_origins: vec![],
            token_ttl: crate::DEFAULT_TOKEN_TTL,
            webhook: None,
            managed_tokens: false,
        })
    }

    #[test]
    fn link_tokens_are_single_use() {
        let state = state();
        let code = state.issue_link_session("u".into(), None, None);
        assert_eq!(
            state.redeem_link_session(&code).map(|r| r.user_id),
            Ok("u".into())
        );
        assert_eq!(
            state.redeem_link_session(&code).map(|r| r.user_id),
            Err(RedeemError::Used)
        );
        assert_eq!(
            state.redeem_link_session("nope").map(|r| r.user_id),
            Err(RedeemError::Unknown)
        );
    }

    #[test]
    fn link_tokens_expire_after_ten_minutes() {
        let state = state();
        let code = state.issue_link_session("u".into(), None, None);
        let eleven_minutes_ago = Instant::now()
            .checked_sub(Duration::from_secs(11 * 60))
            .expect("the clock is past eleven minutes");
        lock(&state.link_sessions)
            .by_code
            .get_mut(&code)
            .expect("issued")
            .issued_at = eleven_minutes_ago;
        assert_eq!(
            state.redeem_link_session(&code).map(|r| r.user_id),
            Err(RedeemError::Expired)
        );
    }
}
