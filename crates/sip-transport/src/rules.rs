//! The transport rules of RFC 3261 §18 and RFC 3581 (rport), as plain functions over
//! messages: no sockets, so every rule is tested on its own.

use std::net::{IpAddr, SocketAddr};

use sip_message::header::{Transport as TransportName, Via};
use sip_message::{DecodeError, HeaderName, Host, Request, Response};

use crate::{Source, Target};

/// §18.1.1: the request size above which UDP must not be used when the path MTU is
/// unknown.
pub const UDP_REQUEST_SIZE_LIMIT: usize = 1300;

/// §18.1.1: how close to the path MTU a request may come over UDP.
pub const PATH_MTU_MARGIN: usize = 200;

/// Why a rule could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The message has no Via.
    #[error("message without Via")]
    MissingVia,
    /// The top Via does not decode.
    #[error("malformed top Via: {0}")]
    InvalidVia(DecodeError),
}

/// §18.1.1: whether a request of `size` bytes must go over a congestion-controlled
/// transport (TCP) instead of UDP: within [`PATH_MTU_MARGIN`] bytes of the path MTU, or
/// over [`UDP_REQUEST_SIZE_LIMIT`] bytes when the MTU is unknown.
pub fn too_large_for_udp(size: usize, path_mtu: Option<usize>) -> bool {
    match path_mtu {
        Some(mtu) => size + PATH_MTU_MARGIN > mtu,
        None => size > UDP_REQUEST_SIZE_LIMIT,
    }
}

fn top_via(headers: &sip_message::Headers) -> Result<Via, RuleError> {
    match headers.top_via() {
        None => Err(RuleError::MissingVia),
        Some(Err(e)) => Err(RuleError::InvalidVia(e)),
        Some(Ok(via)) => Ok(via),
    }
}

fn replace_top_via(headers: &mut sip_message::Headers, via: &Via) {
    // Where the top Via was: a single-valued first Via field goes, and the new one takes
    // its place (the other fields keep their order).
    let at = headers.iter().position(|h| *h.name() == HeaderName::VIA);
    headers.remove_first_value(&HeaderName::VIA);
    // A Via decoded from a message (or built from one) encodes into a valid value.
    let Ok(field) = sip_message::Header::typed(via) else { return };
    match at {
        Some(at) => headers.insert(at.min(headers.len()), field),
        None => headers.push(field),
    }
}

/// §18.2.1 and RFC 3581 §4, on receipt of a request: adds `received` with the source
/// address when it differs from the top Via's sent-by (or sent-by is a name), and when the
/// Via asks for `rport`, fills in the source port (and then always adds `received`).
/// A `received` the request arrived with that names another address than the source is
/// replaced by the source: only the receiver knows where a request came from, and
/// responses must not follow an address the sender wrote. Returns whether the Via changed.
pub fn stamp_received(request: &mut Request, remote: SocketAddr) -> Result<bool, RuleError> {
    let via = top_via(&request.headers)?;
    let wants_rport = via.rport() == Some(None);
    let same_host = via.host().ip() == Some(remote.ip());
    let foreign_received = via.received().is_some_and(|ip| ip != remote.ip());
    if same_host && !wants_rport && !foreign_received {
        return Ok(false);
    }
    let ip = remote.ip().to_string();
    let mut stamped = via.with_param("received", Some(&ip)).map_err(RuleError::InvalidVia)?;
    if wants_rport {
        stamped = stamped.with_param("rport", Some(&remote.port().to_string())).map_err(RuleError::InvalidVia)?;
    }
    replace_top_via(&mut request.headers, &stamped);
    Ok(true)
}

/// §18.1.1, when sending a request: the top Via names the transport it goes over and the
/// address it leaves from (sent-by), its parameters (the branch above all) kept.
pub fn stamp_sent_by(request: &mut Request, transport: &TransportName, local: SocketAddr) -> Result<(), RuleError> {
    let via = top_via(&request.headers)?;
    let stamped = via.with_sent_by(transport, &Host::from(local.ip()), Some(local.port()));
    replace_top_via(&mut request.headers, &stamped);
    Ok(())
}

