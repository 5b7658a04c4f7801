//! A trusted authenticating proxy (`[auth.proxy]`): oauth2-proxy style identity headers, or an
//! AWS ALB's signed `x-amzn-oidc-data` (ES256, verified with the configured public key).
//!
//! The headers count only on a connection whose TCP peer is one of `trusted_addresses`. The
//! same headers on any other connection refuse the request (401): a client that can reach the
//! server directly must not be able to claim an identity by sending them.

use std::net::IpAddr;
use std::path::Path;

use axum::http::{HeaderMap, HeaderName};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::auth::{AuthError, AuthMethod, Caller, Identity};
use crate::config::{IpNet, ProxyConfig};
use crate::oidc::{groups_at, subject_and_email, Grants};

/// The ALB's signed identity header.
pub(crate) const ALB_HEADER: &str = "x-amzn-oidc-data";
/// The ALB's other identity headers: unsigned, never trusted, but their presence from an
/// untrusted address is refused like the signed one.
const ALB_UNSIGNED: [&str; 2] = ["x-amzn-oidc-identity", "x-amzn-oidc-accesstoken"];
/// Clock skew allowed on the ALB token's `exp`.
const ALB_SKEW_SECONDS: i64 = 60;
/// Identity header values longer than this are refused.
const MAX_HEADER_BYTES: usize = 16 * 1024;

enum Mode {
    Headers {
        user: HeaderName,
        email: HeaderName,
        groups: HeaderName,
    },
    Alb {
        /// `None`: the key file could not be read; every ALB identity is refused.
        key: Option<DecodingKey>,
        arn: Option<String>,
        groups_claim: String,
    },
}

/// `[auth.proxy]` resolved.
pub(crate) struct TrustedProxy {
    nets: Vec<IpNet>,
    mode: Mode,
    grants: Grants,
}

/// Reads the ALB's public key (PEM, P-256).
pub(crate) fn read_alb_key(path: &Path) -> Result<DecodingKey, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    DecodingKey::from_ec_pem(&pem)
        .map_err(|e| format!("{}: not an EC public key in PEM: {e}", path.display()))
}

fn header_name(name: &str) -> HeaderName {
    // Validated with the config; the fallback is never a header a client can be refused for.
    HeaderName::from_bytes(name.as_bytes())
        .unwrap_or_else(|_| HeaderName::from_static("x-gdlens-invalid-header"))
}

impl TrustedProxy {
    pub(crate) fn new(config: &ProxyConfig) -> Self {
        let mode = match &config.alb_public_key_file {
            Some(path) => Mode::Alb {
                key: read_alb_key(path)
                    .inspect_err(|e| {
                        tracing::error!(error = %e, "cannot load auth.proxy.alb_public_key_file: ALB identities are refused")
                    })
                    .ok(),
                arn: config.alb_arn.clone(),
                groups_claim: config.groups_claim.clone(),
            },
            None => Mode::Headers {
                user: header_name(&config.user_header),
                email: header_name(&config.email_header),
                groups: header_name(&config.groups_header),
            },
        };
        TrustedProxy {
            nets: config
                .trusted_addresses
                .iter()
                .filter_map(|a| IpNet::parse(a))
                .collect(),
            mode,
            grants: Grants::new(&config.grants),
        }
    }

    fn trusted(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|ip| self.nets.iter().any(|n| n.contains(ip)))
    }

    /// `None` when the request carries no proxy identity header (the bearer token decides);
    /// otherwise the caller, or why not.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<Result<Caller, AuthError>> {
        let present = match &self.mode {
            Mode::Headers {
                user,
                email,
                groups,
            } => [user, email, groups]
                .iter()
                .any(|h| headers.contains_key(*h)),
            Mode::Alb { .. } => {
                headers.contains_key(ALB_HEADER)
                    || ALB_UNSIGNED.iter().any(|h| headers.contains_key(*h))
            }
        };
        if !present {
            return None;
        }
        if !self.trusted(peer) {
            return Some(Err(AuthError::UntrustedProxy));
        }
        Some(self.identity(headers))
    }

    fn identity(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let text = |h: &HeaderName| -> Result<Option<String>, AuthError> {
            match headers.get(h) {
                None => Ok(None),
                Some(v) if v.len() > MAX_HEADER_BYTES => {
                    Err(AuthError::Invalid("identity header too long"))
                }
                Some(v) => v
                    .to_str()
                    .map(|s| Some(s.trim().to_string()).filter(|s| !s.is_empty()))
                    .map_err(|_| AuthError::Invalid("identity header is not text")),
            }
        };
        match &self.mode {
            Mode::Headers {
                user,
                email,
                groups,
            } => {
                let email = text(email)?;
                let subject = text(user)?
                    .or_else(|| email.clone())
                    .ok_or(AuthError::Invalid("the proxy sent no user"))?;
                let groups: Vec<String> = text(groups)?
                    .unwrap_or_default()
                    .split(',')
                    .map(|g| g.trim().to_string())
                    .filter(|g| !g.is_empty())
                    .collect();
                let name = email.clone().unwrap_or_else(|| subject.clone());
                let identity = Identity { subject, email };
                self.grants
                    .caller(AuthMethod::Proxy, identity, name, &groups)
            }
            Mode::Alb {
                key,
                arn,
                groups_claim,
            } => {
                let token = text(&HeaderName::from_static(ALB_HEADER))?.ok_or(
                    AuthError::Invalid("no x-amzn-oidc-data from the load balancer"),
                )?;
                let key = key
                    .as_ref()
                    .ok_or(AuthError::Invalid("the ALB public key is not loaded"))?;
                let claims = verify_alb(&token, key, arn.as_deref(), now_seconds())?;
                let (subject, email) = subject_and_email(&claims)?;
                let groups = groups_at(&claims, groups_claim);
                let name = email.clone().unwrap_or_else(|| subject.clone());
                let identity = Identity { subject, email };
                self.grants
                    .caller(AuthMethod::Proxy, identity, name, &groups)
            }
        }
    }
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Base64url with or without padding (the ALB pads its segments).
fn b64(segment: &str) -> Result<Vec<u8>, AuthError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| AuthError::Invalid("malformed ALB token"))
}

