//! Shared inputs and workloads for sipkit's benches and allocation counts.
//!
//! The messages are the project's own test messages (`crates/sip-message/tests/messages`).

#![forbid(unsafe_code)]

use bytes::{Bytes, BytesMut};
use sip_message::Message;

/// The benched messages: name and wire bytes.
pub const MESSAGES: &[(&str, &[u8])] = &[
    ("invite", include_bytes!("../../crates/sip-message/tests/messages/invite.sip")),
    ("ok_200", include_bytes!("../../crates/sip-message/tests/messages/ok_200.sip")),
    ("register", include_bytes!("../../crates/sip-message/tests/messages/register.sip")),
    ("options", include_bytes!("../../crates/sip-message/tests/messages/options.sip")),
    ("ringing_180", include_bytes!("../../crates/sip-message/tests/messages/ringing_180.sip")),
    ("tortuous", include_bytes!("../../crates/sip-message/tests/messages/tortuous.sip")),
];

/// The bytes as a transport hands them over: a frozen, reference-counted buffer.
pub fn received(bytes: &[u8]) -> Bytes {
    BytesMut::from(bytes).freeze()
}

/// A full parse: `Message::parse`, then Via (every value), From, To, Call-ID, CSeq,
/// Max-Forwards, Content-Length, Contact and Route decoded. Returns how many values decoded.
pub fn sipkit_full_parse(buf: &Bytes) -> usize {
    let Ok(m) = Message::parse(buf.clone()) else {
        return 0;
    };
    let h = m.headers();
    let mut n = 0;
    n += h.via().filter(Result::is_ok).count();
    n += usize::from(h.from().is_some_and(|r| r.is_ok()));
    n += usize::from(h.to().is_some_and(|r| r.is_ok()));
    n += usize::from(h.call_id().is_some_and(|r| r.is_ok()));
    n += usize::from(h.cseq().is_some_and(|r| r.is_ok()));
    n += usize::from(h.max_forwards().is_some_and(|r| r.is_ok()));
    n += usize::from(h.content_length().is_some_and(|r| r.is_ok()));
    n += h.contact().filter(Result::is_ok).count();
    n += h.route().filter(Result::is_ok).count();
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bench_message_fully_parses() {
        for (name, bytes) in MESSAGES {
            let m = Message::parse(received(bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
            m.validate().unwrap();
            assert!(sipkit_full_parse(&received(bytes)) >= 6, "{name}");
        }
    }
}
