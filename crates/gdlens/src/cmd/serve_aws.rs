//! `gdlens serve` with an `[aws]` table: periodic sync into the shared store (each commit brought
//! into the in-memory index at once) and write-back of analyst decisions to GuardDuty.
//!
//! The API knows neither the AWS crate nor its types: this module adapts
//! `gdlens_aws::AwsSource` to the API's `WriteBack` port and feeds commits to
//! `AppState::on_committed`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use anyhow::Context as _;
use gdlens_api::writeback::WriteBackFuture;
use gdlens_api::{AppState, Feedback, WriteBack, WriteBackError, WriteBackTarget};
use gdlens_aws::{AwsConfig, AwsSource, CommitHook, FindingRef, SyncSink};
use gdlens_store::{Lease, Store};

/// The AWS side of a running server.
pub struct AwsLink {
    source: AwsSource,
    store: Arc<Store>,
    /// Set once the state exists (the state holds the write-back, so it is built after it).
    state: Arc<OnceLock<Weak<AppState>>>,
    /// Regions this process leads (syncs), with their lease on a shared store; on the embedded
    /// store every region is led without one.
    leases: Arc<Mutex<HashMap<String, Option<Lease>>>>,
}

impl AwsLink {
    /// Reads the `[aws]` table of the config file and builds the SDK clients (default
    /// credential chain; nothing is called until the first sync).
    pub async fn connect(config_path: &Path, store: Arc<Store>) -> anyhow::Result<AwsLink> {
        let config: AwsConfig = AwsConfig::load(config_path)
            .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?
            .context("no [aws] table")?;
        if config.regions.is_empty() {
            anyhow::bail!("[aws] regions is empty: name the regions to sync");
        }
        tracing::info!(
            regions = config.regions.len(),
            interval_s = config.sync_interval_seconds,
            detective = config.detective,
            "AWS sync configured"
        );
        Ok(AwsLink {
            source: AwsSource::from_default_chain(config).await,
            store,
            state: Arc::new(OnceLock::new()),
            leases: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The write-back port for the API.
    pub fn write_back(&self) -> Arc<dyn WriteBack> {
        Arc::new(AwsWriteBack {
            source: self.source.clone(),
            store: self.store.clone(),
            state: self.state.clone(),
        })
    }

    /// Connects the write-back's refreshes to the server's in-memory index.
    pub fn attach(&self, state: &Arc<AppState>) {
        let _ = self.state.set(Arc::downgrade(state));
    }

    /// Syncs now and then every `sync_interval_seconds`, until the process ends. One sync at a
    /// time; a failed region is logged and recorded as sync status, the next round retries it.
    pub fn spawn_periodic_sync(self, state: Arc<AppState>) {
        let interval = Duration::from_secs(self.source.config().sync_interval_seconds.max(1));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                self.sync_once(&state).await;
            }
        });
    }

    /// The regions this replica leads now: those whose lease (`sync:<region>`) it holds or can
    /// take. One replica per region syncs; when it dies its lease goes with its connection and
    /// the next round of another replica takes the region over, resuming from the watermark.
    async fn led_regions(&self) -> Vec<String> {
        let regions = self.source.config().regions.clone();
        let store = self.store.clone();
        let leases = self.leases.clone();
        let led = tokio::task::spawn_blocking(move || {
            let mut held = leases.lock().unwrap_or_else(|p| p.into_inner());
            let mut led = Vec::new();
            for region in regions {
                if let Some(slot) = held.get_mut(&region) {
                    if slot.as_mut().is_none_or(Lease::is_held) {
                        led.push(region);
                        continue;
                    }
                    tracing::warn!(region = %region, "sync lease lost; another replica may take the region");
                    held.remove(&region);
                }
                match store.try_lease(&format!("sync:{region}")) {
                    Ok(Some(lease)) => {
                        if lease.is_some() {
                            tracing::info!(region = %region, "this replica now leads the sync of the region");
                        }
                        held.insert(region.clone(), lease);
                        led.push(region);
                    }
                    Ok(None) => tracing::debug!(region = %region, "another replica leads the region's sync"),
                    Err(e) => tracing::warn!(region = %region, error = %e, code = e.code(), "cannot take the sync lease"),
                }
            }
            led
        })
        .await;
        led.unwrap_or_default()
    }

