//! Deterministic entities (instances, keys, buckets, clusters, addresses) derived from the seed.
//!
//! Noise entities come from `(seed, account, region, kind, index)` so a resource index always
//! names the same resource without storing pools; story entities use their own namespace and
//! address ranges that noise never draws from, so stories never collide with noise by accident.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::json::Json;

const HEX: &[u8; 16] = b"0123456789abcdef";
const UPPER_ALNUM: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// SplitMix64 step: spreads seeds so neighbouring inputs give unrelated streams.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A random generator for one named thing: same parts, same stream.
pub fn rng_for(seed: u64, parts: &[u64]) -> ChaCha8Rng {
    let key = parts.iter().fold(mix(seed), |acc, p| mix(acc ^ mix(*p)));
    ChaCha8Rng::seed_from_u64(key)
}

/// `n` lower-case hex digits.
pub fn hex(rng: &mut impl Rng, n: usize) -> String {
    (0..n).map(|_| HEX[rng.gen_range(0..16)] as char).collect()
}

/// `n` upper-case letters and digits (IAM unique-id style).
pub fn upper(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| UPPER_ALNUM[rng.gen_range(0..36)] as char)
        .collect()
}

/// A random UUID (v4 layout).
pub fn uuid(rng: &mut impl Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// First octets noise addresses are drawn from. Story and decoy ranges below are outside them.
const NOISE_OCTETS: &[u8] = &[
    5, 23, 31, 36, 42, 43, 49, 58, 61, 62, 77, 78, 79, 80, 83, 85, 87, 88, 89, 91, 92, 94, 95, 101,
    103, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 138,
    139, 141, 150, 159, 162, 167, 170, 175, 176, 178, 180, 182, 183, 186, 188, 189, 190, 191, 193,
    194, 195, 196, 197, 200, 201, 202, 210, 211, 212, 213, 217, 218, 219, 220, 221, 222,
];

/// Where an address is, as GuardDuty's `remoteIpDetails` says.
#[derive(Debug, Clone)]
pub struct Geo {
    pub country_code: &'static str,
    pub country_name: &'static str,
    pub city: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub asn: &'static str,
    pub asn_org: &'static str,
    pub isp: &'static str,
}

const GEOS: &[Geo] = &[
    Geo {
        country_code: "CN",
        country_name: "China",
        city: "Shanghai",
        lat: 31.2222,
        lon: 121.4581,
        asn: "4134",
        asn_org: "CHINANET-BACKBONE",
        isp: "China Telecom",
    },
    Geo {
        country_code: "RU",
        country_name: "Russia",
        city: "Moscow",
        lat: 55.7522,
        lon: 37.6156,
        asn: "12389",
        asn_org: "ROSTELECOM-AS",
        isp: "Rostelecom",
    },
    Geo {
        country_code: "US",
        country_name: "United States",
        city: "Ashburn",
        lat: 39.0437,
        lon: -77.4875,
        asn: "14061",
        asn_org: "DIGITALOCEAN-ASN",
        isp: "DigitalOcean",
    },
    Geo {
        country_code: "NL",
        country_name: "Netherlands",
        city: "Amsterdam",
        lat: 52.3740,
        lon: 4.8897,
        asn: "49981",
        asn_org: "WorldStream",
        isp: "WorldStream B.V.",
    },
    Geo {
        country_code: "BR",
        country_name: "Brazil",
        city: "Sao Paulo",
        lat: -23.5475,
        lon: -46.6361,
        asn: "28573",
        asn_org: "Claro NXT Telecomunicacoes Ltda",
        isp: "Claro S.A.",
    },
    Geo {
        country_code: "IN",
        country_name: "India",
        city: "Mumbai",
        lat: 19.0728,
        lon: 72.8826,
        asn: "9829",
        asn_org: "National Internet Backbone",
        isp: "BSNL",
    },
    Geo {
        country_code: "VN",
        country_name: "Vietnam",
        city: "Hanoi",
        lat: 21.0245,
        lon: 105.8412,
        asn: "45899",
        asn_org: "VNPT Corp",
        isp: "VNPT",
    },
    Geo {
        country_code: "KR",
        country_name: "South Korea",
        city: "Seoul",
        lat: 37.5660,
        lon: 126.9784,
        asn: "4766",
        asn_org: "Korea Telecom",
        isp: "Korea Telecom",
    },
    Geo {
        country_code: "DE",
        country_name: "Germany",
        city: "Frankfurt am Main",
        lat: 50.1155,
        lon: 8.6842,
        asn: "24940",
        asn_org: "Hetzner Online GmbH",
        isp: "Hetzner Online GmbH",
    },
    Geo {
        country_code: "US",
        country_name: "United States",
        city: "Santa Clara",
        lat: 37.3541,
        lon: -121.9552,
        asn: "396982",
        asn_org: "GOOGLE-CLOUD-PLATFORM",
        isp: "Google LLC",
    },
    Geo {
        country_code: "ID",
        country_name: "Indonesia",
        city: "Jakarta",
        lat: -6.2146,
        lon: 106.8451,
        asn: "17974",
        asn_org: "PT Telekomunikasi Indonesia",
        isp: "Telkom Indonesia",
    },
    Geo {
        country_code: "TW",
        country_name: "Taiwan",
        city: "Taipei",
        lat: 25.0478,
        lon: 121.5319,
        asn: "3462",
        asn_org: "Data Communication Business Group",
        isp: "Chunghwa Telecom",
    },
];

/// Tor exit nodes' hosting (the story's Tor addresses come from 185.220.100–102.x).
pub const TOR_GEO: Geo = Geo {
    country_code: "DE",
    country_name: "Germany",
    city: "Berlin",
    lat: 52.5244,
    lon: 13.4105,
    asn: "208294",
    asn_org: "Relayon",
    isp: "Relayon",
};

/// A remote address with its geo block.
#[derive(Debug, Clone)]
pub struct RemoteIp {
    pub ip: String,
    pub geo: Geo,
}

impl RemoteIp {
    /// GuardDuty's `remoteIpDetails` object.
    pub fn details(&self) -> Json {
        let g = &self.geo;
        Json::obj([
            ("ipAddressV4", self.ip.as_str().into()),
            (
                "organization",
                Json::obj([
                    ("asn", g.asn.into()),
                    ("asnOrg", g.asn_org.into()),
                    ("isp", g.isp.into()),
                    ("org", g.isp.into()),
                ]),
            ),
            (
                "country",
                Json::obj([
                    ("countryCode", g.country_code.into()),
                    ("countryName", g.country_name.into()),
                ]),
            ),
            ("city", Json::obj([("cityName", g.city.into())])),
            (
                "geoLocation",
                Json::obj([("lat", g.lat.into()), ("lon", g.lon.into())]),
            ),
        ])
    }
}

/// A noise remote address: random, outside every story/decoy range.
pub fn noise_ip(rng: &mut impl Rng) -> RemoteIp {
    let a = NOISE_OCTETS[rng.gen_range(0..NOISE_OCTETS.len())];
    let ip = format!(
        "{a}.{}.{}.{}",
        rng.gen_range(0..=255u8),
        rng.gen_range(0..=255u8),
        rng.gen_range(1..=254u8)
    );
    RemoteIp {
        ip,
        geo: GEOS[rng.gen_range(0..GEOS.len())].clone(),
    }
}

/// A story address in a range noise never uses (`first` must not be in `NOISE_OCTETS`).
pub fn story_ip(rng: &mut impl Rng, first: u8) -> RemoteIp {
    debug_assert!(!NOISE_OCTETS.contains(&first));
    let ip = format!(
        "{first}.{}.{}.{}",
        rng.gen_range(0..=255u8),
        rng.gen_range(0..=255u8),
        rng.gen_range(1..=254u8)
    );
    RemoteIp {
        ip,
        geo: GEOS[rng.gen_range(0..GEOS.len())].clone(),
    }
}

/// A Tor exit address (185.220.100–102.x).
pub fn tor_ip(rng: &mut impl Rng) -> RemoteIp {
    let ip = format!(
        "185.220.{}.{}",
        rng.gen_range(100..=102u8),
        rng.gen_range(1..=254u8)
    );
    RemoteIp {
        ip,
        geo: TOR_GEO.clone(),
    }
}

/// An EC2 instance with its network interface and instance profile.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub instance_type: &'static str,
    pub image_id: String,
    pub profile_name: String,
    pub profile_arn: String,
    pub profile_id: String,
    pub private_ip: String,
    pub public_ip: Option<String>,
    pub vpc_id: String,
    pub subnet_id: String,
    pub sg_id: String,
    pub sg_name: String,
    pub name_tag: String,
    pub az: String,
    pub launch_ms: i64,
}

