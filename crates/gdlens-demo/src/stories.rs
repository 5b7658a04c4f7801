//! Planted attack stories and decoys, with consistent shared entities, and the truth about them.
//!
//! Story entities are fresh (random ids in their own namespace) and story addresses come from
//! ranges noise never uses, each drawn once: stories link only through what they share.

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::actions;
use crate::catalog::{type_info, TypeInfo};
use crate::draft::{title_and_description, Draft};
use crate::entities::{
    hex, story_ip, tor_ip, upper, AccessKey, Bucket, EksWorkload, Geo, Instance, RemoteIp,
};
use crate::json::Json;
use crate::noise::{self, pick, RESOURCE_POOL};
use crate::{Decoy, Org, Story, Truth};

pub const EC2_SSH: &str = "ec2-ssh-credential-exfiltration";
pub const IAM_TOR: &str = "iam-tor-s3-exfiltration";
pub const EKS_MINER: &str = "eks-anonymous-exec-miner";
pub const EC2_CRYPTO: &str = "ec2-cryptomining-c2";
pub const ATTACK_SEQUENCE: &str = "attack-sequence-compromised-credentials";

/// One story of each kind per this many records (at least one of each).
const RECORDS_PER_STORY: usize = 5_000;
const HOUR: i64 = 3_600_000;

const STORY_AGENTS: &[&str] = &[
    "python-requests/2.31.0",
    "aws-cli/1.16.0 Python/2.7.18 Linux/4.4.0-210-generic botocore/1.12.0",
    "Boto3/1.9.201 Python/3.6.9 Linux/4.15.0-1065-aws Botocore/1.12.201 pacu/1.5.2",
    "curl/7.68.0",
];

fn ty(name: &str) -> &'static TypeInfo {
    type_info(name)
        .unwrap_or_else(|| panic!("finding type {name} missing from the embedded catalog"))
}

/// Draws story addresses, never the same one twice.
struct Addresses {
    used: BTreeSet<String>,
    /// Next address of the overflow range (see [`Addresses::draw`]).
    overflow: u32,
}

/// Draws from one range before an address is taken from the overflow range.
const DRAWS_BEFORE_OVERFLOW: usize = 64;

impl Addresses {
    /// A story address no other story uses. Ranges are finite (the Tor exits are 762
    /// addresses and a 10M run plans 2,000 Tor stories): when `make` keeps drawing used
    /// addresses, the story gets the next free one of 198.18.0.0/15 (the benchmarking range,
    /// which noise never uses) with the drawn address's geography, so planning always ends
    /// and small runs draw exactly what they drew before.
    fn draw(
        &mut self,
        rng: &mut ChaCha8Rng,
        mut make: impl FnMut(&mut ChaCha8Rng) -> RemoteIp,
    ) -> RemoteIp {
        let mut ip = make(rng);
        for _ in 1..DRAWS_BEFORE_OVERFLOW {
            if self.used.insert(ip.ip.clone()) {
                return ip;
            }
            ip = make(rng);
        }
        if self.used.insert(ip.ip.clone()) {
            return ip;
        }
        loop {
            let n = self.overflow;
            self.overflow += 1;
            ip.ip = format!(
                "198.{}.{}.{}",
                18 + (n >> 16) % 2,
                (n >> 8) & 0xff,
                n & 0xff
            );
            if self.used.insert(ip.ip.clone()) {
                return ip;
            }
        }
    }
}

struct Planner<'a> {
    org: &'a Org,
    rng: &'a mut ChaCha8Rng,
    addresses: Addresses,
    drafts: Vec<Draft>,
}

