//! The correlation engine: findings → entity keys → links within a time window → components →
//! finding groups with stable ids and lineage. Incremental: a batch recomputes only the
//! components its findings (and the entities whose linking status changed) touch.
//!
//! The active groups are a pure function of the set of latest findings (never of batch order):
//! links come from per-entity runs in time, caps from the entity's total degree, splits from
//! the members' times, ids from the earliest member. Only lineage (parents/children) records
//! the order in which things happened.

use std::sync::Arc;

use gdlens_domain::time::EpochMillis;
use gdlens_domain::Finding;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::attack::{tactic_set_for, TacticSet};
use crate::entity::{for_each_entity, strength_of, EntityKind, Strength};
use crate::group::{build_group, group_id, FindingGroup, GroupSource, MemberView};

const NONE: u32 = u32::MAX;
const HOUR_MS: i64 = 3_600_000;

/// The knobs of the correlation. Defaults follow `correlation.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct CorrelationConfig {
    /// Strong keys link findings whose activity is at most this far apart (neighbours in time).
    pub link_window_ms: i64,
    /// Medium keys (external IP, unusual user agent) link within this tighter window.
    pub medium_window_ms: i64,
    /// A group spans at most this long from its first member; longer components are split.
    pub max_span_ms: i64,
    /// A group holds at most this many findings; larger components are split.
    pub max_group_size: usize,
    /// A strong entity with more findings than this stops linking (annotation only).
    pub strong_max_findings: usize,
    /// … or seen in more accounts than this (a CI role or shared key used org-wide).
    pub strong_max_accounts: usize,
    /// … or naming more distinct resources than this.
    pub strong_max_resources: usize,
    /// A medium entity with more findings than this stops linking (scanner, NAT address).
    pub medium_max_findings: usize,
    /// … or naming more distinct resources than this.
    pub medium_max_resources: usize,
    /// … or seen in more accounts than this.
    pub medium_max_accounts: usize,
    /// A correlated group needs members with at least this many distinct tactics: repeats of
    /// one behaviour on one resource are not a story. 0 or 1 turns the rule off.
    pub min_tactics: u32,
    /// A component with fewer tactics still forms a group when it escalates: two findings of
    /// different types on the same resource (a shared strong key) from the same actor (a shared
    /// address or user agent), the later one more severe or an outcome (`…Success…`) following
    /// an attempt (failed logins, brute force, probes). Repeats of one type never escalate.
    pub escalation: bool,
    /// Addresses never used as keys besides the built-in public resolvers (own NAT egress…).
    pub benign_ips: Vec<String>,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            link_window_ms: 36 * HOUR_MS,
            medium_window_ms: 6 * HOUR_MS,
            max_span_ms: 14 * 24 * HOUR_MS,
            max_group_size: 150,
            strong_max_findings: 30,
            strong_max_accounts: 4,
            strong_max_resources: 12,
            medium_max_findings: 12,
            medium_max_resources: 6,
            medium_max_accounts: 3,
            min_tactics: 2,
            escalation: true,
            benign_ips: Vec::new(),
        }
    }
}

/// What a batch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDelta {
    /// Groups that became active (new, re-keyed, merged children, split-offs), sorted.
    pub created: Vec<String>,
    /// Active groups whose content was rebuilt, sorted.
    pub updated: Vec<String>,
    /// Groups that stopped being active (merged into a child, dissolved), sorted.
    pub retired: Vec<String>,
    /// Findings accepted (new or newer version).
    pub findings_added: usize,
    /// Findings in the recomputed region (a measure of the incremental work).
    pub findings_recomputed: usize,
}

/// One finding as the correlator keeps it: only what groups need.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Member {
    id: Arc<str>,
    finding_type: u32,
    account: u32,
    region: u32,
    resource: u32,
    severity: f64,
    first: EpochMillis,
    last: EpochMillis,
    updated_at: EpochMillis,
    count: u32,
    tactics: TacticSet,
    /// Attempt, outcome or neither (see [`Stage`]).
    stage: Stage,
    /// Entity keys, sorted, distinct.
    keys: Box<[u32]>,
    /// Takes part in linking (not a sample, not a sequence, not claimed by one).
    linking: bool,
    sample: bool,
    /// Set for attack-sequence findings.
    sequence: Option<Box<SequenceInfo>>,
    assoc_arn: Option<Box<str>>,
    /// The sequence finding that claims this one, or NONE.
    claimed_by: u32,
    /// Representative of the pre-split component, or NONE when alone.
    comp: u32,
    /// Active group slot, or NONE.
    group: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SequenceInfo {
    arn: Box<str>,
    /// Member finding ids named by FINDING signals (ARNs reduced to ids).
    signal_ids: Box<[Box<str>]>,
}

/// An interned entity key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Key {
    kind: EntityKind,
    strength: Strength,
    /// `<kind code>:<value>`, shared with the key map.
    full: Arc<str>,
    postings: Vec<u32>,
    /// Over its degree caps: kept as an annotation only.
    capped: bool,
    /// Not capped and not weak.
    linking: bool,
}

