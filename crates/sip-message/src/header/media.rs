//! Media types and negotiation headers: Content-Type, Accept, Accept-Encoding,
//! Accept-Language, Content-Disposition.

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::addr::parse_qvalue;
use super::params::{scan_params, write_params_with};
use super::{Params, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{self, Cursor, Span};
use crate::name::HeaderName;

/// A media type with parameters: `application/sdp`, `multipart/mixed;boundary=xyz`.
/// Type, subtype and parameter names compare without regard to case.
#[derive(Clone)]
pub struct MediaType {
    text: Bytes,
    kind: Span,
    subtype: Span,
    params: Span,
}

impl MediaType {
    /// `type/subtype` without parameters; both must be tokens.
    pub fn new(kind: &str, subtype: &str) -> Result<Self, DecodeError> {
        if !lex::is_token(kind.as_bytes()) || !lex::is_token(subtype.as_bytes()) {
            return Err(DecodeError::new("media type and subtype must be tokens", 0));
        }
        let text = Bytes::from(format!("{kind}/{subtype}"));
        let len = text.len();
        Ok(Self {
            text,
            kind: Span::of(0..kind.len()),
            subtype: Span::of(kind.len() + 1..len),
            params: Span::of(len..len),
        })
    }

    /// `application/sdp`.
    pub fn application_sdp() -> Self {
        Self {
            text: Bytes::from_static(b"application/sdp"),
            kind: Span::of(0..11),
            subtype: Span::of(12..15),
            params: Span::of(15..15),
        }
    }

    fn scan(c: &mut Cursor<'_>, src: &Bytes, values_required: bool) -> Result<Self, DecodeError> {
        let kind = c.expect_token("expected a media type")?;
        c.expect_sep(b'/', "expected '/' in the media type")?;
        let subtype = c.expect_token("expected a media subtype")?;
        let params = scan_params(c)?;
        if values_required && Params::new(params.of_text(src)).iter().any(|p| p.value.is_none()) {
            return Err(DecodeError::new("media type parameter without a value", params.start as usize));
        }
        Ok(Self { text: src.clone(), kind: Span::of(kind), subtype: Span::of(subtype), params })
    }

    /// The type (`application`).
    pub fn kind(&self) -> &str {
        lex::ascii(self.kind.of_text(&self.text))
    }

    /// The subtype (`sdp`).
    pub fn subtype(&self) -> &str {
        lex::ascii(self.subtype.of_text(&self.text))
    }

    /// The parameters.
    pub fn params(&self) -> Params<'_> {
        Params::new(self.params.of_text(&self.text))
    }

    /// Whether this is `kind/subtype`, ignoring case and parameters.
    pub fn is(&self, kind: &str, subtype: &str) -> bool {
        self.kind().eq_ignore_ascii_case(kind) && self.subtype().eq_ignore_ascii_case(subtype)
    }

    /// Whether this is a `multipart/*` type.
    pub fn is_multipart(&self) -> bool {
        self.kind().eq_ignore_ascii_case("multipart")
    }

    /// The `boundary` parameter of a multipart type, unquoted.
    pub fn boundary(&self) -> Option<Cow<'_, [u8]>> {
        self.params().value("boundary")
    }

    /// The same type with a parameter set (a token or a quoted string with its quotes).
    pub fn with_param(&self, name: &str, value: &str) -> Result<Self, DecodeError> {
        let mut out = BytesMut::with_capacity(self.text.len() + name.len() + value.len() + 2);
        out.put_slice(&self.text[..self.params.start as usize]);
        write_params_with(&mut out, self.params.of_text(&self.text), name, Some(value))?;
        let text = out.freeze();
        decode_all(&text, |c| Self::scan(c, &text, true))
    }

    /// The media type as written.
    pub fn as_bytes(&self) -> &Bytes {
        &self.text
    }

    /// Writes `type/subtype;params` as written.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }
}

impl PartialEq for MediaType {
    fn eq(&self, other: &Self) -> bool {
        self.is(other.kind(), other.subtype()) && self.params() == other.params()
    }
}

impl Eq for MediaType {}

impl fmt::Debug for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaType({})", String::from_utf8_lossy(&self.text))
    }
}

impl PartialEq<(&str, &str)> for MediaType {
    fn eq(&self, other: &(&str, &str)) -> bool {
        self.is(other.0, other.1)
    }
}

/// `Content-Type` (§20.15): the media type of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType(pub MediaType);

impl TypedHeader for ContentType {
    const NAME: HeaderName = HeaderName::CONTENT_TYPE;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| MediaType::scan(c, value, true)).map(Self)
    }

    fn encode(&self, out: &mut BytesMut) {
        self.0.encode(out);
    }
}

fn check_q(params: Params<'_>, at: Span) -> Result<(), DecodeError> {
    match params.get("q") {
        Some(q) if q.value.and_then(parse_qvalue).is_none() => {
            Err(DecodeError::new("invalid q value", at.start as usize))
        }
        _ => Ok(()),
    }
}

