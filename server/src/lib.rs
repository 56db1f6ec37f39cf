//! Everything the Mesh Link starter's server does that is not a page: configuration, the
//! session, the Mesh client, the token vault, the services (disconnecting, the token lifecycle,
//! deposits, retention), the HTTP edge around the pages and the start-up of the binary. It knows
//! nothing of Leptos.

pub mod accounts;
pub mod clock;
pub mod config;
pub mod deposits;
pub mod edge;
pub mod mesh;
pub mod net;
pub mod retention;
pub mod session;
pub mod startup;
pub mod tokens;
pub mod vault;
