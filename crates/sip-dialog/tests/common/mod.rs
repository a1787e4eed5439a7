//! What the session test files share: predictable entropy, a negotiator, and the outputs
//! of a session taken through the wire format.

#![allow(dead_code)] // each test file uses its own part

use std::net::{IpAddr, Ipv4Addr};

use sip_dialog::{Entropy, InviteSession, Output, SessionEvent};
use sip_message::{Message, Request, Response};
use sip_sdp::{Capabilities, Codec, MediaCapability, Negotiator, SessionDescription};

/// Entropy that counts: branches and delays the test can predict.
#[derive(Debug, Default)]
pub(crate) struct Counter(pub(crate) u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// A session with predictable entropy.
pub(crate) type Session = InviteSession<Counter>;

/// A negotiator for audio (PCMU, PCMA, telephone-event) on 192.0.2.`last_octet`:`port`.
pub(crate) fn negotiator(last_octet: u8, port: u16) -> Negotiator {
    let caps = Capabilities::new(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last_octet)),
        vec![MediaCapability::audio(port, vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event()])],
    );
    Negotiator::new(caps, 1000 + u64::from(last_octet))
}

/// The message as the peer reads it: written and parsed again.
pub(crate) fn wire(m: impl Into<Message>) -> Message {
    let bytes = match m.into() {
        Message::Request(r) => r.to_bytes(),
        Message::Response(r) => r.to_bytes(),
    };
    Message::parse(bytes).expect("what a session sends parses")
}

/// The request in `m`.
pub(crate) fn as_request(m: Message) -> Request {
    match m {
        Message::Request(r) => r,
        Message::Response(r) => panic!("expected a request, got {}", r.status.as_u16()),
    }
}

/// The response in `m`.
pub(crate) fn as_response(m: Message) -> Response {
    match m {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got {}", r.method),
    }
}

/// Everything the session has to hand out, in order.
pub(crate) fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// The requests among `out`, as the peer reads them.
pub(crate) fn requests(out: &[Output]) -> Vec<Request> {
    out.iter()
        .filter_map(|o| match o {
            Output::Request(r) => Some(as_request(wire(r.clone()))),
            _ => None,
        })
        .collect()
}

/// The responses among `out`, as the peer reads them.
pub(crate) fn responses(out: &[Output]) -> Vec<Response> {
    out.iter()
        .filter_map(|o| match o {
            Output::Response(r) => Some(as_response(wire(r.clone()))),
            _ => None,
        })
        .collect()
}

/// The events among `out`.
pub(crate) fn events(out: &[Output]) -> Vec<SessionEvent> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// The status codes of the responses among `out`.
pub(crate) fn status_codes(out: &[Output]) -> Vec<u16> {
    responses(out).iter().map(|r| r.status.as_u16()).collect()
}

/// A session description from a body.
pub(crate) fn sdp(body: &[u8]) -> SessionDescription {
    SessionDescription::parse(bytes::Bytes::copy_from_slice(body)).expect("SDP")
}