impl Planner<'_> {
    fn account(&mut self) -> usize {
        self.rng.gen_range(0..self.org.accounts.len())
    }

    fn region(&mut self) -> usize {
        self.rng.gen_range(0..self.org.regions.len())
    }

    /// Start of a story: leaves about a day for its steps before "now".
    fn start(&mut self) -> i64 {
        let room = (self.org.window_ms - 24 * HOUR).max(1);
        self.org.now_ms - self.org.window_ms + self.rng.gen_range(0..room) + HOUR / 2
    }

    fn draft(&mut self, info: &'static TypeInfo, account: usize, region: usize) -> Draft {
        self.org.draft(self.rng, info, account, region)
    }

    /// Fixes times at `first` with `count` occurrences, titles it, and keeps it.
    fn finish(
        &mut self,
        mut d: Draft,
        first: i64,
        count: std::ops::Range<u64>,
        kind: &str,
        key: &str,
        remote: Option<&str>,
    ) -> (String, i64) {
        d.count = self.rng.gen_range(count);
        self.org.place_in_time(self.rng, &mut d, Some(first));
        // Story steps are hours apart: keep each step's own activity short.
        let cap = d.first_seen_ms + self.rng.gen_range(10 * 60_000..3 * HOUR);
        if d.last_seen_ms > cap {
            d.last_seen_ms = cap;
            d.updated_ms =
                (d.created_ms.max(cap) + self.rng.gen_range(30_000..600_000)).min(self.org.now_ms);
        }
        let (title, description) = title_and_description(d.finding_type, kind, key, remote);
        d.title = title;
        d.description = description;
        let out = (d.id.clone(), d.last_seen_ms);
        self.drafts.push(d);
        out
    }

    fn story(
        &self,
        kind: &str,
        n: usize,
        ids: Vec<String>,
        accounts: &[usize],
        regions: &[usize],
        entities: &[(&str, &str)],
    ) -> Story {
        let mut acc: Vec<String> = accounts
            .iter()
            .map(|a| self.org.accounts[*a].id.clone())
            .collect();
        acc.dedup();
        let mut reg: Vec<String> = regions
            .iter()
            .map(|r| self.org.regions[*r].to_string())
            .collect();
        reg.dedup();
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in entities {
            map.entry((*k).to_string())
                .or_default()
                .push((*v).to_string());
        }
        Story {
            name: format!("{kind}-{n}"),
            kind: kind.to_string(),
            finding_ids: ids,
            accounts: acc,
            regions: reg,
            entities: map,
        }
    }

    /// a) Port probe → SSH brute force → instance credentials used outside AWS (→ discovery).
    fn ec2_ssh(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let mut inst = Instance::derive(self.rng, &acct, self.org.regions[r], self.org.now_ms);
        if inst.public_ip.is_none() {
            inst.public_ip = Some(format!(
                "54.{}.{}.{}",
                self.rng.gen_range(0..=255u8),
                self.rng.gen_range(0..=255u8),
                self.rng.gen_range(1..=254u8)
            ));
        }
        let x = self.addresses.draw(self.rng, |g| story_ip(g, 146));
        let y = self.addresses.draw(self.rng, |g| story_ip(g, 37));
        let cred = AccessKey {
            access_key_id: format!("ASIA{}", upper(self.rng, 16)),
            principal_id: format!("AROA{}:{}", upper(self.rng, 17), inst.id),
            user_name: inst.profile_name.clone(),
            user_type: "AssumedRole",
        };
        let agent = pick(self.rng, STORY_AGENTS);
        let t0 = self.start();
        let mut ids = Vec::new();

        let mut d = self.draft(ty("Recon:EC2/PortProbeUnprotectedPort"), a, r);
        d.severity = 2.0;
        d.resource_type = "Instance";
        d.resource.push(("instanceDetails", inst.details()));
        d.feature_name = "FlowLogs";
        d.resource_role = "TARGET";
        d.action = actions::port_probe(&[(22, &x)], &inst.private_ip);
        let (id, _) = self.finish(d, t0, 3..12, "EC2 instance", &inst.id, Some(&x.ip));
        ids.push(id);

        let mut d = self.draft(ty("UnauthorizedAccess:EC2/SSHBruteForce"), a, r);
        d.severity = 2.0;
        d.resource_type = "Instance";
        d.resource.push(("instanceDetails", inst.details()));
        d.feature_name = "FlowLogs";
        d.resource_role = "TARGET";
        d.action = actions::network_connection(
            &x,
            &inst.private_ip,
            22,
            self.rng.gen_range(32768..61000),
            true,
        );
        let first = t0 + self.rng.gen_range(HOUR..3 * HOUR);
        let (id, last) = self.finish(d, first, 50..400, "EC2 instance", &inst.id, Some(&x.ip));
        ids.push(id);

        let mut d = self.draft(
            ty("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"),
            a,
            r,
        );
        d.severity = 8.0;
        d.resource_type = "AccessKey";
        d.resource.push(("accessKeyDetails", cred.details()));
        d.resource.push(("instanceDetails", inst.details()));
        d.feature_name = "CloudTrail";
        d.resource_role = "TARGET";
        d.action = actions::api_call("DescribeInstances", "ec2.amazonaws.com", agent, &y, None);
        let first = (last + self.rng.gen_range(HOUR..4 * HOUR)).min(self.org.now_ms - 2 * HOUR);
        let (id, last) = self.finish(
            d,
            first,
            1..20,
            "credentials of",
            &cred.access_key_id,
            Some(&y.ip),
        );
        ids.push(id);

        if self.rng.gen_bool(0.7) {
            let mut d = self.draft(ty("Discovery:IAMUser/AnomalousBehavior"), a, r);
            d.resource_type = "AccessKey";
            d.resource.push(("accessKeyDetails", cred.details()));
            d.feature_name = "CloudTrail";
            d.resource_role = "TARGET";
            d.action = actions::api_call("ListBuckets", "s3.amazonaws.com", agent, &y, None);
            d.additional_info = anomaly_info("ListBuckets", &cred.user_name);
            let first = (last + self.rng.gen_range(HOUR / 2..3 * HOUR)).min(self.org.now_ms - HOUR);
            let (id, _) = self.finish(
                d,
                first,
                1..5,
                "credentials of",
                &cred.access_key_id,
                Some(&y.ip),
            );
            ids.push(id);
        }
        self.story(
            EC2_SSH,
            n,
            ids,
            &[a],
            &[r],
            &[
                ("instanceId", &inst.id),
                ("accessKeyId", &cred.access_key_id),
                ("principalId", &cred.principal_id),
                ("remoteIp", &x.ip),
                ("remoteIp", &y.ip),
            ],
        )
    }

    /// b) Credentials abused from Tor → discovery → persistence → S3 exfiltration in another account.
    fn iam_tor(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let b = if self.org.accounts.len() > 1 {
            (a + 1 + self.rng.gen_range(0..self.org.accounts.len() - 1)) % self.org.accounts.len()
        } else {
            a
        };
        let acct_a = self.org.accounts[a].id.clone();
        let user = format!(
            "svc-{}-{}",
            pick(
                self.rng,
                &[
                    "reporting",
                    "backup",
                    "etl",
                    "billing-export",
                    "legacy-sync"
                ]
            ),
            hex(self.rng, 4)
        );
        let cred = AccessKey {
            access_key_id: format!("AKIA{}", upper(self.rng, 16)),
            principal_id: format!("AIDA{}", upper(self.rng, 17)),
            user_name: user,
            user_type: "IAMUser",
        };
        let bucket = Bucket::derive(self.rng, &self.org.accounts[b].name, self.org.now_ms);
        let tor = self.addresses.draw(self.rng, tor_ip);
        let agent = pick(self.rng, STORY_AGENTS);
        let mut t = self.start();
        let mut ids = Vec::new();
        for (name, api, service) in [
            (
                "UnauthorizedAccess:IAMUser/TorIPCaller",
                "GetCallerIdentity",
                "sts.amazonaws.com",
            ),
            (
                "Discovery:IAMUser/AnomalousBehavior",
                "ListBuckets",
                "s3.amazonaws.com",
            ),
            (
                "Persistence:IAMUser/AnomalousBehavior",
                "CreateAccessKey",
                "iam.amazonaws.com",
            ),
        ] {
            let info = ty(name);
            let mut d = self.draft(info, a, r);
            d.resource_type = "AccessKey";
            d.resource.push(("accessKeyDetails", cred.details()));
            d.feature_name = "CloudTrail";
            d.resource_role = "TARGET";
            d.action = actions::api_call(api, service, agent, &tor, None);
            if name.contains("AnomalousBehavior") {
                d.additional_info = anomaly_info(api, &cred.user_name);
            }
            let (id, last) = self.finish(
                d,
                t,
                1..8,
                "credentials of",
                &cred.access_key_id,
                Some(&tor.ip),
            );
            ids.push(id);
            t = (last + self.rng.gen_range(HOUR / 2..4 * HOUR)).min(self.org.now_ms - HOUR);
        }
        let mut d = self.draft(ty("Exfiltration:S3/AnomalousBehavior"), b, r);
        d.resource_type = "S3Bucket";
        d.resource.push(("accessKeyDetails", cred.details()));
        d.resource.push((
            "s3BucketDetails",
            Json::Arr(vec![bucket.details(&self.org.accounts[b].id, false)]),
        ));
        d.feature_name = "S3DataEvents";
        d.resource_role = "TARGET";
        d.action = actions::api_call("GetObject", "s3.amazonaws.com", agent, &tor, Some(&acct_a));
        d.additional_info = anomaly_info("GetObject", &cred.user_name);
        let (id, _) = self.finish(d, t, 20..900, "S3 bucket", &bucket.name, Some(&tor.ip));
        ids.push(id);
        self.story(
            IAM_TOR,
            n,
            ids,
            &[a, b],
            &[r],
            &[
                ("accessKeyId", &cred.access_key_id),
                ("userName", &cred.user_name),
                ("bucket", &bucket.name),
                ("remoteIp", &tor.ip),
            ],
        )
    }

    /// c) Anonymous access to an EKS cluster → exec in a kube-system pod → crypto miner in it.
    fn eks_miner(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let w = EksWorkload::derive(
            self.rng,
            &acct,
            self.org.regions[r],
            self.org.now_ms,
            "kube-system",
        );
        let z = self.addresses.draw(self.rng, |g| story_ip(g, 104));
        let pool = self.addresses.draw(self.rng, |g| story_ip(g, 93));
        let agent = "curl/7.88.1";
        let anonymous = Json::obj([
            ("groups", Json::Arr(vec!["system:unauthenticated".into()])),
            ("uid", "".into()),
            ("username", "system:anonymous".into()),
        ]);
        let t0 = self.start();
        let mut ids = Vec::new();

        let first_type = if self.rng.gen_bool(0.5) {
            "Discovery:Kubernetes/SuccessfulAnonymousAccess"
        } else {
            "Policy:Kubernetes/AnonymousAccessGranted"
        };
        let mut d = self.draft(ty(first_type), a, r);
        d.resource_type = "EKSCluster";
        d.resource.push(("eksClusterDetails", w.cluster_details()));
        d.resource.push((
            "kubernetesDetails",
            Json::obj([("kubernetesUserDetails", anonymous.clone())]),
        ));
        d.feature_name = "EksAuditLogs";
        d.resource_role = "TARGET";
        d.action = actions::kubernetes_call(
            "/api/v1/namespaces/kube-system/secrets",
            "list",
            agent,
            &z,
            200,
        );
        let (id, last) = self.finish(d, t0, 1..6, "EKS cluster", &w.cluster, Some(&z.ip));
        ids.push(id);

        let mut d = self.draft(ty("Execution:Kubernetes/ExecInKubeSystemPod"), a, r);
        d.resource_type = "EKSCluster";
        d.resource.push(("eksClusterDetails", w.cluster_details()));
        d.resource.push((
            "kubernetesDetails",
            Json::obj([
                ("kubernetesUserDetails", anonymous),
                ("kubernetesWorkloadDetails", w.workload_details(&w.image)),
            ]),
        ));
        d.feature_name = "EksAuditLogs";
        d.resource_role = "TARGET";
        d.action = actions::kubernetes_call(
            &format!(
                "/api/v1/namespaces/kube-system/pods/{}/exec?command=sh&stdin=true",
                w.workload
            ),
            "create",
            agent,
            &z,
            101,
        );
        let first = last + self.rng.gen_range(HOUR / 2..3 * HOUR);
        let (id, last) = self.finish(d, first, 1..2, "EKS cluster", &w.cluster, Some(&z.ip));
        ids.push(id);

        let mut d = self.draft(ty("CryptoCurrency:Runtime/BitcoinTool.B"), a, r);
        d.resource_type = "EKSCluster";
        d.resource
            .push(("containerDetails", w.container_details(&w.image)));
        d.resource.push(("eksClusterDetails", w.cluster_details()));
        d.resource.push((
            "kubernetesDetails",
            Json::obj([("kubernetesWorkloadDetails", w.workload_details(&w.image))]),
        ));
        d.feature_name = "RuntimeMonitoring";
        d.resource_role = "ACTOR";
        d.action = Json::obj([]);
        d.runtime_details = Some(actions::runtime_details(
            self.rng,
            "xmrig",
            "/tmp/.cache/xmrig",
            Some(&pool),
        ));
        let first = (last + self.rng.gen_range(HOUR / 4..2 * HOUR)).min(self.org.now_ms - HOUR);
        let (id, _) = self.finish(d, first, 5..200, "EKS cluster", &w.cluster, None);
        ids.push(id);
        self.story(
            EKS_MINER,
            n,
            ids,
            &[a],
            &[r],
            &[
                ("eksCluster", &w.cluster),
                ("workloadUid", &w.uid),
                ("containerImage", &w.image),
                ("remoteIp", &z.ip),
            ],
        )
    }

    /// d) A crypto-mining instance talking to its pool and a command-and-control server.
    fn ec2_crypto(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let inst = Instance::derive(self.rng, &acct, self.org.regions[r], self.org.now_ms);
        let pool_domain = format!(
            "xmr-{}.{}",
            hex(self.rng, 6),
            pick(self.rng, &["minexmr.to", "hashvault.pro", "c3pool.org"])
        );
        let c2_domain = format!(
            "{}.{}",
            hex(self.rng, 10),
            pick(self.rng, &["ddns.net", "no-ip.biz", "dynu.net"])
        );
        let sink = self.addresses.draw(self.rng, |g| story_ip(g, 93));
        let mut t = self.start();
        let mut ids = Vec::new();
        for step in 0..3 {
            let (name, kind) = match step {
                0 => ("CryptoCurrency:EC2/BitcoinTool.B!DNS", 0),
                1 => ("Backdoor:EC2/C&CActivity.B!DNS", 1),
                _ => ("Trojan:EC2/BlackholeTraffic", 2),
            };
            let mut d = self.draft(ty(name), a, r);
            d.resource_type = "Instance";
            d.resource.push(("instanceDetails", inst.details()));
            d.resource_role = "ACTOR";
            let remote = match kind {
                0 => {
                    d.feature_name = "DnsLogs";
                    d.action = actions::dns_request(&pool_domain);
                    None
                }
                1 => {
                    d.feature_name = "DnsLogs";
                    d.action = actions::dns_request(&c2_domain);
                    None
                }
                _ => {
                    d.feature_name = "FlowLogs";
                    d.action = actions::network_connection(
                        &sink,
                        &inst.private_ip,
                        self.rng.gen_range(32768..61000),
                        4444,
                        false,
                    );
                    Some(sink.ip.as_str())
                }
            };
            let (id, last) = self.finish(d, t, 10..500, "EC2 instance", &inst.id, remote);
            ids.push(id);
            t = (t.max(last - self.rng.gen_range(0..HOUR))
                + self.rng.gen_range(HOUR / 4..3 * HOUR))
            .min(self.org.now_ms - HOUR);
        }
        self.story(
            EC2_CRYPTO,
            n,
            ids,
            &[a],
            &[r],
            &[
                ("instanceId", &inst.id),
                ("domain", &pool_domain),
                ("domain", &c2_domain),
                ("remoteIp", &sink.ip),
            ],
        )
    }

    /// e) A GuardDuty attack sequence (Extended Threat Detection) and its member findings.
    fn attack_sequence(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let region = self.org.regions[r];
        let person = format!(
            "{}@example.com",
            pick(self.rng, &["jdoe", "asmith", "mchen", "rpatel", "kli"])
        );
        let role = format!("DataEngineer-{}", hex(self.rng, 4));
        let role_id = format!("AROA{}", upper(self.rng, 17));
        let cred = AccessKey {
            access_key_id: format!("ASIA{}", upper(self.rng, 16)),
            principal_id: format!("{role_id}:{person}"),
            user_name: role.clone(),
            user_type: "AssumedRole",
        };
        let endpoint = self.addresses.draw(self.rng, |g| story_ip(g, 64));
        let agent = pick(self.rng, STORY_AGENTS);
        let size = self.rng.gen_range(3..=5usize);
        let all: [(&str, &str, &str, &str); 5] = [
            (
                "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
                "GetCallerIdentity",
                "sts.amazonaws.com",
                "Initial Access",
            ),
            (
                "Discovery:IAMUser/AnomalousBehavior",
                "ListRoles",
                "iam.amazonaws.com",
                "Discovery",
            ),
            (
                "PrivilegeEscalation:IAMUser/AnomalousBehavior",
                "AttachRolePolicy",
                "iam.amazonaws.com",
                "Privilege Escalation",
            ),
            (
                "Persistence:IAMUser/AnomalousBehavior",
                "CreateAccessKey",
                "iam.amazonaws.com",
                "Persistence",
            ),
            (
                "DefenseEvasion:IAMUser/AnomalousBehavior",
                "StopLogging",
                "cloudtrail.amazonaws.com",
                "Defense Evasion",
            ),
        ];
        // Always discovery, persistence and defense evasion; the larger sequences add the rest.
        let chosen: Vec<_> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| match size {
                3 => [1, 3, 4].contains(i),
                4 => *i != 0,
                _ => true,
            })
            .map(|(_, x)| *x)
            .collect();

        let mut seq = self.draft(ty("AttackSequence:IAM/CompromisedCredentials"), a, r);
        seq.severity = pick(self.rng, &[9.0, 9.5, 10.0]);
        let seq_arn = seq.arn();
        let actor_id = hex(self.rng, 32);
        let endpoint_id = hex(self.rng, 32);
        let session = format!("{}:{person}", role_id);
        let mut t = self.start();
        let mut ids = Vec::new();
        let mut signals = Vec::new();
        for (name, api, service, _) in &chosen {
            let mut d = self.draft(ty(name), a, r);
            d.resource_type = "AccessKey";
            d.resource.push(("accessKeyDetails", cred.details()));
            d.feature_name = "CloudTrail";
            d.resource_role = "TARGET";
            d.action = actions::api_call(api, service, agent, &endpoint, None);
            d.additional_info = anomaly_info(api, &role);
            d.associated_sequence_arn = Some(seq_arn.clone());
            let (id, last) = self.finish(
                d,
                t,
                1..6,
                "credentials of",
                &cred.access_key_id,
                Some(&endpoint.ip),
            );
            let member = self.drafts.last().expect("just pushed");
            signals.push(Json::obj([
                ("actorIds", Json::Arr(vec![actor_id.as_str().into()])),
                ("count", member.count.into()),
                ("createdAt", Json::Float(member.created_ms as f64 / 1000.0)),
                ("description", member.title.as_str().into()),
                ("endpointIds", Json::Arr(vec![endpoint_id.as_str().into()])),
                (
                    "firstSeenAt",
                    Json::Float(member.first_seen_ms as f64 / 1000.0),
                ),
                (
                    "lastSeenAt",
                    Json::Float(member.last_seen_ms as f64 / 1000.0),
                ),
                ("name", (*name).into()),
                (
                    "resourceUids",
                    Json::Arr(vec![cred.access_key_id.as_str().into()]),
                ),
                ("severity", member.severity.into()),
                ("type", "FINDING".into()),
                ("uid", id.as_str().into()),
                ("updatedAt", Json::Float(member.updated_ms as f64 / 1000.0)),
            ]));
            ids.push(id);
            t = (last + self.rng.gen_range(HOUR / 4..4 * HOUR)).min(self.org.now_ms - HOUR);
        }
        let first = self.drafts[self.drafts.len() - chosen.len()].first_seen_ms;
        let last = self
            .drafts
            .iter()
            .rev()
            .take(chosen.len())
            .map(|d| d.last_seen_ms)
            .max()
            .unwrap_or(first);
        // A CloudTrail signal that is not a finding: real sequences mix both.
        signals.push(Json::obj([
            ("actorIds", Json::Arr(vec![actor_id.as_str().into()])),
            ("count", 1u64.into()),
            ("firstSeenAt", Json::Float(last as f64 / 1000.0)),
            ("lastSeenAt", Json::Float(last as f64 / 1000.0)),
            ("name", "StopLogging".into()),
            (
                "resourceUids",
                Json::Arr(vec![cred.access_key_id.as_str().into()]),
            ),
            ("type", "CLOUD_TRAIL".into()),
            ("uid", hex(self.rng, 32).into()),
        ]));
        let tactics: Vec<Json> = chosen.iter().map(|c| c.3.into()).collect();
        let high_risk: Vec<Json> = chosen
            .iter()
            .filter(|c| ["CreateAccessKey", "StopLogging", "AttachRolePolicy"].contains(&c.1))
            .map(|c| c.1.into())
            .collect();
        let sequence = Json::obj([
            ("actors", Json::Arr(vec![Json::obj([
                ("id", actor_id.as_str().into()),
                ("session", Json::obj([
                    ("createdTime", Json::Float(first as f64 / 1000.0 - 600.0)),
                    ("issuer", format!("arn:aws:iam::{acct}:role/{role}").into()),
                    ("mfaStatus", "DISABLED".into()),
                    ("uid", session.as_str().into()),
                ])),
                ("user", Json::obj([
                    ("account", Json::obj([("account", self.org.accounts[a].name.as_str().into()), ("uid", acct.as_str().into())])),
                    ("credentialUid", cred.access_key_id.as_str().into()),
                    ("name", role.as_str().into()),
                    ("type", "AssumedRole".into()),
                    ("uid", cred.principal_id.as_str().into()),
                ])),
            ])])),
            ("description", format!("A sequence of actions involving {} potentially compromised AWS credentials was observed in account {acct}.", chosen.len()).into()),
            ("endpoints", Json::Arr(vec![Json::obj([
                ("autonomousSystem", Json::obj([("name", endpoint.geo.asn_org.into()), ("number", endpoint.geo.asn.parse::<i64>().unwrap_or(0).into())])),
                ("id", endpoint_id.as_str().into()),
                ("ip", endpoint.ip.as_str().into()),
                ("location", Json::obj([("city", endpoint.geo.city.into()), ("country", endpoint.geo.country_name.into()), ("lat", endpoint.geo.lat.into()), ("lon", endpoint.geo.lon.into())])),
            ])])),
            ("resources", Json::Arr(vec![Json::obj([
                ("accountId", acct.as_str().into()),
                ("name", cred.access_key_id.as_str().into()),
                ("region", region.into()),
                ("resourceType", "AccessKey".into()),
                ("uid", cred.access_key_id.as_str().into()),
            ])])),
            ("sequenceIndicators", Json::Arr(vec![
                Json::obj([("key", "ATTACK_TACTIC".into()), ("title", "Attack tactic".into()), ("values", Json::Arr(tactics))]),
                Json::obj([("key", "ATTACK_TECHNIQUE".into()), ("title", "Attack technique".into()), ("values", Json::Arr(vec!["Valid Accounts: Cloud Accounts".into(), "Account Discovery: Cloud Account".into(), "Impair Defenses: Disable Cloud Logs".into()]))]),
                Json::obj([("key", "HIGH_RISK_API".into()), ("title", "High risk API".into()), ("values", Json::Arr(high_risk))]),
            ])),
            ("signals", Json::Arr(signals)),
            ("uid", hex(self.rng, 32).into()),
        ]);
        seq.resource_type = "AttackSequence";
        seq.resource.push(("accessKeyDetails", cred.details()));
        seq.feature_name = "CloudTrail";
        seq.resource_role = "TARGET";
        seq.action = Json::obj([]);
        seq.detection = Some(Json::obj([("sequence", sequence)]));
        seq.count = 1;
        seq.first_seen_ms = first;
        seq.last_seen_ms = last;
        seq.created_ms = (last + self.rng.gen_range(60_000..900_000)).min(self.org.now_ms);
        seq.updated_ms = seq.created_ms;
        seq.title = format!(
            "Potential credential compromise of {role} indicated by a sequence of actions."
        );
        seq.description = format!(
            "A sequence of actions involving {} signals indicating a potential misuse of AWS credentials {} was observed for {role} in account {acct}.",
            chosen.len(),
            cred.access_key_id
        );
        let seq_id = seq.id.clone();
        self.drafts.push(seq);
        let mut all_ids = vec![seq_id];
        all_ids.extend(ids);
        self.story(
            ATTACK_SEQUENCE,
            n,
            all_ids,
            &[a],
            &[r],
            &[
                ("accessKeyId", &cred.access_key_id),
                ("principalId", &cred.principal_id),
                ("remoteIp", &endpoint.ip),
                ("sequenceArn", &seq_arn),
            ],
        )
    }

    /// One address probing many instances across accounts (must stay ungrouped).
    fn scanner(&mut self, size: usize) -> Decoy {
        let ip = self.addresses.draw(self.rng, |g| story_ip(g, 71));
        let mut seen = BTreeSet::new();
        let mut ids = Vec::new();
        let mut accounts = BTreeSet::new();
        let accounts_n = self.org.accounts.len();
        let mut i = 0usize;
        while ids.len() < size && i < size * 20 {
            let a = i % accounts_n;
            i += 1;
            let r = self.region();
            let k = self.rng.gen_range(0..RESOURCE_POOL);
            if !seen.insert((a, r, k)) {
                continue;
            }
            let info = if self.rng.gen_bool(0.85) {
                ty("Recon:EC2/PortProbeUnprotectedPort")
            } else {
                ty("Recon:EC2/PortProbeEMRUnprotectedPort")
            };
            let mut d = noise::build(self.org, self.rng, info, a, r, k, false, Some(ip.clone()));
            d.count = self.rng.gen_range(1..4);
            self.org.place_in_time(self.rng, &mut d, None);
            accounts.insert(d.account.clone());
            ids.push(d.id.clone());
            self.drafts.push(d);
        }
        Decoy {
            name: "scanner-ip".into(),
            ip: ip.ip,
            finding_ids: ids,
            accounts: accounts.into_iter().collect(),
        }
    }

    /// One corporate NAT address behind many unrelated API findings across accounts.
    fn shared_nat(&mut self, size: usize) -> Decoy {
        let mut ip = self.addresses.draw(self.rng, |g| story_ip(g, 81));
        ip.geo = Geo {
            country_code: "US",
            country_name: "United States",
            city: "Seattle",
            lat: 47.6062,
            lon: -122.3321,
            asn: "7018",
            asn_org: "ATT-INTERNET4",
            isp: "AT&T Services",
        };
        let types = [
            "Policy:IAMUser/RootCredentialUsage",
            "Discovery:IAMUser/AnomalousBehavior",
            "Stealth:IAMUser/PasswordPolicyChange",
            "InitialAccess:IAMUser/AnomalousBehavior",
            "CredentialAccess:IAMUser/AnomalousBehavior",
        ];
        let mut ids = Vec::new();
        let mut accounts = BTreeSet::new();
        for i in 0..size {
            let a = (i * 7 + self.rng.gen_range(0..3)) % self.org.accounts.len();
            let r = self.region();
            let k = self.rng.gen_range(0..RESOURCE_POOL);
            let info = ty(pick(self.rng, &types));
            let mut d = noise::build(self.org, self.rng, info, a, r, k, false, Some(ip.clone()));
            self.org.place_in_time(self.rng, &mut d, None);
            accounts.insert(d.account.clone());
            ids.push(d.id.clone());
            self.drafts.push(d);
        }
        Decoy {
            name: "shared-nat".into(),
            ip: ip.ip,
            finding_ids: ids,
            accounts: accounts.into_iter().collect(),
        }
    }
}

