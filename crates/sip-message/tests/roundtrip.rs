//! Property tests: generated messages survive serialize → parse unchanged, and no input,
//! random or a mutated valid message, makes parsing or validation panic.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use sip_message::header::{self, TypedHeader};
use sip_message::{Message, ParseLimits};

const TOKEN_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";

fn token(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKEN_CHARS), 1..=max)
        .prop_map(|v| String::from_utf8(v).expect("token characters are ASCII"))
}

fn lower_alnum(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&b"abcdefghijklmnopqrstuvwxyz0123456789"[..]), 1..=max)
        .prop_map(|v| String::from_utf8(v).expect("ASCII"))
}

/// A host as written in a URI or Via: a domain name, IPv4 or a bracketed IPv6 address.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        (prop::collection::vec(lower_alnum(8), 0..3), "[a-z][a-z0-9]{0,6}").prop_map(|(labels, top)| labels
            .into_iter()
            .chain([top])
            .collect::<Vec<_>>()
            .join(".")),
        any::<u32>().prop_map(|a| Ipv4Addr::from(a).to_string()),
        any::<u128>().prop_map(|a| format!("[{}]", Ipv6Addr::from(a))),
    ]
}

/// A user part with unreserved characters, user-unreserved punctuation and escapes.
fn user() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9]".prop_map(|s| s),
            prop::sample::select(vec![
                "-", "_", ".", "!", "~", "*", "'", "(", ")", "&", "=", "+", "$", ",", ";", "?", "/"
            ])
            .prop_map(str::to_string),
            any::<u8>().prop_map(|b| format!("%{b:02X}")),
        ],
        1..8,
    )
    .prop_map(|v| v.concat())
}

/// `;name[=value]` URI parameters.
fn uri_params() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just(";lr".to_string()),
            prop::sample::select(vec!["udp", "tcp", "tls", "ws", "sctp"]).prop_map(|t| format!(";transport={t}")),
            (0u16..=255).prop_map(|t| format!(";ttl={t}")),
            Just(";user=phone".to_string()),
            ("[a-z]{1,6}", prop::option::of("[a-zA-Z0-9]{1,6}")).prop_map(|(n, v)| match v {
                Some(v) => format!(";x{n}={v}"),
                None => format!(";x{n}"),
            }),
        ],
        0..4,
    )
    .prop_map(|v| v.concat())
}

/// A SIP or SIPS URI, with `headers` allowed or not.
fn sip_uri(with_headers: bool) -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::option::of((user(), prop::option::of("[a-z0-9]{1,6}"))),
        host(),
        prop::option::of(any::<u16>()),
        uri_params(),
        prop::option::of(("[a-z]{1,5}", "[a-z0-9]{0,5}")),
    )
        .prop_map(move |(secure, userinfo, host, port, params, hdr)| {
            let mut s = String::from(if secure { "sips:" } else { "sip:" });
            if let Some((u, pw)) = userinfo {
                s.push_str(&u);
                if let Some(pw) = pw {
                    s.push(':');
                    s.push_str(&pw);
                }
                s.push('@');
            }
            s.push_str(&host);
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            s.push_str(&params);
            if let (true, Some((n, v))) = (with_headers, hdr) {
                s.push_str(&format!("?{n}={v}"));
            }
            s
        })
}

/// A display name: tokens, or a quoted string with escapes and UTF-8.
fn display_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(token(6), 1..3).prop_map(|t| t.join(" ")),
        "[a-zA-Z0-9 ,;:<>@é\"\\\\]{0,12}".prop_map(|s| {
            let escaped: String =
                s.chars().flat_map(|c| if c == '"' || c == '\\' { vec!['\\', c] } else { vec![c] }).collect();
            format!("\"{escaped}\"")
        }),
    ]
}

/// A name-addr with an optional display name and an optional tag.
fn name_addr() -> impl Strategy<Value = String> {
    name_addr_tagged(true)
}

fn name_addr_tagged(tagged: bool) -> impl Strategy<Value = String> {
    (
        prop::option::of(display_name()),
        sip_uri(true),
        prop::option::of(token(10)).prop_map(move |t| t.filter(|_| tagged)),
    )
        .prop_map(|(d, uri, tag)| {
            let mut s = match d {
                Some(d) => format!("{d} <{uri}>"),
                None => format!("<{uri}>"),
            };
            if let Some(t) = tag {
                s.push_str(&format!(";tag={t}"));
            }
            s
        })
}

