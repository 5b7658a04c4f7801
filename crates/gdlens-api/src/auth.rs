//! Bearer tokens, roles and the caller's account scope.

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

/// Who is asking: the token's name, its role and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Token name (or `local` when auth is off), written to the audit trail.
    pub name: String,
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
            role,
            scope_key: ScopeKey::of(&scope),
            scope: Arc::new(scope),
        }
    }

    /// The caller when no tokens are configured (loopback only): admin over every account.
    pub fn local() -> Self {
        Caller::new("local", Role::Admin, Scope::All)
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
    /// No token with this hash.
    #[error("unknown token")]
    Unknown,
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
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Malformed)?;
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&hash).cloned().ok_or(AuthError::Unknown)
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
