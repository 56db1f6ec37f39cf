//! The tokens the emulator issued, on a clock tests can move forward; a refresh rotates both and
//! leaves the old refresh token usable for [`REFRESH_GRACE`], so a lost answer can be retried.

use std::collections::HashMap;
use std::time::Duration;

/// How long a refresh token lives, as the emulated Link announces it.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// How long a replaced refresh token still works.
pub const REFRESH_GRACE: Duration = Duration::from_secs(60);

/// The account a token opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// The sandbox login that signed in.
    pub username: String,
    /// The account's id.
    pub account_id: String,
    /// The account's name (without the broker's).
    pub account_name: String,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Never issued here (or revoked, or for another broker type).
    Unknown,
    /// Past its lifetime (for a replaced refresh token: past the grace period).
    Expired,
}

/// A new pair of tokens for one account.
#[derive(Clone, Debug)]
pub struct Pair {
    /// The account.
    pub grant: Grant,
    /// Access token.
    pub access_token: String,
    /// Refresh token, for refreshable brokers.
    pub refresh_token: Option<String>,
}

struct Access {
    grant: Grant,
    /// `None` for brokers whose tokens do not expire.
    expires_at: Option<i64>,
}

struct Refresh {
    grant: Grant,
    expires_at: i64,
    replaced_at: Option<i64>,
}

/// What a `tokenId` (Mesh-managed tokens) starts with; the account id follows.
const TOKEN_ID_PREFIX: &str = "tok_";

/// The `tokenId` of an account under Mesh-managed tokens.
pub fn token_id(account_id: &str) -> String {
    format!("{TOKEN_ID_PREFIX}{account_id}")
}

/// Issued tokens and the emulator's clock.
pub struct TokenBook {
    access_ttl: Duration,
    managed: bool,
    clock_offset: i64,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
}

impl TokenBook {
    /// An empty book whose access tokens live `access_ttl`.
    pub fn new(access_ttl: Duration) -> Self {
        Self {
            access_ttl,
            managed: false,
            clock_offset: 0,
            access: HashMap::new(),
            refresh: HashMap::new(),
        }
    }

    /// The book of a client on Mesh-managed tokens: a `tokenId` opens its account too.
    pub fn with_managed_tokens(mut self, managed: bool) -> Self {
        self.managed = managed;
        self
    }

    /// Lifetime of new access tokens.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// The emulator's time, in Unix seconds.
    pub fn now(&self) -> i64 {
        super::wire::unix_now() + self.clock_offset
    }

    /// Moves the emulator's clock forward (tests of expiry).
    pub fn advance(&mut self, seconds: i64) {
        self.clock_offset += seconds;
    }

    /// Issues a pair for `grant`; a `refreshable` broker's access token expires and comes with
    /// a refresh token, another's lives until revoked.
    pub fn issue(&mut self, grant: Grant, refreshable: bool) -> Pair {
        let now = self.now();
        let access_token = format!("emu_at_{}", random_code());
        self.access.insert(
            access_token.clone(),
            Access {
                grant: grant.clone(),
                expires_at: refreshable.then(|| now + self.access_ttl.as_secs() as i64),
            },
        );
        let refresh_token = refreshable.then(|| {
            let token = format!("emu_rt_{}", random_code());
            self.refresh.insert(
                token.clone(),
                Refresh {
                    grant: grant.clone(),
                    expires_at: now + REFRESH_TTL.as_secs() as i64,
                    replaced_at: None,
                },
            );
            token
        });
        Pair {
            grant,
            access_token,
            refresh_token,
        }
    }

    /// The account an access token (or, under managed tokens, a `tokenId`) for `broker_type`
    /// opens. A `tokenId` never expires: Mesh keeps the account's tokens fresh behind it; it
    /// stops working when the account's tokens are revoked.
    pub fn check_access(&self, token: &str, broker_type: &str) -> Result<Grant, Refusal> {
        if let Some(account_id) = self.managed_account(token) {
            return self
                .access
                .values()
                .find(|a| a.grant.account_id == account_id && a.grant.broker_type == broker_type)
                .map(|a| a.grant.clone())
                .ok_or(Refusal::Unknown);
        }
        let access = self
            .access
            .get(token)
            .filter(|a| a.grant.broker_type == broker_type)
            .ok_or(Refusal::Unknown)?;
        if access.expires_at.is_some_and(|at| self.now() >= at) {
            return Err(Refusal::Expired);
        }
        Ok(access.grant.clone())
    }