    async fn sync_once(&self, state: &Arc<AppState>) {
        let regions = self.led_regions().await;
        if regions.is_empty() {
            tracing::debug!("no region led by this replica this round");
            return;
        }
        let sink: Arc<dyn SyncSink> = self.store.clone();
        let hook_state = Arc::downgrade(state);
        let hook: CommitHook = Arc::new(move |changed| {
            if let Some(state) = hook_state.upgrade() {
                state.on_committed(changed.to_vec());
            }
        });
        let report = self
            .source
            .sync(sink.clone(), Some(&regions), Some(hook))
            .await;
        for r in report.failed() {
            if let Some(e) = &r.error {
                tracing::warn!(region = %r.region, code = e.code.as_str(), error = %e.message, "region not synced");
            }
        }
        tracing::info!(
            fetched = report.fetched(),
            regions_ok = report.succeeded().count(),
            regions_failed = report.failed().count(),
            "AWS sync round done"
        );
        if self.source.config().detective {
            let reachable: Vec<String> = report.succeeded().map(|r| r.region.clone()).collect();
            for d in self
                .source
                .sync_investigations(sink, Some(&reachable))
                .await
            {
                if let Some(e) = &d.error {
                    tracing::warn!(region = %d.region, code = e.code.as_str(), error = %e.message, "Detective investigations not synced");
                }
            }
            // Investigations are read from the store per request; cached answers must go.
            state.bump();
        }
    }
}

/// `AwsSource` as the API's write-back port. GuardDuty is changed first; the findings are then
/// fetched again and committed as new versions, and those reach the index through
/// `on_committed`, so local state follows AWS and never runs ahead of it.
struct AwsWriteBack {
    source: AwsSource,
    store: Arc<Store>,
    state: Arc<OnceLock<Weak<AppState>>>,
}

fn refs(targets: &[WriteBackTarget]) -> Vec<FindingRef> {
    targets
        .iter()
        .map(|t| FindingRef {
            id: t.finding_id.clone(),
            region: t.region.clone(),
            detector_id: Some(t.detector_id.clone()),
        })
        .collect()
}

impl AwsWriteBack {
    fn finish(&self, mut report: gdlens_aws::WriteBackReport) -> Result<(), WriteBackError> {
        let changed = std::mem::take(&mut report.changed);
        if !changed.is_empty() {
            if let Some(state) = self.state.get().and_then(Weak::upgrade) {
                state.on_committed(changed);
            }
        }
        match report.first_error() {
            None => Ok(()),
            Some(e) => Err(WriteBackError(format!(
                "{} batch(es) refused ({} finding(s) done), first: {} ({})",
                report.failed.len(),
                report.done.len(),
                e.message,
                e.code.as_str()
            ))),
        }
    }

    fn sink(&self) -> Option<Arc<dyn SyncSink>> {
        Some(self.store.clone())
    }
}

impl WriteBack for AwsWriteBack {
    fn archive<'a>(&'a self, targets: &'a [WriteBackTarget]) -> WriteBackFuture<'a> {
        Box::pin(async move {
            let report = self
                .source
                .archive_findings(self.sink(), &refs(targets))
                .await;
            self.finish(report)
        })
    }

    fn unarchive<'a>(&'a self, targets: &'a [WriteBackTarget]) -> WriteBackFuture<'a> {
        Box::pin(async move {
            let report = self
                .source
                .unarchive_findings(self.sink(), &refs(targets))
                .await;
            self.finish(report)
        })
    }

    fn feedback<'a>(
        &'a self,
        targets: &'a [WriteBackTarget],
        feedback: Feedback,
        comment: Option<&'a str>,
    ) -> WriteBackFuture<'a> {
        let feedback = match feedback {
            Feedback::Useful => gdlens_aws::Feedback::Useful,
            Feedback::NotUseful => gdlens_aws::Feedback::NotUseful,
        };
        Box::pin(async move {
            let report = self
                .source
                .send_feedback(self.sink(), &refs(targets), feedback, comment)
                .await;
            self.finish(report)
        })
    }
}
