//! URIs: SIP and SIPS (§19.1), tel (RFC 3966), and any other `absoluteURI` kept as text.
//!
//! A URI keeps its text (a slice of the received buffer) and the byte ranges of its
//! components, so it is small, cheap to decode, and writes back exactly as received.
//! Equality is the URI equality of §19.1.4 for SIP and SIPS URIs and of RFC 3966 §4 for tel.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::lex::{self, Cursor, Span};
use crate::method::Method;

/// A URI as it appears in a Request-URI or a name-addr.
#[derive(Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` or `sips:` (§19.1).
    Sip(SipUri),
    /// `tel:` (RFC 3966).
    Tel(TelUri),
    /// Any other `absoluteURI`, kept as text (`http:`, `urn:`, `isbn:`, ...).
    Absolute(AbsoluteUri),
}

impl Uri {
    /// Parses a whole URI.
    pub fn parse(text: impl Into<Bytes>) -> Result<Self, DecodeError> {
        let text = text.into();
        scan_uri(&text, 0, text.len(), UriContext::Whole).map(|(u, _)| u)
    }

    /// The SIP or SIPS URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Self::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The scheme as written.
    pub fn scheme(&self) -> &str {
        let (text, len) = match self {
            Self::Sip(u) => (&u.text, if u.secure { 4 } else { 3 }),
            Self::Tel(u) => (&u.text, 3),
            Self::Absolute(a) => (&a.text, a.scheme_len as usize),
        };
        lex::ascii(&text[..len])
    }

    /// Whether this is a `sips:` URI.
    pub fn is_secure(&self) -> bool {
        matches!(self, Self::Sip(u) if u.secure)
    }

    /// The URI as written.
    pub fn as_bytes(&self) -> &Bytes {
        match self {
            Self::Sip(u) => &u.text,
            Self::Tel(u) => &u.text,
            Self::Absolute(u) => &u.text,
        }
    }

    /// The same URI in a buffer of its own, not a slice of the message it was parsed
    /// from (which a long-lived copy would otherwise keep whole); nothing is parsed again.
    pub fn detached(&self) -> Self {
        let own = |t: &Bytes| Bytes::copy_from_slice(t);
        match self {
            Self::Sip(u) => Self::Sip(SipUri { text: own(&u.text), ..u.clone() }),
            Self::Tel(u) => Self::Tel(TelUri { text: own(&u.text), ..u.clone() }),
            Self::Absolute(u) => Self::Absolute(AbsoluteUri { text: own(&u.text), ..u.clone() }),
        }
    }

    /// The URI as text.
    pub fn as_str(&self) -> &str {
        lex::ascii(self.as_bytes())
    }

    /// Writes the URI.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.as_bytes());
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Self {
        Self::Sip(u)
    }
}

impl From<TelUri> for Uri {
    fn from(u: TelUri) -> Self {
        Self::Tel(u)
    }
}

impl FromStr for Uri {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, DecodeError> {
        Self::parse(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uri({self})")
    }
}

/// Where a URI stands, which decides where it ends and what it may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UriContext {
    /// The URI is the whole text (a Request-URI, [`Uri::parse`]).
    Whole,
    /// Inside `< >`: the URI ends at the `>`.
    Bracketed,
    /// An `addr-spec` outside `< >`: the URI ends at `;`, `,`, `?` or white space, and a
    /// `;` after it starts the header parameters (§20.10).
    Unbracketed,
}

/// Scans a URI in `src[start..limit]` and returns it with the index where it ends; in the
/// `Whole` context it must end at `limit`. Error offsets are offsets in `src`.
pub(crate) fn scan_uri(src: &Bytes, start: usize, limit: usize, ctx: UriContext) -> Result<(Uri, usize), DecodeError> {
    let t = &src[..limit];
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":"
    let colon = lex::skip_class(t, start, lex::SCHEME);
    if t.get(colon) != Some(&b':') {
        return Err(DecodeError::new("URI without a scheme", colon));
    }
    let scheme = &t[start..colon];
    if !scheme.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(DecodeError::new("invalid URI scheme", start));
    }
    let (uri, end) = if scheme.eq_ignore_ascii_case(b"sip") || scheme.eq_ignore_ascii_case(b"sips") {
        let (u, end) = SipUri::scan(src, t, start, colon + 1, ctx)?;
        (Uri::Sip(u), end)
    } else if scheme.eq_ignore_ascii_case(b"tel") {
        let (u, end) = TelUri::scan(src, t, start, colon + 1, ctx)?;
        (Uri::Tel(u), end)
    } else {
        let (u, end) = AbsoluteUri::scan(src, t, start, colon + 1, ctx)?;
        (Uri::Absolute(u), end)
    };
    if ctx == UriContext::Whole && end != limit {
        return Err(DecodeError::new("unexpected character in URI", end));
    }
    Ok((uri, end))
}

/// A span of `r` relative to `base`.
#[inline]
fn rel(r: std::ops::Range<usize>, base: usize) -> Span {
    Span::of(r.start - base..r.end - base)
}

/// What kind of host a [`Host`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostKind {
    Domain,
    Ipv4,
    Ipv6,
}

/// The host of a SIP URI or Via: a domain name, an IPv4 address or an IPv6 reference.
/// The text is kept as written, without the brackets of an IPv6 reference.
#[derive(Clone)]
pub struct Host {
    text: Bytes,
    kind: HostKind,
}

