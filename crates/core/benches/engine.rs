//! Engine throughput: simulated events per second on the benchmark cases of
//! `src/bench.rs` (the same cases `scripts/bench` runs natively and in the
//! browser). Each iteration builds the simulation and runs it to the end;
//! criterion's throughput is the run's event count, so it prints events/s.
//!
//!     cargo bench --bench engine                 # every case
//!     cargo bench --bench engine -- retry_storm  # one case
//!
//! The figures and the machine they were measured on: docs/PERFORMANCE.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use gateway_core::bench::CASES;

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    // Whole runs take from tens of milliseconds to seconds: few samples, each one run.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    for case in CASES {
        let scenario = case.scenario(None);
        let events = case.run(scenario.clone());
        group.throughput(Throughput::Elements(events));
        group.bench_function(case.name, |b| {
            b.iter_batched(|| scenario.clone(), |sc| black_box(case.run(sc)), BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
