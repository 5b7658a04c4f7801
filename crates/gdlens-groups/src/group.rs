//! The finding group as callers see it, and how its derived fields (severity, score, title,
//! timeline, graph) are computed from its members.

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{FindingType, SeverityLabel};
use gdlens_scoring::{FeatureRow, Scorer, Weights};
use serde::Serialize;

use crate::attack::{tactic_by_order, tactics_in, Tactic, TacticSet};
use crate::entity::{EntityKind, Strength};

/// Where a group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GroupSource {
    /// Built by gdlens from shared entities.
    Correlated,
    /// A GuardDuty attack sequence with its member findings.
    AttackSequence,
}

/// An entity involved in a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupEntity {
    /// What it is.
    pub kind: EntityKind,
    /// Its value (account/region-qualified where names are not globally unique).
    pub value: String,
    /// Strong, medium or weak (annotation).
    pub strength: Strength,
    /// Members involving it.
    pub finding_count: u32,
    /// The members involving it, in member order.
    pub finding_ids: Vec<String>,
    /// True when the entity touches too many findings or resources to link (a scanner, a NAT
    /// address, a CI role): kept as an annotation only.
    pub capped: bool,
}

/// One step of the story.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// The member finding.
    pub finding_id: String,
    /// Its finding type.
    pub finding_type: String,
    /// Its first tactic in kill-chain order (None = "Other").
    pub tactic: Option<&'static Tactic>,
    /// First seen.
    pub first_seen: EpochMillis,
    /// Last seen.
    pub last_seen: EpochMillis,
    /// Its severity.
    pub severity: f64,
}

/// A node of the group graph: a finding or an entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphNode {
    /// `finding:<id>` or `entity:<kind>:<value>`.
    pub id: String,
    /// `finding` or the entity kind.
    pub kind: String,
    /// What to print: the finding type or the entity value.
    pub label: String,
}

/// A graph edge: finding → entity it involves.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphEdge {
    /// Finding node id.
    pub source: String,
    /// Entity node id.
    pub target: String,
}

/// Findings and entities for the frontend to draw.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupGraph {
    /// Findings first (member order), then entities.
    pub nodes: Vec<GraphNode>,
    /// One edge per (finding, entity) pair.
    pub edges: Vec<GraphEdge>,
}

/// A finding group: findings that tell one attack story.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingGroup {
    /// Stable id: `fg-` + a hash of the earliest member's id (or of the sequence finding's id).
    pub id: String,
    /// Generated from the content.
    pub title: String,
    /// Max member severity, raised for a multi-tactic story in kill-chain order (≤ 10).
    pub severity: f64,
    /// Label of `severity`.
    pub severity_label: SeverityLabel,
    /// Priority 0–100 from the scoring crate (see [`group_score`]).
    pub score: f64,
    /// Earliest member first seen.
    pub first_seen: EpochMillis,
    /// Latest member last seen.
    pub last_seen: EpochMillis,
    /// Distinct accounts, sorted.
    pub accounts: Vec<String>,
    /// Distinct regions, sorted.
    pub regions: Vec<String>,
    /// Tactics of the members, kill-chain order.
    pub tactics: Vec<&'static Tactic>,
    /// Member finding ids, ordered by first seen then id.
    pub finding_ids: Vec<String>,
    /// Entities of the members.
    pub entities: Vec<GroupEntity>,
    /// Members ordered by tactic, then first seen.
    pub timeline: Vec<TimelineEntry>,
    /// Findings and entities.
    pub graph: GroupGraph,
    /// Correlated or an attack sequence.
    pub source: GroupSource,
    /// Groups this one was formed from (merge, re-keying or split), sorted.
    pub parents: Vec<String>,
    /// Groups this one's members went to, sorted.
    pub children: Vec<String>,
    /// False once merged or dissolved; retired groups stay retrievable by id.
    pub active: bool,
    /// What each member contributed (same order as `finding_ids`): enough to rebuild the group
    /// over a subset of its members ([`restrict_group`]) without the correlator.
    #[serde(skip)]
    pub members: Vec<GroupMember>,
}

