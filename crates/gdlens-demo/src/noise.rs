//! Background findings: a long tail over the real finding types, noisy accounts and resources,
//! repeated activity, archived and sample findings.

use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::actions;
use crate::catalog::{self, Shape, TypeInfo};
use crate::draft::{title_and_description, Draft};
use crate::entities::{hex, noise_ip, rng_for, AccessKey, Bucket, EksWorkload, Instance, RemoteIp};
use crate::json::Json;
use crate::Org;

/// Finding types that dominate real organizations; the rest of the catalog follows in a
/// seed-dependent order, so which rare types are rare changes with the seed.
const HEAD: &[&str] = &[
    "Recon:EC2/PortProbeUnprotectedPort",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "Policy:IAMUser/RootCredentialUsage",
    "UnauthorizedAccess:EC2/RDPBruteForce",
    "Discovery:S3/AnomalousBehavior",
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
    "Impact:EC2/SuspiciousDomainRequest.Reputation",
    "Behavior:EC2/NetworkPortUnusual",
    "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
    "Policy:S3/BucketBlockPublicAccessDisabled",
    "Recon:IAMUser/MaliciousIPCaller",
    "Execution:Runtime/NewBinaryExecuted",
    "Recon:EC2/Portscan",
    "Stealth:IAMUser/PasswordPolicyChange",
];

/// Resources per account (and region) a finding can land on; low indexes are the noisy ones.
pub const RESOURCE_POOL: usize = 400;

pub const KIND_INSTANCE: u64 = 1;
pub const KIND_KEY: u64 = 2;
pub const KIND_BUCKET: u64 = 3;
pub const KIND_EKS: u64 = 4;
pub const KIND_ECS: u64 = 5;
pub const KIND_LAMBDA: u64 = 6;
pub const KIND_RDS: u64 = 7;

const STOCK_AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.ls",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10.210 md/arch#x86_64 lang/python#3.9.16 cfg/retry-mode#legacy Botocore/1.34.51",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/s3#1.51.1",
    "console.amazonaws.com",
    "Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 aws-sdk-go-v2/1.25.2",
    "aws-sdk-java/2.25.6 Linux/5.10.210 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
];

const KUBE_AGENTS: &[&str] = &[
    "kubectl/v1.29.1 (linux/amd64) kubernetes/bc401b9",
    "Go-http-client/2.0",
    "helm/v3.14.2",
    "argocd-application-controller/v2.10.1",
];

const DOMAINS: &[&str] = &[
    "pool.supportxmr.com",
    "xmr-eu1.nanopool.org",
    "update-check.duckdns.org",
    "cdn-static.top",
    "login-verify.info",
    "api.ipify.org.cn",
    "files.anonfiles.la",
    "download.freenom-host.tk",
    "metrics-collector.xyz",
    "dl.dropboxusercontent.ru",
];

/// Picks background findings.
pub struct NoiseModel {
    types: Vec<&'static TypeInfo>,
    type_pick: WeightedIndex<f64>,
    account_order: Vec<usize>,
    account_pick: WeightedIndex<f64>,
    region_pick: WeightedIndex<f64>,
    resource_pick: WeightedIndex<f64>,
}

fn zipf(n: usize, exponent: f64) -> WeightedIndex<f64> {
    WeightedIndex::new((0..n.max(1)).map(|k| 1.0 / ((k + 1) as f64).powf(exponent)))
        .expect("positive weights")
}

impl NoiseModel {
    /// The model for an organization and seed.
    pub fn new(org: &Org) -> NoiseModel {
        let mut rng = rng_for(org.seed, &[0x7E5]);
        let mut types: Vec<&'static TypeInfo> =
            HEAD.iter().filter_map(|n| catalog::type_info(n)).collect();
        let mut rest: Vec<&'static TypeInfo> = catalog::types()
            .iter()
            .filter(|t| t.shape != Shape::AttackSequence && !HEAD.contains(&t.name))
            .collect();
        rest.shuffle(&mut rng);
        types.extend(rest);
        let mut account_order: Vec<usize> = (0..org.accounts.len()).collect();
        account_order.shuffle(&mut rng);
        NoiseModel {
            type_pick: zipf(types.len(), 1.4),
            types,
            account_pick: zipf(org.accounts.len(), 1.0),
            account_order,
            region_pick: zipf(org.regions.len(), 1.5),
            resource_pick: zipf(RESOURCE_POOL, 1.1),
        }
    }

