//! OIDC bearer tokens: JWT signature (RS256, ES256) against a JWKS (file or URL), `iss`, `aud`,
//! `exp` and `nbf` with a small clock skew, then the groups claim mapped through
//! `[[auth.oidc.grants]]` to a role and an account scope.
//!
//! Keys are cached. A token naming a `kid` the cache does not hold reloads the JWKS (file or
//! URL), at most once per `jwks_refresh_min_seconds`, so a key rotation at the issuer is picked up
//! without a restart and a stream of made-up `kid`s cannot make the server hammer the issuer. A
//! fetched JWKS is also re-fetched after `jwks_cache_seconds`; when that fails the cached keys
//! keep working.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use gdlens_domain::Scope;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::auth::{AuthError, AuthMethod, Caller, Identity, Role};
use crate::config::{AccountsScope, AuthConfig, ConfigError, GrantConfig, OidcConfig};

/// Largest JWKS document read (file or URL).
const MAX_JWKS_BYTES: usize = 1 << 20;
/// Timeout of one JWKS fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Group → role and scope, from `[[auth.oidc.grants]]` or `[[auth.proxy.grants]]`.
#[derive(Debug, Clone)]
pub(crate) struct Grants(Vec<(String, Role, Scope)>);

impl Grants {
    pub(crate) fn new(grants: &[GrantConfig]) -> Self {
        Grants(
            grants
                .iter()
                .map(|g| {
                    let scope = match &g.accounts {
                        AccountsScope::Star(_) => Scope::All,
                        AccountsScope::List(ids) => {
                            Scope::Accounts(ids.iter().cloned().collect::<BTreeSet<_>>())
                        }
                    };
                    (g.group.clone(), g.role, scope)
                })
                .collect(),
        )
    }

    /// The highest role and the union of the accounts over every grant of `groups`; `None` when
    /// no grant matches.
    pub(crate) fn resolve(&self, groups: &[String]) -> Option<(Role, Scope)> {
        let mut role: Option<Role> = None;
        let mut scope = Scope::Accounts(BTreeSet::new());
        for (group, r, s) in &self.0 {
            if !groups.iter().any(|g| g == group) {
                continue;
            }
            if role.is_none_or(|have| *r > have) {
                role = Some(*r);
            }
            scope = match (scope, s) {
                (Scope::All, _) | (_, Scope::All) => Scope::All,
                (Scope::Accounts(mut have), Scope::Accounts(more)) => {
                    have.extend(more.iter().cloned());
                    Scope::Accounts(have)
                }
            };
        }
        role.map(|r| (r, scope))
    }

    /// The caller for a verified identity, or `NoGrant`.
    pub(crate) fn caller(
        &self,
        method: AuthMethod,
        identity: Identity,
        name: String,
        groups: &[String],
    ) -> Result<Caller, AuthError> {
        match self.resolve(groups) {
            Some((role, scope)) => Ok(Caller::person(method, identity, name, role, scope)),
            None => Err(AuthError::NoGrant(name)),
        }
    }
}

/// The `sub` claim (required, non-empty) and the `email` claim (optional) of verified claims.
pub(crate) fn subject_and_email(
    claims: &Map<String, Value>,
) -> Result<(String, Option<String>), AuthError> {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let sub = text("sub").ok_or(AuthError::Invalid("no `sub` claim"))?;
    Ok((sub, text("email")))
}

/// The groups at `claim` (a dotted path walks nested objects): a list of strings or one string.
pub(crate) fn groups_at(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    let mut parts = claim.split('.');
    let first = parts.next().unwrap_or_default();
    let mut at = claims.get(claim).or_else(|| claims.get(first));
    if claims.get(claim).is_none() {
        for p in parts {
            at = at.and_then(|v| v.get(p));
        }
    }
    match at {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// One usable verification key.
#[derive(Clone)]
struct Key {
    alg: Algorithm,
    key: DecodingKey,
}

/// The keys of one JWKS load.
#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Vec<Key>>,
    /// Keys without a `kid` (used only for tokens without one).
    unnamed: Vec<Key>,
    loaded_at: Option<Instant>,
}

impl KeySet {
    /// The key named `kid` for `alg`. A token without `kid` uses a key without one, or the
    /// set's only key for `alg`.
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let of_alg = |list: &[Key]| -> Vec<DecodingKey> {
            list.iter()
                .filter(|k| k.alg == alg)
                .map(|k| k.key.clone())
                .collect()
        };
        match kid {
            Some(kid) => of_alg(self.by_kid.get(kid)?).into_iter().next(),
            None => {
                let unnamed = of_alg(&self.unnamed);
                if !unnamed.is_empty() {
                    return unnamed.into_iter().next();
                }
                let mut all = self.by_kid.values().flat_map(|l| of_alg(l));
                match (all.next(), all.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.by_kid.values().map(Vec::len).sum::<usize>() + self.unnamed.len()
    }
}

/// Why a JWKS could not be loaded (logged; the message holds no key material).
#[derive(Debug, thiserror::Error)]
pub(crate) enum JwksError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fetching the JWKS failed: {0}")]
    Fetch(String),
    #[error("not a JWKS: {0}")]
    Parse(String),
    #[error("the JWKS holds no RS256 or ES256 signing key")]
    NoKeys,
}

/// Parses a JWKS document, keeping the RS256 and ES256 signing keys it can use.
fn parse_jwks(bytes: &[u8]) -> Result<KeySet, JwksError> {
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(JwksError::Parse(format!(
            "larger than {MAX_JWKS_BYTES} bytes"
        )));
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| JwksError::Parse(e.to_string()))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| JwksError::Parse("no `keys` array".into()))?;
    let mut set = KeySet::default();
    for k in keys {
        // Keys of other types or for encryption are skipped, not fatal.
        let Ok(jwk) = serde_json::from_value::<Jwk>(k.clone()) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(p), None | Some(KeyAlgorithm::ES256))
                if p.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let key = Key { alg, key };
        match jwk.common.key_id {
            Some(kid) => set.by_kid.entry(kid).or_default().push(key),
            None => set.unnamed.push(key),
        }
    }
    if set.len() == 0 {
        return Err(JwksError::NoKeys);
    }
    Ok(set)
}

