//! Headers with numeric values: CSeq, Max-Forwards, Content-Length, Expires, Min-Expires,
//! RSeq, RAck, Session-Expires, Min-SE, Timestamp, MIME-Version, Retry-After.

use bytes::{BufMut, Bytes, BytesMut};

use super::params::scan_params;
use super::{Params, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{self, Cursor, Span};
use crate::method::Method;
use crate::name::HeaderName;

/// The largest CSeq sequence number: §8.1.1.5 requires it to be below 2^31.
pub const MAX_CSEQ: u32 = (1 << 31) - 1;

fn digits_u32(c: &mut Cursor<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let r = c.take_while(lex::DIGIT);
    lex::parse_u32(&c.buf[r.clone()]).ok_or(DecodeError::new(what, r.start))
}

/// Decodes a `Content-Length` value where no `Bytes` is at hand (a stream framer's head).
pub(crate) fn decode_content_length(value: &[u8]) -> Result<u32, DecodeError> {
    decode_all(value, |c| digits_u32(c, "Content-Length must be 1*DIGIT"))
}

fn put_u32(out: &mut BytesMut, v: u32) {
    lex::put_decimal(out, v);
}

/// `CSeq` (§20.16): the sequence number and method of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number, below 2^31.
    pub seq: u32,
    /// The method, equal to the request's.
    pub method: Method,
}

impl CSeq {
    /// A CSeq; `seq` must be at most [`MAX_CSEQ`].
    pub fn new(seq: u32, method: Method) -> Result<Self, DecodeError> {
        if seq > MAX_CSEQ {
            return Err(DecodeError::new("CSeq number must be below 2^31", 0));
        }
        Ok(Self { seq, method })
    }
}

impl TypedHeader for CSeq {
    const NAME: HeaderName = HeaderName::CSEQ;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let seq = digits_u32(c, "CSeq number must be 1*DIGIT below 2^31")?;
            if seq > MAX_CSEQ {
                return Err(DecodeError::new("CSeq number must be below 2^31", 0));
            }
            if !c.skip_sws() {
                return Err(c.error("expected white space before the CSeq method"));
            }
            let m = c.expect_token("expected the CSeq method")?;
            Ok(Self { seq, method: Method::from_slice(value, m) })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        put_u32(out, self.seq);
        out.put_u8(b' ');
        out.put_slice(self.method.as_bytes());
    }
}

macro_rules! integer_header {
    ($(#[$doc:meta])* $ty:ident($int:ty), $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub $int);

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                decode_all(value, |c| {
                    let v = digits_u32(c, $what)?;
                    <$int>::try_from(v)
                        .map(Self)
                        .map_err(|_| DecodeError::new($what, 0))
                })
            }

            fn encode(&self, out: &mut BytesMut) {
                put_u32(out, u32::from(self.0));
            }
        }
    };
}

integer_header!(
    /// `Max-Forwards` (§20.22): hops left before the request is refused with 483.
    MaxForwards(u8), MAX_FORWARDS, "Max-Forwards must be 0-255"
);
integer_header!(
    /// `Content-Length` (§20.14): the size of the body in octets.
    ContentLength(u32), CONTENT_LENGTH, "Content-Length must be 1*DIGIT"
);
integer_header!(
    /// `Expires` (§20.19): seconds until a registration or subscription ends.
    Expires(u32), EXPIRES, "Expires must be delta-seconds below 2^32"
);
integer_header!(
    /// `Min-Expires` (§20.23): the shortest registration interval a registrar accepts (423).
    MinExpires(u32), MIN_EXPIRES, "Min-Expires must be delta-seconds below 2^32"
);
integer_header!(
    /// `RSeq` (RFC 3262): the sequence number of a reliable provisional response.
    RSeq(u32), RSEQ, "RSeq must be 1*DIGIT below 2^32"
);

/// `RAck` (RFC 3262): which reliable provisional response a PRACK acknowledges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RAck {
    /// The RSeq of the acknowledged response.
    pub rseq: u32,
    /// The CSeq number of the request it answered.
    pub cseq: u32,
    /// The CSeq method of the request it answered.
    pub method: Method,
}

