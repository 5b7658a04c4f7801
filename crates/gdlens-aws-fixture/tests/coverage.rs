//! GetDetector and GetMemberDetectors over HTTP, as GuardDuty answers them: features per member,
//! non-members and members without a detector in `unprocessedAccounts`, and the errors (a
//! detector id the region does not own, more than 50 account ids).

use gdlens_aws_fixture::{default_features, spawn, FixtureState};
use serde_json::{json, Value};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/guardduty/aws4_request, SignedHeaders=host, Signature=0";

async fn call(c: &reqwest::Client, url: String, body: Option<Value>) -> (u16, String, Value) {
    let req = match body {
        Some(b) => c.post(url).json(&b),
        None => c.get(url),
    };
    let resp = req.header("authorization", AUTH).send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let v = serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null);
    (status, kind, v)
}

fn member(id: &str, status: &str) -> Value {
    json!({"accountId": id, "detectorId": "d", "administratorId": "999999999999",
           "email": format!("{id}@example.com"), "relationshipStatus": status,
           "invitedAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-02T00:00:00.000Z"})
}

#[tokio::test]
async fn member_detectors_and_the_administrators_detector() {
    let mut eks_off = default_features("ENABLED");
    eks_off[4]["status"] = json!("DISABLED");
    let state = FixtureState::builder()
        .region("us-east-1", None, vec![])
        .members(
            "us-east-1",
            vec![
                member("111122223333", "Enabled"),
                member("444455556666", "Invited"),
            ],
        )
        .member_features("us-east-1", "111122223333", eks_off.clone())
        .detector_features("us-east-1", default_features("DISABLED"))
        .build();
    let detector = state.detector_id("us-east-1").unwrap();
    let fixture = spawn(state.clone()).await.unwrap();
    let base = fixture.endpoint_url();
    let c = reqwest::Client::new();

    let url = format!("{base}/detector/{detector}/member/detector/get");
    let (s, _, v) = call(
        &c,
        url.clone(),
        Some(json!({"accountIds": ["111122223333", "444455556666", "123456789012"]})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["members"].as_array().unwrap().len(), 1);
    assert_eq!(v["members"][0]["accountId"], "111122223333");
    assert_eq!(v["members"][0]["features"], json!(eks_off));
    let unprocessed: Vec<&str> = v["unprocessedAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(unprocessed, ["444455556666", "123456789012"]);

    // 51 ids, none, a malformed id and a foreign detector id are rejected.
    let many: Vec<String> = (0..51).map(|i| format!("{:012}", i)).collect();
    for body in [
        json!({ "accountIds": many }),
        json!({ "accountIds": [] }),
        json!({ "accountIds": ["12"] }),
    ] {
        let (s, kind, _) = call(&c, url.clone(), Some(body)).await;
        assert_eq!((s, kind.as_str()), (400, "BadRequestException"));
    }
    let (s, kind, _) = call(
        &c,
        format!("{base}/detector/0000/member/detector/get"),
        Some(json!({"accountIds": ["111122223333"]})),
    )
    .await;
    assert_eq!((s, kind.as_str()), (400, "BadRequestException"));

    let (s, _, v) = call(&c, format!("{base}/detector/{detector}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "ENABLED");
    assert_eq!(v["features"], json!(default_features("DISABLED")));
    let (s, kind, _) = call(&c, format!("{base}/detector/0000"), None).await;
    assert_eq!((s, kind.as_str()), (400, "BadRequestException"));
}