fn q_of(params: Params<'_>) -> u16 {
    params.get("q").and_then(|q| q.value).and_then(parse_qvalue).unwrap_or(1000)
}

/// `Accept` (§20.1): one media range the sender accepts (`*/*`, `text/*`, `application/sdp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept(pub MediaType);

impl Accept {
    /// Whether this range accepts `kind/subtype`.
    pub fn accepts(&self, kind: &str, subtype: &str) -> bool {
        let t = &self.0;
        (t.kind() == "*" || t.kind().eq_ignore_ascii_case(kind))
            && (t.subtype() == "*" || t.subtype().eq_ignore_ascii_case(subtype))
    }

    /// The `q` value in thousandths (1000 when absent).
    pub fn q(&self) -> u16 {
        q_of(self.0.params())
    }
}

impl TypedHeader for Accept {
    const NAME: HeaderName = HeaderName::ACCEPT;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        let t = decode_all(value, |c| MediaType::scan(c, value, false))?;
        check_q(t.params(), t.params)?;
        Ok(Self(t))
    }

    fn encode(&self, out: &mut BytesMut) {
        self.0.encode(out);
    }
}

fn language_range(t: &[u8]) -> bool {
    t == b"*" || t.split(|&b| b == b'-').all(|p| !p.is_empty() && p.len() <= 8 && p.iter().all(u8::is_ascii_alphabetic))
}

token_params_header!(
    /// `Accept-Encoding` (§20.2): one content coding the sender accepts, or `*`.
    AcceptEncoding, ACCEPT_ENCODING, coding, "The content coding, or `*`.", "expected a content coding"
);
token_params_header!(
    /// `Accept-Language` (§20.3): one language range the sender prefers, or `*`.
    AcceptLanguage, ACCEPT_LANGUAGE, range, "The language range, or `*`.", "expected a language range"
);
token_params_header!(
    /// `Content-Disposition` (§20.11): how to treat the body (`session`, `render`, `icon`,
    /// `alert`, ...), with `handling=optional|required`.
    ContentDisposition, CONTENT_DISPOSITION, disposition, "The disposition type.", "expected a disposition type"
);

impl AcceptEncoding {
    /// The `q` value in thousandths (1000 when absent).
    pub fn q(&self) -> u16 {
        q_of(self.params())
    }

    fn check(&self) -> Result<(), DecodeError> {
        check_q(self.params(), self.params)
    }
}

impl AcceptLanguage {
    /// The `q` value in thousandths (1000 when absent).
    pub fn q(&self) -> u16 {
        q_of(self.params())
    }

    fn check(&self) -> Result<(), DecodeError> {
        if !language_range(self.range().as_bytes()) {
            return Err(DecodeError::new("invalid language range", 0));
        }
        check_q(self.params(), self.params)
    }
}

impl ContentDisposition {
    fn check(&self) -> Result<(), DecodeError> {
        Ok(())
    }

    /// Whether `handling=optional` was given (the default is required).
    pub fn is_optional(&self) -> bool {
        self.params().get("handling").and_then(|h| h.token()).is_some_and(|h| h.eq_ignore_ascii_case("optional"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn content_type() {
        let t = ContentType::decode(&b("multipart/mixed ; boundary=\"unique-boundary-1\"")).unwrap();
        assert!(t.0.is("Multipart", "MIXED"));
        assert_eq!(t.0.boundary().unwrap().as_ref(), b"unique-boundary-1");
        assert!(ContentType::decode(&b("application")).is_err());
        assert!(ContentType::decode(&b("text/plain;charset")).is_err());
        assert_eq!(MediaType::application_sdp(), ("application", "sdp"));
        assert_eq!(MediaType::application_sdp(), MediaType::new("Application", "SDP").unwrap());
        let m = MediaType::new("text", "plain").unwrap().with_param("charset", "utf-8").unwrap();
        assert_eq!(m.as_bytes().as_ref(), b"text/plain;charset=utf-8");
    }

    #[test]
    fn accept() {
        let a = Accept::decode(&b("text/*;q=0.5")).unwrap();
        assert!(a.accepts("text", "html") && !a.accepts("application", "sdp"));
        assert_eq!(a.q(), 500);
        assert!(Accept::decode(&b("*/*")).unwrap().accepts("x", "y"));
        assert!(Accept::decode(&b("text/*;q=2")).is_err());
        assert_eq!(AcceptEncoding::decode(&b("gzip;q=0.1")).unwrap().q(), 100);
        assert_eq!(AcceptLanguage::decode(&b("da")).unwrap().range(), "da");
        assert!(AcceptLanguage::decode(&b("en-gb;q=0.8")).is_ok());
        assert!(AcceptLanguage::decode(&b("1en")).is_err());
        let d = ContentDisposition::decode(&b("session;handling=optional")).unwrap();
        assert!(d.is_optional());
        assert_eq!(d.disposition(), "session");
    }
}
