//! Parsing the project's own descriptions: what must be read from each, what strict and
//! lenient parsing accept and reject, and exact serialization.

use std::path::Path;

use bytes::Bytes;
use sip_sdp::attr::{Candidate, Direction, Extmap, Fingerprint, Group, IcePwd, IceUfrag, Mid, Msid, Rtcp, Setup, Ssrc};
use sip_sdp::{Mode, SessionDescription};

fn load(name: &str) -> Bytes {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdp").join(name);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn audio_offer() {
    let bytes = load("audio_offer.sdp");
    let sdp = SessionDescription::parse(bytes.clone()).unwrap();
    assert_eq!(sdp.origin.username, "alice");
    assert_eq!(sdp.origin.session_version, 2890844526);
    assert_eq!(sdp.connection.as_ref().unwrap().ip(), Some("192.0.2.101".parse().unwrap()));
    let audio = &sdp.media[0];
    assert_eq!((audio.kind.as_str(), audio.port, audio.proto.as_str()), ("audio", 49172, "RTP/AVP"));
    assert_eq!(audio.payload_types().collect::<Vec<_>>(), [0, 8, 9, 101]);
    assert_eq!(audio.rtpmap(9).unwrap().encoding, "G722");
    assert_eq!(audio.fmtp(101).unwrap().parameters, "0-16");
    assert_eq!(audio.typed::<sip_sdp::attr::Ptime>().unwrap().unwrap().millis(), 20);
    assert_eq!(sdp.media_direction(0), Direction::SendRecv);
    assert_eq!(sdp.to_bytes(), bytes, "serialization is exact for a canonical description");
}

#[test]
fn webrtc_offer() {
    let bytes = load("webrtc_offer.sdp");
    let sdp = SessionDescription::parse(bytes.clone()).unwrap();
    assert_eq!(sdp.media.len(), 3);
    let group: Group = sdp.typed().unwrap().unwrap();
    assert_eq!(group.semantics, "BUNDLE");
    assert_eq!(group.mids.len(), 3);
    let audio = &sdp.media[0];
    assert_eq!(audio.typed::<Mid>().unwrap().unwrap().0, "0");
    assert_eq!(audio.typed_all::<Candidate>().count(), 4);
    let relay = audio.typed_all::<Candidate>().map(Result::unwrap).find(|c| c.kind == "relay").unwrap();
    assert_eq!(relay.related_port, Some(46243));
    assert!(audio.typed::<IceUfrag>().unwrap().is_ok());
    assert!(audio.typed::<IcePwd>().unwrap().is_ok());
    assert_eq!(audio.typed::<Fingerprint>().unwrap().unwrap().hash, "sha-256");
    assert_eq!(audio.typed::<Setup>().unwrap().unwrap(), Setup::ActPass);
    assert_eq!(audio.typed::<Rtcp>().unwrap().unwrap().port, 9);
    assert!(audio.has_attribute("rtcp-mux"));
    assert_eq!(audio.typed_all::<Extmap>().count(), 4);
    assert_eq!(audio.typed::<Msid>().unwrap().unwrap().appdata.unwrap(), "audiotrack0");
    assert_eq!(audio.typed_all::<Ssrc>().count(), 2);
    assert_eq!(audio.rtpmap(111).unwrap().channels(), 2);
    let video = &sdp.media[1];
    assert_eq!(video.fmtp(100).unwrap().param("packetization-mode"), Some("1"));
    let data = &sdp.media[2];
    assert!(!data.is_rtp());
    assert_eq!(data.formats[0], "webrtc-datachannel");
    assert_eq!(sdp.to_bytes(), bytes);
}

#[test]
fn every_line_type() {
    let bytes = load("multicast_session.sdp");
    let sdp = SessionDescription::parse(bytes.clone()).unwrap();
    assert_eq!(sdp.information.as_ref().unwrap(), "SDP Offer #1");
    assert_eq!(sdp.emails.len(), 1);
    assert_eq!(sdp.phones.len(), 1);
    let c = sdp.connection.as_ref().unwrap();
    assert_eq!((c.address.as_str(), c.ttl, c.count), ("233.252.0.1", Some(127), Some(3)));
    assert_eq!(sdp.bandwidths[0].value, 1000);
    assert_eq!(sdp.timing[0].repeats.len(), 1);
    assert!(sdp.time_zones.is_some());
    assert_eq!(sdp.media_direction(0), Direction::RecvOnly, "the session direction applies");
    assert_eq!(sdp.media_connection(0).unwrap().address, "233.252.0.1");
    let video = &sdp.media[1];
    assert_eq!(video.port_count, Some(2));
    let c6 = &video.connections[0];
    assert_eq!((c6.ttl, c6.count), (None, Some(2)));
    assert_eq!(sdp.to_bytes(), bytes);
}