impl TypedHeader for RAck {
    const NAME: HeaderName = HeaderName::RACK;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let rseq = digits_u32(c, "invalid RAck response number")?;
            if !c.skip_sws() {
                return Err(c.error("expected white space in RAck"));
            }
            let cseq = digits_u32(c, "invalid RAck CSeq number")?;
            if !c.skip_sws() {
                return Err(c.error("expected white space in RAck"));
            }
            let m = c.expect_token("expected the RAck method")?;
            Ok(Self { rseq, cseq, method: Method::from_slice(value, m) })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        put_u32(out, self.rseq);
        out.put_u8(b' ');
        put_u32(out, self.cseq);
        out.put_u8(b' ');
        out.put_slice(self.method.as_bytes());
    }
}

/// Which side refreshes a session (RFC 4028 `refresher`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// The UAC refreshes.
    Uac,
    /// The UAS refreshes.
    Uas,
}

/// `Session-Expires` (RFC 4028): the session interval and who refreshes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionExpires {
    /// The session interval in seconds.
    pub interval: u32,
    text: Bytes,
    params: Span,
}

impl SessionExpires {
    /// `interval` with an optional refresher.
    pub fn new(interval: u32, refresher: Option<Refresher>) -> Self {
        let mut text = BytesMut::with_capacity(24);
        lex::put_decimal(&mut text, interval);
        let digits = text.len();
        if let Some(r) = refresher {
            text.put_slice(match r {
                Refresher::Uac => b";refresher=uac",
                Refresher::Uas => b";refresher=uas",
            });
        }
        let len = text.len();
        Self { interval, text: text.freeze(), params: Span::of(digits..len) }
    }

    /// The parameters, `refresher` included.
    pub fn params(&self) -> Params<'_> {
        Params::new(self.params.of_text(&self.text))
    }

    /// The `refresher` parameter.
    pub fn refresher(&self) -> Option<Refresher> {
        refresher_of(self.params().get("refresher")?)
    }
}

/// The side a `refresher` parameter names; `None` for any other value.
fn refresher_of(p: super::Param<'_>) -> Option<Refresher> {
    let v = p.token()?;
    if v.eq_ignore_ascii_case("uac") {
        Some(Refresher::Uac)
    } else if v.eq_ignore_ascii_case("uas") {
        Some(Refresher::Uas)
    } else {
        None
    }
}

fn decode_interval(value: &Bytes, what: &'static str) -> Result<(u32, Span), DecodeError> {
    decode_all(value, |c| {
        let v = digits_u32(c, what)?;
        let params = scan_params(c)?;
        Ok((v, params))
    })
}

impl TypedHeader for SessionExpires {
    const NAME: HeaderName = HeaderName::SESSION_EXPIRES;
    // The text is private: `new` writes it from numbers, or decoding checked it.
    const WRITES_VALID: bool = true;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        let (interval, params) = decode_interval(value, "Session-Expires must be delta-seconds")?;
        let s = Self { interval, text: value.clone(), params };
        if s.params().get("refresher").is_some_and(|p| refresher_of(p).is_none()) {
            return Err(DecodeError::new("refresher must be uac or uas", params.start as usize));
        }
        Ok(s)
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }
}

/// `Min-SE` (RFC 4028): the smallest session interval an element accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinSe {
    /// The interval in seconds.
    pub interval: u32,
    text: Bytes,
    params: Span,
}

impl MinSe {
    /// `interval` without parameters.
    pub fn new(interval: u32) -> Self {
        let mut text = BytesMut::with_capacity(10);
        lex::put_decimal(&mut text, interval);
        let text = text.freeze();
        let len = text.len();
        Self { interval, text, params: Span::of(len..len) }
    }

    /// Extension parameters.
    pub fn params(&self) -> Params<'_> {
        Params::new(self.params.of_text(&self.text))
    }
}