impl Host {
    /// Parses a host: `hostname`, `IPv4address` or `IPv6reference` (in brackets).
    pub fn parse(text: impl Into<Bytes>) -> Result<Self, DecodeError> {
        let text = text.into();
        let mut c = Cursor::new(&text);
        let (span, kind) = scan_host(&mut c)?;
        if !c.at_end() {
            if unbracketed_ipv6(&text, 0) {
                return Err(DecodeError::new("IPv6 address without brackets", 0));
            }
            return Err(c.error("unexpected character after host"));
        }
        Ok(Self::from_span(&text, span, kind))
    }

    pub(crate) fn from_span(text: &Bytes, span: Span, kind: HostKind) -> Self {
        Self { text: span.range().map_or_else(Bytes::new, |r| text.slice(r)), kind }
    }

    /// The host as written, without brackets around an IPv6 address.
    pub fn as_str(&self) -> &str {
        lex::ascii(&self.text)
    }

    /// The IP address, for a numeric host.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.kind {
            HostKind::Domain => None,
            HostKind::Ipv4 => parse_ipv4(&self.text).map(IpAddr::V4),
            HostKind::Ipv6 => parse_ipv6(&self.text).map(IpAddr::V6),
        }
    }

    /// Whether the host is a domain name rather than an IP address.
    pub fn is_domain(&self) -> bool {
        self.kind == HostKind::Domain
    }

    /// Writes the host, an IPv6 address in brackets.
    pub fn encode(&self, out: &mut BytesMut) {
        write_host(out, &self.text, self.kind);
    }
}

fn write_host(out: &mut BytesMut, text: &[u8], kind: HostKind) {
    if kind == HostKind::Ipv6 {
        out.put_u8(b'[');
        out.put_slice(text);
        out.put_u8(b']');
    } else {
        out.put_slice(text);
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        Self { text: Bytes::from(ip.to_string()), kind: if ip.is_ipv4() { HostKind::Ipv4 } else { HostKind::Ipv6 } }
    }
}

impl From<Ipv4Addr> for Host {
    fn from(ip: Ipv4Addr) -> Self {
        IpAddr::V4(ip).into()
    }
}

impl From<Ipv6Addr> for Host {
    fn from(ip: Ipv6Addr) -> Self {
        IpAddr::V6(ip).into()
    }
}

impl FromStr for Host {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, DecodeError> {
        Self::parse(Bytes::copy_from_slice(s.as_bytes()))
    }
}

fn host_eq(a: &[u8], ak: HostKind, b: &[u8], bk: HostKind) -> bool {
    match (ak, bk) {
        (HostKind::Domain, HostKind::Domain) => a.eq_ignore_ascii_case(b),
        (HostKind::Ipv4, HostKind::Ipv4) => parse_ipv4(a) == parse_ipv4(b),
        (HostKind::Ipv6, HostKind::Ipv6) => parse_ipv6(a) == parse_ipv6(b),
        _ => false,
    }
}

/// Domain names compare without regard to case, addresses by value (§19.1.4).
impl PartialEq for Host {
    fn eq(&self, other: &Self) -> bool {
        host_eq(&self.text, self.kind, &other.text, other.kind)
    }
}

impl Eq for Host {}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == HostKind::Ipv6 { write!(f, "[{}]", self.as_str()) } else { f.write_str(self.as_str()) }
    }
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Host({self})")
    }
}