const INSTANCE_TYPES: &[&str] = &[
    "t3.micro",
    "t3.medium",
    "m5.large",
    "m5.xlarge",
    "c5.2xlarge",
    "r5.large",
    "m6i.large",
    "t4g.small",
    "c6g.xlarge",
];
const APPS: &[&str] = &[
    "web",
    "api",
    "worker",
    "batch",
    "bastion",
    "jenkins",
    "kafka",
    "search",
    "etl",
    "gateway",
    "grafana",
    "redis-proxy",
];

impl Instance {
    /// Derives an instance; `role` names its instance profile / role.
    pub fn derive(rng: &mut impl Rng, account: &str, region: &str, now_ms: i64) -> Instance {
        let app = APPS[rng.gen_range(0..APPS.len())];
        let role = format!("{app}-ec2-role-{}", hex(rng, 4));
        let public = rng.gen_bool(0.6);
        Instance {
            id: format!("i-0{}", hex(rng, 16)),
            instance_type: INSTANCE_TYPES[rng.gen_range(0..INSTANCE_TYPES.len())],
            image_id: format!("ami-0{}", hex(rng, 16)),
            profile_arn: format!("arn:aws:iam::{account}:instance-profile/{role}"),
            profile_id: format!("AIPA{}", upper(rng, 17)),
            profile_name: role,
            private_ip: format!(
                "10.{}.{}.{}",
                rng.gen_range(0..=255u8),
                rng.gen_range(0..=255u8),
                rng.gen_range(4..=254u8)
            ),
            public_ip: public.then(|| {
                format!(
                    "{}.{}.{}.{}",
                    [3u8, 18, 34, 44, 52, 54][rng.gen_range(0..6)],
                    rng.gen_range(0..=255u8),
                    rng.gen_range(0..=255u8),
                    rng.gen_range(1..=254u8)
                )
            }),
            vpc_id: format!("vpc-0{}", hex(rng, 16)),
            subnet_id: format!("subnet-0{}", hex(rng, 16)),
            sg_id: format!("sg-0{}", hex(rng, 16)),
            sg_name: format!("{app}-sg"),
            name_tag: format!("{app}-{}", hex(rng, 4)),
            az: format!("{region}{}", ['a', 'b', 'c'][rng.gen_range(0..3)]),
            launch_ms: now_ms - rng.gen_range(40..400) * 86_400_000,
        }
    }

