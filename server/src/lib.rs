//! Everything the server does that is not a page: configuration, session, the Mesh client, the
//! vault, the services, the HTTP edge around the pages and start-up. It knows nothing of Leptos.

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
