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
    dialog_memory();
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

/// Heap held per confirmed dialog: `LIVE` dialogs made by a UAC from an INVITE and its
/// 200 OK through two record-routing proxies, kept in [`sip_dialog::Dialogs`]; the
/// messages are dropped inside the measurement.
fn dialog_memory() {
    let before = dhat::HeapStats::get().curr_bytes;
    let mut dialogs = sip_dialog::Dialogs::new();
    for n in 0..LIVE {
        let invite = format!(
            "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK{n:016x}\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: {n}@pc33.atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Length: 0\r\n\r\n"
        );
        let ok = format!(
            "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK{n:016x}\r\n\
Record-Route: <sip:p2.biloxi.example.com;lr>\r\n\
Record-Route: <sip:p1.atlanta.example.com;lr>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
Call-ID: {n}@pc33.atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:bob@192.0.2.4>\r\n\
Content-Length: 0\r\n\r\n"
        );
        let (Ok(Message::Request(invite)), Ok(Message::Response(ok))) =
            (Message::parse(Bytes::from(invite)), Message::parse(Bytes::from(ok)))
        else {
            continue;
        };
        let _ = dialogs.receive_uac_response(&invite, &ok);
    }
    let held = dhat::HeapStats::get().curr_bytes - before;
    println!("\n{:<34} {:>12}", "dialog", "heap bytes");
    println!(
        "{:<34} {:>12.0}   (a Dialog itself is {} bytes; an InviteSession, its Dialog and Negotiator inside, {} plus what it points to)",
        "confirmed, UAC, 2 routes",
        held as f64 / dialogs.len().max(1) as f64,
        size_of::<sip_dialog::Dialog>(),
        size_of::<sip_dialog::InviteSession>()
    );
}
