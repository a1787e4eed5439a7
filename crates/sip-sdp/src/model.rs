//! The session description model (RFC 8866 §5): every field typed, every text a slice of the
//! received buffer.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use bytes::Bytes;

use crate::attr::{Direction, Fmtp, Rtpmap, TypedAttribute};
use crate::error::{AttributeError, TextError};
use crate::text::{Decimal, Text, Token};

/// A `non-ws-string` (RFC 8866 §9): visible characters and UTF-8, no white space. Used for
/// user names, addresses and transport protocols, which fields separated by spaces hold.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Word(Bytes);

/// Whether `s` is a non-empty `non-ws-string`.
pub(crate) fn is_word(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| (0x21..=0x7e).contains(&b) || b >= 0x80)
}

impl Word {
    /// Checks `value` and wraps it.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, TextError> {
        let value = value.into();
        if is_word(&value) { Ok(Self(value)) } else { Err(TextError::LineBreak) }
    }

    /// A word from a static string; panics (a programming error) on white space or controls.
    pub fn from_static(value: &'static str) -> Self {
        assert!(is_word(value.as_bytes()), "not an SDP non-ws-string");
        Self(Bytes::from_static(value.as_bytes()))
    }

    pub(crate) fn trusted(value: Bytes) -> Self {
        Self(value)
    }

    /// The text, with invalid UTF-8 read as empty.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

impl FromStr for Word {
    type Err = TextError;

    fn from_str(s: &str) -> Result<Self, TextError> {
        Self::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// The network type and address type of an IP address: `IN IP4` or `IN IP6`.
fn addr_type_of(ip: IpAddr) -> Token {
    Token::from_static(if ip.is_ipv4() { "IP4" } else { "IP6" })
}

/// An IP address as SDP writes it (dotted quad, or RFC 5952 text for IPv6). An IPv4
/// address is written octet by octet with `Decimal`: `Display` for it costs over a
/// thousand instructions, and every answer writes one twice.
fn address_text(ip: IpAddr) -> Bytes {
    let IpAddr::V4(v4) = ip else {
        return Bytes::from(ip.to_string());
    };
    let mut out = Vec::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(Decimal::new(octet.into()).as_bytes());
    }
    Bytes::from(out)
}

/// `o=` (§5.2): who created the session, its id and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user name (`-` when there is none).
    pub username: Word,
    /// The session id, a numeric string.
    pub session_id: Token,
    /// The version, increased each time the description changes.
    pub session_version: u64,
    /// The network type, `IN`.
    pub net_type: Token,
    /// The address type, `IP4` or `IP6`.
    pub addr_type: Token,
    /// The address of the creating host.
    pub address: Word,
}

impl Origin {
    /// An origin with user `-` for the host at `ip`.
    pub fn new(session_id: u64, session_version: u64, ip: IpAddr) -> Self {
        Self {
            username: Word::from_static("-"),
            session_id: Token::trusted(Bytes::from(session_id.to_string())),
            session_version,
            net_type: Token::from_static("IN"),
            addr_type: addr_type_of(ip),
            address: Word::trusted(address_text(ip)),
        }
    }
}

/// `c=` (§5.7): where media goes. Multicast IPv4 addresses carry a TTL, and multicast
/// addresses a count of addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The network type, `IN`.
    pub net_type: Token,
    /// The address type, `IP4` or `IP6`.
    pub addr_type: Token,
    /// The address: IPv4, IPv6 (no brackets) or a domain name.
    pub address: Word,
    /// The TTL of an IPv4 multicast address.
    pub ttl: Option<u8>,
    /// The number of consecutive multicast addresses.
    pub count: Option<u32>,
}

impl Connection {
    /// `IN IP4 <ip>` or `IN IP6 <ip>` for a unicast address (a multicast IPv4 address also
    /// needs its `ttl`).
    pub fn new(ip: IpAddr) -> Self {
        Self {
            net_type: Token::from_static("IN"),
            addr_type: addr_type_of(ip),
            address: Word::trusted(address_text(ip)),
            ttl: None,
            count: None,
        }
    }

    /// The address as an IP address, unless it is a domain name.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.as_str().parse().ok()
    }

    /// Whether the address is `0.0.0.0`, the RFC 2543 way to put a call on hold.
    pub fn is_unspecified(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

/// `b=` (§5.8): a bandwidth limit such as `AS:64` or `TIAS:64000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// The bandwidth type (`CT`, `AS`, `TIAS`, ...).
    pub kind: Token,
    /// The value (kbit/s for CT and AS).
    pub value: u64,
}

