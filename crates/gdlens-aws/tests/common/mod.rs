//! Shared set-up for the end-to-end tests: findings made from a fixture template, a fixture
//! server on 127.0.0.1:0, and an `AwsSource` with the real SDK clients and static credentials.
#![allow(dead_code)]

use std::path::PathBuf;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use gdlens_aws::{AwsConfig, AwsSource};
use gdlens_aws_fixture::{FixtureServer, FixtureState};
use serde_json::Value;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read_json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_path(name)).unwrap()).unwrap()
}

pub const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];

/// `n` findings of a region from the template: distinct ids, `updatedAt` one second apart
/// starting at 2024-05-01T10:00:00Z, accounts in turn.
pub fn findings(region: &str, n: usize) -> Vec<Value> {
    let template = read_json("finding-template.json");
    let prefix: u32 = region.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    (0..n)
        .map(|i| {
            let mut f = template.clone();
            let id = format!("{prefix:08x}{i:024x}");
            let account = ACCOUNTS[i % ACCOUNTS.len()];
            let t = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z").unwrap().timestamp_millis() + i as i64 * 1000;
            let iso = chrono::DateTime::from_timestamp_millis(t).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            f["id"] = id.clone().into();
            f["accountId"] = account.into();
            f["region"] = region.into();
            f["arn"] = format!("arn:aws:guardduty:{region}:{account}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/{id}").into();
            f["updatedAt"] = iso.into();
            f["severity"] = [2.0, 5.0, 8.0, 9.5][i % 4].into();
            f
        })
        .collect()
}

/// The test settings: fast backoff, generous rate, endpoints at the fixture.
pub fn config(endpoint: &str, regions: &[&str]) -> AwsConfig {
    AwsConfig {
        regions: regions.iter().map(|r| r.to_string()).collect(),
        concurrency: 3,
        max_requests_per_second: 1000.0,
        endpoint_url_guardduty: Some(endpoint.to_string()),
        endpoint_url_detective: Some(endpoint.to_string()),
        initial_backoff_ms: 5,
        sdk_max_attempts: 3,
        outer_attempts: 6,
        ..AwsConfig::default()
    }
}

/// An `AwsSource` with static test credentials (no profile, no IMDS).
pub async fn source(config: AwsConfig) -> AwsSource {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "AKIDGDLENSTEST",
            "gdlens-test-secret",
            None,
            None,
            "gdlens-test",
        ))
        .region(Region::new("us-east-1"))
        .load()
        .await;
    AwsSource::with_sdk_config(config, sdk)
}

/// The regions of [`four_regions`]: two with findings, one without a detector, one AccessDenied.
pub const FOUR_REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "sa-east-1", "ap-south-1"];

/// A fixture with `east` in us-east-1 (default detector, members), `west` in eu-west-1 (a named
/// detector), no detector in sa-east-1 and AccessDenied in ap-south-1.
pub fn four_regions(east: &[Value], west: &[Value]) -> FixtureState {
    FixtureServer::builder()
        .region("us-east-1", None, east.to_vec())
        .region(
            "eu-west-1",
            Some("feedfacefeedfacefeedfacefeedface"),
            west.to_vec(),
        )
        .members(
            "us-east-1",
            serde_json::from_value(read_json("members.json")).unwrap(),
        )
        .no_detector("sa-east-1")
        .access_denied("ap-south-1")
        .build()
}
