//! Deterministic demo data: realistic GuardDuty findings (GetFindings wire shape, one JSON
//! object per record) with planted attack stories, decoys that must not be merged, a truth
//! file naming the planted findings, and the organization's account config.
//!
//! Everything derives from [`DemoOptions`]: the same options give the same bytes.
//!
//! ```
//! let opts = gdlens_demo::DemoOptions { findings: 50, ..Default::default() };
//! let generator = gdlens_demo::Generator::new(&opts).unwrap();
//! let truth = generator.truth().clone();
//! let records: Vec<_> = generator.collect();
//! assert_eq!(records.len(), 50);
//! assert!(!truth.stories.is_empty());
//! ```

mod actions;
pub mod catalog;
mod coverage;
mod draft;
mod entities;
pub mod json;
mod noise;
mod stories;
mod world;

use std::collections::BTreeMap;
use std::io::Write;

use gdlens_domain::{normalize_json, Account, Finding, JsonRef, NormalizeError};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::catalog::TypeInfo;
use crate::draft::{finding_id, severity_for, Draft};
use crate::entities::rng_for;
use crate::json::Json;
use crate::noise::NoiseModel;

pub use crate::coverage::coverage;
pub use crate::world::{account_config_toml, accounts, regions, REGIONS};

/// What to generate. Same options, same output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    pub seed: u64,
    /// Number of AWS accounts in the organization (≥ 1).
    pub accounts: usize,
    /// Number of regions in use (1 ..= [`REGIONS`]`.len()`).
    pub regions: usize,
    /// Number of records written (every version counts).
    pub findings: usize,
    /// Timestamps fall within the last `days` days before `now_ms` (≥ 1).
    pub days: u32,
    /// "Now" in epoch milliseconds: the newest possible timestamp.
    pub now_ms: i64,
}

/// 2026-01-01T00:00:00Z: the default "now", so defaults are deterministic too.
pub const DEFAULT_NOW_MS: i64 = 1_767_225_600_000;

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 7,
            accounts: 60,
            regions: 4,
            findings: 20_000,
            days: 30,
            now_ms: DEFAULT_NOW_MS,
        }
    }
}

impl DemoOptions {
    /// Checks the options; the error names the bad option.
    pub fn validate(&self) -> Result<(), DemoError> {
        let bad = |option: &'static str, problem: String| {
            Err(DemoError::InvalidOption { option, problem })
        };
        if self.accounts == 0 {
            return bad("accounts", "must be at least 1".into());
        }
        if self.accounts > 10_000 {
            return bad(
                "accounts",
                format!("{} is more than the 10000 supported", self.accounts),
            );
        }
        if self.regions == 0 || self.regions > REGIONS.len() {
            return bad(
                "regions",
                format!("{} is not between 1 and {}", self.regions, REGIONS.len()),
            );
        }
        if self.days == 0 {
            return bad("days", "must be at least 1".into());
        }
        if self.now_ms < i64::from(self.days) * 86_400_000 {
            return bad("now", "must be later than `days` after 1970-01-01".into());
        }
        Ok(())
    }
}

/// Why demo data could not be generated or written.
#[derive(Debug, Error)]
pub enum DemoError {
    #[error("option `{option}`: {problem}")]
    InvalidOption {
        option: &'static str,
        problem: String,
    },
    #[error("writing demo data: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding demo data: {0}")]
    Encode(String),
}

impl DemoError {
    /// Stable machine code: `invalid_option`, `io`, `encode`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidOption { .. } => "invalid_option",
            Self::Io(_) => "io",
            Self::Encode(_) => "encode",
        }
    }
}

/// The planted stories and decoys: every finding not listed here is noise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    pub seed: u64,
    pub stories: Vec<Story>,
    pub decoys: Vec<Decoy>,
}

/// One planted attack story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Story {
    /// Unique: `<kind>-<n>`, n from 1.
    pub name: String,
    /// One of [`STORY_KINDS`].
    pub kind: String,
    /// Member finding ids, in story order (for attack sequences: the sequence finding first).
    pub finding_ids: Vec<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The entities the members share, by kind (`instanceId`, `accessKeyId`, `remoteIp`, …).
    pub entities: BTreeMap<String, Vec<String>>,
}

/// A decoy: many findings sharing one address that must not become one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decoy {
    /// `scanner-ip` or `shared-nat`.
    pub name: String,
    pub ip: String,
    pub finding_ids: Vec<String>,
    pub accounts: Vec<String>,
}

/// The story kinds the generator plants.
pub const STORY_KINDS: [&str; 12] = [
    stories::EC2_SSH,
    stories::IAM_TOR,
    stories::EKS_MINER,
    stories::EC2_CRYPTO,
    stories::ATTACK_SEQUENCE,
    stories::RDS_BRUTE_FORCE,
    stories::CROSS_ACCOUNT_KEY,
    stories::MULTI_ACCOUNT_IP,
    stories::SEQUENCE_S3,
    stories::SEQUENCE_EKS,
    stories::SEQUENCE_ECS,
    stories::SEQUENCE_EC2,
];