/// Verifies the ALB's `x-amzn-oidc-data` (ES256 over the segments as sent, padding included),
/// its `signer` when `arn` is set, and `exp`; returns its claims.
fn verify_alb(
    token: &str,
    key: &DecodingKey,
    arn: Option<&str>,
    now: i64,
) -> Result<Map<String, Value>, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Invalid("malformed ALB token"));
    };
    let header: Map<String, Value> =
        serde_json::from_slice(&b64(h)?).map_err(|_| AuthError::Invalid("malformed ALB token"))?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(AuthError::Invalid("ALB token algorithm is not ES256"));
    }
    if let Some(arn) = arn {
        if header.get("signer").and_then(Value::as_str) != Some(arn) {
            return Err(AuthError::Invalid("ALB token from another load balancer"));
        }
    }
    let message = &token[..h.len() + 1 + p.len()];
    let ok = jsonwebtoken::crypto::verify(
        sig.trim_end_matches('='),
        message.as_bytes(),
        key,
        Algorithm::ES256,
    )
    .unwrap_or(false);
    if !ok {
        return Err(AuthError::Invalid("ALB token signature does not verify"));
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&b64(p)?).map_err(|_| AuthError::Invalid("malformed ALB token"))?;
    let exp = claims
        .get("exp")
        .or_else(|| header.get("exp"))
        .and_then(Value::as_i64)
        .ok_or(AuthError::Invalid("ALB token without exp"))?;
    if exp + ALB_SKEW_SECONDS < now {
        return Err(AuthError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AccountsScope, GrantConfig};
    use crate::Role;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    const ARN: &str = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/gd/1";

    /// A P-256 key pair and its public key as PEM (SubjectPublicKeyInfo).
    fn alb_key() -> (EcdsaKeyPair, String) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(pair.public_key().as_ref());
        let b = base64::engine::general_purpose::STANDARD.encode(spki);
        (
            pair,
            format!("-----BEGIN PUBLIC KEY-----\n{b}\n-----END PUBLIC KEY-----\n"),
        )
    }

    /// An ALB-style token: padded base64url segments, as the ALB sends them.
    fn alb_token(pair: &EcdsaKeyPair, header: Value, claims: Value) -> String {
        let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE.encode(v.to_string());
        let message = format!("{}.{}", enc(&header), enc(&claims));
        let sig = pair.sign(&SystemRandom::new(), message.as_bytes()).unwrap();
        format!(
            "{message}.{}",
            base64::engine::general_purpose::URL_SAFE.encode(sig.as_ref())
        )
    }

    fn proxy(dir: &Path, pem: Option<&str>) -> TrustedProxy {
        let key_file = pem.map(|pem| {
            let f = dir.join("alb.pem");
            std::fs::write(&f, pem).unwrap();
            f
        });
        TrustedProxy::new(&ProxyConfig {
            trusted_addresses: vec!["10.0.0.0/8".into(), "::1".into()],
            user_header: "X-Forwarded-User".into(),
            email_header: "X-Forwarded-Email".into(),
            groups_header: "X-Forwarded-Groups".into(),
            alb_public_key_file: key_file,
            alb_arn: Some(ARN.into()),
            groups_claim: "groups".into(),
            grants: vec![
                GrantConfig {
                    group: "team-payments".into(),
                    role: Role::Triager,
                    accounts: AccountsScope::List(vec!["111111111111".into()]),
                },
                GrantConfig {
                    group: "soc".into(),
                    role: Role::Admin,
                    accounts: AccountsScope::Star("*".into()),
                },
            ],
        })
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const PROXY: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 2, 3)));
    const CLIENT: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 9)));

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_address() {
        let dir = tempfile::tempdir().unwrap();
        let p = proxy(dir.path(), None);
        let h = headers(&[
            ("x-forwarded-user", "alice"),
            ("x-forwarded-email", "alice@example.com"),
            ("x-forwarded-groups", "other, team-payments"),
        ]);
        let c = p.authenticate(&h, PROXY).unwrap().unwrap();
        assert_eq!(
            (c.name.as_str(), c.role),
            ("alice@example.com", Role::Triager)
        );
        assert_eq!(c.method, AuthMethod::Proxy);
        assert_eq!(
            c.actor(),
            "alice@example.com (proxy sub=alice email=alice@example.com)"
        );
        assert!(c.scope.allows("111111111111") && !c.scope.allows("222222222222"));
        // Same headers from a client, or with no known peer: refused, not ignored.
        for peer in [CLIENT, None] {
            assert_eq!(
                p.authenticate(&h, peer).unwrap(),
                Err(AuthError::UntrustedProxy)
            );
        }
        // IPv4-mapped IPv6 of a trusted address is trusted; ::1 is listed.
        let mapped = Some("::ffff:10.9.9.9".parse().unwrap());
        assert!(p.authenticate(&h, mapped).unwrap().is_ok());
        assert!(p
            .authenticate(&h, Some("::1".parse().unwrap()))
            .unwrap()
            .is_ok());
        // No identity header: the bearer token decides.
        assert!(p.authenticate(&HeaderMap::new(), CLIENT).is_none());
        // A user without a granted group.
        let h = headers(&[("x-forwarded-user", "bob"), ("x-forwarded-groups", "x")]);
        assert_eq!(
            p.authenticate(&h, PROXY).unwrap(),
            Err(AuthError::NoGrant("bob".into()))
        );
    }

    #[test]
    fn alb_identity_is_verified_with_the_configured_key() {
        let dir = tempfile::tempdir().unwrap();
        let (pair, pem) = alb_key();
        let p = proxy(dir.path(), Some(&pem));
        let now = now_seconds();
        let header = serde_json::json!({"alg": "ES256", "kid": "k1", "signer": ARN, "iss": "https://idp", "exp": now + 60});
        let claims = serde_json::json!({"sub": "u-1", "email": "eve@example.com", "groups": ["soc"], "exp": now + 60, "iss": "https://idp"});
        let token = alb_token(&pair, header.clone(), claims.clone());
        assert!(token.contains('='), "the ALB pads: {token}");
        let ok = p
            .authenticate(&headers(&[(ALB_HEADER, &token)]), PROXY)
            .unwrap()
            .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.role),
            ("eve@example.com", Role::Admin)
        );
        // From an untrusted address, even a valid token is refused.
        assert_eq!(
            p.authenticate(&headers(&[(ALB_HEADER, &token)]), CLIENT)
                .unwrap(),
            Err(AuthError::UntrustedProxy)
        );
        // The unsigned identity headers alone are no identity.
        let unsigned = headers(&[("x-amzn-oidc-identity", "u-1")]);
        assert!(p.authenticate(&unsigned, PROXY).unwrap().is_err());
        // In ALB mode the plain forwarded headers mean nothing.
        let plain = headers(&[("x-forwarded-user", "alice"), ("x-forwarded-groups", "soc")]);
        assert!(p.authenticate(&plain, PROXY).is_none());

        let refused = |token: String| {
            p.authenticate(&headers(&[(ALB_HEADER, &token)]), PROXY)
                .unwrap()
        };
        // Another key.
        let (other, _) = alb_key();
        assert_eq!(
            refused(alb_token(&other, header.clone(), claims.clone())),
            Err(AuthError::Invalid("ALB token signature does not verify"))
        );
        // Claims changed after signing.
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut forged = claims.clone();
        forged["groups"] = serde_json::json!(["soc", "team-payments"]);
        parts[1] = base64::engine::general_purpose::URL_SAFE.encode(forged.to_string());
        assert!(refused(parts.join(".")).is_err());
        // Another load balancer.
        let mut h2 = header.clone();
        h2["signer"] =
            "arn:aws:elasticloadbalancing:eu-west-1:999999999999:loadbalancer/app/x/2".into();
        assert_eq!(
            refused(alb_token(&pair, h2, claims.clone())),
            Err(AuthError::Invalid("ALB token from another load balancer"))
        );
        // Expired beyond the skew; within it still fine.
        let mut late = claims.clone();
        late["exp"] = (now - ALB_SKEW_SECONDS - 5).into();
        assert_eq!(
            refused(alb_token(&pair, header.clone(), late)),
            Err(AuthError::Expired)
        );
        let mut skewed = claims.clone();
        skewed["exp"] = (now - 10).into();
        assert!(refused(alb_token(&pair, header.clone(), skewed)).is_ok());
        // Not ES256.
        let mut hs = header.clone();
        hs["alg"] = "HS256".into();
        assert!(refused(alb_token(&pair, hs, claims)).is_err());
    }
}
