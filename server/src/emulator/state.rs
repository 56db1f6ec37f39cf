//! What the emulator remembers: issued link tokens (single use, 10 minutes) and queued faults.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::EmulatorSettings;
use super::faults::FaultQueue;

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

/// Shared state behind the emulator's routes.
pub struct EmulatorState {
    /// Listen address, credentials and allowed origins.
    pub settings: EmulatorSettings,
    /// Faults queued by tests.
    pub faults: Mutex<FaultQueue>,
    link_sessions: Mutex<HashMap<String, LinkSession>>,
}

impl EmulatorState {
    /// Fresh state with nothing issued.
    pub fn new(settings: EmulatorSettings) -> Self {
        Self {
            settings,
            faults: Mutex::default(),
            link_sessions: Mutex::default(),
        }
    }

    /// Records a new link token for `user_id` and returns its auth code.
    pub fn issue_link_session(&self, user_id: String) -> String {
        let code = random_code();
        let mut sessions = lock(&self.link_sessions);
        sessions.retain(|_, s| s.issued_at.elapsed() < LINK_TOKEN_LIFETIME);
        sessions.insert(
            code.clone(),
            LinkSession {
                user_id,
                issued_at: Instant::now(),
                used: false,
            },
        );
        code
    }

    /// Marks the token behind `code` used, if it still may be; returns its user id.
    pub fn redeem_link_session(&self, code: &str) -> Result<String, RedeemError> {
        let mut sessions = lock(&self.link_sessions);
        let session = sessions.get_mut(code).ok_or(RedeemError::Unknown)?;
        if session.used {
            return Err(RedeemError::Used);
        }
        if session.issued_at.elapsed() >= LINK_TOKEN_LIFETIME {
            return Err(RedeemError::Expired);
        }
        session.used = true;
        Ok(session.user_id.clone())
    }
}

/// 128 random bits as hex: unguessable codes and tokens.
pub fn random_code() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the emulator's state
/// stays consistent because every critical section is a single map operation).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
