//! Reading environment variables, and the parsers every setting shares.

use std::net::SocketAddr;

use url::Url;

use super::ConfigError;

/// Reads environment variables; tests pass a map instead of the process environment.
pub trait VarSource {
    /// The value of `name`, if set and not blank.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment (after `.env` has been loaded into it).
pub struct ProcessEnv;

impl VarSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<const N: usize> VarSource for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.trim().is_empty())
    }
}

/// Parses an http(s) URL from a variable.
pub(crate) fn parse_http_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let invalid = || ConfigError::InvalidUrl {
        var,
        value: value.to_string(),
    };
    let url = Url::parse(value.trim()).map_err(|_| invalid())?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        _ => Err(invalid()),
    }
}

/// A whole number above zero from `var`, or `default` when it is unset.
pub(crate) fn positive_count<T>(
    env: &impl VarSource,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    match env.var(var) {
        Some(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > T::from(0))
            .ok_or(ConfigError::InvalidCount { var, value }),
        None => Ok(default),
    }
}

/// `true` or `false` from `var` (any case), `false` when it is unset.
pub(crate) fn flag(env: &impl VarSource, var: &'static str) -> Result<bool, ConfigError> {
    match env.var(var) {
        None => Ok(false),
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(ConfigError::InvalidFlag { var, value }),
        },
    }
}

/// Parses a socket address from a variable.
pub(crate) fn parse_addr(var: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::InvalidAddr {
        var,
        value: value.to_string(),
    })
}
