//! A gdlens API server for the HTTP benchmark (bench/graphql/run.sh): SQLite store in a temp
//! dir, findings from an NDJSON file imported through the ingest path, no auth, loopback.
//!
//! `cargo run --release -p gdlens-api --example bench_server -- FINDINGS.ndjson 127.0.0.1:18080 [ACCOUNTS.toml]`

use std::sync::Arc;

use gdlens_api::adapters::StoreAdapter;
use gdlens_api::{AppState, Config, IngestRecord};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let findings = args
        .next()
        .ok_or("usage: bench_server FINDINGS.ndjson [LISTEN] [CONFIG.toml]")?;
    let listen: std::net::SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:18080".into())
        .parse()?;
    let config = match args.next() {
        Some(path) => Config::load(std::path::Path::new(&path))?,
        None => Config::default(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let dir = tempfile::tempdir()?;
        let store = gdlens_store::Store::open(dir.path())?;
        let state = Arc::new(AppState::new(
            config,
            Arc::new(StoreAdapter::new(store)),
            gdlens_groups::Correlator::new(Default::default()),
            None,
        ));
        state.build().await.map_err(|e| e.message)?;
        let text = std::fs::read_to_string(&findings)?;
        let mut batch = Vec::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("{findings}:{}: {e}", i + 1))?;
            let finding =
                gdlens_domain::normalize(&v).map_err(|e| format!("{findings}:{}: {e}", i + 1))?;
            batch.push(IngestRecord {
                finding,
                raw: line.to_string(),
                source: findings.clone(),
            });
            if batch.len() == 5_000 {
                state
                    .ingest(std::mem::take(&mut batch))
                    .await
                    .map_err(|e| e.message)?;
            }
        }
        state.ingest(batch).await.map_err(|e| e.message)?;
        state.mark_ready();
        eprintln!(
            "bench_server: {} findings, listening on {listen}",
            state.snapshot().index.len()
        );
        gdlens_api::serve(state, listen, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        drop(dir);
        Ok(())
    })
}
