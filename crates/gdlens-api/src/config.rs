//! The server's TOML configuration: listen address, CORS, limits, API tokens, accounts.
//!
//! The `[aws]` table belongs to the AWS sync; it is kept here as raw TOML and passed through.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gdlens_domain::{Account, Criticality};
use serde::Deserialize;

use crate::auth::Role;

/// Errors reading or validating the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has a field of the wrong type.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message (names the line and key).
        message: String,
    },
    /// A value is well-formed TOML but not acceptable.
    #[error("invalid config value `{key}`{}: {message}", in_file(.path.as_deref()))]
    Invalid {
        /// The file, once known ([`Config::load`] fills it in; [`Config::validate`] cannot).
        path: Option<PathBuf>,
        /// The dotted key, e.g. `tokens[2].sha256`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn in_file(path: Option<&Path>) -> String {
    path.map(|p| format!(" in {}", p.display()))
        .unwrap_or_default()
}

impl ConfigError {
    /// Stable machine code (the same spelling as the `[aws]` config errors of gdlens-aws).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read { .. } => "config_unreadable",
            Self::Parse { .. } => "config_invalid",
            Self::Invalid { .. } => "config_invalid_value",
        }
    }

    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            path: None,
            key: key.into(),
            message: message.into(),
        }
    }

    /// Names the file in a value error that did not know it.
    fn in_file(self, file: &Path) -> Self {
        match self {
            ConfigError::Invalid {
                path: None,
                key,
                message,
            } => ConfigError::Invalid {
                path: Some(file.to_owned()),
                key,
                message,
            },
            other => other,
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address (default `127.0.0.1:8080`).
    pub listen: Option<String>,
    /// Origins allowed by CORS; empty = CORS disabled; `"*"` = any origin.
    pub cors_origins: Vec<String>,
    /// Directory with the built web frontend (default `web/dist`).
    pub web_dir: Option<PathBuf>,
    /// Per-request timeout.
    pub request_timeout_seconds: u64,
    /// Maximum request body size.
    pub max_body_bytes: usize,
    /// Maximum GraphQL query depth.
    pub max_query_depth: usize,
    /// Maximum GraphQL query complexity.
    pub max_query_complexity: usize,
    /// Bytes all caches together may hold (estimated per entry; default 256 MiB).
    pub cache_max_bytes: u64,
    /// Most aliased fields in one GraphQL document.
    pub max_aliases: usize,
    /// Most root fields in one operation.
    pub max_root_fields: usize,
    /// CPU budget of one request in milliseconds: long resolver work stops after it.
    pub request_cpu_budget_ms: u64,
    /// Largest response body in bytes; a larger one is replaced by a `RESPONSE_TOO_LARGE` error.
    pub max_response_bytes: usize,
    /// Extra `Host` names (or IP addresses) the server answers to, besides loopback ones. Without
    /// tokens the `Host` check always runs (DNS-rebinding defence); with tokens only when set.
    pub allowed_hosts: Vec<String>,
    /// Time a client has to send a complete request head (request line and headers).
    pub header_read_timeout_seconds: u64,
    /// Concurrent connections served; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Whether HTTP/1.1 connections are kept open between requests.
    pub keep_alive: bool,
    /// A kept-alive connection with no request in flight is closed after this long.
    pub keep_alive_idle_seconds: u64,
    /// Keep a persisted start-up snapshot of the index and finding groups in the data directory
    /// (`startup-snapshot.bin`), so a restart on an unchanged store loads it instead of
    /// rebuilding (docs/configuration.md).
    pub startup_snapshot: bool,
}

impl ServerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            (
                "server.header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            (
                "server.keep_alive_idle_seconds",
                self.keep_alive_idle_seconds,
            ),
            ("server.max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        // hyper's header-read timer also runs while a kept-alive connection waits for its next
        // request, so a longer idle timeout would silently never apply.
        if self.keep_alive_idle_seconds > self.header_read_timeout_seconds {
            return Err(ConfigError::invalid(
                "server.keep_alive_idle_seconds",
                format!(
                    "{} is longer than server.header_read_timeout_seconds ({}), which also closes \
                     idle connections; raise header_read_timeout_seconds too",
                    self.keep_alive_idle_seconds, self.header_read_timeout_seconds
                ),
            ));
        }
        for (i, host) in self.allowed_hosts.iter().enumerate() {
            if !is_host_name(host) {
                return Err(ConfigError::invalid(
                    format!("server.allowed_hosts[{i}]"),
                    format!(
                        "`{host}` is not a host name or IP address (write it without scheme, \
                         port or path, e.g. \"gdlens.example.com\")"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A bare host name or IP address: no scheme, port, path or wildcard.
fn is_host_name(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whether `id` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `[[accounts]] id` values.
fn validate_accounts(accounts: &[AccountConfig]) -> Result<(), ConfigError> {
    for (i, a) in accounts.iter().enumerate() {
        if !is_account_id(&a.id) {
            return Err(ConfigError::invalid(
                format!("accounts[{i}].id"),
                format!("`{}` is not an AWS account id (12 digits)", a.id),
            ));
        }
    }
    Ok(())
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: None,
            cors_origins: Vec::new(),
            web_dir: None,
            request_timeout_seconds: 30,
            max_body_bytes: 256 * 1024,
            max_query_depth: 12,
            max_query_complexity: 5_000,
            cache_max_bytes: 256 << 20,
            max_aliases: 30,
            max_root_fields: 20,
            request_cpu_budget_ms: 10_000,
            max_response_bytes: 64 << 20,
            allowed_hosts: Vec::new(),
            header_read_timeout_seconds: 10,
            max_connections: 1024,
            keep_alive: true,
            keep_alive_idle_seconds: 5,
            startup_snapshot: true,
        }
    }
}

/// One API token: stored as the SHA-256 of the secret, never the secret itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who (written to the audit trail).
    pub name: String,
    /// Lower-case hex SHA-256 of the bearer token.
    pub sha256: String,
    /// `viewer`, `triager`, `admin` or `metrics`.
    pub role: Role,
    /// Account ids the token may see, or `"*"` for all (ignored for `metrics` tokens: they see none).
    #[serde(default = "AccountsScope::all")]
    pub accounts: AccountsScope,
}

/// `accounts = "*"` or `accounts = ["111…", …]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum AccountsScope {
    /// `"*"`.
    Star(String),
    /// A list of account ids.
    List(Vec<String>),
}

impl AccountsScope {
    fn all() -> Self {
        AccountsScope::Star("*".into())
    }
}

/// `[[accounts]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// 12-digit id.
    pub id: String,
    /// Human name.
    #[serde(default)]
    pub name: String,
    /// Owning team.
    #[serde(default)]
    pub owner: String,
    /// `critical`, `high`, `medium`, `low`.
    #[serde(default)]
    pub criticality: Criticality,
}

/// The whole configuration file. Every table refuses unknown keys: a typo such as `[[tokenz]]`
/// must not start a server with authentication off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[[tokens]]`.
    pub tokens: Vec<TokenConfig>,
    /// `[[accounts]]`.
    pub accounts: Vec<AccountConfig>,
    /// Another TOML file holding `[[accounts]]` (e.g. the one `gdlens generate` writes).
    pub accounts_file: Option<PathBuf>,
    /// `[auth]`: OIDC bearer tokens and a trusted proxy, besides `[[tokens]]`.
    pub auth: AuthConfig,
    /// `[aws]`, passed through to the AWS sync untouched.
    pub aws: Option<toml::Value>,
    /// `[store]`: where the data lives (embedded SQLite unless a PostgreSQL URL is given).
    pub store: StoreConfig,
    /// `[live]`: GraphQL subscription limits (docs/subscriptions.md).
    pub live: crate::live::LiveConfig,
    /// `[sla]`: how long a finding may stay open, per severity.
    pub sla: SlaConfig,
    /// `[[webhooks]]`: signed event deliveries (docs/webhooks.md).
    pub webhooks: Vec<crate::webhooks::WebhookConfig>,
    /// `[outbox]`: the webhook delivery worker.
    pub outbox: crate::webhooks::OutboxConfig,
    /// `[[ticket_rules]]`: open a ticket through a webhook and link it (docs/webhooks.md).
    pub ticket_rules: Vec<crate::webhooks::TicketRuleConfig>,
}

/// `[store]`. Without `url`, the embedded SQLite store under the data directory.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user:password@host:5432/db`: several replicas share this database
    /// (docs/postgres.md). `--store-url` / `GDLENS_STORE_URL` win over it.
    pub url: Option<String>,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("StoreConfig")
            .field("url", &self.url.as_deref().map(gdlens_store::redact_url))
            .finish()
    }
}