    /// GuardDuty's `instanceDetails` object.
    pub fn details(&self) -> Json {
        Json::obj([
            ("availabilityZone", self.az.as_str().into()),
            (
                "iamInstanceProfile",
                Json::obj([
                    ("arn", self.profile_arn.as_str().into()),
                    ("id", self.profile_id.as_str().into()),
                ]),
            ),
            ("imageDescription", "Amazon Linux 2023 AMI".into()),
            ("imageId", self.image_id.as_str().into()),
            ("instanceId", self.id.as_str().into()),
            ("instanceState", "running".into()),
            ("instanceType", self.instance_type.into()),
            (
                "launchTime",
                gdlens_domain::time::format_iso(self.launch_ms).into(),
            ),
            (
                "networkInterfaces",
                Json::Arr(vec![Json::obj([
                    ("ipv6Addresses", Json::Arr(vec![])),
                    (
                        "networkInterfaceId",
                        format!("eni-0{}", &self.vpc_id[5..21]).into(),
                    ),
                    (
                        "privateDnsName",
                        format!("ip-{}.ec2.internal", self.private_ip.replace('.', "-")).into(),
                    ),
                    ("privateIpAddress", self.private_ip.as_str().into()),
                    (
                        "privateIpAddresses",
                        Json::Arr(vec![Json::obj([
                            (
                                "privateDnsName",
                                format!("ip-{}.ec2.internal", self.private_ip.replace('.', "-"))
                                    .into(),
                            ),
                            ("privateIpAddress", self.private_ip.as_str().into()),
                        ])]),
                    ),
                    (
                        "publicDnsName",
                        self.public_ip
                            .as_ref()
                            .map(|ip| {
                                format!("ec2-{}.compute-1.amazonaws.com", ip.replace('.', "-"))
                            })
                            .into(),
                    ),
                    ("publicIp", self.public_ip.clone().into()),
                    (
                        "securityGroups",
                        Json::Arr(vec![Json::obj([
                            ("groupId", self.sg_id.as_str().into()),
                            ("groupName", self.sg_name.as_str().into()),
                        ])]),
                    ),
                    ("subnetId", self.subnet_id.as_str().into()),
                    ("vpcId", self.vpc_id.as_str().into()),
                ])]),
            ),
            ("outpostArn", Json::Null),
            ("platform", Json::Null),
            ("productCodes", Json::Arr(vec![])),
            (
                "tags",
                Json::Arr(vec![Json::obj([
                    ("key", "Name".into()),
                    ("value", self.name_tag.as_str().into()),
                ])]),
            ),
        ])
    }
}

