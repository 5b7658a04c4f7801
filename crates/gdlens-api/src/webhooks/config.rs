//! `[[webhooks]]` and `[outbox]`: where events go, which ones, in what shape, signed with which
//! secret. Secrets are read at load (`secret_file` or `secret_env`) and never printed: their
//! `Debug` is redacted and no error message quotes them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use gdlens_domain::FindingFilter;
use serde::Deserialize;

use crate::config::ConfigError;

/// Every event a webhook may ask for.
pub const EVENTS: [&str; 5] = [
    gdlens_store::outbox::EVENT_FINDING_CREATED,
    gdlens_store::outbox::EVENT_FINDING_UPDATED,
    gdlens_store::outbox::EVENT_GROUP_CREATED,
    gdlens_store::outbox::EVENT_GROUP_ESCALATED,
    gdlens_store::outbox::EVENT_TRIAGE_CHANGED,
];

/// A `filter = { … }` table as a FindingFilter (the one the findings list uses): unknown fields
/// are refused by name, with the known ones listed.
fn parse_filter(table: Option<&toml::Table>, key: &str) -> Result<FindingFilter, ConfigError> {
    let Some(table) = table else {
        return Ok(FindingFilter::default());
    };
    let known = serde_json::to_value(FindingFilter::default()).unwrap_or_default();
    let known = known.as_object().cloned().unwrap_or_default();
    if let Some(k) = table.keys().find(|k| !known.contains_key(*k)) {
        let mut names: Vec<&str> = known.keys().map(String::as_str).collect();
        names.sort_unstable();
        return Err(ConfigError::invalid(
            format!("{key}.filter.{k}"),
            format!(
                "unknown FindingFilter field; expected one of {}",
                names.join(", ")
            ),
        ));
    }
    let json = serde_json::to_value(table)
        .map_err(|e| ConfigError::invalid(format!("{key}.filter"), e.to_string()))?;
    serde_json::from_value(json)
        .map_err(|e| ConfigError::invalid(format!("{key}.filter"), e.to_string()))
}

/// The body's shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// A CloudEvents 1.0 JSON event (structured mode).
    #[default]
    Cloudevents,
    /// A Slack incoming-webhook message (`text`, `blocks`).
    Slack,
    /// A Jira Cloud create-issue body (`fields`).
    Jira,
    /// A ServiceNow Table API incident (`short_description`, `urgency`, …).
    Servicenow,
}

impl WebhookFormat {
    /// The spelling in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Cloudevents => "cloudevents",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Jira => "jira",
            WebhookFormat::Servicenow => "servicenow",
        }
    }
}

/// A Standard Webhooks signing key (the base64-decoded part of `whsec_…`). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (24 to 64 key bytes). The error never quotes the value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let Some(b64) = text.strip_prefix("whsec_") else {
            return Err("expected a Standard Webhooks secret `whsec_<base64 key>`".into());
        };
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| "the part after `whsec_` is not valid base64".to_string())?;
        if !(24..=64).contains(&key.len()) {
            return Err(format!(
                "the key is {} bytes; Standard Webhooks keys are 24 to 64 bytes",
                key.len()
            ));
        }
        Ok(WebhookSecret(key))
    }

    /// The key bytes.
    pub fn key(&self) -> &[u8] {
        &self.0
    }
}

/// One `[[webhooks]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Unique name (in the webhook id, the CLI and metrics).
    pub name: String,
    /// Where to POST (http or https).
    pub url: String,
    /// File holding the `whsec_…` secret (relative to the config file).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Environment variable holding the `whsec_…` secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Events delivered (see [`EVENTS`]); may be empty for a webhook that only opens tickets
    /// (`[[ticket_rules]]` send their `ticket.requested` events whatever this says).
    #[serde(default)]
    pub events: Vec<String>,
    /// Only events of findings (or groups with a finding) matching this FindingFilter.
    #[serde(default)]
    pub filter: Option<toml::Table>,
    /// Body shape (default `cloudevents`).
    #[serde(default)]
    pub format: WebhookFormat,
    /// Attempts before a delivery is dead-lettered (default 8).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Per-attempt timeout in milliseconds (default 10000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// First retry delay in milliseconds, doubled per attempt, with jitter (default 1000).
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest retry delay in milliseconds (default 3600000).
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// `jira`: the project key of created issues.
    #[serde(default)]
    pub jira_project: Option<String>,
    /// `jira`: the issue type (default `Task`).
    #[serde(default)]
    pub jira_issue_type: Option<String>,
    /// The secret, once read by [`crate::Config::load`] (never from the TOML itself).
    #[serde(skip)]
    pub secret: Option<WebhookSecret>,
}

