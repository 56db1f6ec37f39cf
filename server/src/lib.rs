//! Server-only domain of the Mesh Link starter: configuration, the Mesh REST client, the token vault,
//! the anonymous session, the listening socket and the embedded Mesh emulator. It knows nothing of Leptos views.

pub mod clock;
pub mod config;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod mesh;
pub mod net;
pub mod session;
pub mod vault;
