//! Server-only domain of the Mesh Link starter: configuration, the Mesh REST client, the token vault,
//! the anonymous session and the listening socket. It knows nothing of Leptos views.

pub mod clock;
pub mod config;
pub mod mesh;
pub mod net;
pub mod session;
pub mod vault;
