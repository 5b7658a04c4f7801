//! OIDC sign-in against a local test issuer: RSA and P-256 keys generated here, a JWKS served on
//! 127.0.0.1 (or written to a file), tokens signed here, and the real server (`serve_on`) checking
//! them. Every claim case, key rotation, the JWKS refresh rate limit, grants, the audit trail.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::routing::get;
use base64::Engine as _;
use common::{fixture, TestServer, ADMIN};
use gdlens_api::config::{AccountsScope, GrantConfig, OidcConfig};
use gdlens_api::{Config, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

const ISSUER: &str = "https://login.test.example/";
const AUDIENCE: &str = "gdlens";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One signing key of the test issuer.
struct TestKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn rsa_key(kid: &str) -> TestKey {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let der = key.to_pkcs1_der().unwrap();
    TestKey {
        kid: kid.into(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())}),
    }
}

fn ec_key(kid: &str) -> TestKey {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    TestKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "kid": kid, "crv": "P-256", "use": "sig",
            "x": b64(&point[1..33]), "y": b64(&point[33..65])}),
    }
}

/// The issuer's keys, generated once per test binary (RSA generation takes a moment).
struct Keys {
    rsa1: TestKey,
    rsa2: TestKey,
    /// Never published.
    rogue: TestKey,
    ec: TestKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa1: rsa_key("rsa-1"),
        rsa2: rsa_key("rsa-2"),
        rogue: rsa_key("rogue"),
        ec: ec_key("ec-1"),
    })
}

fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Standard claims for `sub` in `groups`, valid for 10 minutes.
fn claims(sub: &str, groups: &[&str]) -> Value {
    let now = now();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "email": format!("{sub}@example.com"),
        "groups": groups, "iat": now, "nbf": now - 5, "exp": now + 600})
}