/// One generated finding record (GetFindings wire shape, camelCase).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFinding {
    id: String,
    updated_at: String,
    json: Json,
}

impl DemoFinding {
    /// The finding id (32 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `updatedAt` as written (ISO with milliseconds).
    pub fn updated_at(&self) -> &str {
        &self.updated_at
    }

    /// The ordered JSON tree.
    pub fn json(&self) -> &Json {
        &self.json
    }

    /// As a `serde_json::Value` (e.g. for `gdlens_domain::normalize`).
    pub fn to_value(&self) -> serde_json::Value {
        self.json.to_value()
    }

    /// Compact JSON text, exactly as [`write_ndjson`] writes the line.
    pub fn to_json(&self) -> String {
        self.json.to_json_string()
    }

    /// The finding as an import would store it: its JSON text ([`DemoFinding::to_json`]) and the
    /// finding normalized from those bytes.
    pub fn to_record(&self) -> Result<(Finding, String), NormalizeError> {
        let raw = self.to_json();
        // The generator's own serializer: its output is JSON by construction.
        let json = JsonRef::parse(&raw).expect("generated JSON parses");
        Ok((normalize_json(&json)?, raw))
    }
}

impl Serialize for DemoFinding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}

/// The organization: accounts, regions, detectors, time window.
pub(crate) struct Org {
    pub seed: u64,
    pub now_ms: i64,
    pub window_ms: i64,
    pub accounts: Vec<Account>,
    pub regions: Vec<&'static str>,
    detectors: Vec<String>,
}

impl Org {
    fn new(opts: &DemoOptions) -> Org {
        let accounts = world::accounts(opts);
        let regions = world::regions(opts);
        let detectors = (0..accounts.len())
            .flat_map(|a| (0..regions.len()).map(move |r| (a, r)))
            .map(|(a, r)| world::detector_id(opts.seed, a, r))
            .collect();
        Org {
            seed: opts.seed,
            now_ms: opts.now_ms,
            window_ms: i64::from(opts.days) * 86_400_000,
            accounts,
            regions,
            detectors,
        }
    }

    /// A blank draft of `info` in (account, region) with a fresh id and a default severity.
    pub fn draft(
        &self,
        rng: &mut ChaCha8Rng,
        info: &'static TypeInfo,
        account: usize,
        region: usize,
    ) -> Draft {
        Draft {
            id: finding_id(rng),
            account: self.accounts[account].id.clone(),
            region: self.regions[region],
            detector_id: self.detectors[account * self.regions.len() + region].clone(),
            finding_type: info.name,
            severity: severity_for(rng, info.severity),
            title: String::new(),
            description: String::new(),
            created_ms: 0,
            updated_ms: 0,
            first_seen_ms: 0,
            last_seen_ms: 0,
            count: 1,
            archived: false,
            sample: false,
            resource_role: "TARGET",
            feature_name: "",
            resource_type: "",
            resource: Vec::new(),
            action: Json::obj([]),
            runtime_details: None,
            ebs_scan: None,
            additional_info: Vec::new(),
            detection: None,
            associated_sequence_arn: None,
        }
    }

    /// Sets the four timestamps from `first_seen` (random in the window when `None`) and the count.
    pub fn place_in_time(&self, rng: &mut ChaCha8Rng, d: &mut Draft, first_seen: Option<i64>) {
        let first = first_seen.unwrap_or_else(|| {
            let age = (self.window_ms as f64 * rng.gen::<f64>().powf(1.3)) as i64;
            self.now_ms - age.max(30 * 60_000)
        });
        let first = first.clamp(self.now_ms - self.window_ms, self.now_ms - 5 * 60_000);
        let span = if d.count > 1 {
            rng.gen_range(
                10 * 60_000..(72 * 3_600_000).min((self.now_ms - first).max(10 * 60_000 + 1)),
            )
        } else {
            0
        };
        let last = (first + span).min(self.now_ms - 60_000).max(first);
        let created = (first + rng.gen_range(60_000..600_000)).min(self.now_ms);
        let updated = (created.max(last) + rng.gen_range(30_000..600_000)).min(self.now_ms);
        d.first_seen_ms = first;
        d.last_seen_ms = last;
        d.created_ms = created;
        d.updated_ms = updated;
    }

