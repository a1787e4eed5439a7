//! Parses arbitrary bytes as a SIP message. Nothing may panic; a message that parses must
//! serialize into bytes that parse back into an equal message, and every typed header
//! decoder, the validation and the multipart splitter run on it.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_message::header::{self, TypedHeader};
use sip_message::{Message, ParseLimits};

fn decode_all<H: TypedHeader>(m: &Message) {
    for v in m.headers().typed_all::<H>() {
        if let Ok(h) = v {
            // A decoded value re-encodes into something that decodes again.
            let again = H::decode(&h.to_bytes());
            assert!(again.is_ok(), "{}: re-encoded value does not decode", H::NAME);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    let _ = m.validate();
    let _ = m.multipart();
    decode_all::<header::Via>(&m);
    decode_all::<header::From>(&m);
    decode_all::<header::To>(&m);
    decode_all::<header::Contact>(&m);
    decode_all::<header::Route>(&m);
    decode_all::<header::RecordRoute>(&m);
    decode_all::<header::CSeq>(&m);
    decode_all::<header::ContentType>(&m);
    decode_all::<header::Accept>(&m);
    decode_all::<header::WwwAuthenticate>(&m);
    decode_all::<header::Authorization>(&m);
    decode_all::<header::Date>(&m);
    decode_all::<header::Warning>(&m);
    decode_all::<header::RetryAfter>(&m);
    decode_all::<header::Reason>(&m);
    decode_all::<header::Identity>(&m);

    // Serialization may add a space after a colon, so reparse without size limits.
    let unlimited = ParseLimits {
        max_message_bytes: usize::MAX,
        max_line_bytes: usize::MAX,
        max_uri_bytes: usize::MAX,
        max_body_bytes: usize::MAX,
        ..ParseLimits::default()
    };
    let bytes = m.to_bytes();
    let again = match Message::parse_with(bytes.clone(), &unlimited) {
        Ok(a) => a,
        Err(e) => panic!("serialized message does not parse: {e}\n{}", String::from_utf8_lossy(&bytes)),
    };
    assert_eq!(again, m);
    assert_eq!(again.to_bytes(), bytes);
});
