//! Property tests: generated descriptions survive serialize → parse (strict and lenient)
//! unchanged; random and mutated input never panics.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use sip_sdp::attr::{Direction, Rtpmap, TypedAttribute};
use sip_sdp::{Attribute, Bandwidth, Connection, Media, Origin, SessionDescription, Text, Timing, Token, Word};

const TOKEN_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`{|}~";

fn token(max: usize) -> impl Strategy<Value = Token> {
    prop::collection::vec(prop::sample::select(TOKEN_CHARS), 1..=max).prop_map(|v| Token::new(v).unwrap())
}

fn text(max: usize) -> impl Strategy<Value = Text> {
    prop::collection::vec(any::<u8>().prop_filter("no NUL, CR, LF", |b| !matches!(b, 0 | b'\r' | b'\n')), 0..=max)
        .prop_map(|v| Text::new(v).unwrap())
}

fn word(max: usize) -> impl Strategy<Value = Word> {
    prop::collection::vec(prop::sample::select(&b"abcdefghijklmnopqrstuvwxyz0123456789-._~:/@"[..]), 1..=max)
        .prop_map(|v| Word::new(v).unwrap())
}

fn connection() -> impl Strategy<Value = Connection> {
    prop_oneof![
        any::<u32>()
            .prop_filter("unicast", |a| !Ipv4Addr::from(*a).is_multicast())
            .prop_map(|a| Connection::new(Ipv4Addr::from(a).into())),
        any::<u128>().prop_map(|a| Connection::new(Ipv6Addr::from(a).into())),
        (224u8..=239, any::<[u8; 3]>(), any::<u8>(), prop::option::of(1u32..20)).prop_map(
            |(first, rest, ttl, count)| {
                let mut c = Connection::new(Ipv4Addr::new(first, rest[0], rest[1], rest[2]).into());
                c.ttl = Some(ttl);
                c.count = count;
                c
            }
        ),
        "[a-z]{2,8}\\.example\\.(com|net)".prop_map(|host| Connection {
            net_type: Token::from_static("IN"),
            addr_type: Token::from_static("IP4"),
            address: Word::new(host).unwrap(),
            ttl: None,
            count: None,
        }),
    ]
}

fn bandwidth() -> impl Strategy<Value = Bandwidth> {
    (prop::sample::select(vec!["AS", "CT", "TIAS", "RS", "RR"]), any::<u32>())
        .prop_map(|(k, v)| Bandwidth { kind: Token::new(k).unwrap(), value: u64::from(v) })
}

fn attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        prop::sample::select(vec![Direction::SendRecv, Direction::SendOnly, Direction::RecvOnly, Direction::Inactive])
            .prop_map(Direction::to_attribute),
        (0u8..128, token(10), 1u32..200_000, prop::option::of(1u8..9)).prop_map(|(pt, enc, rate, ch)| {
            Rtpmap {
                payload_type: pt,
                encoding: enc,
                clock_rate: rate,
                parameters: ch.map(|c| Token::new(c.to_string()).unwrap()),
            }
            .to_attribute()
        }),
        // Unknown attributes with arbitrary values (no name this crate types).
        ("x-[a-z]{1,8}", prop::option::of(text(30)))
            .prop_map(|(n, v)| Attribute { name: Token::new(n).unwrap(), value: v }),
    ]
}

fn media() -> impl Strategy<Value = Media> {
    (
        prop::sample::select(vec!["audio", "video", "application", "text"]),
        any::<u16>(),
        prop::option::of(1u16..8),
        prop_oneof![
            prop::sample::select(vec!["RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF"]).prop_map(|p| (p, true)),
            prop::sample::select(vec!["UDP/DTLS/SCTP", "TCP/BFCP", "udp"]).prop_map(|p| (p, false)),
        ],
        prop::collection::vec(0u8..128, 1..6),
        prop::collection::vec(token(8), 1..3),
        (
            prop::option::of(text(20)),
            prop::collection::vec(connection(), 0..2),
            prop::collection::vec(bandwidth(), 0..2),
        ),
        prop::collection::vec(attribute(), 0..6),
    )
        .prop_map(|(kind, port, count, (proto, rtp), pts, fmts, (info, conns, bws), attrs)| {
            let formats = if rtp { pts.iter().map(|pt| Token::new(pt.to_string()).unwrap()).collect() } else { fmts };
            let mut m = Media::new(Token::new(kind).unwrap(), port, Word::new(proto).unwrap(), formats);
            m.port_count = count;
            m.information = info;
            m.connections = conns;
            m.bandwidths = bws;
            m.attributes = attrs;
            m
        })
}

fn description() -> impl Strategy<Value = SessionDescription> {
    (
        (any::<u64>(), any::<u64>(), any::<u32>(), word(10)),
        text(30).prop_filter("s= is not empty", |t| !t.is_empty()),
        (
            prop::option::of(text(20)),
            prop::option::of(text(20)),
            prop::collection::vec(text(20), 0..2),
            prop::collection::vec(text(20), 0..2),
        ),
        connection(),
        prop::collection::vec(bandwidth(), 0..3),
        prop::collection::vec(
            (any::<u32>(), any::<u32>(), prop::collection::vec("[0-9]{1,3}[dhms]? [0-9]{1,3}", 0..2)),
            1..3,
        ),
        prop::collection::vec(attribute(), 0..6),
        prop::collection::vec(media(), 0..4),
    )
        .prop_map(
            |((id, version, ip, user), name, (info, uri, emails, phones), conn, bws, times, attrs, media)| {
                let mut sd = SessionDescription::new(Origin::new(id, version, Ipv4Addr::from(ip).into()));
                sd.origin.username = user;
                sd.session_name = name;
                sd.information = info;
                sd.uri = uri;
                sd.emails = emails;
                sd.phones = phones;
                sd.connection = Some(conn);
                sd.bandwidths = bws;
                sd.timing = times
                    .into_iter()
                    .map(|(start, stop, repeats)| Timing {
                        start: u64::from(start),
                        stop: u64::from(stop),
                        repeats: repeats.into_iter().map(|r| Text::new(r).unwrap()).collect(),
                    })
                    .collect();
                sd.attributes = attrs;
                sd.media = media;
                sd
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `parse(serialize(s)) == s`, strictly and leniently, and serialization is stable.
    #[test]
    fn generated_descriptions_round_trip(sd in description()) {
        let bytes = sd.to_bytes();
        let strict = SessionDescription::parse(bytes.clone())
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)));
        prop_assert_eq!(&strict, &sd);
        prop_assert_eq!(strict.to_bytes(), bytes.clone());
        let lenient = SessionDescription::parse_lenient(bytes).unwrap();
        prop_assert_eq!(&lenient, &sd);
    }

    /// Random bytes never make either parser panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
        let _ = SessionDescription::parse(Bytes::from(bytes.clone()));
        if let Ok(sd) = SessionDescription::parse_lenient(Bytes::from(bytes)) {
            // What the lenient parser accepts, it can write and read back.
            prop_assert_eq!(SessionDescription::parse_lenient(sd.to_bytes()).unwrap(), sd);
        }
    }

    /// Valid descriptions with random edits never panic; what parses round-trips.
    #[test]
    fn mutated_descriptions_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
    ) {
        let seeds = seeds();
        let mut bytes = seeds[which.index(seeds.len())].clone();
        for (at, kind, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        let parsed = [SessionDescription::parse(Bytes::from(bytes.clone())), SessionDescription::parse_lenient(Bytes::from(bytes))];
        for sd in parsed.into_iter().flatten() {
            for m in &sd.media {
                let _ = m.rtpmap(0);
                let _ = m.direction();
            }
            prop_assert_eq!(SessionDescription::parse_lenient(sd.to_bytes()).unwrap(), sd);
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdp");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}