    /// A later version of `d`: more occurrences, later `eventLastSeen` and `updatedAt`.
    /// `None` when there is no room left before "now".
    pub fn next_version(&self, rng: &mut ChaCha8Rng, d: &Draft) -> Option<Draft> {
        let last =
            (d.last_seen_ms + rng.gen_range(20 * 60_000..48 * 3_600_000)).min(self.now_ms - 60_000);
        let updated = (last + rng.gen_range(30_000..600_000)).min(self.now_ms);
        if updated <= d.updated_ms || last < d.last_seen_ms {
            return None;
        }
        let mut v = d.clone();
        v.count = d.count + rng.gen_range(1..=d.count.clamp(1, 500));
        v.last_seen_ms = last;
        v.updated_ms = updated;
        if !v.archived && rng.gen_bool(0.1) {
            v.archived = true;
        }
        Some(v)
    }
}

/// Streams the demo findings, one record per `next()`; the planted stories are known up front.
pub struct Generator {
    org: Org,
    noise: NoiseModel,
    rng: ChaCha8Rng,
    total: usize,
    emitted: usize,
    /// Planted records by stream position, last position first (popped from the end).
    planted: Vec<(usize, Draft)>,
    /// Later versions waiting for their position: (position, sequence) → draft.
    pending: BTreeMap<(usize, u64), Draft>,
    sequence: u64,
    truth: Truth,
    investigations: Vec<serde_json::Value>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("total", &self.total)
            .field("emitted", &self.emitted)
            .finish()
    }
}

/// Share of background findings that later get an updated version.
const VERSION_RATE: f64 = 0.08;

impl Generator {
    /// Plans the organization, stories and decoys for `opts`.
    pub fn new(opts: &DemoOptions) -> Result<Generator, DemoError> {
        opts.validate()?;
        let org = Org::new(opts);
        let noise = NoiseModel::new(&org);
        let mut plan_rng = rng_for(opts.seed, &[0x5709]);
        let (drafts, truth) = stories::plan(&org, &mut plan_rng, opts.findings);
        let investigations = stories::investigations(&drafts, &truth);
        let mut positions = rand::seq::index::sample(
            &mut plan_rng,
            opts.findings.max(1),
            drafts.len().min(opts.findings),
        )
        .into_vec();
        positions.sort_unstable();
        let mut planted: Vec<(usize, Draft)> = positions.into_iter().zip(drafts).collect();
        planted.reverse();
        Ok(Generator {
            org,
            noise,
            rng: rng_for(opts.seed, &[0x5EED]),
            total: opts.findings,
            emitted: 0,
            planted,
            pending: BTreeMap::new(),
            sequence: 0,
            truth,
            investigations,
        })
    }

    /// Amazon Detective investigations of the planted credential stories (GetInvestigation
    /// shape with `Indicators` and `GraphArn`; see `gdlens dev aws-fixture --investigations`).
    pub fn investigations(&self) -> &[serde_json::Value] {
        &self.investigations
    }

    /// The planted stories and decoys of this run.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// The organization's accounts.
    pub fn accounts(&self) -> &[Account] {
        &self.org.accounts
    }

    fn schedule_version(&mut self, position: usize, d: &Draft) {
        if let Some(v) = self.org.next_version(&mut self.rng, d) {
            let at = position + self.rng.gen_range(1..3_000);
            if at < self.total {
                self.sequence += 1;
                self.pending.insert((at, self.sequence), v);
            }
        }
    }
}

impl Iterator for Generator {
    type Item = DemoFinding;

    fn next(&mut self) -> Option<DemoFinding> {
        if self.emitted >= self.total {
            return None;
        }
        let position = self.emitted;
        self.emitted += 1;
        let draft = if self.planted.last().is_some_and(|(p, _)| *p == position) {
            self.planted.pop().map(|(_, d)| d)
        } else {
            None
        };
        let draft = match draft {
            Some(d) => d,
            None => match self.pending.first_key_value().map(|(k, _)| *k) {
                Some(key) if key.0 <= position => {
                    let d = self.pending.remove(&key).expect("key just seen");
                    if self.rng.gen_bool(0.3) {
                        self.schedule_version(position, &d);
                    }
                    d
                }
                _ => {
                    let d = self.noise.finding(&self.org, &mut self.rng);
                    if self.rng.gen_bool(VERSION_RATE) {
                        self.schedule_version(position, &d);
                    }
                    d
                }
            },
        };
        Some(DemoFinding {
            updated_at: gdlens_domain::time::format_iso(draft.updated_ms),
            json: draft.render(),
            id: draft.id,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.emitted;
        (left, Some(left))
    }
}

/// Writes `opts.findings` records as NDJSON (one finding per line) and returns the truth.
pub fn write_ndjson<W: Write>(opts: &DemoOptions, out: W) -> Result<Truth, DemoError> {
    let generator = Generator::new(opts)?;
    let truth = generator.truth().clone();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    for record in generator {
        serde_json::to_writer(&mut out, record.json())
            .map_err(|e| DemoError::Encode(e.to_string()))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(truth)
}

/// The truth of `opts` without generating the records.
pub fn truth(opts: &DemoOptions) -> Result<Truth, DemoError> {
    Ok(Generator::new(opts)?.truth().clone())
}