/// `t=` (§5.9) with its `r=` lines (§5.10): when the session is active.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timing {
    /// NTP start time; 0 for unbounded.
    pub start: u64,
    /// NTP stop time; 0 for unbounded.
    pub stop: u64,
    /// The `r=` lines, as written.
    pub repeats: Vec<Text>,
}

/// `a=` (§5.13): a property attribute (`a=rtcp-mux`) or a value attribute (`a=ptime:20`).
#[derive(Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The name.
    pub name: Token,
    /// The value after `:`, if any.
    pub value: Option<Text>,
}

impl Attribute {
    /// A property attribute (no value).
    pub fn property(name: Token) -> Self {
        Self { name, value: None }
    }

    /// A value attribute.
    pub fn new(name: Token, value: Text) -> Self {
        Self { name, value: Some(value) }
    }

    /// Decodes the attribute as `A`, if it has `A`'s name.
    pub fn typed<A: TypedAttribute>(&self) -> Option<Result<A, AttributeError>> {
        self.name.eq_ignore_case(A::NAME).then(|| A::decode(self.value.as_ref()))
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "a={}:{}", self.name, v),
            None => write!(f, "a={}", self.name),
        }
    }
}

/// A line of a type this crate does not know, kept as received (lenient parsing only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    kind: u8,
    value: Text,
}

impl Line {
    pub(crate) fn new(kind: u8, value: Text) -> Self {
        Self { kind, value }
    }

    /// The type character.
    pub fn kind(&self) -> char {
        char::from(self.kind)
    }

    /// The value after `=`.
    pub fn value(&self) -> &Text {
        &self.value
    }

    pub(crate) fn kind_byte(&self) -> u8 {
        self.kind
    }
}

/// Helpers shared by the session level and the media level, both of which carry attributes.
fn find<'a>(attributes: &'a [Attribute], name: &'a str) -> impl Iterator<Item = &'a Attribute> + 'a {
    attributes.iter().filter(move |a| a.name.eq_ignore_case(name))
}

fn direction_in(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().rev().find_map(|a| Direction::from_name(a.name.as_str()))
}

fn set_direction_in(attributes: &mut Vec<Attribute>, direction: Direction) {
    let at = attributes.iter().position(|a| Direction::from_name(a.name.as_str()).is_some());
    attributes.retain(|a| Direction::from_name(a.name.as_str()).is_none());
    let attr = direction.to_attribute();
    match at {
        Some(i) => attributes.insert(i.min(attributes.len()), attr),
        None => attributes.push(attr),
    }
}

/// A media description (§5.14): `m=` and the lines up to the next `m=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The media type (`audio`, `video`, `application`, ...).
    pub kind: Token,
    /// The transport port; 0 rejects or disables the stream.
    pub port: u16,
    /// The number of ports, when written as `port/count`.
    pub port_count: Option<u16>,
    /// The transport protocol (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...).
    pub proto: Word,
    /// The media formats (RTP payload types for RTP profiles).
    pub formats: Vec<Token>,
    /// `i=`.
    pub information: Option<Text>,
    /// `c=` lines of this stream.
    pub connections: Vec<Connection>,
    /// `b=` lines of this stream.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=`, kept as received (obsolete).
    pub key: Option<Text>,
    /// `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// Lines of unknown types, kept (lenient parsing only).
    pub extra_lines: Vec<Line>,
}