fn via() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["UDP", "TCP", "TLS", "SCTP", "WS", "WSS", "udp"]),
        host(),
        prop::option::of(any::<u16>()),
        token(16),
        prop::option::of(any::<u32>()),
        prop::option::of(prop::option::of(any::<u16>())),
    )
        .prop_map(|(t, host, port, branch, received, rport)| {
            let mut s = format!("SIP/2.0/{t} {host}");
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            s.push_str(&format!(";branch=z9hG4bK{branch}"));
            if let Some(r) = received {
                s.push_str(&format!(";received={}", Ipv4Addr::from(r)));
            }
            match rport {
                Some(Some(p)) => s.push_str(&format!(";rport={p}")),
                Some(None) => s.push_str(";rport"),
                None => {}
            }
            s
        })
}

/// A header name in one of its spellings: long, compact, odd case.
fn spelled(long: &'static str, compact: Option<&'static str>) -> impl Strategy<Value = String> {
    let mut options = vec![long.to_string(), long.to_ascii_lowercase(), long.to_ascii_uppercase()];
    if let Some(c) = compact {
        options.push(c.to_string());
        options.push(c.to_ascii_uppercase());
    }
    prop::sample::select(options)
}

/// Inserts line folds at some spaces of a value.
fn fold(value: String, folds: Vec<bool>) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut i = 0;
    for c in value.chars() {
        if c == ' ' && folds.get(i).copied().unwrap_or(false) {
            out.push_str("\r\n ");
        } else {
            out.push(c);
        }
        if c == ' ' {
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone)]
struct Generated {
    bytes: Vec<u8>,
    branch_count: usize,
    body: Vec<u8>,
}

fn multipart_body() -> impl Strategy<Value = (String, Vec<u8>)> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..4).prop_map(|parts| {
        let boundary = "gen-boundary-7f3a";
        let mut body = Vec::new();
        for p in &parts {
            // Keep the boundary out of the random content.
            let p: Vec<u8> = p.iter().map(|&b| if b == b'-' { b'_' } else { b }).collect();
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(&p);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/mixed;boundary={boundary}"), body)
    })
}

