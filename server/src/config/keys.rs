//! The app's keys (`SESSION_KEY`, `TOKEN_KEY`): read from the environment, or generated once
//! into `DATA_DIR` (mode 0600) outside production.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::{ExposeSecret, SecretBox};

use super::{ConfigError, MeshEnvironment, VarSource};

/// A symmetric key read from the environment or generated into `DATA_DIR`.
pub struct KeyMaterial(SecretBox<Vec<u8>>);

impl KeyMaterial {
    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial([redacted])")
    }
}

/// Reads a base64 key from `var`; outside production a missing key is generated once into
/// `data_dir/<var lowercased>` (mode 0600) and reused, so sessions and tokens survive restarts.
pub(super) fn load_key(
    env: &impl VarSource,
    mesh_env: MeshEnvironment,
    data_dir: &Path,
    var: &'static str,
    len: usize,
) -> Result<KeyMaterial, ConfigError> {
    if let Some(value) = env.var(var) {
        return decode_key(&value, var, len);
    }
    if mesh_env == MeshEnvironment::Production {
        return Err(ConfigError::KeyRequiredInProduction { var, len });
    }
    let path = data_dir.join(var.to_lowercase());
    let data_dir_error = |path: &Path, err: std::io::Error| ConfigError::DataDir {
        path: path.display().to_string(),
        reason: err.to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(stored) => decode_key(&stored, var, len),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir(data_dir).map_err(|e| data_dir_error(data_dir, e))?;
            let mut bytes = vec![0u8; len];
            rand::fill(bytes.as_mut_slice());
            write_private_file(&path, BASE64.encode(&bytes).as_bytes())
                .map_err(|e| data_dir_error(&path, e))?;
            Ok(KeyMaterial(SecretBox::new(Box::new(bytes))))
        }
        Err(err) => Err(data_dir_error(&path, err)),
    }
}

pub(super) fn decode_key(
    value: &str,
    var: &'static str,
    len: usize,
) -> Result<KeyMaterial, ConfigError> {
    match BASE64.decode(value.trim()) {
        Ok(bytes) if bytes.len() == len => Ok(KeyMaterial(SecretBox::new(Box::new(bytes)))),
        _ => Err(ConfigError::InvalidKey { var, len }),
    }
}

/// Creates `dir` (and its parents) readable by its owner only, if missing: it holds the keys
/// and the default database.
pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates `path` readable by its owner only; fails if it already exists, so a key is never
/// overwritten.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
