//! `Via` (§20.42) and the transport names it carries.

use std::fmt;
use std::net::IpAddr;

use bytes::{BufMut, Bytes, BytesMut};

use super::params::{ScannedValue, scan_params_checked, write_params_with};
use super::{Params, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{self, Cursor, Span};
use crate::name::HeaderName;
use crate::uri::{Host, HostKind, parse_ipv4, parse_ipv6, scan_host};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum KnownTransport {
    Udp,
    Tcp,
    Tls,
    Sctp,
    TlsSctp,
    Ws,
    Wss,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum TransportRepr {
    Known(KnownTransport),
    Other(Bytes),
}

/// A transport name as in a Via (`UDP`, `TCP`, `TLS`, `SCTP`, `TLS-SCTP`, `WS`, `WSS`) or
/// any other token. Comparison ignores case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Transport(TransportRepr);

impl Transport {
    /// UDP.
    pub const UDP: Self = Self(TransportRepr::Known(KnownTransport::Udp));
    /// TCP.
    pub const TCP: Self = Self(TransportRepr::Known(KnownTransport::Tcp));
    /// TLS over TCP.
    pub const TLS: Self = Self(TransportRepr::Known(KnownTransport::Tls));
    /// SCTP (RFC 4168).
    pub const SCTP: Self = Self(TransportRepr::Known(KnownTransport::Sctp));
    /// TLS over SCTP (RFC 4168).
    pub const TLS_SCTP: Self = Self(TransportRepr::Known(KnownTransport::TlsSctp));
    /// WebSocket (RFC 7118).
    pub const WS: Self = Self(TransportRepr::Known(KnownTransport::Ws));
    /// Secure WebSocket (RFC 7118).
    pub const WSS: Self = Self(TransportRepr::Known(KnownTransport::Wss));

    /// The transport named by `token` (any case); `None` unless it is a token.
    pub fn from_bytes(token: Bytes) -> Option<Self> {
        if !lex::is_token(&token) {
            return None;
        }
        Some(Self::from_token(token))
    }

    fn from_token(token: Bytes) -> Self {
        Self::classify(&token).unwrap_or(Self(TransportRepr::Other(token)))
    }

    /// The known transport named by `token`, in any case.
    fn classify(token: &[u8]) -> Option<Self> {
        const ALL: [(&[u8], KnownTransport); 7] = [
            (b"UDP", KnownTransport::Udp),
            (b"TCP", KnownTransport::Tcp),
            (b"TLS", KnownTransport::Tls),
            (b"SCTP", KnownTransport::Sctp),
            (b"TLS-SCTP", KnownTransport::TlsSctp),
            (b"WS", KnownTransport::Ws),
            (b"WSS", KnownTransport::Wss),
        ];
        ALL.iter().find(|(name, _)| token.eq_ignore_ascii_case(name)).map(|&(_, k)| Self(TransportRepr::Known(k)))
    }

    /// The name in upper case for the known transports, as written otherwise.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            TransportRepr::Known(k) => match k {
                KnownTransport::Udp => "UDP",
                KnownTransport::Tcp => "TCP",
                KnownTransport::Tls => "TLS",
                KnownTransport::Sctp => "SCTP",
                KnownTransport::TlsSctp => "TLS-SCTP",
                KnownTransport::Ws => "WS",
                KnownTransport::Wss => "WSS",
            },
            TransportRepr::Other(b) => std::str::from_utf8(b).unwrap_or(""),
        }
    }

    /// Whether the transport delivers reliably (everything but UDP and unknown ones), which
    /// decides the retransmission timers of §17.
    pub fn is_reliable(&self) -> bool {
        matches!(&self.0, TransportRepr::Known(k) if *k != KnownTransport::Udp)
    }

    /// Whether the transport is secured (TLS, TLS-SCTP, WSS).
    pub fn is_secure(&self) -> bool {
        matches!(&self.0, TransportRepr::Known(KnownTransport::Tls | KnownTransport::TlsSctp | KnownTransport::Wss))
    }

    /// The port a sent-by without a port means: 5061 for TLS, 443 for WSS, 80 for WS,
    /// 5060 otherwise (§18.1, RFC 7118).
    pub fn default_port(&self) -> u16 {
        match &self.0 {
            TransportRepr::Known(KnownTransport::Tls | KnownTransport::TlsSctp) => 5061,
            TransportRepr::Known(KnownTransport::Ws) => 80,
            TransportRepr::Known(KnownTransport::Wss) => 443,
            _ => 5060,
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Via` (§20.42): one hop of the path a request took, where its response goes back.
#[derive(Clone)]
pub struct Via {
    text: Bytes,
    protocol: Span,
    version: Span,
    transport: Span,
    host: Span,
    params: Span,
    /// The first `branch` parameter's value, found when decoding: transaction matching
    /// reads it for every message.
    branch: Span,
    /// The first `received`, `rport` and `maddr` parameters, found when decoding: the
    /// transport reads them for every request and response.
    well_known: WellKnownParams,
    port: Option<u16>,
    host_kind: HostKind,
}

/// The first of each parameter [`Via`] reads often, as decoding checked it.
#[derive(Clone, Copy, Default)]
struct WellKnownParams {
    received: Option<IpAddr>,
    /// `Some(None)`: present without a value.
    rport: Option<Option<u16>>,
    maddr: Option<Span>,
}

/// The magic cookie that starts every RFC 3261 branch (§8.1.1.7).
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

impl Via {
    /// `SIP/2.0/<transport> <host>[:<port>]` with no parameters.
    pub fn new(transport: &Transport, host: &Host, port: Option<u16>) -> Self {
        let mut out = BytesMut::with_capacity(64);
        out.put_slice(b"SIP/2.0/");
        out.put_slice(transport.as_str().as_bytes());
        out.put_u8(b' ');
        host.encode(&mut out);
        if let Some(p) = port {
            out.put_u8(b':');
            lex::put_decimal(&mut out, u32::from(p));
        }
        Self::rebuilt(out)
    }

    /// Decodes text the builders wrote from valid parts.
    fn rebuilt(out: BytesMut) -> Self {
        let text = out.freeze();
        match Self::decode(&text) {
            Ok(v) => v,
            // Unreachable: builders validate their parts first.
            Err(_) => Self {
                text: Bytes::from_static(b"SIP/2.0/UDP invalid"),
                protocol: Span::of(0..3),
                version: Span::of(4..7),
                transport: Span::of(8..11),
                host: Span::of(12..19),
                params: Span::of(19..19),
                branch: Span::NONE,
                well_known: WellKnownParams::default(),
                port: None,
                host_kind: HostKind::Domain,
            },
        }
    }

    /// The protocol name, `SIP`.
    pub fn protocol(&self) -> &str {
        lex::ascii(self.protocol.of_text(&self.text))
    }

    /// The protocol version, `2.0`.
    pub fn version(&self) -> &str {
        lex::ascii(self.version.of_text(&self.text))
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        let r = self.transport.range().unwrap_or(0..0);
        Transport::classify(&self.text[r.clone()])
            .unwrap_or_else(|| Transport(TransportRepr::Other(self.text.slice(r))))
    }

    /// The sent-by host.
    pub fn host(&self) -> Host {
        Host::from_span(&self.text, self.host, self.host_kind)
    }

    /// The sent-by host as written (an IPv6 address without its brackets): [`Via::host`]
    /// without building a [`Host`].
    pub fn host_str(&self) -> &str {
        lex::ascii(self.host.of_text(&self.text))
    }

    /// The sent-by port, if written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The parameters.
    pub fn params(&self) -> Params<'_> {
        Params::new(self.params.of_text(&self.text))
    }

    /// The `branch` parameter: the transaction identifier.
    pub fn branch(&self) -> Option<&str> {
        self.branch.get(&self.text).map(lex::ascii)
    }

    /// Whether the branch starts with the magic cookie of RFC 3261 (§8.1.1.7); if not, the
    /// sender follows RFC 2543 and transactions match by the rules of §17.2.3.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
    }

    /// The `received` parameter (§18.2.1), with or without brackets around IPv6.
    pub fn received(&self) -> Option<IpAddr> {
        self.well_known.received
    }

    /// The `rport` parameter (RFC 3581): `Some(None)` when present without a value.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.well_known.rport
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&str> {
        // A quoted value is no token (as `Param::token` says).
        let value = self.well_known.maddr?.get(&self.text)?;
        (value.first() != Some(&b'"')).then(|| lex::ascii(value))
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params().get("ttl").and_then(|p| p.value).and_then(|v| u8::try_from(lex::parse_u32(v)?).ok())
    }

    /// The Via as written.
    pub fn as_bytes(&self) -> &Bytes {
        &self.text
    }

    /// The same Via with a parameter set (replacing any earlier one of that name).
    pub fn with_param(&self, name: &str, value: Option<&str>) -> Result<Self, DecodeError> {
        let end = self.params.start as usize;
        let mut out = BytesMut::with_capacity(self.text.len() + name.len() + 16);
        out.put_slice(&self.text[..end]);
        write_params_with(&mut out, self.params.of_text(&self.text), name, value)?;
        Ok(Self::rebuilt(out))
    }

    /// The same Via with another transport and sent-by, its parameters kept as written:
    /// what a transport fills in when it sends a request (§18.1.1).
    pub fn with_sent_by(&self, transport: &Transport, host: &Host, port: Option<u16>) -> Self {
        let params = self.params.of_text(&self.text);
        let mut out = BytesMut::from(&Self::new(transport, host, port).text[..]);
        out.put_slice(params);
        Self::rebuilt(out)
    }

    /// The same Via with a branch; it must be a token.
    pub fn with_branch(&self, branch: &str) -> Result<Self, DecodeError> {
        if !lex::is_token(branch.as_bytes()) {
            return Err(DecodeError::new("branch is not a token", 0));
        }
        self.with_param("branch", Some(branch))
    }
}

fn parse_received(v: &[u8]) -> Option<IpAddr> {
    let v = v.strip_prefix(b"[").and_then(|v| v.strip_suffix(b"]")).unwrap_or(v);
    parse_ipv4(v).map(IpAddr::V4).or_else(|| parse_ipv6(v).map(IpAddr::V6))
}

/// The parameters of a Via being decoded: each checked where §20.42 gives it a syntax,
/// and the first `branch`, `received`, `rport` and `maddr` noted.
struct ViaParams {
    branch: Span,
    well_known: WellKnownParams,
}

impl ViaParams {
    fn new() -> Self {
        Self { branch: Span::NONE, well_known: WellKnownParams::default() }
    }

    /// Checks the parameter `name` with `value`, noting it when it is the first of its
    /// name the Via reads; `false` when its value is malformed.
    fn check(&mut self, name: &[u8], value: Option<ScannedValue<'_>>) -> bool {
        let v = value.map(|v| v.bytes);
        let w = &mut self.well_known;
        match name.len() {
            6 if name.eq_ignore_ascii_case(b"branch") => {
                let Some(v) = value.filter(|v| v.is_token) else { return false };
                if !self.branch.is_some() {
                    self.branch = v.span();
                }
            }
            5 if name.eq_ignore_ascii_case(b"rport") => {
                let port = match v {
                    None => None,
                    Some(v) => match lex::parse_u32(v).and_then(|p| u16::try_from(p).ok()) {
                        Some(p) => Some(p),
                        None => return false,
                    },
                };
                w.rport.get_or_insert(port);
            }
            8 if name.eq_ignore_ascii_case(b"received") => {
                let Some(ip) = v.and_then(parse_received) else { return false };
                w.received.get_or_insert(ip);
            }
            3 if name.eq_ignore_ascii_case(b"ttl") => {
                return v.is_some_and(|v| v.len() <= 3 && lex::parse_u32(v).is_some_and(|t| t <= 255));
            }
            5 if name.eq_ignore_ascii_case(b"maddr") => {
                let Some(v) = value else { return false };
                let mut c = Cursor::new(v.bytes);
                if scan_host(&mut c).is_err() || !c.at_end() {
                    return false;
                }
                w.maddr.get_or_insert(v.span());
            }
            _ => {}
        }
        true
    }
}

impl TypedHeader for Via {
    const NAME: HeaderName = HeaderName::VIA;
    // The text is private: the builders write it from checked parts and decode it, or
    // decoding checked it.
    const WRITES_VALID: bool = true;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let (protocol, version) = if c.buf[c.pos..].starts_with(b"SIP/2.0/") {
                // What nearly every Via says, without white space around the slashes.
                c.pos += 8;
                (c.pos - 8..c.pos - 5, c.pos - 4..c.pos - 1)
            } else {
                let protocol = c.expect_token("expected the protocol name")?;
                c.expect_sep(b'/', "expected '/' after the protocol name")?;
                let version = c.expect_token("expected the protocol version")?;
                c.expect_sep(b'/', "expected '/' after the protocol version")?;
                (protocol, version)
            };
            let transport = c.expect_token("expected the transport")?;
            if !c.skip_sws() {
                return Err(c.error("expected white space before sent-by"));
            }
            let (host, host_kind) = scan_host(c)?;
            let mut port = None;
            if c.eat_sep(b':') {
                let r = c.take_while(lex::DIGIT);
                port = Some(
                    lex::parse_u32(&value[r.clone()])
                        .and_then(|p| u16::try_from(p).ok())
                        .ok_or(DecodeError::new("invalid port", r.start))?,
                );
            }
            let mut scanned = ViaParams::new();
            let params = scan_params_checked(c, |name, v| scanned.check(name, v))?;
            let ViaParams { branch, well_known } = scanned;
            Ok(Self {
                text: value.clone(),
                protocol: Span::of(protocol),
                version: Span::of(version),
                transport: Span::of(transport),
                host,
                params,
                branch,
                well_known,
                port,
                host_kind,
            })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }
}

/// Vias are equal when protocol, version and transport (without regard to case), sent-by
/// and parameters are.
impl PartialEq for Via {
    fn eq(&self, other: &Self) -> bool {
        self.protocol().eq_ignore_ascii_case(other.protocol())
            && self.version() == other.version()
            && self.transport() == other.transport()
            && self.host() == other.host()
            && self.port == other.port
            && self.params() == other.params()
    }
}

impl Eq for Via {}

impl fmt::Debug for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Via({})", String::from_utf8_lossy(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via(s: &'static str) -> Result<Via, DecodeError> {
        Via::decode(&Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn folded_and_spaced() {
        let v = via("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.transport(), Transport::UDP);
        assert_eq!(v.host().as_str(), "192.0.2.2");
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.has_rfc3261_branch());
        let v = via("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8").unwrap();
        assert_eq!(v.host().as_str(), "spindle.example.com");
        assert!(v.has_rfc3261_branch());
    }

    /// `received`, `rport` and `maddr` are noted when decoding: each reads as the first
    /// parameter of its name (in any case) says, as a search of the parameters finds it.
    #[test]
    fn well_known_parameters_are_the_first_of_their_name() {
        /// Via text, then the received, rport and maddr it reads as.
        type Case = (&'static str, Option<&'static str>, Option<Option<u16>>, Option<&'static str>);
        let cases: [Case; 6] = [
            ("SIP/2.0/UDP h;branch=z9hG4bK1", None, None, None),
            ("SIP/2.0/UDP h;received=192.0.2.1;received=192.0.2.2", Some("192.0.2.1"), None, None),
            ("SIP/2.0/UDP h;RPORT;rport=5070;MADDR=239.1.1.1", None, Some(None), Some("239.1.1.1")),
            ("SIP/2.0/UDP h;rport=5070;rport", None, Some(Some(5070)), None),
            (
                "SIP/2.0/UDP h;Received=[2001:db8::1];maddr=a.example;maddr=b.example",
                Some("2001:db8::1"),
                None,
                Some("a.example"),
            ),
            ("SIP/2.0/UDP h;rports=1;xreceived=2;maddrx=3", None, None, None),
        ];
        for (text, received, rport, maddr) in cases {
            let v = via(text).unwrap();
            assert_eq!(v.received(), received.map(|r| r.parse().unwrap()), "{text}");
            assert_eq!(v.rport(), rport, "{text}");
            assert_eq!(v.maddr(), maddr, "{text}");
            assert_eq!(v.params().get("maddr").and_then(|p| p.token()), maddr, "{text}");
            let rebuilt = v.with_param("rport", Some("9")).unwrap();
            assert_eq!(rebuilt.rport(), Some(Some(9)), "{text}");
            assert_eq!(rebuilt.received(), v.received(), "{text}");
        }
    }

    #[test]
    fn ipv6_and_received() {
        let v = via("SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255;branch=z9hG4bKas3;rport=5070").unwrap();
        assert_eq!(v.host().as_str(), "2001:db8::9:1");
        assert_eq!(v.port(), Some(6050));
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.branch(), Some("z9hG4bKas3"));
        assert_eq!(v.rport(), Some(Some(5070)));
        let v = via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];rport").unwrap();
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.rport(), Some(None));
        let v = via("SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19").unwrap();
        assert_eq!(v.port(), Some(19823));
    }

    #[test]
    fn malformed() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0/UDP192.0.2.1",
            "SIP/2.0 192.0.2.1",
            "SIP/2.0/UDP 192.0.2.1:70000",
            "SIP/2.0/UDP 192.0.2.1;ttl=300",
            "SIP/2.0/UDP 192.0.2.1;received=example.com",
            "SIP/2.0/UDP 192.0.2.1;rport=x",
            "SIP/2.0/UDP 192.0.2.1;branch",
            "SIP/2.0/UDP 2001:db8::1",
        ] {
            assert!(via(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn transports() {
        let v = via("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en").unwrap();
        assert_eq!(v.transport().as_str(), "UNKNOWN");
        assert!(!v.transport().is_reliable());
        assert_eq!(Transport::from_bytes(Bytes::from_static(b"tls")), Some(Transport::TLS));
        assert_eq!(Transport::TLS.default_port(), 5061);
        assert!(Transport::WSS.is_secure() && Transport::WSS.is_reliable());
    }

    #[test]
    fn build_and_encode() {
        let v = Via::new(&Transport::TCP, &"[::1]".parse().unwrap(), Some(5070))
            .with_branch("z9hG4bK776asdhds")
            .unwrap()
            .with_param("rport", None)
            .unwrap();
        assert_eq!(v.to_bytes().as_ref(), b"SIP/2.0/TCP [::1]:5070;branch=z9hG4bK776asdhds;rport");
        assert_eq!(Via::decode(&v.to_bytes()).unwrap(), v);
        let moved = v.with_sent_by(&Transport::UDP, &"192.0.2.4".parse().unwrap(), None);
        assert_eq!(moved.to_bytes().as_ref(), b"SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK776asdhds;rport");
        let spaced = via("SIP/2.0/TCP a.example.com ;branch=z9hG4bK1").unwrap();
        let moved = spaced.with_sent_by(&Transport::TLS, &"b.example.com".parse().unwrap(), Some(5061));
        assert_eq!(moved.to_bytes().as_ref(), b"SIP/2.0/TLS b.example.com:5061;branch=z9hG4bK1");
        assert_eq!(moved.branch(), Some("z9hG4bK1"));
    }
}
