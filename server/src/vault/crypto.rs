//! AES-256-GCM for tokens at rest: a fresh random nonce per value, and the row's identity as
//! associated data, so a ciphertext copied into another row fails to open.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use secrecy::{ExposeSecret, SecretString};

/// Length of the vault key (`TOKEN_KEY`) in bytes.
pub const TOKEN_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// The identity of a vault row, bound into every ciphertext stored in it.
#[derive(Clone, Copy, Debug)]
pub struct RowIdentity<'a> {
    /// The session user.
    pub user_id: &'a str,
    /// Mesh's `BrokerType`.
    pub broker_type: &'a str,
    /// The account id (empty for a pending connection).
    pub account_id: &'a str,
    /// Which token of the row (`access` or `refresh`).
    pub field: &'a str,
}

impl RowIdentity<'_> {
    /// Length-prefixed, so no two identities encode alike.
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = Vec::new();
        for part in [self.user_id, self.broker_type, self.account_id, self.field] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// A ciphertext failed to open: wrong key, tampered, or moved from another row.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The vault key is not 32 bytes.
    #[error("TOKEN_KEY must be 32 bytes")]
    BadKey,
    /// Authentication failed.
    #[error("a stored token could not be decrypted (tampered, moved, or another key)")]
    Unreadable,
    /// Sealed under a key this server does not have.
    #[error("a stored token was sealed with key {0}, which this server does not have")]
    UnknownKey(String),
}

/// Seals and opens tokens with one key, identified by a key id stored beside each value.
pub struct TokenCipher {
    cipher: Aes256Gcm,
    key_id: String,
}

impl TokenCipher {
    /// A cipher for a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
        // A key check value: the tag of an empty message under a zero nonce identifies the key
        // without revealing it, so rotation can later tell which key sealed a row.
        let check = cipher
            .encrypt(Nonce::from_slice(&[0u8; NONCE_LEN]), &[][..])
            .map_err(|_| CryptoError::BadKey)?;
        let key_id = check[..4].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { cipher, key_id })
    }

    /// The id of this cipher's key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `token` for the row `identity`: `nonce || ciphertext || tag`.
    pub fn seal(&self, token: &SecretString, identity: RowIdentity<'_>) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let aad = identity.associated_data();
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: token.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            // AES-GCM encryption fails only for messages over 64 GiB; tokens are at most 8 KiB.
            .expect("AES-GCM encrypts any token-sized message");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a value sealed for the row `identity` under the key `key_id`.
    pub fn open(
        &self,
        key_id: &str,
        sealed: &[u8],
        identity: RowIdentity<'_>,
    ) -> Result<SecretString, CryptoError> {
        if key_id != self.key_id {
            return Err(CryptoError::UnknownKey(key_id.to_string()));
        }
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Unreadable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let aad = identity.associated_data();
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Unreadable)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(account_id: &str) -> RowIdentity<'_> {
        RowIdentity {
            user_id: "u1",
            broker_type: "robinhood",
            account_id,
            field: "access",
        }
    }

    #[test]
    fn round_trip() {
        let cipher = TokenCipher::new(&[1u8; 32]).unwrap();
        let sealed = cipher.seal(&SecretString::from("at-123"), identity("a"));
        let opened = cipher
            .open(cipher.key_id(), &sealed, identity("a"))
            .unwrap();
        assert_eq!(opened.expose_secret(), "at-123");
    }

    #[test]
    fn fresh_nonce_per_value() {
        let cipher = TokenCipher::new(&[1u8; 32]).unwrap();
        let token = SecretString::from("same");
        assert_ne!(
            cipher.seal(&token, identity("a")),
            cipher.seal(&token, identity("a"))
        );
    }

    #[test]
    fn tampered_moved_or_foreign_ciphertexts_fail() {
        let cipher = TokenCipher::new(&[1u8; 32]).unwrap();
        let mut sealed = cipher.seal(&SecretString::from("at-123"), identity("a"));
        assert_eq!(
            cipher
                .open(cipher.key_id(), &sealed, identity("b"))
                .unwrap_err(),
            CryptoError::Unreadable,
            "moved to another row"
        );
        let other = TokenCipher::new(&[2u8; 32]).unwrap();
        assert_ne!(other.key_id(), cipher.key_id());
        assert!(matches!(
            other.open(cipher.key_id(), &sealed, identity("a")),
            Err(CryptoError::UnknownKey(_))
        ));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(
            cipher
                .open(cipher.key_id(), &sealed, identity("a"))
                .unwrap_err(),
            CryptoError::Unreadable,
            "tampered"
        );
        assert_eq!(
            cipher
                .open(cipher.key_id(), &[0u8; 5], identity("a"))
                .unwrap_err(),
            CryptoError::Unreadable
        );
    }

    #[test]
    fn key_must_be_32_bytes() {
        assert!(matches!(
            TokenCipher::new(&[0u8; 16]),
            Err(CryptoError::BadKey)
        ));
    }
}
