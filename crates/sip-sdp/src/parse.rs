//! The parser: lines in, model out, in one pass; strict or lenient.

use std::net::IpAddr;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::attr::check_known;
use crate::error::ParseError;
use crate::model::{Attribute, Bandwidth, Connection, Line, Media, Origin, SessionDescription, Timing, Word, is_word};
use crate::text::{Text, Token, is_token};

/// How strictly a description is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reject whatever RFC 8866 forbids: lines out of order or repeated, unknown line types,
    /// malformed fields and known attributes, an empty `s=`, no `t=`, media without a
    /// connection address, an unterminated last line.
    #[default]
    Strict,
    /// Accept what deployed endpoints send: lines in any order within a section, repeated
    /// single lines and unknown line types (kept in `extra_lines`), runs of white space
    /// between fields, an empty or missing `s=`, a missing `t=` (read as `t=0 0`), media
    /// with no formats, addresses of any shape, a last line without its line break.
    Lenient,
}

/// The position of each line type in its section (RFC 8866 §5), and whether it repeats.
fn session_rank(kind: u8) -> Option<(u8, bool)> {
    Some(match kind {
        b'v' => (0, false),
        b'o' => (1, false),
        b's' => (2, false),
        b'i' => (3, false),
        b'u' => (4, false),
        b'e' => (5, true),
        b'p' => (6, true),
        b'c' => (7, false),
        b'b' => (8, true),
        b't' => (9, true),
        b'r' => (10, true),
        b'z' => (11, false),
        b'k' => (12, false),
        b'a' => (13, true),
        _ => return None,
    })
}

fn media_rank(kind: u8) -> Option<(u8, bool)> {
    Some(match kind {
        b'i' => (1, false),
        b'c' => (2, true),
        b'b' => (3, true),
        b'k' => (4, false),
        b'a' => (5, true),
        _ => return None,
    })
}

