//! How the browser opens Link: which Mesh the server talks to, and where the emulator is.

use serde::{Deserialize, Serialize};

/// Which Mesh the server talks to, as the browser needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeshMode {
    /// The embedded offline emulator.
    Emulator,
    /// Mesh's sandbox.
    Sandbox,
    /// Mesh's production.
    Production,
}

/// What the Link client needs from the server before it opens Link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSettings {
    /// Which Mesh is in use.
    pub mode: MeshMode,
    /// In emulator mode, the only origin Link may be loaded from (`http://127.0.0.1:3100`).
    pub emulator_origin: Option<String>,
    /// Whether deposit addresses are configured (the Deposit page exists).
    pub deposits: bool,
}