    /// One background finding (first version).
    pub fn finding(&self, org: &Org, rng: &mut ChaCha8Rng) -> Draft {
        let account = self.account_order[self.account_pick.sample(rng)];
        let region = self.region_pick.sample(rng);
        let info = self.types[self.type_pick.sample(rng)];
        let k = self.resource_pick.sample(rng);
        let sample = rng.gen_bool(0.003);
        let mut d = build(org, rng, info, account, region, k, sample, None);
        // Repeated activity: most findings seen once, some many times, noisy resources most.
        if rng.gen_bool(0.35) {
            let boost = if k < 3 { 5 } else { 1 };
            d.count = ((1.0 / rng.gen_range(0.02..1.0f64)) as u64 + 1) * boost;
        }
        d.archived = rng.gen_bool(0.05);
        org.place_in_time(rng, &mut d, None);
        d
    }
}

/// Picks one of a list.
pub fn pick<T: Copy>(rng: &mut impl Rng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

/// A noise instance of (account, region, index).
pub fn noise_instance(org: &Org, account: usize, region: usize, k: usize) -> Instance {
    let mut r = rng_for(
        org.seed,
        &[KIND_INSTANCE, account as u64, region as u64, k as u64],
    );
    Instance::derive(
        &mut r,
        &org.accounts[account].id,
        org.regions[region],
        org.now_ms,
    )
}

/// A noise credential of (account, index).
pub fn noise_key(org: &Org, account: usize, k: usize) -> AccessKey {
    AccessKey::derive(&mut rng_for(
        org.seed,
        &[KIND_KEY, account as u64, k as u64],
    ))
}

fn api_for(rng: &mut impl Rng, purpose: &str) -> (&'static str, &'static str) {
    let list: &[(&str, &str)] = match purpose {
        "Discovery" | "Recon" | "PenTest" => &[
            ("ListBuckets", "s3.amazonaws.com"),
            ("DescribeInstances", "ec2.amazonaws.com"),
            ("ListUsers", "iam.amazonaws.com"),
            ("GetAccountAuthorizationDetails", "iam.amazonaws.com"),
        ],
        "Persistence" => &[
            ("CreateAccessKey", "iam.amazonaws.com"),
            ("CreateUser", "iam.amazonaws.com"),
            ("CreateLoginProfile", "iam.amazonaws.com"),
        ],
        "PrivilegeEscalation" => &[
            ("AttachUserPolicy", "iam.amazonaws.com"),
            ("PutRolePolicy", "iam.amazonaws.com"),
        ],
        "DefenseEvasion" | "Stealth" | "DefenseImpairment" => &[
            ("StopLogging", "cloudtrail.amazonaws.com"),
            ("DeleteFlowLogs", "ec2.amazonaws.com"),
            ("UpdateAccountPasswordPolicy", "iam.amazonaws.com"),
        ],
        "Impact" => &[
            ("TerminateInstances", "ec2.amazonaws.com"),
            ("DeleteBucket", "s3.amazonaws.com"),
        ],
        "Exfiltration" => &[
            ("GetObject", "s3.amazonaws.com"),
            ("CreateSnapshot", "ec2.amazonaws.com"),
        ],
        "CredentialAccess" => &[
            ("GetSecretValue", "secretsmanager.amazonaws.com"),
            ("GetPasswordData", "ec2.amazonaws.com"),
        ],
        "InitialAccess" => &[
            ("ConsoleLogin", "signin.amazonaws.com"),
            ("GetSessionToken", "sts.amazonaws.com"),
        ],
        _ => &[
            ("GetCallerIdentity", "sts.amazonaws.com"),
            ("DescribeRegions", "ec2.amazonaws.com"),
        ],
    };
    pick(rng, list)
}

fn s3_api_for(rng: &mut impl Rng, purpose: &str) -> &'static str {
    match purpose {
        "Exfiltration" => "GetObject",
        "Impact" => pick(rng, &["DeleteObject", "PutObject", "PutBucketAcl"]),
        "Policy" => pick(
            rng,
            &[
                "PutBucketPublicAccessBlock",
                "PutBucketPolicy",
                "PutBucketAcl",
            ],
        ),
        _ => pick(
            rng,
            &[
                "ListObjects",
                "GetObject",
                "GetBucketLocation",
                "ListObjectsV2",
            ],
        ),
    }
}

