//! The project's own torture-style messages (`tests/messages/*.sip`), each with the
//! verdict `Message::parse` + `Message::validate` must reach, and what must be read from it.

use std::path::Path;

use bytes::Bytes;
use sip_message::header::{
    self, AcceptLanguage, Contact, Event, PAssertedIdentity, Privacy, Reason, RecordRoute, SessionExpires, Supported,
    Warning,
};
use sip_message::{Host, Message, ParseError, ParseErrorKind, StatusCode, Uri};

fn load(name: &str) -> Bytes {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/messages").join(name);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn both(name: &str) -> Result<Message, ParseError> {
    let m = Message::parse(load(name))?;
    m.validate()?;
    Ok(m)
}

/// Every file in the folder is listed here with its verdict: `None` accepts, `Some(code)`
/// rejects with that response (`Some(0)`: a rejected response, never answered).
const VERDICTS: &[(&str, Option<u16>)] = &[
    ("invite.sip", None),
    ("ok_200.sip", None),
    ("ringing_180.sip", None),
    ("register.sip", None),
    ("options.sip", None),
    ("tortuous.sip", None),
    ("multipart.sip", None),
    ("ipv6_tel.sip", None),
    ("extensions.sip", None),
    ("bad_unquoted_comma.sip", Some(400)),
    ("bad_cseq_overflow.sip", Some(400)),
    ("bad_version.sip", Some(505)),
    ("bad_content_length.sip", Some(400)),
    ("bad_contact_star_params.sip", Some(400)),
    ("bad_ipv6_unbracketed_via.sip", Some(400)),
    ("bad_response_code.sip", Some(0)),
];

#[test]
fn every_message_gets_its_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/messages");
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    let mut listed: Vec<String> = VERDICTS.iter().map(|(f, _)| (*f).to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "every message file has a verdict");
    for (file, want) in VERDICTS {
        let got = both(file);
        match (want, &got) {
            (None, Ok(_)) => {}
            (Some(0), Err(e)) => assert!(e.is_response() && e.status().is_none(), "{file}: {e}"),
            (Some(code), Err(e)) => assert_eq!(e.status().map(StatusCode::as_u16), Some(*code), "{file}: {e}"),
            _ => panic!("{file}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn tortuous_message_reads_right() {
    let m = both("tortuous.sip").unwrap();
    let h = m.headers();
    let vias: Vec<_> = h.via().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].host().as_str(), "proxy2.example.com");
    assert_eq!(vias[0].port(), Some(5060));
    assert_eq!(vias[0].branch(), Some("z9hG4bK-p2-8812"));
    assert_eq!(vias[0].received(), Some("192.0.2.12".parse().unwrap()));
    assert_eq!(vias[2].rport(), Some(Some(5066)));
    assert_eq!(h.max_forwards().unwrap().unwrap().0, 68);
    let from = h.from().unwrap().unwrap();
    assert_eq!(from.display_name().unwrap(), "Alice \"The Caller\" Liddell");
    assert_eq!(from.tag(), Some("9fxced76sl"));
    assert_eq!(h.to().unwrap().unwrap().uri().to_string(), "sip:bob@biloxi.example.com");
    let cseq = h.cseq().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method.as_str()), (1, "INVITE"));
    let contacts: Vec<Contact> = h.contact().map(Result::unwrap).collect();
    assert_eq!(contacts.len(), 2);
    assert_eq!((contacts[0].q(), contacts[0].expires()), (Some(700), Some(600)));
    assert_eq!(contacts[1].address().unwrap().display_name().unwrap(), "Alice (desk)");
    let rr: Vec<RecordRoute> = h.record_route().map(Result::unwrap).collect();
    assert_eq!(rr.len(), 2);
    assert!(rr[1].uri().as_sip().unwrap().params().lr());
    let tags: Vec<String> = h.typed_all::<Supported>().map(|s| s.unwrap().as_str().to_string()).collect();
    assert_eq!(tags, ["100rel", "timer", "replaces"]);
    assert!(h.supports("TIMER"));
    let subject = h.get(&sip_message::HeaderName::SUBJECT).unwrap();
    assert!(subject.value().is_empty());
    let folded = h.get(&sip_message::HeaderName::from_static("x-folded")).unwrap();
    assert_eq!(folded.value_unfolded().as_ref(), b"first part, second part;  third=part");
    let se: SessionExpires = h.typed().unwrap().unwrap();
    assert_eq!((se.interval, se.refresher()), (1800, Some(header::Refresher::Uac)));
    let ev: Event = h.typed().unwrap().unwrap();
    assert_eq!(ev.id(), Some("42"));
    assert_eq!(m.body().len(), h.content_length().unwrap().unwrap().0 as usize);
}

