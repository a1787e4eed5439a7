//! Typed attributes: the ones RFC 8866 defines and those real endpoints send (RTCP, BUNDLE,
//! ICE, DTLS-SRTP, SDES, msid). Each decodes from an [`Attribute`]'s value on demand.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::error::AttributeError;
use crate::model::{Attribute, Word, is_word};
use crate::text::{Decimal, Text, Token, is_token, is_token_char};

/// An attribute with a typed form.
pub trait TypedAttribute: Sized {
    /// The attribute name (compared without regard to case).
    const NAME: &'static str;

    /// Decodes the value (`None` for a property attribute).
    fn decode(value: Option<&Text>) -> Result<Self, AttributeError>;

    /// The value text, or `None` for a property attribute.
    fn value(&self) -> Option<String>;

    /// The attribute line this value makes.
    fn to_attribute(&self) -> Attribute {
        Attribute { name: Token::from_static(Self::NAME), value: self.value().map(|v| Text::trusted(Bytes::from(v))) }
    }
}

/// An attribute value being decoded: its text, and the bytes that pieces of it are sliced
/// from (no copies).
#[derive(Clone, Copy)]
struct Value<'a> {
    name: &'static str,
    bytes: &'a Bytes,
    text: &'a str,
}

impl<'a> Value<'a> {
    /// The bytes of `part`, a piece of this value's text.
    fn slice(&self, part: &str) -> Bytes {
        self.bytes.slice_ref(part.as_bytes())
    }

    fn token(&self, part: &str, what: &'static str) -> Result<Token, AttributeError> {
        if is_token(part.as_bytes()) {
            Ok(Token::trusted(self.slice(part)))
        } else {
            Err(AttributeError::new(self.name, what))
        }
    }

    fn word(&self, part: &str, what: &'static str) -> Result<Word, AttributeError> {
        if is_word(part.as_bytes()) {
            Ok(Word::trusted(self.slice(part)))
        } else {
            Err(AttributeError::new(self.name, what))
        }
    }

    fn text(&self, part: &str) -> Text {
        Text::trusted(self.slice(part))
    }
}

/// `s` split at the first `sep` (an ASCII byte, so both sides stay valid UTF-8).
fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// `s` split at every `sep` (an ASCII byte), without the per-call setup of a string pattern.
fn split(s: &str, sep: u8) -> SplitByte<'_> {
    SplitByte { rest: Some(s), sep }
}

/// `s` split at the first `n - 1` separators.
fn splitn(s: &str, n: usize, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    let mut left = n;
    std::iter::from_fn(move || {
        let r = rest?;
        left -= 1;
        if left == 0 {
            rest = None;
            return Some(r);
        }
        match split_once(r, sep) {
            Some((head, tail)) => {
                rest = Some(tail);
                Some(head)
            }
            None => rest.take(),
        }
    })
}

struct SplitByte<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let r = self.rest?;
        match split_once(r, self.sep) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => self.rest.take(),
        }
    }
}

fn need<'a>(name: &'static str, value: Option<&'a Text>) -> Result<Value<'a>, AttributeError> {
    let v = value.ok_or(AttributeError::new(name, "value missing"))?;
    let text = std::str::from_utf8(v.as_bytes()).map_err(|_| AttributeError::new(name, "value is not UTF-8"))?;
    Ok(Value { name, bytes: v.as_bytes(), text })
}

fn number<T: std::str::FromStr>(name: &'static str, s: &str, what: &'static str) -> Result<T, AttributeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AttributeError::new(name, what));
    }
    s.parse().map_err(|_| AttributeError::new(name, what))
}

