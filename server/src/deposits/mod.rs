//! Deposits: asked for and reported by the browser ([`reports`], a hint only), brought to their
//! final state by Mesh's signed webhooks ([`webhooks`]) or, without them, by polling ([`reconcile`]).

pub mod from_connection;
pub mod reconcile;
pub mod reports;
pub mod webhooks;
