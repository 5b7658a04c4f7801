//! The `[aws]` table of the gdlens config file (TOML). Other tables belong to other crates and
//! are ignored here.

use std::path::Path;

use serde::Deserialize;

/// AWS sync settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Regions to sync, e.g. `["us-east-1", "eu-west-1"]`.
    pub regions: Vec<String>,
    /// Regions synced at the same time.
    pub concurrency: usize,
    /// Upper bound on HTTP requests per second across all regions (every attempt counts).
    pub max_requests_per_second: f64,
    /// How often `gdlens serve` syncs.
    pub sync_interval_seconds: u64,
    /// Overlap subtracted from the watermark so findings updated in the same instant are not missed.
    pub lag_seconds: u64,
    /// GuardDuty endpoint override (else `AWS_ENDPOINT_URL_GUARDDUTY` / the SDK default).
    pub endpoint_url_guardduty: Option<String>,
    /// Detective endpoint override (else `AWS_ENDPOINT_URL_DETECTIVE` / the SDK default).
    pub endpoint_url_detective: Option<String>,
    /// Named profile for the default credential chain.
    pub profile: Option<String>,
    /// Whether to sync Detective investigations too.
    pub detective: bool,
    /// Attempts per call made by the SDK itself (with its own backoff).
    pub sdk_max_attempts: u32,
    /// Extra attempts around the SDK's own for throttling/5xx storms.
    pub outer_attempts: u32,
    /// First backoff of the outer retry, in milliseconds (doubles each attempt, with jitter).
    pub initial_backoff_ms: u64,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            regions: Vec::new(),
            concurrency: 4,
            max_requests_per_second: 20.0,
            sync_interval_seconds: 300,
            lag_seconds: 300,
            endpoint_url_guardduty: None,
            endpoint_url_detective: None,
            profile: None,
            detective: true,
            sdk_max_attempts: 3,
            outer_attempts: 4,
            initial_backoff_ms: 200,
        }
    }
}

/// Why the `[aws]` config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: [aws]: {message}")]
    Invalid { path: String, message: String },
}

impl ConfigError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read { .. } => "config_unreadable",
            Self::Invalid { .. } => "config_invalid",
        }
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    aws: Option<toml::Value>,
}

impl AwsConfig {
    /// Parses the `[aws]` table of a TOML document (`name` labels errors). `Ok(None)` when absent.
    pub fn from_toml(text: &str, name: &str) -> Result<Option<Self>, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: name.to_string(),
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let Some(table) = file.aws else {
            return Ok(None);
        };
        let config: AwsConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        config.validate().map_err(invalid)?;
        Ok(Some(config))
    }

    /// Reads the `[aws]` table of a config file.
    pub fn load(path: &Path) -> Result<Option<Self>, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: name.clone(),
            source,
        })?;
        Self::from_toml(&text, &name)
    }

    /// Checks ranges; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        if !(self.max_requests_per_second.is_finite() && self.max_requests_per_second > 0.0) {
            return Err("max_requests_per_second must be a positive number".into());
        }
        if self.sdk_max_attempts == 0 {
            return Err("sdk_max_attempts must be at least 1".into());
        }
        for r in &self.regions {
            if r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("regions: `{r}` is not a region name"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_aws_table() {
        let text = r#"
            [server]
            listen = "0.0.0.0:8080"
            [aws]
            regions = ["us-east-1", "eu-west-1"]
            concurrency = 8
            max_requests_per_second = 15.5
            endpoint_url_guardduty = "http://127.0.0.1:9"
            [accounts.111122223333]
            name = "prod"
        "#;
        let c = AwsConfig::from_toml(text, "gdlens.toml").unwrap().unwrap();
        assert_eq!(c.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(c.concurrency, 8);
        assert_eq!(c.max_requests_per_second, 15.5);
        assert_eq!(
            c.endpoint_url_guardduty.as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(c.sync_interval_seconds, 300);
    }

    #[test]
    fn absent_table_is_none_and_bad_values_name_the_key() {
        assert_eq!(
            AwsConfig::from_toml("[server]\nx=1\n", "f.toml").unwrap(),
            None
        );
        let err = AwsConfig::from_toml("[aws]\nconcurrency = 0\n", "f.toml").unwrap_err();
        assert_eq!(err.code(), "config_invalid");
        assert!(err.to_string().contains("f.toml") && err.to_string().contains("concurrency"));
        // Unknown keys are refused (`deny_unknown_fields`), naming the key and the file.
        let err = AwsConfig::from_toml("[aws]\nregion = \"us-east-1\"\n", "f.toml").unwrap_err();
        assert_eq!(err.code(), "config_invalid");
        let msg = err.to_string();
        assert!(
            msg.contains("`region`") && msg.contains("f.toml") && msg.contains("[aws]"),
            "{msg}"
        );
    }
}