fn no_value(name: &'static str, value: Option<&Text>) -> Result<(), AttributeError> {
    match value {
        None => Ok(()),
        Some(_) => Err(AttributeError::new(name, "property attribute with a value")),
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (§6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// The RTP payload type, 0–127.
    pub payload_type: u8,
    /// The encoding name (`PCMU`, `opus`, `telephone-event`), compared without regard to case.
    pub encoding: Token,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters: the number of audio channels.
    pub parameters: Option<Token>,
}

impl Rtpmap {
    /// The number of channels (1 when not given).
    pub fn channels(&self) -> u32 {
        self.parameters.as_ref().and_then(|p| p.as_str().parse().ok()).unwrap_or(1)
    }
}

impl TypedAttribute for Rtpmap {
    const NAME: &'static str = "rtpmap";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "rtpmap";
        let val = need(N, value)?;
        let v = val.text;
        let (pt, rest) = split_once(v, b' ').ok_or(AttributeError::new(N, "expected '<payload type> <encoding>'"))?;
        let payload_type: u8 = number(N, pt, "payload type must be 0-127")?;
        if payload_type > 127 {
            return Err(AttributeError::new(N, "payload type must be 0-127"));
        }
        let mut parts = split(rest.trim_end(), b'/');
        let encoding = val.token(parts.next().unwrap_or(""), "invalid encoding name")?;
        let clock_rate = number(N, parts.next().unwrap_or(""), "invalid clock rate")?;
        let parameters = parts.next().map(|p| val.token(p, "invalid encoding parameters")).transpose()?;
        if parts.next().is_some() {
            return Err(AttributeError::new(N, "too many '/' parts"));
        }
        Ok(Self { payload_type, encoding, clock_rate, parameters })
    }

    fn value(&self) -> Option<String> {
        // Written piece by piece: every answer has a few of these.
        let (pt, rate) = (Decimal::new(self.payload_type.into()), Decimal::new(self.clock_rate.into()));
        let parameters = self.parameters.as_ref().map(Token::as_str);
        let mut s = String::with_capacity(24 + parameters.map_or(0, str::len));
        for piece in [pt.as_str(), " ", self.encoding.as_str(), "/", rate.as_str()] {
            s.push_str(piece);
        }
        if let Some(p) = parameters {
            s.push('/');
            s.push_str(p);
        }
        Some(s)
    }
}

/// `a=fmtp:<format> <format specific parameters>` (§6.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The format (payload type) the parameters are for.
    pub format: Token,
    /// The parameters as written (`0-15`, `profile-level-id=42e01f;packetization-mode=1`).
    pub parameters: Text,
}

impl Fmtp {
    /// The `;`-separated `name=value` parameters, trimmed.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        split(self.parameters.as_str(), b';').filter_map(|p| {
            let p = p.trim();
            (!p.is_empty()).then(|| match split_once(p, b'=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (p, None),
            })
        })
    }

    /// The value of parameter `name` (compared without regard to case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params().find(|(n, _)| n.eq_ignore_ascii_case(name)).and_then(|(_, v)| v)
    }
}

impl TypedAttribute for Fmtp {
    const NAME: &'static str = "fmtp";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "fmtp";
        let val = need(N, value)?;
        let v = val.text;
        let (format, params) = split_once(v, b' ').ok_or(AttributeError::new(N, "expected '<format> <parameters>'"))?;
        Ok(Self { format: val.token(format, "invalid format")?, parameters: val.text(params.trim_start()) })
    }

    fn value(&self) -> Option<String> {
        Some(format!("{} {}", self.format, self.parameters))
    }
}

/// A duration in milliseconds with up to three decimals, as `ptime` and `maxptime` carry.
fn decode_millis(name: &'static str, v: &str) -> Result<u64, AttributeError> {
    let (int, frac) = split_once(v, b'.').unwrap_or((v, ""));
    let int: u64 = number(name, int, "expected milliseconds")?;
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AttributeError::new(name, "expected milliseconds"));
    }
    let mut micros = int.checked_mul(1000).ok_or(AttributeError::new(name, "too long"))?;
    let mut scale = 100;
    for d in frac.bytes() {
        micros += u64::from(d - b'0') * scale;
        scale /= 10;
    }
    Ok(micros)
}

