//! The transaction layer alone (no sockets, no parsing): whole transactions per second on
//! one core, from the first message to termination, timers run on virtual time.

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sip_message::{Message, Request, Response, StatusCode};
use sip_transaction::{Config, TransactionLayer};

/// Transactions per measured batch (distinct branches, so they live side by side).
const BATCH: u64 = 1000;

fn request(method: &str, n: u64) -> Request {
    match Message::parse(sipkit_benches::numbered_request(method, n)) {
        Ok(Message::Request(r)) => r,
        _ => unreachable!("bench request"),
    }
}

fn answer(r: &Request, status: StatusCode) -> Response {
    let response = Response::from_request(r, status);
    if status.is_provisional() { response } else { response.with_to_tag("a6c85cf").expect("tag") }
}

fn drain(layer: &mut TransactionLayer<u32>) {
    while layer.poll_transmit().is_some() {}
    while layer.poll_event().is_some() {}
}

/// Runs `BATCH` transactions through `run` per measured batch; the inputs are prepared
/// outside the measurement.
fn bench_batches<I>(
    c: &mut Criterion,
    name: &str,
    prepare: impl Fn(u64) -> I + Copy,
    run: impl Fn(&mut TransactionLayer<u32>, Instant, I) + Copy,
) {
    let mut group = c.benchmark_group("transaction");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function(name, |b| {
        b.iter_batched(
            || (0..BATCH).map(prepare).collect::<Vec<I>>(),
            |inputs| {
                let mut layer = TransactionLayer::new(Config::default());
                let start = Instant::now();
                for input in inputs {
                    run(&mut layer, start, input);
                }
                // Let every remaining timer fire: all transactions end.
                layer.handle_timeout(start + Duration::from_secs(40));
                drain(&mut layer);
                assert!(layer.is_empty());
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn transactions(c: &mut Criterion) {
    // Non-INVITE server: request in, 200 out; over UDP Timer J ends it, over TCP the 200.
    for (name, reliable) in [("non_invite_server_udp", false), ("non_invite_server_tcp", true)] {
        bench_batches(
            c,
            name,
            |n| {
                let r = request("OPTIONS", n);
                let ok = answer(&r, StatusCode::OK);
                let key = TransactionKeyOf::server(&r);
                (r, ok, key)
            },
            move |layer, now, (r, ok, key)| {
                layer.handle_incoming(now, Message::Request(r), 1, reliable);
                let _ = layer.send_response(now, &key, ok);
                drain(layer);
            },
        );
    }
    // INVITE server over UDP: INVITE in, 180 and 200 out, ACK in, Timer L.
    bench_batches(
        c,
        "invite_server_udp",
        |n| {
            let r = request("INVITE", n);
            let ringing = answer(&r, StatusCode::RINGING);
            let ok = answer(&r, StatusCode::OK);
            let mut ack = request("ACK", n);
            ack.headers = answer(&r, StatusCode::OK).headers;
            let key = TransactionKeyOf::server(&r);
            (r, ringing, ok, ack, key)
        },
        |layer, now, (r, ringing, ok, ack, key)| {
            layer.handle_incoming(now, Message::Request(r), 1, false);
            let _ = layer.send_response(now, &key, ringing);
            let _ = layer.send_response(now, &key, ok);
            layer.handle_incoming(now, Message::Request(ack), 1, false);
            drain(layer);
        },
    );
    // Non-INVITE client over UDP: request out, 200 in, Timer K.
    bench_batches(
        c,
        "non_invite_client_udp",
        |n| {
            let r = request("OPTIONS", n);
            let ok = answer(&r, StatusCode::OK);
            (r, ok)
        },
        |layer, now, (r, ok)| {
            let _ = layer.send_request(now, r, 1, false);
            layer.handle_incoming(now, Message::Response(ok), 1, false);
            drain(layer);
        },
    );
    // INVITE client over UDP: INVITE out, 180 and 200 in, Timer M.
    bench_batches(
        c,
        "invite_client_udp",
        |n| {
            let r = request("INVITE", n);
            let ringing = answer(&r, StatusCode::RINGING);
            let ok = answer(&r, StatusCode::OK);
            (r, ringing, ok)
        },
        |layer, now, (r, ringing, ok)| {
            let _ = layer.send_request(now, r, 1, false);
            layer.handle_incoming(now, Message::Response(ringing), 1, false);
            layer.handle_incoming(now, Message::Response(ok), 1, false);
            drain(layer);
        },
    );
}

/// The server key of a request, computed as the layer does (so the bench does not need
/// the event to learn it).
struct TransactionKeyOf;

impl TransactionKeyOf {
    fn server(r: &Request) -> sip_transaction::TransactionKey {
        sip_transaction::TransactionKey::for_server_request(r).expect("key")
    }
}

criterion_group!(benches, transactions);
criterion_main!(benches);
