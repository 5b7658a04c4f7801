use serde_json::json;

use super::*;
use crate::SeverityLabel;

fn ssh_brute_force() -> Value {
    json!({
        "accountId": "111122223333",
        "arn": "arn:aws:guardduty:us-east-1:111122223333:detector/d1/finding/f1",
        "createdAt": "2024-05-01T10:00:00.000Z",
        "updatedAt": "2024-05-02T10:00:00Z",
        "id": "f1",
        "partition": "aws",
        "region": "us-east-1",
        "schemaVersion": "2.0",
        "severity": 8,
        "title": "SSH brute force",
        "description": "…",
        "type": "UnauthorizedAccess:EC2/SSHBruteForce",
        "resource": {
            "resourceType": "Instance",
            "instanceDetails": {
                "instanceId": "i-0abc",
                "iamInstanceProfile": {"arn": "arn:aws:iam::111122223333:instance-profile/web", "id": "X"},
                "networkInterfaces": [{"publicIp": "54.1.2.3", "privateIpAddress": "10.0.0.1"}],
                "launchTime": 1_556_000_000_000_i64
            }
        },
        "service": {
            "archived": false,
            "count": 42,
            "eventFirstSeen": "2024-05-01T09:00:00Z",
            "eventLastSeen": "2024-05-02T09:59:00.5Z",
            "resourceRole": "TARGET",
            "additionalInfo": {"value": "{}", "type": "default"},
            "action": {
                "actionType": "NETWORK_CONNECTION",
                "networkConnectionAction": {
                    "connectionDirection": "INBOUND",
                    "remoteIpDetails": {"ipAddressV4": "198.51.100.7", "country": {"countryCode": "NL"},
                        "organization": {"asn": 1234, "asnOrg": "Example BV"}},
                    "localPortDetails": {"port": 22, "portName": "SSH"}
                }
            }
        },
        "someFieldFromTheFuture": {"x": 1}
    })
}

#[test]
fn normalizes_an_instance_finding() {
    let f = normalize(&ssh_brute_force()).unwrap();
    assert_eq!(f.id, "f1");
    assert_eq!(f.account_id, "111122223333");
    assert_eq!(f.severity_label(), SeverityLabel::High);
    assert_eq!(f.resource_key.as_deref(), Some("i-0abc"));
    assert_eq!(f.resource.public_ips, vec!["54.1.2.3"]);
    assert_eq!(f.count, 42);
    assert_eq!(f.resource_role, Some(ResourceRole::Target));
    assert_eq!(f.activity.remote_ips, vec!["198.51.100.7"]);
    assert_eq!(f.activity.remote_countries, vec!["NL"]);
    assert_eq!(f.activity.local_ports, vec![22]);
    assert_eq!(f.event_last_seen, Some(1_714_643_940_500));
    assert!(!f.sample);
    assert_eq!(f.type_parts().family, "SSHBruteForce");
}

#[test]
fn normalizes_pascal_case_cli_output() {
    let v = json!({
        "AccountId": "111122223333", "Id": "f2", "Type": "Recon:IAMUser/MaliciousIPCaller",
        "Severity": 5.0, "CreatedAt": "2024-05-01T10:00:00Z", "UpdatedAt": "2024-05-01T10:00:00Z",
        "Region": "eu-west-1",
        "Resource": {"ResourceType": "AccessKey", "AccessKeyDetails": {"AccessKeyId": "AKIAX", "UserName": "bob"}},
        "Service": {"Archived": true, "Count": 2, "AdditionalInfo": {"Sample": true},
            "Action": {"ActionType": "AWS_API_CALL", "AwsApiCallAction": {"Api": "ListBuckets",
                "UserAgent": "curl/8", "RemoteIpDetails": {"IpAddressV4": "203.0.113.9"}}}}
    });
    let f = normalize(&v).unwrap();
    assert_eq!(f.resource_key.as_deref(), Some("AKIAX"));
    assert!(f.archived);
    assert!(f.sample);
    assert_eq!(f.activity.api.as_deref(), Some("ListBuckets"));
    assert_eq!(f.activity.user_agent.as_deref(), Some("curl/8"));
    assert_eq!(f.activity.remote_ips, vec!["203.0.113.9"]);
}

