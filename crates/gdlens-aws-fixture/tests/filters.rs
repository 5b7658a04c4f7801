//! The filter operations over HTTP, as GuardDuty answers them: errors (status, `x-amzn-ErrorType`),
//! rank order deciding between an ARCHIVE and a NOOP filter, and existing findings untouched.

use gdlens_aws_fixture::{spawn, FixtureState};
use serde_json::{json, Value};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/guardduty/aws4_request, SignedHeaders=host, Signature=0";

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut req = client.request(method, url).header("authorization", AUTH);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    (
        status,
        kind,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn finding(id: &str, severity: f64) -> Value {
    json!({"id": id, "accountId": "111122223333", "region": "us-east-1", "type": "Recon:EC2/Portscan",
           "severity": severity, "updatedAt": "2024-01-01T00:00:00.000Z",
           "service": {"archived": false}, "resource": {"resourceType": "Instance"}})
}

#[tokio::test]
async fn filter_api_errors_rank_order_and_birth_only_archiving() {
    let state = FixtureState::builder()
        .region("us-east-1", None, vec![finding("old", 2.0)])
        .build();
    let detector = state.detector_id("us-east-1").unwrap();
    let fixture = spawn(state.clone()).await.unwrap();
    let base = format!("{}/detector/{detector}/filter", fixture.endpoint_url());
    let c = reqwest::Client::new();
    use reqwest::Method as M;

    let low = json!({"criterion": {"severity": {"lt": 4}}});
    let (s, _, _) = call(
        &c,
        M::POST,
        base.clone(),
        Some(
            json!({"name": "archive-low", "action": "ARCHIVE", "rank": 2, "findingCriteria": low}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    // Same name again, a bad name, bad criteria, a bad rank: BadRequestException.
    for body in [
        json!({"name": "archive-low", "action": "ARCHIVE", "findingCriteria": low}),
        json!({"name": "x", "action": "ARCHIVE", "findingCriteria": low}),
        json!({"name": "bad-op", "action": "ARCHIVE", "findingCriteria": {"criterion": {"severity": {"like": 4}}}}),
        json!({"name": "bad-rank", "action": "ARCHIVE", "rank": 101, "findingCriteria": low}),
    ] {
        let (s, kind, _) = call(&c, M::POST, base.clone(), Some(body.clone())).await;
        assert_eq!((s, kind.as_str()), (400, "BadRequestException"), "{body}");
    }
    let (s, kind, _) = call(&c, M::GET, format!("{base}/nope"), None).await;
    assert_eq!((s, kind.as_str()), (400, "BadRequestException"));

    // The existing finding is untouched; a new Low one is archived at birth.
    state.put_finding("us-east-1", finding("new-low", 2.0));
    state.put_finding("us-east-1", finding("new-high", 8.0));
    assert_eq!(
        state.finding("us-east-1", "old").unwrap()["service"]["archived"],
        false
    );
    assert_eq!(
        state.finding("us-east-1", "new-low").unwrap()["service"]["archived"],
        true
    );
    assert_eq!(
        state.finding("us-east-1", "new-high").unwrap()["service"]["archived"],
        false
    );

    // A NOOP filter ranked first keeps what it matches.
    let keep = json!({"criterion": {"id": {"matches": ["keep-*"]}}});
    let (s, _, _) = call(
        &c,
        M::POST,
        base.clone(),
        Some(json!({"name": "keep", "action": "NOOP", "rank": 1, "findingCriteria": keep})),
    )
    .await;
    assert_eq!(s, 200);
    state.put_finding("us-east-1", finding("keep-low", 2.0));
    assert_eq!(
        state.finding("us-east-1", "keep-low").unwrap()["service"]["archived"],
        false
    );

    // GetFilter gives the criteria back with current operator names; ListFilters the names.
    let (_, _, f) = call(&c, M::GET, format!("{base}/archive-low"), None).await;
    assert_eq!(
        f["findingCriteria"],
        json!({"criterion": {"severity": {"lessThan": 4}}})
    );
    assert_eq!(
        (f["action"].as_str(), f["rank"].as_i64()),
        (Some("ARCHIVE"), Some(2))
    );
    let (_, _, l) = call(&c, M::GET, base.clone(), None).await;
    assert_eq!(l["filterNames"], json!(["archive-low", "keep"]));

    // UpdateFilter changes the action; DeleteFilter removes it.
    let (s, _, _) = call(
        &c,
        M::POST,
        format!("{base}/archive-low"),
        Some(json!({"action": "NOOP"})),
    )
    .await;
    assert_eq!(s, 200);
    state.put_finding("us-east-1", finding("after-update", 2.0));
    assert_eq!(
        state.finding("us-east-1", "after-update").unwrap()["service"]["archived"],
        false
    );
    let (s, _, _) = call(&c, M::DELETE, format!("{base}/archive-low"), None).await;
    assert_eq!(s, 200);
    let (s, _, _) = call(&c, M::DELETE, format!("{base}/archive-low"), None).await;
    assert_eq!(s, 400);
}
