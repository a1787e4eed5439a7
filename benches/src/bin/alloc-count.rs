//! Counts heap allocations per parse of each bench message (with dhat's counting allocator),
//! for sipkit's full parse and for rsip's; and the heap the transaction layer holds per
//! live transaction.

#![forbid(unsafe_code)]

use std::time::Instant;

use bytes::Bytes;
use sip_message::{Message, Response, StatusCode};
use sip_transaction::{Config, TransactionLayer};
use sipkit_benches::{MESSAGES, numbered_request, received, sipkit_full_parse};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const ROUNDS: u64 = 1000;

fn count(f: impl Fn()) -> (f64, f64) {
    f(); // warm up: one-time promotions and lazy statics are not per-parse costs
    let before = dhat::HeapStats::get();
    for _ in 0..ROUNDS {
        f();
    }
    let after = dhat::HeapStats::get();
    (
        (after.total_blocks - before.total_blocks) as f64 / ROUNDS as f64,
        (after.total_bytes - before.total_bytes) as f64 / ROUNDS as f64,
    )
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    println!("{:<12} {:>22} {:>22}", "message", "sipkit allocs (bytes)", "rsip try_from allocs");
    for (name, bytes) in MESSAGES {
        let buf = received(bytes);
        let _ = buf.clone(); // the buffer is shared before it reaches the parser
        let (ours, ours_bytes) = count(|| {
            std::hint::black_box(sipkit_full_parse(&buf));
        });
        let (theirs, theirs_bytes) = count(|| {
            let _ = std::hint::black_box(rsip::SipMessage::try_from(buf.clone()));
        });
        println!("{name:<12} {ours:>10.1} ({ours_bytes:>7.0}) {theirs:>10.1} ({theirs_bytes:>7.0})");
    }
    transaction_memory();
}

/// Live transactions measured at once.
const LIVE: u64 = 10_000;

/// Heap held per live transaction: the growth of the live heap while `LIVE` transactions
/// are held, divided by `LIVE` (the messages that made them were parsed and dropped
/// inside the measurement, so only what the layer keeps remains).
fn transaction_memory() {
    let now = Instant::now();
    let drain = |layer: &mut TransactionLayer<u32>| {
        while layer.poll_transmit().is_some() {}
        while layer.poll_event().is_some() {}
    };
    println!("\n{:<34} {:>12} {:>22}", "live transaction", "heap bytes", "of which messages kept");
    // Non-INVITE server over UDP, Completed (waiting for Timer J), holding its 200 OK.
    let texts: Vec<Bytes> = (0..LIVE).map(|n| numbered_request("OPTIONS", n)).collect();
    let before = dhat::HeapStats::get().curr_bytes;
    let mut layer = TransactionLayer::new(Config::default());
    for text in &texts {
        let Ok(Message::Request(r)) = Message::parse(text.clone()) else { continue };
        let ok = Response::from_request(&r, StatusCode::OK).with_to_tag("a6c85cf").expect("tag");
        layer.handle_incoming(now, Message::Request(r), 1, false);
        if let Some(sip_transaction::Event::Request { key: Some(key), .. }) = layer.poll_event() {
            let _ = layer.send_response(now, &key, ok);
        }
        drain(&mut layer);
    }
    let held = dhat::HeapStats::get().curr_bytes - before;
    report("non-INVITE server (UDP, Completed)", held, &layer);
    drop(layer);
    // INVITE client over UDP, Calling, holding the INVITE for retransmission.
    let before = dhat::HeapStats::get().curr_bytes;
    let mut layer = TransactionLayer::new(Config::default());
    for text in &texts {
        let text = Bytes::from(String::from_utf8_lossy(text).replace("OPTIONS", "INVITE"));
        let Ok(Message::Request(r)) = Message::parse(text) else { continue };
        let _ = layer.send_request(now, r, 1, false);
        drain(&mut layer);
    }
    let held = dhat::HeapStats::get().curr_bytes - before;
    report("INVITE client (UDP, Calling)", held, &layer);
}

fn report(what: &str, held: usize, layer: &TransactionLayer<u32>) {
    let live = layer.len().max(1) as f64;
    println!("{what:<34} {:>12.0} {:>22.0}", held as f64 / live, layer.message_bytes() as f64 / live);
}
