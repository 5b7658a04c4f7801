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
    #[error("invalid config value `{key}`: {message}")]
    Invalid {
        /// The dotted key, e.g. `tokens[2].sha256`.
        key: String,
        /// What is wrong.
        message: String,
    },
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
    /// `viewer`, `triager` or `admin`.
    pub role: Role,
    /// Account ids the token may see, or `"*"` for all.
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

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[[tokens]]`.
    pub tokens: Vec<TokenConfig>,
    /// `[[accounts]]`.
    pub accounts: Vec<AccountConfig>,
    /// Another TOML file holding `[[accounts]]` (e.g. the one `gdlens generate` writes).
    pub accounts_file: Option<PathBuf>,
    /// `[aws]`, passed through to the AWS sync untouched.
    pub aws: Option<toml::Value>,
}

/// The accounts file format (`[[accounts]]` tables).
#[derive(Debug, Deserialize)]
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
        if let Some(file) = &config.accounts_file {
            let file = if file.is_relative() {
                path.parent().unwrap_or(Path::new(".")).join(file)
            } else {
                file.clone()
            };
            config.accounts.extend(load_accounts_file(&file)?);
            config.accounts_file = Some(file);
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text (`origin` names it in errors). Does not read `accounts_file`.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks tokens (hex hashes, unique names) and the listen address.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::BTreeSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError::Invalid {
                    key: format!("tokens[{i}].sha256"),
                    message: "expected 64 hex digits (the SHA-256 of the token)".into(),
                });
            }
            if t.name.trim().is_empty() || !names.insert(t.name.clone()) {
                return Err(ConfigError::Invalid {
                    key: format!("tokens[{i}].name"),
                    message: format!("empty or duplicate token name `{}`", t.name),
                });
            }
            if let AccountsScope::Star(s) = &t.accounts {
                if s != "*" {
                    return Err(ConfigError::Invalid {
                        key: format!("tokens[{i}].accounts"),
                        message: format!("expected \"*\" or a list of account ids, got `{s}`"),
                    });
                }
            }
        }
        if let Some(listen) = &self.server.listen {
            listen
                .parse::<SocketAddr>()
                .map_err(|e| ConfigError::Invalid {
                    key: "server.listen".into(),
                    message: format!("`{listen}`: {e}"),
                })?;
        }
        Ok(())
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
}