fn encode_millis(micros: u64) -> String {
    if micros % 1000 == 0 {
        (micros / 1000).to_string()
    } else {
        let s = format!("{}.{:03}", micros / 1000, micros % 1000);
        s.trim_end_matches('0').to_string()
    }
}

macro_rules! duration_attribute {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $ty {
            /// The duration in microseconds.
            pub micros: u64,
        }

        impl $ty {
            /// A whole number of milliseconds.
            pub fn from_millis(ms: u32) -> Self {
                Self { micros: u64::from(ms) * 1000 }
            }

            /// The duration in whole milliseconds (rounded down).
            pub fn millis(&self) -> u64 {
                self.micros / 1000
            }
        }

        impl TypedAttribute for $ty {
            const NAME: &'static str = $name;

            fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
                let v = need($name, value)?;
                decode_millis($name, v.text.trim()).map(|micros| Self { micros })
            }

            fn value(&self) -> Option<String> {
                Some(encode_millis(self.micros))
            }
        }
    };
}

duration_attribute!(
    /// `a=ptime:<packet time>` (§6.4): milliseconds of media per packet.
    Ptime, "ptime"
);
duration_attribute!(
    /// `a=maxptime:<maximum packet time>` (§6.5).
    Maxptime, "maxptime"
);

/// The direction of a stream: `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (§6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Send and receive (the default).
    SendRecv,
    /// Send only.
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn name(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an attribute name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::SendRecv, Self::SendOnly, Self::RecvOnly, Self::Inactive]
            .into_iter()
            .find(|d| name.eq_ignore_ascii_case(d.name()))
    }

    /// The same stream seen from the other side: sendonly ↔ recvonly.
    pub fn reverse(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            other => other,
        }
    }

    /// Whether this side sends.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether this side receives.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The direction from whether this side sends and receives.
    pub fn from_flags(sends: bool, receives: bool) -> Self {
        match (sends, receives) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// The attribute line.
    pub fn to_attribute(self) -> Attribute {
        Attribute::property(Token::from_static(self.name()))
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The network type, address type and address, when given.
    pub address: Option<(Token, Token, Word)>,
}

impl TypedAttribute for Rtcp {
    const NAME: &'static str = "rtcp";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "rtcp";
        let val = need(N, value)?;
        let v = val.text;
        let mut parts = split(v, b' ');
        let port = number(N, parts.next().unwrap_or(""), "invalid port")?;
        let address = match (parts.next(), parts.next(), parts.next()) {
            (None, ..) => None,
            (Some(n), Some(a), Some(addr)) => Some((
                val.token(n, "invalid nettype")?,
                val.token(a, "invalid addrtype")?,
                val.word(addr, "invalid address")?,
            )),
            _ => return Err(AttributeError::new(N, "incomplete address")),
        };
        if parts.next().is_some() {
            return Err(AttributeError::new(N, "unexpected text after the address"));
        }
        Ok(Self { port, address })
    }

    fn value(&self) -> Option<String> {
        Some(match &self.address {
            Some((n, a, addr)) => format!("{} {n} {a} {addr}", self.port),
            None => self.port.to_string(),
        })
    }
}

macro_rules! flag_attribute {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $ty;

        impl TypedAttribute for $ty {
            const NAME: &'static str = $name;

            fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
                no_value($name, value).map(|()| Self)
            }

            fn value(&self) -> Option<String> {
                None
            }
        }
    };
}

flag_attribute!(
    /// `a=rtcp-mux` (RFC 5761): RTP and RTCP share one port.
    RtcpMux, "rtcp-mux"
);
flag_attribute!(
    /// `a=rtcp-rsize` (RFC 5506): reduced-size RTCP.
    RtcpRsize, "rtcp-rsize"
);

macro_rules! single_value_attribute {
    ($(#[$doc:meta])* $ty:ident($inner:ident), $name:literal, $check:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(pub $inner);

        impl TypedAttribute for $ty {
            const NAME: &'static str = $name;

            fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
                let v = need($name, value)?;
                let check: fn(&str) -> bool = $check;
                if !check(v.text) {
                    return Err(AttributeError::new($name, $what));
                }
                $inner::new(v.bytes.clone()).map(Self).map_err(|_| AttributeError::new($name, $what))
            }

            fn value(&self) -> Option<String> {
                Some(self.0.to_string())
            }
        }
    };
}