/// Builds a finding of `info` on resource `k` of (account, region): resource, action and text.
/// Times are placed by the caller. `remote` overrides the remote address where one applies.
pub fn build(
    org: &Org,
    rng: &mut ChaCha8Rng,
    info: &'static TypeInfo,
    account: usize,
    region: usize,
    k: usize,
    sample: bool,
    remote: Option<RemoteIp>,
) -> Draft {
    let acct = &org.accounts[account];
    let region_name = org.regions[region];
    let parsed = gdlens_domain::FindingType::parse(info.name);
    let purpose = parsed.purpose;
    let remote = remote.unwrap_or_else(|| noise_ip(rng));
    let mut d = org.draft(rng, info, account, region);
    d.sample = sample;
    let sample_k = if sample { usize::MAX } else { k };
    let (kind, key): (&str, String);
    match info.shape {
        Shape::InstanceFlow | Shape::InstanceDns | Shape::Malware
            if info.shape != Shape::Malware || info.resource_types != "S3Object" =>
        {
            let mut inst = noise_instance(org, account, region, sample_k);
            if sample {
                inst.id = "i-99999999".to_string();
            }
            d.resource_type = "Instance";
            d.resource.push(("instanceDetails", inst.details()));
            match info.shape {
                Shape::InstanceDns => {
                    d.feature_name = "DnsLogs";
                    d.resource_role = "ACTOR";
                    d.action = actions::dns_request(pick(rng, DOMAINS));
                }
                Shape::Malware => {
                    d.feature_name = "EbsMalwareProtection";
                    d.resource_role = "TARGET";
                    d.action = Json::obj([]);
                    d.ebs_scan = Some(Json::obj([
                        ("scanId", hex(rng, 32).into()),
                        ("scanType", "GUARDDUTY_INITIATED".into()),
                        ("sources", Json::Arr(vec!["Bitdefender".into()])),
                        (
                            "scanDetections",
                            Json::obj([(
                                "threatDetectedByName",
                                Json::obj([
                                    ("itemCount", rng.gen_range(1..6i64).into()),
                                    (
                                        "threatNames",
                                        Json::Arr(vec![Json::obj([
                                            (
                                                "name",
                                                pick(
                                                    rng,
                                                    &[
                                                        "EICAR-Test-File (not a virus)",
                                                        "Trojan.Linux.Mirai.A",
                                                        "Gen:Variant.Linux.Xmrig.1",
                                                    ],
                                                )
                                                .to_string()
                                                .into(),
                                            ),
                                            ("severity", "HIGH".into()),
                                        ])]),
                                    ),
                                ]),
                            )]),
                        ),
                    ]));
                }
                _ => {
                    d.feature_name = "FlowLogs";
                    let inbound = info.name.contains("PortProbe")
                        || info.name.contains("BruteForce")
                        || info.name.contains("MaliciousIPCaller");
                    d.resource_role = if inbound { "TARGET" } else { "ACTOR" };
                    let port = if info.name.contains("RDP") {
                        3389
                    } else if info.name.contains("SSH") {
                        22
                    } else if info.name.contains("WinRM") {
                        5985
                    } else {
                        pick(rng, &[22u16, 3389, 80, 443, 445, 23, 6379, 9200, 8080])
                    };
                    d.action = if info.name.contains("PortProbe") {
                        actions::port_probe(&[(port, &remote)], &inst.private_ip)
                    } else if inbound {
                        actions::network_connection(
                            &remote,
                            &inst.private_ip,
                            port,
                            rng.gen_range(32768..61000),
                            true,
                        )
                    } else {
                        actions::network_connection(
                            &remote,
                            &inst.private_ip,
                            rng.gen_range(32768..61000),
                            pick(rng, &[443u16, 80, 3333, 4444, 8080, 25]),
                            false,
                        )
                    };
                }
            }
            kind = "EC2 instance";
            key = inst.id;
        }
        Shape::AccessKeyApi => {
            let mut cred = noise_key(org, account, sample_k);
            if sample {
                cred.access_key_id = "GeneratedFindingAccessKeyId".to_string();
                cred.principal_id = "GeneratedFindingPrincipalId".to_string();
                cred.user_name = "GeneratedFindingUserName".to_string();
            }
            if info.name.contains("RootCredentialUsage") {
                cred.user_type = "Root";
                cred.user_name = "Root".to_string();
                cred.principal_id = acct.id.clone();
            }
            d.resource_type = "AccessKey";
            d.resource.push(("accessKeyDetails", cred.details()));
            d.feature_name = "CloudTrail";
            d.resource_role = "TARGET";
            let (api, service) = api_for(rng, purpose);
            d.action = actions::api_call(api, service, pick(rng, STOCK_AGENTS), &remote, None);
            kind = "credentials of";
            key = cred.access_key_id;
        }
        Shape::S3Api | Shape::Malware | Shape::InstanceFlow | Shape::InstanceDns => {
            let mut bucket = Bucket::derive(
                &mut rng_for(org.seed, &[KIND_BUCKET, account as u64, sample_k as u64]),
                &acct.name,
                org.now_ms,
            );
            if sample {
                bucket.name = "bucketName".to_string();
            }
            let cred = noise_key(org, account, rng.gen_range(0..RESOURCE_POOL));
            d.resource_type = if info.resource_types == "S3Object" {
                "S3Object"
            } else {
                "S3Bucket"
            };
            d.resource.push(("accessKeyDetails", cred.details()));
            d.resource.push((
                "s3BucketDetails",
                Json::Arr(vec![
                    bucket.details(&acct.id, info.name.starts_with("Policy:"))
                ]),
            ));
            d.resource_role = "TARGET";
            if info.shape == Shape::Malware {
                d.feature_name = "S3MalwareProtection";
                d.action = Json::obj([]);
            } else {
                d.feature_name = "S3DataEvents";
                d.action = actions::api_call(
                    s3_api_for(rng, purpose),
                    "s3.amazonaws.com",
                    pick(rng, STOCK_AGENTS),
                    &remote,
                    None,
                );
            }
            kind = "S3 bucket";
            key = bucket.name;
        }
        Shape::EksAudit => {
            let ns = pick(
                rng,
                &[
                    "default",
                    "kube-system",
                    "payments",
                    "monitoring",
                    "ingress",
                ],
            );
            let mut w = EksWorkload::derive(
                &mut rng_for(
                    org.seed,
                    &[
                        KIND_EKS,
                        account as u64,
                        region as u64,
                        (sample_k % 8) as u64,
                    ],
                ),
                &acct.id,
                region_name,
                org.now_ms,
                ns,
            );
            if sample {
                w.cluster = "GeneratedFindingEKSClusterName".to_string();
            }
            let user = pick(
                rng,
                &[
                    "kubernetes-admin",
                    "system:serviceaccount:kube-system:aws-node",
                    "eks:node-manager",
                    "arn:aws:sts::assumed-role/dev-role/session",
                ],
            );
            d.resource_type = "EKSCluster";
            d.resource.push(("eksClusterDetails", w.cluster_details()));
            let mut k8s = Json::obj([(
                "kubernetesUserDetails",
                Json::obj([
                    ("groups", Json::Arr(vec!["system:authenticated".into()])),
                    ("uid", crate::entities::uuid(rng).into()),
                    ("username", user.into()),
                ]),
            )]);
            if rng.gen_bool(0.5) {
                k8s.push("kubernetesWorkloadDetails", w.workload_details(&w.image));
            }
            d.resource.push(("kubernetesDetails", k8s));
            d.feature_name = "EksAuditLogs";
            d.resource_role = "TARGET";
            d.action = actions::kubernetes_call(
                &format!("/api/v1/namespaces/{ns}/pods"),
                pick(rng, &["list", "get", "create", "watch"]),
                pick(rng, KUBE_AGENTS),
                &remote,
                200,
            );
            kind = "EKS cluster";
            key = w.cluster;
        }
        Shape::Runtime => {
            d.feature_name = "RuntimeMonitoring";
            d.resource_role = "ACTOR";
            d.action = Json::obj([]);
            let (process, path) = pick(
                rng,
                &[
                    ("xmrig", "/tmp/xmrig"),
                    ("nc", "/usr/bin/nc"),
                    ("curl", "/usr/bin/curl"),
                    ("python3", "/usr/bin/python3"),
                    ("kworkerds", "/var/tmp/.x/kworkerds"),
                ],
            );
            let with_remote = info.name.contains("C&C")
                || info.name.contains("Bitcoin")
                || info.name.contains("Blackhole")
                || info.name.contains("Malicious");
            d.runtime_details = Some(actions::runtime_details(
                rng,
                process,
                path,
                with_remote.then_some(&remote),
            ));
            match rng.gen_range(0..10) {
                0..=3 => {
                    let mut inst = noise_instance(org, account, region, sample_k);
                    if sample {
                        inst.id = "i-99999999".to_string();
                    }
                    d.resource_type = "Instance";
                    d.resource.push(("instanceDetails", inst.details()));
                    kind = "EC2 instance";
                    key = inst.id;
                }
                4..=7 => {
                    let w = EksWorkload::derive(
                        &mut rng_for(
                            org.seed,
                            &[
                                KIND_EKS,
                                account as u64,
                                region as u64,
                                (sample_k % 8) as u64,
                            ],
                        ),
                        &acct.id,
                        region_name,
                        org.now_ms,
                        "default",
                    );
                    d.resource_type = "EKSCluster";
                    d.resource
                        .push(("containerDetails", w.container_details(&w.image)));
                    d.resource.push(("eksClusterDetails", w.cluster_details()));
                    d.resource.push((
                        "kubernetesDetails",
                        Json::obj([("kubernetesWorkloadDetails", w.workload_details(&w.image))]),
                    ));
                    kind = "EKS cluster";
                    key = w.cluster;
                }
                _ => {
                    let mut r = rng_for(
                        org.seed,
                        &[
                            KIND_ECS,
                            account as u64,
                            region as u64,
                            (sample_k % 6) as u64,
                        ],
                    );
                    let cluster = format!("{}-ecs-{}", acct.name, hex(&mut r, 4));
                    let image = format!(
                        "{}.dkr.ecr.{region_name}.amazonaws.com/{}:{}",
                        acct.id,
                        pick(&mut r, &["orders", "render", "queue-worker"]),
                        hex(&mut r, 7)
                    );
                    let container = Json::obj([
                        ("containerRuntime", "docker".into()),
                        ("id", hex(&mut r, 64).into()),
                        ("image", image.as_str().into()),
                        ("name", "app".into()),
                    ]);
                    d.resource_type = "ECSCluster";
                    d.resource.push(("containerDetails", container.clone()));
                    d.resource.push((
                        "ecsClusterDetails",
                        Json::obj([
                            (
                                "arn",
                                format!("arn:aws:ecs:{region_name}:{}:cluster/{cluster}", acct.id)
                                    .into(),
                            ),
                            ("name", cluster.as_str().into()),
                            ("status", "ACTIVE".into()),
                            (
                                "taskDetails",
                                Json::obj([
                                    (
                                        "arn",
                                        format!(
                                            "arn:aws:ecs:{region_name}:{}:task/{cluster}/{}",
                                            acct.id,
                                            hex(&mut r, 32)
                                        )
                                        .into(),
                                    ),
                                    ("containers", Json::Arr(vec![container])),
                                    (
                                        "definitionArn",
                                        format!(
                                            "arn:aws:ecs:{region_name}:{}:task-definition/app:{}",
                                            acct.id,
                                            r.gen_range(1..90)
                                        )
                                        .into(),
                                    ),
                                ]),
                            ),
                        ]),
                    ));
                    kind = "ECS cluster";
                    key = cluster;
                }
            }
        }
        Shape::LambdaFlow => {
            let mut r = rng_for(
                org.seed,
                &[
                    KIND_LAMBDA,
                    account as u64,
                    region as u64,
                    (sample_k % 40) as u64,
                ],
            );
            let name = format!(
                "{}-{}",
                pick(
                    &mut r,
                    &[
                        "thumbnailer",
                        "webhook-handler",
                        "etl-loader",
                        "auth-authorizer",
                        "report-mailer"
                    ]
                ),
                hex(&mut r, 5)
            );
            d.resource_type = "Lambda";
            d.resource.push((
                "lambdaDetails",
                Json::obj([
                    ("description", "".into()),
                    (
                        "functionArn",
                        format!("arn:aws:lambda:{region_name}:{}:function:{name}", acct.id).into(),
                    ),
                    ("functionName", name.as_str().into()),
                    ("functionVersion", "$LATEST".into()),
                    (
                        "lastModifiedAt",
                        Json::Float(((org.now_ms / 1000) - r.gen_range(86_400..9_000_000)) as f64),
                    ),
                    ("revisionId", crate::entities::uuid(&mut r).into()),
                    (
                        "role",
                        format!("arn:aws:iam::{}:role/{name}-role", acct.id).into(),
                    ),
                ]),
            ));
            d.feature_name = "LambdaNetworkLogs";
            d.resource_role = "ACTOR";
            d.action = actions::network_connection(
                &remote,
                "10.0.0.10",
                rng.gen_range(32768..61000),
                pick(rng, &[443u16, 3333, 4444]),
                false,
            );
            kind = "Lambda function";
            key = name;
        }
        Shape::RdsLogin => {
            let mut r = rng_for(
                org.seed,
                &[
                    KIND_RDS,
                    account as u64,
                    region as u64,
                    (sample_k % 20) as u64,
                ],
            );
            let db = format!(
                "{}-db-{}",
                pick(&mut r, &["orders", "users", "billing", "catalog"]),
                hex(&mut r, 4)
            );
            let engine = pick(&mut r, &["aurora-postgresql", "aurora-mysql"]);
            let user = pick(rng, &["postgres", "admin", "app_rw", "readonly"]);
            d.resource_type = "RDSDBInstance";
            d.resource.push((
                "rdsDbInstanceDetails",
                Json::obj([
                    ("dbClusterIdentifier", format!("{db}-cluster").into()),
                    (
                        "dbInstanceArn",
                        format!("arn:aws:rds:{region_name}:{}:db:{db}", acct.id).into(),
                    ),
                    ("dbInstanceIdentifier", db.as_str().into()),
                    ("engine", engine.into()),
                    ("engineVersion", "15.4".into()),
                ]),
            ));
            d.resource.push((
                "rdsDbUserDetails",
                Json::obj([
                    ("application", "psql".into()),
                    ("authMethod", "PASSWORD".into()),
                    ("database", "app".into()),
                    ("ssl", "ssl".into()),
                    ("user", user.into()),
                ]),
            ));
            d.feature_name = "RdsLoginEvents";
            d.resource_role = "TARGET";
            let success = info.name.contains("Successful");
            d.action = actions::rds_login(&remote, user, rng.gen_range(0..400), u64::from(success));
            kind = "RDS DB instance";
            key = db;
        }
        Shape::AttackSequence => unreachable!("attack sequences are planted by stories only"),
    }
    let remote_ip = (d.action.get("actionType").is_some()).then_some(remote.ip.as_str());
    let (title, description) = title_and_description(info.name, kind, &key, remote_ip);
    d.title = title;
    d.description = description;
    d
}
