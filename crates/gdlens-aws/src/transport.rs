//! What sits between the SDK and the network: a global request-rate limiter wrapped around the
//! SDK's HTTP client (so every attempt, SDK retries included, waits for a permit), and an
//! interceptor that keeps the raw response body of one call.
//!
//! Why the limiter lives in the HTTP client and not in an interceptor: interceptor hooks are
//! synchronous and cannot wait; `HttpConnector::call` is async and sees every attempt.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::time::Instant;

/// A token bucket: permits at `rate` per second, at most `burst` at once. `burst = 1` spaces
/// requests evenly, so no window of one second ever sees more than `rate` requests leave.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    burst: u32,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter of `rate` requests per second with the given burst.
    pub fn new(rate: f64, burst: u32) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        Self {
            interval: Duration::from_secs_f64(1.0 / rate),
            burst: burst.max(1),
            next: Mutex::new(None),
        }
    }

    /// Waits for a permit.
    pub async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            // Unused capacity accumulates up to `burst - 1` intervals back.
            let earliest = now
                .checked_sub(self.interval * (self.burst - 1))
                .unwrap_or(now);
            let at = next.map_or(earliest, |n| n.max(earliest));
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// The SDK's HTTP client with every request waiting on a shared [`RateLimiter`] first.
#[derive(Debug, Clone)]
pub struct RateLimitedHttpClient {
    inner: SharedHttpClient,
    limiter: Arc<RateLimiter>,
}

impl RateLimitedHttpClient {
    /// Wraps `inner`.
    pub fn new(inner: SharedHttpClient, limiter: Arc<RateLimiter>) -> Self {
        Self { inner, limiter }
    }

    /// Wraps the default HTTPS client (rustls; also speaks plain HTTP for local endpoints).
    pub fn default_client(limiter: Arc<RateLimiter>) -> Self {
        use aws_smithy_http_client::tls;
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https();
        Self::new(inner, limiter)
    }
}

#[derive(Debug)]
struct RateLimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<RateLimiter>,
}

impl HttpConnector for RateLimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        HttpConnectorFuture::new(async move {
            limiter.acquire().await;
            inner.call(request).await
        })
    }
}

impl HttpClient for RateLimitedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RateLimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

/// Keeps the response body of the last attempt of one call, as the server sent it.
#[derive(Debug, Clone, Default)]
pub struct BodyCapture {
    slot: Arc<Mutex<Option<bytes::Bytes>>>,
}

impl BodyCapture {
    /// The captured body (after the call returned).
    pub fn take(&self) -> Option<bytes::Bytes> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Intercept for BodyCapture {
    fn name(&self) -> &'static str {
        "gdlens::BodyCapture"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The orchestrator has buffered non-streaming bodies in memory before deserializing.
        let body = context
            .response()
            .body()
            .bytes()
            .map(bytes::Bytes::copy_from_slice);
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = body;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn permits_are_spaced_by_the_rate() {
        let limiter = RateLimiter::new(10.0, 1);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // Paused clock: exact virtual time. Four gaps of 100 ms after the first permit.
        assert_eq!(Instant::now() - start, Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn burst_lets_idle_capacity_through_at_once() {
        let limiter = RateLimiter::new(10.0, 3);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(Instant::now() - start, Duration::ZERO);
        limiter.acquire().await;
        assert!(Instant::now() - start > Duration::ZERO);
    }
}
