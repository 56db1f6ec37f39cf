//! Feature: the connected accounts. `save_connection` stores what Link captured (tokens go in
//! once, encrypted, and never come back), `list_connections` shows summaries, `disconnect`
//! revokes at Mesh and forgets.
//!
//! - `api.rs`: the server functions;
//! - `validation.rs`: what Link handed over, checked and converted for the vault;
//! - `ssr.rs`: the connection cap, summaries, revoke-then-delete;
//! - `view.rs`: the accounts list and its Disconnect forms.

mod api;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
mod validation;
mod view;

pub use api::*;
pub use view::{AccountList, no_script_disconnect_failure};