    /// Redeems a refresh token for a new access token and, when `rotate`, a new refresh token;
    /// a replaced refresh token keeps working for the grace period. Without `rotate` the same
    /// refresh token stays in use and the answer carries none.
    pub fn refresh(
        &mut self,
        token: &str,
        broker_type: &str,
        rotate: bool,
    ) -> Result<Pair, Refusal> {
        let now = self.now();
        let refresh = self
            .refresh
            .get_mut(token)
            .filter(|r| r.grant.broker_type == broker_type)
            .ok_or(Refusal::Unknown)?;
        let grace_over = refresh
            .replaced_at
            .is_some_and(|at| now >= at + REFRESH_GRACE.as_secs() as i64);
        if now >= refresh.expires_at || grace_over {
            return Err(Refusal::Expired);
        }
        if rotate {
            refresh.replaced_at.get_or_insert(now);
            let grant = refresh.grant.clone();
            return Ok(self.issue(grant, true));
        }
        let grant = refresh.grant.clone();
        let access_token = format!("emu_at_{}", random_code());
        let expires_at = Some(now + self.access_ttl.as_secs() as i64);
        let access = Access {
            grant: grant.clone(),
            expires_at,
        };
        self.access.insert(access_token.clone(), access);
        Ok(Pair {
            grant,
            access_token,
            refresh_token: None,
        })
    }

    /// Revokes every access token of `broker_type`.
    pub fn revoke_all(&mut self, broker_type: &str) {
        self.access
            .retain(|_, a| a.grant.broker_type != broker_type);
    }

    /// The account id of a `tokenId`, when this book accepts them.
    fn managed_account<'t>(&self, token: &'t str) -> Option<&'t str> {
        self.managed
            .then(|| token.strip_prefix(TOKEN_ID_PREFIX))
            .flatten()
    }

    /// Revokes an access token (or, under managed tokens, every token of a `tokenId`'s account)
    /// for `broker_type`; false if it was not issued here.
    pub fn revoke(&mut self, token: &str, broker_type: &str) -> bool {
        if let Some(account_id) = self.managed_account(token) {
            let before = self.access.len();
            self.access.retain(|_, a| {
                !(a.grant.account_id == account_id && a.grant.broker_type == broker_type)
            });
            return self.access.len() < before;
        }
        let known = self
            .access
            .get(token)
            .is_some_and(|a| a.grant.broker_type == broker_type);
        if known {
            self.access.remove(token);
        }
        known
    }
}

/// 128 random bits as hex: unguessable codes and tokens.
pub fn random_code() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            broker_type: "robinhood".into(),
            username: "Mesh".into(),
            account_id: "a".into(),
            account_name: "Individual".into(),
        }
    }

    #[test]
    fn access_tokens_expire_after_their_ttl() {
        let mut book = TokenBook::new(Duration::from_secs(60));
        let pair = book.issue(grant(), true);
        assert_eq!(
            book.check_access(&pair.access_token, "robinhood"),
            Ok(grant())
        );
        assert_eq!(
            book.check_access(&pair.access_token, "coinbase"),
            Err(Refusal::Unknown)
        );
        book.advance(60);
        assert_eq!(
            book.check_access(&pair.access_token, "robinhood"),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn tokens_of_brokers_without_refresh_do_not_expire() {
        let mut book = TokenBook::new(Duration::from_secs(60));
        let pair = book.issue(grant(), false);
        assert!(pair.refresh_token.is_none());
        book.advance(365 * 24 * 60 * 60);
        assert!(book.check_access(&pair.access_token, "robinhood").is_ok());
    }

    #[test]
    fn a_replaced_refresh_token_works_for_the_grace_period_only() {
        let mut book = TokenBook::new(Duration::from_secs(60));
        let first = book.issue(grant(), true);
        let old = first.refresh_token.unwrap();
        let second = book.refresh(&old, "robinhood", true).unwrap();
        assert_ne!(second.refresh_token.as_deref(), Some(old.as_str()));
        book.advance(59);
        assert!(
            book.refresh(&old, "robinhood", true).is_ok(),
            "retry within the grace"
        );
        book.advance(1);
        assert_eq!(
            book.refresh(&old, "robinhood", true).unwrap_err(),
            Refusal::Expired
        );
        let newest = second.refresh_token.unwrap();
        assert!(book.refresh(&newest, "robinhood", true).is_ok());
    }

    #[test]
    fn without_rotation_the_refresh_token_stays_and_keeps_working() {
        let mut book = TokenBook::new(Duration::from_secs(60));
        let first = book.issue(grant(), true);
        let token = first.refresh_token.unwrap();
        let renewed = book.refresh(&token, "robinhood", false).unwrap();
        assert_eq!(renewed.refresh_token, None);
        assert_ne!(renewed.access_token, first.access_token);
        assert!(
            book.check_access(&renewed.access_token, "robinhood")
                .is_ok()
        );
        book.advance(3600);
        assert!(
            book.refresh(&token, "robinhood", false).is_ok(),
            "never replaced"
        );
    }

    #[test]
    fn refresh_tokens_expire_after_30_days() {
        let mut book = TokenBook::new(Duration::from_secs(60));
        let pair = book.issue(grant(), true);
        book.advance(REFRESH_TTL.as_secs() as i64);
        assert_eq!(
            book.refresh(pair.refresh_token.as_deref().unwrap(), "robinhood", true)
                .unwrap_err(),
            Refusal::Expired
        );
        assert_eq!(
            book.refresh("nope", "robinhood", true).unwrap_err(),
            Refusal::Unknown
        );
    }
}
