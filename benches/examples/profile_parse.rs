//! Runs the full parse of one bench message in a loop, for a profiler:
//! `profile_parse NAME ROUNDS [parse-only|rsip] [static]` (`rsip`: rsip's full parse).
fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "invite".into());
    let rounds: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let (_, bytes) = sipkit_benches::MESSAGES.iter().find(|(n, _)| *n == name).expect("message name");
    let static_input = std::env::args().nth(4).is_some_and(|a| a == "static");
    let buf = if static_input { bytes::Bytes::from_static(bytes) } else { sipkit_benches::received(bytes) };
    let mode = std::env::args().nth(3).unwrap_or_default();
    let mut n = 0;
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        n += match mode.as_str() {
            "parse-only" => usize::from(sip_message::Message::parse(std::hint::black_box(&buf).clone()).is_ok()),
            "rsip" => sipkit_benches::rsip_full_parse(std::hint::black_box(&buf)),
            _ => sipkit_benches::sipkit_full_parse(std::hint::black_box(&buf)),
        };
    }
    let e = t.elapsed();
    println!("{n} values; {:.0} ns per full parse", e.as_nanos() as f64 / rounds as f64);
}
