//! How a deposit reaches its final state: Mesh's signed webhooks ([`webhooks`]) and, without
//! them, polling Mesh's transfers API ([`reconcile`]). The browser's report is only a hint.

pub mod reconcile;
pub mod webhooks;