impl TypedHeader for MinSe {
    const NAME: HeaderName = HeaderName::MIN_SE;
    // The text is private: `new` writes it from numbers, or decoding checked it.
    const WRITES_VALID: bool = true;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        let (interval, params) = decode_interval(value, "Min-SE must be delta-seconds")?;
        Ok(Self { interval, text: value.clone(), params })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }
}

/// `Timestamp` (§20.38): when the request was sent, echoed with the delay in responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// The time value as written (`1*DIGIT [ "." *DIGIT ]`).
    pub value: Bytes,
    /// The delay as written, if any.
    pub delay: Option<Bytes>,
}

fn scan_decimal(c: &mut Cursor<'_>, need_digit: bool) -> Option<std::ops::Range<usize>> {
    let start = c.pos;
    let int = c.take_while(lex::DIGIT);
    if need_digit && int.is_empty() {
        return None;
    }
    if c.eat(b'.') {
        c.take_while(lex::DIGIT);
    }
    Some(start..c.pos)
}

impl TypedHeader for Timestamp {
    const NAME: HeaderName = HeaderName::TIMESTAMP;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let v = scan_decimal(c, true).ok_or(c.error("invalid Timestamp"))?;
            let mut delay = None;
            let save = c.pos;
            if c.skip_sws() {
                match scan_decimal(c, false) {
                    Some(d) if !d.is_empty() => delay = Some(value.slice(d)),
                    _ => c.pos = save,
                }
            }
            Ok(Self { value: value.slice(v), delay })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.value);
        if let Some(d) = &self.delay {
            out.put_u8(b' ');
            out.put_slice(d);
        }
    }
}

/// `MIME-Version` (§20.24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl TypedHeader for MimeVersion {
    const NAME: HeaderName = HeaderName::MIME_VERSION;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let major = digits_u32(c, "invalid MIME-Version")?;
            if !c.eat(b'.') {
                return Err(c.error("expected '.' in MIME-Version"));
            }
            let minor = digits_u32(c, "invalid MIME-Version")?;
            Ok(Self { major, minor })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        put_u32(out, self.major);
        out.put_u8(b'.');
        put_u32(out, self.minor);
    }
}

/// `Retry-After` (§20.33): when to try again, with an optional comment and duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// Seconds to wait.
    pub seconds: u32,
    text: Bytes,
    comment: Span,
    params: Span,
}

impl RetryAfter {
    /// The comment as written, with its parentheses.
    pub fn comment(&self) -> Option<&[u8]> {
        self.comment.get(&self.text)
    }

    /// The parameters (`duration`, ...).
    pub fn params(&self) -> Params<'_> {
        Params::new(self.params.of_text(&self.text))
    }

    /// The `duration` parameter.
    pub fn duration(&self) -> Option<u32> {
        self.params().get("duration")?.value.and_then(lex::parse_u32)
    }
}

impl TypedHeader for RetryAfter {
    const NAME: HeaderName = HeaderName::RETRY_AFTER;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let seconds = digits_u32(c, "Retry-After must be delta-seconds below 2^32")?;
            let save = c.pos;
            c.skip_sws();
            let comment = if c.peek() == Some(b'(') {
                Span::of(c.comment()?)
            } else {
                c.pos = save;
                Span::NONE
            };
            let params = scan_params(c)?;
            let r = Self { seconds, text: value.clone(), comment, params };
            if r.params().contains("duration") && r.duration().is_none() {
                return Err(DecodeError::new("invalid duration", params.start as usize));
            }
            Ok(r)
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    /// Session-Expires and Min-SE write their numbers as the decoder reads them, so a field
    /// made of one needs no second decode; a refresher other than uac or uas is refused.
    #[test]
    fn session_timer_values_write_what_decodes() {
        for (interval, refresher, text) in [
            (1800, Some(Refresher::Uac), "1800;refresher=uac"),
            (90, Some(Refresher::Uas), "90;refresher=uas"),
            (u32::MAX, None, "4294967295"),
            (0, None, "0"),
        ] {
            let se = SessionExpires::new(interval, refresher);
            assert_eq!(se.to_bytes(), text);
            let again = SessionExpires::decode(&se.to_bytes()).unwrap();
            assert_eq!((again.interval, again.refresher()), (interval, refresher));
            assert!(again.params().get("refresher").is_some() == refresher.is_some());
            let min = MinSe::new(interval);
            assert_eq!(MinSe::decode(&min.to_bytes()).unwrap().interval, interval);
        }
        assert!(SessionExpires::decode(&b("1800;refresher=proxy")).is_err());
        assert!(SessionExpires::decode(&b("1800;refresher")).is_err());
        assert_eq!(SessionExpires::decode(&b("1800;REFRESHER=UAS;x")).unwrap().refresher(), Some(Refresher::Uas));
    }