/// An IAM credential as `accessKeyDetails` describes it.
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub access_key_id: String,
    pub principal_id: String,
    pub user_name: String,
    pub user_type: &'static str,
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "deploy-bot",
    "terraform",
    "ci-runner",
    "backup-svc",
    "dmitri",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory-admin",
    "oscar",
    "peggy",
    "sybil",
    "trent",
    "victor",
];

impl AccessKey {
    /// A noise credential: mostly IAM users, some assumed roles.
    pub fn derive(rng: &mut impl Rng) -> AccessKey {
        if rng.gen_bool(0.7) {
            AccessKey {
                access_key_id: format!("AKIA{}", upper(rng, 16)),
                principal_id: format!("AIDA{}", upper(rng, 17)),
                user_name: USERS[rng.gen_range(0..USERS.len())].to_string(),
                user_type: "IAMUser",
            }
        } else {
            let role = format!(
                "{}-role",
                ["ReadOnly", "Admin", "DataEngineer", "Deploy", "Audit"][rng.gen_range(0..5)]
            );
            AccessKey {
                access_key_id: format!("ASIA{}", upper(rng, 16)),
                principal_id: format!(
                    "AROA{}:{}",
                    upper(rng, 17),
                    USERS[rng.gen_range(0..USERS.len())]
                ),
                user_name: role,
                user_type: "AssumedRole",
            }
        }
    }

    /// GuardDuty's `accessKeyDetails` object.
    pub fn details(&self) -> Json {
        Json::obj([
            ("accessKeyId", self.access_key_id.as_str().into()),
            ("principalId", self.principal_id.as_str().into()),
            ("userName", self.user_name.as_str().into()),
            ("userType", self.user_type.into()),
        ])
    }
}

/// An S3 bucket owned by an account.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    pub owner_id: String,
    pub created_ms: i64,
}

const BUCKET_PURPOSES: &[&str] = &[
    "logs",
    "backups",
    "artifacts",
    "data-lake",
    "exports",
    "static-assets",
    "reports",
    "ml-training",
    "invoices",
    "tfstate",
];

impl Bucket {
    /// Derives a bucket named after the account.
    pub fn derive(rng: &mut impl Rng, account_name: &str, now_ms: i64) -> Bucket {
        Bucket {
            name: format!(
                "{account_name}-{}-{}",
                BUCKET_PURPOSES[rng.gen_range(0..BUCKET_PURPOSES.len())],
                hex(rng, 6)
            ),
            owner_id: hex(rng, 64),
            created_ms: now_ms - rng.gen_range(100..900) * 86_400_000,
        }
    }

