//! What sits between the SDK and the network: a global request-rate limiter wrapped around the
//! SDK's HTTP client (so every attempt, SDK retries included, waits for a permit), and an
//! interceptor that keeps the raw response body of one call.
//!
//! Why the limiter lives in the HTTP client and not in an interceptor: interceptor hooks are
//! synchronous and cannot wait; `HttpConnector::call` is async and sees every attempt.

use std::collections::VecDeque;
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
/// requests evenly. On top of that, no window of one second ever holds more than `rate` permits
/// (at least one), counted at the moment they are actually granted.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    burst: u32,
    per_second: usize,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    /// When the next reservation may be granted.
    next: Option<Instant>,
    /// When the permits of the last second were granted, oldest first.
    granted: VecDeque<Instant>,
}

const WINDOW: Duration = Duration::from_secs(1);

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
            per_second: (rate.floor() as usize).max(1),
            state: Mutex::new(LimiterState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a permit.
    pub async fn acquire(&self) {
        let at = {
            let mut state = self.lock();
            let now = Instant::now();
            // Unused capacity accumulates up to `burst - 1` intervals back.
            let earliest = now
                .checked_sub(self.interval * (self.burst - 1))
                .unwrap_or(now);
            let at = state.next.map_or(earliest, |n| n.max(earliest));
            state.next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
        // On a busy runtime timers fire late, and permits planned apart can be granted close
        // together: count the grants of the last second too, so lateness never adds up to more
        // than `rate` in one second. Punctual permits never wait here.
        loop {
            let wait_until = {
                let mut state = self.lock();
                let now = Instant::now();
                while state
                    .granted
                    .front()
                    .is_some_and(|&t| now.duration_since(t) >= WINDOW)
                {
                    state.granted.pop_front();
                }
                match state.granted.front() {
                    Some(&oldest) if state.granted.len() >= self.per_second => oldest + WINDOW,
                    _ => {
                        state.granted.push_back(now);
                        return;
                    }
                }
            };
            tokio::time::sleep_until(wait_until).await;
        }
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

    /// Wraps the default HTTPS client (see [`default_https_client`]).
    pub fn default_client(limiter: Arc<RateLimiter>) -> Self {
        Self::new(default_https_client(), limiter)
    }
}

/// The SDK's HTTPS client with rustls (it also speaks plain HTTP, for local endpoints).
pub fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https()
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

    /// The most grants (ms offsets, ascending) in any half-open window of one second.
    fn peak_per_second(granted: &[u128]) -> usize {
        (0..granted.len())
            .map(|i| {
                granted[i..]
                    .iter()
                    .take_while(|&&t| t < granted[i] + 1000)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn late_permits_never_add_up_to_more_than_the_rate_in_one_second() {
        let limiter = RateLimiter::new(10.0, 1);
        let start = Instant::now();
        let mut granted = Vec::new();
        limiter.acquire().await;
        granted.push(0);
        // Nine permits planned 100 ms apart whose tasks only run at 999 ms, as on a runtime too
        // busy to fire timers on time...
        let mut late: Vec<_> = (0..9).map(|_| Box::pin(limiter.acquire())).collect();
        for permit in &mut late {
            let pending = tokio::time::timeout(Duration::ZERO, permit.as_mut()).await;
            assert!(pending.is_err(), "planned in the future");
        }
        tokio::time::advance(Duration::from_millis(999)).await;
        for permit in late {
            permit.await;
            granted.push((Instant::now() - start).as_millis());
        }
        // ...followed by punctual ones, planned from 1000 ms on.
        for _ in 0..10 {
            limiter.acquire().await;
            granted.push((Instant::now() - start).as_millis());
        }
        assert_eq!(granted[1..10], [999; 9]);
        assert_eq!(
            peak_per_second(&granted),
            10,
            "the late permits and the punctual ones share one second: {granted:?}"
        );
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
