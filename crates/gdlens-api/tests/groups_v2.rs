//! Finding groups v2 through GraphQL: a one-tactic escalation group, its Detective
//! investigation (linked through the finding id the sync keeps) with the console link of a
//! Detective finding group, an attack sequence in full (unknown signal types and indicator keys
//! kept), group triage state and "changed since".

mod common;

use common::{fixture, TestServer, ADMIN, TRIAGER_111, VIEWER_222_333};
use gdlens_api::Config;
use serde_json::{json, Value};

const FAIL: &str = "rdsfail0000000000000000000000001";
const OKAY: &str = "rdsokay0000000000000000000000002";

fn investigation(
    id: &str,
    entity: &str,
    related: &[&str],
    indicators: Value,
) -> gdlens_store::Investigation {
    gdlens_store::Investigation {
        graph_arn: "arn:aws:detective:eu-west-1:111111111111:graph:g1".into(),
        investigation_id: id.into(),
        entity_arn: entity.into(),
        entity_type: "IAM_USER".into(),
        status: "SUCCESSFUL".into(),
        severity: "HIGH".into(),
        state: "ACTIVE".into(),
        created_at: 1_717_200_000_000,
        scope_start: None,
        scope_end: None,
        indicators_json: indicators.to_string(),
        related_finding_ids: related.iter().map(|s| s.to_string()).collect(),
        related_finding_group_ids: Vec::new(),
    }
}

async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = gdlens_store::Store::open(dir.path()).unwrap();
        store
            .replace_investigations(&[
                // Names the successful login (as the sync stores RelatedFindingDetail.Arn) and a
                // Detective finding group.
                investigation(
                    "inv-rds",
                    "arn:aws:iam::111111111111:user/dba",
                    &[OKAY],
                    json!([
                        {"IndicatorType": "RELATED_FINDING_GROUP",
                         "IndicatorDetail": {"RelatedFindingGroupDetail": {"Id": "dfg-123"}}},
                        {"IndicatorType": "RELATED_FINDING",
                         "IndicatorDetail": {"RelatedFindingDetail": {
                            "Arn": "arn:aws:guardduty:us-east-1:999999999999:detector/d/finding/elsewhere"}}}
                    ]),
                ),
                // Only through its raw indicators: the flagged address the group involves.
                investigation(
                    "inv-ip",
                    "arn:aws:iam::111111111111:user/other",
                    &[],
                    json!([
                        {"IndicatorType": "FLAGGED_IP_ADDRESS",
                         "IndicatorDetail": {"FlaggedIpAddressDetail": {"IpAddress": "198.51.100.23"}}}
                    ]),
                ),
                // Unrelated.
                investigation(
                    "inv-none",
                    "arn:aws:iam::111111111111:user/nobody",
                    &["somewhere-else"],
                    json!([]),
                ),
            ])
            .unwrap();
    }
    let config = Config::load(&fixture("config.toml")).unwrap();
    TestServer::start_in(dir, config, None, "groups-v2.ndjson").await
}

const GROUPS: &str = "query($t: [TriageStatus!], $since: DateTime) {
  findingGroups(first: 50, triage: $t, changedSince: $since) {
    totalCount
    nodes {
      id source accounts triageStatus updatedAt findingCount
      tactics { name }
      findings { id }
      investigations { id relatedFindingIds detectiveFindingGroups { id consoleUrl } }
      attackSequence {
        uid description additionalSequenceTypes
        signals { uid type name findingId signalIndicators { key values } }
        actors { id userName userType credentialUid accountId }
        resources { uid resourceType }
        endpoints { id ip country autonomousSystem }
        sequenceIndicators { key title values }
      }
    }
  }
}";

