//! The stream codec: messages cut at every byte boundary, several per read, keep-alives,
//! and what closes the connection.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sip_message::{Message, StatusCode};
use sip_transport::framing::{Frame, FramingError, FramingLimits, PING, PONG, StreamCodec};
use tokio_util::codec::{Decoder, Encoder};

/// A request over TCP with `body` and its Content-Length.
fn invite(call_id: &str, body: &str) -> String {
    format!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK{call_id}\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=88sja8x\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\
\r\n{body}",
        body.len()
    )
}

fn ok_200(call_id: &str) -> String {
    format!(
        "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK{call_id}\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=88sja8x\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\n\
l: 0\r\n\
\r\n"
    )
}

const SDP: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\ns=-\r\n\
c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// What a frame is, comparable: the message's Call-ID and body, or the keep-alive.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Message { call_id: String, body: Bytes },
    Malformed,
    Ping,
    Pong,
}

fn seen(frame: Frame) -> Seen {
    match frame {
        Frame::Message(m) => Seen::Message {
            call_id: m.headers().call_id().unwrap().unwrap().0.escape_ascii().to_string(),
            body: m.body().clone(),
        },
        Frame::Malformed { .. } => Seen::Malformed,
        Frame::Ping => Seen::Ping,
        Frame::Pong => Seen::Pong,
    }
}

/// Feeds `chunks` one after the other, decoding after each, then ends the stream.
fn decode_chunks<'a>(
    codec: &mut StreamCodec,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Seen>, Result<(), FramingError>) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => out.push(seen(frame)),
                Ok(None) => break,
                Err(e) => return (out, Err(e)),
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(frame)) => out.push(seen(frame)),
            Ok(None) => return (out, Ok(())),
            Err(e) => return (out, Err(e)),
        }
    }
}

/// A stream of two messages with keep-alives before, between and after them.
fn stream() -> (Vec<u8>, Vec<Seen>) {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(PING);
    bytes.extend_from_slice(invite("a84b4c76e66710", SDP).as_bytes());
    bytes.extend_from_slice(PONG);
    bytes.extend_from_slice(ok_200("a84b4c76e66710").as_bytes());
    bytes.extend_from_slice(PING);
    let expected = vec![
        Seen::Ping,
        Seen::Message { call_id: "a84b4c76e66710".into(), body: Bytes::from_static(SDP.as_bytes()) },
        Seen::Pong,
        Seen::Message { call_id: "a84b4c76e66710".into(), body: Bytes::new() },
        Seen::Ping,
    ];
    (bytes, expected)
}

#[test]
fn split_at_every_byte_boundary() {
    let (bytes, expected) = stream();
    for cut in 0..=bytes.len() {
        let (first, second) = bytes.split_at(cut);
        let (got, end) = decode_chunks(&mut StreamCodec::default(), [first, second]);
        assert!(end.is_ok(), "cut at {cut}: {end:?}");
        assert_eq!(got, expected, "cut at {cut}");
    }
}

#[test]
fn one_byte_at_a_time() {
    let (bytes, expected) = stream();
    let (got, end) = decode_chunks(&mut StreamCodec::default(), bytes.chunks(1));
    assert!(end.is_ok());
    assert_eq!(got, expected);
}

#[test]
fn several_messages_in_one_read() {
    let mut bytes = Vec::new();
    for i in 0..10 {
        bytes.extend_from_slice(invite(&format!("call{i}"), SDP).as_bytes());
    }
    let (got, end) = decode_chunks(&mut StreamCodec::default(), [&bytes[..]]);
    assert!(end.is_ok());
    let ids: Vec<_> = got
        .iter()
        .map(|s| match s {
            Seen::Message { call_id, .. } => call_id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, (0..10).map(|i| format!("call{i}")).collect::<Vec<_>>());
}

#[test]
fn a_partial_ping_waits_for_the_rest() {
    let mut codec = StreamCodec::default();
    let mut buf = BytesMut::from(&b"\r\n"[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none(), "CRLF may still become CRLF CRLF");
    buf.extend_from_slice(b"\r");
    assert!(codec.decode(&mut buf).unwrap().is_none());
    buf.extend_from_slice(b"\n");
    assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Frame::Ping)));
    assert!(buf.is_empty());
    // A CRLF followed by a message is a pong, then the message.
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(ok_200("x").as_bytes());
    assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Frame::Pong)));
    assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Frame::Message(_))));
    // A lone CRLF when the stream ends is a pong cut short: nothing is lost.
    buf.extend_from_slice(b"\r\n");
    assert!(codec.decode_eof(&mut buf).unwrap().is_none());
}