/// Scans a host at the cursor: its span (inside the brackets for IPv6) and kind.
pub(crate) fn scan_host(c: &mut Cursor<'_>) -> Result<(Span, HostKind), DecodeError> {
    let start = c.pos;
    if c.eat(b'[') {
        let r = c.take_while_fn(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !c.eat(b']') {
            c.pos = start;
            return Err(c.error("unterminated IPv6 reference"));
        }
        if parse_ipv6(&c.buf[r.clone()]).is_none() {
            return Err(DecodeError::new("invalid IPv6 address", r.start));
        }
        return Ok((Span::of(r), HostKind::Ipv6));
    }
    // hostname = *( domainlabel "." ) toplabel [ "." ]: labels of alphanumerics with inner
    // hyphens, the top one starting with a letter. Only digits and dots make IPv4 instead.
    let buf = c.buf;
    let mut i = start;
    let mut hyphen = false;
    let mut label_start = start;
    let mut previous_label = start; // start of the label before the last dot
    loop {
        // Runs of alphanumerics are the common case; '.' and '-' are checked one by one.
        i = lex::skip_class(buf, i, lex::ALNUM);
        match buf.get(i) {
            // '.' ends a label, '-' may not start one; neither may end one.
            Some(b'.') if i != label_start && buf[i - 1] != b'-' => {
                previous_label = label_start;
                label_start = i + 1;
            }
            Some(b'-') if i != label_start => hyphen = true,
            Some(b'.' | b'-') => return Err(DecodeError::new("invalid host name", i)),
            _ => break,
        }
        i += 1;
    }
    c.pos = i;
    if i == start {
        return Err(c.error("missing host"));
    }
    // After a trailing dot the top label is the one before it.
    let top = if buf[i - 1] == b'.' { previous_label } else { label_start };
    if buf[i - 1] != b'-' && buf.get(top).is_some_and(u8::is_ascii_alphabetic) {
        return Ok((Span::of(start..i), HostKind::Domain));
    }
    if !hyphen && !buf[start..i].iter().any(u8::is_ascii_alphabetic) {
        return match parse_ipv4(&buf[start..i]) {
            Some(_) => Ok((Span::of(start..i), HostKind::Ipv4)),
            None if unbracketed_ipv6(buf, start) => Err(DecodeError::new("IPv6 address without brackets", start)),
            None => Err(DecodeError::new("invalid IPv4 address", start)),
        };
    }
    if unbracketed_ipv6(buf, start) {
        return Err(DecodeError::new("IPv6 address without brackets", start));
    }
    Err(DecodeError::new("invalid host name", start))
}

/// Whether an IPv6 address without brackets starts at `start` (to say so in the error).
fn unbracketed_ipv6(buf: &[u8], start: usize) -> bool {
    let end = buf[start..]
        .iter()
        .position(|&b| !(b.is_ascii_hexdigit() || b == b':' || b == b'.'))
        .map_or(buf.len(), |n| start + n);
    memchr::memchr(b':', &buf[start..end]).is_some() && parse_ipv6(&buf[start..end]).is_some()
}

/// `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`, each at most 255.
pub(crate) fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &b in s {
        if b == b'.' {
            if digits == 0 || n == 3 {
                return None;
            }
            octets[n] = u8::try_from(value).ok()?;
            n += 1;
            value = 0;
            digits = 0;
        } else if b.is_ascii_digit() && digits < 3 {
            value = value * 10 + u32::from(b - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if digits == 0 || n != 3 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// An IPv6 address, tolerating the `:::` before an embedded IPv4 address that the RFC 3261
/// ABNF allows (RFC 5118 §4.10).
pub(crate) fn parse_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    let text = std::str::from_utf8(s).ok()?;
    if let Ok(ip) = text.parse::<Ipv6Addr>() {
        return Some(ip);
    }
    // `hexseq "::" ":" IPv4address`: drop the third colon.
    let pos = text.find(":::")?;
    let tail = &text[pos + 3..];
    if tail.contains(':') || parse_ipv4(tail.as_bytes()).is_none() {
        return None;
    }
    format!("{}::{}", &text[..pos], tail).parse().ok()
}

/// A SIP or SIPS URI (§19.1).
#[derive(Clone)]
pub struct SipUri {
    text: Bytes,
    user: Span,
    password: Span,
    host: Span,
    params: Span,
    headers: Span,
    port: Option<u16>,
    host_kind: HostKind,
    secure: bool,
}

/// `paramchar = param-unreserved / unreserved / escaped`
const PARAMCHAR: u32 = lex::PARAM_UNRESERVED | lex::UNRESERVED;

fn is_paramchar_or_pct(b: u8) -> bool {
    lex::is(b, PARAMCHAR) || b == b'%'
}

impl SipUri {
    /// `sip:host`.
    pub fn new(host: Host) -> Self {
        let mut out = BytesMut::with_capacity(host.text.len() + 6);
        out.put_slice(b"sip:");
        host.encode(&mut out);
        Self::reparse(out)
    }

    /// Parses text built from valid components.
    fn reparse(text: BytesMut) -> Self {
        let text = text.freeze();
        match scan_uri(&text, 0, text.len(), UriContext::Whole) {
            Ok((Uri::Sip(u), _)) => u,
            // Every builder validates its input first; this is unreachable, but an invalid
            // host is the harmless answer if it were not.
            _ => Self {
                text: Bytes::from_static(b"sip:invalid"),
                user: Span::NONE,
                password: Span::NONE,
                host: Span::of(4..11),
                params: Span::of(11..11),
                headers: Span::NONE,
                port: None,
                host_kind: HostKind::Domain,
                secure: false,
            },
        }
    }

    /// Scans the rest of a SIP URI whose scheme ends before `after`; `t` is `src` up to the
    /// limit of the scan.
    fn scan(src: &Bytes, t: &[u8], start: usize, after: usize, ctx: UriContext) -> Result<(Self, usize), DecodeError> {
        let secure = after - start == 5;
        let mut user = Span::NONE;
        let mut password = Span::NONE;
        let mut host_start = after;
        // The userinfo ends at the only '@' a SIP URI may hold unescaped.
        let class = if ctx == UriContext::Unbracketed { lex::USERINFO_BARE } else { lex::USERINFO };
        let run = lex::skip_class(t, after, class);
        if t.get(run) == Some(&b'@') {
            let userinfo = after..run;
            let user_r = match t[userinfo.clone()].iter().position(|&b| b == b':') {
                Some(i) => {
                    let pw = userinfo.start + i + 1..userinfo.end;
                    if !lex::check_escaped(&t[pw.clone()], lex::UNRESERVED | lex::PASSWORD_EXTRA, false) {
                        return Err(DecodeError::new("invalid password", pw.start));
                    }
                    password = rel(pw, start);
                    userinfo.start..userinfo.start + i
                }
                None => userinfo.clone(),
            };
            if !lex::check_escaped(&t[user_r.clone()], lex::UNRESERVED | lex::USER_UNRESERVED, true) {
                return Err(DecodeError::new("invalid user part", user_r.start));
            }
            user = rel(user_r, start);
            host_start = userinfo.end + 1;
        }
        let mut c = Cursor { buf: t, pos: host_start };
        let (host, host_kind) = scan_host(&mut c)?;
        let host = rel(host.range().unwrap_or(0..0), start);
        let mut port = None;
        if c.eat(b':') {
            let r = c.take_while(lex::DIGIT);
            port = lex::parse_u32(&t[r.clone()]).and_then(|p| u16::try_from(p).ok());
            if port.is_none() {
                let reason =
                    if unbracketed_ipv6(t, host_start) { "IPv6 address without brackets" } else { "invalid port" };
                return Err(DecodeError::new(reason, r.start));
            }
        }
        let params_start = c.pos;
        // Outside angle brackets a ';' starts the header parameters.
        while ctx != UriContext::Unbracketed && c.eat(b';') {
            let name = c.take_while_fn(is_paramchar_or_pct);
            if !lex::check_escaped(&t[name.clone()], PARAMCHAR, true) {
                return Err(DecodeError::new("invalid URI parameter", name.start));
            }
            let mut value = None;
            if c.eat(b'=') {
                let v = c.take_while_fn(is_paramchar_or_pct);
                if !lex::check_escaped(&t[v.clone()], PARAMCHAR, true) {
                    return Err(DecodeError::new("invalid URI parameter value", v.start));
                }
                value = Some(&t[v]);
            }
            check_uri_param(&t[name], value, c.pos)?;
        }
        let params = rel(params_start..c.pos, start);
        let mut headers = Span::NONE;
        if c.peek() == Some(b'?') {
            if ctx == UriContext::Unbracketed {
                return Err(DecodeError::new("URI with headers outside angle brackets", c.pos));
            }
            c.pos += 1;
            let r = c.take_while_fn(|b| {
                lex::is(b, lex::HNV_UNRESERVED | lex::UNRESERVED) || matches!(b, b'%' | b'=' | b'&')
            });
            check_uri_headers(&t[r.clone()]).map_err(|e| e.shift(r.start))?;
            headers = rel(r, start);
        }
        let end = c.pos;
        let text = src.slice(start..end);
        Ok((Self { text, user, password, host, params, headers, port, host_kind, secure }, end))
    }

    /// Whether the scheme is `sips`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The user part as written (with its `%HH` escapes).
    pub fn user(&self) -> Option<&str> {
        self.user.get(&self.text).map(lex::ascii)
    }

    /// The user part with `%HH` escapes decoded once (an escaped NUL stays a NUL octet).
    pub fn user_unescaped(&self) -> Option<Cow<'_, [u8]>> {
        self.user.get(&self.text).map(unescape)
    }

    /// The password as written.
    pub fn password(&self) -> Option<&str> {
        self.password.get(&self.text).map(lex::ascii)
    }

    /// The host.
    pub fn host(&self) -> Host {
        Host::from_span(&self.text, self.host, self.host_kind)
    }

    /// The host as written (without IPv6 brackets).
    pub fn host_str(&self) -> &str {
        lex::ascii(self.host.of_text(&self.text))
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The URI parameters.
    pub fn params(&self) -> UriParams<'_> {
        UriParams { raw: self.params.of_text(&self.text) }
    }

    /// The headers part after `?`, as written.
    pub fn headers(&self) -> Option<&str> {
        self.headers.get(&self.text).map(lex::ascii)
    }

    /// The `hname=hvalue` pairs of the headers part, as written.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers().into_iter().flat_map(|h| {
            h.split('&').map(|pair| match pair.split_once('=') {
                Some((n, v)) => (n, v),
                None => (pair, ""),
            })
        })
    }

    /// The whole URI as written.
    pub fn as_bytes(&self) -> &Bytes {
        &self.text
    }

    /// Writes the URI.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }

    /// The components, for the builders to replace some and write the URI anew.
    fn parts(&self) -> Parts<'_> {
        let t = &self.text[..];
        Parts {
            secure: self.secure,
            user: self.user.get(t),
            password: self.password.get(t),
            host: self.host.of_text(t),
            host_kind: self.host_kind,
            port: self.port,
            params: self.params.of_text(t),
            headers: self.headers.get(t),
        }
    }

    /// The same URI with the scheme `sips` (or `sip`).
    pub fn with_secure(&self, secure: bool) -> Self {
        Parts { secure, ..self.parts() }.build()
    }

    /// The same URI with a user part; it must be a valid (escaped) `user`.
    pub fn with_user(&self, user: &str) -> Result<Self, DecodeError> {
        if !lex::check_escaped(user.as_bytes(), lex::UNRESERVED | lex::USER_UNRESERVED, true) {
            return Err(DecodeError::new("invalid user part", 0));
        }
        Ok(Parts { user: Some(user.as_bytes()), ..self.parts() }.build())
    }

    /// The same URI with another port.
    pub fn with_port(&self, port: Option<u16>) -> Self {
        Parts { port, ..self.parts() }.build()
    }

    /// The same URI with another host.
    pub fn with_host(&self, host: &Host) -> Self {
        Parts { host: &host.text, host_kind: host.kind, ..self.parts() }.build()
    }

    /// The same URI with a parameter appended; name and value must be `1*paramchar`.
    pub fn with_param(&self, name: &str, value: Option<&str>) -> Result<Self, DecodeError> {
        if !lex::check_escaped(name.as_bytes(), PARAMCHAR, true)
            || value.is_some_and(|v| !lex::check_escaped(v.as_bytes(), PARAMCHAR, true))
        {
            return Err(DecodeError::new("invalid URI parameter", 0));
        }
        check_uri_param(name.as_bytes(), value.map(str::as_bytes), 0)?;
        let parts = self.parts();
        let mut p = parts.params.to_vec();
        p.push(b';');
        p.extend_from_slice(name.as_bytes());
        if let Some(v) = value {
            p.push(b'=');
            p.extend_from_slice(v.as_bytes());
        }
        Ok(Parts { params: &p, ..parts }.build())
    }

    /// The same URI without any parameter named `name`.
    pub fn without_param(&self, name: &str) -> Self {
        let mut p = Vec::new();
        for (n, v) in self.params().iter().filter(|(n, _)| !n.eq_ignore_ascii_case(name)) {
            p.push(b';');
            p.extend_from_slice(n.as_bytes());
            if let Some(v) = v {
                p.push(b'=');
                p.extend_from_slice(v.as_bytes());
            }
        }
        Parts { params: &p, ..self.parts() }.build()
    }

    /// The same URI without its headers part (§19.1.5: a Request-URI never carries one).
    pub fn without_headers(&self) -> Self {
        Parts { headers: None, ..self.parts() }.build()
    }
}

