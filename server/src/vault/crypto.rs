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

/// One vault key and the ids that name it in stored rows.
struct VaultKey {
    cipher: Aes256Gcm,
    /// HMAC-SHA-256 of [`KEY_ID_LABEL`] under the key, first 8 bytes in hex.
    id: String,
    /// The id rows written before key rotation carry: the first 4 bytes of the GCM tag of an
    /// empty message under a zero nonce. Still read, never written.
    legacy_id: String,
}

/// What the key id is derived from.
const KEY_ID_LABEL: &[u8] = b"mesh-link-starter vault key id v1";

impl VaultKey {
    fn new(key: &[u8]) -> Result<Self, CryptoError> {
        use hmac::{Hmac, Mac};
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
        mac.update(KEY_ID_LABEL);
        let id = hex(&mac.finalize().into_bytes()[..8]);
        let check = cipher
            .encrypt(Nonce::from_slice(&[0u8; NONCE_LEN]), &[][..])
            .map_err(|_| CryptoError::BadKey)?;
        let legacy_id = hex(&check[..4]);
        Ok(Self {
            cipher,
            id,
            legacy_id,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals with the current key and opens with whichever key sealed a value (the current one or a
/// previous one, named by the key id stored beside each value).
pub struct TokenCipher {
    current: VaultKey,
    previous: Vec<VaultKey>,
}

impl TokenCipher {
    /// A cipher for a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self {
            current: VaultKey::new(key)?,
            previous: Vec::new(),
        })
    }

    /// Also opens values sealed under each of `keys` (older keys being rotated out).
    pub fn with_previous_keys<'a>(
        mut self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, CryptoError> {
        for key in keys {
            self.previous.push(VaultKey::new(key)?);
        }
        Ok(self)
    }

    /// The id of the key new values are sealed with.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Whether `key_id` names the current key as new rows write it.
    pub fn is_current(&self, key_id: &str) -> bool {
        key_id == self.current.id
    }

    /// Every key id this cipher opens: each key's id and its legacy id, current key first.
    pub fn readable_key_ids(&self) -> Vec<&str> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .flat_map(|key| [key.id.as_str(), key.legacy_id.as_str()])
            .collect()
    }

    fn key(&self, key_id: &str) -> Result<&VaultKey, CryptoError> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == key_id || key.legacy_id == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))
    }

    /// Encrypts `token` for the row `identity`: `nonce || ciphertext || tag`.
    pub fn seal(&self, token: &SecretString, identity: RowIdentity<'_>) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let aad = identity.associated_data();
        let ciphertext = self
            .current
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
        let key = self.key(key_id)?;
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Unreadable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let aad = identity.associated_data();
        let plain = key
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
    fn previous_keys_open_what_they_sealed_and_new_values_use_the_current_key() {
        let old = TokenCipher::new(&[1u8; 32]).unwrap();
        let sealed = old.seal(&SecretString::from("at"), identity("a"));
        let rotated = TokenCipher::new(&[2u8; 32])
            .unwrap()
            .with_previous_keys([&[1u8; 32][..]])
            .unwrap();
        assert_ne!(rotated.key_id(), old.key_id());
        assert!(!rotated.is_current(old.key_id()));
        let opened = rotated.open(old.key_id(), &sealed, identity("a")).unwrap();
        assert_eq!(opened.expose_secret(), "at");
        // Without the old key, its values name a key this server does not have.
        let dropped = TokenCipher::new(&[2u8; 32]).unwrap();
        assert_eq!(
            dropped
                .open(old.key_id(), &sealed, identity("a"))
                .unwrap_err(),
            CryptoError::UnknownKey(old.key_id().to_string())
        );
    }

    #[test]
    fn the_key_id_is_an_hmac_and_rows_under_the_legacy_id_still_open() {
        let cipher = TokenCipher::new(&[3u8; 32]).unwrap();
        assert_eq!(cipher.key_id().len(), 16);
        let sealed = cipher.seal(&SecretString::from("at"), identity("a"));
        // Rows written before rotation existed carry the GCM key check value as their id.
        let legacy = &cipher.current.legacy_id;
        assert_eq!(legacy.len(), 8);
        assert_ne!(legacy, cipher.key_id());
        assert_eq!(
            cipher
                .open(legacy, &sealed, identity("a"))
                .unwrap()
                .expose_secret(),
            "at"
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