/// The facts of one member that a group is built from (owned; no `Finding` clone).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMember {
    /// Finding id.
    pub id: String,
    /// Finding type.
    pub finding_type: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Severity.
    pub severity: f64,
    /// First seen.
    pub first: EpochMillis,
    /// Last seen.
    pub last: EpochMillis,
    /// `service.count`.
    pub count: u32,
    /// ATT&CK tactics as a bit set (see [`crate::attack::TacticSet`]).
    pub tactics: TacticSet,
}

/// The group as a caller who sees only `visible` members would: every field (title, tactics,
/// severity, score, accounts, regions, entities, timeline, graph) rebuilt from the visible
/// members alone, so nothing about hidden members leaks. Same id, source and lineage.
/// `None` when no member is visible; the group itself (cloned) when every member is.
pub fn restrict_group(
    group: &FindingGroup,
    visible: &dyn Fn(&GroupMember) -> bool,
) -> Option<FindingGroup> {
    let keep: Vec<&GroupMember> = group.members.iter().filter(|m| visible(m)).collect();
    if keep.is_empty() {
        return None;
    }
    if keep.len() == group.members.len() {
        return Some(group.clone());
    }
    let views: Vec<MemberView<'_>> = keep
        .iter()
        .map(|m| MemberView {
            id: &m.id,
            finding_type: &m.finding_type,
            account: &m.account,
            region: &m.region,
            severity: m.severity,
            first: m.first,
            last: m.last,
            count: m.count,
            tactics: m.tactics,
            entities: group
                .entities
                .iter()
                .filter(|e| e.finding_ids.iter().any(|f| f == &m.id))
                .map(|e| (e.kind, e.value.as_str(), e.strength, e.capped))
                .collect(),
        })
        .collect();
    let mut restricted = build_group(group.id.clone(), group.source, &views);
    restricted.parents = group.parents.clone();
    restricted.children = group.children.clone();
    restricted.active = group.active;
    Some(restricted)
}

/// What the builder needs about one member (kept small; no `Finding` clones).
#[derive(Debug, Clone)]
pub(crate) struct MemberView<'a> {
    pub id: &'a str,
    pub finding_type: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub severity: f64,
    pub first: EpochMillis,
    pub last: EpochMillis,
    pub count: u32,
    pub tactics: TacticSet,
    /// (kind, value, strength, capped) of each entity.
    pub entities: Vec<(EntityKind, &'a str, Strength, bool)>,
}

/// Stable group id from a seed string (FNV-1a 64: fixed, platform-independent).
pub(crate) fn group_id(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fg-{h:016x}")
}

/// Length of the longest chain of distinct tactics that occur in kill-chain order over time
/// (members taken by first seen): 3 means e.g. Initial Access, then Credential Access, then
/// Exfiltration, each seen no earlier than the previous one.
pub fn kill_chain_length(members_by_time: &[TacticSet]) -> u8 {
    let mut best = [0u8; 16];
    for &set in members_by_time {
        let snapshot = best;
        for order in 0..15u8 {
            if set & (1 << order) == 0 {
                continue;
            }
            let prev = snapshot[..order as usize]
                .iter()
                .copied()
                .max()
                .unwrap_or(0);
            best[order as usize] = best[order as usize].max(prev + 1);
        }
    }
    best.iter().copied().max().unwrap_or(0)
}

/// Group severity: max member severity, +0.5 for a kill chain of 3 tactics, +1.0 for 4 or
/// more, capped at 10.
pub fn group_severity(max_member: f64, chain: u8) -> f64 {
    let raise = match chain {
        0..=2 => 0.0,
        3 => 0.5,
        _ => 1.0,
    };
    let s = max_member + raise;
    if s > 10.0 {
        10.0
    } else {
        s
    }
}

