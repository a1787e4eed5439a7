//! Request methods: the ones of RFC 3261 and its extensions, and any extension token.

use std::fmt;

use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Standard {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Prack,
    Subscribe,
    Notify,
    Publish,
    Info,
    Refer,
    Message,
    Update,
}

impl Standard {
    #[cfg(test)]
    const ALL: [Self; 14] = [
        Self::Invite,
        Self::Ack,
        Self::Bye,
        Self::Cancel,
        Self::Options,
        Self::Register,
        Self::Prack,
        Self::Subscribe,
        Self::Notify,
        Self::Publish,
        Self::Info,
        Self::Refer,
        Self::Message,
        Self::Update,
    ];

    const fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Options => "OPTIONS",
            Self::Register => "REGISTER",
            Self::Prack => "PRACK",
            Self::Subscribe => "SUBSCRIBE",
            Self::Notify => "NOTIFY",
            Self::Publish => "PUBLISH",
            Self::Info => "INFO",
            Self::Refer => "REFER",
            Self::Message => "MESSAGE",
            Self::Update => "UPDATE",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Standard(Standard),
    Extension(Bytes),
}

/// A SIP method. Methods are case-sensitive tokens (§7.1): `INVITE` is a method this crate
/// knows, `invite` or `RE%47IST%45R` are extension methods.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Method(Repr);

impl Method {
    /// INVITE (RFC 3261).
    pub const INVITE: Self = Self(Repr::Standard(Standard::Invite));
    /// ACK (RFC 3261).
    pub const ACK: Self = Self(Repr::Standard(Standard::Ack));
    /// BYE (RFC 3261).
    pub const BYE: Self = Self(Repr::Standard(Standard::Bye));
    /// CANCEL (RFC 3261).
    pub const CANCEL: Self = Self(Repr::Standard(Standard::Cancel));
    /// OPTIONS (RFC 3261).
    pub const OPTIONS: Self = Self(Repr::Standard(Standard::Options));
    /// REGISTER (RFC 3261).
    pub const REGISTER: Self = Self(Repr::Standard(Standard::Register));
    /// PRACK (RFC 3262).
    pub const PRACK: Self = Self(Repr::Standard(Standard::Prack));
    /// SUBSCRIBE (RFC 6665).
    pub const SUBSCRIBE: Self = Self(Repr::Standard(Standard::Subscribe));
    /// NOTIFY (RFC 6665).
    pub const NOTIFY: Self = Self(Repr::Standard(Standard::Notify));
    /// PUBLISH (RFC 3903).
    pub const PUBLISH: Self = Self(Repr::Standard(Standard::Publish));
    /// INFO (RFC 6086).
    pub const INFO: Self = Self(Repr::Standard(Standard::Info));
    /// REFER (RFC 3515).
    pub const REFER: Self = Self(Repr::Standard(Standard::Refer));
    /// MESSAGE (RFC 3428).
    pub const MESSAGE: Self = Self(Repr::Standard(Standard::Message));
    /// UPDATE (RFC 3311).
    pub const UPDATE: Self = Self(Repr::Standard(Standard::Update));

    /// The method named by `token`; `None` unless `token` is a `token` (§25.1).
    pub fn from_bytes(token: Bytes) -> Option<Self> {
        if !crate::lex::is_token(&token) {
            return None;
        }
        Some(Self::from_token(token))
    }

    /// Like [`Method::from_bytes`] for text already checked to be a token.
    pub(crate) fn from_token(token: Bytes) -> Self {
        Self::standard(&token).unwrap_or(Self(Repr::Extension(token)))
    }

    /// The method at `range` of `buf`, already checked to be a token; a standard method
    /// keeps no reference to the buffer.
    pub(crate) fn from_slice(buf: &Bytes, range: std::ops::Range<usize>) -> Self {
        Self::standard(&buf[range.clone()]).unwrap_or_else(|| Self(Repr::Extension(buf.slice(range))))
    }

    fn standard(token: &[u8]) -> Option<Self> {
        let s = match token {
            b"INVITE" => Standard::Invite,
            b"ACK" => Standard::Ack,
            b"BYE" => Standard::Bye,
            b"CANCEL" => Standard::Cancel,
            b"OPTIONS" => Standard::Options,
            b"REGISTER" => Standard::Register,
            b"PRACK" => Standard::Prack,
            b"SUBSCRIBE" => Standard::Subscribe,
            b"NOTIFY" => Standard::Notify,
            b"PUBLISH" => Standard::Publish,
            b"INFO" => Standard::Info,
            b"REFER" => Standard::Refer,
            b"MESSAGE" => Standard::Message,
            b"UPDATE" => Standard::Update,
            _ => return None,
        };
        Some(Self(Repr::Standard(s)))
    }

    /// Whether `token` names this method, without building a `Method`.
    pub(crate) fn matches(&self, token: &[u8]) -> bool {
        self.as_bytes() == token
    }

    /// The method name.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Standard(s) => s.as_str(),
            // A token is ASCII.
            Repr::Extension(b) => std::str::from_utf8(b).unwrap_or(""),
        }
    }

    /// The method name as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// Whether this is an extension method this crate does not know.
    pub fn is_extension(&self) -> bool {
        matches!(self.0, Repr::Extension(_))
    }
}

impl std::str::FromStr for Method {
    type Err = crate::DecodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(Bytes::copy_from_slice(s.as_bytes()))
            .ok_or(crate::DecodeError::new("method is not a token", 0))
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive_tokens() {
        assert_eq!("INVITE".parse::<Method>().unwrap(), Method::INVITE);
        let lower: Method = "invite".parse().unwrap();
        assert!(lower.is_extension());
        assert_ne!(lower, Method::INVITE);
        let esc: Method = "RE%47IST%45R".parse().unwrap();
        assert!(esc.is_extension());
        assert_eq!(esc.as_str(), "RE%47IST%45R");
        assert!("BAD METHOD".parse::<Method>().is_err());
        assert!("".parse::<Method>().is_err());
        for s in Standard::ALL {
            let m: Method = s.as_str().parse().unwrap();
            assert!(!m.is_extension());
            assert_eq!(m.as_str(), s.as_str());
        }
    }
}