/// `[sla]`: targets per severity in hours, from a finding's `createdAt` to a closed triage state
/// (or archiving). Defaults: Critical and High 24 (1 day), Medium 168 (7 days), Low 720 (30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// Hours a Critical finding may stay open.
    pub critical_hours: u32,
    /// Hours a High finding may stay open.
    pub high_hours: u32,
    /// Hours a Medium finding may stay open.
    pub medium_hours: u32,
    /// Hours a Low finding may stay open.
    pub low_hours: u32,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig {
            critical_hours: 24,
            high_hours: 24,
            medium_hours: 7 * 24,
            low_hours: 30 * 24,
        }
    }
}

impl SlaConfig {
    /// The domain's targets.
    pub fn targets(&self) -> gdlens_domain::SlaTargets {
        let ms = |h: u32| i64::from(h) * 3_600_000;
        gdlens_domain::SlaTargets {
            low_ms: ms(self.low_hours),
            medium_ms: ms(self.medium_hours),
            high_ms: ms(self.high_hours),
            critical_ms: ms(self.critical_hours),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("sla.critical_hours", self.critical_hours),
            ("sla.high_hours", self.high_hours),
            ("sla.medium_hours", self.medium_hours),
            ("sla.low_hours", self.low_hours),
        ] {
            // Ten years: a larger target is a typo (minutes or seconds), not a policy.
            if value == 0 || value > 87_600 {
                return Err(ConfigError::invalid(
                    key,
                    format!("{value} is outside 1–87600 hours"),
                ));
            }
        }
        Ok(())
    }
}