#[test]
fn missing_required_fields_are_named() {
    let mut v = ssh_brute_force();
    v.as_object_mut().unwrap().remove("id");
    assert_eq!(normalize(&v), Err(NormalizeError::Missing("id")));
    let mut v = ssh_brute_force();
    v["severity"] = json!("high");
    assert_eq!(normalize(&v).unwrap_err().code(), "invalid_field");
    let mut v = ssh_brute_force();
    v["updatedAt"] = json!("soon");
    assert_eq!(
        normalize(&v).unwrap_err().to_string(),
        "field `updatedAt`: not a timestamp"
    );
    assert_eq!(normalize(&json!([1])), Err(NormalizeError::NotAnObject));
}

#[test]
fn account_and_region_fall_back_to_the_arn() {
    let mut v = ssh_brute_force();
    let o = v.as_object_mut().unwrap();
    o.remove("accountId");
    o.remove("region");
    let f = normalize(&v).unwrap();
    assert_eq!(f.account_id, "111122223333");
    assert_eq!(f.region, "us-east-1");
}

#[test]
fn attack_sequence_is_parsed() {
    let v = json!({
        "accountId": "111122223333", "id": "seq1", "type": "AttackSequence:IAM/CompromisedCredentials",
        "severity": 9.5, "createdAt": "2024-05-01T10:00:00Z", "updatedAt": "2024-05-01T11:00:00Z",
        "resource": {"resourceType": "AttackSequence"},
        "service": {"detection": {"sequence": {
            "uid": "u1",
            "signals": [{"uid": "f1", "type": "FINDING", "name": "Discovery:IAMUser/AnomalousBehavior",
                "firstSeenAt": 1714557600.5, "resourceUids": ["r1"], "actorIds": ["a1"]}],
            "actors": [{"id": "a1", "user": {"name": "bob", "account": {"uid": "111122223333"}},
                "session": {"uid": ["s1"]}}],
            "resources": [{"uid": "r1", "name": "bucket-x", "resourceType": "S3Bucket"}],
            "endpoints": [{"id": "e1", "ip": "203.0.113.9", "location": {"country": "NL"}}],
            "sequenceIndicators": [{"key": "ATTACK_TACTIC", "values": ["Discovery", "Exfiltration"]}]
        }}}
    });
    let f = normalize(&v).unwrap();
    assert!(f.is_attack_sequence());
    let s = f.sequence.unwrap();
    assert_eq!(s.signals[0].first_seen_at, Some(1_714_557_600_500));
    assert_eq!(s.actors[0].session_uid.as_deref(), Some("s1"));
    assert_eq!(
        s.tactic_names().collect::<Vec<_>>(),
        vec!["Discovery", "Exfiltration"]
    );
    assert_eq!(s.endpoints[0].country.as_deref(), Some("NL"));
}

