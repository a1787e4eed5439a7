//! Offer/answer exchanges built from the examples of RFC 4317 (audio and video, codec
//! subsets, hold, rejected streams, adding and removing a stream), each answer checked line
//! by line; and the checks an offerer makes of an answer.

use bytes::Bytes;
use sip_sdp::attr::Direction;
use sip_sdp::negotiate::{
    Capabilities, Codec, MediaCapability, NegotiationError, Negotiator, OfferAnswer, check_answer,
};
use sip_sdp::{SessionDescription, Word};

/// Parses a description written with `\n` line ends (lenient, so `s=` may be empty).
fn sdp(text: &str) -> SessionDescription {
    SessionDescription::parse_lenient(Bytes::from(text.replace('\n', "\r\n"))).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Asserts `sd` serializes into exactly `expected` (lines given without line ends).
fn assert_lines(sd: &SessionDescription, expected: &[&str]) {
    let text = String::from_utf8(sd.to_bytes().to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    for (i, (got, want)) in lines.iter().zip(expected).enumerate() {
        assert_eq!(got, want, "line {} of\n{text}", i + 1);
    }
    assert_eq!(lines.len(), expected.len(), "number of lines of\n{text}");
}

fn bob(media: Vec<MediaCapability>) -> Negotiator {
    let mut caps = Capabilities::new("192.0.2.201".parse().unwrap(), media);
    caps.username = Word::from_static("bob");
    Negotiator::new(caps, 2808844564)
}

const ALICE_AUDIO_VIDEO: &str = "v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=
c=IN IP4 192.0.2.101
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
";

/// RFC 4317 §2.1: both streams accepted with a subset of the codecs.
#[test]
fn audio_and_video_subsets() {
    let offer = sdp(ALICE_AUDIO_VIDEO);
    let mut bob = bob(vec![
        MediaCapability::audio(49174, vec![Codec::pcmu()]),
        MediaCapability::video(49170, vec![Codec::new("MPV", 90000, 32)]),
    ]);
    let answer = bob.answer(&offer).unwrap();
    assert_lines(
        &answer,
        &[
            "v=0",
            "o=bob 2808844564 2808844564 IN IP4 192.0.2.201",
            "s=-",
            "c=IN IP4 192.0.2.201",
            "t=0 0",
            "m=audio 49174 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=sendrecv",
            "m=video 49170 RTP/AVP 32",
            "a=rtpmap:32 MPV/90000",
            "a=sendrecv",
        ],
    );
    check_answer(&offer, &answer).unwrap();
}

/// RFC 4317 §2.2: the answerer has no video, so the video stream is rejected (port 0).
#[test]
fn video_rejected() {
    let offer = sdp(ALICE_AUDIO_VIDEO);
    let mut bob = bob(vec![MediaCapability::audio(49172, vec![Codec::pcma(), Codec::pcmu()])]);
    let answer = bob.answer(&offer).unwrap();
    assert_lines(
        &answer,
        &[
            "v=0",
            "o=bob 2808844564 2808844564 IN IP4 192.0.2.201",
            "s=-",
            "c=IN IP4 192.0.2.201",
            "t=0 0",
            "m=audio 49172 RTP/AVP 0 8",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=sendrecv",
            "m=video 0 RTP/AVP 31",
        ],
    );
    check_answer(&offer, &answer).unwrap();
}

/// RFC 4317 §2.3-style: two audio streams and a video stream; the second audio stream gets
/// the next port, dynamic types keep the offerer's numbers, telephone-event is matched by
/// name and rate and answered with this side's events.
#[test]
fn dynamic_payload_types_keep_the_offerers_numbers() {
    let offer = sdp("v=0
o=alice 1 1 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49170 RTP/AVP 97 0 100
a=rtpmap:97 iLBC/8000
a=fmtp:97 mode=30
a=rtpmap:100 telephone-event/8000
a=fmtp:100 0-15,66,70
m=audio 49180 RTP/AVP 0
m=video 49190 RTP/SAVP 31
");
    let mut bob = bob(vec![MediaCapability::audio(
        30000,
        vec![Codec::pcmu(), Codec::new("iLBC", 8000, 99).with_fmtp("mode=20"), Codec::telephone_event()],
    )]);
    let answer = bob.answer(&offer).unwrap();
    assert_lines(
        &answer,
        &[
            "v=0",
            "o=bob 2808844564 2808844564 IN IP4 192.0.2.201",
            "s=-",
            "c=IN IP4 192.0.2.201",
            "t=0 0",
            "m=audio 30000 RTP/AVP 97 0 100",
            "a=rtpmap:97 iLBC/8000",
            "a=fmtp:97 mode=20",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:100 telephone-event/8000",
            "a=fmtp:100 0-15",
            "a=sendrecv",
            "m=audio 30002 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=sendrecv",
            "m=video 0 RTP/SAVP 31",
        ],
    );
    check_answer(&offer, &answer).unwrap();
}

/// Telephone events are answered with the events both sides know (RFC 4733 §7.1.1), and
/// not at all when they share none.
#[test]
fn telephone_events_are_intersected() {
    let offer = |events: &str| {
        sdp(&format!(
            "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n{events}"
        ))
    };
    let answer = |o: &SessionDescription| {
        let mut bob = bob(vec![MediaCapability::audio(49174, vec![Codec::pcmu(), Codec::telephone_event()])]);
        bob.answer(o).unwrap()
    };
    assert_eq!(answer(&offer("a=fmtp:101 0-11\n")).media[0].fmtp(101).unwrap().parameters, "0-11");
    assert_eq!(answer(&offer("a=fmtp:101 0-9,12,14-20,66\n")).media[0].fmtp(101).unwrap().parameters, "0-9,12,14-15");
    assert_eq!(answer(&offer("")).media[0].fmtp(101).unwrap().parameters, "0-15");
    let none = answer(&offer("a=fmtp:101 66\n"));
    assert_eq!(none.media[0].payload_types().collect::<Vec<_>>(), [0], "no common event: not answered");
}

/// H.264 payload types match only with the same packetization mode (0 when absent).
#[test]
fn h264_packetization_mode_must_match() {
    let offer = sdp("v=0
o=alice 1 1 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=video 49170 RTP/AVP 98 99
a=rtpmap:98 H264/90000
a=fmtp:98 profile-level-id=42e01f;packetization-mode=1
a=rtpmap:99 H264/90000
a=fmtp:99 profile-level-id=42e01f
");
    let mut bob = bob(vec![MediaCapability::video(
        40000,
        vec![Codec::new("H264", 90000, 96).with_fmtp("profile-level-id=42e01f;packetization-mode=0")],
    )]);
    let answer = bob.answer(&offer).unwrap();
    let video = &answer.media[0];
    assert_eq!(video.payload_types().collect::<Vec<_>>(), [99]);
    assert_eq!(video.fmtp(99).unwrap().param("packetization-mode"), Some("0"));
}

/// RFC 4317 §2.4-style hold and resume, from the offerer's side, with the answers the
/// answerer gives and the o= versions both sides write.
#[test]
fn hold_and_resume() {
    let caps = |port| {
        let mut c =
            Capabilities::new("192.0.2.101".parse().unwrap(), vec![MediaCapability::audio(port, vec![Codec::pcmu()])]);
        c.username = Word::from_static("alice");
        c
    };
    let mut alice = Negotiator::new(caps(49170), 2890844526);
    let mut bob = bob(vec![MediaCapability::audio(49174, vec![Codec::pcmu()])]);
    let mut alice_state = OfferAnswer::default();

    let offer = alice.create_offer();
    alice_state.send_offer(offer.clone()).unwrap();
    let answer = bob.answer(&offer).unwrap();
    alice_state.receive_answer(answer.clone()).unwrap();
    assert_eq!(answer.origin.session_version, 2808844564);

    let hold = alice.hold().unwrap();
    assert_lines(
        &hold,
        &[
            "v=0",
            "o=alice 2890844526 2890844527 IN IP4 192.0.2.101",
            "s=-",
            "c=IN IP4 192.0.2.101",
            "t=0 0",
            "m=audio 49170 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=sendonly",
        ],
    );
    alice_state.send_offer(hold.clone()).unwrap();
    let held = bob.answer(&hold).unwrap();
    assert_lines(
        &held,
        &[
            "v=0",
            "o=bob 2808844564 2808844565 IN IP4 192.0.2.201",
            "s=-",
            "c=IN IP4 192.0.2.201",
            "t=0 0",
            "m=audio 49174 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=recvonly",
        ],
    );
    alice_state.receive_answer(held).unwrap();

    // The answering directions of RFC 3264 §6.1.
    use sip_sdp::answer_direction;
    assert_eq!(answer_direction(Direction::SendOnly, Direction::SendRecv), Direction::RecvOnly);
    assert_eq!(answer_direction(Direction::RecvOnly, Direction::SendRecv), Direction::SendOnly);
    assert_eq!(answer_direction(Direction::Inactive, Direction::SendRecv), Direction::Inactive);
    assert_eq!(answer_direction(Direction::SendRecv, Direction::RecvOnly), Direction::RecvOnly);

    let resume = alice.resume().unwrap();
    assert_eq!(resume.origin.session_version, 2890844528);
    assert_eq!(resume.media_direction(0), Direction::SendRecv);
    let resumed = bob.answer(&resume).unwrap();
    assert_eq!(resumed.media_direction(0), Direction::SendRecv);
    assert_eq!(resumed.origin.session_version, 2808844566);
    check_answer(&resume, &resumed).unwrap();
}

/// Holding a stream that was only receiving makes it inactive (RFC 6337 §5.3).
#[test]
fn hold_of_a_receive_only_stream_is_inactive() {
    let mut caps =
        Capabilities::new("192.0.2.101".parse().unwrap(), vec![MediaCapability::audio(49170, vec![Codec::pcmu()])]);
    caps.media[0].direction = Direction::RecvOnly;
    let mut alice = Negotiator::new(caps, 1);
    let _ = alice.create_offer();
    assert_eq!(alice.hold().unwrap().media_direction(0), Direction::Inactive);
    assert_eq!(alice.resume().unwrap().media_direction(0), Direction::RecvOnly);
}

/// The o= version stays when the description does not change (RFC 3264 §8).
#[test]
fn version_changes_only_with_the_description() {
    let offer = sdp(ALICE_AUDIO_VIDEO);
    let mut bob = bob(vec![MediaCapability::audio(49174, vec![Codec::pcmu()])]);
    let first = bob.answer(&offer).unwrap();
    let again = bob.answer(&offer).unwrap();
    assert_eq!(first, again);
    assert_eq!(again.origin.session_version, 2808844564);
}

/// RFC 4317 §2.6/§2.7-style: a re-offer removes the video stream (port 0, the m-line kept),
/// the next one adds a video stream back in a new m-line.
#[test]
fn adding_and_removing_a_stream() {
    let mut alice = Negotiator::new(
        Capabilities::new(
            "192.0.2.101".parse().unwrap(),
            vec![
                MediaCapability::audio(49170, vec![Codec::pcmu()]),
                MediaCapability::video(51372, vec![Codec::new("H261", 90000, 31)]),
            ],
        ),
        7,
    );
    let mut bob = bob(vec![
        MediaCapability::audio(49174, vec![Codec::pcmu()]),
        MediaCapability::video(49170, vec![Codec::new("H261", 90000, 31)]),
    ]);
    let offer = alice.create_offer();
    let first = bob.answer(&offer).unwrap();
    check_answer(&offer, &first).unwrap();
    assert_eq!(first.media[1].port, 49170);

    let reoffer = alice.remove_stream(1).unwrap();
    assert_eq!(reoffer.media[1].port, 0);
    assert_eq!(reoffer.origin.session_version, 8);
    let answer = bob.answer(&reoffer).unwrap();
    assert_lines(
        &answer,
        &[
            "v=0",
            "o=bob 2808844564 2808844565 IN IP4 192.0.2.201",
            "s=-",
            "c=IN IP4 192.0.2.201",
            "t=0 0",
            "m=audio 49174 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=sendrecv",
            "m=video 0 RTP/AVP 31",
        ],
    );
    check_answer(&reoffer, &answer).unwrap();

    let added = alice.add_stream("video").unwrap();
    assert_eq!(added.media.len(), 3, "a new stream takes a new m-line");
    assert_eq!(added.media[2].port, 51374, "the second video stream gets the next port");
    assert_eq!(added.origin.session_version, 9);
    let answer = bob.answer(&added).unwrap();
    assert_lines(
        &answer,
        &[
            "v=0",
            "o=bob 2808844564 2808844566 IN IP4 192.0.2.201",
            "s=-",
            "c=IN IP4 192.0.2.201",
            "t=0 0",
            "m=audio 49174 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            "a=sendrecv",
            "m=video 0 RTP/AVP 31",
            "m=video 49172 RTP/AVP 31",
            "a=rtpmap:31 H261/90000",
            "a=sendrecv",
        ],
    );
    check_answer(&added, &answer).unwrap();
}

/// Found by fuzzing: a rejected RTP stream whose offer listed no payload types (read
/// leniently) is answered with a valid one.
#[test]
fn rejected_stream_formats_stay_valid() {
    let offer = sdp(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\nm=video 5000 RTP/AVP webrtc\n",
    );
    let mut bob = bob(vec![MediaCapability::audio(49174, vec![Codec::pcmu()])]);
    let answer = bob.answer(&offer).unwrap();
    assert_eq!(answer.media[1].formats[0], "0");
    assert_eq!(SessionDescription::parse(answer.to_bytes()).unwrap(), answer);
}

#[test]
fn nothing_acceptable() {
    let offer = sdp(ALICE_AUDIO_VIDEO);
    let mut bob = bob(vec![MediaCapability::audio(49174, vec![Codec::new("G729", 8000, 18)])]);
    assert_eq!(bob.answer(&offer), Err(NegotiationError::NothingAcceptable));
    assert!(bob.local().is_none(), "a failed answer sends nothing");
}

/// Answers that do not answer their offer.
#[test]
fn invalid_answers() {
    let offer = sdp(ALICE_AUDIO_VIDEO);
    let good = sdp("v=0
o=bob 1 1 IN IP4 192.0.2.201
s=-
c=IN IP4 192.0.2.201
t=0 0
m=audio 49174 RTP/AVP 0
m=video 0 RTP/AVP 31
");
    check_answer(&offer, &good).unwrap();
    let replace = |from: &str, to: &str| {
        let text = String::from_utf8(good.to_bytes().to_vec()).unwrap().replace("\r\n", "\n");
        sdp(&text.replacen(from, to, 1))
    };
    let fewer = replace("m=video 0 RTP/AVP 31\n", "");
    assert!(matches!(check_answer(&offer, &fewer), Err(NegotiationError::MediaCount { offer: 2, answer: 1 })));
    let other_type = replace("m=video 0", "m=text 0");
    assert_eq!(check_answer(&offer, &other_type), Err(NegotiationError::MediaType(1)));
    let unoffered = replace("m=audio 49174 RTP/AVP 0", "m=audio 49174 RTP/AVP 18");
    assert_eq!(check_answer(&offer, &unoffered), Err(NegotiationError::UnofferedFormat(0)));
    // A dynamic type under another number is the same format.
    let renumbered = replace("m=audio 49174 RTP/AVP 0", "m=audio 49174 RTP/AVP 96\na=rtpmap:96 iLBC/8000");
    check_answer(&offer, &renumbered).unwrap();

    let mut sendonly_offer = offer.clone();
    sendonly_offer.media[0].set_direction(Direction::SendOnly);
    let mut sending_answer = good.clone();
    sending_answer.media[0].set_direction(Direction::SendOnly);
    assert!(matches!(
        check_answer(&sendonly_offer, &sending_answer),
        Err(NegotiationError::Direction { index: 0, .. })
    ));
    sending_answer.media[0].set_direction(Direction::RecvOnly);
    check_answer(&sendonly_offer, &sending_answer).unwrap();

    let mut disabled = offer.clone();
    disabled.media[1].port = 0;
    let mut answered = good.clone();
    answered.media[1].port = 5000;
    assert_eq!(check_answer(&disabled, &answered), Err(NegotiationError::DisabledStreamAnswered(1)));
}

/// The state of one exchange: one offer at a time, rollback on rejection.
#[test]
fn exchange_state() {
    let offer = sdp(ALICE_AUDIO_VIDEO);
    let mut bob_side = bob(vec![MediaCapability::audio(49174, vec![Codec::pcmu()])]);
    let answer = bob_side.answer(&offer).unwrap();

    let mut state = OfferAnswer::default();
    assert!(state.receive_answer(answer.clone()).is_err(), "no offer to answer");
    state.receive_offer(offer.clone()).unwrap();
    assert!(state.offer_pending());
    assert!(state.send_offer(offer.clone()).is_err(), "glare: one offer at a time");
    state.send_answer(answer.clone()).unwrap();
    let session = state.negotiated().unwrap();
    assert_eq!((&session.local, &session.remote), (&answer, &offer));

    // A re-offer that is rejected leaves the session as it was.
    let reoffer = bob_side.hold().unwrap();
    state.send_offer(reoffer).unwrap();
    assert!(state.negotiated().is_none());
    state.rollback();
    let session = state.negotiated().unwrap();
    assert_eq!((&session.local, &session.remote), (&answer, &offer));

    // An answer that does not fit is refused and the offer stays outstanding.
    let mut wrong = offer.clone();
    wrong.media.pop();
    let mut fresh = OfferAnswer::default();
    fresh.send_offer(offer.clone()).unwrap();
    assert!(fresh.receive_answer(wrong).is_err());
    assert!(fresh.offer_pending());
    fresh.rollback();
    assert_eq!(fresh, OfferAnswer::Initial);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const NAMES: &[(&str, u32)] = &[
        ("PCMU", 8000),
        ("PCMA", 8000),
        ("G722", 8000),
        ("opus", 48000),
        ("telephone-event", 8000),
        ("H264", 90000),
        ("VP8", 90000),
    ];

    /// An offer with random streams: media type, transport profile, codecs under random
    /// dynamic numbers, direction, and disabled streams.
    fn offer() -> impl Strategy<Value = SessionDescription> {
        let stream = (
            prop::sample::select(vec!["audio", "video", "text"]),
            prop::sample::select(vec!["RTP/AVP", "RTP/SAVP", "TCP/MSRP"]),
            prop::collection::vec((prop::sample::select(NAMES), 96u8..128), 1..5),
            prop::sample::select(vec!["sendrecv", "sendonly", "recvonly", "inactive"]),
            prop::bool::weighted(0.1),
        );
        prop::collection::vec(stream, 1..5).prop_map(|streams| {
            let mut text = String::from("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n");
            for (kind, proto, codecs, dir, disabled) in streams {
                let mut pts: Vec<u8> = codecs.iter().map(|(_, pt)| *pt).collect();
                pts.dedup();
                let fmts: Vec<String> = pts.iter().map(u8::to_string).collect();
                let port = if disabled { 0 } else { 5000 };
                text.push_str(&format!("m={kind} {port} {proto} {}\n", fmts.join(" ")));
                for (pt, ((name, rate), _)) in pts.iter().zip(&codecs) {
                    text.push_str(&format!("a=rtpmap:{pt} {name}/{rate}\n"));
                }
                text.push_str(&format!("a={dir}\n"));
            }
            sdp(&text)
        })
    }

    proptest! {
        /// Whatever is offered, the answer answers it (RFC 3264 §6), or nothing is acceptable.
        #[test]
        fn answers_answer_their_offers(offer in offer(), wants in prop::sample::select(vec![Direction::SendRecv, Direction::RecvOnly, Direction::SendOnly])) {
            let mut audio = MediaCapability::audio(6000, vec![Codec::pcmu(), Codec::new("opus", 48000, 111), Codec::telephone_event()]);
            audio.direction = wants;
            let video = MediaCapability::video(7000, vec![Codec::new("VP8", 90000, 96), Codec::new("H264", 90000, 97)]);
            let mut neg = bob(vec![audio, video]);
            match neg.answer(&offer) {
                Ok(answer) => {
                    prop_assert_eq!(answer.media.len(), offer.media.len());
                    prop_assert!(check_answer(&offer, &answer).is_ok(), "{:?}", check_answer(&offer, &answer));
                    let reparsed = SessionDescription::parse(answer.to_bytes()).unwrap();
                    prop_assert_eq!(reparsed, answer);
                }
                Err(e) => prop_assert_eq!(e, NegotiationError::NothingAcceptable),
            }
        }
    }
}