/// The components of a SIP URI as text, for the builders.
struct Parts<'a> {
    secure: bool,
    user: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    host: &'a [u8],
    host_kind: HostKind,
    port: Option<u16>,
    params: &'a [u8],
    headers: Option<&'a [u8]>,
}

impl Parts<'_> {
    /// Writes the URI and decodes it back.
    fn build(self) -> SipUri {
        let mut out = BytesMut::with_capacity(self.host.len() + self.params.len() + 32);
        out.put_slice(if self.secure { b"sips:" } else { b"sip:" });
        if let Some(u) = self.user {
            out.put_slice(u);
            if let Some(pw) = self.password {
                out.put_u8(b':');
                out.put_slice(pw);
            }
            out.put_u8(b'@');
        }
        write_host(&mut out, self.host, self.host_kind);
        if let Some(p) = self.port {
            out.put_u8(b':');
            lex::put_decimal(&mut out, u32::from(p));
        }
        out.put_slice(self.params);
        if let Some(h) = self.headers {
            out.put_u8(b'?');
            out.put_slice(h);
        }
        SipUri::reparse(out)
    }
}

/// §19.1.4: userinfo case-sensitive, everything else case-insensitive, `%HH` of an
/// unreserved character equal to the character; port, `transport`, `user`, `ttl`, `method`
/// and `maddr` parameters and all headers must match where either URI has them, other
/// parameters only where both do.
impl PartialEq for SipUri {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.text[..], &other.text[..]);
        if self.secure != other.secure
            || self.port != other.port
            || !host_eq(self.host.of_text(a), self.host_kind, other.host.of_text(b), other.host_kind)
            || !opt_eq(self.user.get(a), other.user.get(b), false)
            || !opt_eq(self.password.get(a), other.password.get(b), false)
        {
            return false;
        }
        // A parameter repeated in one URI is compared by its first occurrence.
        let (pa, pb) = (self.params(), other.params());
        for (name, _) in pa.iter() {
            match (pa.get(name), pb.get(name)) {
                (Some(a), Some(b)) if !opt_eq(a.map(str::as_bytes), b.map(str::as_bytes), true) => return false,
                (Some(_), Some(_)) => {}
                _ if is_strict_param(name) => return false,
                _ => {}
            }
        }
        if pb.iter().any(|(name, _)| is_strict_param(name) && pa.get(name).is_none()) {
            return false;
        }
        headers_eq(self, other)
    }
}

