//! Transport throughput: UDP datagrams received on loopback, parsed and handed to the
//! layer above (one core: a current-thread runtime), and the stream decoder cutting
//! pipelined messages out of a TCP byte stream.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sip_transport::framing::{Frame, StreamCodec};
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::{Received, incoming_channel};
use tokio_util::codec::Decoder;

/// Datagrams queued in the socket before each timed receive (few enough that the
/// kernel's default receive buffer holds them all).
const WINDOW: u64 = 32;

fn message(name: &str) -> &'static [u8] {
    sipkit_benches::MESSAGES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).expect("bench message")
}

fn udp_receive(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (tx, mut incoming) = incoming_channel(4096);
    let transport = rt
        .block_on(UdpTransport::bind("127.0.0.1:0".parse().expect("address"), UdpSettings::default(), tx))
        .expect("bind");
    let to = transport.local_addr();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("sender");
    let mut group = c.benchmark_group("udp_receive");
    group.throughput(Throughput::Elements(1));
    for name in ["options", "invite"] {
        let datagram = message(name);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let window = left.min(WINDOW);
                    for _ in 0..window {
                        sender.send_to(datagram, to).expect("send");
                    }
                    let start = Instant::now();
                    rt.block_on(async {
                        for _ in 0..window {
                            let item = tokio::time::timeout(Duration::from_secs(5), incoming.recv())
                                .await
                                .expect("a datagram was lost on loopback")
                                .expect("transport running");
                            assert!(matches!(item, Received::Message { .. }));
                        }
                    });
                    timed += start.elapsed();
                    left -= window;
                }
                timed
            });
        });
    }
    group.finish();
}

fn stream_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_decode");
    for name in ["options", "invite"] {
        let one = message(name);
        let pipelined: Vec<u8> = one.iter().copied().cycle().take(one.len() * 100).collect();
        group.throughput(Throughput::Elements(100));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut codec = StreamCodec::default();
                let mut buf = BytesMut::from(&pipelined[..]);
                let mut n = 0;
                while let Ok(Some(frame)) = codec.decode(&mut buf) {
                    n += usize::from(matches!(frame, Frame::Message(_)));
                }
                assert_eq!(n, 100);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, udp_receive, stream_decode);
criterion_main!(benches);