/// `additionalInfo` of an anomaly-detection finding (raw keys; `value` is added on render).
fn anomaly_info(api: &str, user: &str) -> Vec<(&'static str, Json)> {
    vec![
        (
            "anomalies",
            Json::obj([("anomalousAPIs", Json::Arr(vec![api.into()]))]),
        ),
        (
            "profiledBehavior",
            Json::obj([("rareProfiledUserNames", Json::Arr(vec![user.into()]))]),
        ),
        (
            "unusualBehavior",
            Json::obj([("isAnomalousApi", true.into())]),
        ),
    ]
}

/// Plans the stories and decoys for `total` records: drafts (unplaced) and the truth.
pub fn plan(org: &Org, rng: &mut ChaCha8Rng, total: usize) -> (Vec<Draft>, Truth) {
    let mut planner = Planner {
        org,
        rng,
        addresses: Addresses {
            used: BTreeSet::new(),
            overflow: 0,
        },
        drafts: Vec::new(),
    };
    let mut truth = Truth {
        seed: org.seed,
        stories: Vec::new(),
        decoys: Vec::new(),
    };
    let rounds = (total / RECORDS_PER_STORY).max(1);
    // Stories use at most half the records: tiny runs get fewer (or none).
    let budget = total / 2;
    'rounds: for n in 1..=rounds {
        for kind in crate::STORY_KINDS {
            if planner.drafts.len() + 6 > budget {
                break 'rounds;
            }
            let story = match kind {
                EC2_SSH => planner.ec2_ssh(n),
                IAM_TOR => planner.iam_tor(n),
                EKS_MINER => planner.eks_miner(n),
                EC2_CRYPTO => planner.ec2_crypto(n),
                RDS_BRUTE_FORCE => planner.rds_brute_force(n),
                CROSS_ACCOUNT_KEY => planner.cross_account_key(n),
                MULTI_ACCOUNT_IP => planner.multi_account_ip(n),
                other => planner.sequence_story(other, n),
            };
            truth.stories.push(story);
        }
    }
    let scanner = (total / 50).min(400);
    if scanner > 0 {
        truth.decoys.push(planner.scanner(scanner));
    }
    let nat = (total / 100).min(200);
    if nat > 0 {
        truth.decoys.push(planner.shared_nat(nat));
    }
    (planner.drafts, truth)
}

