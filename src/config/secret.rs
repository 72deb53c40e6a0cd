//! A string that must never be shown: bot tokens, passwords, client secrets, JWT keys.
//!
//! `Debug`, `Display` and `Serialize` print a mask, so a secret cannot leak through a log
//! line, an error message or `xmeet config`. The only way to the value is [`Secret::expose`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

pub const MASK: &str = "********";

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that needs it (an HTTP header, a hash check).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn shown(&self) -> &'static str {
        if self.0.is_empty() { "" } else { MASK }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?})", self.shown())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.shown())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A token or password may be written as a bare number in TOML: take it as text.
        super::de::string_or_scalar(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s}"), MASK);
        assert!(!format!("{s:?}").contains("hunter2"));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{MASK}\""));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn empty_secret_shows_as_unset() {
        assert_eq!(format!("{}", Secret::default()), "");
    }

    #[test]
    fn numeric_toml_value_is_text() {
        #[derive(Deserialize)]
        struct T {
            s: Secret,
        }
        let t: T = toml::from_str("s = 12345").unwrap();
        assert_eq!(t.s.expose(), "12345");
    }
}