struct Parser<'a> {
    buf: &'a Bytes,
    mode: Mode,
    line: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> ParseError {
        ParseError::new(self.line, reason)
    }

    fn strict(&self) -> bool {
        self.mode == Mode::Strict
    }

    /// The fields of a structured line: separated by one SP (strict) or by white space.
    /// Lines have a handful of fields (an `m=` line with many formats more): no allocation
    /// for the common ones.
    fn fields<'v>(&self, value: &'v [u8]) -> Fields<'v> {
        let mut fields = Fields::new();
        if self.strict() {
            let mut start = 0;
            for space in memchr::memchr_iter(b' ', value) {
                fields.push(&value[start..space]);
                start = space + 1;
            }
            fields.push(&value[start..]);
        } else {
            for field in value.split(|&b| b == b' ' || b == b'\t') {
                if !field.is_empty() {
                    fields.push(field);
                }
            }
        }
        fields
    }

    /// The bytes of `part`, a piece of the buffer being parsed.
    fn slice(&self, part: &[u8]) -> Bytes {
        let start = (part.as_ptr() as usize).wrapping_sub(self.buf.as_ptr() as usize);
        self.buf.slice(start..start + part.len())
    }

    fn token(&self, part: &[u8], reason: &'static str) -> Result<Token, ParseError> {
        if is_token(part) { Ok(Token::trusted(self.slice(part))) } else { Err(self.err(reason)) }
    }

    fn word(&self, part: &[u8], reason: &'static str) -> Result<Word, ParseError> {
        if is_word(part) { Ok(Word::trusted(self.slice(part))) } else { Err(self.err(reason)) }
    }

    /// A decimal number of digits only, that fits `T`.
    fn number<T: TryFrom<u64>>(&self, part: &[u8], reason: &'static str) -> Result<T, ParseError> {
        digits(part).and_then(|n| T::try_from(n).ok()).ok_or(self.err(reason))
    }

    fn origin(&self, value: &[u8]) -> Result<Origin, ParseError> {
        let f = self.fields(value);
        let [username, id, version, net, addr_type, address] = f[..] else {
            return Err(self.err("o= needs six fields: username sess-id sess-version nettype addrtype address"));
        };
        if self.strict() && !id.iter().all(u8::is_ascii_digit) {
            return Err(self.err("o= sess-id must be digits"));
        }
        Ok(Origin {
            username: self.word(username, "invalid o= username")?,
            session_id: self.token(id, "invalid o= sess-id")?,
            session_version: self.number(version, "o= sess-version must be digits below 2^64")?,
            net_type: self.token(net, "invalid o= nettype")?,
            addr_type: self.token(addr_type, "invalid o= addrtype")?,
            address: self.word(address, "invalid o= address")?,
        })
    }

    fn connection(&self, value: &[u8]) -> Result<Connection, ParseError> {
        let f = self.fields(value);
        let [net, addr_type, address] = f[..] else {
            return Err(self.err("c= needs three fields: nettype addrtype connection-address"));
        };
        let net_type = self.token(net, "invalid c= nettype")?;
        let addr_type = self.token(addr_type, "invalid c= addrtype")?;
        let mut parts = address.split(|&b| b == b'/');
        let host = parts.next().unwrap_or_default();
        let first: Option<u32> = parts.next().map(|n| self.number(n, "invalid c= TTL or address count")).transpose()?;
        let second: Option<u32> = parts.next().map(|n| self.number(n, "invalid c= address count")).transpose()?;
        if parts.next().is_some() {
            return Err(self.err("too many '/' in c= address"));
        }
        let v4 = addr_type.as_str() == "IP4";
        let v6 = addr_type.as_str() == "IP6";
        let ip = parse_ip(host);
        let multicast = ip.is_some_and(|ip| ip.is_multicast());
        // IPv4 multicast: /ttl[/count]; IPv6 multicast: /count.
        let (ttl, count) = if v4 && multicast { (first, second) } else { (None, first.or(second)) };
        if self.strict() && net_type.as_str() == "IN" {
            let family_ok = match ip {
                Some(IpAddr::V4(_)) => v4,
                Some(IpAddr::V6(_)) => v6,
                None => is_fqdn(host),
            };
            if !family_ok {
                return Err(self.err("c= address does not match its address type"));
            }
            if v4 && multicast && ttl.is_none() {
                return Err(self.err("IPv4 multicast c= address without TTL"));
            }
            if !multicast && (first.is_some() || second.is_some()) {
                return Err(self.err("TTL or count on a unicast c= address"));
            }
            if v6 && second.is_some() {
                return Err(self.err("IPv6 c= address takes no TTL"));
            }
        }
        Ok(Connection {
            net_type,
            addr_type,
            address: self.word(host, "invalid c= address")?,
            ttl: ttl.map(|t| u8::try_from(t).map_err(|_| self.err("c= TTL must be 0-255"))).transpose()?,
            count,
        })
    }

    fn bandwidth(&self, value: &[u8]) -> Result<Bandwidth, ParseError> {
        let colon = memchr::memchr(b':', value).ok_or(self.err("b= needs bwtype:bandwidth"))?;
        Ok(Bandwidth {
            kind: self.token(&value[..colon], "invalid b= bwtype")?,
            value: self.number(value[colon + 1..].trim_ascii(), "b= bandwidth must be digits")?,
        })
    }

    fn timing(&self, value: &[u8]) -> Result<Timing, ParseError> {
        let f = self.fields(value);
        let [start, stop] = f[..] else {
            return Err(self.err("t= needs start-time stop-time"));
        };
        Ok(Timing {
            start: self.number(start, "t= start-time must be digits")?,
            stop: self.number(stop, "t= stop-time must be digits")?,
            repeats: Vec::new(),
        })
    }

    fn attribute(&self, value: &[u8]) -> Option<Attribute> {
        let (name, val) = match memchr::memchr(b':', value) {
            Some(i) => (&value[..i], Some(&value[i + 1..])),
            None => (value, None),
        };
        if !is_token(name) {
            return None;
        }
        Some(Attribute { name: Token::trusted(self.slice(name)), value: val.map(|v| Text::trusted(self.slice(v))) })
    }

    fn media(&self, value: &[u8]) -> Result<Media, ParseError> {
        let f = self.fields(value);
        if f.len() < 3 || (self.strict() && f.len() < 4) {
            return Err(self.err("m= needs media port proto and at least one fmt"));
        }
        let (port, port_count) = match memchr::memchr(b'/', f[1]) {
            Some(i) => (&f[1][..i], Some(self.number(&f[1][i + 1..], "invalid m= port count")?)),
            None => (f[1], None),
        };
        let proto = f[2];
        if !proto.split(|&b| b == b'/').all(is_token) {
            return Err(self.err("m= proto must be tokens separated by '/'"));
        }
        let mut media = Media::new(
            self.token(f[0], "invalid m= media")?,
            self.number(port, "m= port must be 0-65535")?,
            Word::trusted(self.slice(proto)),
            f[3..].iter().map(|fmt| self.token(fmt, "invalid m= fmt")).collect::<Result<_, _>>()?,
        );
        media.port_count = port_count;
        if self.strict()
            && media.is_rtp()
            && media.formats.iter().any(|fmt| fmt.as_str().parse::<u8>().map_or(true, |pt| pt > 127))
        {
            return Err(self.err("RTP m= formats must be payload types 0-127"));
        }
        Ok(media)
    }
}

