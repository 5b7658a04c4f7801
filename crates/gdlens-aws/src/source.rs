//! [`AwsSource`]: the SDK clients per region, sharing one credential chain, one rate limiter and
//! one retry policy; plus the retry loop every call goes through.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use crate::config::AwsConfig;
use crate::error::AwsError;
use crate::transport::{default_https_client, RateLimitedHttpClient, RateLimiter};

/// GuardDuty and Detective through the delegated administrator's credentials. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AwsSource {
    pub(crate) inner: Arc<SourceInner>,
}

#[derive(Debug)]
pub(crate) struct SourceInner {
    pub config: AwsConfig,
    sdk: SdkConfig,
    http: RateLimitedHttpClient,
    guardduty: Mutex<HashMap<String, aws_sdk_guardduty::Client>>,
    detective: Mutex<HashMap<String, aws_sdk_detective::Client>>,
}

impl AwsSource {
    /// Loads credentials from the SDK's default chain (env, profile, SSO, instance role), using
    /// `config.profile` when set. Endpoint overrides: `config`, else `AWS_ENDPOINT_URL_GUARDDUTY`
    /// / `AWS_ENDPOINT_URL_DETECTIVE`.
    pub async fn from_default_chain(config: AwsConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(first) = config.regions.first() {
            loader = loader.region(Region::new(first.clone()));
        }
        Self::with_sdk_config(config, loader.load().await)
    }

    /// Uses an already loaded SDK config (tests: static credentials).
    pub fn with_sdk_config(config: AwsConfig, sdk: SdkConfig) -> Self {
        Self::with_http_client(config, sdk, default_https_client())
    }

    /// Like [`AwsSource::with_sdk_config`], sending through `http` (e.g. one behind a proxy, or
    /// one that records requests); the rate limiter still sits in front of it.
    pub fn with_http_client(config: AwsConfig, sdk: SdkConfig, http: SharedHttpClient) -> Self {
        let limiter = Arc::new(RateLimiter::new(config.max_requests_per_second, 1));
        let http = RateLimitedHttpClient::new(http, limiter);
        Self {
            inner: Arc::new(SourceInner {
                config,
                sdk,
                http,
                guardduty: Mutex::new(HashMap::new()),
                detective: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &AwsConfig {
        &self.inner.config
    }

    fn retry_config(&self) -> RetryConfig {
        let c = &self.inner.config;
        RetryConfig::standard()
            .with_max_attempts(c.sdk_max_attempts)
            .with_initial_backoff(Duration::from_millis(c.initial_backoff_ms.max(1)))
            .with_max_backoff(Duration::from_secs(20))
    }

    /// The GuardDuty client of a region.
    pub fn guardduty(&self, region: &str) -> aws_sdk_guardduty::Client {
        let mut clients = self
            .inner
            .guardduty
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut b = aws_sdk_guardduty::config::Builder::from(&self.inner.sdk)
                    .region(Region::new(region.to_string()))
                    .http_client(self.inner.http.clone())
                    .retry_config(self.retry_config());
                if let Some(url) = &self.inner.config.endpoint_url_guardduty {
                    b = b.endpoint_url(url);
                }
                aws_sdk_guardduty::Client::from_conf(b.build())
            })
            .clone()
    }

    /// The Detective client of a region.
    pub fn detective(&self, region: &str) -> aws_sdk_detective::Client {
        let mut clients = self
            .inner
            .detective
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut b = aws_sdk_detective::config::Builder::from(&self.inner.sdk)
                    .region(Region::new(region.to_string()))
                    .http_client(self.inner.http.clone())
                    .retry_config(self.retry_config());
                if let Some(url) = &self.inner.config.endpoint_url_detective {
                    b = b.endpoint_url(url);
                }
                aws_sdk_detective::Client::from_conf(b.build())
            })
            .clone()
    }

    /// Runs `call` with the outer retry: transient failures (throttling, 5xx, unreachable) that
    /// outlast the SDK's own retries are tried again after an exponential, jittered backoff.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        operation: &str,
        region: &str,
        mut call: F,
    ) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let config = &self.inner.config;
        let mut attempt: u32 = 0;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = AwsError::from_sdk(&e, operation, region);
                    attempt += 1;
                    if !err.code.is_transient() || attempt >= config.outer_attempts.max(1) {
                        return Err(err);
                    }
                    let base = config.initial_backoff_ms.max(1) * (1u64 << attempt.min(8));
                    let delay = Duration::from_millis(base / 2 + jitter(base / 2 + 1));
                    tracing::warn!(
                        operation,
                        region,
                        code = err.code.as_str(),
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying AWS call"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// A pseudo-random number below `bound` (jitter only; no need for a real RNG).
fn jitter(bound: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = u64::from(nanos) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x % bound.max(1)
}