fn is_ice_chars(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

single_value_attribute!(
    /// `a=mid:<identification-tag>` (RFC 5888): names a media stream for grouping.
    Mid(Token), "mid", |_| true, "identification-tag must be a token"
);
single_value_attribute!(
    /// `a=label:<pointer>` (RFC 4574): a label other documents refer to.
    Label(Token), "label", |_| true, "label must be a token"
);
single_value_attribute!(
    /// `a=ice-ufrag:<ufrag>` (RFC 8839): 4–256 ICE characters.
    IceUfrag(Word), "ice-ufrag", |s| (4..=256).contains(&s.len()) && is_ice_chars(s), "ufrag must be 4-256 ice-chars"
);
single_value_attribute!(
    /// `a=ice-pwd:<password>` (RFC 8839): 22–256 ICE characters.
    IcePwd(Word), "ice-pwd", |s| (22..=256).contains(&s.len()) && is_ice_chars(s), "password must be 22-256 ice-chars"
);

/// `a=group:<semantics> *(SP <identification-tag>)` (RFC 5888, BUNDLE RFC 9143).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The semantics (`BUNDLE`, `LS`, `FID`).
    pub semantics: Token,
    /// The grouped `mid`s.
    pub mids: Vec<Token>,
}

impl TypedAttribute for Group {
    const NAME: &'static str = "group";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "group";
        let val = need(N, value)?;
        let v = val.text;
        let mut parts = split(v, b' ');
        let semantics = val.token(parts.next().unwrap_or(""), "invalid semantics")?;
        let mids = parts.map(|m| val.token(m, "invalid identification-tag")).collect::<Result<_, _>>()?;
        Ok(Self { semantics, mids })
    }

    fn value(&self) -> Option<String> {
        let mut s = self.semantics.to_string();
        for m in &self.mids {
            let _ = write!(s, " {m}");
        }
        Some(s)
    }
}

/// `a=ice-options:<option> *(SP <option>)` (RFC 8839).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceOptions(pub Vec<Token>);

impl TypedAttribute for IceOptions {
    const NAME: &'static str = "ice-options";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "ice-options";
        let val = need(N, value)?;
        let v = val.text;
        split(v, b' ').map(|o| val.token(o, "invalid option")).collect::<Result<_, _>>().map(Self)
    }

    fn value(&self) -> Option<String> {
        Some(self.0.iter().map(Token::as_str).collect::<Vec<_>>().join(" "))
    }
}

/// `a=ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssrc {
    /// The synchronization source.
    pub id: u32,
    /// The source attribute name (`cname`, `msid`, ...).
    pub attribute: Token,
    /// Its value.
    pub value: Option<Text>,
}

impl TypedAttribute for Ssrc {
    const NAME: &'static str = "ssrc";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "ssrc";
        let val = need(N, value)?;
        let v = val.text;
        let (id, rest) = split_once(v, b' ').ok_or(AttributeError::new(N, "expected '<ssrc-id> <attribute>'"))?;
        let id = number(N, id, "invalid ssrc-id")?;
        let (name, val_part) = match split_once(rest, b':') {
            Some((n, v)) => (n, Some(v)),
            None => (rest, None),
        };
        Ok(Self { id, attribute: val.token(name, "invalid source attribute")?, value: val_part.map(|v| val.text(v)) })
    }

    fn value(&self) -> Option<String> {
        Some(match &self.value {
            Some(v) => format!("{} {}:{v}", self.id, self.attribute),
            None => format!("{} {}", self.id, self.attribute),
        })
    }
}