/// String interner (finding types, accounts, regions, resources).
#[derive(Debug, Default, Clone)]
struct Names {
    map: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Names {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let a: Arc<str> = Arc::from(s);
        let i = self.names.len() as u32;
        self.names.push(a.clone());
        self.map.insert(a, i);
        i
    }
    fn get(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

/// The correlation engine. See the module documentation.
#[derive(Debug, Clone)]
pub struct Correlator {
    config: CorrelationConfig,
    members: Vec<Member>,
    by_id: FxHashMap<Arc<str>, u32>,
    names: Names,
    keys: Vec<Key>,
    /// `kind code` + value → key.
    key_map: FxHashMap<Arc<str>, u32>,
    /// Sequence ARN → sequence finding.
    seq_by_arn: FxHashMap<Box<str>, u32>,
    /// Finding id → sequences whose signals name it.
    seq_claims: FxHashMap<Box<str>, Vec<u32>>,
    /// Sequence ARN → findings naming it in `associatedAttackSequenceArn`.
    assoc_by_arn: FxHashMap<Box<str>, Vec<u32>>,
    /// Component representative → members (components of ≥ 2 only).
    comps: FxHashMap<u32, Vec<u32>>,
    /// Group slots (active and retired).
    slots: Vec<Arc<FindingGroup>>,
    /// Member finding indexes of each active slot (empty when retired).
    slot_members: Vec<Vec<u32>>,
    slot_by_id: FxHashMap<String, u32>,
    active: usize,
    // Scratch, reused between batches.
    stamp: Vec<u32>,
    local: Vec<u32>,
    key_stamp: Vec<u32>,
    key_dirty: Vec<bool>,
    epoch: u32,
    /// Findings loaded but not yet settled into groups.
    pending: Pending,
}

/// What [`Correlator::load`] took in and [`Correlator::settle`] has yet to regroup.
#[derive(Debug, Clone, Default)]
struct Pending {
    seeds: Vec<u32>,
    dirty_keys: Vec<u32>,
    dirty_seqs: Vec<u32>,
    old_comps: Vec<u32>,
    claim_check: Vec<u32>,
    added: usize,
}

impl Correlator {
    /// An empty correlator.
    pub fn new(config: CorrelationConfig) -> Self {
        Correlator {
            config,
            members: Vec::new(),
            by_id: FxHashMap::default(),
            names: Names::default(),
            keys: Vec::new(),
            key_map: FxHashMap::default(),
            seq_by_arn: FxHashMap::default(),
            seq_claims: FxHashMap::default(),
            assoc_by_arn: FxHashMap::default(),
            comps: FxHashMap::default(),
            slots: Vec::new(),
            slot_members: Vec::new(),
            slot_by_id: FxHashMap::default(),
            active: 0,
            stamp: Vec::new(),
            local: Vec::new(),
            key_stamp: Vec::new(),
            key_dirty: Vec::new(),
            epoch: 0,
            pending: Pending::default(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &CorrelationConfig {
        &self.config
    }

    /// Number of findings held.
    pub fn finding_count(&self) -> usize {
        self.members.len()
    }

    /// Number of active groups.
    pub fn group_count(&self) -> usize {
        self.active
    }

    /// Active groups, sorted by id.
    pub fn groups(&self) -> Vec<Arc<FindingGroup>> {
        let mut out: Vec<Arc<FindingGroup>> =
            self.slots.iter().filter(|g| g.active).cloned().collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Every group ever formed, active or retired, sorted by id.
    pub fn all_groups(&self) -> Vec<Arc<FindingGroup>> {
        let mut out = self.slots.clone();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// A group by id, active or retired (follow `children` from a retired one).
    pub fn group(&self, id: &str) -> Option<Arc<FindingGroup>> {
        self.slot_by_id
            .get(id)
            .map(|&s| self.slots[s as usize].clone())
    }

    /// The active group holding a finding.
    pub fn group_of(&self, finding_id: &str) -> Option<Arc<FindingGroup>> {
        let &i = self.by_id.get(finding_id)?;
        let slot = self.members[i as usize].group;
        (slot != NONE).then(|| self.slots[slot as usize].clone())
    }

    /// `(tactic count, group severity)` of the finding's group for scoring; `(0, 0.0)` when the
    /// finding is in no group.
    pub fn group_features(&self, finding_id: &str) -> (u8, f64) {
        self.group_of(finding_id)
            .map_or((0, 0.0), |g| (g.tactics.len() as u8, g.severity))
    }

    /// Ids of active groups that involve any of these entities or hold any of these findings
    /// (for Detective investigations: the investigated entity's ARN and the finding ids, IPs and
    /// user agents of its indicators). Sorted, distinct.
    pub fn related_groups(&self, entity_arns: &[String], finding_ids: &[String]) -> Vec<String> {
        self.related_groups_with(entity_arns, finding_ids, &[], &[])
    }

    /// [`Correlator::related_groups`] with the indicators' IPs and user agents too.
    pub fn related_groups_with(
        &self,
        entity_arns: &[String],
        finding_ids: &[String],
        ips: &[String],
        user_agents: &[String],
    ) -> Vec<String> {
        let mut slots: FxHashSet<u32> = FxHashSet::default();
        for id in finding_ids {
            if let Some(&i) = self.by_id.get(id.as_str()) {
                let g = self.members[i as usize].group;
                if g != NONE {
                    slots.insert(g);
                }
            }
        }
        let mut wanted: Vec<(EntityKind, String)> = Vec::new();
        for arn in entity_arns {
            wanted.extend(crate::detective::entities_of_arn(arn));
        }
        wanted.extend(ips.iter().map(|ip| (EntityKind::RemoteIp, ip.clone())));
        wanted.extend(
            user_agents
                .iter()
                .map(|ua| (EntityKind::UserAgent, ua.clone())),
        );
        let mut buf = String::new();
        for (kind, value) in wanted {
            key_string(&mut buf, kind, &value);
            if let Some(&k) = self.key_map.get(buf.as_str()) {
                for &m in &self.keys[k as usize].postings {
                    let g = self.members[m as usize].group;
                    if g != NONE {
                        slots.insert(g);
                    }
                }
            }
        }
        let mut ids: Vec<String> = slots
            .into_iter()
            .map(|s| self.slots[s as usize].id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Adds new findings and newer versions of known ones (an older `updatedAt` than the one
    /// held is ignored), and updates the groups they touch.
    pub fn add(&mut self, findings: &[Finding]) -> GroupDelta {
        self.load(findings);
        self.settle()
    }

    /// Takes findings in like [`Correlator::add`] but leaves the groups as they are until
    /// [`Correlator::settle`]: the start-up build loads every batch, then settles once, instead
    /// of regrouping the growing components after each batch (and keeping the groups those
    /// intermediate states retire). The groups that result are the same: they depend only on
    /// the set of latest findings.
    pub fn load(&mut self, findings: &[Finding]) {
        let Pending {
            seeds,
            dirty_keys,
            dirty_seqs,
            old_comps,
            claim_check,
            added,
        } = &mut self.pending;
        let mut seeds = std::mem::take(seeds);
        let mut dirty_keys = std::mem::take(dirty_keys);
        let mut dirty_seqs = std::mem::take(dirty_seqs);
        let mut old_comps = std::mem::take(old_comps);
        let mut claim_check = std::mem::take(claim_check);
        let mut added = std::mem::take(added);
        let mut buf = String::new();
        let mut scratch: Vec<(EntityKind, u32)> = Vec::new();
        seeds.reserve(findings.len());
        // Large batches (the initial build): grow the tables once, not by rehashing.
        self.members.reserve(findings.len());
        self.by_id.reserve(findings.len());
        self.keys.reserve(findings.len() * 2);
        self.key_map.reserve(findings.len() * 2);
        for f in findings {
            let existing = self.by_id.get(f.id.as_str()).copied();
            if let Some(i) = existing {
                if f.updated_at < self.members[i as usize].updated_at {
                    continue;
                }
            }
            added += 1;
            let member = self.make_member(f, &mut buf, &mut scratch);
            let idx = match existing {
                Some(i) => {
                    let old = &self.members[i as usize];
                    let (comp, group, claimed) = (old.comp, old.group, old.claimed_by);
                    if old.comp != NONE {
                        old_comps.push(old.comp);
                    }
                    let old_keys = old.keys.clone();
                    for &k in old_keys.iter() {
                        self.keys[k as usize].postings.retain(|&m| m != i);
                        dirty_keys.push(k);
                    }
                    if let Some(arn) = &old.assoc_arn {
                        if let Some(list) = self.assoc_by_arn.get_mut(arn) {
                            list.retain(|&m| m != i);
                        }
                    }
                    if let Some(seq) = old.sequence.clone() {
                        claim_check.extend(self.sequence_candidates(i));
                        self.unregister_sequence(i, &seq);
                        dirty_seqs.push(i);
                    }
                    self.members[i as usize] = Member {
                        comp,
                        group,
                        claimed_by: claimed,
                        ..member
                    };
                    i
                }
                None => {
                    let i = self.members.len() as u32;
                    self.by_id.insert(member.id.clone(), i);
                    self.members.push(member);
                    i
                }
            };
            let keys = self.members[idx as usize].keys.clone();
            for &k in keys.iter() {
                self.keys[k as usize].postings.push(idx);
                dirty_keys.push(k);
            }
            if let Some(arn) = self.members[idx as usize].assoc_arn.clone() {
                self.assoc_by_arn.entry(arn).or_default().push(idx);
            }
            if let Some(seq) = self.members[idx as usize].sequence.clone() {
                self.register_sequence(idx, &seq);
                dirty_seqs.push(idx);
            }
            seeds.push(idx);
        }
        self.pending = Pending {
            seeds,
            dirty_keys,
            dirty_seqs,
            old_comps,
            claim_check,
            added,
        };
    }

    /// Updates the groups for every finding taken in since the last settle (see
    /// [`Correlator::load`]) and says what changed.
    pub fn settle(&mut self) -> GroupDelta {
        let Pending {
            mut seeds,
            mut dirty_keys,
            mut dirty_seqs,
            mut old_comps,
            mut claim_check,
            added,
        } = std::mem::take(&mut self.pending);
        if seeds.is_empty() {
            return GroupDelta::default();
        }
        let n = self.members.len();
        self.stamp.resize(n, 0);
        self.local.resize(n, NONE);
        self.key_stamp.resize(self.keys.len(), 0);

        // Sequence claims: who belongs to which attack sequence.
        claim_check.extend(seeds.iter().copied());
        for &s in &dirty_seqs {
            claim_check.extend(self.sequence_candidates(s));
        }
        claim_check.sort_unstable();
        claim_check.dedup();
        let no_sequences = self.seq_by_arn.is_empty() && self.seq_claims.is_empty();
        for &i in &claim_check {
            let m = &self.members[i as usize];
            let claimed = if m.sequence.is_some() || no_sequences {
                NONE
            } else {
                self.claimant(i)
            };
            let linking = claimed == NONE && m.sequence.is_none() && !m.sample;
            let m = &mut self.members[i as usize];
            let was = (m.claimed_by, m.linking);
            m.claimed_by = claimed;
            m.linking = linking;
            if was.0 != claimed {
                for s in [was.0, claimed] {
                    if s != NONE {
                        dirty_seqs.push(s);
                    }
                }
            }
            if was.1 != linking {
                seeds.push(i);
                if m.comp != NONE {
                    old_comps.push(m.comp);
                }
                dirty_keys.extend(m.keys.iter().copied());
            }
        }
        // Sequence groups hold their members: their old groups are in the region too.
        dirty_seqs.sort_unstable();
        dirty_seqs.dedup();

        // Entities whose linking status or postings changed pull in every finding they name.
        self.key_dirty.resize(self.keys.len(), false);
        dirty_keys.retain(|&k| !std::mem::replace(&mut self.key_dirty[k as usize], true));
        for &k in &dirty_keys {
            self.key_dirty[k as usize] = false;
        }
        let mut region_seeds: Vec<u32> = seeds.clone();
        for &k in &dirty_keys {
            let was = self.keys[k as usize].linking;
            let capped = self.key_capped(k);
            let key = &mut self.keys[k as usize];
            key.capped = capped;
            key.linking = !capped && key.strength != Strength::Weak;
            let now = key.linking;
            if now || was {
                region_seeds.extend(self.keys[k as usize].postings.iter().copied());
            }
        }
        for &s in &dirty_seqs {
            region_seeds.push(s);
            region_seeds.extend(self.sequence_candidates(s));
        }

        // The region: whole old components of every seed.
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.key_stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        let mut region: Vec<u32> = Vec::new();
        let visit = |i: u32, region: &mut Vec<u32>, stamp: &mut Vec<u32>| {
            if stamp[i as usize] != epoch {
                stamp[i as usize] = epoch;
                region.push(i);
            }
        };
        for &c in &old_comps {
            if let Some(list) = self.comps.get(&c) {
                for &m in list {
                    visit(m, &mut region, &mut self.stamp);
                }
            }
        }
        for &s in &region_seeds {
            let c = self.members[s as usize].comp;
            if c != NONE {
                if let Some(list) = self.comps.get(&c) {
                    for &m in list {
                        visit(m, &mut region, &mut self.stamp);
                    }
                }
            }
            visit(s, &mut region, &mut self.stamp);
        }
        // Members of groups that must be rebuilt (sequence groups' old members).
        let mut touched_slots: Vec<u32> = Vec::new();
        for &i in &region {
            let g = self.members[i as usize].group;
            if g != NONE {
                touched_slots.push(g);
            }
        }
        touched_slots.sort_unstable();
        touched_slots.dedup();
        for &g in &touched_slots {
            let list = self.slot_members[g as usize].clone();
            for m in list {
                let c = self.members[m as usize].comp;
                if c != NONE {
                    if let Some(l) = self.comps.get(&c) {
                        for &x in l {
                            visit(x, &mut region, &mut self.stamp);
                        }
                    }
                }
                visit(m, &mut region, &mut self.stamp);
            }
        }
        // Slots touched by the enlarged region.
        for &i in &region {
            let g = self.members[i as usize].group;
            if g != NONE {
                touched_slots.push(g);
            }
        }
        touched_slots.sort_unstable();
        touched_slots.dedup();

        let recomputed = region.len();
        let comps = self.components(&region);
        let delta = self.regroup(&region, comps, &touched_slots);
        GroupDelta {
            findings_added: added,
            findings_recomputed: recomputed,
            ..delta
        }
    }

    /// Whether key `k` is over its caps (degree in findings, accounts, resources).
    fn key_capped(&self, k: u32) -> bool {
        let key = &self.keys[k as usize];
        let c = &self.config;
        let (max_f, max_a, max_r) = match key.strength {
            Strength::Strong => (
                c.strong_max_findings,
                c.strong_max_accounts,
                c.strong_max_resources,
            ),
            Strength::Medium => (
                c.medium_max_findings,
                c.medium_max_accounts,
                c.medium_max_resources,
            ),
            Strength::Weak => return false,
        };
        let n = key.postings.len();
        if n > max_f {
            return true;
        }
        if n <= max_a && n <= max_r {
            return false;
        }
        let mut accounts: Vec<u32> = key
            .postings
            .iter()
            .map(|&m| self.members[m as usize].account)
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        if accounts.len() > max_a {
            return true;
        }
        let mut resources: Vec<u32> = key
            .postings
            .iter()
            .map(|&m| self.members[m as usize].resource)
            .filter(|&r| r != NONE)
            .collect();
        resources.sort_unstable();
        resources.dedup();
        resources.len() > max_r
    }

    fn make_member(
        &mut self,
        f: &Finding,
        buf: &mut String,
        scratch: &mut Vec<(EntityKind, u32)>,
    ) -> Member {
        scratch.clear();
        let mut value_buf = String::new();
        let benign = std::mem::take(&mut self.config.benign_ips);
        {
            let keys = &mut self.keys;
            let key_map = &mut self.key_map;
            for_each_entity(f, &benign, &mut value_buf, &mut |kind, value| {
                key_string(buf, kind, value);
                let k = match key_map.get(buf.as_str()) {
                    Some(&k) => k,
                    None => {
                        let k = keys.len() as u32;
                        let full: Arc<str> = Arc::from(buf.as_str());
                        keys.push(Key {
                            kind,
                            strength: strength_of(kind, value),
                            full: full.clone(),
                            postings: Vec::new(),
                            capped: false,
                            linking: false,
                        });
                        key_map.insert(full, k);
                        k
                    }
                };
                scratch.push((kind, k));
            });
        }
        self.config.benign_ips = benign;
        let mut keys: Vec<u32> = scratch.iter().map(|&(_, k)| k).collect();
        keys.sort_unstable();
        keys.dedup();
        let sequence = if f.is_attack_sequence() {
            let signal_ids: Vec<Box<str>> = f
                .sequence
                .iter()
                .flat_map(|s| s.signals.iter())
                .filter(|s| s.signal_type.eq_ignore_ascii_case("FINDING") && !s.uid.is_empty())
                .map(|s| finding_id_of(&s.uid))
                .filter(|id| *id != f.id)
                .map(Box::from)
                .collect();
            Some(Box::new(SequenceInfo {
                arn: f.arn.as_str().into(),
                signal_ids: signal_ids.into(),
            }))
        } else {
            None
        };
        Member {
            id: Arc::from(f.id.as_str()),
            finding_type: self.names.intern(&f.finding_type),
            account: self.names.intern(&f.account_id),
            region: self.names.intern(&f.region),
            resource: f
                .resource_key
                .as_deref()
                .map_or(NONE, |r| self.names.intern(r)),
            severity: if f.severity.is_finite() {
                f.severity
            } else {
                0.0
            },
            first: f.first_seen().min(f.last_seen()),
            last: f.last_seen().max(f.first_seen()),
            updated_at: f.updated_at,
            count: u32::try_from(f.count).unwrap_or(u32::MAX),
            tactics: tactic_set_for(f),
            stage: Stage::of(&f.finding_type),
            keys: keys.into(),
            linking: false,
            sample: f.sample,
            sequence,
            assoc_arn: f
                .associated_attack_sequence_arn
                .as_deref()
                .filter(|a| !a.is_empty())
                .map(Into::into),
            claimed_by: NONE,
            comp: NONE,
            group: NONE,
        }
    }

    fn register_sequence(&mut self, idx: u32, seq: &SequenceInfo) {
        if !seq.arn.is_empty() {
            self.seq_by_arn.insert(seq.arn.clone(), idx);
        }
        for id in seq.signal_ids.iter() {
            let list = self.seq_claims.entry(id.clone()).or_default();
            if !list.contains(&idx) {
                list.push(idx);
            }
        }
    }

    fn unregister_sequence(&mut self, idx: u32, seq: &SequenceInfo) {
        if self.seq_by_arn.get(&seq.arn) == Some(&idx) {
            self.seq_by_arn.remove(&seq.arn);
        }
        for id in seq.signal_ids.iter() {
            if let Some(list) = self.seq_claims.get_mut(id) {
                list.retain(|&s| s != idx);
            }
        }
    }

    /// Findings a sequence may claim: named by its signals or pointing at its ARN.
    fn sequence_candidates(&self, s: u32) -> Vec<u32> {
        let Some(seq) = &self.members[s as usize].sequence else {
            return Vec::new();
        };
        let mut out: Vec<u32> = seq
            .signal_ids
            .iter()
            .filter_map(|id| self.by_id.get(id.as_ref()).copied())
            .collect();
        if let Some(list) = self.assoc_by_arn.get(&seq.arn) {
            out.extend(list.iter().copied());
        }
        out.retain(|&m| m != s);
        out
    }

    /// The sequence that claims finding `i`: among those naming it, the earliest (then by id).
    fn claimant(&self, i: u32) -> u32 {
        let m = &self.members[i as usize];
        let mut candidates: Vec<u32> = self
            .seq_claims
            .get(m.id.as_ref())
            .cloned()
            .unwrap_or_default();
        if let Some(arn) = &m.assoc_arn {
            if let Some(&s) = self.seq_by_arn.get(arn) {
                candidates.push(s);
            }
        }
        candidates
            .into_iter()
            .filter(|&s| self.members[s as usize].sequence.is_some())
            .min_by(|&a, &b| {
                let (x, y) = (&self.members[a as usize], &self.members[b as usize]);
                (x.first, &x.id).cmp(&(y.first, &y.id))
            })
            .unwrap_or(NONE)
    }

    /// Union-find over the region through linking keys; returns components (sorted member lists).
    fn components(&mut self, region: &[u32]) -> Vec<Vec<u32>> {
        for (li, &i) in region.iter().enumerate() {
            self.local[i as usize] = li as u32;
        }
        let mut parent: Vec<u32> = (0..region.len() as u32).collect();
        let epoch = self.epoch;
        let mut entries: Vec<(EpochMillis, EpochMillis, u32)> = Vec::new();
        for &i in region {
            if !self.members[i as usize].linking {
                continue;
            }
            for &k in self.members[i as usize].keys.iter() {
                if self.key_stamp[k as usize] == epoch {
                    continue;
                }
                self.key_stamp[k as usize] = epoch;
                let key = &self.keys[k as usize];
                if !key.linking {
                    continue;
                }
                let window = match key.strength {
                    Strength::Strong => self.config.link_window_ms,
                    Strength::Medium => self.config.medium_window_ms,
                    Strength::Weak => continue,
                };
                entries.clear();
                for &m in &key.postings {
                    let mm = &self.members[m as usize];
                    if mm.linking && self.stamp[m as usize] == epoch {
                        entries.push((mm.first, mm.last, self.local[m as usize]));
                    }
                }
                entries.sort_unstable();
                // Runs: a finding joins the run when it starts within `window` of the run's end.
                let mut run_end = i64::MIN;
                let mut run_head = NONE;
                for &(first, last, li) in &entries {
                    if run_head != NONE && first <= run_end.saturating_add(window) {
                        union(&mut parent, run_head, li);
                        run_end = run_end.max(last);
                    } else {
                        run_head = li;
                        run_end = last;
                    }
                }
            }
        }
        // Only components of two or more matter: count first, so singletons cost no allocation.
        let roots: Vec<u32> = (0..region.len() as u32)
            .map(|li| find(&mut parent, li))
            .collect();
        let mut sizes = vec![0u32; region.len()];
        for &r in &roots {
            sizes[r as usize] += 1;
        }
        let mut by_root: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (li, &i) in region.iter().enumerate() {
            let r = roots[li];
            if sizes[r as usize] >= 2 {
                by_root
                    .entry(r)
                    .or_insert_with(|| Vec::with_capacity(sizes[r as usize] as usize))
                    .push(i);
            }
        }
        let mut comps: Vec<Vec<u32>> = by_root.into_values().collect();
        for c in &mut comps {
            c.sort_unstable();
        }
        comps.sort_unstable_by_key(|c| c[0]);
        comps
    }

    /// Replaces the groups of the region with the ones its new components give.
    fn regroup(
        &mut self,
        region: &[u32],
        comps: Vec<Vec<u32>>,
        touched_slots: &[u32],
    ) -> GroupDelta {
        // Forget the region's old components.
        for &i in region {
            let c = self.members[i as usize].comp;
            if c != NONE {
                self.comps.remove(&c);
            }
        }
        let mut old_membership: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for &s in touched_slots {
            old_membership.insert(s, std::mem::take(&mut self.slot_members[s as usize]));
        }
        for &i in region {
            self.members[i as usize].comp = NONE;
            self.members[i as usize].group = NONE;
        }
        // New components and the groups they split into.
        let mut new_groups: Vec<(String, GroupSource, Vec<u32>)> = Vec::new();
        for comp in comps {
            let linking: Vec<u32> = comp
                .iter()
                .copied()
                .filter(|&m| self.members[m as usize].linking)
                .collect();
            if linking.len() < 2 {
                continue;
            }
            let rep = linking[0];
            for &m in &linking {
                self.members[m as usize].comp = rep;
            }
            let mut sorted = linking.clone();
            self.comps.insert(rep, linking);
            sorted.sort_by(|&a, &b| self.time_order(a, b));
            for chunk in self.split(&sorted) {
                let tactics: TacticSet = chunk
                    .iter()
                    .fold(0, |t, &m| t | self.members[m as usize].tactics);
                if chunk.len() >= 2
                    && (tactics.count_ones() >= self.config.min_tactics
                        || (self.config.escalation && self.escalates(&chunk)))
                {
                    let id = group_id(&self.members[chunk[0] as usize].id);
                    new_groups.push((id, GroupSource::Correlated, chunk));
                }
            }
        }
        // Attack sequences in the region: each its own group with the findings it claims.
        for &i in region {
            if self.members[i as usize].sequence.is_none() {
                continue;
            }
            let mut list: Vec<u32> = self
                .sequence_candidates(i)
                .into_iter()
                .filter(|&m| self.members[m as usize].claimed_by == i)
                .collect();
            list.push(i);
            list.sort_by(|&a, &b| self.time_order(a, b));
            list.dedup();
            let id = group_id(&format!("sequence:{}", self.members[i as usize].id));
            new_groups.push((id, GroupSource::AttackSequence, list));
        }

        // Build and install.
        let mut delta = GroupDelta::default();
        let mut new_slots: Vec<u32> = Vec::with_capacity(new_groups.len());
        for (id, source, list) in new_groups {
            let group = self.build(id.clone(), source, &list);
            let slot = match self.slot_by_id.get(&id).copied() {
                Some(s) => {
                    let old = &self.slots[s as usize];
                    if old.active && old_membership.contains_key(&s) {
                        delta.updated.push(id.clone());
                    } else {
                        delta.created.push(id.clone());
                        if !old.active {
                            self.active += 1;
                        }
                    }
                    let mut g = group;
                    g.parents = old.parents.clone();
                    g.children = Vec::new();
                    self.slots[s as usize] = Arc::new(g);
                    s
                }
                None => {
                    let s = self.slots.len() as u32;
                    self.slots.push(Arc::new(group));
                    self.slot_members.push(Vec::new());
                    self.slot_by_id.insert(id.clone(), s);
                    self.active += 1;
                    delta.created.push(id.clone());
                    s
                }
            };
            for &m in &list {
                self.members[m as usize].group = slot;
            }
            self.slot_members[slot as usize] = list;
            new_slots.push(slot);
        }
        // Lineage: where did each old group's members go?
        let mut old_slots: Vec<u32> = old_membership.keys().copied().collect();
        old_slots.sort_unstable();
        for s in old_slots {
            let old_members = &old_membership[&s];
            let mut went: Vec<u32> = old_members
                .iter()
                .map(|&m| self.members[m as usize].group)
                .filter(|&g| g != NONE && g != s)
                .collect();
            went.sort_unstable();
            went.dedup();
            let still_active = new_slots.contains(&s);
            if !still_active {
                self.active -= 1;
                delta.retired.push(self.slots[s as usize].id.clone());
            }
            let old_id = self.slots[s as usize].id.clone();
            let child_ids: Vec<String> = went
                .iter()
                .map(|&g| self.slots[g as usize].id.clone())
                .collect();
            {
                let g = Arc::make_mut(&mut self.slots[s as usize]);
                g.active = still_active;
                for c in &child_ids {
                    if !g.children.contains(c) {
                        g.children.push(c.clone());
                    }
                }
                g.children.sort();
            }
            for &c in &went {
                let g = Arc::make_mut(&mut self.slots[c as usize]);
                if !g.parents.contains(&old_id) {
                    g.parents.push(old_id.clone());
                    g.parents.sort();
                }
            }
        }
        delta.created.sort();
        delta.created.dedup();
        delta.updated.sort();
        delta.updated.dedup();
        delta.retired.sort();
        delta
    }

    /// Whether a time-sorted chunk holds an escalation (see [`CorrelationConfig::escalation`]):
    /// members `a` then `b` of different types sharing a linking strong key and a linking medium
    /// key, `b` more severe than `a` or an outcome after an attempt.
    fn escalates(&self, chunk: &[u32]) -> bool {
        let first_type = self.members[chunk[0] as usize].finding_type;
        if chunk
            .iter()
            .all(|&m| self.members[m as usize].finding_type == first_type)
        {
            return false;
        }
        for (i, &x) in chunk.iter().enumerate() {
            let a = &self.members[x as usize];
            for &y in &chunk[i + 1..] {
                let b = &self.members[y as usize];
                if a.finding_type == b.finding_type {
                    continue;
                }
                let rising = b.severity > a.severity
                    || (a.stage == Stage::Attempt && b.stage == Stage::Outcome);
                if rising && self.same_resource_and_actor(a, b) {
                    return true;
                }
            }
        }
        false
    }

    /// Both share a linking strong key (the resource or credential) and a linking medium key
    /// (the address or user agent acting on it).
    fn same_resource_and_actor(&self, a: &Member, b: &Member) -> bool {
        let (mut strong, mut medium) = (false, false);
        let (mut i, mut j) = (0, 0);
        while i < a.keys.len() && j < b.keys.len() {
            match a.keys[i].cmp(&b.keys[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let key = &self.keys[a.keys[i] as usize];
                    if key.linking {
                        match key.strength {
                            Strength::Strong => strong = true,
                            Strength::Medium => medium = true,
                            Strength::Weak => {}
                        }
                    }
                    if strong && medium {
                        return true;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        false
    }

    /// By first seen, then id: the order that defines "earliest member".
    fn time_order(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (x, y) = (&self.members[a as usize], &self.members[b as usize]);
        (x.first, &x.id).cmp(&(y.first, &y.id))
    }

    /// Cuts a time-sorted component into groups of at most `max_group_size` findings spanning
    /// at most `max_span_ms` from their first member.
    fn split(&self, sorted: &[u32]) -> Vec<Vec<u32>> {
        let mut out: Vec<Vec<u32>> = Vec::new();
        let mut current: Vec<u32> = Vec::new();
        let mut start = 0i64;
        for &m in sorted {
            let first = self.members[m as usize].first;
            if !current.is_empty()
                && (current.len() >= self.config.max_group_size.max(2)
                    || first.saturating_sub(start) > self.config.max_span_ms)
            {
                out.push(std::mem::take(&mut current));
            }
            if current.is_empty() {
                start = first;
            }
            current.push(m);
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }

    fn build(&self, id: String, source: GroupSource, list: &[u32]) -> FindingGroup {
        let views: Vec<MemberView<'_>> = list
            .iter()
            .map(|&i| {
                let m = &self.members[i as usize];
                MemberView {
                    id: &m.id,
                    finding_type: self.names.get(m.finding_type),
                    account: self.names.get(m.account),
                    region: self.names.get(m.region),
                    severity: m.severity,
                    first: m.first,
                    last: m.last,
                    count: m.count,
                    tactics: m.tactics,
                    entities: m
                        .keys
                        .iter()
                        .map(|&k| {
                            let key = &self.keys[k as usize];
                            (key.kind, &key.full[2..], key.strength, key.capped)
                        })
                        .collect(),
                }
            })
            .collect();
        build_group(id, source, &views)
    }
}

/// Where a finding type stands in an escalation: trying (failed logins, brute force, probes,
/// scans) or succeeding (`…Success…`, `…Successful…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Stage {
    Attempt,
    Outcome,
    Other,
}

impl Stage {
    pub(crate) fn of(finding_type: &str) -> Stage {
        // The part after the resource kind: `RDS/MaliciousIPCaller.SuccessfulLogin` → the name.
        let name = finding_type.rsplit('/').next().unwrap_or(finding_type);
        if name.contains("Success") {
            Stage::Outcome
        } else if name.contains("FailedLogin")
            || name.contains("BruteForce")
            || name.contains("PortProbe")
            || name.contains("Portscan")
            || finding_type.starts_with("Recon:")
        {
            Stage::Attempt
        } else {
            Stage::Other
        }
    }
}

/// `<kind code>:<value>` into `buf`.
fn key_string(buf: &mut String, kind: EntityKind, value: &str) {
    buf.clear();
    buf.push(char::from(b'a' + kind.code()));
    buf.push(':');
    buf.push_str(value);
}

/// A signal uid is a finding id or its ARN (`…/finding/<id>`).
fn finding_id_of(uid: &str) -> &str {
    match uid.rfind("/finding/") {
        Some(p) => &uid[p + "/finding/".len()..],
        None => uid,
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // Smaller index as root: deterministic, and the run head stays a root.
        if ra < rb {
            parent[rb as usize] = ra;
        } else {
            parent[ra as usize] = rb;
        }
    }
}

/// What a persisted start-up snapshot keeps of the correlator (written): members, names,
/// entity keys with their postings, sequence claims, components and the membership of each
/// active group. Lookup tables are rebuilt and group views rebuilt from their members on load;
/// lineage is not kept (a fresh build from the store has none either).
#[derive(Serialize)]
struct PersistedRef<'a> {
    config: &'a CorrelationConfig,
    members: &'a [Member],
    names: &'a [Arc<str>],
    keys: &'a [Key],
    seq_by_arn: &'a FxHashMap<Box<str>, u32>,
    seq_claims: &'a FxHashMap<Box<str>, Vec<u32>>,
    assoc_by_arn: &'a FxHashMap<Box<str>, Vec<u32>>,
    comps: &'a FxHashMap<u32, Vec<u32>>,
    groups: Vec<(&'a str, GroupSource, &'a [u32])>,
}

/// [`PersistedRef`] as read back (same fields, same order).
#[derive(Deserialize)]
struct Persisted {
    config: CorrelationConfig,
    members: Vec<Member>,
    names: Vec<Arc<str>>,
    keys: Vec<Key>,
    seq_by_arn: FxHashMap<Box<str>, u32>,
    seq_claims: FxHashMap<Box<str>, Vec<u32>>,
    assoc_by_arn: FxHashMap<Box<str>, Vec<u32>>,
    comps: FxHashMap<u32, Vec<u32>>,
    groups: Vec<(String, GroupSource, Vec<u32>)>,
}

impl Serialize for Correlator {
    /// The settled state (findings loaded but not settled are an error: settle first).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.pending.seeds.is_empty() {
            return Err(serde::ser::Error::custom(
                "the correlator has findings loaded but not settled",
            ));
        }
        let groups = self
            .slots
            .iter()
            .zip(&self.slot_members)
            .filter(|(g, _)| g.active)
            .map(|(g, list)| (g.id.as_str(), g.source, list.as_slice()))
            .collect();
        PersistedRef {
            config: &self.config,
            members: &self.members,
            names: &self.names.names,
            keys: &self.keys,
            seq_by_arn: &self.seq_by_arn,
            seq_claims: &self.seq_claims,
            assoc_by_arn: &self.assoc_by_arn,
            comps: &self.comps,
            groups,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Correlator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = Persisted::deserialize(d)?;
        let mut c = Correlator::new(p.config);
        c.by_id = p
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i as u32))
            .collect();
        c.members = p.members;
        c.names.map = p
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        c.names.names = p.names;
        c.key_map = p
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.full.clone(), i as u32))
            .collect();
        c.keys = p.keys;
        c.seq_by_arn = p.seq_by_arn;
        c.seq_claims = p.seq_claims;
        c.assoc_by_arn = p.assoc_by_arn;
        c.comps = p.comps;
        let n = c.members.len() as u32;
        if c.comps.values().flatten().any(|&m| m >= n) {
            return Err(serde::de::Error::custom(
                "a component names an unknown member",
            ));
        }
        for m in &mut c.members {
            m.group = NONE;
        }
        for (id, source, list) in p.groups {
            if list.iter().any(|&m| m >= n) {
                return Err(serde::de::Error::custom(format!(
                    "group {id} names an unknown member"
                )));
            }
            let slot = c.slots.len() as u32;
            c.slots.push(Arc::new(c.build(id.clone(), source, &list)));
            for &m in &list {
                c.members[m as usize].group = slot;
            }
            c.slot_members.push(list);
            c.slot_by_id.insert(id, slot);
            c.active += 1;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_uids_reduce_to_finding_ids() {
        assert_eq!(
            finding_id_of("arn:aws:guardduty:us-east-1:111:detector/d/finding/abc"),
            "abc"
        );
        assert_eq!(finding_id_of("abc"), "abc");
    }

    #[test]
    fn stages_of_types() {
        use Stage::*;
        for (t, s) in [
            (
                "CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
                Attempt,
            ),
            (
                "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
                Outcome,
            ),
            ("CredentialAccess:RDS/TorIPCaller.SuccessfulLogin", Outcome),
            ("UnauthorizedAccess:EC2/SSHBruteForce", Attempt),
            ("Recon:EC2/PortProbeUnprotectedPort", Attempt),
            ("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", Outcome),
            ("Discovery:S3/AnomalousBehavior", Other),
            ("Totally:New/Type", Other),
        ] {
            assert_eq!(Stage::of(t), s, "{t}");
        }
    }

    #[test]
    fn union_find_joins() {
        let mut p: Vec<u32> = (0..5).collect();
        union(&mut p, 3, 4);
        union(&mut p, 4, 1);
        assert_eq!(find(&mut p, 3), find(&mut p, 1));
        assert_ne!(find(&mut p, 0), find(&mut p, 1));
    }
}