/// The group score: the scoring crate's score of one synthetic row for the whole group, using
/// only the factors that depend on the group's content (severity, count, exposure, group):
/// criticality, rarity and recency depend on org context and on "now", which the API applies
/// when it ranks. Row: severity = group severity, count = total occurrences, exposure = members
/// and distinct finding types, group = tactic count and group severity.
pub fn group_score(
    severity: f64,
    occurrences: u32,
    members: u32,
    distinct_types: u32,
    tactics: u8,
) -> f64 {
    let weights = Weights {
        criticality: 0.0,
        rarity: 0.0,
        recency: 0.0,
        ..Weights::default()
    };
    let scorer = Scorer::new(&weights).expect("constant weights are valid");
    let row = FeatureRow {
        severity,
        count: occurrences,
        resource_findings: members,
        resource_distinct_types: distinct_types,
        group_tactics: tactics,
        group_severity: severity,
        type_count: 1,
        ..FeatureRow::default()
    };
    scorer.score_row(&row).value
}

/// The queue's ranking score (0–100): the content score ([`group_score`]) weighted down, plus
/// the evidence that the members are one actor's story rather than a busy resource:
/// GuardDuty's own attack sequence (+40); an external actor (address, user agent) shared by
/// several members and not capped (+15); two or more resources or credentials each shared by
/// several members, i.e. the story moves from one to the next (+10); several accounts (+10); an
/// outcome after attempts (+10); a kill chain of three tactics or more (+5). Every term only
/// grows with members, so a caller who sees fewer members never sees a higher score.
pub fn story_score(
    content: f64,
    source: GroupSource,
    entities: &[GroupEntity],
    accounts: usize,
    chain: u8,
    members: &[MemberView<'_>],
) -> f64 {
    let shared = |strength: Strength| {
        entities
            .iter()
            .filter(|e| e.strength == strength && !e.capped && e.finding_ids.len() >= 2)
            .count()
    };
    let mut evidence = 0.0;
    if source == GroupSource::AttackSequence {
        evidence += 40.0;
    }
    if shared(Strength::Medium) >= 1 {
        evidence += 15.0;
    }
    if shared(Strength::Strong) >= 2 {
        evidence += 10.0;
    }
    if accounts >= 2 {
        evidence += 10.0;
    }
    if escalated(members) {
        evidence += 10.0;
    }
    if chain >= 3 {
        evidence += 5.0;
    }
    (content * 0.5 + evidence).clamp(0.0, 100.0)
}

/// An outcome (`…Success…`) after an attempt (failed logins, brute force, probes).
fn escalated(members: &[MemberView<'_>]) -> bool {
    let stage = |t: &str| crate::correlate::Stage::of(t);
    let first_attempt = members
        .iter()
        .filter(|m| stage(m.finding_type) == crate::correlate::Stage::Attempt)
        .map(|m| m.first)
        .min();
    first_attempt.is_some_and(|t| {
        members
            .iter()
            .any(|m| stage(m.finding_type) == crate::correlate::Stage::Outcome && m.first >= t)
    })
}

/// A short human phrase for a finding type ("SSH brute force", "credential exfiltration").
pub fn type_phrase(finding_type: &str) -> String {
    let t = FindingType::parse(finding_type);
    let known = match t.family {
        "SSHBruteForce" => Some("SSH brute force"),
        "RDPBruteForce" => Some("RDP brute force"),
        "WinRMBruteForce" => Some("WinRM brute force"),
        "PortProbeUnprotectedPort" | "PortProbeEMRUnprotectedPort" => Some("port probe"),
        "Portscan" | "PortSweep" => Some("port scan"),
        "InstanceCredentialExfiltration" | "ResourceCredentialExfiltration" => {
            Some("credential exfiltration")
        }
        "TorIPCaller" => Some("calls from Tor"),
        "MaliciousIPCaller" => Some("calls from a malicious IP"),
        "TorClient" | "TorRelay" => Some("Tor traffic"),
        "BitcoinTool" | "CryptoMinerExecuted" | "BitcoinDomainRequest" => Some("crypto mining"),
        "C&CActivity" => Some("C&C activity"),
        "ExecInKubeSystemPod" => Some("exec in kube-system pod"),
        "SuccessfulAnonymousAccess" => Some("anonymous access"),
        "ConsoleLoginSuccess" => Some("unusual console login"),
        "CompromisedCredentials" => Some("compromised credentials"),
        "CompromisedData" => Some("compromised data"),
        "CompromisedCluster" => Some("compromised cluster"),
        "CompromisedInstanceGroup" => Some("compromised instances"),
        "DNSDataExfiltration" => Some("DNS exfiltration"),
        "DenialOfService" => Some("denial of service"),
        _ => None,
    };
    if let Some(p) = known {
        return p.to_string();
    }
    if t.family.starts_with("AnomalousBehavior") {
        return format!("anomalous {}", words(t.purpose));
    }
    let w = words(t.family);
    if w.is_empty() {
        words(finding_type)
    } else {
        w
    }
}

/// `CamelCase` → `camel case` (acronyms kept: `DNSRebind` → `DNS rebind`).
fn words(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
        let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
        if c.is_ascii_uppercase() && i > 0 && (prev_lower || (prev_upper && next_lower)) {
            out.push(' ');
        }
        out.push(c);
    }
    // Lowercase words that are not acronyms.
    out.split(' ')
        .map(|w| {
            if w.chars().skip(1).any(|c| c.is_ascii_uppercase()) {
                w.to_string()
            } else {
                w.to_ascii_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The short display form of an entity value: the last path segment of qualified names.
fn display_value(kind: EntityKind, value: &str) -> String {
    let shown = match kind {
        EntityKind::EksCluster
        | EntityKind::EcsCluster
        | EntityKind::Lambda
        | EntityKind::DbInstance
        | EntityKind::IamUser => value.rsplit('/').next().unwrap_or(value),
        _ => value,
    };
    if shown.chars().count() > 40 {
        let cut: String = shown.chars().take(39).collect();
        format!("{cut}…")
    } else {
        shown.to_string()
    }
}

/// Builds a group from its members (already sorted by first seen, then id).
pub(crate) fn build_group(
    id: String,
    source: GroupSource,
    members: &[MemberView<'_>],
) -> FindingGroup {
    let mut accounts: Vec<String> = members.iter().map(|m| m.account.to_string()).collect();
    accounts.sort();
    accounts.dedup();
    let mut regions: Vec<String> = members.iter().map(|m| m.region.to_string()).collect();
    regions.sort();
    regions.dedup();
    let mut tactic_set: TacticSet = 0;
    let mut max_sev = 0.0f64;
    let mut occurrences: u32 = 0;
    let mut types: Vec<&str> = Vec::with_capacity(members.len());
    for m in members {
        tactic_set |= m.tactics;
        if m.severity > max_sev {
            max_sev = m.severity;
        }
        occurrences = occurrences.saturating_add(m.count.max(1));
        types.push(m.finding_type);
    }
    types.sort_unstable();
    types.dedup();
    let by_time: Vec<TacticSet> = members.iter().map(|m| m.tactics).collect();
    let chain = kill_chain_length(&by_time);
    let severity = group_severity(max_sev, chain);
    let tactics = tactics_in(tactic_set);
    let content_score = group_score(
        severity,
        occurrences,
        members.len() as u32,
        types.len() as u32,
        tactics.len() as u8,
    );

    // Entities: (kind, value) → members, first-seen order.
    let mut entity_rows: Vec<(EntityKind, &str, Strength, bool, usize)> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        for &(k, v, s, c) in &m.entities {
            entity_rows.push((k, v, s, c, i));
        }
    }
    entity_rows.sort_unstable_by(|a, b| (a.0, a.1, a.4).cmp(&(b.0, b.1, b.4)));
    entity_rows.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.4 == b.4);
    let mut entities: Vec<GroupEntity> = Vec::new();
    for (k, v, s, c, i) in entity_rows {
        match entities.last_mut() {
            Some(e) if e.kind == k && e.value == v => {
                e.finding_count += 1;
                e.finding_ids.push(members[i].id.to_string());
            }
            _ => entities.push(GroupEntity {
                kind: k,
                value: v.to_string(),
                strength: s,
                finding_count: 1,
                finding_ids: vec![members[i].id.to_string()],
                capped: c,
            }),
        }
    }

    let score = story_score(
        content_score,
        source,
        &entities,
        accounts.len(),
        chain,
        members,
    );

    // Timeline: by first tactic (Other last), then first seen, then id.
    let mut order: Vec<usize> = (0..members.len()).collect();
    let primary = |m: &MemberView<'_>| {
        if m.tactics == 0 {
            255
        } else {
            m.tactics.trailing_zeros() as u8
        }
    };
    order.sort_by(|&a, &b| {
        let (ma, mb) = (&members[a], &members[b]);
        (primary(ma), ma.first, ma.id).cmp(&(primary(mb), mb.first, mb.id))
    });
    let timeline: Vec<TimelineEntry> = order
        .iter()
        .map(|&i| {
            let m = &members[i];
            TimelineEntry {
                finding_id: m.id.to_string(),
                finding_type: m.finding_type.to_string(),
                tactic: tactic_by_order(primary(m)),
                first_seen: m.first,
                last_seen: m.last,
                severity: m.severity,
            }
        })
        .collect();

    let title = title(source, members, &timeline, &entities);

    let mut graph = GroupGraph::default();
    for m in members {
        graph.nodes.push(GraphNode {
            id: format!("finding:{}", m.id),
            kind: "finding".into(),
            label: m.finding_type.to_string(),
        });
    }
    for e in &entities {
        let node = format!("entity:{}:{}", e.kind.as_str(), e.value);
        for fid in &e.finding_ids {
            graph.edges.push(GraphEdge {
                source: format!("finding:{fid}"),
                target: node.clone(),
            });
        }
        graph.nodes.push(GraphNode {
            id: node,
            kind: e.kind.as_str().into(),
            label: e.value.clone(),
        });
    }

    FindingGroup {
        id,
        title,
        severity,
        severity_label: SeverityLabel::from_severity(severity),
        score,
        first_seen: members.iter().map(|m| m.first).min().unwrap_or(0),
        last_seen: members.iter().map(|m| m.last).max().unwrap_or(0),
        accounts,
        regions,
        tactics,
        finding_ids: members.iter().map(|m| m.id.to_string()).collect(),
        entities,
        timeline,
        graph,
        source,
        parents: Vec::new(),
        children: Vec::new(),
        active: true,
        members: members
            .iter()
            .map(|m| GroupMember {
                id: m.id.to_string(),
                finding_type: m.finding_type.to_string(),
                account: m.account.to_string(),
                region: m.region.to_string(),
                severity: m.severity,
                first: m.first,
                last: m.last,
                count: m.count,
                tactics: m.tactics,
            })
            .collect(),
    }
}

/// The title: the story's first phrase on its focal entity, followed by the later phrases.
fn title(
    source: GroupSource,
    members: &[MemberView<'_>],
    timeline: &[TimelineEntry],
    entities: &[GroupEntity],
) -> String {
    // Focal entity: the strong one most members share (ties: kind order, then value).
    let focal = entities
        .iter()
        .filter(|e| e.strength == Strength::Strong && e.kind != EntityKind::AttackSequence)
        .max_by(|a, b| {
            a.finding_count
                .cmp(&b.finding_count)
                .then(b.kind.cmp(&a.kind))
                .then(b.value.cmp(&a.value))
        })
        .or_else(|| {
            entities
                .iter()
                .filter(|e| e.kind != EntityKind::AttackSequence)
                .max_by_key(|e| e.finding_count)
        })
        .map(|e| display_value(e.kind, &e.value));
    let on = focal.map(|f| format!(" on {f}")).unwrap_or_default();
    if source == GroupSource::AttackSequence {
        let seq = members
            .iter()
            .find(|m| m.finding_type.starts_with("AttackSequence:"));
        let phrase = seq
            .map(|m| type_phrase(m.finding_type))
            .unwrap_or_else(|| "attack sequence".into());
        return format!("Attack sequence: {phrase}{on} ({} findings)", members.len());
    }
    let mut phrases: Vec<String> = Vec::new();
    for t in timeline {
        let p = type_phrase(&t.finding_type);
        if !phrases.contains(&p) {
            phrases.push(p);
        }
    }
    match phrases.len() {
        0 => format!("Finding group{on}"),
        1 => format!(
            "{}{on} ({} findings)",
            capitalize(&phrases[0]),
            members.len()
        ),
        n => {
            let rest: Vec<&str> = phrases[1..].iter().take(3).map(String::as_str).collect();
            let more = if n > 4 {
                format!(" and {} more", n - 4)
            } else {
                String::new()
            };
            format!(
                "{}{on} followed by {}{more}",
                capitalize(&phrases[0]),
                rest.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(group_id("abc"), group_id("abc"));
        assert_ne!(group_id("abc"), group_id("abd"));
        // FNV-1a 64 of "a" is fixed forever.
        assert_eq!(group_id("a"), "fg-af63dc4c8601ec8c");
    }

    #[test]
    fn kill_chain_counts_tactics_in_order_over_time() {
        let t = |o: u8| 1u16 << o;
        // Recon → Initial Access → Credential Access → Exfiltration.
        assert_eq!(kill_chain_length(&[t(0), t(2), t(8), t(13)]), 4);
        // Out of order in time: only the increasing part counts.
        assert_eq!(kill_chain_length(&[t(13), t(8), t(2), t(0)]), 1);
        assert_eq!(kill_chain_length(&[t(2), t(13), t(8)]), 2);
        // Repeats of one tactic count once.
        assert_eq!(kill_chain_length(&[t(2), t(2), t(2)]), 1);
        // A multi-tactic member (attack sequence) contributes its tactics once.
        assert_eq!(kill_chain_length(&[t(2) | t(9) | t(13)]), 1);
        assert_eq!(kill_chain_length(&[0, 0]), 0);
    }

    #[test]
    fn severity_is_raised_for_kill_chains_and_capped() {
        assert_eq!(group_severity(5.0, 2), 5.0);
        assert_eq!(group_severity(5.0, 3), 5.5);
        assert_eq!(group_severity(5.0, 5), 6.0);
        assert_eq!(group_severity(9.6, 4), 10.0);
    }

    #[test]
    fn score_grows_with_severity_and_breadth() {
        let low = group_score(5.0, 2, 2, 1, 1);
        let high = group_score(8.0, 2, 2, 1, 1);
        let wide = group_score(8.0, 2, 2, 1, 4);
        assert!(low < high && high < wide, "{low} {high} {wide}");
        assert!((0.0..=100.0).contains(&wide));
    }

    #[test]
    fn phrases() {
        assert_eq!(
            type_phrase("UnauthorizedAccess:EC2/SSHBruteForce"),
            "SSH brute force"
        );
        assert_eq!(
            type_phrase("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"),
            "credential exfiltration"
        );
        assert_eq!(
            type_phrase("Discovery:IAMUser/AnomalousBehavior"),
            "anomalous discovery"
        );
        assert_eq!(
            type_phrase("UnauthorizedAccess:EC2/MetadataDNSRebind"),
            "metadata DNS rebind"
        );
        assert_eq!(
            type_phrase("Execution:Runtime/ReverseShell"),
            "reverse shell"
        );
        assert_eq!(type_phrase("Weird"), "weird");
    }
}