/// `a=extmap:<id>[/<direction>] <URI> [<extension attributes>]` (RFC 8285).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extmap {
    /// The local identifier (1–14 one-byte, 1–255 two-byte, 4096–4351 reserved for negotiation).
    pub id: u16,
    /// The direction, when given.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: Word,
    /// Extension attributes, as written.
    pub attributes: Option<Text>,
}

impl TypedAttribute for Extmap {
    const NAME: &'static str = "extmap";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "extmap";
        let val = need(N, value)?;
        let v = val.text;
        let mut parts = splitn(v, 3, b' ');
        let head = parts.next().unwrap_or("");
        let (id, direction) = match split_once(head, b'/') {
            Some((i, d)) => (i, Some(Direction::from_name(d).ok_or(AttributeError::new(N, "invalid direction"))?)),
            None => (head, None),
        };
        let id: u16 = number(N, id, "invalid id")?;
        if id == 0 || (id > 255 && !(4096..=4351).contains(&id)) {
            return Err(AttributeError::new(N, "id must be 1-255 or 4096-4351"));
        }
        let uri = val.word(parts.next().unwrap_or(""), "invalid URI")?;
        let attributes = parts.next().map(|a| val.text(a));
        Ok(Self { id, direction, uri, attributes })
    }

    fn value(&self) -> Option<String> {
        let mut s = self.id.to_string();
        if let Some(d) = self.direction {
            let _ = write!(s, "/{}", d.name());
        }
        let _ = write!(s, " {}", self.uri);
        if let Some(a) = &self.attributes {
            let _ = write!(s, " {a}");
        }
        Some(s)
    }
}

/// `a=candidate:` (RFC 8839 §5.1): an ICE candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The foundation (1–32 ice-chars).
    pub foundation: Word,
    /// The component id (1 RTP, 2 RTCP).
    pub component: u16,
    /// The transport (`UDP`, `TCP`).
    pub transport: Token,
    /// The priority.
    pub priority: u32,
    /// The address: IP or FQDN.
    pub address: Word,
    /// The port.
    pub port: u16,
    /// The candidate type (`host`, `srflx`, `prflx`, `relay`).
    pub kind: Token,
    /// `raddr`, for reflexive and relayed candidates.
    pub related_address: Option<Word>,
    /// `rport`.
    pub related_port: Option<u16>,
    /// Extension attributes (`generation 0`, `tcptype active`, ...) as name/value pairs.
    pub extensions: Vec<(Word, Word)>,
}

impl TypedAttribute for Candidate {
    const NAME: &'static str = "candidate";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "candidate";
        let val = need(N, value)?;
        let v = val.text;
        let mut p = split(v, b' ');
        let mut next = |what| p.next().filter(|s| !s.is_empty()).ok_or(AttributeError::new(N, what));
        let foundation = next("missing foundation")?;
        if foundation.len() > 32 || !is_ice_chars(foundation) {
            return Err(AttributeError::new(N, "foundation must be 1-32 ice-chars"));
        }
        let foundation = val.word(foundation, "invalid foundation")?;
        let component = number(N, next("missing component id")?, "invalid component id")?;
        let transport = val.token(next("missing transport")?, "invalid transport")?;
        let priority = number(N, next("missing priority")?, "invalid priority")?;
        let address = val.word(next("missing address")?, "invalid address")?;
        let port = number(N, next("missing port")?, "invalid port")?;
        if next("missing typ")? != "typ" {
            return Err(AttributeError::new(N, "expected 'typ'"));
        }
        let kind = val.token(next("missing candidate type")?, "invalid candidate type")?;
        let mut related_address = None;
        let mut related_port = None;
        let mut extensions = Vec::new();
        while let Ok(name) = next("") {
            let ext = next("extension attribute without a value")?;
            match name {
                "raddr" => related_address = Some(val.word(ext, "invalid raddr")?),
                "rport" => related_port = Some(number(N, ext, "invalid rport")?),
                _ => extensions
                    .push((val.word(name, "invalid extension name")?, val.word(ext, "invalid extension value")?)),
            }
        }
        Ok(Self {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            kind,
            related_address,
            related_port,
            extensions,
        })
    }

    fn value(&self) -> Option<String> {
        let mut s = format!(
            "{} {} {} {} {} {} typ {}",
            self.foundation, self.component, self.transport, self.priority, self.address, self.port, self.kind
        );
        if let Some(a) = &self.related_address {
            let _ = write!(s, " raddr {a}");
        }
        if let Some(p) = self.related_port {
            let _ = write!(s, " rport {p}");
        }
        for (n, v) in &self.extensions {
            let _ = write!(s, " {n} {v}");
        }
        Some(s)
    }
}

