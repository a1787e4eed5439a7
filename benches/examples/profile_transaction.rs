//! Runs whole non-INVITE server transactions through the transaction layer in a loop, for
//! a profiler: requests and responses are prepared first.
use std::time::{Duration, Instant};

use sip_message::{Message, Request, Response, StatusCode};
use sip_transaction::{Config, TransactionKey, TransactionLayer};

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let inputs: Vec<(Request, Response, TransactionKey)> = (0..n)
        .map(|i| {
            let Ok(Message::Request(r)) = Message::parse(sipkit_benches::numbered_request("OPTIONS", i)) else {
                unreachable!()
            };
            let ok = Response::from_request(&r, StatusCode::OK).with_to_tag("a6c85cf").expect("tag");
            let key = TransactionKey::for_server_request(&r).expect("key");
            (r, ok, key)
        })
        .collect();
    let mut layer = TransactionLayer::new(Config::default());
    let start = Instant::now();
    let t = Instant::now();
    for (r, ok, key) in inputs {
        layer.handle_incoming(start, Message::Request(r), 1u32, false);
        let _ = layer.send_response(start, &key, ok);
        while layer.poll_transmit().is_some() {}
        while layer.poll_event().is_some() {}
    }
    layer.handle_timeout(start + Duration::from_secs(40));
    while layer.poll_event().is_some() {}
    let e = t.elapsed();
    println!("{} ns per transaction, {} left", e.as_nanos() / u128::from(n), layer.len());
}
