//! Who is asking: static bearer tokens (scripts), OIDC bearer tokens and a trusted proxy's
//! identity headers (people), mapped to a role and an account scope.
//!
//! [`Authenticator::authenticate`] is the one entry point every route uses. Order: a trusted
//! proxy's identity headers (refused outright when they arrive from another address), then the
//! `Authorization: Bearer` token, looked up first among `[[tokens]]` (by hash), then validated as
//! an OIDC JWT. Nothing here logs a token.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use gdlens_domain::Scope;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::{AccountsScope, TokenConfig};
use crate::scope::ScopeKey;

/// What a token may do. `viewer` < `triager` < `admin`, each including the ones before it;
/// `metrics` stands apart: it may read `/metrics` and nothing else.
///
/// Deliberately only `PartialOrd`: `metrics` is incomparable with the other roles, so a check
/// written `caller.role >= Role::Viewer` is false for it. Prefer the `can_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything in scope.
    Viewer,
    /// + triage and ticket links.
    Triager,
    /// + archive, unarchive, feedback (write-back to GuardDuty).
    Admin,
    /// Only `GET /metrics` (a Prometheus scraper): no GraphQL at all.
    Metrics,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Triager => "triager",
            Role::Admin => "admin",
            Role::Metrics => "metrics",
        }
    }

    /// Position in the viewer < triager < admin chain; `None` for roles outside it.
    fn rank(self) -> Option<u8> {
        match self {
            Role::Viewer => Some(0),
            Role::Triager => Some(1),
            Role::Admin => Some(2),
            Role::Metrics => None,
        }
    }

    /// May use `/graphql` and read findings in scope (viewer, triager, admin).
    pub fn can_read_findings(self) -> bool {
        self.rank().is_some()
    }

    /// May `setTriage` and `linkTicket` (triager, admin).
    pub fn can_triage(self) -> bool {
        matches!(self, Role::Triager | Role::Admin)
    }

    /// May archive, unarchive and send feedback to GuardDuty (admin).
    pub fn can_write_back(self) -> bool {
        self == Role::Admin
    }

    /// May read `GET /metrics` when tokens are configured (admin, metrics).
    pub fn can_read_metrics(self) -> bool {
        matches!(self, Role::Admin | Role::Metrics)
    }
}

impl PartialOrd for Role {
    /// The viewer < triager < admin chain; `metrics` equals itself and is incomparable with the
    /// others, so every `<`, `<=`, `>`, `>=` between it and another role is false.
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        if self == other {
            return Some(std::cmp::Ordering::Equal);
        }
        self.rank()?.partial_cmp(&other.rank()?)
    }
}

/// How a caller signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// Auth is off (loopback only).
    Local,
    /// A `[[tokens]]` entry.
    Token,
    /// An OIDC bearer token.
    Oidc,
    /// A trusted proxy's identity headers (oauth2-proxy style or an ALB's signed header).
    Proxy,
}

impl AuthMethod {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Local => "local",
            AuthMethod::Token => "token",
            AuthMethod::Oidc => "oidc",
            AuthMethod::Proxy => "proxy",
        }
    }
}

/// A person's identity from an identity provider (OIDC token or proxy).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The stable subject (`sub`, or the proxy's user header).
    pub subject: String,
    /// E-mail address, when the provider gave one.
    pub email: Option<String>,
}

/// Who is asking: the token's name, its role and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Token name (or `local` when auth is off); for people, their e-mail address, preferred
    /// user name or subject.
    pub name: String,
    /// How the caller signed in.
    pub method: AuthMethod,
    /// The person behind an OIDC or proxy sign-in (`None` for tokens and local).
    pub identity: Option<Identity>,
    /// Role.
    pub role: Role,
    /// Accounts visible to the caller.
    pub scope: Arc<Scope>,
    /// The scope's cache key (derived once, in every scope-dependent cache key).
    pub scope_key: ScopeKey,
}

impl Caller {
    /// A caller with `role` over `scope`.
    pub fn new(name: impl Into<String>, role: Role, scope: Scope) -> Self {
        Caller {
            name: name.into(),
            method: AuthMethod::Token,
            identity: None,
            role,
            scope_key: ScopeKey::of(&scope),
            scope: Arc::new(scope),
        }
    }

    /// The caller when no tokens are configured (loopback only): admin over every account.
    pub fn local() -> Self {
        Caller {
            method: AuthMethod::Local,
            ..Caller::new("local", Role::Admin, Scope::All)
        }
    }

    /// A person signed in through `method` with `identity`.
    pub fn person(
        method: AuthMethod,
        identity: Identity,
        name: String,
        role: Role,
        scope: Scope,
    ) -> Self {
        Caller {
            method,
            identity: Some(identity),
            ..Caller::new(name, role, scope)
        }
    }