fn default_max_attempts() -> u32 {
    8
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_retry_base_ms() -> u64 {
    1_000
}
fn default_retry_max_ms() -> u64 {
    3_600_000
}

/// `[outbox]`: how the delivery worker runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How often the worker looks for due deliveries and new events, in milliseconds (default
    /// 1000; a local change wakes it at once).
    pub poll_interval_ms: u64,
    /// Deliveries attempted at once (default 16).
    pub concurrency: usize,
    /// CloudEvents `source` (default `gdlens`).
    pub source: String,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            poll_interval_ms: 1_000,
            concurrency: 16,
            source: "gdlens".into(),
        }
    }
}

impl WebhookConfig {
    /// The `filter` table as a FindingFilter; unknown keys are rejected by name.
    pub fn finding_filter(&self, key: &str) -> Result<FindingFilter, ConfigError> {
        parse_filter(self.filter.as_ref(), key)
    }

    /// Checks everything but the secret's value.
    pub(crate) fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let valid_name = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid_name {
            return Err(ConfigError::invalid(
                format!("{key}.name"),
                "use letters, digits, `-` and `_` only",
            ));
        }
        let url = self.url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || reqwest::Url::parse(url).is_err()
        {
            return Err(ConfigError::invalid(
                format!("{key}.url"),
                "expected an http:// or https:// URL",
            ));
        }
        match (&self.secret_file, &self.secret_env) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(ConfigError::invalid(
                    format!("{key}.secret_file"),
                    "give exactly one of `secret_file` and `secret_env`",
                ))
            }
            _ => {}
        }
        for e in &self.events {
            if !EVENTS.contains(&e.as_str()) {
                return Err(ConfigError::invalid(
                    format!("{key}.events"),
                    format!("unknown event `{e}`; expected one of {}", EVENTS.join(", ")),
                ));
            }
        }
        if self.max_attempts == 0 || self.timeout_ms == 0 || self.retry_base_ms == 0 {
            return Err(ConfigError::invalid(
                key,
                "max_attempts, timeout_ms and retry_base_ms must be at least 1",
            ));
        }
        if self.format == WebhookFormat::Jira && self.jira_project.is_none() {
            return Err(ConfigError::invalid(
                format!("{key}.jira_project"),
                "format `jira` needs the project key of the issues it creates",
            ));
        }
        self.finding_filter(key)?;
        Ok(())
    }

    /// Reads the secret (`secret_file` relative to `dir`, or `secret_env`).
    pub(crate) fn load_secret(&mut self, key: &str, dir: &Path) -> Result<(), ConfigError> {
        let (what, text) = match (&self.secret_file, &self.secret_env) {
            (Some(file), _) => {
                let path = if file.is_relative() {
                    dir.join(file)
                } else {
                    file.clone()
                };
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError::invalid(
                        format!("{key}.secret_file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                (format!("{key}.secret_file"), text)
            }
            (None, Some(var)) => {
                let text = std::env::var(var).map_err(|_| {
                    ConfigError::invalid(
                        format!("{key}.secret_env"),
                        format!("environment variable `{var}` is not set"),
                    )
                })?;
                (format!("{key}.secret_env"), text)
            }
            (None, None) => return Ok(()),
        };
        self.secret = Some(WebhookSecret::parse(&text).map_err(|m| ConfigError::invalid(what, m))?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_parse_and_never_print() {
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(s.key().len(), 24);
        assert_eq!(format!("{s:?}"), "WebhookSecret([redacted])");
        let err = WebhookSecret::parse("sk_live_abcdef").unwrap_err();
        assert!(!err.contains("sk_live"), "{err}");
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=")
            .unwrap_err()
            .contains("5 bytes"));
    }

    fn load(hooks: &str, secret: &str) -> Result<crate::Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hook.secret"), secret).unwrap();
        let path = dir.path().join("gdlens.toml");
        std::fs::write(&path, hooks).unwrap();
        crate::Config::load(&path)
    }

    const GOOD: &str = "[[webhooks]]\nname = \"soc\"\nurl = \"https://hooks.example/gdlens\"\nsecret_file = \"hook.secret\"\nevents = [\"finding.created\", \"group.escalated\"]\nfilter = { severityMin = 7.0 }\n";

    #[test]
    fn config_loads_a_webhook_and_its_secret() {
        let config = load(GOOD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").unwrap();
        let hook = &config.webhooks[0];
        assert_eq!(hook.secret.as_ref().unwrap().key().len(), 24);
        assert_eq!(hook.finding_filter("w").unwrap().severity_min, Some(7.0));
        assert!(
            !format!("{config:?}").contains("MfKQ9r8G"),
            "Debug never shows the secret"
        );
    }

    #[test]
    fn config_rejects_unknown_keys_bad_events_and_bad_secrets_clearly() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let err = |toml: &str, secret: &str| load(toml, secret).unwrap_err().to_string();
        let e = err(&format!("{GOOD}retries = 3\n"), secret);
        assert!(e.contains("unknown field `retries`"), "{e}");
        let e = err(&GOOD.replace("severityMin", "severityMinimum"), secret);
        assert!(
            e.contains("webhooks[0].filter.severityMinimum") && e.contains("severityMin"),
            "{e}"
        );
        let e = err(&GOOD.replace("group.escalated", "group.grew"), secret);
        assert!(e.contains("unknown event `group.grew`"), "{e}");
        let e = err(&GOOD.replace("https://", "ftp://"), secret);
        assert!(e.contains("webhooks[0].url"), "{e}");
        let e = err(GOOD, "hunter2-not-a-whsec");
        assert!(
            e.contains("webhooks[0].secret_file") && e.contains("whsec_"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "the secret is never quoted: {e}");
        let e = err(
            &GOOD.replace(
                "secret_file = \"hook.secret\"",
                "secret_env = \"GDLENS_TEST_UNSET_SECRET\"",
            ),
            secret,
        );
        assert!(
            e.contains("GDLENS_TEST_UNSET_SECRET") && e.contains("not set"),
            "{e}"
        );
        let e = err(&format!("{GOOD}secret_env = \"X\"\n"), secret);
        assert!(
            e.contains("exactly one of `secret_file` and `secret_env`"),
            "{e}"
        );
        let e = err(&format!("{GOOD}{GOOD}"), secret);
        assert!(e.contains("duplicate webhook name `soc`"), "{e}");
        let e = err(&format!("{GOOD}format = \"jira\"\n"), secret);
        assert!(e.contains("jira_project"), "{e}");
        let rule = "[[ticket_rules]]\nname = \"r\"\nwebhook = \"soc\"\nsystem = \"jira\"\ngroup_severity_min = 7.0\n";
        load(
            &format!("{GOOD}{rule}account_criticality_min = \"high\"\n"),
            secret,
        )
        .unwrap();
        let e = err(
            &format!("{GOOD}{rule}").replace("webhook = \"soc\"", "webhook = \"nope\""),
            secret,
        );
        assert!(
            e.contains("ticket_rules[0].webhook") && e.contains("`nope`"),
            "{e}"
        );
        let e = err(
            &format!("{GOOD}{rule}filter = {{ severityMin = 8.0 }}\n"),
            secret,
        );
        assert!(e.contains("exactly one of `group_severity_min`"), "{e}");
        let e = err(
            &format!("{GOOD}{rule}account_criticality_min = \"huge\"\n"),
            secret,
        );
        assert!(
            e.contains("account_criticality_min") || e.contains("unknown variant"),
            "{e}"
        );
        let e = err(&format!("{GOOD}{rule}when = 1\n"), secret);
        assert!(e.contains("unknown field `when`"), "{e}");
    }
}

/// One `[[ticket_rules]]` entry: when it matches, a ticket is opened through `webhook` (a
/// `ticket.requested` event) and the receiver's reply `{"key", "url"}` is linked back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRuleConfig {
    /// Unique name (a rule opens at most one ticket per group or finding).
    pub name: String,
    /// The `[[webhooks]]` entry that opens the ticket.
    pub webhook: String,
    /// The ticket system the link names (`linkTicket`'s `system`), e.g. `jira`.
    pub system: String,
    /// Matches a finding group once its severity reaches this.
    #[serde(default)]
    pub group_severity_min: Option<f64>,
    /// … in an account of at least this criticality (groups: any of its accounts).
    #[serde(default)]
    pub account_criticality_min: Option<gdlens_domain::Criticality>,
    /// Matches a finding (created or updated) passing this FindingFilter.
    #[serde(default)]
    pub filter: Option<toml::Table>,
}

impl TicketRuleConfig {
    /// The finding filter of a finding rule (`None` for a group rule).
    pub fn finding_filter(&self, key: &str) -> Result<Option<FindingFilter>, ConfigError> {
        self.filter
            .as_ref()
            .map(|table| parse_filter(Some(table), key))
            .transpose()
    }

    /// Checks the rule against the configured webhooks.
    pub(crate) fn validate(&self, key: &str, hooks: &[WebhookConfig]) -> Result<(), ConfigError> {
        if self.name.is_empty() || self.name.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                format!("{key}.name"),
                "empty or has spaces",
            ));
        }
        if !hooks.iter().any(|h| h.name == self.webhook) {
            return Err(ConfigError::invalid(
                format!("{key}.webhook"),
                format!("no [[webhooks]] entry named `{}`", self.webhook),
            ));
        }
        if self.system.trim().is_empty() {
            return Err(ConfigError::invalid(
                format!("{key}.system"),
                "must not be empty",
            ));
        }
        match (self.group_severity_min, &self.filter) {
            (Some(_), Some(_)) | (None, None) => Err(ConfigError::invalid(
                key,
                "give exactly one of `group_severity_min` (a finding group) and `filter` (a finding)",
            )),
            (Some(s), None) if !(0.0..=10.0).contains(&s) => Err(ConfigError::invalid(
                format!("{key}.group_severity_min"),
                "expected a GuardDuty severity, 0 to 10",
            )),
            _ => self.finding_filter(key).map(|_| ()),
        }
    }
}