/// `[auth]`: sign-in for people. `[[tokens]]` stay for scripts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `[auth.oidc]`: JWT bearer tokens from an OpenID Connect issuer.
    pub oidc: Option<OidcConfig>,
    /// `[auth.proxy]`: identity headers from an authenticating reverse proxy.
    pub proxy: Option<ProxyConfig>,
}

/// `[auth.oidc]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The `iss` every token must carry, exactly.
    pub issuer: String,
    /// The `aud` every token must carry (one of its values when a list).
    pub audience: String,
    /// A JWKS file (relative to the config file); re-read when a token names an unknown `kid`.
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL (`https://`, or `http://` on a loopback address); cached, re-fetched when a
    /// token names an unknown `kid` (at most once per `jwks_refresh_min_seconds`).
    pub jwks_url: Option<String>,
    /// The claim holding the caller's groups (a list of strings, or one string); a dotted path
    /// such as `realm_access.roles` walks nested objects.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Leeway for `exp` and `nbf`, in seconds (default 60, at most 300).
    #[serde(default = "default_clock_skew")]
    pub clock_skew_seconds: u64,
    /// Least time between two JWKS reloads triggered by unknown `kid`s (default 30).
    #[serde(default = "default_jwks_refresh_min")]
    pub jwks_refresh_min_seconds: u64,
    /// A fetched JWKS is re-fetched after this long (default 3600).
    #[serde(default = "default_jwks_cache")]
    pub jwks_cache_seconds: u64,
    /// The web frontend's OAuth client id (public client, authorization code + PKCE). Without
    /// it the frontend offers only pasting a token.
    pub client_id: Option<String>,
    /// Authorization endpoint for the web frontend (default: from the issuer's discovery document).
    pub authorization_endpoint: Option<String>,
    /// Token endpoint for the web frontend (default: from the issuer's discovery document).
    pub token_endpoint: Option<String>,
    /// Scopes the web frontend asks for.
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// `[[auth.oidc.grants]]`: group → role and accounts.
    #[serde(default)]
    pub grants: Vec<GrantConfig>,
}

