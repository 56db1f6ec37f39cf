//! Keeping stored tokens alive: refreshed in the background before they expire, renewed once when
//! a call meets an expired one, each under the connection's refresh lease so one instance calls Mesh.

mod access;
mod error;
mod refresh;

use std::time::Duration;

pub use access::{refresh_now, with_access_token};
pub use error::TokenError;
pub use refresh::{
    Outcome, RefreshReport, TokenRefresher, refresh_due, refresh_leased, spawn_token_refresher,
};

/// Access tokens that expire within this margin are refreshed. Fifteen minutes covers missed
/// checks, an instance restarting, and Mesh being unreachable for a while, while refreshing a
/// day-long token only once a day.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

// The arithmetic of a refresh whose answer is lost. Mesh rotates the refresh token when it
// answers; if the answer never arrives (a timeout, a broken connection, this instance killed
// before it stored the answer), the old refresh token is the only way back, and it works only
// for a grace period after the rotation. So every retry with it must land inside that grace:
// - in this instance, attempts whose outcome is unknown are repeated at once, all starting
//   within RETRY_FOR of the first;
// - after a crash, the connection's LEASE runs out and the next check (every CHECK_EVERY) of
//   any instance, a restarted one included, retries: within LEASE + CHECK_EVERY of the first.
// `every_retry_lands_inside_the_grace` checks both against ASSUMED_GRACE.

/// How long Mesh accepts a refresh token after replacing it, as this app assumes it: the
/// emulator's 60 s. Mesh documents none, so the waits below keep well inside it.
pub const ASSUMED_GRACE: Duration = Duration::from_secs(60);
/// The longest one attempt may take, Mesh's own retries included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(8);
/// How long after the first attempt another may start when the outcome is unknown.
pub const RETRY_FOR: Duration = Duration::from_secs(20);
/// The pause between two attempts, so a Mesh that refuses connections is not hammered.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// How long an instance holds one connection's refresh lease: its attempts, the last one's
/// timeout, and storing the answer. Taken for each connection just before its refresh.
pub const LEASE: Duration = Duration::from_secs(32);
/// How often the background task looks for connections due (and for leases a dead instance
/// left behind).
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Connections one instance refreshes at once.
const PARALLEL: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_retry_lands_inside_the_grace() {
        // In this instance: the last attempt starts within RETRY_FOR of the first, and it and
        // storing its answer fit in the lease, so no other instance takes over meanwhile.
        assert!(RETRY_FOR < ASSUMED_GRACE);
        assert!(RETRY_FOR + ATTEMPT_TIMEOUT + Duration::from_secs(2) <= LEASE);
        // After a crash: the lease runs out and the next check anywhere retries, with time to
        // spare for that attempt to reach Mesh.
        assert!(LEASE + CHECK_EVERY + ATTEMPT_TIMEOUT <= ASSUMED_GRACE - Duration::from_secs(10));
    }
}