/// The fields of one line.
type Fields<'v> = SmallVec<[&'v [u8]; 8]>;

/// `1*DIGIT` as a number, `None` when empty, not all digits, or above `u64::MAX`.
fn digits(part: &[u8]) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    part.iter().try_fold(0u64, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// An IP address: a dotted-quad IPv4 address read here (the common case; octets of one
/// to three digits, no leading zero, as std reads them), anything else left to std.
fn parse_ip(host: &[u8]) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    let mut parts = host.split(|&b| b == b'.');
    let dotted_quad = octets.iter_mut().all(|octet| {
        parts
            .next()
            .filter(|p| (1..=3).contains(&p.len()) && (p.len() == 1 || p[0] != b'0'))
            .and_then(digits)
            .and_then(|n| u8::try_from(n).ok())
            .map(|n| *octet = n)
            .is_some()
    }) && parts.next().is_none();
    if dotted_quad {
        return Some(IpAddr::from(octets));
    }
    std::str::from_utf8(host).ok().and_then(|h| h.parse().ok())
}

/// `FQDN = 4*(alpha-numeric / "-" / ".")` (RFC 8866 §9).
fn is_fqdn(s: &[u8]) -> bool {
    s.len() >= 4 && s.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Fills a singular field; `Err` when it is already set (the line is then kept as an extra
/// line in lenient mode, rejected in strict mode).
fn set_once<T>(field: &mut Option<T>, value: T) -> Result<(), ()> {
    if field.is_some() {
        return Err(());
    }
    *field = Some(value);
    Ok(())
}

/// Parses one description.
pub(crate) fn parse(buf: &Bytes, mode: Mode) -> Result<SessionDescription, ParseError> {
    let mut p = Parser { buf, mode, line: 0 };
    let b = &buf[..];
    let mut pos = 0;

    let mut version_seen = false;
    let mut origin: Option<Origin> = None;
    let mut session_name: Option<Text> = None;
    let mut information = None;
    let mut uri = None;
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    let mut connection = None;
    let mut bandwidths = Vec::new();
    let mut timing: Vec<Timing> = Vec::new();
    let mut time_zones = None;
    let mut key = None;
    let mut attributes = Vec::new();
    let mut extra_lines = Vec::new();
    let mut media: Vec<Media> = Vec::new();
    let mut last_rank = 0u8;

    while pos < b.len() {
        p.line += 1;
        // The line ends at LF or CRLF; a CR anywhere else, or a NUL, is an error.
        let (content, next) = match memchr::memchr3(b'\n', b'\r', 0, &b[pos..]).map(|i| pos + i) {
            Some(i) if b[i] == b'\n' => (&b[pos..i], i + 1),
            Some(i) if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') => (&b[pos..i], i + 2),
            Some(_) => return Err(p.err("NUL or CR inside a line")),
            None => {
                if p.strict() {
                    return Err(p.err("last line not terminated by CRLF"));
                }
                (&b[pos..], b.len())
            }
        };
        pos = next;
        if content.is_empty() {
            if p.strict() {
                return Err(p.err("empty line"));
            }
            continue;
        }
        if content.len() < 2 || content[1] != b'=' {
            return Err(p.err("expected '<type>=<value>'"));
        }
        let kind = content[0];
        let value = &content[2..];
        let text = || Text::trusted(p.slice(value));
        let extra = || Line::new(kind, Text::trusted(p.slice(value)));

        if p.line == 1 {
            if kind != b'v' || value != b"0" {
                return Err(p.err("a description starts with v=0"));
            }
            version_seen = true;
            continue;
        }
        if kind == b'm' {
            media.push(p.media(value)?);
            last_rank = 0;
            continue;
        }

        // Order within the section.
        let rank = if media.is_empty() { session_rank(kind) } else { media_rank(kind) };
        match rank {
            None if p.strict() => return Err(p.err("unknown or misplaced line type")),
            None => {
                match media.last_mut() {
                    Some(m) => m.extra_lines.push(extra()),
                    None => extra_lines.push(extra()),
                }
                continue;
            }
            Some((r, repeats)) => {
                // A t= may follow the r= lines of the time description before it.
                let restart_time = kind == b't' && last_rank == 10;
                if p.strict() && (r < last_rank && !restart_time || (r == last_rank && !repeats)) {
                    return Err(p.err("line out of order or repeated"));
                }
                last_rank = last_rank.max(r);
            }
        }

        let Some(m) = media.last_mut() else {
            // Session level.
            let kept = match kind {
                b'v' => Err(()),
                b'o' => set_once(&mut origin, p.origin(value)?),
                b's' => {
                    if p.strict() && value.is_empty() {
                        return Err(p.err("empty s="));
                    }
                    set_once(&mut session_name, text())
                }
                b'i' => set_once(&mut information, text()),
                b'u' => set_once(&mut uri, text()),
                b'e' => {
                    emails.push(text());
                    Ok(())
                }
                b'p' => {
                    phones.push(text());
                    Ok(())
                }
                b'c' => set_once(&mut connection, p.connection(value)?),
                b'b' => {
                    bandwidths.push(p.bandwidth(value)?);
                    Ok(())
                }
                b't' => {
                    timing.push(p.timing(value)?);
                    Ok(())
                }
                b'r' => {
                    // Strictly an r= follows its t= (the order check saw to it); leniently
                    // one before any t= belongs to an unbounded time, t=0 0.
                    if timing.is_empty() {
                        timing.push(Timing::default());
                    }
                    timing.last_mut().map(|t| t.repeats.push(text())).ok_or(())
                }
                b'z' => set_once(&mut time_zones, text()),
                b'k' => set_once(&mut key, text()),
                _ => match p.attribute(value) {
                    Some(a) => {
                        if p.strict() {
                            check_known(&a).map_err(|_| p.err("malformed attribute"))?;
                        }
                        attributes.push(a);
                        Ok(())
                    }
                    None => Err(()),
                },
            };
            if kept.is_err() {
                if p.strict() {
                    return Err(p.err("repeated or malformed line"));
                }
                extra_lines.push(extra());
            }
            continue;
        };
        // Media level.
        let kept = match kind {
            b'i' => set_once(&mut m.information, text()),
            b'c' => {
                m.connections.push(p.connection(value)?);
                Ok(())
            }
            b'b' => {
                m.bandwidths.push(p.bandwidth(value)?);
                Ok(())
            }
            b'k' => set_once(&mut m.key, text()),
            _ => match p.attribute(value) {
                Some(a) => {
                    if p.strict() {
                        check_known(&a).map_err(|_| p.err("malformed attribute"))?;
                    }
                    m.attributes.push(a);
                    Ok(())
                }
                None => Err(()),
            },
        };
        if kept.is_err() {
            if p.strict() {
                return Err(p.err("repeated or malformed line"));
            }
            m.extra_lines.push(extra());
        }
    }

    p.line = 0;
    if !version_seen {
        return Err(p.err("empty description"));
    }
    let origin = origin.ok_or(p.err("no o= line"))?;
    let session_name = match session_name {
        Some(s) => s,
        None if p.strict() => return Err(p.err("no s= line")),
        None => Text::default(),
    };
    if timing.is_empty() {
        if p.strict() {
            return Err(p.err("no t= line"));
        }
        timing.push(Timing::default());
    }
    if p.strict() && connection.is_none() && media.iter().any(|m| m.connections.is_empty()) {
        return Err(p.err("media without c= and no session-level c="));
    }
    Ok(SessionDescription {
        origin,
        session_name,
        information,
        uri,
        emails,
        phones,
        connection,
        bandwidths,
        timing,
        time_zones,
        key,
        attributes,
        media,
        extra_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The dotted-quad fast path reads exactly what std reads, and std still decides
        /// everything else (IPv6, leading zeros, out-of-range octets, names).
        #[test]
        fn addresses_read_as_std_reads_them(text in "[0-9a-f.:]{0,20}|[0-9]{1,4}(\\.[0-9]{1,4}){0,4}") {
            prop_assert_eq!(parse_ip(text.as_bytes()), text.parse::<IpAddr>().ok());
        }

        /// Numbers are digits only and fit in 64 bits, as `u64::from_str` on digits says.
        #[test]
        fn numbers_read_as_std_reads_digits(text in "[0-9]{0,22}|[0-9+ -]{0,4}") {
            let std = if text.bytes().all(|b| b.is_ascii_digit()) { text.parse::<u64>().ok() } else { None };
            prop_assert_eq!(digits(text.as_bytes()), std);
        }
    }
}