/// Where a response goes (§18.2.2, RFC 3581 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseRoute {
    /// To this target. For a reliable transport it names the connection the request came
    /// in on, to be used while it is open; `remote` is where to connect otherwise.
    Target(Target),
    /// To the sent-by host, a name to resolve per RFC 3263 §5 (no `received` was added
    /// because the request came from the address it names).
    Resolve {
        /// The transport.
        transport: TransportName,
        /// The host name.
        host: String,
        /// The port, when sent-by has one.
        port: Option<u16>,
    },
}

/// §18.2.2: where `response` goes, given the top Via the server transaction kept (the
/// response's own top Via) and where the request came from, when that is known.
pub fn response_route(response: &Response, request_source: Option<&Source>) -> Result<ResponseRoute, RuleError> {
    route_by_via(&response.headers, request_source)
}

/// Where the responses to a received `request` go (§18.2.2): a response carries the
/// request's top Via (with `received` and `rport` as the transport stamped them), so the
/// route is known as soon as the request arrives.
pub fn request_response_route(request: &Request, source: &Source) -> Result<ResponseRoute, RuleError> {
    route_by_via(&request.headers, Some(source))
}

fn route_by_via(headers: &sip_message::Headers, request_source: Option<&Source>) -> Result<ResponseRoute, RuleError> {
    let via = top_via(headers)?;
    let transport = via.transport();
    if let Some(source) = request_source.filter(|s| !s.transport.is_reliable() && s.transport != transport) {
        // A datagram whose Via names another transport (a stream one): there is no
        // connection to answer on, and the only way known to reach the sender is back
        // to the address the datagram came from.
        return Ok(ResponseRoute::Target(Target::back_to(source)));
    }
    let sent_by_port = via.port().unwrap_or_else(|| transport.default_port());
    if transport.is_reliable() {
        // On the connection the request came in on; if it is gone, to received (or the
        // sent-by host) at the sent-by port.
        let connection = request_source.and_then(|s| s.connection);
        let ip = via.received().or_else(|| via.host().ip()).or_else(|| request_source.map(|s| s.remote.ip()));
        return Ok(match ip {
            Some(ip) => ResponseRoute::Target(Target {
                connection,
                ..Target::new(transport, SocketAddr::new(ip, sent_by_port))
            }),
            None => ResponseRoute::Resolve { transport, host: via.host().as_str().to_owned(), port: via.port() },
        });
    }
    if let Some(maddr) = via.maddr() {
        // To the multicast address, at the sent-by port.
        return Ok(match maddr.parse::<IpAddr>() {
            Ok(ip) => ResponseRoute::Target(Target::new(transport, SocketAddr::new(ip, sent_by_port))),
            Err(_) => ResponseRoute::Resolve { transport, host: maddr.to_owned(), port: Some(sent_by_port) },
        });
    }
    if let Some(ip) = via.received() {
        // RFC 3581 §4: to the rport when the request asked for it.
        let port = via.rport().flatten().unwrap_or(sent_by_port);
        return Ok(ResponseRoute::Target(Target::new(transport, SocketAddr::new(ip, port))));
    }
    Ok(match via.host().ip() {
        Some(ip) => ResponseRoute::Target(Target::new(transport, SocketAddr::new(ip, sent_by_port))),
        None => ResponseRoute::Resolve { transport, host: via.host().as_str().to_owned(), port: via.port() },
    })
}