#[test]
fn every_extension_header_decodes() {
    let m = both("extensions.sip").unwrap();
    let h = m.headers();
    let reasons: Vec<Reason> = h.typed_all().map(Result::unwrap).collect();
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0].text().unwrap().as_ref(), b"Call completed elsewhere");
    assert_eq!(reasons[1].cause(), Some(16));
    let pai: Vec<PAssertedIdentity> = h.typed_all().map(Result::unwrap).collect();
    assert!(matches!(pai[1].0.uri(), Uri::Tel(_)));
    let privacy: Privacy = h.typed().unwrap().unwrap();
    assert!(privacy.contains("header"));
    let langs: Vec<AcceptLanguage> = h.typed_all().map(Result::unwrap).collect();
    assert_eq!(langs.len(), 2);
    let w: Warning = h.typed().unwrap().unwrap();
    assert_eq!(w.code, 301);
    let refer: header::ReferTo = h.typed().unwrap().unwrap();
    let target = refer.uri().as_sip().unwrap();
    assert_eq!(target.header_pairs().next().unwrap().0, "Replaces");
    let date: header::Date = h.typed().unwrap().unwrap();
    assert_eq!((date.year, date.month, date.day), (2026, 11, 24));
    let www: header::WwwAuthenticate = h.typed().unwrap().unwrap();
    assert_eq!(www.0.params.get("qop").unwrap().as_ref(), b"auth");
}

#[test]
fn ipv6_and_tel() {
    let Message::Request(r) = both("ipv6_tel.sip").unwrap() else { panic!() };
    let Uri::Tel(tel) = &r.uri else { panic!("tel Request-URI") };
    assert!(tel.is_global());
    assert_eq!(tel.params().get("ext").unwrap(), Some("42"));
    let via = r.headers.top_via().unwrap().unwrap();
    assert_eq!(via.host(), Host::from("2001:db8::17".parse::<std::net::Ipv6Addr>().unwrap()));
    assert_eq!(via.host().as_str(), "2001:db8::17");
    assert_eq!(via.received(), Some("2001:db8::18".parse().unwrap()));
    let from = r.headers.from().unwrap().unwrap();
    assert!(from.uri().is_secure());
    assert_eq!(from.uri().as_sip().unwrap().port(), Some(5061));
}

#[test]
fn multipart_body() {
    let m = both("multipart.sip").unwrap();
    let parts = m.multipart().unwrap().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].body.as_ref(), b"Hello, Bob.");
    let ct = parts[1].headers.content_type().unwrap().unwrap();
    assert!(ct.0.is("application", "sdp"));
    let disp: header::ContentDisposition = parts[1].headers.typed().unwrap().unwrap();
    assert!(disp.is_optional());
    assert!(parts[1].body.starts_with(b"v=0\r\n"));
}

#[test]
fn errors_say_where_and_why() {
    let e = both("bad_content_length.sip").unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::BodyTruncated { declared: 50, actual: 5 }));
    let e = both("bad_cseq_overflow.sip").unwrap_err();
    let ParseErrorKind::InvalidHeader { name, .. } = e.kind() else { panic!("{e}") };
    assert_eq!(name, &sip_message::HeaderName::CSEQ);
    let bytes = load("bad_cseq_overflow.sip");
    let at = e.offset().unwrap();
    assert!(bytes[at..].starts_with(b"2147483648"), "offset points at the value");
    let e = both("bad_unquoted_comma.sip").unwrap_err();
    assert!(e.to_string().contains("To"), "{e}");
}

#[test]
fn serialization_is_byte_exact_for_well_formed_input() {
    for file in [
        "invite.sip",
        "ok_200.sip",
        "ringing_180.sip",
        "register.sip",
        "options.sip",
        "multipart.sip",
        "ipv6_tel.sip",
        "extensions.sip",
    ] {
        let bytes = load(file);
        let m = both(file).unwrap();
        assert_eq!(m.to_bytes(), bytes, "{file}");
        assert_eq!(m.encoded_len(), bytes.len(), "{file}");
    }
}