    /// Who did it, as written to the audit trail: the token name, or for a person the name with
    /// the sign-in method, `sub` and `email` (unique per identity, so also in cache keys).
    pub fn actor(&self) -> String {
        match &self.identity {
            None => self.name.clone(),
            Some(id) => {
                let mut s = format!("{} ({} sub={}", self.name, self.method.as_str(), id.subject);
                if let Some(email) = &id.email {
                    s.push_str(" email=");
                    s.push_str(email);
                }
                s.push(')');
                s
            }
        }
    }
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header while tokens are configured.
    #[error("missing bearer token")]
    Missing,
    /// The header is not `Bearer <token>`.
    #[error("malformed Authorization header (expected `Bearer <token>`)")]
    Malformed,
    /// No token with this hash (and not a JWT, or no `[auth.oidc]`).
    #[error("unknown token")]
    Unknown,
    /// A JWT that does not validate; the reason is safe to show (never the token).
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// A JWT (or the ALB's identity) past its `exp` (beyond the clock skew).
    #[error("token expired: sign in again")]
    Expired,
    /// A valid identity whose groups match no grant.
    #[error("signed in as `{0}`, but none of its groups is granted access")]
    NoGrant(String),
    /// Proxy identity headers on a connection that is not from a trusted proxy address.
    #[error("identity headers from an address that is not a trusted proxy")]
    UntrustedProxy,
}

impl AuthError {
    /// HTTP status: 403 for a valid identity without a grant, 401 otherwise.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            AuthError::NoGrant(_) => axum::http::StatusCode::FORBIDDEN,
            _ => axum::http::StatusCode::UNAUTHORIZED,
        }
    }

    /// `FORBIDDEN` for a valid identity without a grant, `UNAUTHENTICATED` otherwise.
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            AuthError::NoGrant(_) => crate::error::ErrorCode::Forbidden,
            _ => crate::error::ErrorCode::Unauthenticated,
        }
    }

    /// The `WWW-Authenticate` value of a 401 (RFC 6750), `None` for a 403.
    pub fn www_authenticate(&self) -> Option<&'static str> {
        match self {
            AuthError::NoGrant(_) => None,
            AuthError::Expired => {
                Some("Bearer error=\"invalid_token\", error_description=\"token expired\"")
            }
            AuthError::Invalid(_) => Some("Bearer error=\"invalid_token\""),
            _ => Some("Bearer"),
        }
    }
}

/// Every way in: `[[tokens]]`, `[auth.oidc]` and `[auth.proxy]`.
pub struct Authenticator {
    tokens: TokenTable,
    oidc: Option<crate::oidc::OidcVerifier>,
    proxy: Option<crate::proxy::TrustedProxy>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &self.tokens.by_hash.len())
            .field("oidc", &self.oidc.is_some())
            .field("proxy", &self.proxy.is_some())
            .finish()
    }
}

/// Bearer tokens longer than this are refused unparsed.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

impl Authenticator {
    /// Builds every configured way in (key files are read here; a key that cannot be read
    /// leaves that way refusing every token: fail closed).
    pub fn new(config: &crate::config::Config) -> Self {
        Authenticator {
            tokens: TokenTable::new(&config.tokens),
            oidc: config
                .auth
                .oidc
                .as_ref()
                .map(crate::oidc::OidcVerifier::new),
            proxy: config
                .auth
                .proxy
                .as_ref()
                .map(crate::proxy::TrustedProxy::new),
        }
    }

    /// Whether auth is on (tokens, OIDC or a proxy configured).
    pub fn enabled(&self) -> bool {
        self.tokens.enabled() || self.oidc.is_some() || self.proxy.is_some()
    }

    /// The `[[tokens]]` table.
    pub fn tokens(&self) -> &TokenTable {
        &self.tokens
    }

    /// The OIDC verifier, when `[auth.oidc]` is configured.
    pub(crate) fn oidc(&self) -> Option<&crate::oidc::OidcVerifier> {
        self.oidc.as_ref()
    }

    /// Whether a trusted proxy is configured.
    pub(crate) fn proxy_enabled(&self) -> bool {
        self.proxy.is_some()
    }

    /// Resolves a request's headers and TCP peer address (`None`: unknown, never trusted) to
    /// the caller.
    pub async fn authenticate(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<std::net::IpAddr>,
    ) -> Result<Caller, AuthError> {
        if !self.enabled() {
            return Ok(Caller::local());
        }
        if let Some(proxy) = &self.proxy {
            if let Some(result) = proxy.authenticate(headers, peer) {
                return log_refusal(result, "proxy");
            }
        }
        let header = headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|v| v.to_str().map_err(|_| AuthError::Malformed))
            .transpose()?;
        let header = header.ok_or(AuthError::Missing)?;
        let token = bearer(header)?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("token too long"));
        }
        match self.tokens.lookup(token) {
            Some(caller) => Ok(caller),
            None => match &self.oidc {
                Some(oidc) if token.split('.').count() == 3 => {
                    log_refusal(oidc.authenticate(token).await, "oidc")
                }
                _ => Err(AuthError::Unknown),
            },
        }
    }
}

