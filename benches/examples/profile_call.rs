//! Runs whole calls through the sans-IO cores `sipkit answer` runs, for a profiler:
//! `profile_call CALLS` (see `sipkit_benches::call`).

/// The allocator `sipkit` runs with, so the count is `sipkit answer`'s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let calls: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let callers = (0..calls).map(sipkit_benches::call::caller_side).collect();
    let t = std::time::Instant::now();
    sipkit_benches::call::run_calls(callers);
    println!("{calls} calls; {:.0} ns per call", t.elapsed().as_nanos() as f64 / calls as f64);
}
