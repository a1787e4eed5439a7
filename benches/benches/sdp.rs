//! Parse and serialize benches of `sip-sdp`, with the `webrtc-sdp` crate on the same
//! descriptions.
//!
//! - `sdp_parse/sipkit`: `SessionDescription::parse` (strict: every line and every attribute
//!   sip-sdp types is checked; attributes are kept raw for decoding on access).
//! - `sdp_parse/sipkit_typed`: `parse_lenient` plus every attribute sip-sdp types decoded
//!   once into its typed form, which is what `webrtc_sdp::parse_sdp` does.
//! - `sdp_parse/webrtc_sdp`: `webrtc_sdp::parse_sdp(text, false)`.
//! - `sdp_serialize/*`: writing the parsed description back.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sip_sdp::SessionDescription;
use sipkit_benches::{DESCRIPTIONS, received, sdp_parse_typed};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("sdp_parse");
    for (name, bytes) in DESCRIPTIONS {
        let buf = received(bytes);
        let text = std::str::from_utf8(bytes).expect("bench descriptions are UTF-8");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::new("sipkit", name), |b| {
            b.iter(|| SessionDescription::parse(black_box(&buf).clone()).is_ok())
        });
        g.bench_function(BenchmarkId::new("sipkit_typed", name), |b| b.iter(|| sdp_parse_typed(black_box(&buf))));
        g.bench_function(BenchmarkId::new("webrtc_sdp", name), |b| {
            b.iter(|| webrtc_sdp::parse_sdp(black_box(text), false).is_ok())
        });
    }
    g.finish();
}

fn serialize(c: &mut Criterion) {
    let mut g = c.benchmark_group("sdp_serialize");
    for (name, bytes) in DESCRIPTIONS {
        let ours = SessionDescription::parse(received(bytes)).expect("bench description parses");
        let theirs =
            webrtc_sdp::parse_sdp(std::str::from_utf8(bytes).expect("UTF-8"), false).expect("webrtc-sdp parses it");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = BytesMut::with_capacity(8192);
        g.bench_function(BenchmarkId::new("sipkit", name), |b| {
            b.iter(|| {
                out.clear();
                black_box(&ours).encode(&mut out);
                out.len()
            })
        });
        g.bench_function(BenchmarkId::new("webrtc_sdp", name), |b| b.iter(|| black_box(&theirs).to_string().len()));
    }
    g.finish();
}

criterion_group!(benches, parse, serialize);
criterion_main!(benches);
