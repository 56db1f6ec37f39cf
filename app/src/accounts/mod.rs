//! Feature: the connected accounts: their server functions (`server_fns.rs`), Link's payload
//! checked for the vault (`validation.rs`), summaries (`ssr.rs`) and the list (`view.rs`).

mod model;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
mod validation;
mod view;

pub use model::ConnectionSummary;
pub use server_fns::*;
pub use view::{AccountList, no_script_disconnect_failure};
