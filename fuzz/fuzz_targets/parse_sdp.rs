//! Parses arbitrary bytes as a session description, strictly and leniently. Nothing may
//! panic; whatever parses serializes into a description that parses back equal, every typed
//! attribute decoder runs on it, and it is answered as an offer: the answer must answer it.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_sdp::attr::{
    Candidate, Crypto, Direction, Extmap, Fingerprint, Fmtp, Group, IceOptions, IcePwd, IceUfrag, Label, Maxptime, Mid,
    Msid, Ptime, Rtcp, Rtpmap, Setup, Ssrc, TypedAttribute,
};
use sip_sdp::negotiate::{Capabilities, Codec, MediaCapability, NegotiationError, Negotiator, check_answer};
use sip_sdp::{Attribute, SessionDescription};

fn decode_all(attributes: &[Attribute]) {
    fn one<A: TypedAttribute>(a: &Attribute) {
        if let Some(Ok(v)) = a.typed::<A>() {
            // A decoded value re-encodes into an attribute that decodes again.
            assert!(v.to_attribute().typed::<A>().is_some_and(|r| r.is_ok()), "{} does not re-decode", A::NAME);
        }
    }
    for a in attributes {
        one::<Rtpmap>(a);
        one::<Fmtp>(a);
        one::<Ptime>(a);
        one::<Maxptime>(a);
        one::<Rtcp>(a);
        one::<Mid>(a);
        one::<Label>(a);
        one::<Group>(a);
        one::<Ssrc>(a);
        one::<Extmap>(a);
        one::<Candidate>(a);
        one::<IceUfrag>(a);
        one::<IcePwd>(a);
        one::<IceOptions>(a);
        one::<Fingerprint>(a);
        one::<Setup>(a);
        one::<Crypto>(a);
        one::<Msid>(a);
        let _ = Direction::from_name(a.name.as_str());
    }
}

fuzz_target!(|data: &[u8]| {
    let strict = SessionDescription::parse(Bytes::copy_from_slice(data));
    let Ok(sd) = SessionDescription::parse_lenient(Bytes::copy_from_slice(data)) else {
        assert!(strict.is_err(), "strict accepts what lenient rejects");
        return;
    };
    decode_all(&sd.attributes);
    for (i, m) in sd.media.iter().enumerate() {
        decode_all(&m.attributes);
        let _ = sd.media_direction(i);
        let _ = sd.media_connection(i);
        let _ = m.payload_types().count();
    }
    let bytes = sd.to_bytes();
    let again = match SessionDescription::parse_lenient(bytes.clone()) {
        Ok(a) => a,
        Err(e) => panic!("serialized description does not parse: {e}\n{}", String::from_utf8_lossy(&bytes)),
    };
    assert_eq!(again, sd);
    // Answer it as an offer.
    let caps = Capabilities::new(
        "192.0.2.1".parse().expect("address"),
        vec![
            MediaCapability::audio(
                4000,
                vec![Codec::pcmu(), Codec::new("opus", 48000, 111).with_channels(2), Codec::telephone_event()],
            ),
            MediaCapability::video(
                4100,
                vec![Codec::new("H264", 90000, 96).with_fmtp("packetization-mode=1"), Codec::new("VP8", 90000, 97)],
            ),
        ],
    );
    match Negotiator::new(caps, 1).answer(&sd) {
        Ok(answer) => {
            assert!(
                check_answer(&sd, &answer).is_ok(),
                "answer does not answer its offer: {:?}",
                check_answer(&sd, &answer)
            );
            assert_eq!(SessionDescription::parse(answer.to_bytes()).expect("answers are strictly valid"), answer);
        }
        Err(e) => assert_eq!(e, NegotiationError::NothingAcceptable),
    }
    if let Ok(s) = strict {
        assert_eq!(s, sd, "strict and lenient read the same description differently");
        assert_eq!(SessionDescription::parse(s.to_bytes()).unwrap(), s);
    }
});
