//! Parse and serialize benches of `sip-message`, with the `rsip` crate on the same messages.
//!
//! - `parse/sipkit`: `Message::parse` plus decoding Via, From, To, Call-ID, CSeq,
//!   Max-Forwards, Content-Length, Contact and Route (a full parse).
//! - `parse/sipkit_parse_only`: `Message::parse` alone (every header located; the
//!   transaction-critical ones checked).
//! - `parse/rsip`: `rsip::SipMessage::try_from` plus the typed forms of the same headers.
//!   rsip refuses the tortuous message (its tokenizer fails on it): that row is the time
//!   rsip takes to give up.
//! - `serialize/sipkit`: `Message::encode` into a `BytesMut`.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sip_message::Message;
use sipkit_benches::{MESSAGES, received, rsip_full_parse, sipkit_full_parse};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, bytes) in MESSAGES {
        let buf = received(bytes);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::new("sipkit", name), |b| b.iter(|| sipkit_full_parse(black_box(&buf))));
        g.bench_function(BenchmarkId::new("sipkit_parse_only", name), |b| {
            b.iter(|| Message::parse(black_box(&buf).clone()).is_ok())
        });
        g.bench_function(BenchmarkId::new("rsip", name), |b| b.iter(|| rsip_full_parse(black_box(&buf))));
    }
    g.finish();
}

fn serialize(c: &mut Criterion) {
    let mut g = c.benchmark_group("serialize");
    for (name, bytes) in MESSAGES {
        let m = Message::parse(received(bytes)).expect("bench message parses");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = BytesMut::with_capacity(4096);
        g.bench_function(BenchmarkId::new("sipkit", name), |b| {
            b.iter(|| {
                out.clear();
                black_box(&m).encode(&mut out);
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse, serialize);
criterion_main!(benches);
