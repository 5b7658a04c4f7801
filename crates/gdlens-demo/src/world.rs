//! The organization the demo data lives in: accounts, regions, detectors.

use gdlens_domain::{Account, Criticality};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::entities::{hex, rng_for};
use crate::DemoOptions;

/// Regions in the order a typical organization uses them (the first is the busiest).
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "ap-southeast-2",
    "eu-central-1",
    "us-east-2",
    "ap-northeast-1",
    "ca-central-1",
    "eu-west-2",
    "ap-south-1",
    "sa-east-1",
    "eu-north-1",
    "ap-southeast-1",
    "us-west-1",
    "eu-west-3",
    "ap-northeast-2",
    "eu-south-1",
];

const TEAMS: &[(&str, &str)] = &[
    ("payments", "payments-team@example.com"),
    ("identity", "identity-team@example.com"),
    ("checkout", "checkout-team@example.com"),
    ("search", "search-team@example.com"),
    ("data-lake", "data-platform@example.com"),
    ("ml-platform", "ml-platform@example.com"),
    ("mobile-api", "mobile-team@example.com"),
    ("ledger", "finance-eng@example.com"),
    ("messaging", "messaging-team@example.com"),
    ("observability", "sre@example.com"),
    ("ci", "devex@example.com"),
    ("web", "web-team@example.com"),
    ("analytics", "analytics@example.com"),
    ("customer-portal", "portal-team@example.com"),
    ("fraud", "risk-eng@example.com"),
    ("media", "media-team@example.com"),
    ("notifications", "messaging-team@example.com"),
    ("inventory", "supply-chain@example.com"),
    ("hr-apps", "corp-it@example.com"),
    ("edge", "network-team@example.com"),
];

const ENVS: &[&str] = &["prod", "staging", "dev", "sandbox"];

const SHARED: &[(&str, &str, Criticality)] = &[
    (
        "security-tooling",
        "secops@example.com",
        Criticality::Critical,
    ),
    ("log-archive", "secops@example.com", Criticality::High),
    ("network-hub", "network-team@example.com", Criticality::High),
    (
        "shared-services",
        "platform@example.com",
        Criticality::Medium,
    ),
];

/// The organization's accounts: 12-digit ids, names like `prod-payments`, owners, criticality.
pub fn accounts(opts: &DemoOptions) -> Vec<Account> {
    let mut rng = rng_for(opts.seed, &[0xACC0]);
    let mut names: Vec<(String, String, Criticality)> = Vec::new();
    for (name, owner, crit) in SHARED {
        names.push(((*name).to_string(), (*owner).to_string(), *crit));
    }
    let mut teams: Vec<&(&str, &str)> = TEAMS.iter().collect();
    teams.shuffle(&mut rng);
    'outer: for env in ENVS {
        for (i, (team, owner)) in teams.iter().enumerate() {
            let crit = match *env {
                // A few crown jewels are critical; the rest of prod is high.
                "prod" if i < 3 => Criticality::Critical,
                "prod" => Criticality::High,
                "staging" => Criticality::Medium,
                _ => Criticality::Low,
            };
            names.push((format!("{env}-{team}"), (*owner).to_string(), crit));
            if names.len() >= opts.accounts.max(1) * 2 {
                break 'outer;
            }
        }
    }
    // Past the named ones: numbered sandboxes.
    let mut n = 1;
    while names.len() < opts.accounts {
        names.push((
            format!("sandbox-{n:03}"),
            "cloud-center@example.com".to_string(),
            Criticality::Low,
        ));
        n += 1;
    }
    let mut ids = std::collections::BTreeSet::new();
    names
        .into_iter()
        .take(opts.accounts)
        .map(|(name, owner, criticality)| {
            let id = loop {
                let id = format!("{:012}", rng.gen_range(100_000_000_000u64..999_999_999_999));
                if ids.insert(id.clone()) {
                    break id;
                }
            };
            Account {
                id,
                name,
                owner,
                criticality,
            }
        })
        .collect()
}

/// The regions in use (the first `opts.regions` of [`REGIONS`]).
pub fn regions(opts: &DemoOptions) -> Vec<&'static str> {
    REGIONS[..opts.regions.min(REGIONS.len())].to_vec()
}

/// The detector id of an account in a region (one detector per account per region).
pub fn detector_id(seed: u64, account: usize, region: usize) -> String {
    hex(
        &mut rng_for(seed, &[0xDE7E, account as u64, region as u64]),
        32,
    )
}

/// The account config file (TOML) the server reads: `[[accounts]]` tables.
pub fn account_config_toml(accounts: &[Account]) -> Result<String, toml::ser::Error> {
    #[derive(serde::Serialize)]
    struct Config<'a> {
        accounts: Vec<Row<'a>>,
    }
    #[derive(serde::Serialize)]
    struct Row<'a> {
        id: &'a str,
        name: &'a str,
        owner: &'a str,
        criticality: &'a str,
    }
    let config = Config {
        accounts: accounts
            .iter()
            .map(|a| Row {
                id: &a.id,
                name: &a.name,
                owner: &a.owner,
                criticality: a.criticality.as_str(),
            })
            .collect(),
    };
    toml::to_string(&config)
}