fn message() -> impl Strategy<Value = Generated> {
    (
        prop_oneof![
            prop::sample::select(vec!["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "MESSAGE", "UPDATE"])
                .prop_map(str::to_string),
            "[A-Z]{3,9}".prop_map(|s| s),
        ],
        prop::option::of(100u16..700),
        prop_oneof![sip_uri(false), Just("tel:+1-201-555-0123".to_string()), Just("urn:service:sos".to_string())],
        prop::collection::vec(via(), 1..4),
        (
            name_addr_tagged(false),
            name_addr(),
            "[a-zA-Z0-9.\\-]{1,20}(@[a-z0-9.]{1,10})?",
            0u32..(1 << 31),
            prop::option::of(0u8..=255),
        ),
        prop::collection::vec(name_addr(), 0..3),
        prop::collection::vec(("X-[A-Za-z]{1,10}", "[ -~]{0,30}"), 0..4),
        (spelled("Via", Some("v")), spelled("From", Some("f")), spelled("Call-ID", Some("i")), any::<bool>()),
        prop::collection::vec(any::<bool>(), 8),
        prop_oneof![
            Just(None),
            prop::collection::vec(any::<u8>(), 0..200).prop_map(Some),
            multipart_body().prop_map(|m| Some(m.1)).prop_map(Some).prop_map(|x| x.flatten())
        ],
    )
        .prop_map(
            |(method, status, ruri, vias, (from, to, call_id, cseq, mf), contacts, extensions, names, folds, body)| {
                let mut head = match status {
                    Some(code) => format!("SIP/2.0 {code} Generated reason\r\n"),
                    None => format!("{method} {ruri} SIP/2.0\r\n"),
                };
                let combine = names.3;
                if combine {
                    head.push_str(&format!("{}: {}\r\n", names.0, vias.join(" , ")));
                } else {
                    for v in &vias {
                        head.push_str(&format!("{}: {}\r\n", names.0, fold(v.replace(';', " ;"), folds.clone())));
                    }
                }
                head.push_str(&format!("{}: {}\r\n", names.1, fold(format!("{from};tag=gen1"), folds.clone())));
                head.push_str(&format!("To: {to}\r\n"));
                head.push_str(&format!("{}: {call_id}\r\n", names.2));
                head.push_str(&format!("CSeq: {cseq} {method}\r\n"));
                if let Some(mf) = mf {
                    head.push_str(&format!("Max-Forwards: {mf}\r\n"));
                }
                if !contacts.is_empty() {
                    head.push_str(&format!("Contact: {}\r\n", contacts.join(",\r\n ")));
                }
                for (n, v) in &extensions {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                let body = body.unwrap_or_default();
                let is_multipart = body.starts_with(b"--gen-boundary");
                if !body.is_empty() {
                    let ct = if is_multipart {
                        "multipart/mixed;boundary=gen-boundary-7f3a"
                    } else {
                        "application/octet-stream"
                    };
                    head.push_str(&format!("Content-Type: {ct}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                let mut bytes = head.into_bytes();
                bytes.extend_from_slice(&body);
                Generated { bytes, branch_count: vias.len(), body }
            },
        )
}

fn unlimited() -> ParseLimits {
    ParseLimits {
        max_message_bytes: usize::MAX,
        max_line_bytes: usize::MAX,
        max_uri_bytes: usize::MAX,
        max_body_bytes: usize::MAX,
        ..ParseLimits::default()
    }
}

/// Decodes every typed header the crate has on `m`; none may panic.
fn decode_everything(m: &Message) {
    let h = m.headers();
    let _ = h.via().count();
    let _ = h.contact().count();
    let _ = h.route().count();
    let _ = h.record_route().count();
    let _ = h.from();
    let _ = h.to();
    let _ = h.cseq();
    let _ = h.typed::<header::Date>();
    let _ = h.typed_all::<header::Warning>().count();
    let _ = h.typed::<header::WwwAuthenticate>();
    let _ = h.typed_all::<header::Accept>().count();
    let _ = m.multipart();
    for f in h.iter() {
        let _ = f.value_unfolded();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Generated messages parse and validate, read back what was generated, and
    /// `parse(serialize(m)) == m` with the serialization stable from then on.
    #[test]
    fn generated_messages_round_trip(g in message()) {
        let m = Message::parse(Bytes::from(g.bytes.clone()))
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&g.bytes)));
        m.validate().unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&g.bytes)));
        prop_assert_eq!(m.headers().via().count(), g.branch_count);
        prop_assert!(m.headers().via().all(|v| v.is_ok_and(|v| v.has_rfc3261_branch())));
        prop_assert_eq!(m.body().as_ref(), &g.body[..]);
        let from = m.headers().from().unwrap().unwrap();
        prop_assert_eq!(from.tag(), Some("gen1"));
        if g.body.starts_with(b"--gen-boundary") {
            prop_assert!(m.multipart().unwrap().is_ok());
        }
        let bytes = m.to_bytes();
        // The length `to_bytes` allocates is what it writes.
        prop_assert_eq!(m.encoded_len(), bytes.len());
        let again = Message::parse_with(bytes.clone(), &unlimited()).unwrap();
        prop_assert_eq!(&again, &m);
        prop_assert_eq!(again.to_bytes(), bytes);
        decode_everything(&again);
    }

    /// Every generated typed value encodes into text that decodes back into an equal value.
    #[test]
    fn typed_values_round_trip(na in name_addr(), v in via(), uri in sip_uri(true)) {
        let from = header::From::decode(&Bytes::from(na)).unwrap();
        prop_assert_eq!(header::From::decode(&from.to_bytes()).unwrap(), from.clone());
        let rebuilt = from.0.with_tag("t1").unwrap();
        prop_assert_eq!(rebuilt.tag(), Some("t1"));
        prop_assert_eq!(rebuilt.uri(), from.uri());
        // The one-pass tagging writes what the general parameter setter writes, and its
        // spans are the decoder's.
        let general = from.0.with_param("tag", Some("t1")).unwrap();
        prop_assert_eq!(rebuilt.as_bytes(), general.as_bytes());
        let redecoded = header::From::decode(rebuilt.as_bytes()).unwrap();
        prop_assert_eq!(redecoded.0.tag(), Some("t1"));
        prop_assert_eq!(redecoded.0.display_name_raw(), rebuilt.display_name_raw());
        prop_assert_eq!(&redecoded.0, &rebuilt);
        let via = header::Via::decode(&Bytes::from(v)).unwrap();
        prop_assert_eq!(header::Via::decode(&via.to_bytes()).unwrap(), via);
        let u: sip_message::Uri = uri.parse().unwrap();
        prop_assert_eq!(u.to_string(), uri.clone());
        prop_assert_eq!(&u.to_string().parse::<sip_message::Uri>().unwrap(), &u);
    }

    /// Random bytes never make parsing or validation panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
        if let Ok(m) = Message::parse(Bytes::from(bytes)) {
            let _ = m.validate();
            decode_everything(&m);
        }
    }

    /// Valid messages with random edits never make parsing or validation panic, and what
    /// still parses round-trips.
    #[test]
    fn mutated_messages_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>(), 0usize..40), 1..6),
    ) {
        let seeds = seeds();
        let mut bytes = seeds[which.index(seeds.len())].clone();
        for (at, kind, byte, len) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => { bytes.drain(i..(i + len).min(bytes.len())); }
                _ => {
                    let end = (i + len).min(bytes.len());
                    let copy = bytes[i..end].to_vec();
                    bytes.splice(i..i, copy);
                }
            }
        }
        if let Ok(m) = Message::parse(Bytes::from(bytes)) {
            let _ = m.validate();
            decode_everything(&m);
            let out = m.to_bytes();
            let again = Message::parse_with(out.clone(), &unlimited()).unwrap();
            prop_assert_eq!(again, m);
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/messages");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}