impl Eq for SipUri {}

fn is_strict_param(name: &str) -> bool {
    ["user", "ttl", "method", "maddr", "transport"].iter().any(|p| name.eq_ignore_ascii_case(p))
}

fn headers_eq(a: &SipUri, b: &SipUri) -> bool {
    let mut hb: Vec<_> = b.header_pairs().collect();
    for (name, value) in a.header_pairs() {
        let pos = hb.iter().position(|(n, v)| {
            escaped_eq(n.as_bytes(), name.as_bytes(), true) && escaped_eq(v.as_bytes(), value.as_bytes(), false)
        });
        match pos {
            Some(i) => {
                hb.swap_remove(i);
            }
            None => return false,
        }
    }
    hb.is_empty()
}

fn opt_eq(a: Option<&[u8]>, b: Option<&[u8]>, ignore_case: bool) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => escaped_eq(a, b, ignore_case),
        _ => false,
    }
}

/// One character of escaped text for comparison: an escape of a reserved character stays
/// an escape, any other escape becomes its character.
#[derive(PartialEq, Eq)]
enum Unit {
    Char(u8),
    Escaped(u8),
}

fn units(s: &[u8]) -> impl Iterator<Item = Unit> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *s.get(i)?;
        if b == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (lex::hex_value(s[i + 1]), lex::hex_value(s[i + 2])) {
                i += 3;
                let c = (h << 4) | l;
                return Some(if lex::is(c, lex::RESERVED) { Unit::Escaped(c) } else { Unit::Char(c) });
            }
        }
        i += 1;
        Some(Unit::Char(b))
    })
}

fn escaped_eq(a: &[u8], b: &[u8], ignore_case: bool) -> bool {
    if a == b {
        return true;
    }
    let fold = |u: Unit| match u {
        Unit::Char(c) if ignore_case => Unit::Char(c.to_ascii_lowercase()),
        other => other,
    };
    units(a).map(fold).eq(units(b).map(fold))
}

/// Decodes `%HH` escapes once.
pub(crate) fn unescape(s: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'%', s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (lex::hex_value(s[i + 1]), lex::hex_value(s[i + 2])) {
                out.push((h << 4) | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    Cow::Owned(out)
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(lex::ascii(&self.text))
    }
}

impl fmt::Debug for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SipUri({self})")
    }
}

impl FromStr for SipUri {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, DecodeError> {
        match s.parse::<Uri>()? {
            Uri::Sip(u) => Ok(u),
            _ => Err(DecodeError::new("not a SIP or SIPS URI", 0)),
        }
    }
}