/// `a=fingerprint:<hash-func> <fingerprint>` (RFC 8122): the DTLS certificate's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The hash function (`sha-256`).
    pub hash: Token,
    /// The digest as upper-case hex pairs separated by `:`.
    pub value: Word,
}

impl TypedAttribute for Fingerprint {
    const NAME: &'static str = "fingerprint";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "fingerprint";
        let val = need(N, value)?;
        let v = val.text;
        let (hash, fp) = split_once(v, b' ').ok_or(AttributeError::new(N, "expected '<hash-func> <fingerprint>'"))?;
        // HEX HEX *(":" HEX HEX)
        let b = fp.as_bytes();
        let pairs_ok = b.len() % 3 == 2
            && b.iter().enumerate().all(|(i, &c)| if i % 3 == 2 { c == b':' } else { c.is_ascii_hexdigit() });
        if !pairs_ok {
            return Err(AttributeError::new(N, "fingerprint must be hex pairs separated by ':'"));
        }
        Ok(Self { hash: val.token(hash, "invalid hash function")?, value: val.word(fp, "invalid fingerprint")? })
    }

    fn value(&self) -> Option<String> {
        Some(format!("{} {}", self.hash, self.value))
    }
}

/// `a=setup:` (RFC 4145): which side opens the DTLS/TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Opens the connection.
    Active,
    /// Accepts the connection.
    Passive,
    /// Either (offers use this).
    ActPass,
    /// Neither, for now.
    HoldConn,
}

