//! Mesh's amounts as exact decimals. Mesh sends money as JSON numbers (`double` in its spec);
//! reading them through `f64` would round `0.1 + 0.2` and large balances. Each amount is read
//! from its JSON text instead (serde_json's `RawValue`), so what Mesh wrote is what we hold.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// An exact amount of money or of an asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(pub Decimal);

impl Amount {
    /// Zero.
    pub const ZERO: Self = Self(Decimal::ZERO);
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        // A number's text, or a string holding one (some integrations quote their amounts).
        let text = raw.get().trim_matches('"');
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map(Self)
            .map_err(|_| D::Error::custom(format!("not an amount: {}", raw.get())))
    }
}

impl Serialize for Amount {
    /// Written as a JSON number (the emulator and tests send what Mesh sends).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let number = serde_json::Number::from_str(&self.0.normalize().to_string())
            .map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        amount: Option<Amount>,
    }

    fn read(json: &str) -> Option<Amount> {
        serde_json::from_str::<Holder>(json).unwrap().amount
    }

    #[test]
    fn amounts_keep_every_digit_mesh_wrote() {
        assert_eq!(
            read(r#"{"amount": 12480312.55}"#),
            Some(Amount(Decimal::from_str("12480312.55").unwrap()))
        );
        // Past f64's 17 significant digits.
        assert_eq!(
            read(r#"{"amount": 1234567890.123456789}"#)
                .unwrap()
                .0
                .to_string(),
            "1234567890.123456789"
        );
        assert_eq!(
            read(r#"{"amount": 1e-8}"#).unwrap().0.to_string(),
            "0.00000001"
        );
        assert_eq!(
            read(r#"{"amount": "42.10"}"#).unwrap().0.to_string(),
            "42.10"
        );
        assert_eq!(read(r#"{"amount": null}"#), None);
        assert!(serde_json::from_str::<Holder>(r#"{"amount": true}"#).is_err());
    }

    #[test]
    fn sums_are_exact() {
        let a = read(r#"{"amount": 0.1}"#).unwrap().0;
        let b = read(r#"{"amount": 0.2}"#).unwrap().0;
        assert_eq!((a + b).to_string(), "0.3");
    }
}
