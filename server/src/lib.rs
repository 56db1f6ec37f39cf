//! Server-only domain of the Mesh Link starter: configuration, the Mesh REST client, the token vault,
//! the anonymous session, the HTTP edge around the pages, Mesh's webhooks and the listening
//! socket. It knows nothing of Leptos.

pub mod clock;
pub mod config;
pub mod deposits;
pub mod edge;
pub mod mesh;
pub mod net;
pub mod session;
pub mod vault;