/// The request's TCP peer address (set by the accept loop; `None` through a bare router).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Logs why a person was refused (the reason, never the token).
fn log_refusal(result: Result<Caller, AuthError>, via: &'static str) -> Result<Caller, AuthError> {
    if let Err(e) = &result {
        tracing::info!(via, reason = %e, "sign-in refused");
    }
    result
}

/// The token of a `Bearer <token>` header value.
fn bearer(header: &str) -> Result<&str, AuthError> {
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Malformed)
}

/// Looks tokens up by the SHA-256 of the presented secret.
#[derive(Debug, Clone, Default)]
pub struct TokenTable {
    by_hash: HashMap<[u8; 32], Caller>,
}

impl TokenTable {
    /// Builds the table from validated config entries.
    pub fn new(tokens: &[TokenConfig]) -> Self {
        let mut by_hash = HashMap::new();
        for t in tokens {
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(t.sha256.to_ascii_lowercase(), &mut hash).is_err() {
                continue; // validated earlier; never reached with a validated config
            }
            let scope = match &t.accounts {
                // A scraper sees no findings even if a check upstream were missed.
                _ if t.role == Role::Metrics => Scope::Accounts(BTreeSet::new()),
                AccountsScope::Star(_) => Scope::All,
                AccountsScope::List(ids) => {
                    Scope::Accounts(ids.iter().cloned().collect::<BTreeSet<_>>())
                }
            };
            by_hash.insert(hash, Caller::new(t.name.clone(), t.role, scope));
        }
        TokenTable { by_hash }
    }

    /// Whether auth is on (at least one token configured).
    pub fn enabled(&self) -> bool {
        !self.by_hash.is_empty()
    }

    /// Resolves an `Authorization` header value to the caller.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        if !self.enabled() {
            return Ok(Caller::local());
        }
        let header = header.ok_or(AuthError::Missing)?;
        let token = bearer(header)?;
        self.lookup(token).ok_or(AuthError::Unknown)
    }

    /// The caller of a bare token secret, if it is one of the table's.
    fn lookup(&self, token: &str) -> Option<Caller> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&hash).cloned()
    }
}

/// Hex SHA-256 of a token, as written into the config file.
pub fn token_sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TokenTable {
        TokenTable::new(&[TokenConfig {
            name: "alice".into(),
            sha256: token_sha256_hex("s3cret"),
            role: Role::Triager,
            accounts: AccountsScope::List(vec!["111111111111".into()]),
        }])
    }

    #[test]
    fn authenticates_by_hash() {
        let c = table().authenticate(Some("Bearer s3cret")).unwrap();
        assert_eq!(c.name, "alice");
        assert!(c.scope.allows("111111111111"));
        assert!(!c.scope.allows("222222222222"));
    }

    #[test]
    fn rejects_missing_malformed_and_unknown() {
        let t = table();
        assert_eq!(t.authenticate(None), Err(AuthError::Missing));
        assert_eq!(t.authenticate(Some("Basic x")), Err(AuthError::Malformed));
        assert_eq!(t.authenticate(Some("Bearer nope")), Err(AuthError::Unknown));
    }

    #[test]
    fn metrics_role_is_outside_the_chain() {
        use Role::*;
        assert!(Viewer < Triager && Triager < Admin && Admin >= Viewer);
        for other in [Viewer, Triager, Admin] {
            // The comparisons resolvers write must never let a scraper through.
            assert_eq!(Metrics.partial_cmp(&other), None);
            let comparisons = [Metrics >= other, Metrics > other, other <= Metrics];
            assert_eq!(comparisons, [false; 3]);
        }
        assert!(Metrics >= Metrics);
        let reads: Vec<_> = [Viewer, Triager, Admin, Metrics]
            .into_iter()
            .map(|r| {
                (
                    r.can_read_findings(),
                    r.can_triage(),
                    r.can_write_back(),
                    r.can_read_metrics(),
                )
            })
            .collect();
        assert_eq!(
            reads,
            [
                (true, false, false, false),
                (true, true, false, false),
                (true, true, true, true),
                (false, false, false, true)
            ]
        );
    }

    #[test]
    fn metrics_tokens_see_no_account() {
        let t = TokenTable::new(&[TokenConfig {
            name: "prometheus".into(),
            sha256: token_sha256_hex("scrape"),
            role: Role::Metrics,
            accounts: AccountsScope::Star("*".into()),
        }]);
        let c = t.authenticate(Some("Bearer scrape")).unwrap();
        assert_eq!(c.role, Role::Metrics);
        assert!(!c.scope.allows("111111111111"));
    }

    #[test]
    fn no_tokens_means_local_admin() {
        let c = TokenTable::default().authenticate(None).unwrap();
        assert_eq!(c.role, Role::Admin);
        assert_eq!(*c.scope, Scope::All);
    }
}