#[test]
fn lenient_reads_what_phones_send() {
    let bytes = load("lenient_phone.sdp");
    let err = SessionDescription::parse(bytes.clone()).unwrap_err();
    assert_eq!(err.line(), 2, "multiple spaces in o= are not allowed strictly: {err}");
    let sdp = SessionDescription::parse_lenient(bytes).unwrap();
    assert_eq!(sdp.origin.address, "10.0.0.5");
    assert!(sdp.session_name.is_empty());
    assert_eq!(sdp.timing.len(), 1, "a missing t= reads as t=0 0");
    let audio = &sdp.media[0];
    assert_eq!(audio.connections.len(), 1);
    assert_eq!(audio.attributes.len(), 4);
    assert_eq!(audio.extra_lines.len(), 1);
    assert_eq!(audio.extra_lines[0].kind(), 'y');
    // What the lenient parser read survives a round trip through canonical form.
    let again = SessionDescription::parse_lenient(sdp.to_bytes()).unwrap();
    assert_eq!(again, sdp);
}

/// Found by fuzzing: a leniently read `r=` before any `t=` stays with the time it belongs to.
#[test]
fn lenient_repeat_before_time() {
    let text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nr=7d 1h 0 25h\nc=IN IP4 192.0.2.1\n";
    let sdp = SessionDescription::parse_lenient(Bytes::from(text)).unwrap();
    assert_eq!(sdp.timing.len(), 1);
    assert_eq!(sdp.timing[0].repeats.len(), 1);
    assert!(sdp.extra_lines.is_empty());
    assert_eq!(SessionDescription::parse_lenient(sdp.to_bytes()).unwrap(), sdp);
    assert!(SessionDescription::parse(Bytes::from(text)).is_err());
}

/// Each case breaks one rule of RFC 8866: strict parsing names the line, lenient parsing
/// accepts it (`true`) or rejects it too (`false`).
#[test]
fn strict_rejections() {
    let base =
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
    let cases: &[(&str, &str, usize, bool)] = &[
        ("v=0\n", "v=1\n", 1, false),
        ("s=-\n", "s=\n", 3, true),
        ("t=0 0\n", "", 0, true),
        ("c=IN IP4 192.0.2.1\nt=0 0\n", "t=0 0\nc=IN IP4 192.0.2.1\n", 5, true),
        ("s=-\n", "s=-\ns=again\n", 4, true),
        ("a=rtpmap:0 PCMU/8000\n", "a=rtpmap:0 PCMU\n", 7, true),
        ("a=rtpmap:0 PCMU/8000\n", "q=unknown\n", 7, true),
        ("m=audio 4000 RTP/AVP 0\n", "m=audio 4000 RTP/AVP\n", 6, true),
        ("m=audio 4000 RTP/AVP 0\n", "m=audio 4000 RTP/AVP 200\n", 6, true),
        ("m=audio 4000 RTP/AVP 0\n", "m=audio 70000 RTP/AVP 0\n", 6, false),
        ("c=IN IP4 192.0.2.1\n", "c=IN IP4 233.252.0.1\n", 4, true),
        ("c=IN IP4 192.0.2.1\n", "c=IN IP6 192.0.2.1\n", 4, true),
        ("c=IN IP4 192.0.2.1\n", "", 0, true),
        ("o=- 1 1 IN IP4 192.0.2.1\n", "o=- 1 IN IP4 192.0.2.1\n", 2, false),
        ("o=- 1 1 IN IP4 192.0.2.1\n", "o=- x 1 IN IP4 192.0.2.1\n", 2, true),
        ("t=0 0\n", "t=0\n", 5, false),
        ("a=rtpmap:0 PCMU/8000\n", "a=rtpmap:0 PCMU/8000", 7, true),
        ("a=rtpmap:0 PCMU/8000\n", "a=rtpmap:0 PCMU/8000\n\n", 8, true),
        ("a=rtpmap:0 PCMU/8000\n", "a=sendrecv:x\n", 7, true),
        ("a=rtpmap:0 PCMU/8000\n", "garbage\n", 7, false),
        ("a=rtpmap:0 PCMU/8000\n", "a=x\rb\n", 7, false),
    ];
    assert!(SessionDescription::parse(Bytes::from(base)).is_ok());
    for &(from, to, line, lenient_ok) in cases {
        let text = base.replacen(from, to, 1);
        let err = SessionDescription::parse(Bytes::from(text.clone())).expect_err(&text);
        assert_eq!(err.line(), line, "{to:?}: {err}");
        assert_eq!(
            SessionDescription::parse_with(Bytes::from(text.clone()), Mode::Lenient).is_ok(),
            lenient_ok,
            "{to:?}"
        );
    }
}

#[test]
fn built_descriptions_serialize_validly() {
    use sip_sdp::{Attribute, Connection, Media, Origin, Text, Token, Word};
    let mut sdp = SessionDescription::new(Origin::new(42, 1, "2001:db8::1".parse().unwrap()));
    sdp.connection = Some(Connection::new("2001:db8::1".parse().unwrap()));
    let mut audio =
        Media::new(Token::from_static("audio"), 5004, Word::from_static("RTP/AVP"), vec![Token::from_static("0")]);
    audio.attributes.push(Attribute::new(Token::from_static("rtpmap"), Text::from_static("0 PCMU/8000")));
    audio.set_direction(Direction::SendOnly);
    audio.set_direction(Direction::Inactive);
    sdp.media.push(audio);
    let bytes = sdp.to_bytes();
    assert_eq!(
        bytes,
        &b"v=0\r\no=- 42 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=inactive\r\n"[..]
    );
    assert_eq!(SessionDescription::parse(bytes).unwrap(), sdp);
    assert!(Text::new("x\r\ny").is_err());
}
