//! Why a configuration is refused: one sentence per variable, naming the fix.

use super::{MAX_DATABASE_CONNECTIONS, MeshEnvironment};

/// Why the configuration was refused. Each message names the variable and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// One of the two Mesh keys is set without the other.
    #[error(
        "{set} is set but {missing} is not: set both (from the Mesh dashboard, Account > API keys) or neither to use the offline emulator"
    )]
    HalfAKeyPair {
        /// The variable that is set.
        set: &'static str,
        /// The variable that is missing.
        missing: &'static str,
    },
    /// `MESH_ENV` has an unknown value.
    #[error("MESH_ENV must be emulator, sandbox or production, not \"{0}\"")]
    UnknownMeshEnv(String),
    /// Sandbox or production without keys.
    #[error(
        "MESH_ENV={0} needs MESH_CLIENT_ID and MESH_CLIENT_SECRET: copy them from the Mesh dashboard, or unset MESH_ENV to use the offline emulator"
    )]
    KeysRequired(MeshEnvironment),
    /// A URL variable that does not parse or is not http(s).
    #[error("{var} must be an http:// or https:// URL (got \"{value}\")")]
    InvalidUrl {
        /// The variable.
        var: &'static str,
        /// Its value (never a secret).
        value: String,
    },
    /// A socket address variable that does not parse.
    #[error("{var} must be an address like 127.0.0.1:3100 (got \"{value}\")")]
    InvalidAddr {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// A key that is not base64 of the right length. The value is never shown.
    #[error(
        "{var} must be standard base64 of {len} random bytes: generate one with `openssl rand -base64 {len}`"
    )]
    InvalidKey {
        /// The variable.
        var: &'static str,
        /// The expected key length in bytes.
        len: usize,
    },
    /// Production mode without an explicit key.
    #[error(
        "{var} is required when MESH_ENV=production, so every instance shares it: generate one with `openssl rand -base64 {len}`"
    )]
    KeyRequiredInProduction {
        /// The variable.
        var: &'static str,
        /// The expected key length in bytes.
        len: usize,
    },
    /// `DATABASE_URL` names another database.
    #[error(
        "DATABASE_URL must be a sqlite: or postgres:// URL (got a {0}: URL): unset it to use SQLite under DATA_DIR"
    )]
    UnsupportedDatabase(String),
    /// `DATABASE_MAX_CONNECTIONS` is not a number in range.
    #[error(
        "DATABASE_MAX_CONNECTIONS must be a whole number from 1 to {MAX_DATABASE_CONNECTIONS} (got \"{0}\"); keep instances × this under the database's own limit"
    )]
    InvalidPoolSize(String),
    /// Emulator mode in a build made without the emulator.
    #[error(
        "MESH_ENV=emulator (the default without Mesh keys) needs the Mesh emulator, which this build leaves out: set MESH_CLIENT_ID and MESH_CLIENT_SECRET from the Mesh dashboard, or build with the default features"
    )]
    EmulatorNotBuilt,
    /// A count that is not a whole number above zero.
    #[error("{var} must be a whole number above 0 (got \"{value}\")")]
    InvalidCount {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// A `TRUSTED_PROXIES` entry that is not an IP address.
    #[error(
        "TRUSTED_PROXIES must list IP addresses separated by commas, like 10.0.0.2,10.0.0.3 (\"{0}\" is not one)"
    )]
    InvalidProxy(String),
    /// Production without the public address.
    #[error(
        "PUBLIC_URL is required when MESH_ENV=production: set it to the https:// address users open (for example https://app.example.com), so requests from other sites can be refused"
    )]
    PublicUrlRequired,
    /// `DEPOSIT_ADDRESSES` entries that cannot be used, one sentence each.
    #[error(
        "DEPOSIT_ADDRESSES has entries that cannot be used:\n  - {}",
        .0.join("\n  - ")
    )]
    DepositAddresses(Vec<String>),
    /// A yes-or-no variable with another value.
    #[error("{var} must be true or false (got \"{value}\")")]
    InvalidFlag {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// A variable that must not be empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// The data folder or a key file in it cannot be used.
    #[error("DATA_DIR \"{path}\" cannot be used ({reason}): point DATA_DIR at a writable folder")]
    DataDir {
        /// The folder or file.
        path: String,
        /// The I/O error, in words.
        reason: String,
    },
}