    /// One element of `s3BucketDetails`.
    pub fn details(&self, account: &str, public: bool) -> Json {
        Json::obj([
            ("arn", format!("arn:aws:s3:::{}", self.name).into()),
            ("createdAt", Json::Float((self.created_ms / 1000) as f64)),
            (
                "defaultServerSideEncryption",
                Json::obj([("encryptionType", "AES256".into())]),
            ),
            ("name", self.name.as_str().into()),
            ("owner", Json::obj([("id", self.owner_id.as_str().into())])),
            (
                "publicAccess",
                Json::obj([
                    (
                        "effectivePermission",
                        if public { "PUBLIC" } else { "NOT_PUBLIC" }.into(),
                    ),
                    (
                        "permissionConfiguration",
                        Json::obj([(
                            "accountLevelPermissions",
                            Json::obj([(
                                "blockPublicAccess",
                                Json::obj([
                                    ("blockPublicAcls", (!public).into()),
                                    ("blockPublicPolicy", (!public).into()),
                                    ("ignorePublicAcls", (!public).into()),
                                    ("restrictPublicBuckets", (!public).into()),
                                ]),
                            )]),
                        )]),
                    ),
                ]),
            ),
            (
                "tags",
                Json::Arr(vec![Json::obj([
                    ("key", "account".into()),
                    ("value", account.into()),
                ])]),
            ),
            ("type", "Destination".into()),
        ])
    }
}

/// An EKS cluster and one of its workloads.
#[derive(Debug, Clone)]
pub struct EksWorkload {
    pub cluster: String,
    pub cluster_arn: String,
    pub vpc_id: String,
    pub created_ms: i64,
    pub namespace: String,
    pub workload: String,
    pub workload_type: &'static str,
    pub uid: String,
    pub container_name: String,
    pub image: String,
    pub container_id: String,
}

impl EksWorkload {
    /// Derives a cluster/workload pair; `namespace` as given.
    pub fn derive(
        rng: &mut impl Rng,
        account: &str,
        region: &str,
        now_ms: i64,
        namespace: &str,
    ) -> EksWorkload {
        let cluster = format!(
            "{}-eks-{}",
            ["prod", "platform", "data", "ml", "edge"][rng.gen_range(0..5)],
            hex(rng, 4)
        );
        let app = [
            "coredns",
            "aws-node",
            "kube-proxy",
            "ingress-nginx",
            "checkout",
            "ledger",
            "feed",
            "metrics-agent",
        ][rng.gen_range(0..8)];
        EksWorkload {
            cluster_arn: format!("arn:aws:eks:{region}:{account}:cluster/{cluster}"),
            cluster,
            vpc_id: format!("vpc-0{}", hex(rng, 16)),
            created_ms: now_ms - rng.gen_range(60..700) * 86_400_000,
            namespace: namespace.to_string(),
            workload: format!("{app}-{}-{}", hex(rng, 9), hex(rng, 5)),
            workload_type: "pods",
            uid: uuid(rng),
            container_name: app.to_string(),
            image: format!(
                "{account}.dkr.ecr.{region}.amazonaws.com/{app}:v1.{}.{}",
                rng.gen_range(0..30),
                rng.gen_range(0..10)
            ),
            container_id: hex(rng, 64),
        }
    }

    /// `eksClusterDetails`.
    pub fn cluster_details(&self) -> Json {
        Json::obj([
            ("arn", self.cluster_arn.as_str().into()),
            ("createdAt", Json::Float((self.created_ms / 1000) as f64)),
            ("name", self.cluster.as_str().into()),
            ("status", "ACTIVE".into()),
            ("tags", Json::Arr(vec![])),
            ("vpcId", self.vpc_id.as_str().into()),
        ])
    }

    /// `kubernetesWorkloadDetails`.
    pub fn workload_details(&self, image: &str) -> Json {
        Json::obj([
            (
                "containers",
                Json::Arr(vec![Json::obj([
                    ("image", image.into()),
                    (
                        "imagePrefix",
                        image.split(':').next().unwrap_or(image).into(),
                    ),
                    ("name", self.container_name.as_str().into()),
                    ("securityContext", Json::obj([("privileged", false.into())])),
                ])]),
            ),
            ("hostNetwork", false.into()),
            ("name", self.workload.as_str().into()),
            ("namespace", self.namespace.as_str().into()),
            ("type", self.workload_type.into()),
            ("uid", self.uid.as_str().into()),
        ])
    }

    /// `containerDetails` for runtime findings.
    pub fn container_details(&self, image: &str) -> Json {
        Json::obj([
            ("containerRuntime", "containerd".into()),
            ("id", self.container_id.as_str().into()),
            ("image", image.into()),
            (
                "imagePrefix",
                image.split(':').next().unwrap_or(image).into(),
            ),
            ("name", self.container_name.as_str().into()),
        ])
    }
}