#[test]
fn missing_content_length_closes_after_a_400() {
    let text = invite("nocl", "").replace("Content-Length: 0\r\n", "");
    let (got, end) = decode_chunks(&mut StreamCodec::default(), [text.as_bytes()]);
    assert!(got.is_empty());
    let error = end.unwrap_err();
    assert!(matches!(error, FramingError::MissingContentLength { .. }), "{error}");
    let response = error.response().expect("the head is a request");
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.headers.call_id().unwrap().unwrap().0, "nocl");
    assert!(response.headers.content_length().is_none_or(|cl| cl.unwrap().0 == 0));
}

#[test]
fn malformed_content_length_closes_after_a_400() {
    for bad in ["Content-Length: ten", "Content-Length: 5\r\nl: 6", "Content-Length: -1"] {
        let text = invite("badcl", "").replace("Content-Length: 0", bad);
        let (got, end) = decode_chunks(&mut StreamCodec::default(), [text.as_bytes()]);
        assert!(got.is_empty(), "{bad}");
        let error = end.unwrap_err();
        assert!(matches!(error, FramingError::InvalidHead { .. }), "{bad}: {error}");
        assert_eq!(error.response().map(|r| r.status), Some(StatusCode::BAD_REQUEST), "{bad}");
    }
}

#[test]
fn a_response_without_content_length_gets_no_answer() {
    let text = ok_200("r").replace("l: 0\r\n", "");
    let (_, end) = decode_chunks(&mut StreamCodec::default(), [text.as_bytes()]);
    let error = end.unwrap_err();
    assert!(matches!(error, FramingError::MissingContentLength { .. }));
    assert!(error.response().is_none(), "responses are never answered");
}

#[test]
fn an_oversize_head_closes_without_buffering_more() {
    let limits = FramingLimits { max_head_bytes: 1024, ..FramingLimits::default() };
    let mut codec = StreamCodec::new(limits);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n");
    let mut result = Ok(None);
    for _ in 0..100 {
        buf.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        result = codec.decode(&mut buf);
        if result.is_err() {
            break;
        }
    }
    assert!(buf.len() < 1024 + 64, "the codec gave up as soon as the limit was passed");
    let error = result.unwrap_err();
    assert!(matches!(error, FramingError::HeadTooLarge { limit: 1024 }), "{error}");
    assert!(error.response().is_none(), "no whole head to answer");
}

#[test]
fn an_oversize_body_closes_after_a_413() {
    let limits = FramingLimits { max_body_bytes: 100, ..FramingLimits::default() };
    let text = invite("big", SDP);
    let (got, end) = decode_chunks(&mut StreamCodec::new(limits), [text.as_bytes()]);
    assert!(got.is_empty());
    let error = end.unwrap_err();
    assert!(matches!(error, FramingError::BodyTooLarge { declared, limit: 100, .. } if declared as usize == SDP.len()));
    assert_eq!(error.response().map(|r| r.status), Some(StatusCode::REQUEST_ENTITY_TOO_LARGE));
}

#[test]
fn a_malformed_message_keeps_the_stream_in_step() {
    // Framed by Content-Length but without a CSeq: reported, and the next message is read.
    let broken = invite("broken", "").replace("CSeq: 1 INVITE\r\n", "");
    let good = invite("good", SDP);
    let (got, end) = decode_chunks(&mut StreamCodec::default(), [broken.as_bytes(), good.as_bytes()]);
    assert!(end.is_ok());
    assert_eq!(got[0], Seen::Malformed);
    assert!(matches!(&got[1], Seen::Message { call_id, .. } if call_id == "good"));
}