/// The header fields a response copies from its request (§8.2.6.2), long and compact
/// names.
const COPIED_FIELDS: [&[u8]; 9] = [b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i", b"cseq"];

/// A response with `status` to a request that does not parse (a datagram `Message::parse`
/// refused): the status line, then the request's Via, From, To, Call-ID and CSeq field
/// lines as they are (folding included), the To with `to_tag` added when it has no tag,
/// and `Content-Length: 0`. `None` when the bytes are not a request (a response, which is
/// dropped, §16.7), are an ACK (never answered, §17.2.1), or have no Via to answer by.
/// What is copied is the request's own bytes; the answer may be as broken as they are,
/// and is never longer than them plus its status line and tag.
pub fn response_to_unparsed(bytes: &[u8], status: sip_message::StatusCode, to_tag: &str) -> Option<bytes::Bytes> {
    let head_end = memchr::memmem::find(bytes, b"\r\n\r\n").map_or(bytes.len(), |i| i + 2);
    let mut lines = bytes[..head_end].split_inclusive(|&b| b == b'\n');
    let start = lines.next()?;
    if start.starts_with(b"SIP/") || start.starts_with(b"ACK ") {
        return None;
    }
    let mut out = bytes::BytesMut::with_capacity(head_end + 64);
    out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", status.as_u16(), status.default_reason()).as_bytes());
    let mut copying = false;
    let mut in_to = false;
    let mut to_has_tag = false;
    let mut vias = 0;
    let end_to = |out: &mut bytes::BytesMut, has_tag: bool| {
        if !has_tag && !to_tag.is_empty() {
            // Before the line end of the To field's last line.
            let keep = out.len() - out.iter().rev().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            let tail = out.split_off(keep);
            out.extend_from_slice(b";tag=");
            out.extend_from_slice(to_tag.as_bytes());
            out.extend_from_slice(&tail);
        }
    };
    for line in lines {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if copying {
                to_has_tag |= in_to && contains_tag(line);
                out.extend_from_slice(line);
            }
            continue;
        }
        if in_to {
            end_to(&mut out, to_has_tag);
            in_to = false;
        }
        let name_end = line.iter().position(|&b| matches!(b, b':' | b' ' | b'\t')).unwrap_or(0);
        let name = line[..name_end].to_ascii_lowercase();
        copying = COPIED_FIELDS.contains(&name.as_slice());
        if copying {
            vias += usize::from(name == b"via" || name == b"v");
            in_to = name == b"to" || name == b"t";
            to_has_tag = in_to && contains_tag(line);
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    if in_to {
        end_to(&mut out, to_has_tag);
    }
    if vias == 0 {
        return None;
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Some(out.freeze())
}

fn contains_tag(line: &[u8]) -> bool {
    line.to_ascii_lowercase().windows(4).any(|w| w == b"tag=")
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sip_message::{Message, StatusCode};

    use super::*;
    use crate::ConnectionId;

    fn request(via: &str) -> Request {
        let text = format!(
            "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP proxy.example.com\r\n\
From: <sip:alice@atlanta.example.com>;tag=1\r\nTo: <sip:bob@biloxi.example.com>\r\n\
Call-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        match Message::parse(Bytes::from(text)).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    fn top(r: &Request) -> String {
        let via = r.headers.top_via().unwrap().unwrap();
        String::from_utf8(via.as_bytes().to_vec()).unwrap()
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_stamped_via_stays_where_the_top_via_was() {
        let mut r = request("SIP/2.0/UDP 0.0.0.0;branch=z9hG4bK1");
        stamp_sent_by(&mut r, &TransportName::TCP, addr("192.0.2.4:5070")).unwrap();
        assert_eq!(top(&r), "SIP/2.0/TCP 192.0.2.4:5070;branch=z9hG4bK1");
        let names: Vec<String> = r.headers.iter().map(|h| h.name().to_string()).collect();
        assert_eq!(names[..3], ["Via", "Via", "From"], "{names:?}");
        assert!(r.headers.via().nth(1).unwrap().unwrap().host().to_string().starts_with("proxy"));
    }

    #[test]
    fn size_rule() {
        assert!(!too_large_for_udp(1300, None));
        assert!(too_large_for_udp(1301, None));
        assert!(!too_large_for_udp(1300, Some(1500)));
        assert!(too_large_for_udp(1301, Some(1500)));
        assert!(too_large_for_udp(900, Some(1000)));
        assert!(!too_large_for_udp(8000, Some(9000)));
    }

    #[test]
    fn received_is_added_when_the_source_differs() {
        // The examples of §18.2.1 and RFC 3581 §4.
        let mut r = request("SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7");
        assert!(stamp_received(&mut r, addr("192.0.2.4:5060")).unwrap());
        assert_eq!(top(&r), "SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4");
        let mut r = request("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7");
        assert!(!stamp_received(&mut r, addr("192.0.2.4:5060")).unwrap(), "same address: unchanged");
        assert_eq!(top(&r), "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7");
        let mut r = request("SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff");
        assert!(stamp_received(&mut r, addr("192.0.2.1:9988")).unwrap());
        assert_eq!(top(&r), "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKkjshdyff;received=192.0.2.1;rport=9988");
        // rport asks for received even when the address is the same.
        let mut r = request("SIP/2.0/UDP 192.0.2.1:4540;rport;branch=z9hG4bK1");
        assert!(stamp_received(&mut r, addr("192.0.2.1:4540")).unwrap());
        assert_eq!(top(&r), "SIP/2.0/UDP 192.0.2.1:4540;branch=z9hG4bK1;received=192.0.2.1;rport=4540");
        // IPv6: the address is written without brackets (RFC 5118 §4.5).
        let mut r = request("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3");
        assert!(stamp_received(&mut r, addr("[2001:db8::9:255]:6050")).unwrap());
        assert_eq!(top(&r), "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3;received=2001:db8::9:255");
        assert_eq!(r.headers.via().count(), 2, "only the top Via changes");
    }

    #[test]
    fn received_needs_a_top_via() {
        let mut r = request("SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
        r.headers.remove(&HeaderName::VIA);
        assert_eq!(stamp_received(&mut r, addr("192.0.2.1:1")), Err(RuleError::MissingVia));
    }

    #[test]
    fn sent_by_names_the_transport_and_local_address() {
        let mut r = request("SIP/2.0/UDP placeholder.invalid;branch=z9hG4bK77;rport");
        stamp_sent_by(&mut r, &TransportName::TCP, addr("[::1]:5070")).unwrap();
        assert_eq!(top(&r), "SIP/2.0/TCP [::1]:5070;branch=z9hG4bK77;rport");
    }

    fn response_to(via: &str) -> Response {
        Response::from_request(&request(via), StatusCode::OK)
    }

    #[test]
    fn responses_over_udp() {
        // received + rport: to the source address and port.
        let r = response_to("SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, None).unwrap(),
            ResponseRoute::Target(Target::new(TransportName::UDP, addr("192.0.2.1:9988")))
        );
        // received without rport: the sent-by port.
        let r = response_to("SIP/2.0/UDP pc33.example.com:5066;received=192.0.2.1;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, None).unwrap(),
            ResponseRoute::Target(Target::new(TransportName::UDP, addr("192.0.2.1:5066")))
        );
        // Numeric sent-by, no port: the default port.
        let r = response_to("SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, None).unwrap(),
            ResponseRoute::Target(Target::new(TransportName::UDP, addr("192.0.2.7:5060")))
        );
        // A name: resolved per RFC 3263 §5.
        let r = response_to("SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, None).unwrap(),
            ResponseRoute::Resolve { transport: TransportName::UDP, host: "pc33.example.com".into(), port: None }
        );
        // maddr: the multicast group at the sent-by port.
        let r = response_to("SIP/2.0/UDP 192.0.2.7:5062;maddr=239.255.255.1;ttl=1;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, None).unwrap(),
            ResponseRoute::Target(Target::new(TransportName::UDP, addr("239.255.255.1:5062")))
        );
    }

    #[test]
    fn responses_over_streams_use_the_connection() {
        let source = Source {
            transport: TransportName::TCP,
            local: addr("127.0.0.1:5060"),
            remote: addr("192.0.2.1:40211"),
            connection: Some(ConnectionId(7)),
        };
        let r = response_to("SIP/2.0/TCP pc33.example.com:5062;received=192.0.2.1;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, Some(&source)).unwrap(),
            ResponseRoute::Target(Target {
                connection: Some(ConnectionId(7)),
                ..Target::new(TransportName::TCP, addr("192.0.2.1:5062"))
            })
        );
        let r = response_to("SIP/2.0/TLS pc33.example.com;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, Some(&source)).unwrap(),
            ResponseRoute::Target(Target {
                connection: Some(ConnectionId(7)),
                ..Target::new(TransportName::TLS, addr("192.0.2.1:5061"))
            })
        );
    }

    #[test]
    fn a_datagram_whose_via_names_a_stream_transport_is_answered_back_to_its_source() {
        let source = Source {
            transport: TransportName::UDP,
            local: addr("127.0.0.1:5060"),
            remote: addr("127.0.0.1:40211"),
            connection: None,
        };
        let r = response_to("SIP/2.0/TCP 127.0.0.1:40211;branch=z9hG4bK1");
        assert_eq!(
            response_route(&r, Some(&source)).unwrap(),
            ResponseRoute::Target(Target::new(TransportName::UDP, addr("127.0.0.1:40211")))
        );
    }

    #[test]
    fn a_received_written_by_the_sender_is_replaced_by_the_source() {
        let mut r = request("SIP/2.0/UDP 127.0.0.1:5070;received=192.0.2.200;branch=z9hG4bK1");
        assert!(stamp_received(&mut r, addr("127.0.0.1:5070")).unwrap());
        assert_eq!(top(&r), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;received=127.0.0.1");
        let source = Source {
            transport: TransportName::UDP,
            local: addr("127.0.0.1:5060"),
            remote: addr("127.0.0.1:5070"),
            connection: None,
        };
        assert_eq!(
            request_response_route(&r, &source).unwrap(),
            ResponseRoute::Target(Target::new(TransportName::UDP, addr("127.0.0.1:5070")))
        );
        // One that names the source stays as it is.
        assert!(!stamp_received(&mut r, addr("127.0.0.1:5070")).unwrap());
    }

    #[test]
    fn a_request_that_does_not_parse_is_answered_from_its_own_lines() {
        // A bad Expires; the To folded over two lines and without a tag; compact From.
        let request = b"INVITE sip:bob@example.com SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
Max-Forwards: 70\r\nTo: Bob\r\n <sip:bob@example.com>\r\nf: <sip:alice@example.com>;tag=a\r\n\
Call-ID: u1\r\nCSeq: 1 INVITE\r\nExpires: soon\r\nContent-Length: 0\r\n\r\n";
        let answer = response_to_unparsed(request, StatusCode::BAD_REQUEST, "t1").unwrap();
        assert_eq!(
            &answer[..],
            &b"SIP/2.0 400 Bad Request\r\nv: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nTo: Bob\r\n \
<sip:bob@example.com>;tag=t1\r\nf: <sip:alice@example.com>;tag=a\r\nCall-ID: u1\r\nCSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n"[..]
        );
        let Ok(Message::Response(r)) = Message::parse(answer) else { panic!("the answer parses") };
        assert_eq!(r.headers.to().unwrap().unwrap().tag(), Some("t1"));
        // A To with a tag keeps it; no Via, a response or an ACK: no answer.
        let tagged = b"OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nTo: <sip:b>;tag=x\r\n\r\n";
        let answer = response_to_unparsed(tagged, StatusCode::BAD_REQUEST, "t1").unwrap();
        assert!(answer.windows(13).any(|w| w == b"<sip:b>;tag=x"));
        assert!(!answer.windows(6).any(|w| w == b"tag=t1"));
        assert_eq!(
            response_to_unparsed(b"OPTIONS sip:b SIP/2.0\r\nTo: <sip:b>\r\n\r\n", StatusCode::BAD_REQUEST, "t"),
            None
        );
        assert_eq!(
            response_to_unparsed(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", StatusCode::BAD_REQUEST, "t"),
            None
        );
        assert_eq!(
            response_to_unparsed(b"ACK sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", StatusCode::BAD_REQUEST, "t"),
            None
        );
    }
}