fn by_source<'a>(d: &'a Value, source: &str) -> &'a Value {
    d["findingGroups"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["source"] == source)
        .unwrap_or_else(|| panic!("no {source} group in {d}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_groups_link_investigations_and_sequences_in_full() {
    let s = server().await;
    let d = s.data(ADMIN, GROUPS, json!({})).await;

    // Failed logins then a successful brute force: one tactic, one group.
    let rds = by_source(&d, "correlation");
    let ids: Vec<&str> = rds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [FAIL, OKAY]);
    assert_eq!(rds["tactics"], json!([{"name": "Credential Access"}]));
    assert_eq!(rds["accounts"], json!(["111111111111"]));
    assert_eq!(rds["triageStatus"], "NEW");

    // Detective: linked through the finding id and through the flagged address, not the rest.
    let invs = rds["investigations"].as_array().unwrap();
    let inv_ids: Vec<&str> = invs.iter().map(|i| i["id"].as_str().unwrap()).collect();
    // Newest first, then by id (same creation time here).
    assert_eq!(inv_ids, ["inv-ip", "inv-rds"]);
    assert_eq!(invs[0]["relatedFindingIds"], json!([]));
    assert_eq!(invs[1]["relatedFindingIds"], json!([OKAY]));
    assert_eq!(
        invs[1]["detectiveFindingGroups"],
        json!([{"id": "dfg-123", "consoleUrl": "https://console.aws.amazon.com/detective/home?region=eu-west-1#groups/dfg-123"}])
    );
    assert!(rds["attackSequence"].is_null());

    // The attack sequence, in full; unknown signal types and indicator keys pass through.
    let seq = &by_source(&d, "attack_sequence")["attackSequence"];
    assert_eq!(seq["uid"], "seq-123");
    assert_eq!(
        seq["additionalSequenceTypes"],
        json!(["AttackSequence:S3/CompromisedData"])
    );
    let signals = seq["signals"].as_array().unwrap();
    assert!(signals
        .iter()
        .any(|x| x["type"] == "FINDING" && x["findingId"] == "b1b2c3d4e5f60718293a4b5c6d7e8f91"));
    let raw = signals
        .iter()
        .find(|x| x["type"] == "SOMETHING_NEW_2027")
        .expect("an unknown signal type is kept");
    assert!(raw["findingId"].is_null());
    assert_eq!(raw["signalIndicators"][0]["key"], "MALICIOUS_PACKAGE");
    let keys: Vec<&str> = seq["sequenceIndicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"ATTACK_TACTIC") && keys.contains(&"QUANTUM_THING"),
        "{keys:?}"
    );
    assert_eq!(seq["actors"][0]["userName"], "deploy-bot");
    assert_eq!(seq["actors"][0]["credentialUid"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(seq["endpoints"][0]["ip"], "192.0.2.66");
    assert_eq!(seq["endpoints"][0]["autonomousSystem"], "Tor exit");

    // Triage per group: resolve the RDS group, filter by state.
    let rds_id = rds["id"].as_str().unwrap().to_string();
    let (status, body) = s
        .post(
            Some(ADMIN),
            "mutation($g: ID!) { setTriage(groupId: $g, status: RESOLVED) { status } }",
            json!({"g": rds_id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let d = s.data(ADMIN, GROUPS, json!({"t": ["NEW"]})).await;
    assert!(d["findingGroups"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["id"] != rds_id.as_str() && g["triageStatus"] == "NEW"));
    let d = s.data(ADMIN, GROUPS, json!({"t": ["RESOLVED"]})).await;
    assert_eq!(d["findingGroups"]["totalCount"], 1);
    assert_eq!(d["findingGroups"]["nodes"][0]["id"], rds_id.as_str());

    // Changed since: nothing changed after the RDS group's last update; everything after 2020.
    let updated = d["findingGroups"]["nodes"][0]["updatedAt"]
        .as_str()
        .unwrap()
        .to_string();
    let d = s
        .data(ADMIN, GROUPS, json!({"since": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(d["findingGroups"]["totalCount"], 2);
    let d = s
        .data(ADMIN, GROUPS, json!({"since": "2030-01-01T00:00:00Z"}))
        .await;
    assert_eq!(d["findingGroups"]["totalCount"], 0);
    let d = s.data(ADMIN, GROUPS, json!({"since": updated})).await;
    assert!(d["findingGroups"]["totalCount"].as_u64().unwrap() >= 1);

    // A caller scoped to 111111111111 sees the investigation but not the indicator naming a
    // finding of another account; the admin sees both.
    let q = "query($id: ID!) { findingGroup(id: $id) { investigations { id indicators } } }";
    let count = |d: &Value| {
        d["findingGroup"]["investigations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == "inv-rds")
            .map(|i| i["indicators"].as_array().unwrap().len())
    };
    let all = s.data(ADMIN, q, json!({"id": rds_id})).await;
    assert_eq!(count(&all), Some(2));
    let scoped = s.data(TRIAGER_111, q, json!({"id": rds_id})).await;
    assert_eq!(count(&scoped), Some(1));

    // A caller without account 111111111111 sees neither the group nor its investigations.
    let d = s.data(VIEWER_222_333, GROUPS, json!({})).await;
    assert!(d["findingGroups"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["investigations"].as_array().unwrap().is_empty()));
}
