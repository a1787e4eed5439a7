//! Feeds arbitrary bytes to the stream decoder in reads of varying sizes. Nothing may
//! panic, the buffer may never hold more than the limits plus one read, and the frames
//! must not depend on how the stream was cut: the same bytes in one read give the same
//! frames and the same error.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sip_transport::framing::{Frame, FramingError, FramingLimits, StreamCodec};
use tokio_util::codec::Decoder;

const MAX_HEAD: usize = 2048;
const MAX_BODY: usize = 2048;

/// A frame or the end of the stream, comparable.
#[derive(Debug, PartialEq)]
enum Event {
    Message(Vec<u8>),
    Malformed(Vec<u8>),
    Ping,
    Pong,
    Error(String),
    End,
}

fn event(frame: Frame) -> Event {
    match frame {
        Frame::Message(m) => Event::Message(m.to_bytes().to_vec()),
        Frame::Malformed { bytes, .. } => Event::Malformed(bytes.to_vec()),
        Frame::Ping => Event::Ping,
        Frame::Pong => Event::Pong,
    }
}

fn error(e: &FramingError) -> Event {
    // The kind of error, without the bytes it holds (those depend on nothing but input).
    Event::Error(format!("{e}"))
}

/// Decodes `data` cut into reads of the sizes `sizes` yields; returns the events.
fn run(data: &[u8], mut sizes: impl FnMut() -> usize) -> Vec<Event> {
    let limits = FramingLimits { max_head_bytes: MAX_HEAD, max_body_bytes: MAX_BODY, ..FramingLimits::default() };
    let mut codec = StreamCodec::new(limits);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = sizes().clamp(1, rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => events.push(event(frame)),
                Ok(None) => break,
                Err(e) => {
                    events.push(error(&e));
                    return events;
                }
            }
        }
        assert!(buf.len() <= MAX_HEAD + MAX_BODY + n, "buffer grew to {}", buf.len());
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(frame)) => events.push(event(frame)),
            Ok(None) => {
                events.push(Event::End);
                return events;
            }
            Err(e) => {
                events.push(error(&e));
                return events;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Read sizes from a small generator seeded by the input, so the fuzzer varies both.
    let mut state = data
        .iter()
        .take(16)
        .fold(data.len() as u64 ^ 0x9e37_79b9_7f4a_7c15, |s, &b| (s ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let chunked = run(data, || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        1 + (state % 97) as usize
    });
    let whole = run(data, || usize::MAX);
    assert_eq!(chunked, whole, "frames depend on how the stream was cut");
});
