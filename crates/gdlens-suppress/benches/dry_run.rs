//! Throughput of a dry run and of suggestion mining per finding (parse the stored JSON, evaluate),
//! over the GraphQL fixture findings repeated with distinct ids. What a whole-history scan costs
//! per finding besides reading and decompressing the store's rows.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gdlens_suppress::{CandidateRuns, DryRun, FindingCriteria, Miner, SuggestOptions};
use serde_json::{json, Value};

fn raw_findings(n: usize) -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/graphql/fixtures/");
    let mut base: Vec<Value> = Vec::new();
    for f in ["findings.ndjson", "noise.ndjson"] {
        let text = std::fs::read_to_string(format!("{dir}{f}")).unwrap();
        base.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    (0..n)
        .map(|i| {
            let mut f = base[i % base.len()].clone();
            f["id"] = json!(format!("b{i:08}"));
            f.to_string()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let raws = raw_findings(20_000);
    let criteria = FindingCriteria::parse(&json!({"criterion": {
        "type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
        "severity": {"lessThan": 7},
        "resource.instanceDetails.tags.value": {"equals": ["sandbox"]}}}))
    .unwrap();
    let mut g = c.benchmark_group("suppress");
    g.throughput(Throughput::Elements(raws.len() as u64));
    g.sample_size(10);
    g.bench_function("dry_run_parse_and_evaluate", |b| {
        b.iter(|| {
            let mut run = DryRun::new(criteria.clone());
            for r in &raws {
                let v: Value = serde_json::from_str(r).unwrap();
                run.observe(&v, false);
            }
            run.finish()
        })
    });
    g.bench_function("suggestions_two_passes", |b| {
        b.iter(|| {
            let mut miner = Miner::new();
            for r in &raws {
                miner.observe(&serde_json::from_str(r).unwrap(), false);
            }
            let mut runs = CandidateRuns::new(miner.candidates(&SuggestOptions::default()));
            for r in &raws {
                runs.observe(&serde_json::from_str(r).unwrap(), false);
            }
            runs.rank(10)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
