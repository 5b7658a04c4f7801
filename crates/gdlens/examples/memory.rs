//! Where start-up time and resident memory go, part by part, for a build from a store (the
//! index, then the correlator loading every batch and settling once, as `gdlens serve` does):
//! `cargo run --release -p gdlens --example memory -- DATA_DIR`. Single-threaded, so the times
//! add up; RSS growth is measured around each part (mimalloc keeps freed pages, so drops are
//! not visible).
#[global_allocator]
static A: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident MB, from /proc/self/statm.
fn live() -> f64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).expect("DATA_DIR");
    let store = gdlens_store::Store::open(std::path::Path::new(&dir))?;
    let base = live();
    let t = std::time::Instant::now();
    let mut index = gdlens_index::FindingIndex::new();
    let mut corr = gdlens_groups::Correlator::new(Default::default());
    let mut batch = Vec::new();
    let mut t_index = 0.0;
    let mut t_corr = 0.0;
    let mut i_bytes = 0.0;
    let mut c_bytes = 0.0;
    store.scan_latest(|f| {
        batch.push(f);
        if batch.len() == 8192 {
            let a = live();
            let t0 = std::time::Instant::now();
            index.upsert_batch(batch.iter());
            let b = live();
            let t1 = std::time::Instant::now();
            corr.load(&batch);
            let c = live();
            t_index += (t1 - t0).as_secs_f64();
            t_corr += t1.elapsed().as_secs_f64();
            i_bytes += b - a;
            c_bytes += c - b;
            batch.clear();
        }
    })?;
    index.upsert_batch(batch.iter());
    corr.load(&batch);
    let before = live();
    let t_settle = std::time::Instant::now();
    corr.settle();
    let t_settle = t_settle.elapsed().as_secs_f64();
    let settle_bytes = live() - before;
    println!(
        "total {:.1} s; index {:.2} s {:.0} MB; correlator load {:.2} s {:.0} MB, settle {:.2} s {:.0} MB; live {:.0} MB",
        t.elapsed().as_secs_f64(),
        t_index,
        i_bytes,
        t_corr,
        c_bytes,
        t_settle,
        settle_bytes,
        live() - base
    );
    let all = corr.all_groups();
    let active: Vec<_> = all.iter().filter(|g| g.active).collect();
    let ids = |v: &mut dyn Iterator<Item = &std::sync::Arc<gdlens_groups::FindingGroup>>| {
        v.map(|g| g.finding_ids.len()).sum::<usize>()
    };
    println!(
        "groups: {} slots, {} active; member ids: active {}, retired {}",
        all.len(),
        active.len(),
        ids(&mut active.iter().copied()),
        ids(&mut all.iter().filter(|g| !g.active))
    );
    drop(active);
    drop(all);
    Ok(())
}