/// The borrowed parse (bulk import) and the `Value` entry point (AWS sync) give the same finding,
/// including escaped strings, repeated keys (last wins), PascalCase and nested remote details
/// visited in key order.
#[test]
fn borrowed_parse_matches_value_normalize() {
    let texts = [
        ssh_brute_force().to_string(),
        r#"{"Id":"p1","Type":"Recon:EC2/Portscan","AccountId":"1","Severity":"5.5","UpdatedAt":1700000000,
           "Title":"t\u00e9\"x\"","Service":{"Count":"3","Archived":"TRUE","AdditionalInfo":{"Value":"{\"sample\":true}"},
           "Action":{"zAction":{"remoteIpDetails":{"ipAddressV4":"9.9.9.9"}},
                     "aAction":{"remoteIpDetails":{"ipAddressV4":"1.1.1.1"},"localPortDetails":{"port":22}},
                     "aAction":{"remoteIpDetails":{"ipAddressV4":"2.2.2.2"}}}}}"#
            .to_string(),
        r#"{"id":"d","id":"d2","type":"T","accountId":"1","severity":2.0,"createdAt":"2024-01-01T00:00:00Z",
           "service":{"count":-4,"action":[{"remoteIpDetails":{"ipAddressV6":"::1"}}]}}"#
            .to_string(),
        r#"{"id":"bad","type":"T","accountId":"1","severity":true,"updatedAt":"2024-01-01T00:00:00Z"}"#.to_string(),
        "[1]".to_string(),
    ];
    for text in &texts {
        let value: Value = serde_json::from_str(text).unwrap();
        let borrowed = JsonRef::parse(text).unwrap();
        assert_eq!(normalize_json(&borrowed), normalize(&value), "{text}");
    }
    let f = normalize_json(&JsonRef::parse(&texts[1]).unwrap()).unwrap();
    assert_eq!(f.activity.remote_ips, vec!["2.2.2.2", "9.9.9.9"]);
    assert_eq!((f.count, f.archived, f.sample), (3, true, true));
    assert_eq!(f.title, "té\"x\"");
    let d = normalize_json(&JsonRef::parse(&texts[2]).unwrap()).unwrap();
    assert_eq!((d.id.as_str(), d.count), ("d2", 1));
}

/// Nanoseconds read as milliseconds, pre-2000 instants and garbage in the event times are
/// rejected naming the field and the value, never imported as 1970-01-01.
#[test]
fn out_of_range_timestamps_are_rejected_with_field_and_value() {
    let cases = [
        (
            "updatedAt",
            json!(198_285_174_417_600_000_i64),
            "field `updatedAt`: timestamp 198285174417600000 is outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z",
        ),
        (
            "createdAt",
            json!("1970-01-01T00:00:00Z"),
            "field `createdAt`: timestamp \"1970-01-01T00:00:00Z\" is outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z",
        ),
        (
            "updatedAt",
            json!("2200-01-01T00:00:00Z"),
            "field `updatedAt`: timestamp \"2200-01-01T00:00:00Z\" is outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z",
        ),
        (
            "updatedAt",
            json!(-5),
            "field `updatedAt`: timestamp -5 is outside 2000-01-01T00:00:00Z..2200-01-01T00:00:00Z",
        ),
    ];
    for (field, value, message) in cases {
        let mut v = ssh_brute_force();
        v[field] = value;
        let e = normalize(&v).unwrap_err();
        assert_eq!(e.code(), "timestamp_out_of_range");
        assert_eq!(e.to_string(), message);
    }
    let mut v = ssh_brute_force();
    v["service"]["eventFirstSeen"] = json!(1e15);
    let e = normalize(&v).unwrap_err();
    assert_eq!(e.code(), "timestamp_out_of_range");
    assert!(e.to_string().contains("`service.eventFirstSeen`"), "{e}");
    let mut v = ssh_brute_force();
    v["service"]["eventLastSeen"] = json!("last tuesday");
    assert_eq!(
        normalize(&v).unwrap_err().to_string(),
        "field `service.eventLastSeen`: not a timestamp"
    );
    // The range ends are 2000-01-01 inclusive and 2200-01-01 exclusive; null event times are absent.
    let mut v = ssh_brute_force();
    v["createdAt"] = json!("2000-01-01T00:00:00Z");
    v["updatedAt"] = json!("2199-12-31T23:59:59.999Z");
    v["service"]["eventFirstSeen"] = json!(null);
    let f = normalize(&v).unwrap();
    assert_eq!(f.created_at, crate::time::MIN_TIMESTAMP_MS);
    assert_eq!(f.updated_at, crate::time::MAX_TIMESTAMP_MS - 1);
    assert_eq!(f.event_first_seen, None);
    // A long value is cut short in the message.
    let mut v = ssh_brute_force();
    v["updatedAt"] = json!(format!("1900-01-01T00:00:00Z{}", "x".repeat(500)));
    assert!(normalize(&v).unwrap_err().to_string().len() < 200);
}