/// Signs `claims` with `key`, naming `kid` (the key's own unless given).
fn sign(key: &TestKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(kid.unwrap_or(&key.kid).to_string());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// The test issuer's JWKS endpoint: serves whatever `jwks` holds, counts fetches.
struct Issuer {
    addr: SocketAddr,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl Issuer {
    async fn start(initial: Value) -> Issuer {
        let jwks = Arc::new(Mutex::new(initial));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (j, f) = (jwks.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/jwks",
            get(move || {
                let (j, f) = (j.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    axum::Json(j.lock().unwrap().clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer {
            addr,
            jwks,
            fetches,
        }
    }

    fn publish(&self, v: Value) {
        *self.jwks.lock().unwrap() = v;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn grant(group: &str, role: Role, accounts: &[&str]) -> GrantConfig {
    GrantConfig {
        group: group.into(),
        role,
        accounts: if accounts == ["*"] {
            AccountsScope::Star("*".into())
        } else {
            AccountsScope::List(accounts.iter().map(|s| s.to_string()).collect())
        },
    }
}

fn oidc_config(jwks_url: Option<String>, jwks_file: Option<std::path::PathBuf>) -> OidcConfig {
    OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_file,
        jwks_url,
        groups_claim: "groups".into(),
        clock_skew_seconds: 60,
        jwks_refresh_min_seconds: 0,
        jwks_cache_seconds: 3600,
        client_id: Some("gdlens-web".into()),
        authorization_endpoint: None,
        token_endpoint: None,
        scopes: "openid email profile".into(),
        grants: vec![
            grant("soc-admins", Role::Admin, &["*"]),
            grant("team-payments", Role::Triager, &["111111111111"]),
            grant("auditors", Role::Viewer, &["222222222222", "333333333333"]),
        ],
    }
}

/// The fixture server (static tokens too) with `[auth.oidc]`.
async fn server(oidc: OidcConfig) -> TestServer {
    let mut config = Config::load(&fixture("config.toml")).unwrap();
    config.auth.oidc = Some(oidc);
    config.validate().unwrap();
    TestServer::start_in(
        tempfile::tempdir().unwrap(),
        config,
        None,
        "findings.ndjson",
    )
    .await
}

const VIEWER: &str = "{ viewer { name authMethod subject email role accounts } }";

/// (status, first error code, first error message, WWW-Authenticate).
async fn refused(s: &TestServer, token: &str) -> (u16, String, String, String) {
    let resp = s
        .client
        .post(s.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": VIEWER}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, code, message, www)
}

async fn assert_unauthenticated(s: &TestServer, token: &str, reason: &str) {
    let (status, code, message, www) = refused(s, token).await;
    assert_eq!(
        (status, code.as_str()),
        (401, "UNAUTHENTICATED"),
        "{reason}: {message}"
    );
    assert!(message.contains(reason), "want `{reason}` in: {message}");
    assert!(www.starts_with("Bearer"), "{www}");
    // The token never comes back.
    assert!(!message.contains(token) && !www.contains(token));
}

#[tokio::test]
async fn every_claim_case() {
    let k = keys();
    let issuer = Issuer::start(jwks(&[&k.rsa1, &k.ec])).await;
    let s = server(oidc_config(
        Some(format!("http://{}/jwks", issuer.addr)),
        None,
    ))
    .await;

    // Valid RS256 and ES256 tokens.
    let token = sign(&k.rsa1, None, &claims("alice", &["team-payments"]));
    let v = s.data(&token, VIEWER, json!({})).await;
    assert_eq!(
        v["viewer"],
        json!({"name": "alice@example.com", "authMethod": "oidc", "subject": "alice",
            "email": "alice@example.com", "role": "triager", "accounts": ["111111111111"]})
    );
    let es = sign(&k.ec, None, &claims("erin", &["soc-admins"]));
    let v = s.data(&es, VIEWER, json!({})).await;
    assert_eq!(v["viewer"]["role"], "admin");
    assert_eq!(v["viewer"]["accounts"], Value::Null);

    // No `kid`: the set's only key for the token's algorithm.
    let no_kid = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims("alice", &["team-payments"]),
        &k.rsa1.encoding,
    )
    .unwrap();
    s.data(&no_kid, VIEWER, json!({})).await;

    // Scope applies: alice sees account 111 only.
    let count = |d: Value| d["findings"]["totalCount"].as_i64().unwrap();
    let q = "{ findings(first: 1) { totalCount } }";
    let all = count(s.data(ADMIN, q, json!({})).await);
    let q111 = r#"{ findings(first: 1, filter: {accountIds: ["111111111111"]}) { totalCount } }"#;
    let in_111 = count(s.data(ADMIN, q111, json!({})).await);
    assert!(in_111 > 0 && in_111 < all);
    assert_eq!(count(s.data(&token, q, json!({})).await), in_111);

    // Bad signature: a key the issuer never published, under a published kid.
    let forged = sign(&k.rogue, Some("rsa-1"), &claims("mallory", &["soc-admins"]));
    assert_unauthenticated(&s, &forged, "signature does not verify").await;
    // Claims altered after signing.
    let mut parts: Vec<&str> = token.split('.').collect();
    let tampered_claims = b64(claims("alice", &["soc-admins"]).to_string().as_bytes());
    parts[1] = &tampered_claims;
    assert_unauthenticated(&s, &parts.join("."), "signature does not verify").await;

    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims("alice", &["team-payments"]);
        f(&mut c);
        sign(&k.rsa1, None, &c)
    };
    assert_unauthenticated(
        &s,
        &with(&|c| c["iss"] = "https://evil.example/".into()),
        "wrong issuer",
    )
    .await;
    assert_unauthenticated(
        &s,
        &with(&|c| c["aud"] = "another-app".into()),
        "wrong audience",
    )
    .await;
    // `aud` as a list holding ours passes.
    s.data(
        &with(&|c| c["aud"] = json!(["another-app", AUDIENCE])),
        VIEWER,
        json!({}),
    )
    .await;
    for claim in ["exp", "iss", "aud", "sub"] {
        let t = with(&|c| {
            c.as_object_mut().unwrap().remove(claim);
        });
        let (status, code, ..) = refused(&s, &t).await;
        assert_eq!(
            (status, code.as_str()),
            (401, "UNAUTHENTICATED"),
            "without {claim}"
        );
    }

    // Expired beyond the 60 s skew; expired within it still passes.
    let expired = with(&|c| c["exp"] = (now() - 120).into());
    assert_unauthenticated(&s, &expired, "expired").await;
    let (.., www) = refused(&s, &expired).await;
    assert!(
        www.contains("invalid_token") && www.contains("expired"),
        "{www}"
    );
    s.data(
        &with(&|c| c["exp"] = (now() - 20).into()),
        VIEWER,
        json!({}),
    )
    .await;
    // Not valid yet beyond the skew; within it passes.
    assert_unauthenticated(&s, &with(&|c| c["nbf"] = (now() + 300).into()), "nbf").await;
    s.data(
        &with(&|c| c["nbf"] = (now() + 20).into()),
        VIEWER,
        json!({}),
    )
    .await;

    // Algorithm confusion: HS256 with the public key as the secret, and `none`.
    let hs_header = b64(br#"{"alg":"HS256","typ":"JWT","kid":"rsa-1"}"#);
    let body = b64(claims("mallory", &["soc-admins"]).to_string().as_bytes());
    let mac = {
        use ring::hmac;
        let key = hmac::Key::new(
            hmac::HMAC_SHA256,
            k.rsa1.jwk["n"].as_str().unwrap().as_bytes(),
        );
        b64(hmac::sign(&key, format!("{hs_header}.{body}").as_bytes()).as_ref())
    };
    assert_unauthenticated(&s, &format!("{hs_header}.{body}.{mac}"), "algorithm").await;
    let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    assert_unauthenticated(&s, &format!("{none_header}.{body}."), "").await;
    // Garbage that looks like a JWT.
    assert_unauthenticated(&s, "a.b.c", "").await;

    // Valid, but no group with a grant: FORBIDDEN (403), not UNAUTHENTICATED.
    for groups in [&["marketing"][..], &[]] {
        let t = sign(&k.rsa1, None, &claims("bob", groups));
        let (status, code, message, _) = refused(&s, &t).await;
        assert_eq!((status, code.as_str()), (403, "FORBIDDEN"), "{message}");
        assert!(message.contains("bob@example.com"), "{message}");
    }

    // Several groups: union of accounts, highest role.
    let both = sign(
        &k.rsa1,
        None,
        &claims("carol", &["auditors", "team-payments", "x"]),
    );
    let v = s.data(&both, VIEWER, json!({})).await;
    assert_eq!(v["viewer"]["role"], "triager");
    assert_eq!(
        v["viewer"]["accounts"],
        json!(["111111111111", "222222222222", "333333333333"])
    );

    // Static tokens keep working next to OIDC.
    let v = s.data(ADMIN, VIEWER, json!({})).await;
    assert_eq!(v["viewer"]["authMethod"], "token");
    assert_unauthenticated(&s, "not-a-token", "unknown token").await;
    // /api/auth/config tells the web frontend where to sign in, and needs no token.
    let cfg: Value = s
        .client
        .get(s.url("/api/auth/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["required"], true);
    assert_eq!(cfg["oidc"]["issuer"], ISSUER);
    assert_eq!(cfg["oidc"]["clientId"], "gdlens-web");
}

#[tokio::test]
async fn unknown_kid_refreshes_the_jwks_and_rotation_retires_old_keys() {
    let k = keys();
    let issuer = Issuer::start(jwks(&[&k.rsa1])).await;
    let s = server(oidc_config(
        Some(format!("http://{}/jwks", issuer.addr)),
        None,
    ))
    .await;
    let old = sign(&k.rsa1, None, &claims("alice", &["auditors"]));
    s.data(&old, VIEWER, json!({})).await;
    s.data(&old, VIEWER, json!({})).await;
    assert_eq!(issuer.fetches(), 1, "keys are cached");

    // The issuer rotates: rsa-2 published next to rsa-1, then rsa-1 retired.
    let new = sign(&k.rsa2, None, &claims("alice", &["auditors"]));
    assert_unauthenticated(&s, &new, "unknown signing key").await;
    issuer.publish(jwks(&[&k.rsa1, &k.rsa2]));
    s.data(&new, VIEWER, json!({})).await;
    assert_eq!(issuer.fetches(), 3, "an unknown kid reloads the JWKS");
    issuer.publish(jwks(&[&k.rsa2]));
    let newer_kid = sign(&k.ec, Some("ec-unknown"), &claims("alice", &["auditors"]));
    assert_unauthenticated(&s, &newer_kid, "unknown signing key").await;
    // That reload dropped rsa-1: tokens signed with the retired key are refused.
    assert_unauthenticated(&s, &old, "unknown signing key").await;
    s.data(&new, VIEWER, json!({})).await;
}

#[tokio::test]
async fn unknown_kids_reload_the_jwks_at_most_once_per_interval() {
    let k = keys();
    let issuer = Issuer::start(jwks(&[&k.rsa1])).await;
    let mut cfg = oidc_config(Some(format!("http://{}/jwks", issuer.addr)), None);
    cfg.jwks_refresh_min_seconds = 30;
    let s = server(cfg).await;
    s.data(
        &sign(&k.rsa1, None, &claims("a", &["auditors"])),
        VIEWER,
        json!({}),
    )
    .await;
    assert_eq!(issuer.fetches(), 1);
    for i in 0..5 {
        let t = sign(
            &k.rogue,
            Some(&format!("made-up-{i}")),
            &claims("m", &["soc-admins"]),
        );
        assert_unauthenticated(&s, &t, "unknown signing key").await;
    }
    assert_eq!(
        issuer.fetches(),
        1,
        "made-up kids must not hammer the issuer"
    );
}

#[tokio::test]
async fn unreachable_issuer_refuses_tokens_and_keeps_serving() {
    let k = keys();
    // Nothing listens on the port of a dropped listener.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = server(oidc_config(
        Some(format!("http://127.0.0.1:{port}/jwks")),
        None,
    ))
    .await;
    let t = sign(&k.rsa1, None, &claims("alice", &["auditors"]));
    assert_unauthenticated(&s, &t, "unknown signing key").await;
    s.data(ADMIN, VIEWER, json!({})).await;
}

#[tokio::test]
async fn jwks_file_is_reread_on_an_unknown_kid() {
    let k = keys();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&k.ec]).to_string()).unwrap();
    let s = server(oidc_config(None, Some(file.clone()))).await;
    s.data(
        &sign(&k.ec, None, &claims("a", &["auditors"])),
        VIEWER,
        json!({}),
    )
    .await;
    let rotated = sign(&k.rsa2, None, &claims("a", &["auditors"]));
    assert_unauthenticated(&s, &rotated, "unknown signing key").await;
    std::fs::write(&file, jwks(&[&k.ec, &k.rsa2]).to_string()).unwrap();
    s.data(&rotated, VIEWER, json!({})).await;
}

#[tokio::test]
async fn the_audit_trail_names_sub_and_email() {
    let k = keys();
    let issuer = Issuer::start(jwks(&[&k.rsa1])).await;
    let s = server(oidc_config(
        Some(format!("http://{}/jwks", issuer.addr)),
        None,
    ))
    .await;
    let t = sign(&k.rsa1, None, &claims("alice", &["team-payments"]));
    let set =
        r#"mutation { setTriage(findingIds: ["f0000aaaa"], status: ACKNOWLEDGED) { status } }"#;
    s.data(&t, set, json!({})).await;
    let d = s
        .data(
            &t,
            r#"{ finding(id: "f0000aaaa") { audit { actor action } } }"#,
            json!({}),
        )
        .await;
    let actors: Vec<&str> = d["finding"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"alice@example.com (oidc sub=alice email=alice@example.com)"),
        "{actors:?}"
    );
    // A viewer-role identity cannot triage: FORBIDDEN from the resolver.
    let viewer = sign(&k.rsa1, None, &claims("vic", &["auditors"]));
    let code = s
        .error_code(
            Some(&viewer),
            r#"mutation { setTriage(findingIds: ["f0001bbbb"], status: ACKNOWLEDGED) { status } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
}

#[test]
fn oidc_alone_lets_the_server_listen_beyond_loopback() {
    let mut config = Config::default();
    let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
    assert!(gdlens_api::check_listen_config(&config, public).is_err());
    config.auth.oidc = Some(oidc_config(
        Some("https://login.test.example/jwks".into()),
        None,
    ));
    config.validate().unwrap();
    gdlens_api::check_listen_config(&config, public).unwrap();
}

/// An AWS ALB in front (ALB mode of `[auth.proxy]`): the signed `x-amzn-oidc-data` (ES256,
/// padded base64url as the ALB sends it) through the real server, from the trusted address.
#[tokio::test]
async fn alb_identity_header_through_the_server() {
    use gdlens_api::config::ProxyConfig;
    use ring::signature::EcdsaKeyPair;
    let arn = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/gd/1";
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    // SubjectPublicKeyInfo of a P-256 key: a fixed prefix, then the point.
    let mut spki = p256_spki_prefix();
    spki.extend_from_slice(pair.public_key().as_ref());
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(spki)
    );
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("alb.pem");
    std::fs::write(&key_file, pem).unwrap();

    let mut config = Config::load(&fixture("config.toml")).unwrap();
    config.auth.proxy = Some(ProxyConfig {
        trusted_addresses: vec!["127.0.0.1/32".into()],
        user_header: "X-Forwarded-User".into(),
        email_header: "X-Forwarded-Email".into(),
        groups_header: "X-Forwarded-Groups".into(),
        alb_public_key_file: Some(key_file),
        alb_arn: Some(arn.into()),
        groups_claim: "groups".into(),
        grants: vec![grant("team-payments", Role::Triager, &["111111111111"])],
    });
    config.validate().unwrap();
    let s = TestServer::start_in(
        tempfile::tempdir().unwrap(),
        config,
        None,
        "findings.ndjson",
    )
    .await;

    let padded = |v: &Value| base64::engine::general_purpose::URL_SAFE.encode(v.to_string());
    let alb_token = |claims: Value| {
        let header = json!({"alg": "ES256", "kid": "k1", "signer": arn, "exp": now() + 60});
        let message = format!("{}.{}", padded(&header), padded(&claims));
        let sig = pair.sign(&rng, message.as_bytes()).unwrap();
        format!(
            "{message}.{}",
            base64::engine::general_purpose::URL_SAFE.encode(sig.as_ref())
        )
    };
    let ask = |token: String| {
        s.client
            .post(s.url("/graphql"))
            .header("x-amzn-oidc-data", token)
            .json(&json!({"query": VIEWER}))
            .send()
    };
    let claims = json!({"sub": "u-42", "email": "pat@example.com", "groups": ["team-payments"], "exp": now() + 60});
    let resp = ask(alb_token(claims.clone())).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["data"]["viewer"],
        json!({"name": "pat@example.com", "authMethod": "proxy", "subject": "u-42",
            "email": "pat@example.com", "role": "triager", "accounts": ["111111111111"]})
    );
    // Groups changed after signing: refused.
    let good = alb_token(claims);
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = padded(
        &json!({"sub": "u-42", "groups": ["soc-admins", "team-payments"], "exp": now() + 60}),
    );
    let resp = ask(parts.join(".")).await.unwrap();
    assert_eq!(resp.status(), 401);
    // Only the unsigned identity header: refused, never trusted.
    let resp = s
        .client
        .post(s.url("/graphql"))
        .header("x-amzn-oidc-identity", "u-42")
        .json(&json!({"query": VIEWER}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

/// The DER prefix of a P-256 SubjectPublicKeyInfo, up to the point.
fn p256_spki_prefix() -> Vec<u8> {
    // 30 59 30 13 06 07 2a 86 48 ce 3d 02 01 06 08 2a 86 48 ce 3d 03 01 07 03 42 00
    vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ]
}

/// A live WebSocket opened with an OIDC token is closed (4401) when the token expires, and a
/// person's groups decide its scope there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_connection_ends_when_its_oidc_token_expires() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let k = keys();
    let issuer = Issuer::start(jwks(&[&k.rsa1])).await;
    let s = server(oidc_config(
        Some(format!("http://{}/jwks", issuer.addr)),
        None,
    ))
    .await;
    let mut c = claims("carol", &["auditors"]);
    c["exp"] = json!(now() + 2);
    let token = sign(&k.rsa1, None, &c);

    let mut req = format!("ws://{}/graphql", s.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let wait = std::time::Duration::from_secs(30);
    let mut close = None;
    let mut acked = false;
    while close.is_none() {
        match tokio::time::timeout(wait, ws.next())
            .await
            .expect("in time")
        {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                acked |= v["type"] == "connection_ack";
            }
            Some(Ok(Message::Close(f))) => close = Some(f.map(|f| u16::from(f.code))),
            Some(Ok(_)) => {}
            other => panic!("unexpected end: {other:?}"),
        }
    }
    assert!(acked, "the token was valid at connection_init");
    assert_eq!(close, Some(Some(4401)));
}