#[test]
fn a_stream_ending_inside_a_message_is_truncated() {
    let text = invite("cut", SDP);
    for cut in [10, text.len() - SDP.len(), text.len() - 1] {
        let (got, end) = decode_chunks(&mut StreamCodec::default(), [&text.as_bytes()[..cut]]);
        assert!(got.is_empty());
        assert!(matches!(end, Err(FramingError::Truncated { pending }) if pending == cut), "cut at {cut}");
    }
}

#[test]
fn inside_message_is_reported_for_read_timeouts() {
    let mut codec = StreamCodec::default();
    let mut buf = BytesMut::from(&b"\r\n"[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(!codec.is_inside_message(&buf), "a keep-alive is not a message");
    let text = invite("slow", SDP);
    buf.clear();
    buf.extend_from_slice(&text.as_bytes()[..text.len() - 5]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(codec.is_inside_message(&buf));
    buf.extend_from_slice(&text.as_bytes()[text.len() - 5..]);
    assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Frame::Message(_))));
    assert!(!codec.is_inside_message(&buf));
}

#[test]
fn encoded_messages_decode_to_the_same_message() {
    let message = Message::parse(Bytes::from(invite("enc", SDP))).unwrap();
    let mut codec = StreamCodec::default();
    let mut wire = BytesMut::new();
    codec.encode(&message, &mut wire).unwrap();
    codec.encode(Bytes::from_static(PING), &mut wire).unwrap();
    match codec.decode(&mut wire).unwrap() {
        Some(Frame::Message(m)) => assert_eq!(m, message),
        other => panic!("{other:?}"),
    }
    assert!(matches!(codec.decode(&mut wire).unwrap(), Some(Frame::Ping)));
}

proptest! {
    /// However the stream is cut into reads, the same frames come out.
    #[test]
    fn any_chunking_gives_the_same_frames(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let (bytes, expected) = stream();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            chunks.push(&bytes[last..p]);
            last = p;
        }
        let (got, end) = decode_chunks(&mut StreamCodec::default(), chunks);
        prop_assert!(end.is_ok());
        prop_assert_eq!(got, expected);
    }

    /// Arbitrary bytes in arbitrary reads never panic, and the buffer never holds more
    /// than the limits allow plus one read.
    #[test]
    fn arbitrary_streams_stay_bounded(
        reads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
    ) {
        let limits = FramingLimits { max_head_bytes: 512, max_body_bytes: 512, ..FramingLimits::default() };
        let mut codec = StreamCodec::new(limits);
        let mut buf = BytesMut::new();
        'reads: for read in &reads {
            buf.extend_from_slice(read);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => break 'reads,
                }
            }
            prop_assert!(buf.len() <= 512 + 512 + 300);
        }
    }
}

/// The project's stream files (also the fuzz seeds) give the same frames read whole and
/// read one byte at a time, and end as their names say.
#[test]
fn seed_streams() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/streams");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (whole, whole_end) = decode_chunks(&mut StreamCodec::default(), [&bytes[..]]);
        let (bytewise, bytewise_end) = decode_chunks(&mut StreamCodec::default(), bytes.chunks(1));
        assert_eq!(whole, bytewise, "{name}");
        assert_eq!(format!("{whole_end:?}"), format!("{bytewise_end:?}"), "{name}");
        match name.as_str() {
            "missing_content_length" => {
                assert!(matches!(whole_end, Err(FramingError::MissingContentLength { .. })), "{name}");
            }
            "malformed_then_good" => {
                assert!(whole_end.is_ok());
                assert_eq!(whole[0], Seen::Malformed);
                assert!(matches!(whole[1], Seen::Message { .. }));
            }
            _ => {
                assert!(whole_end.is_ok(), "{name}: {whole_end:?}");
                assert!(whole.iter().all(|s| !matches!(s, Seen::Malformed)), "{name}");
                assert!(whole.iter().any(|s| matches!(s, Seen::Message { .. })), "{name}");
            }
        }
        count += 1;
    }
    assert!(count >= 5);
}