/// Story kinds added with finding groups v2.
pub const RDS_BRUTE_FORCE: &str = "rds-brute-force-login";
pub const CROSS_ACCOUNT_KEY: &str = "cross-account-stolen-key";
pub const MULTI_ACCOUNT_IP: &str = "one-address-several-accounts";
pub const SEQUENCE_S3: &str = "attack-sequence-compromised-data";
pub const SEQUENCE_EKS: &str = "attack-sequence-eks-compromised-cluster";
pub const SEQUENCE_ECS: &str = "attack-sequence-ecs-compromised-cluster";
pub const SEQUENCE_EC2: &str = "attack-sequence-compromised-instance-group";

/// What a sequence story hands to [`Planner::sequence`]: its members are the last
/// `members` drafts.
struct SequencePlan<'a> {
    kind: &'static str,
    finding_type: &'static str,
    a: usize,
    r: usize,
    members: usize,
    /// Signal types of the non-finding signals (CLOUD_TRAIL, S3_DATA_EVENTS, …) with their name.
    raw_signals: Vec<(&'static str, String)>,
    actor: Json,
    actor_id: String,
    resources: Vec<Json>,
    endpoint: &'a RemoteIp,
    endpoint_id: String,
    /// (key, title, values) besides ATTACK_TACTIC.
    indicators: Vec<(&'static str, &'static str, Vec<String>)>,
    tactics: Vec<&'static str>,
    additional_types: Vec<&'static str>,
    resource_uid: String,
    title: String,
    description: String,
    entities: Vec<(&'static str, String)>,
}

impl Planner<'_> {
    /// Two different accounts (the same one when the org has one).
    fn two_accounts(&mut self) -> (usize, usize) {
        let a = self.account();
        let n = self.org.accounts.len();
        let b = if n > 1 {
            (a + 1 + self.rng.gen_range(0..n - 1)) % n
        } else {
            a
        };
        (a, b)
    }

    /// f) Failed logins to an RDS database, then a successful one from the same address: one
    /// tactic (Credential Access), an escalating outcome.
    fn rds_brute_force(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let region = self.org.regions[r];
        let db = format!(
            "{}-db-{}",
            pick(self.rng, &["customers", "payments", "ledger", "inventory"]),
            hex(self.rng, 6)
        );
        let db_arn = format!("arn:aws:rds:{region}:{acct}:db:{db}");
        let x = self.addresses.draw(self.rng, |g| story_ip(g, 45));
        let user = pick(self.rng, &["postgres", "admin", "root"]);
        let (attempts, outcome): (&[&str], &str) = match self.rng.gen_range(0..3) {
            0 => (
                &["CredentialAccess:RDS/AnomalousBehavior.FailedLogin"],
                "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
            ),
            1 => (
                &["CredentialAccess:RDS/MaliciousIPCaller.FailedLogin"],
                "CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin",
            ),
            _ => (
                &["CredentialAccess:RDS/TorIPCaller.FailedLogin"],
                "CredentialAccess:RDS/TorIPCaller.SuccessfulLogin",
            ),
        };
        let details = Json::obj([
            ("dbClusterIdentifier", format!("{db}-cluster").into()),
            ("dbInstanceArn", db_arn.as_str().into()),
            ("dbInstanceIdentifier", db.as_str().into()),
            ("engine", "aurora-postgresql".into()),
            ("engineVersion", "15.4".into()),
        ]);
        let user_details = Json::obj([
            ("application", "psql".into()),
            ("authMethod", "PASSWORD".into()),
            ("database", "app".into()),
            ("ssl", "ssl".into()),
            ("user", user.into()),
        ]);
        let mut t = self.start();
        let mut ids = Vec::new();
        let steps: Vec<(&str, bool)> = attempts
            .iter()
            .map(|s| (*s, false))
            .chain([(outcome, true)])
            .collect();
        for (name, success) in steps {
            // Severity from the catalog: Low or Medium attempts, a High success.
            let mut d = self.draft(ty(name), a, r);
            d.resource_type = "RDSDBInstance";
            d.resource.push(("rdsDbInstanceDetails", details.clone()));
            d.resource.push(("rdsDbUserDetails", user_details.clone()));
            d.feature_name = "RdsLoginEvents";
            d.resource_role = "TARGET";
            let failed = if success {
                self.rng.gen_range(0..20)
            } else {
                self.rng.gen_range(50..900)
            };
            d.action = actions::rds_login(&x, user, failed, u64::from(success));
            let count = if success { 1..3 } else { 20..300 };
            let (id, last) = self.finish(d, t, count, "RDS DB instance", &db, Some(&x.ip));
            ids.push(id);
            t = (last + self.rng.gen_range(HOUR / 6..2 * HOUR)).min(self.org.now_ms - HOUR);
        }
        self.story(
            RDS_BRUTE_FORCE,
            n,
            ids,
            &[a],
            &[r],
            &[("dbInstance", &db_arn), ("remoteIp", &x.ip)],
        )
    }

    /// g) An instance's credentials stolen in account A and used from account B against B's
    /// bucket: linked across accounts through the access key.
    fn cross_account_key(&mut self, n: usize) -> Story {
        let (a, b) = self.two_accounts();
        let r = self.region();
        let acct_a = self.org.accounts[a].id.clone();
        let acct_b = self.org.accounts[b].id.clone();
        let inst = Instance::derive(self.rng, &acct_a, self.org.regions[r], self.org.now_ms);
        let cred = AccessKey {
            access_key_id: format!("ASIA{}", upper(self.rng, 16)),
            principal_id: format!("AROA{}:{}", upper(self.rng, 17), inst.id),
            user_name: inst.profile_name.clone(),
            user_type: "AssumedRole",
        };
        let bucket = Bucket::derive(self.rng, &self.org.accounts[b].name, self.org.now_ms);
        let x = self.addresses.draw(self.rng, |g| story_ip(g, 52));
        let agent = pick(self.rng, STORY_AGENTS);
        let mut t = self.start();
        let mut ids = Vec::new();

        let mut d = self.draft(
            ty("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"),
            a,
            r,
        );
        d.severity = 8.0;
        d.resource_type = "AccessKey";
        d.resource.push(("accessKeyDetails", cred.details()));
        d.resource.push(("instanceDetails", inst.details()));
        d.feature_name = "CloudTrail";
        d.resource_role = "TARGET";
        d.action = actions::api_call(
            "GetCallerIdentity",
            "sts.amazonaws.com",
            agent,
            &x,
            Some(&acct_b),
        );
        let (id, last) = self.finish(
            d,
            t,
            1..6,
            "credentials of",
            &cred.access_key_id,
            Some(&x.ip),
        );
        ids.push(id);
        t = (last + self.rng.gen_range(HOUR / 2..3 * HOUR)).min(self.org.now_ms - 2 * HOUR);
        for (name, api) in [
            ("Discovery:S3/AnomalousBehavior", "ListObjects"),
            ("Exfiltration:S3/AnomalousBehavior", "GetObject"),
        ] {
            let mut d = self.draft(ty(name), b, r);
            d.resource_type = "S3Bucket";
            d.resource.push(("accessKeyDetails", cred.details()));
            d.resource.push((
                "s3BucketDetails",
                Json::Arr(vec![bucket.details(&acct_b, false)]),
            ));
            d.feature_name = "S3DataEvents";
            d.resource_role = "TARGET";
            d.action = actions::api_call(api, "s3.amazonaws.com", agent, &x, Some(&acct_a));
            d.additional_info = anomaly_info(api, &cred.user_name);
            let (id, last) = self.finish(d, t, 5..400, "S3 bucket", &bucket.name, Some(&x.ip));
            ids.push(id);
            t = (last + self.rng.gen_range(HOUR / 4..2 * HOUR)).min(self.org.now_ms - HOUR);
        }
        self.story(
            CROSS_ACCOUNT_KEY,
            n,
            ids,
            &[a, b],
            &[r],
            &[
                ("accessKeyId", &cred.access_key_id),
                ("bucket", &bucket.name),
                ("remoteIp", &x.ip),
            ],
        )
    }

    /// h) One attacker address working through a few accounts within hours (different
    /// credentials in each): linked only through the address.
    fn multi_account_ip(&mut self, n: usize) -> Story {
        let count = self.org.accounts.len().clamp(1, 3);
        let first = self.account();
        let accounts: Vec<usize> = (0..count)
            .map(|i| (first + i * 7) % self.org.accounts.len())
            .collect();
        let r = self.region();
        let x = self.addresses.draw(self.rng, |g| story_ip(g, 132));
        let agent = pick(self.rng, STORY_AGENTS);
        let mut t = self.start();
        let mut ids = Vec::new();
        let mut keys = Vec::new();
        for (i, &a) in accounts.iter().enumerate() {
            let cred = AccessKey {
                access_key_id: format!("AKIA{}", upper(self.rng, 16)),
                principal_id: format!("AIDA{}", upper(self.rng, 17)),
                user_name: format!("deploy-{}", hex(self.rng, 4)),
                user_type: "IAMUser",
            };
            let steps: &[(&str, &str, &str)] = if i == 0 {
                &[
                    (
                        "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
                        "GetCallerIdentity",
                        "sts.amazonaws.com",
                    ),
                    (
                        "Discovery:IAMUser/AnomalousBehavior",
                        "ListUsers",
                        "iam.amazonaws.com",
                    ),
                ]
            } else {
                &[(
                    "CredentialAccess:IAMUser/AnomalousBehavior",
                    "GetSecretValue",
                    "secretsmanager.amazonaws.com",
                )]
            };
            for (name, api, service) in steps {
                let mut d = self.draft(ty(name), a, r);
                d.resource_type = "AccessKey";
                d.resource.push(("accessKeyDetails", cred.details()));
                d.feature_name = "CloudTrail";
                d.resource_role = "TARGET";
                d.action = actions::api_call(api, service, agent, &x, None);
                if name.contains("AnomalousBehavior") {
                    d.additional_info = anomaly_info(api, &cred.user_name);
                }
                let (id, last) = self.finish(
                    d,
                    t,
                    1..4,
                    "credentials of",
                    &cred.access_key_id,
                    Some(&x.ip),
                );
                ids.push(id);
                // Each step starts at most 2 h after the previous one started: neighbours stay
                // well within the medium window (6 h) whatever the previous step's duration.
                let _ = last;
                t = (t + self.rng.gen_range(HOUR / 6..2 * HOUR)).min(self.org.now_ms - HOUR);
            }
            keys.push(cred.access_key_id);
        }
        let mut entities: Vec<(&str, &str)> = vec![("remoteIp", &x.ip)];
        entities.extend(keys.iter().map(|k| ("accessKeyId", k.as_str())));
        self.story(MULTI_ACCOUNT_IP, n, ids, &accounts, &[r], &entities)
    }

    /// The attack sequence of one of the five types, its member findings planted by the caller.
    fn sequence_story(&mut self, kind: &str, n: usize) -> Story {
        match kind {
            SEQUENCE_S3 => self.sequence_s3(n),
            SEQUENCE_EKS => self.sequence_eks(n),
            SEQUENCE_ECS => self.sequence_ecs(n),
            SEQUENCE_EC2 => self.sequence_ec2(n),
            _ => self.attack_sequence(n),
        }
    }

    /// One member of a sequence: resources pushed, action set, placed at `t`; returns its
    /// last seen.
    #[allow(clippy::too_many_arguments)]
    fn sequence_member(
        &mut self,
        name: &str,
        a: usize,
        r: usize,
        seq_arn: &str,
        t: i64,
        setup: impl FnOnce(&mut Draft),
        kind: &str,
        key: &str,
        remote: Option<&str>,
    ) -> i64 {
        let mut d = self.draft(ty(name), a, r);
        setup(&mut d);
        d.associated_sequence_arn = Some(seq_arn.to_string());
        let (_, last) = self.finish(d, t, 1..6, kind, key, remote);
        last
    }

    fn next_step(&mut self, last: i64) -> i64 {
        (last + self.rng.gen_range(HOUR / 4..3 * HOUR)).min(self.org.now_ms - HOUR)
    }

    /// S3/CompromisedData: credentials list, read and delete a bucket's objects.
    fn sequence_s3(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let mut seq = self.draft(ty("AttackSequence:S3/CompromisedData"), a, r);
        let seq_arn = seq.arn();
        let bucket = Bucket::derive(self.rng, &self.org.accounts[a].name, self.org.now_ms);
        let role = format!("DataPipeline-{}", hex(self.rng, 4));
        let cred = AccessKey {
            access_key_id: format!("ASIA{}", upper(self.rng, 16)),
            principal_id: format!("AROA{}:{}", upper(self.rng, 17), hex(self.rng, 8)),
            user_name: role.clone(),
            user_type: "AssumedRole",
        };
        let x = self.addresses.draw(self.rng, tor_ip);
        let agent = pick(self.rng, STORY_AGENTS);
        let steps = [
            ("Discovery:S3/AnomalousBehavior", "ListObjects"),
            ("Exfiltration:S3/AnomalousBehavior", "GetObject"),
            ("Impact:S3/AnomalousBehavior.Delete", "DeleteObjects"),
        ];
        let mut t = self.start();
        for (name, api) in steps {
            let details = cred.details();
            let b = bucket.details(&acct, false);
            let action = actions::api_call(api, "s3.amazonaws.com", agent, &x, None);
            let info = anomaly_info(api, &role);
            let last = self.sequence_member(
                name,
                a,
                r,
                &seq_arn,
                t,
                |d| {
                    d.resource_type = "S3Bucket";
                    d.resource.push(("accessKeyDetails", details));
                    d.resource.push(("s3BucketDetails", Json::Arr(vec![b])));
                    d.feature_name = "S3DataEvents";
                    d.resource_role = "TARGET";
                    d.action = action;
                    d.additional_info = info;
                },
                "S3 bucket",
                &bucket.name,
                Some(&x.ip),
            );
            t = self.next_step(last);
        }
        seq.resource_type = "AttackSequence";
        seq.resource.push(("accessKeyDetails", cred.details()));
        seq.resource.push((
            "s3BucketDetails",
            Json::Arr(vec![bucket.details(&acct, false)]),
        ));
        let actor_id = hex(self.rng, 32);
        let plan = SequencePlan {
            kind: SEQUENCE_S3,
            finding_type: "AttackSequence:S3/CompromisedData",
            a,
            r,
            members: steps.len(),
            raw_signals: vec![
                ("S3_DATA_EVENTS", "DeleteObjects".to_string()),
                ("CLOUD_TRAIL", "PutBucketLogging".to_string()),
            ],
            actor: actor_json(&actor_id, &acct, &role, &cred),
            actor_id,
            resources: vec![resource_json(
                &format!("arn:aws:s3:::{}", bucket.name),
                &bucket.name,
                &acct,
                "S3Bucket",
                self.org.regions[r],
            )],
            endpoint: &x,
            endpoint_id: hex(self.rng, 32),
            indicators: vec![
                ("TOR_IP", "Tor exit node", vec![x.ip.clone()]),
                (
                    "HIGH_RISK_API",
                    "High risk API",
                    vec!["DeleteObjects".into(), "PutBucketLogging".into()],
                ),
                (
                    "ATTACK_TECHNIQUE",
                    "Attack technique",
                    vec![
                        "Data from Cloud Storage".into(),
                        "Data Destruction".into(),
                        "Transfer Data to Cloud Account".into(),
                    ],
                ),
                (
                    "SENSITIVE_DATA",
                    "Sensitive data",
                    vec![format!("s3://{}/exports/", bucket.name)],
                ),
            ],
            tactics: vec!["Discovery", "Exfiltration", "Impact"],
            additional_types: vec!["AttackSequence:IAM/CompromisedCredentials"],
            resource_uid: bucket.name.clone(),
            title: format!(
                "Potential data compromise of S3 bucket {} indicated by a sequence of actions.",
                bucket.name
            ),
            description: format!(
                "A sequence of actions indicating potential data compromise of S3 bucket {} was observed in account {acct}.",
                bucket.name
            ),
            entities: vec![
                ("bucket", bucket.name.clone()),
                ("accessKeyId", cred.access_key_id.clone()),
                ("remoteIp", x.ip.clone()),
            ],
        };
        self.sequence(seq, plan, n)
    }

    /// EKS/CompromisedCluster: anonymous access, exec into a pod, a miner in it.
    fn sequence_eks(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let mut seq = self.draft(ty("AttackSequence:EKS/CompromisedCluster"), a, r);
        let seq_arn = seq.arn();
        let w = EksWorkload::derive(
            self.rng,
            &acct,
            self.org.regions[r],
            self.org.now_ms,
            "default",
        );
        let z = self.addresses.draw(self.rng, |g| story_ip(g, 104));
        let anonymous = Json::obj([
            ("groups", Json::Arr(vec!["system:unauthenticated".into()])),
            ("uid", "".into()),
            ("username", "system:anonymous".into()),
        ]);
        let mut t = self.start();
        let steps = [
            "Discovery:Kubernetes/SuccessfulAnonymousAccess",
            "Execution:Kubernetes/ExecInKubeSystemPod",
            "CryptoCurrency:Runtime/BitcoinTool.B",
        ];
        for (i, name) in steps.iter().enumerate() {
            let (cd, wd, user) = (
                w.cluster_details(),
                w.workload_details(&w.image),
                anonymous.clone(),
            );
            let container = w.container_details(&w.image);
            let action = if i < 2 {
                actions::kubernetes_call(
                    "/api/v1/namespaces/default/pods",
                    if i == 0 { "list" } else { "create" },
                    "curl/7.88.1",
                    &z,
                    200,
                )
            } else {
                Json::obj([])
            };
            let runtime = (i == 2)
                .then(|| actions::runtime_details(self.rng, "xmrig", "/tmp/.x/xmrig", Some(&z)));
            let last = self.sequence_member(
                name,
                a,
                r,
                &seq_arn,
                t,
                |d| {
                    d.resource_type = "EKSCluster";
                    if i == 2 {
                        d.resource.push(("containerDetails", container));
                    }
                    d.resource.push(("eksClusterDetails", cd));
                    let mut k = vec![("kubernetesWorkloadDetails", wd)];
                    if i < 2 {
                        k.insert(0, ("kubernetesUserDetails", user));
                    }
                    d.resource.push(("kubernetesDetails", Json::Obj(k)));
                    d.feature_name = if i < 2 {
                        "EksAuditLogs"
                    } else {
                        "RuntimeMonitoring"
                    };
                    d.resource_role = if i < 2 { "TARGET" } else { "ACTOR" };
                    d.action = action;
                    d.runtime_details = runtime;
                },
                "EKS cluster",
                &w.cluster,
                (i < 2).then_some(z.ip.as_str()),
            );
            t = self.next_step(last);
        }
        seq.resource_type = "AttackSequence";
        seq.resource
            .push(("eksClusterDetails", w.cluster_details()));
        let actor_id = hex(self.rng, 32);
        let actor = Json::obj([
            ("id", actor_id.as_str().into()),
            (
                "user",
                Json::obj([
                    ("name", "system:anonymous".into()),
                    ("type", "KubernetesUser".into()),
                    ("uid", "system:anonymous".into()),
                ]),
            ),
        ]);
        let plan = SequencePlan {
            kind: SEQUENCE_EKS,
            finding_type: "AttackSequence:EKS/CompromisedCluster",
            a,
            r,
            members: steps.len(),
            raw_signals: vec![
                ("EKS_AUDIT_LOGS", "create pods/exec".to_string()),
                ("RUNTIME_MONITORING", "xmrig".to_string()),
            ],
            actor,
            actor_id,
            resources: vec![resource_json(
                &w.cluster_arn,
                &w.cluster,
                &acct,
                "EKSCluster",
                self.org.regions[r],
            )],
            endpoint: &z,
            endpoint_id: hex(self.rng, 32),
            indicators: vec![
                ("MALICIOUS_IP", "Malicious IP", vec![z.ip.clone()]),
                (
                    "ATTACK_TECHNIQUE",
                    "Attack technique",
                    vec![
                        "Container Administration Command".into(),
                        "Resource Hijacking".into(),
                    ],
                ),
                (
                    "CRYPTOMINING_PROCESS",
                    "Cryptomining process",
                    vec!["xmrig".into()],
                ),
                (
                    "MALICIOUS_PACKAGE",
                    "Malicious package",
                    vec![format!("{}:latest", w.image)],
                ),
            ],
            tactics: vec!["Discovery", "Execution", "Impact"],
            additional_types: vec![],
            resource_uid: w.cluster_arn.clone(),
            title: format!(
                "Potential compromise of EKS cluster {} indicated by a sequence of actions.",
                w.cluster
            ),
            description: format!(
                "A sequence of actions indicating a potential compromise of EKS cluster {} was observed in account {acct}.",
                w.cluster
            ),
            entities: vec![
                ("eksCluster", w.cluster.clone()),
                ("remoteIp", z.ip.clone()),
            ],
        };
        self.sequence(seq, plan, n)
    }

    /// ECS/CompromisedCluster: a new binary, a miner and C&C traffic in one task.
    fn sequence_ecs(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let region = self.org.regions[r];
        let mut seq = self.draft(ty("AttackSequence:ECS/CompromisedCluster"), a, r);
        let seq_arn = seq.arn();
        let cluster = format!("{}-svc-{}", self.org.accounts[a].name, hex(self.rng, 6));
        let cluster_arn = format!("arn:aws:ecs:{region}:{acct}:cluster/{cluster}");
        let image = format!(
            "{acct}.dkr.ecr.{region}.amazonaws.com/api:{}",
            hex(self.rng, 7)
        );
        let container = Json::obj([
            ("containerRuntime", "docker".into()),
            ("id", hex(self.rng, 64).into()),
            ("image", image.as_str().into()),
            ("name", "api".into()),
        ]);
        let task_arn = format!(
            "arn:aws:ecs:{region}:{acct}:task/{cluster}/{}",
            hex(self.rng, 32)
        );
        let ecs = Json::obj([
            ("arn", cluster_arn.as_str().into()),
            ("name", cluster.as_str().into()),
            ("status", "ACTIVE".into()),
            (
                "taskDetails",
                Json::obj([
                    ("arn", task_arn.as_str().into()),
                    ("containers", Json::Arr(vec![container.clone()])),
                    (
                        "definitionArn",
                        format!("arn:aws:ecs:{region}:{acct}:task-definition/api:3").into(),
                    ),
                ]),
            ),
        ]);
        let pool = self.addresses.draw(self.rng, |g| story_ip(g, 93));
        let steps = [
            ("Execution:Runtime/NewBinaryExecuted", "kworkerds"),
            ("CryptoCurrency:Runtime/BitcoinTool.B", "kworkerds"),
            ("Backdoor:Runtime/C&CActivity.B", "kworkerds"),
        ];
        let mut t = self.start();
        for (name, process) in steps {
            let (c, e) = (container.clone(), ecs.clone());
            let runtime =
                actions::runtime_details(self.rng, process, "/var/tmp/kworkerds", Some(&pool));
            let last = self.sequence_member(
                name,
                a,
                r,
                &seq_arn,
                t,
                |d| {
                    d.resource_type = "ECSCluster";
                    d.resource.push(("containerDetails", c));
                    d.resource.push(("ecsClusterDetails", e));
                    d.feature_name = "RuntimeMonitoring";
                    d.resource_role = "ACTOR";
                    d.action = Json::obj([]);
                    d.runtime_details = Some(runtime);
                },
                "ECS cluster",
                &cluster,
                None,
            );
            t = self.next_step(last);
        }
        seq.resource_type = "AttackSequence";
        seq.resource.push(("ecsClusterDetails", ecs));
        let actor_id = hex(self.rng, 32);
        let actor = Json::obj([
            ("id", actor_id.as_str().into()),
            (
                "process",
                Json::obj([
                    ("name", "kworkerds".into()),
                    ("path", "/var/tmp/kworkerds".into()),
                ]),
            ),
        ]);
        let plan = SequencePlan {
            kind: SEQUENCE_ECS,
            finding_type: "AttackSequence:ECS/CompromisedCluster",
            a,
            r,
            members: steps.len(),
            raw_signals: vec![("RUNTIME_MONITORING", "kworkerds".to_string())],
            actor,
            actor_id,
            resources: vec![resource_json(
                &cluster_arn,
                &cluster,
                &acct,
                "ECSCluster",
                region,
            )],
            endpoint: &pool,
            endpoint_id: hex(self.rng, 32),
            indicators: vec![
                ("MALICIOUS_IP", "Malicious IP", vec![pool.ip.clone()]),
                (
                    "CRYPTOMINING_IP",
                    "Cryptomining IP",
                    vec![pool.ip.clone()],
                ),
                (
                    "MALICIOUS_FILE",
                    "Malicious file",
                    vec!["/var/tmp/kworkerds".into()],
                ),
                (
                    "VULNERABILITY",
                    "Vulnerability",
                    vec!["CVE-2021-44228".into()],
                ),
                (
                    "ATTACK_TECHNIQUE",
                    "Attack technique",
                    vec!["Resource Hijacking".into(), "Application Layer Protocol".into()],
                ),
            ],
            tactics: vec!["Execution", "Command and Control", "Impact"],
            additional_types: vec![],
            resource_uid: cluster_arn.clone(),
            title: format!(
                "Potential compromise of ECS cluster {cluster} indicated by a sequence of actions."
            ),
            description: format!(
                "A sequence of actions indicating a potential compromise of ECS cluster {cluster} was observed in account {acct}."
            ),
            entities: vec![("ecsCluster", cluster.clone()), ("remoteIp", pool.ip.clone())],
        };
        self.sequence(seq, plan, n)
    }

    /// EC2/CompromisedInstanceGroup: several instances of one group mining and calling C&C.
    fn sequence_ec2(&mut self, n: usize) -> Story {
        let (a, r) = (self.account(), self.region());
        let acct = self.org.accounts[a].id.clone();
        let region = self.org.regions[r];
        let mut seq = self.draft(ty("AttackSequence:EC2/CompromisedInstanceGroup"), a, r);
        let seq_arn = seq.arn();
        let size = self.rng.gen_range(2..=3usize);
        let instances: Vec<Instance> = (0..size)
            .map(|_| Instance::derive(self.rng, &acct, region, self.org.now_ms))
            .collect();
        let c2 = format!(
            "{}.{}",
            hex(self.rng, 10),
            pick(self.rng, &["ddns.net", "duckdns.org"])
        );
        let sink = self.addresses.draw(self.rng, |g| story_ip(g, 93));
        let mut t = self.start();
        let mut members = 0;
        for inst in &instances {
            for name in [
                "CryptoCurrency:EC2/BitcoinTool.B!DNS",
                "Backdoor:EC2/C&CActivity.B!DNS",
            ] {
                let details = inst.details();
                let action = actions::dns_request(&c2);
                let last = self.sequence_member(
                    name,
                    a,
                    r,
                    &seq_arn,
                    t,
                    |d| {
                        d.resource_type = "Instance";
                        d.resource.push(("instanceDetails", details));
                        d.feature_name = "DnsLogs";
                        d.resource_role = "ACTOR";
                        d.action = action;
                    },
                    "EC2 instance",
                    &inst.id,
                    None,
                );
                members += 1;
                t = (t + self.rng.gen_range(HOUR / 6..HOUR)).min(last.max(t));
            }
        }
        seq.resource_type = "AttackSequence";
        seq.resource
            .push(("instanceDetails", instances[0].details()));
        let actor_id = hex(self.rng, 32);
        let actor = Json::obj([
            ("id", actor_id.as_str().into()),
            (
                "process",
                Json::obj([("name", "xmrig".into()), ("path", "/tmp/xmrig".into())]),
            ),
        ]);
        let resources = instances
            .iter()
            .map(|i| {
                resource_json(
                    &format!("arn:aws:ec2:{region}:{acct}:instance/{}", i.id),
                    &i.id,
                    &acct,
                    "Instance",
                    region,
                )
            })
            .collect();
        let mut entities: Vec<(&str, String)> = instances
            .iter()
            .map(|i| ("instanceId", i.id.clone()))
            .collect();
        entities.push(("domain", c2.clone()));
        let plan = SequencePlan {
            kind: SEQUENCE_EC2,
            finding_type: "AttackSequence:EC2/CompromisedInstanceGroup",
            a,
            r,
            members,
            raw_signals: vec![
                ("DNS_LOGS", c2.clone()),
                ("FLOW_LOGS", sink.ip.clone()),
            ],
            actor,
            actor_id,
            resources,
            endpoint: &sink,
            endpoint_id: hex(self.rng, 32),
            indicators: vec![
                ("CRYPTOMINING_DOMAIN", "Cryptomining domain", vec![c2.clone()]),
                ("MALICIOUS_IP", "Malicious IP", vec![sink.ip.clone()]),
                (
                    "ATTACK_TECHNIQUE",
                    "Attack technique",
                    vec!["Resource Hijacking".into(), "Dynamic Resolution".into()],
                ),
            ],
            tactics: vec!["Command and Control", "Impact"],
            additional_types: vec![],
            resource_uid: instances[0].id.clone(),
            title: format!(
                "Potential compromise of {size} EC2 instances indicated by a sequence of actions."
            ),
            description: format!(
                "A sequence of actions indicating a potential compromise of a group of {size} EC2 instances was observed in account {acct}."
            ),
            entities,
        };
        self.sequence(seq, plan, n)
    }

    /// Completes a sequence finding from its plan and the last `plan.members` drafts.
    fn sequence(&mut self, mut seq: Draft, plan: SequencePlan<'_>, n: usize) -> Story {
        let start = self.drafts.len() - plan.members;
        let member_ids: Vec<String> = self.drafts[start..].iter().map(|d| d.id.clone()).collect();
        let mut signals: Vec<Json> = self.drafts[start..]
            .iter()
            .map(|m| {
                Json::obj([
                    ("actorIds", Json::Arr(vec![plan.actor_id.as_str().into()])),
                    ("count", m.count.into()),
                    ("createdAt", Json::Float(m.created_ms as f64 / 1000.0)),
                    ("description", m.title.as_str().into()),
                    (
                        "endpointIds",
                        Json::Arr(vec![plan.endpoint_id.as_str().into()]),
                    ),
                    ("firstSeenAt", Json::Float(m.first_seen_ms as f64 / 1000.0)),
                    ("lastSeenAt", Json::Float(m.last_seen_ms as f64 / 1000.0)),
                    ("name", m.finding_type.into()),
                    (
                        "resourceUids",
                        Json::Arr(vec![plan.resource_uid.as_str().into()]),
                    ),
                    ("severity", m.severity.into()),
                    ("type", "FINDING".into()),
                    ("uid", m.arn().into()),
                    ("updatedAt", Json::Float(m.updated_ms as f64 / 1000.0)),
                ])
            })
            .collect();
        let first = self.drafts[start..]
            .iter()
            .map(|d| d.first_seen_ms)
            .min()
            .unwrap_or(self.org.now_ms);
        let last = self.drafts[start..]
            .iter()
            .map(|d| d.last_seen_ms)
            .max()
            .unwrap_or(first);
        for (signal_type, name) in &plan.raw_signals {
            signals.push(Json::obj([
                ("actorIds", Json::Arr(vec![plan.actor_id.as_str().into()])),
                ("count", 1u64.into()),
                ("firstSeenAt", Json::Float(last as f64 / 1000.0)),
                ("lastSeenAt", Json::Float(last as f64 / 1000.0)),
                ("name", name.as_str().into()),
                (
                    "resourceUids",
                    Json::Arr(vec![plan.resource_uid.as_str().into()]),
                ),
                (
                    "signalIndicators",
                    Json::Arr(vec![Json::obj([
                        ("key", "ATTACK_TACTIC".into()),
                        ("title", "Attack tactic".into()),
                        (
                            "values",
                            Json::Arr(vec![plan
                                .tactics
                                .last()
                                .copied()
                                .unwrap_or("Impact")
                                .into()]),
                        ),
                    ])]),
                ),
                ("type", (*signal_type).into()),
                ("uid", hex(self.rng, 32).into()),
            ]));
        }
        let mut indicators = vec![Json::obj([
            ("key", "ATTACK_TACTIC".into()),
            ("title", "Attack tactic".into()),
            (
                "values",
                Json::Arr(plan.tactics.iter().map(|t| (*t).into()).collect()),
            ),
        ])];
        for (key, title, values) in &plan.indicators {
            indicators.push(Json::obj([
                ("key", (*key).into()),
                ("title", (*title).into()),
                (
                    "values",
                    Json::Arr(values.iter().map(|v| v.as_str().into()).collect()),
                ),
            ]));
        }
        let e = plan.endpoint;
        let mut sequence = vec![
            ("actors", Json::Arr(vec![plan.actor.clone()])),
            ("description", plan.description.as_str().into()),
            (
                "endpoints",
                Json::Arr(vec![Json::obj([
                    (
                        "autonomousSystem",
                        Json::obj([
                            ("name", e.geo.asn_org.into()),
                            ("number", e.geo.asn.parse::<i64>().unwrap_or(0).into()),
                        ]),
                    ),
                    ("id", plan.endpoint_id.as_str().into()),
                    ("ip", e.ip.as_str().into()),
                    (
                        "location",
                        Json::obj([
                            ("city", e.geo.city.into()),
                            ("country", e.geo.country_name.into()),
                            ("lat", e.geo.lat.into()),
                            ("lon", e.geo.lon.into()),
                        ]),
                    ),
                ])]),
            ),
            ("resources", Json::Arr(plan.resources.clone())),
            ("sequenceIndicators", Json::Arr(indicators)),
            ("signals", Json::Arr(signals)),
            ("uid", hex(self.rng, 32).into()),
        ];
        if !plan.additional_types.is_empty() {
            sequence.insert(
                0,
                (
                    "additionalSequenceTypes",
                    Json::Arr(plan.additional_types.iter().map(|t| (*t).into()).collect()),
                ),
            );
        }
        seq.severity = pick(self.rng, &[9.0, 9.5, 10.0]);
        seq.feature_name = "CloudTrail";
        seq.resource_role = "TARGET";
        seq.action = Json::obj([]);
        seq.detection = Some(Json::obj([("sequence", Json::Obj(sequence))]));
        seq.count = 1;
        seq.first_seen_ms = first;
        seq.last_seen_ms = last;
        seq.created_ms = (last + self.rng.gen_range(60_000..900_000)).min(self.org.now_ms);
        seq.updated_ms = seq.created_ms;
        seq.title = plan.title.clone();
        seq.description = plan.description.clone();
        debug_assert_eq!(seq.finding_type, plan.finding_type);
        let seq_arn = seq.arn();
        let mut ids = vec![seq.id.clone()];
        self.drafts.push(seq);
        ids.extend(member_ids);
        let mut entities: Vec<(&str, &str)> = plan
            .entities
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        entities.push(("sequenceArn", &seq_arn));
        self.story(plan.kind, n, ids, &[plan.a], &[plan.r], &entities)
    }
}

