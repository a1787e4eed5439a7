//! Parses one bench description in a loop, for a profiler: `profile_sdp NAME ROUNDS [typed]`.
fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "webrtc_offer".into());
    let rounds: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let typed = std::env::args().nth(3).is_some_and(|a| a == "typed");
    let (_, bytes) = sipkit_benches::DESCRIPTIONS.iter().find(|(n, _)| *n == name).expect("description name");
    let buf = sipkit_benches::received(bytes);
    let mut n = 0;
    for _ in 0..rounds {
        n += if typed {
            sipkit_benches::sdp_parse_typed(std::hint::black_box(&buf))
        } else {
            usize::from(sip_sdp::SessionDescription::parse(std::hint::black_box(&buf).clone()).is_ok())
        };
    }
    println!("{n}");
}