/// Where the keys come from.
enum Source {
    File(PathBuf),
    Url {
        url: String,
        client: reqwest::Client,
    },
}

impl Source {
    async fn load(&self) -> Result<KeySet, JwksError> {
        let mut set = match self {
            Source::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|source| JwksError::Read {
                        path: path.clone(),
                        source,
                    })?;
                parse_jwks(&bytes)?
            }
            Source::Url { url, client } => {
                let fetch = |e: reqwest::Error| JwksError::Fetch(e.without_url().to_string());
                let resp = client.get(url).send().await.map_err(fetch)?;
                if !resp.status().is_success() {
                    return Err(JwksError::Fetch(format!("HTTP {}", resp.status())));
                }
                if resp
                    .content_length()
                    .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
                {
                    return Err(JwksError::Fetch("response too large".into()));
                }
                parse_jwks(&resp.bytes().await.map_err(fetch)?)?
            }
        };
        set.loaded_at = Some(Instant::now());
        Ok(set)
    }
}

/// The cached keys and when they may next be reloaded.
struct KeyStore {
    source: Source,
    keys: RwLock<Arc<KeySet>>,
    /// Serializes reloads; holds when the last one was attempted.
    reload: tokio::sync::Mutex<Option<Instant>>,
    min_refresh: Duration,
    max_age: Option<Duration>,
}

impl KeyStore {
    fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key for `kid` and `alg`, reloading the set when it lacks one (rate-limited) or a
    /// fetched set has aged out.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let set = self.current();
        let stale = |set: &KeySet| {
            self.max_age
                .is_some_and(|age| set.loaded_at.is_none_or(|t| t.elapsed() >= age))
        };
        if let Some(key) = set.find(kid, alg) {
            if !stale(&set) {
                return Some(key);
            }
        }
        let mut last = self.reload.lock().await;
        // Another request may have reloaded while this one waited.
        let set = self.current();
        let found = set.find(kid, alg);
        if found.is_some() && !stale(&set) {
            return found;
        }
        if last.is_some_and(|t| t.elapsed() < self.min_refresh) {
            return found;
        }
        *last = Some(Instant::now());
        match self.source.load().await {
            Ok(new) => {
                tracing::info!(keys = new.len(), "OIDC signing keys loaded");
                let key = new.find(kid, alg);
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
                key
            }
            Err(e) => {
                // The cached keys keep working while the issuer is unreachable.
                tracing::warn!(error = %e, "cannot reload the OIDC signing keys");
                found
            }
        }
    }
}

/// Validates OIDC bearer tokens (`[auth.oidc]`).
pub struct OidcVerifier {
    config: OidcConfig,
    keys: KeyStore,
    grants: Grants,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// A verifier for `config`. A JWKS file is read now (an unreadable one is logged and every
    /// token refused until it can be read); a JWKS URL is fetched at the first token.
    pub(crate) fn new(config: &OidcConfig) -> Self {
        let (source, max_age) = match (&config.jwks_file, &config.jwks_url) {
            (Some(path), _) => (Source::File(path.clone()), None),
            (None, url) => {
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .build()
                    .unwrap_or_default();
                (
                    Source::Url {
                        url: url.clone().unwrap_or_default(),
                        client,
                    },
                    Some(Duration::from_secs(config.jwks_cache_seconds.max(1))),
                )
            }
        };
        let initial = match &source {
            Source::File(path) => match std::fs::read(path)
                .map_err(|source| JwksError::Read {
                    path: path.clone(),
                    source,
                })
                .and_then(|b| parse_jwks(&b))
            {
                Ok(mut set) => {
                    set.loaded_at = Some(Instant::now());
                    set
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot load auth.oidc.jwks_file: OIDC tokens are refused");
                    KeySet::default()
                }
            },
            Source::Url { .. } => KeySet::default(),
        };
        OidcVerifier {
            keys: KeyStore {
                source,
                keys: RwLock::new(Arc::new(initial)),
                reload: tokio::sync::Mutex::new(None),
                min_refresh: Duration::from_secs(config.jwks_refresh_min_seconds),
                max_age,
            },
            grants: Grants::new(&config.grants),
            config: config.clone(),
        }
    }