impl Media {
    /// `m=<kind> <port> <proto> <formats...>` with nothing else.
    pub fn new(kind: Token, port: u16, proto: Word, formats: Vec<Token>) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            proto,
            formats,
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            // A media section of a real offer holds a dozen attributes or more.
            attributes: Vec::with_capacity(16),
            extra_lines: Vec::new(),
        }
    }

    /// The first attribute named `name` (without regard to case).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_case(name))
    }

    /// Every attribute named `name`.
    pub fn attributes_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Attribute> + 'a {
        find(&self.attributes, name)
    }

    /// Whether an attribute named `name` is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// The first attribute of type `A`, decoded.
    pub fn typed<A: TypedAttribute>(&self) -> Option<Result<A, AttributeError>> {
        self.attributes.iter().find_map(Attribute::typed)
    }

    /// Every attribute of type `A`, decoded.
    pub fn typed_all<A: TypedAttribute + 'static>(&self) -> impl Iterator<Item = Result<A, AttributeError>> + '_ {
        self.attributes.iter().filter_map(Attribute::typed)
    }

    /// The direction attribute of this stream, if it has one (§6.7).
    pub fn direction(&self) -> Option<Direction> {
        direction_in(&self.attributes)
    }

    /// Replaces the direction attributes of this stream with `direction`.
    pub fn set_direction(&mut self, direction: Direction) {
        set_direction_in(&mut self.attributes, direction);
    }

    /// The `a=rtpmap` of payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<Rtpmap> {
        self.typed_all::<Rtpmap>().filter_map(Result::ok).find(|r| r.payload_type == pt)
    }

    /// The `a=fmtp` of payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<Fmtp> {
        self.typed_all::<Fmtp>().filter_map(Result::ok).find(|f| f.format.as_str() == pt.to_string())
    }

    /// The formats as RTP payload types (those that are numbers 0–127).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.as_str().parse::<u8>().ok().filter(|pt| *pt < 128))
    }

    /// Whether the stream is an RTP one (its protocol contains `RTP`).
    pub fn is_rtp(&self) -> bool {
        self.proto.as_str().split('/').any(|p| p.eq_ignore_ascii_case("RTP"))
    }

    /// Whether the port is 0: a rejected or disabled stream (RFC 3264 §6).
    pub fn is_rejected(&self) -> bool {
        self.port == 0
    }
}

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=` (`-` when there is nothing to say).
    pub session_name: Text,
    /// `i=`.
    pub information: Option<Text>,
    /// `u=`.
    pub uri: Option<Text>,
    /// `e=` lines.
    pub emails: Vec<Text>,
    /// `p=` lines.
    pub phones: Vec<Text>,
    /// The session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines with their `r=` lines (at least one).
    pub timing: Vec<Timing>,
    /// `z=`, kept as received.
    pub time_zones: Option<Text>,
    /// `k=`, kept as received (obsolete).
    pub key: Option<Text>,
    /// Session-level `a=` lines.
    pub attributes: Vec<Attribute>,
    /// The media descriptions, in order.
    pub media: Vec<Media>,
    /// Session-level lines of unknown types, kept (lenient parsing only).
    pub extra_lines: Vec<Line>,
}

impl SessionDescription {
    /// A description with `origin`, `s=-`, `t=0 0` and nothing else.
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            session_name: Text::from_static("-"),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timing: vec![Timing::default()],
            time_zones: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
            extra_lines: Vec::new(),
        }
    }

    /// The first session-level attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_case(name))
    }

    /// Every session-level attribute named `name`.
    pub fn attributes_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Attribute> + 'a {
        find(&self.attributes, name)
    }

    /// The first session-level attribute of type `A`, decoded.
    pub fn typed<A: TypedAttribute>(&self) -> Option<Result<A, AttributeError>> {
        self.attributes.iter().find_map(Attribute::typed)
    }

    /// Every session-level attribute of type `A`, decoded.
    pub fn typed_all<A: TypedAttribute + 'static>(&self) -> impl Iterator<Item = Result<A, AttributeError>> + '_ {
        self.attributes.iter().filter_map(Attribute::typed)
    }

    /// The session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        direction_in(&self.attributes)
    }

    /// The direction in force for media `index`: its own attribute, else the session's,
    /// else `sendrecv` (§6.7).
    pub fn media_direction(&self, index: usize) -> Direction {
        self.media.get(index).and_then(Media::direction).or_else(|| self.direction()).unwrap_or(Direction::SendRecv)
    }

    /// The connection in force for media `index`: its first `c=`, else the session's.
    pub fn media_connection(&self, index: usize) -> Option<&Connection> {
        self.media.get(index).and_then(|m| m.connections.first()).or(self.connection.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for ip in ["0.0.0.0", "9.10.99.100", "192.0.2.1", "255.255.255.255", "10.0.0.255", "::1", "2001:db8::7"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(&address_text(ip)[..], ip.to_string().as_bytes());
            assert_eq!(Connection::new(ip).ip(), Some(ip));
            assert_eq!(Origin::new(1, 1, ip).address.as_str(), ip.to_string());
        }
    }
}
