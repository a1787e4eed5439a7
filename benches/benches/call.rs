//! One whole call through the sans-IO cores `sipkit answer` runs (see
//! `sipkit_benches::call`): calls per second on one core, the per-call work of `sipkit
//! answer` without the runtime and the system calls, free of the run-to-run spread of a
//! live load test.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sipkit_benches::call::{caller_side, run_calls};

/// The allocator `sipkit` runs with, so the figure is `sipkit answer`'s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Calls per measured batch (distinct Call-IDs, so they live side by side).
const BATCH: u64 = 200;

fn calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("call");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("sipkit_answer", |b| {
        b.iter_batched(|| (0..BATCH).map(caller_side).collect(), run_calls, BatchSize::LargeInput);
    });
    group.finish();
}

criterion_group!(benches, calls);
criterion_main!(benches);
