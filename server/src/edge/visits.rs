//! The last visit of each user with something stored, recorded at most once a day per user and
//! instance, so the daily retention sweep knows whom it may forget.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::http::Request;

use crate::clock::unix_now;
use crate::session::{NewVisitor, UserId};
use crate::vault::TokenVault;

const DAY: i64 = 24 * 3600;

/// The users this instance has recorded today, so a visit costs a write once a day at most.
/// Yesterday's are forgotten all at once when the day changes, so a visit costs the same
/// however many users came today.
#[derive(Default)]
pub struct Visits {
    recorded: Mutex<(i64, HashSet<UserId>)>,
}

impl Visits {
    /// True the first time `user` is seen on `day` (days since the epoch).
    fn first_today(&self, user: UserId, day: i64) -> bool {
        let Ok(mut recorded) = self.recorded.lock() else {
            return false;
        };
        let (today, users) = &mut *recorded;
        if *today != day {
            *today = day;
            users.clear();
        }
        users.insert(user)
    }
}

/// Records the visit of the request's user (installed with `map_request`, inside the session
/// layer): a write at most once a day per user and instance, in the background, and none for a
/// visitor who came without a session (they have nothing stored; a save records them).
pub fn record_visit<B>(vault: &Arc<TokenVault>, visits: &Visits, request: &Request<B>) {
    if request.extensions().get::<NewVisitor>().is_some() {
        return;
    }
    if let Some(user) = request.extensions().get::<UserId>().copied() {
        let now = unix_now();
        if visits.first_today(user, now / DAY) {
            let vault = vault.clone();
            tokio::spawn(async move {
                if let Err(error) = vault.touch_user(&user.to_string(), now).await {
                    tracing::warn!(%error, "could not record a visit");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_is_recorded_once_a_day() {
        let visits = Visits::default();
        let user = UserId(uuid::Uuid::new_v4());
        assert!(visits.first_today(user, 100));
        assert!(!visits.first_today(user, 100));
        assert!(visits.first_today(user, 101));
        assert!(visits.first_today(UserId(uuid::Uuid::new_v4()), 101));
    }
}
