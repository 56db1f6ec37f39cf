//! Server-only domain of the Mesh Link starter: configuration, the Mesh REST client, the token vault,
//! the anonymous session and the embedded Mesh emulator. It knows nothing of Leptos views.

pub mod config;
pub mod emulator;
pub mod mesh;
pub mod session;
pub mod vault;