/// `[[auth.oidc.grants]]` / `[[auth.proxy.grants]]`: members of `group` get `role` over `accounts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConfig {
    /// Group name as it appears in the groups claim or header.
    pub group: String,
    /// `viewer`, `triager` or `admin`.
    pub role: Role,
    /// `"*"` or a list of account ids (required: no grant sees everything by accident).
    pub accounts: AccountsScope,
}

/// `[auth.proxy]`: an authenticating reverse proxy (oauth2-proxy style headers, or an AWS ALB's
/// signed `x-amzn-oidc-data`). Its headers count only on connections from `trusted_addresses`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// The proxy's addresses: IPs or CIDRs (`10.0.0.0/8`, `::1/128`).
    pub trusted_addresses: Vec<String>,
    /// Header with the user name (oauth2-proxy: `X-Forwarded-User`).
    #[serde(default = "default_user_header")]
    pub user_header: String,
    /// Header with the e-mail address.
    #[serde(default = "default_email_header")]
    pub email_header: String,
    /// Header with the groups, comma-separated.
    #[serde(default = "default_groups_header")]
    pub groups_header: String,
    /// ALB mode: the ALB's public key (PEM, ES256) for `x-amzn-oidc-data`; the plain headers are
    /// then ignored (relative to the config file).
    pub alb_public_key_file: Option<PathBuf>,
    /// ALB mode: the load balancer's ARN, checked against the token's `signer` (recommended).
    pub alb_arn: Option<String>,
    /// ALB mode: the claim of `x-amzn-oidc-data` holding the groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// `[[auth.proxy.grants]]`: group → role and accounts.
    #[serde(default)]
    pub grants: Vec<GrantConfig>,
}

fn default_groups_claim() -> String {
    "groups".into()
}
fn default_clock_skew() -> u64 {
    60
}
fn default_jwks_refresh_min() -> u64 {
    30
}
fn default_jwks_cache() -> u64 {
    3600
}
fn default_scopes() -> String {
    "openid email profile".into()
}
fn default_user_header() -> String {
    "X-Forwarded-User".into()
}
fn default_email_header() -> String {
    "X-Forwarded-Email".into()
}
fn default_groups_header() -> String {
    "X-Forwarded-Groups".into()
}

/// An IP network: `10.0.0.0/8`, `192.0.2.7` (= /32), `::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `addr` or `addr/prefix`.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` is in the network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(o) = &self.oidc {
            if o.issuer.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "auth.oidc.issuer",
                    "must not be empty",
                ));
            }
            if o.audience.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "auth.oidc.audience",
                    "must not be empty (a token for another application must not pass)",
                ));
            }
            match (&o.jwks_file, &o.jwks_url) {
                (Some(_), None) => {}
                (None, Some(url)) => {
                    if !is_secure_url(url) {
                        return Err(ConfigError::invalid(
                            "auth.oidc.jwks_url",
                            format!("`{url}`: expected an https:// URL (http:// only on a loopback address)"),
                        ));
                    }
                }
                _ => {
                    return Err(ConfigError::invalid(
                        "auth.oidc",
                        "set exactly one of `jwks_file` and `jwks_url`",
                    ))
                }
            }
            if o.clock_skew_seconds > 300 {
                return Err(ConfigError::invalid(
                    "auth.oidc.clock_skew_seconds",
                    "at most 300 (a small skew; expired tokens must not keep working)",
                ));
            }
            if o.groups_claim.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "auth.oidc.groups_claim",
                    "must not be empty",
                ));
            }
            for (key, url) in [
                (
                    "auth.oidc.authorization_endpoint",
                    &o.authorization_endpoint,
                ),
                ("auth.oidc.token_endpoint", &o.token_endpoint),
            ] {
                if let Some(url) = url.as_deref().filter(|u| !is_secure_url(u)) {
                    return Err(ConfigError::invalid(
                        key,
                        format!("`{url}`: expected an https:// URL (http:// only on a loopback address)"),
                    ));
                }
            }
            validate_grants("auth.oidc.grants", &o.grants)?;
        }
        if let Some(p) = &self.proxy {
            if p.trusted_addresses.is_empty() {
                return Err(ConfigError::invalid(
                    "auth.proxy.trusted_addresses",
                    "list the proxy's addresses (its headers count only on connections from them)",
                ));
            }
            for (i, a) in p.trusted_addresses.iter().enumerate() {
                if IpNet::parse(a).is_none() {
                    return Err(ConfigError::invalid(
                        format!("auth.proxy.trusted_addresses[{i}]"),
                        format!("`{a}` is not an IP address or CIDR (e.g. \"10.0.0.0/8\")"),
                    ));
                }
            }
            for (key, h) in [
                ("auth.proxy.user_header", &p.user_header),
                ("auth.proxy.email_header", &p.email_header),
                ("auth.proxy.groups_header", &p.groups_header),
            ] {
                if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                    return Err(ConfigError::invalid(
                        key,
                        format!("`{h}` is not a header name"),
                    ));
                }
            }
            validate_grants("auth.proxy.grants", &p.grants)?;
        }
        Ok(())
    }
}

