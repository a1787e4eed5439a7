//! Validated text pieces of a description: [`Text`] (a `byte-string`) and [`Token`].
//!
//! Every field of the model is one of these (or a number), so whatever a program puts in a
//! description serializes into valid lines: no CR, LF or NUL can break a line.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

use crate::error::TextError;

/// `token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E` (RFC 8866 §9).
#[inline]
pub(crate) fn is_token_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E)
}

/// Whether `s` is a non-empty token.
#[inline]
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_char(b))
}

/// `byte-string = 1*(%x01-09/%x0B-0C/%x0E-FF)`, allowing empty.
#[inline]
pub(crate) fn is_text(s: &[u8]) -> bool {
    !s.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n')
}

/// A `byte-string`: any bytes but NUL, CR and LF (possibly empty). Usually UTF-8 text.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Bytes);

impl Text {
    /// Checks `value` and wraps it.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, TextError> {
        let value = value.into();
        if is_text(&value) { Ok(Self(value)) } else { Err(TextError::LineBreak) }
    }

    /// Text from a static string; panics (a programming error) on NUL, CR or LF.
    pub fn from_static(value: &'static str) -> Self {
        assert!(is_text(value.as_bytes()), "SDP text may not hold NUL, CR or LF");
        Self(Bytes::from_static(value.as_bytes()))
    }

    /// Wraps bytes the parser checked.
    pub(crate) fn trusted(value: Bytes) -> Self {
        Self(value)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The text, with invalid UTF-8 read as empty (use [`Text::as_bytes`] for raw bytes).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for Text {
    type Err = TextError;

    fn from_str(s: &str) -> Result<Self, TextError> {
        Self::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// A `token` (RFC 8866 §9): a media type, a protocol part, a format, an attribute name...
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(Bytes);

impl Token {
    /// Checks `value` and wraps it.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, TextError> {
        let value = value.into();
        if is_token(&value) { Ok(Self(value)) } else { Err(TextError::NotAToken) }
    }

    /// A token from a static string; panics (a programming error) if it is not a token.
    pub fn from_static(value: &'static str) -> Self {
        assert!(is_token(value.as_bytes()), "not an SDP token");
        Self(Bytes::from_static(value.as_bytes()))
    }

    /// Wraps bytes the parser checked.
    pub(crate) fn trusted(value: Bytes) -> Self {
        Self(value)
    }

    /// The token (always ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Whether this token equals `other` without regard to ASCII case.
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }
}

impl FromStr for Token {
    type Err = TextError;

    fn from_str(s: &str) -> Result<Self, TextError> {
        Self::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl PartialEq<str> for Token {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Token {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number's decimal digits, written without the formatting machinery or an allocation.
pub(crate) struct Decimal {
    bytes: [u8; 20],
    start: usize,
}

impl Decimal {
    pub(crate) fn new(mut n: u64) -> Self {
        let mut bytes = [0u8; 20];
        let mut i = bytes.len();
        loop {
            i -= 1;
            bytes[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self { bytes, start: i }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    pub(crate) fn as_str(&self) -> &str {
        // Digits only: always ASCII.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(Text::new("hello world é").is_ok());
        assert!(Text::new("").is_ok());
        assert!(Text::new("a\r\nm=audio").is_err());
        assert!(Text::new(&b"a\0b"[..]).is_err());
        assert!(Token::new("RTP/AVP").is_err());
        assert!(Token::new("telephone-event").is_ok());
        assert!(Token::new("").is_err());
        assert!(Token::new("a b").is_err());
        assert_eq!(Token::from_static("IN"), "IN");
        assert!(Token::from_static("PCMU").eq_ignore_case("pcmu"));
    }
}
