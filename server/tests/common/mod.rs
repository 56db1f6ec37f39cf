//! The emulator and a Mesh client pointed at it, as the tests of this crate start them.
#![allow(dead_code)] // Each test file uses its own part of the helpers.

use std::time::Duration;

use mesh_emulator::DEFAULT_TOKEN_TTL;
use mesh_emulator::{RunningEmulator, Settings as EmulatorSettings};
use secrecy::SecretString;
use server::config::MeshCredentials;
use server::mesh::{MeshClient, RetryPolicy, Timeouts};

/// The client id the test emulators know.
pub const CLIENT_ID: &str = "test-client";
/// The page the emulated Link is opened from (its allowed origin).
pub const HOST: &str = "http://127.0.0.1:3000";

/// An emulator on a free loopback port that accepts `CLIENT_ID` with `secret`, lets `HOST`
/// frame Link and sends no webhooks; change a field with struct-update syntax.
pub fn emulator_settings(secret: &str) -> EmulatorSettings {
    EmulatorSettings {
        addr: "127.0.0.1:0".parse().unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(secret),
        allowed_origins: vec![HOST.into()],
        token_ttl: DEFAULT_TOKEN_TTL,
        webhook: None,
        managed_tokens: false,
    }
}

/// A client of `emulator` with `secret`, `max_attempts` tries per call 10–20 ms apart, and a
/// 5 s deadline.
pub fn client(emulator: &RunningEmulator, secret: &str, max_attempts: u32) -> MeshClient {
    MeshClient::with_policy(
        emulator.base_url(),
        MeshCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(secret),
        },
        Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_secs(5),
        },
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
    )
    .unwrap()
}