/// Checks the values of the URI parameters §19.1.1 gives a syntax.
fn check_uri_param(name: &[u8], value: Option<&[u8]>, at: usize) -> Result<(), DecodeError> {
    let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
    let ok = match name.len() {
        3 if is(b"ttl") => value.is_some_and(|v| v.len() <= 3 && lex::parse_u32(v).is_some_and(|t| t <= 255)),
        5 if is(b"maddr") => value.is_some_and(|v| {
            let mut c = Cursor::new(v);
            scan_host(&mut c).is_ok() && c.at_end()
        }),
        4 | 6 | 9 if is(b"user") || is(b"method") || is(b"transport") => value.is_some_and(lex::is_token),
        _ => true,
    };
    if ok { Ok(()) } else { Err(DecodeError::new("invalid value of a URI parameter §19.1.1 defines", at)) }
}

/// `headers = header *( "&" header )`, `header = hname "=" hvalue`.
fn check_uri_headers(h: &[u8]) -> Result<(), DecodeError> {
    const HNV: u32 = lex::HNV_UNRESERVED | lex::UNRESERVED;
    let mut off = 0;
    for pair in h.split(|&b| b == b'&') {
        let Some(eq) = memchr::memchr(b'=', pair) else {
            return Err(DecodeError::new("URI header without '='", off));
        };
        if !lex::check_escaped(&pair[..eq], HNV, true) || !lex::check_escaped(&pair[eq + 1..], HNV, false) {
            return Err(DecodeError::new("invalid URI header", off));
        }
        off += pair.len() + 1;
    }
    Ok(())
}

/// The `;name=value` parameters of a SIP, SIPS or tel URI, as written (a view into the URI).
/// Names compare without regard to case.
#[derive(Clone, Copy)]
pub struct UriParams<'a> {
    raw: &'a [u8],
}

impl<'a> UriParams<'a> {
    /// The parameters as written, starting with `;` (empty when there are none).
    pub fn as_str(&self) -> &'a str {
        lex::ascii(self.raw)
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Each parameter's name and value, as written.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + use<'a> {
        let raw = self.as_str();
        raw.split(';').skip(1).map(|p| match p.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        })
    }

    /// The first parameter named `name`: `Some(None)` for one without value.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Whether a parameter named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.get("transport").flatten()
    }

    /// The `user` parameter (`phone`, `ip`, ...).
    pub fn user(&self) -> Option<&'a str> {
        self.get("user").flatten()
    }

    /// The `method` parameter.
    pub fn method(&self) -> Option<Method> {
        self.get("method").flatten().and_then(|m| m.parse().ok())
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.get("ttl").flatten().and_then(|v| v.parse().ok())
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.get("maddr").flatten()
    }

    /// Whether the `lr` parameter (loose routing, §19.1.1) is present.
    pub fn lr(&self) -> bool {
        self.contains("lr")
    }
}

impl fmt::Debug for UriParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// A tel URI (RFC 3966): a global (`+1-212-555-0100`) or local number with parameters.
#[derive(Clone)]
pub struct TelUri {
    text: Bytes,
    number: Span,
    params: Span,
}

impl TelUri {
    /// Scans the rest of a tel URI whose scheme ends before `after`.
    fn scan(src: &Bytes, t: &[u8], start: usize, after: usize, ctx: UriContext) -> Result<(Self, usize), DecodeError> {
        let mut c = Cursor { buf: t, pos: after };
        let global = c.eat(b'+');
        let digits = c.take_while_fn(|b| {
            b.is_ascii_digit()
                || matches!(b, b'-' | b'.' | b'(' | b')')
                || (!global && (b.is_ascii_hexdigit() || b == b'*' || b == b'#'))
        });
        if !t[digits.clone()].iter().any(|b| b.is_ascii_hexdigit() || *b == b'*' || *b == b'#') {
            return Err(DecodeError::new("tel URI without digits", digits.start));
        }
        let number = rel(after..digits.end, start);
        let params_start = c.pos;
        let mut context = false;
        while ctx != UriContext::Unbracketed && c.eat(b';') {
            let name = c.take_while_fn(|b| b.is_ascii_alphanumeric() || b == b'-');
            if name.is_empty() {
                return Err(c.error("invalid tel URI parameter"));
            }
            context |= t[name].eq_ignore_ascii_case(b"phone-context");
            if c.eat(b'=') {
                let v = c.take_while_fn(is_paramchar_or_pct);
                if !lex::check_escaped(&t[v.clone()], PARAMCHAR, true) {
                    return Err(DecodeError::new("invalid tel URI parameter value", v.start));
                }
            }
        }
        if !global && !context {
            return Err(DecodeError::new("local tel number without phone-context", after));
        }
        let params = rel(params_start..c.pos, start);
        Ok((Self { text: src.slice(start..c.pos), number, params }, c.pos))
    }

    /// The number as written, with its leading `+` when global.
    pub fn number(&self) -> &str {
        lex::ascii(self.number.of_text(&self.text))
    }

    /// Whether the number is global (`+` and a country code).
    pub fn is_global(&self) -> bool {
        self.number().starts_with('+')
    }

    /// The parameters (`ext`, `isub`, `phone-context`, ...).
    pub fn params(&self) -> UriParams<'_> {
        UriParams { raw: self.params.of_text(&self.text) }
    }
}

fn without_separators(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes().filter(|b| !matches!(b, b'-' | b'.' | b'(' | b')')).map(|b| b.to_ascii_lowercase())
}

