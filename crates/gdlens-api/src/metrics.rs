//! Prometheus text metrics: requests, latency histogram, cache statistics, data size.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency bucket upper bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Request counters and a latency histogram per route, lock-free.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: [RouteMetrics; 3],
}

/// Which route family a request belonged to.
#[derive(Debug, Clone, Copy)]
pub enum RouteKind {
    /// `/graphql`.
    Graphql,
    /// Static assets and GraphiQL.
    Web,
    /// Health, readiness, metrics.
    Ops,
}

impl RouteKind {
    fn label(self) -> &'static str {
        match self {
            RouteKind::Graphql => "graphql",
            RouteKind::Web => "web",
            RouteKind::Ops => "ops",
        }
    }
    const ALL: [RouteKind; 3] = [RouteKind::Graphql, RouteKind::Web, RouteKind::Ops];
}

#[derive(Debug, Default)]
struct RouteMetrics {
    requests: AtomicU64,
    errors: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, route: RouteKind, status: u16, elapsed: Duration) {
        let m = &self.routes[route as usize];
        m.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            m.errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            m.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        m.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// Total requests recorded for a route family.
    pub fn requests(&self, route: RouteKind) -> u64 {
        self.routes[route as usize].requests.load(Ordering::Relaxed)
    }

    /// Appends the request metrics in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP gdlens_http_requests_total HTTP requests by route family.\n# TYPE gdlens_http_requests_total counter\n");
        for r in RouteKind::ALL {
            let _ = writeln!(
                out,
                "gdlens_http_requests_total{{route=\"{}\"}} {}",
                r.label(),
                self.requests(r)
            );
        }
        out.push_str("# HELP gdlens_http_server_errors_total Responses with status >= 500.\n# TYPE gdlens_http_server_errors_total counter\n");
        for r in RouteKind::ALL {
            let m = &self.routes[r as usize];
            let _ = writeln!(
                out,
                "gdlens_http_server_errors_total{{route=\"{}\"}} {}",
                r.label(),
                m.errors.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP gdlens_http_request_duration_seconds Request latency.\n# TYPE gdlens_http_request_duration_seconds histogram\n");
        for r in RouteKind::ALL {
            let m = &self.routes[r as usize];
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += m.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(out, "gdlens_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{b}\"}} {cumulative}", r.label());
            }
            let total = m.requests.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "gdlens_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {total}",
                r.label()
            );
            let _ = writeln!(
                out,
                "gdlens_http_request_duration_seconds_sum{{route=\"{}\"}} {}",
                r.label(),
                m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "gdlens_http_request_duration_seconds_count{{route=\"{}\"}} {total}",
                r.label()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe(RouteKind::Graphql, 200, Duration::from_micros(300));
        m.observe(RouteKind::Graphql, 500, Duration::from_millis(30));
        let mut s = String::new();
        m.render(&mut s);
        assert!(s.contains("gdlens_http_requests_total{route=\"graphql\"} 2"));
        assert!(s.contains("gdlens_http_server_errors_total{route=\"graphql\"} 1"));
        assert!(s.contains("route=\"graphql\",le=\"0.0005\"} 1"));
        assert!(s.contains("route=\"graphql\",le=\"0.05\"} 2"));
        assert!(s.contains("route=\"graphql\",le=\"+Inf\"} 2"));
    }
}