    #[test]
    fn cseq() {
        let c = CSeq::decode(&b("0009\r\n  INVITE")).unwrap();
        assert_eq!((c.seq, c.method), (9, Method::INVITE));
        assert!(CSeq::decode(&b("2147483648 INVITE")).is_err());
        assert!(CSeq::decode(&b("2147483647 INVITE")).is_ok());
        assert!(CSeq::decode(&b("36893488147419103232 REGISTER")).is_err());
        assert!(CSeq::decode(&b("1INVITE")).is_err());
        assert!(CSeq::decode(&b("1 INVITE x")).is_err());
        assert!(CSeq::new(MAX_CSEQ + 1, Method::BYE).is_err());
        assert_eq!(CSeq::new(4, Method::BYE).unwrap().to_bytes().as_ref(), b"4 BYE");
    }

    #[test]
    fn integers() {
        assert_eq!(MaxForwards::decode(&b("0068")).unwrap(), MaxForwards(68));
        assert!(MaxForwards::decode(&b("256")).is_err());
        assert!(ContentLength::decode(&b("-999")).is_err());
        assert!(ContentLength::decode(&b("")).is_err());
        assert!(Expires::decode(&b("10000000000000000000000")).is_err());
        assert_eq!(Expires::decode(&b("4294967295")).unwrap(), Expires(u32::MAX));
    }

    #[test]
    fn rack_session_timers_timestamp() {
        let r = RAck::decode(&b("776656 1 INVITE")).unwrap();
        assert_eq!((r.rseq, r.cseq, r.method), (776656, 1, Method::INVITE));
        let s = SessionExpires::decode(&b("1800;refresher=uas")).unwrap();
        assert_eq!((s.interval, s.refresher()), (1800, Some(Refresher::Uas)));
        assert!(SessionExpires::decode(&b("1800;refresher=both")).is_err());
        assert_eq!(MinSe::decode(&b("90")).unwrap().interval, 90);
        assert_eq!(SessionExpires::new(90, Some(Refresher::Uac)).to_bytes().as_ref(), b"90;refresher=uac");
        assert_eq!(SessionExpires::new(90, Some(Refresher::Uac)).refresher(), Some(Refresher::Uac));
        assert_eq!(MinSe::new(90), MinSe::decode(&b("90")).unwrap());
        let t = Timestamp::decode(&b("54.21 0.3")).unwrap();
        assert_eq!(t.delay.unwrap().as_ref(), b"0.3");
        assert!(Timestamp::decode(&b(".5")).is_err());
        assert_eq!(MimeVersion::decode(&b("1.0")).unwrap(), MimeVersion { major: 1, minor: 0 });
    }

    #[test]
    fn retry_after() {
        let r = RetryAfter::decode(&b("18000;duration=3600")).unwrap();
        assert_eq!((r.seconds, r.duration()), (18000, Some(3600)));
        let r = RetryAfter::decode(&b("120 (I'm in a meeting (really))")).unwrap();
        assert_eq!(r.comment().unwrap(), b"(I'm in a meeting (really))");
        assert!(RetryAfter::decode(&b("949302838503028349304023988")).is_err());
        assert!(RetryAfter::decode(&b("1 (open")).is_err());
    }
}