/// RFC 3966 §4: same kind of number, digits equal without visual separators, the same
/// set of parameters with case-insensitively equal values.
impl PartialEq for TelUri {
    fn eq(&self, other: &Self) -> bool {
        if !without_separators(self.number()).eq(without_separators(other.number())) {
            return false;
        }
        // The same parameter names on both sides, each compared by its first occurrence.
        let (pa, pb) = (self.params(), other.params());
        let names_in = |x: UriParams<'_>, y: UriParams<'_>| x.iter().all(|(n, _)| y.contains(n));
        names_in(pa, pb)
            && names_in(pb, pa)
            && pa.iter().all(|(name, _)| match (pa.get(name).flatten(), pb.get(name).flatten()) {
                (Some(a), Some(b))
                    if name.eq_ignore_ascii_case("phone-context") || name.eq_ignore_ascii_case("ext") =>
                {
                    without_separators(a).eq(without_separators(b))
                }
                (a, b) => opt_eq(a.map(str::as_bytes), b.map(str::as_bytes), true),
            })
    }
}

impl Eq for TelUri {}

impl fmt::Debug for TelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TelUri({})", lex::ascii(&self.text))
    }
}

/// Any other `absoluteURI` (§25.1), kept as written.
#[derive(Clone)]
pub struct AbsoluteUri {
    text: Bytes,
    scheme_len: u32,
}

impl AbsoluteUri {
    /// Scans the rest of an `absoluteURI` (`1*uric` after the scheme).
    fn scan(src: &Bytes, t: &[u8], start: usize, after: usize, ctx: UriContext) -> Result<(Self, usize), DecodeError> {
        const URIC: u32 = lex::RESERVED | lex::UNRESERVED;
        let bare = ctx == UriContext::Unbracketed;
        let end = t[after..]
            .iter()
            .position(|&b| !(lex::is(b, URIC) || b == b'%') || (bare && matches!(b, b';' | b',' | b'?')))
            .map_or(t.len(), |n| after + n);
        if end == after {
            return Err(DecodeError::new("empty URI after the scheme", after));
        }
        if !lex::check_escaped(&t[after..end], URIC, true) {
            return Err(DecodeError::new("invalid escape in URI", after));
        }
        let scheme_len = u32::try_from(after - 1 - start).map_err(|_| DecodeError::new("scheme too long", start))?;
        Ok((Self { text: src.slice(start..end), scheme_len }, end))
    }

    /// The scheme as written.
    pub fn scheme(&self) -> &str {
        lex::ascii(&self.text[..self.scheme_len as usize])
    }

    /// The whole URI as written.
    pub fn as_str(&self) -> &str {
        lex::ascii(&self.text)
    }
}

/// Schemes compare without regard to case, the rest exactly.
impl PartialEq for AbsoluteUri {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.scheme_len as usize, other.scheme_len as usize);
        a == b && self.text[..a].eq_ignore_ascii_case(&other.text[..b]) && self.text[a..] == other.text[b..]
    }
}

impl Eq for AbsoluteUri {}