/// A sequence actor for a credential (IAM and S3 sequences).
fn actor_json(id: &str, account: &str, role: &str, cred: &AccessKey) -> Json {
    Json::obj([
        ("id", id.into()),
        (
            "session",
            Json::obj([
                ("mfaStatus", "DISABLED".into()),
                ("uid", cred.principal_id.as_str().into()),
            ]),
        ),
        (
            "user",
            Json::obj([
                ("account", Json::obj([("uid", account.into())])),
                ("credentialUid", cred.access_key_id.as_str().into()),
                ("name", role.into()),
                ("type", "AssumedRole".into()),
                ("uid", cred.principal_id.as_str().into()),
            ]),
        ),
    ])
}

/// A sequence resource.
fn resource_json(uid: &str, name: &str, account: &str, kind: &str, region: &str) -> Json {
    Json::obj([
        ("accountId", account.into()),
        ("name", name.into()),
        ("region", region.into()),
        ("resourceType", kind.into()),
        ("uid", uid.into()),
    ])
}

/// Amazon Detective investigations of the principals behind the credential stories (Tor
/// misuse, a key stolen across accounts, IAM attack sequences), in the fixture's shape:
/// GetInvestigation fields, `Indicators` (ListIndicators objects) and `GraphArn`. Each names the
/// story's findings (RELATED_FINDING with the finding ARN), its address (FLAGGED_IP_ADDRESS)
/// and a Detective finding group (RELATED_FINDING_GROUP).
pub fn investigations(drafts: &[Draft], truth: &Truth) -> Vec<serde_json::Value> {
    use serde_json::json;
    let by_id: BTreeMap<&str, &Draft> = drafts.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut out = Vec::new();
    for (n, s) in truth.stories.iter().enumerate() {
        if ![IAM_TOR, CROSS_ACCOUNT_KEY, ATTACK_SEQUENCE].contains(&s.kind.as_str()) {
            continue;
        }
        let members: Vec<&Draft> = s
            .finding_ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        let Some(principal) = members.iter().find_map(|d| {
            d.resource
                .iter()
                .find(|(k, _)| *k == "accessKeyDetails")
                .map(|(_, v)| (d, v))
        }) else {
            continue;
        };
        let (d, key) = principal;
        let name = match key.get("userName") {
            Some(Json::Str(s)) => s.clone(),
            _ => continue,
        };
        let kind = match key.get("userType") {
            Some(Json::Str(t)) if t == "IAMUser" => "user",
            _ => "role",
        };
        let entity = format!("arn:aws:iam::{}:{kind}/{name}", d.account);
        let first = members.iter().map(|m| m.first_seen_ms).min().unwrap_or(0);
        let last = members
            .iter()
            .map(|m| m.last_seen_ms)
            .max()
            .unwrap_or(first);
        let mut indicators: Vec<serde_json::Value> = members
            .iter()
            .filter(|m| !m.finding_type.starts_with("AttackSequence:"))
            .map(|m| {
                json!({"IndicatorType": "RELATED_FINDING", "IndicatorDetail": {"RelatedFindingDetail": {
                    "Arn": m.arn(), "Type": m.finding_type}}})
            })
            .collect();
        for ip in s.entities.get("remoteIp").into_iter().flatten() {
            indicators.push(
                json!({"IndicatorType": "FLAGGED_IP_ADDRESS", "IndicatorDetail": {
                "FlaggedIpAddressDetail": {"IpAddress": ip, "Reason": "AWS_THREAT_INTELLIGENCE"}}}),
            );
        }
        // A Detective finding-group id (Detective's own ids are UUIDs).
        let seed = format!(
            "{:08x}",
            (truth.seed as u32) ^ (n as u32).wrapping_mul(0x9e37_79b9)
        );
        let group = format!("{seed}-0000-4000-8000-{:012x}", n as u64 * 7919 + 1);
        indicators.push(
            json!({"IndicatorType": "RELATED_FINDING_GROUP", "IndicatorDetail": {
            "RelatedFindingGroupDetail": {"Id": group}}}),
        );
        let iso = gdlens_domain::time::format_iso;
        out.push(json!({
            "GraphArn": format!("arn:aws:detective:{}:{}:graph:demo", d.region, d.account),
            "InvestigationId": format!("{:021}", 1 + n),
            "EntityArn": entity,
            "EntityType": if kind == "user" { "IAM_USER" } else { "IAM_ROLE" },
            "CreatedTime": iso(last + HOUR),
            "ScopeStartTime": iso(first - 24 * HOUR),
            "ScopeEndTime": iso(last + HOUR),
            "Status": "SUCCESSFUL",
            "Severity": "HIGH",
            "State": "ACTIVE",
            "Indicators": indicators,
        }));
    }
    out
}
