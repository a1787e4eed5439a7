//! Counts heap allocations per parse of each bench message (with dhat's counting allocator),
//! for sipkit's full parse and for rsip's.

#![forbid(unsafe_code)]

use sipkit_benches::{MESSAGES, received, sipkit_full_parse};

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
}