    /// The configuration (the web frontend's `/api/auth/config` reads the public parts).
    pub(crate) fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Validates `token` and maps its groups to a caller.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        let claims = self.validate(token).await?;
        let (sub, email) = subject_and_email(&claims)?;
        let name = email
            .clone()
            .or_else(|| {
                claims
                    .get("preferred_username")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| sub.clone());
        let groups = groups_at(&claims, &self.config.groups_claim);
        let identity = Identity {
            subject: sub,
            email,
        };
        self.grants
            .caller(AuthMethod::Oidc, identity, name, &groups)
    }

    /// Signature, `iss`, `aud`, `exp`, `nbf`; the claims of a valid token.
    async fn validate(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid("not a JWT"))?;
        // Only asymmetric algorithms: `none` and HS256 (a JWKS key as an HMAC secret) never pass.
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(AuthError::Invalid("algorithm not allowed (RS256 or ES256)"));
        }
        let key = self
            .keys
            .key(header.kid.as_deref(), header.alg)
            .await
            .ok_or(AuthError::Invalid("unknown signing key"))?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[self.config.issuer.as_str()]);
        v.set_audience(&[self.config.audience.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = self.config.clock_skew_seconds;
        v.validate_nbf = true;
        match jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(reason(e.kind())),
        }
    }
}

/// A safe reason for a validation failure.
fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> AuthError {
    use jsonwebtoken::errors::ErrorKind as K;
    AuthError::Invalid(match kind {
        K::ExpiredSignature => return AuthError::Expired,
        K::ImmatureSignature => "not valid yet (nbf)",
        K::InvalidIssuer => "wrong issuer",
        K::InvalidAudience => "wrong audience",
        K::InvalidSignature => "signature does not verify",
        K::InvalidAlgorithm => "algorithm does not match the key",
        K::MissingRequiredClaim(_) => "a required claim (exp, iss, aud, sub) is missing",
        _ => "malformed token",
    })
}

/// Reads the key files of `[auth]` at config load, so a bad one stops the start naming its key.
pub(crate) fn check_key_files(auth: &AuthConfig) -> Result<(), ConfigError> {
    if let Some(path) = auth.oidc.as_ref().and_then(|o| o.jwks_file.as_ref()) {
        let bytes = std::fs::read(path).map_err(|e| {
            ConfigError::invalid(
                "auth.oidc.jwks_file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        parse_jwks(&bytes).map_err(|e| {
            ConfigError::invalid("auth.oidc.jwks_file", format!("{}: {e}", path.display()))
        })?;
    }
    if let Some(path) = auth
        .proxy
        .as_ref()
        .and_then(|p| p.alb_public_key_file.as_ref())
    {
        crate::proxy::read_alb_key(path)
            .map_err(|e| ConfigError::invalid("auth.proxy.alb_public_key_file", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn several_groups_give_the_union_of_accounts_and_the_highest_role() {
        let g = Grants::new(&[
            grant("payments", Role::Triager, &["111111111111"]),
            grant("audit", Role::Viewer, &["222222222222", "333333333333"]),
            grant("soc", Role::Admin, &["*"]),
        ]);
        let groups = |gs: &[&str]| gs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (role, scope) = g.resolve(&groups(&["audit", "payments", "other"])).unwrap();
        assert_eq!(role, Role::Triager);
        let ids = ["111111111111", "222222222222", "333333333333"];
        assert_eq!(
            scope,
            Scope::Accounts(ids.iter().map(|s| s.to_string()).collect())
        );
        let (role, scope) = g.resolve(&groups(&["audit", "soc"])).unwrap();
        assert_eq!((role, scope), (Role::Admin, Scope::All));
        assert!(g.resolve(&groups(&["other"])).is_none());
        assert!(g.resolve(&[]).is_none());
    }

    #[test]
    fn groups_claim_as_list_string_or_nested_path() {
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"groups":["a","b",3],"one":"x","realm_access":{"roles":["r1"]},"dotted.name":["d"]}"#,
        )
        .unwrap();
        assert_eq!(groups_at(&claims, "groups"), ["a", "b"]);
        assert_eq!(groups_at(&claims, "one"), ["x"]);
        assert_eq!(groups_at(&claims, "realm_access.roles"), ["r1"]);
        assert_eq!(groups_at(&claims, "dotted.name"), ["d"]);
        assert!(groups_at(&claims, "missing").is_empty());
    }

    #[test]
    fn jwks_parsing_skips_unusable_keys() {
        // An HMAC key, an encryption key and garbage are skipped; no usable key is an error.
        let doc = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"nope"}]}"#;
        assert!(matches!(parse_jwks(doc), Err(JwksError::NoKeys)));
        assert!(matches!(parse_jwks(b"{}"), Err(JwksError::Parse(_))));
        assert!(matches!(parse_jwks(b"not json"), Err(JwksError::Parse(_))));
    }
}