impl TypedAttribute for Setup {
    const NAME: &'static str = "setup";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        match need("setup", value)?.text {
            "active" => Ok(Self::Active),
            "passive" => Ok(Self::Passive),
            "actpass" => Ok(Self::ActPass),
            "holdconn" => Ok(Self::HoldConn),
            _ => Err(AttributeError::new("setup", "expected active, passive, actpass or holdconn")),
        }
    }

    fn value(&self) -> Option<String> {
        Some(
            match self {
                Self::Active => "active",
                Self::Passive => "passive",
                Self::ActPass => "actpass",
                Self::HoldConn => "holdconn",
            }
            .to_string(),
        )
    }
}

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]` (RFC 4568, SDES).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// The tag that identifies this line in the answer.
    pub tag: u32,
    /// The crypto suite (`AES_CM_128_HMAC_SHA1_80`).
    pub suite: Token,
    /// The key parameters (`inline:<key||salt>[|lifetime][|MKI:length]`, `;`-separated).
    pub key_params: Word,
    /// Session parameters, as written.
    pub session_params: Option<Text>,
}

impl TypedAttribute for Crypto {
    const NAME: &'static str = "crypto";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "crypto";
        let val = need(N, value)?;
        let v = val.text;
        let mut parts = splitn(v, 4, b' ');
        let tag = number(N, parts.next().unwrap_or(""), "invalid tag")?;
        let suite = val.token(parts.next().unwrap_or(""), "invalid crypto-suite")?;
        let key_params = parts.next().unwrap_or("");
        if !split(key_params, b';').all(|k| k.len() > 7 && k[..7].eq_ignore_ascii_case("inline:")) {
            return Err(AttributeError::new(N, "key-params must be inline:..."));
        }
        let key_params = val.word(key_params, "invalid key-params")?;
        let session_params = parts.next().map(|s| val.text(s));
        Ok(Self { tag, suite, key_params, session_params })
    }

    fn value(&self) -> Option<String> {
        let mut s = format!("{} {} {}", self.tag, self.suite, self.key_params);
        if let Some(p) = &self.session_params {
            let _ = write!(s, " {p}");
        }
        Some(s)
    }
}

/// `a=msid:<id> [<appdata>]` (RFC 8830): the media stream and track of a WebRTC stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msid {
    /// The stream id (1–64 token characters).
    pub id: Token,
    /// The track id, when given.
    pub appdata: Option<Token>,
}

impl TypedAttribute for Msid {
    const NAME: &'static str = "msid";

    fn decode(value: Option<&Text>) -> Result<Self, AttributeError> {
        const N: &str = "msid";
        let val = need(N, value)?;
        let v = val.text;
        let short = |s: &str| s.len() <= 64 && s.bytes().all(is_token_char);
        let (id, appdata) = match split_once(v, b' ') {
            Some((i, a)) => (i, Some(a)),
            None => (v, None),
        };
        if !short(id) || appdata.is_some_and(|a| !short(a)) {
            return Err(AttributeError::new(N, "msid-id and appdata must be 1-64 token characters"));
        }
        Ok(Self {
            id: val.token(id, "invalid msid-id")?,
            appdata: appdata.map(|a| val.token(a, "invalid appdata")).transpose()?,
        })
    }

    fn value(&self) -> Option<String> {
        Some(match &self.appdata {
            Some(a) => format!("{} {a}", self.id),
            None => self.id.to_string(),
        })
    }
}

/// Checks the value of an attribute this crate types (strict parsing).
pub(crate) fn check_known(attr: &Attribute) -> Result<(), AttributeError> {
    fn check<A: TypedAttribute>(attr: &Attribute) -> Result<(), AttributeError> {
        A::decode(attr.value.as_ref()).map(drop)
    }
    let name = attr.name.as_str();
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    match name.len() {
        3 if is("mid") => check::<Mid>(attr),
        4 if is("fmtp") => check::<Fmtp>(attr),
        4 if is("ssrc") => check::<Ssrc>(attr),
        4 if is("rtcp") => check::<Rtcp>(attr),
        4 if is("msid") => check::<Msid>(attr),
        5 if is("ptime") => check::<Ptime>(attr),
        5 if is("label") => check::<Label>(attr),
        5 if is("group") => check::<Group>(attr),
        5 if is("setup") => check::<Setup>(attr),
        6 if is("rtpmap") => check::<Rtpmap>(attr),
        6 if is("extmap") => check::<Extmap>(attr),
        6 if is("crypto") => check::<Crypto>(attr),
        7 if is("ice-pwd") => check::<IcePwd>(attr),
        8 if is("maxptime") => check::<Maxptime>(attr),
        8 if is("rtcp-mux") => check::<RtcpMux>(attr),
        8 | 9 if Direction::from_name(name).is_some() => no_value("direction", attr.value.as_ref()),
        9 if is("candidate") => check::<Candidate>(attr),
        9 if is("ice-ufrag") => check::<IceUfrag>(attr),
        10 if is("rtcp-rsize") => check::<RtcpRsize>(attr),
        11 if is("fingerprint") => check::<Fingerprint>(attr),
        11 if is("ice-options") => check::<IceOptions>(attr),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &'static str) -> Text {
        Text::from_static(s)
    }

    fn round_trip<A: TypedAttribute + PartialEq + std::fmt::Debug>(value: &'static str) -> A {
        let a = A::decode(Some(&t(value))).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(a.value().as_deref(), Some(value), "re-encodes as written");
        let attr = a.to_attribute();
        assert_eq!(attr.typed::<A>().unwrap().unwrap(), a);
        a
    }

    #[test]
    fn rtpmap_fmtp_ptime() {
        let r: Rtpmap = round_trip("111 opus/48000/2");
        assert_eq!((r.payload_type, r.encoding.as_str(), r.clock_rate, r.channels()), (111, "opus", 48000, 2));
        let r: Rtpmap = round_trip("0 PCMU/8000");
        assert_eq!(r.channels(), 1);
        assert!(Rtpmap::decode(Some(&t("128 x/8000"))).is_err());
        assert!(Rtpmap::decode(Some(&t("96 H264"))).is_err());
        assert!(Rtpmap::decode(None).is_err());
        let f: Fmtp = round_trip("97 profile-level-id=42e01f; packetization-mode=1");
        assert_eq!(f.param("PACKETIZATION-MODE"), Some("1"));
        let f: Fmtp = round_trip("101 0-15");
        assert_eq!(f.params().next(), Some(("0-15", None)));
        let p: Ptime = round_trip("20");
        assert_eq!(p.millis(), 20);
        let p: Ptime = round_trip("2.5");
        assert_eq!(p.micros, 2500);
        assert!(Ptime::decode(Some(&t("x"))).is_err());
        let _: Maxptime = round_trip("150");
    }

    #[test]
    fn directions() {
        assert_eq!(Direction::from_name("SENDONLY"), Some(Direction::SendOnly));
        assert_eq!(Direction::SendOnly.reverse(), Direction::RecvOnly);
        assert_eq!(Direction::from_flags(false, true), Direction::RecvOnly);
        assert!(!Direction::Inactive.sends());
    }

    #[test]
    fn transport_and_grouping() {
        let r: Rtcp = round_trip("53020 IN IP4 126.16.64.4");
        assert_eq!(r.port, 53020);
        let _: Rtcp = round_trip("9");
        assert!(Rtcp::decode(Some(&t("9 IN"))).is_err());
        assert!(RtcpMux::decode(None).is_ok());
        assert!(RtcpMux::decode(Some(&t("x"))).is_err());
        let g: Group = round_trip("BUNDLE 0 1 data");
        assert_eq!(g.mids.len(), 3);
        let _: Mid = round_trip("audio");
        let s: Ssrc = round_trip("3735928559 cname:user@example.com");
        assert_eq!(s.id, 3735928559);
        let _: Ssrc = round_trip("1 foo");
        let e: Extmap = round_trip("1/sendonly urn:ietf:params:rtp-hdrext:ssrc-audio-level vad=on");
        assert_eq!(e.direction, Some(Direction::SendOnly));
        assert!(Extmap::decode(Some(&t("0 urn:x"))).is_err());
        let _: Msid = round_trip("stream track");
    }

    #[test]
    fn ice_and_security() {
        let c: Candidate = round_trip("1 1 UDP 2130706431 10.0.1.1 8998 typ host");
        assert_eq!((c.component, c.port, c.kind.as_str()), (1, 8998, "host"));
        let c: Candidate =
            round_trip("2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0");
        assert_eq!(c.related_port, Some(8998));
        assert_eq!(c.extensions.len(), 1);
        assert!(Candidate::decode(Some(&t("1 1 UDP 1 10.0.1.1 8998 host"))).is_err());
        assert!(Candidate::decode(Some(&t("1 1 UDP 1 10.0.1.1 8998 typ"))).is_err());
        let _: IceUfrag = round_trip("8hhY");
        assert!(IceUfrag::decode(Some(&t("abc"))).is_err());
        let _: IcePwd = round_trip("asd88fgpdd777uzjYhagZg");
        let _: IceOptions = round_trip("trickle renomination");
        let f: Fingerprint = round_trip(
            "sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2",
        );
        assert_eq!(f.hash.as_str(), "sha-256");
        assert!(Fingerprint::decode(Some(&t("sha-256 1G:00"))).is_err());
        assert_eq!(round_trip::<Setup>("actpass"), Setup::ActPass);
        let c: Crypto =
            round_trip("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
        assert_eq!(c.tag, 1);
        assert!(Crypto::decode(Some(&t("1 AES_CM_128_HMAC_SHA1_80 key:abc"))).is_err());
        let _: Label = round_trip("11");
    }
}