impl fmt::Debug for AbsoluteUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbsoluteUri({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn components() {
        let s = "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr;ttl=5;maddr=239.255.255.1;method=INVITE;x?subject=hi&priority=urgent";
        let u = sip(s);
        assert!(u.is_secure());
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("secret"));
        assert_eq!(u.host().as_str(), "2001:db8::1");
        assert_eq!(u.host_str(), "2001:db8::1");
        assert_eq!(u.host().ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port(), Some(5061));
        assert_eq!(u.params().transport(), Some("tcp"));
        assert!(u.params().lr());
        assert_eq!(u.params().ttl(), Some(5));
        assert_eq!(u.params().method(), Some(Method::INVITE));
        assert_eq!(u.params().maddr(), Some("239.255.255.1"));
        assert_eq!(u.params().get("x"), Some(None));
        let pairs: Vec<_> = u.header_pairs().collect();
        assert_eq!(pairs, vec![("subject", "hi"), ("priority", "urgent")]);
        assert_eq!(u.to_string(), s);
        assert_eq!(size_of::<Uri>(), size_of::<SipUri>());
        assert!(size_of::<Uri>() <= 88, "{}", size_of::<Uri>());
    }

    #[test]
    fn unusual_but_legal_user_and_password() {
        let u = sip(
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
        );
        assert_eq!(u.user(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
        assert_eq!(u.password(), Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
        assert_eq!(u.host().as_str(), "example.com");
    }

    #[test]
    fn escapes_decode_once() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user_unescaped().unwrap().as_ref(), b"user;par=u@example.net");
        assert_eq!(u.host().as_str(), "example.com");
        let u = sip("sip:%00%00@example.com");
        assert_eq!(u.user_unescaped().unwrap().as_ref(), b"\0\0");
        let u = sip("sip:h;n%61me=v%61lue%25%34%31");
        assert_eq!(u.params().iter().next(), Some(("n%61me", Some("v%61lue%25%34%31"))));
        assert_eq!(unescape(b"v%61lue%25%34%31").as_ref(), b"value%41");
    }

    #[test]
    fn hosts() {
        assert!(Host::parse("example.com.").unwrap().is_domain());
        assert!(Host::parse("a-b.c").is_ok());
        assert!(Host::parse("-a.com").is_err());
        assert!(Host::parse("a-.com").is_err());
        assert!(Host::parse("a..com").is_err());
        assert!(Host::parse("a.1com").is_err());
        assert!(Host::parse(".").is_err());
        assert!(Host::parse("192.0.2").is_err());
        assert!(Host::parse("256.0.0.1").is_err());
        assert!(Host::parse("1.2.3.4.5").is_err());
        assert!(Host::parse("1.2.3.").is_err());
        assert_eq!(Host::parse("010.0.0.1").unwrap().ip(), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(Host::parse("[2001:db8:::192.0.2.1]").unwrap(), Host::parse("[2001:db8::192.0.2.1]").unwrap());
        assert_eq!(Host::parse("[2001:db8:::192.0.2.1]").unwrap().as_str(), "2001:db8:::192.0.2.1");
        assert!(Host::parse("[2001:db8::1").is_err());
        assert!(Host::parse("[::1]x").is_err());
        assert!(Host::parse("[1:2:3]").is_err());
        assert_eq!(Host::parse("2001:db8::10").unwrap_err().reason(), "IPv6 address without brackets");
        assert_eq!(Host::parse("fe80::1").unwrap_err().reason(), "IPv6 address without brackets");
        assert_eq!(Uri::parse("sip:fe80::1").unwrap_err().reason(), "IPv6 address without brackets");
        assert_eq!(Uri::parse("sip:host:port").unwrap_err().reason(), "invalid port");
        assert_eq!(Host::parse("[2001:db8::10:5070]").unwrap().as_str(), "2001:db8::10:5070");
        assert_eq!(Host::parse("EXAMPLE.com").unwrap(), Host::parse("example.COM").unwrap());
        assert_ne!(Host::parse("192.0.2.1").unwrap(), Host::parse("example.com").unwrap());
    }

    #[test]
    fn rejects() {
        for bad in [
            "sip:2001:db8::10",
            "sip:user@example.com; lr",
            "<sip:user@example.com>",
            "sip:",
            "sip:@example.com",
            "sip:user@host:99999",
            "sip:user@host:",
            "sip:user@host;ttl=256",
            "sip:user@host;maddr=",
            "sip:user@host;=x",
            "sip:user@host;",
            "sip:user@host?x",
            "sip:us er@host",
            "tel:abc",
            "tel:1234",
            "1abc:foo",
            "x:",
            "http://exa mple.com",
        ] {
            assert!(Uri::parse(Bytes::from(bad)).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn other_schemes_are_opaque() {
        for s in [
            "nobodyKnowsThisScheme:totallyopaquecontent",
            "soap.beep://192.0.2.103:3002",
            "isbn:2983792873",
            "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        ] {
            let u: Uri = s.parse().unwrap();
            assert!(matches!(u, Uri::Absolute(_)));
            assert_eq!(u.to_string(), s);
        }
        let u: Uri = "SOAP.beep://x".parse().unwrap();
        assert_eq!(u.scheme(), "SOAP.beep");
        let tel: Uri = "tel:+1-201-555-0123;ext=1234".parse().unwrap();
        assert!(matches!(&tel, Uri::Tel(t) if t.is_global() && t.number() == "+1-201-555-0123"));
        assert_eq!(tel.to_string(), "tel:+1-201-555-0123;ext=1234");
        assert!("tel:7042;phone-context=example.com".parse::<Uri>().is_ok());
    }

    /// The equal and unequal examples of RFC 3261 §19.1.4.
    #[test]
    fn rfc3261_equality_examples() {
        let equal = [
            ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
            ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
            (
                "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
            ),
            (
                "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
            ),
        ];
        for (a, b) in equal {
            assert_eq!(sip(a), sip(a), "{a} == itself");
            assert_eq!(sip(a), sip(b), "{a} == {b}");
            assert_eq!(sip(b), sip(a), "{b} == {a}");
        }
        let unequal = [
            ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
            ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
            ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
            ("sip:alice@atlanta.com", "sip:alice@atlanta.com;user=phone"),
            ("sip:alice@atlanta.com", "sip:alice@atlanta.com;maddr=239.255.255.1"),
            ("sip:a%3bb@x.com", "sip:a;b@x.com"),
            ("sip:x.com?a=1&a=1", "sip:x.com?a=1"),
            ("sip:x.com;transport=udp;transport=tcp", "sip:x.com;transport=tcp"),
        ];
        for (a, b) in unequal {
            assert_ne!(sip(a), sip(b), "{a} != {b}");
            assert_ne!(sip(b), sip(a), "{b} != {a}");
        }
    }

    #[test]
    fn tel_equality() {
        let a: Uri = "tel:+1-201-555-0123".parse().unwrap();
        let b: Uri = "tel:+1.201.555.0123".parse().unwrap();
        assert_eq!(a, b);
        let c: Uri = "tel:+1-201-555-0123;ext=1".parse().unwrap();
        assert_ne!(a, c);
        let d: Uri = "tel:7042;phone-context=EXAMPLE.com".parse().unwrap();
        let e: Uri = "tel:7042;phone-context=example.com".parse().unwrap();
        assert_eq!(d, e);
    }

    #[test]
    fn builders_validate() {
        let u = SipUri::new("example.com".parse().unwrap())
            .with_user("alice")
            .unwrap()
            .with_port(Some(5070))
            .with_param("transport", Some("tcp"))
            .unwrap();
        assert_eq!(u.to_string(), "sip:alice@example.com:5070;transport=tcp");
        assert!(u.with_param("ttl", Some("300")).is_err());
        assert!(u.with_user("a b").is_err());
        assert_eq!(u.without_param("transport").to_string(), "sip:alice@example.com:5070");
        assert_eq!(u.with_secure(true).to_string(), "sips:alice@example.com:5070;transport=tcp");
        assert_eq!(u.with_host(&Host::from(Ipv6Addr::LOCALHOST)).to_string(), "sip:alice@[::1]:5070;transport=tcp");
        let v6 = SipUri::new(Host::from(Ipv6Addr::LOCALHOST));
        assert_eq!(v6.to_string(), "sip:[::1]");
        let h = sip("sip:a@b?x=y").without_headers();
        assert_eq!(h.to_string(), "sip:a@b");
    }
}