/// `https://…`, or `http://` on a loopback address (a local test issuer).
fn is_secure_url(url: &str) -> bool {
    if url.starts_with("https://") {
        return url.len() > "https://".len();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn validate_grants(key: &str, grants: &[GrantConfig]) -> Result<(), ConfigError> {
    if grants.is_empty() {
        return Err(ConfigError::invalid(
            key,
            "at least one grant (group → role, accounts): without one every caller is refused",
        ));
    }
    for (i, g) in grants.iter().enumerate() {
        if g.group.trim().is_empty() {
            return Err(ConfigError::invalid(
                format!("{key}[{i}].group"),
                "must not be empty",
            ));
        }
        if g.role == Role::Metrics {
            return Err(ConfigError::invalid(
                format!("{key}[{i}].role"),
                "viewer, triager or admin (metrics is for [[tokens]] of scrapers)",
            ));
        }
        validate_scope(
            &format!("{key}[{i}].accounts"),
            &format!("grant `{}`", g.group),
            &g.accounts,
        )?;
    }
    Ok(())
}

/// `"*"` or a list of 12-digit account ids.
fn validate_scope(key: &str, who: &str, accounts: &AccountsScope) -> Result<(), ConfigError> {
    match accounts {
        AccountsScope::Star(s) if s != "*" => Err(ConfigError::invalid(
            key,
            format!("{who}: expected \"*\" or a list of account ids, got `{s}`"),
        )),
        AccountsScope::Star(_) => Ok(()),
        AccountsScope::List(ids) => {
            for id in ids {
                if id.trim() == "*" {
                    return Err(ConfigError::invalid(
                        key,
                        format!(
                            "{who}: `[\"*\"]` is a list holding one id named \"*\"; \
                             write `accounts = \"*\"` (without brackets) for all accounts"
                        ),
                    ));
                }
                if !is_account_id(id) {
                    return Err(ConfigError::invalid(
                        key,
                        format!("{who}: `{id}` is not an AWS account id (12 digits)"),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// The accounts file format (`[[accounts]]` tables).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    #[serde(default)]
    accounts: Vec<AccountConfig>,
}

impl Config {
    /// Reads and validates a config file; `accounts_file` is resolved relative to it.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(&text, path)?;
        // Validated before the accounts file is merged, so every error names the file it is in.
        config.validate().map_err(|e| e.in_file(path))?;
        if let Some(file) = &config.accounts_file {
            let file = if file.is_relative() {
                path.parent().unwrap_or(Path::new(".")).join(file)
            } else {
                file.clone()
            };
            config.accounts.extend(load_accounts_file(&file)?);
            config.accounts_file = Some(file);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let relative = |file: &mut PathBuf| {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
        };
        if let Some(f) = config.auth.oidc.as_mut().and_then(|o| o.jwks_file.as_mut()) {
            relative(f);
        }
        if let Some(f) = config
            .auth
            .proxy
            .as_mut()
            .and_then(|p| p.alb_public_key_file.as_mut())
        {
            relative(f);
        }
        // Key material is read now so a bad file stops the start, naming the key.
        crate::oidc::check_key_files(&config.auth).map_err(|e| e.in_file(path))?;
        config
            .load_webhook_secrets(dir)
            .map_err(|e| e.in_file(path))?;
        Ok(config)
    }

    /// Parses TOML text (`origin` names it in errors). Does not read `accounts_file`.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks tokens (hex hashes, unique names, account ids), `[[accounts]]` ids, the listen
    /// address and the `[server]` limits. Errors name the key; [`Config::load`] adds the file.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::BTreeSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError::invalid(
                    format!("tokens[{i}].sha256"),
                    "expected 64 hex digits (the SHA-256 of the token)",
                ));
            }
            if t.name.trim().is_empty() || !names.insert(t.name.clone()) {
                return Err(ConfigError::invalid(
                    format!("tokens[{i}].name"),
                    format!("empty or duplicate token name `{}`", t.name),
                ));
            }
            validate_scope(
                &format!("tokens[{i}].accounts"),
                &format!("token `{}`", t.name),
                &t.accounts,
            )?;
        }
        validate_accounts(&self.accounts)?;
        let mut hooks = std::collections::BTreeSet::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            w.validate(&format!("webhooks[{i}]"))?;
            if !hooks.insert(w.name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("webhooks[{i}].name"),
                    format!("duplicate webhook name `{}`", w.name),
                ));
            }
        }
        let mut rules = std::collections::BTreeSet::new();
        for (i, r) in self.ticket_rules.iter().enumerate() {
            r.validate(&format!("ticket_rules[{i}]"), &self.webhooks)?;
            if !rules.insert(r.name.as_str()) {
                return Err(ConfigError::invalid(
                    format!("ticket_rules[{i}].name"),
                    format!("duplicate ticket rule name `{}`", r.name),
                ));
            }
        }
        self.auth.validate()?;
        self.sla.validate()?;
        if let Some(listen) = &self.server.listen {
            listen
                .parse::<SocketAddr>()
                .map_err(|e| ConfigError::invalid("server.listen", format!("`{listen}`: {e}")))?;
        }
        self.server.validate()
    }

    /// Reads every webhook's secret (`secret_file` relative to `dir`, or `secret_env`).
    /// [`Config::load`] calls it; call it after [`Config::parse`] otherwise.
    pub fn load_webhook_secrets(&mut self, dir: &Path) -> Result<(), ConfigError> {
        for (i, w) in self.webhooks.iter_mut().enumerate() {
            w.load_secret(&format!("webhooks[{i}]"), dir)?;
        }
        Ok(())
    }

    /// Whether any authentication is configured (`[[tokens]]`, `[auth.oidc]` or `[auth.proxy]`):
    /// only then may the server listen beyond loopback.
    pub fn auth_enabled(&self) -> bool {
        !self.tokens.is_empty() || self.auth.oidc.is_some() || self.auth.proxy.is_some()
    }

    /// The configured accounts as domain accounts (later entries override earlier ones by id).
    pub fn domain_accounts(&self) -> Vec<Account> {
        let mut map = std::collections::BTreeMap::new();
        for a in &self.accounts {
            map.insert(
                a.id.clone(),
                Account {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    owner: a.owner.clone(),
                    criticality: a.criticality,
                },
            );
        }
        map.into_values().collect()
    }
}

