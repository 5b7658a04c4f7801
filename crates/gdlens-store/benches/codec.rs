//! Encoding a finding for the store: the importer's encoder stage, per finding, with the store's
//! zstd dictionaries and without them (LZ4 raw, plain postcard), and the bytes each stores.
//!
//! `cargo bench -p gdlens-store --bench codec` (docs/benchmarks/import.md).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gdlens_demo::{DemoOptions, Generator};
use gdlens_domain::Finding;
use gdlens_store::{Store, TRAIN_SAMPLES};

fn findings(n: usize) -> Vec<(Finding, String)> {
    let opts = DemoOptions {
        seed: 1,
        accounts: 80,
        regions: 4,
        findings: n,
        ..DemoOptions::default()
    };
    Generator::new(&opts)
        .unwrap()
        .map(|d| d.to_record().unwrap())
        .collect()
}

fn encode(c: &mut Criterion) {
    let all = findings(TRAIN_SAMPLES + 10_000);
    let (train, data) = all.split_at(TRAIN_SAMPLES);
    let plain = Store::open_in_memory().unwrap();
    let trained = Store::open_in_memory().unwrap();
    let samples: Vec<_> = train.iter().map(|(f, r)| (f, r.as_str())).collect();
    assert!(trained.train_dictionaries(&samples).unwrap());

    let raw_bytes: usize = data.iter().map(|(_, r)| r.len()).sum();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(data.len() as u64));
    for (name, store) in [("lz4 + postcard", &plain), ("zstd dictionaries", &trained)] {
        let mut encoder = store.encoder();
        let stored: usize = data
            .iter()
            .map(|(f, r)| encoder.encode(f, r, String::new()).unwrap().stored_bytes())
            .sum();
        eprintln!(
            "{name}: {} B of JSON per finding stored as {} B (raw + normalized)",
            raw_bytes / data.len(),
            stored / data.len()
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || (),
                |()| {
                    for (f, r) in data {
                        criterion::black_box(encoder.encode(f, r, String::new()).unwrap());
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    c.bench_function("train dictionaries (2,000 findings)", |b| {
        b.iter_batched(
            || Store::open_in_memory().unwrap(),
            |store| assert!(store.train_dictionaries(&samples).unwrap()),
            BatchSize::PerIteration,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = encode
}
criterion_main!(benches);
