//! Native scoring benchmark: score, filter, rank and the whole pipeline over 100,000 findings.
//! `cargo bench -p gdlens-scoring --bench scoring`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gdlens_scoring::{
    prioritize, rank, CodeColumns, CompiledFilter, Dictionaries, FeatureColumns, FeatureRow,
    FilterSpec, FindingColumns, PreparedFeatures, RankScratch, Scorer, TieOrder, Weights,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N: usize = 100_000;

fn findings(n: usize) -> FindingColumns {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut features = FeatureColumns::with_capacity(n);
    let mut codes = CodeColumns::default();
    for _ in 0..n {
        let grouped = rng.gen_bool(0.15);
        features.push(FeatureRow {
            severity: [2.0, 5.0, 8.0, 9.0][rng.gen_range(0..4)],
            criticality: rng.gen_range(0..5),
            type_count: rng.gen_range(1..5000),
            age_hours: f64::from(rng.gen_range(0..2160u32)),
            count: rng.gen_range(1..100),
            resource_findings: rng.gen_range(0..20),
            resource_distinct_types: rng.gen_range(0..5),
            group_tactics: if grouped { rng.gen_range(1..8) } else { 0 },
            group_severity: if grouped { 8.0 } else { 0.0 },
            archived: rng.gen_bool(0.1),
            triage: rng.gen_range(0..6),
            sample: rng.gen_bool(0.02),
        });
        codes.account.push(rng.gen_range(0..100));
        codes.region.push(rng.gen_range(0..17));
        let t = rng.gen_range(0..160);
        codes.finding_type.push(t);
        codes.title.push(t);
        codes.resource_type.push(rng.gen_range(0..8));
        codes.updated_at.push(1.7e12);
    }
    let dictionaries = Dictionaries {
        accounts: (0..100).map(|i| format!("{:012}", i)).collect(),
        regions: (0..17).map(|i| format!("region-{i}")).collect(),
        types: (0..160)
            .map(|i| format!("Purpose:Res/Family{i}.B"))
            .collect(),
        titles: (0..160).map(|i| format!("Finding title {i}")).collect(),
        resource_types: (0..8).map(|i| format!("Type{i}")).collect(),
    };
    let mut tie_key: Vec<u32> = (0..n as u32).collect();
    tie_key.reverse();
    FindingColumns {
        features,
        codes,
        dictionaries,
        tie_key,
    }
}

fn bench(c: &mut Criterion) {
    let cols = findings(N);
    let weights = Weights::default();
    let filter = FilterSpec {
        severity_min: Some(4.0),
        ..FilterSpec::default()
    };
    let scorer = Scorer::new(&weights).unwrap();
    let mut scores = vec![0.0; N];
    scorer.score_into(&cols.features, &mut scores);
    let compiled = CompiledFilter::new(&filter, &cols.dictionaries).unwrap();
    let mut mask = Vec::new();
    compiled.mask_into(&cols.features, &cols.codes, &mut mask);

    let mut g = c.benchmark_group("scoring_100k");
    g.bench_function("score_all", |b| {
        b.iter(|| scorer.score_into(black_box(&cols.features), &mut scores))
    });
    let mut prepared = PreparedFeatures::new(&cols.features).unwrap();
    g.bench_function("score_prepared", |b| {
        b.iter(|| prepared.score_into(black_box(&cols.features), &scorer, &mut scores))
    });
    g.bench_function("filter_mask", |b| {
        b.iter(|| compiled.mask_into(black_box(&cols.features), &cols.codes, &mut mask))
    });
    g.bench_function("rank_masked", |b| {
        b.iter(|| rank(black_box(&scores), &cols.tie_key, Some(&mask)).unwrap())
    });
    // What the WASM Ranker does per re-rank: tie order built once, buffers reused.
    let tie_order = TieOrder::new(&cols.tie_key).unwrap();
    let mut scratch = RankScratch::default();
    let mut order = Vec::new();
    g.bench_function("rank_masked_reused", |b| {
        b.iter(|| {
            tie_order
                .rank_into(black_box(&scores), Some(&mask), &mut scratch, &mut order)
                .unwrap()
        })
    });
    g.bench_function("rerank_reused", |b| {
        b.iter(|| {
            prepared.score_into(black_box(&cols.features), &scorer, &mut scores);
            compiled.mask_into(&cols.features, &cols.codes, &mut mask);
            tie_order
                .rank_into(&scores, Some(&mask), &mut scratch, &mut order)
                .unwrap()
        })
    });
    g.bench_function("tie_order", |b| {
        b.iter(|| TieOrder::new(black_box(&cols.tie_key)).unwrap())
    });
    g.bench_function("prioritize", |b| {
        b.iter(|| prioritize(black_box(&cols), &weights, &filter).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