/// Reads a TOML file of `[[accounts]]`.
pub fn load_accounts_file(path: &Path) -> Result<Vec<AccountConfig>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: AccountsFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    validate_accounts(&file.accounts).map_err(|e| e.in_file(path))?;
    Ok(file.accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_accounts_and_passes_aws_through() {
        let text = r#"
            [server]
            listen = "0.0.0.0:9000"
            cors_origins = ["https://portal.example"]
            [[tokens]]
            name = "ci"
            sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            role = "triager"
            accounts = ["111111111111"]
            [[tokens]]
            name = "root"
            sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9825"
            role = "admin"
            accounts = "*"
            [[accounts]]
            id = "111111111111"
            name = "prod"
            criticality = "critical"
            [aws]
            regions = ["us-east-1"]
        "#;
        let c = Config::parse(text, Path::new("t.toml")).unwrap();
        c.validate().unwrap();
        assert_eq!(c.tokens.len(), 2);
        assert_eq!(c.tokens[0].role, Role::Triager);
        assert_eq!(c.tokens[1].accounts, AccountsScope::Star("*".into()));
        assert_eq!(c.domain_accounts()[0].criticality, Criticality::Critical);
        assert!(c.aws.is_some());
    }

    #[test]
    fn sla_targets_default_parse_and_refuse_typos() {
        let c = Config::parse("", Path::new("t.toml")).unwrap();
        assert_eq!(c.sla.targets(), gdlens_domain::SlaTargets::default());
        let c = Config::parse("[sla]\nlow_hours = 48\n", Path::new("t.toml")).unwrap();
        c.validate().unwrap();
        assert_eq!(c.sla.low_hours, 48);
        assert_eq!(c.sla.high_hours, 24);
        let err = Config::parse("[sla]\nlow_days = 2\n", Path::new("t.toml")).unwrap_err();
        assert_eq!(err.code(), "config_invalid");
        assert!(err.to_string().contains("low_days"), "{err}");
        let c = Config::parse("[sla]\nhigh_hours = 0\n", Path::new("t.toml")).unwrap();
        let err = c.validate().unwrap_err();
        assert_eq!(err.code(), "config_invalid_value");
        assert!(err.to_string().contains("sla.high_hours"), "{err}");
    }

    #[test]
    fn rejects_bad_hash_naming_the_key() {
        let text = "[[tokens]]\nname = \"x\"\nsha256 = \"abc\"\nrole = \"viewer\"\n";
        let c = Config::parse(text, Path::new("t.toml")).unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("tokens[0].sha256"), "{err}");
    }

    #[test]
    fn rejects_unknown_role_naming_the_file() {
        let text = "[[tokens]]\nname = \"x\"\nsha256 = \"abc\"\nrole = \"god\"\n";
        let err = Config::parse(text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.toml") && err.contains("god"), "{err}");
    }

    const HASH: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn token(name: &str, accounts: &str) -> String {
        format!("[[tokens]]\nname = \"{name}\"\nsha256 = \"{HASH}\"\nrole = \"viewer\"\naccounts = {accounts}\n")
    }

    /// Writes `text` as `gdlens.toml` in a temp dir and loads it.
    fn load(text: &str) -> (tempfile::TempDir, Result<Config, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gdlens.toml");
        std::fs::write(&path, text).unwrap();
        let result = Config::load(&path);
        (dir, result)
    }

    #[test]
    fn unknown_top_level_table_is_refused_naming_key_and_file() {
        // The typo that used to start a server with authentication off.
        let text = format!("[[tokenz]]\nname = \"ci\"\nsha256 = \"{HASH}\"\nrole = \"admin\"\n");
        let (_dir, result) = load(&text);
        let err = result.unwrap_err();
        assert_eq!(err.code(), "config_invalid");
        let msg = err.to_string();
        assert!(
            msg.contains("tokenz") && msg.contains("gdlens.toml"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_keys_inside_every_table_are_refused() {
        let cases = [
            (format!("{}rol = \"admin\"\n", token("ci", "\"*\"")), "rol"),
            (
                "[[accounts]]\nid = \"111111111111\"\nowner_team = \"x\"\n".to_string(),
                "owner_team",
            ),
            (
                "[server]\nlisten_addr = \"127.0.0.1:1\"\n".to_string(),
                "listen_addr",
            ),
            ("accounts_fil = \"a.toml\"\n".to_string(), "accounts_fil"),
        ];
        for (text, key) in cases {
            let err = Config::parse(&text, Path::new("gdlens.toml")).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(key) && msg.contains("gdlens.toml"),
                "{key}: {msg}"
            );
        }
        // `[aws]` is passed through here and checked strictly by gdlens-aws (`AwsConfig`).
        Config::parse("[aws]\nregionz = []\n", Path::new("gdlens.toml")).unwrap();
    }

    #[test]
    fn unknown_key_in_the_accounts_file_names_that_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("accounts.toml"),
            "[[accounts]]\nid = \"111111111111\"\ncritical = \"high\"\n",
        )
        .unwrap();
        let path = dir.path().join("gdlens.toml");
        std::fs::write(&path, "accounts_file = \"accounts.toml\"\n").unwrap();
        let msg = Config::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("accounts.toml") && msg.contains("critical"),
            "{msg}"
        );
    }

    #[test]
    fn star_inside_a_list_is_refused_with_the_fix() {
        let text = format!("{}{}", token("root", "\"*\""), token("ci", "[\"*\"]"));
        let (_dir, result) = load(&text);
        let err = result.unwrap_err();
        assert_eq!(err.code(), "config_invalid_value");
        let msg = err.to_string();
        assert!(msg.contains("tokens[1].accounts"), "{msg}");
        assert!(msg.contains("`ci`") && msg.contains("gdlens.toml"), "{msg}");
        assert!(msg.contains("accounts = \"*\""), "{msg}");
    }

    #[test]
    fn token_account_ids_must_be_12_digits() {
        for bad in [
            "\"11111111111\"",
            "\"1111111111111\"",
            "\"11111111111a\"",
            "\"\"",
        ] {
            let text = format!(
                "{}{}",
                token("ok", "[\"111111111111\"]"),
                token("ci", &format!("[\"222222222222\", {bad}]"))
            );
            let (_dir, result) = load(&text);
            let msg = result.unwrap_err().to_string();
            assert!(
                msg.contains("tokens[1].accounts") && msg.contains("`ci`"),
                "{msg}"
            );
            assert!(
                msg.contains("gdlens.toml") && msg.contains("12 digits"),
                "{msg}"
            );
        }
    }

    #[test]
    fn account_table_ids_must_be_12_digits_in_either_file() {
        let (_dir, result) = load("[[accounts]]\nid = \"prod\"\n");
        let msg = result.unwrap_err().to_string();
        assert!(
            msg.contains("accounts[0].id") && msg.contains("gdlens.toml"),
            "{msg}"
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("accounts.toml"),
            "[[accounts]]\nid = \"111111111111\"\n[[accounts]]\nid = \"1234\"\n",
        )
        .unwrap();
        let path = dir.path().join("gdlens.toml");
        std::fs::write(&path, "accounts_file = \"accounts.toml\"\n").unwrap();
        let msg = Config::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("accounts[1].id") && msg.contains("accounts.toml"),
            "{msg}"
        );
    }

    #[test]
    fn server_limits_and_allowed_hosts_are_checked() {
        let bad = [
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            (
                "[server]\nheader_read_timeout_seconds = 0\n",
                "server.header_read_timeout_seconds",
            ),
            (
                "[server]\nkeep_alive_idle_seconds = 60\n",
                "server.keep_alive_idle_seconds",
            ),
            (
                "[server]\nallowed_hosts = [\"https://gdlens.example\"]\n",
                "server.allowed_hosts[0]",
            ),
            (
                "[server]\nallowed_hosts = [\"gdlens.example:8080\"]\n",
                "server.allowed_hosts[0]",
            ),
        ];
        for (text, key) in bad {
            let msg = Config::parse(text, Path::new("t.toml"))
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string();
            assert!(msg.contains(key), "{msg}");
        }
        let ok = "[server]\nallowed_hosts = [\"gdlens.example\", \"10.0.0.7\", \"::1\"]\nheader_read_timeout_seconds = 60\nkeep_alive_idle_seconds = 60\n";
        Config::parse(ok, Path::new("t.toml"))
            .unwrap()
            .validate()
            .unwrap();
        let defaults = ServerConfig::default();
        assert_eq!(
            (
                defaults.header_read_timeout_seconds,
                defaults.max_connections,
                defaults.keep_alive_idle_seconds
            ),
            (10, 1024, 5)
        );
    }
}
