//! The wall clock in the unit the vault stores and Mesh's webhooks carry: Unix seconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds (0 if the system clock is set before 1970).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
