//! A per-client token bucket on the public lookup and search endpoints, so
//! one client cannot starve the others: `per_second` tokens a second up to
//! `burst`; a request without a token gets 429 with `Retry-After`.
//!
//! Requests without a peer address (in-process calls such as tests through
//! `oneshot`; `gridmap serve` always records the peer) are not limited.
//!
//! The client is the connection's peer address, or, when the peer is one of
//! the `trusted_proxies`, the right-most address in `X-Forwarded-For` that
//! is not a trusted proxy (the left-most entries are whatever the client
//! chose to send).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use super::state::AppState;

/// The limits, from `--rate-limit`, `--rate-burst` and `--trusted-proxy`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    /// Tokens refilled per second; 0 turns the limit off.
    pub per_second: f64,
    /// Most tokens a client can save up.
    pub burst: u32,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 20.0,
            burst: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

impl RateLimit {
    /// Checks the numbers (the CLI reports the message).
    pub fn validate(&self) -> Result<(), String> {
        if !self.per_second.is_finite() || self.per_second < 0.0 {
            return Err(format!(
                "--rate-limit must be a number of requests per second, 0 or more (0 turns it off), got {}",
                self.per_second
            ));
        }
        if self.per_second > 0.0 && self.burst == 0 {
            return Err("--rate-burst must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets of every client seen lately.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

/// Past this many clients, full buckets (idle clients) are dropped.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client` at `now`, or says how long until one is there.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let (rate, burst) = (self.limit.per_second, f64::from(self.limit.burst));
        if rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().expect("rate limit lock poisoned");
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// The client a request from `peer` comes from (see the module docs).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.limit.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !self.limit.trusted_proxies.contains(ip))
            .unwrap_or(peer)
    }
}

/// The middleware: one token per request, or 429.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return next.run(request).await;
    };
    let limiter = state.rate_limiter();
    let client = limiter.client(peer, request.headers());
    match limiter.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => AppError::RateLimited {
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32, trusted: &[&str]) -> RateLimiter {
        RateLimiter::new(RateLimit {
            per_second,
            burst,
            trusted_proxies: trusted.iter().map(|s| s.parse().unwrap()).collect(),
        })
    }

    #[test]
    fn burst_then_refill_per_client() {
        let l = limiter(20.0, 60, &[]);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(l.take(a, t0).is_ok());
        }
        let wait = l.take(a, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.05).abs() < 1e-6, "{wait:?}");
        assert!(l.take(b, t0).is_ok(), "another client has its own bucket");
        // 100 ms later two tokens are back.
        let t1 = t0 + Duration::from_millis(100);
        assert!(l.take(a, t1).is_ok());
        assert!(l.take(a, t1).is_ok());
        assert!(l.take(a, t1).is_err());
        // Off means off.
        let off = limiter(0.0, 0, &[]);
        assert!((0..1000).all(|_| off.take(a, t0).is_ok()));
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let l = limiter(20.0, 60, &["10.0.0.9"]);
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 1.2.3.4, 10.0.0.9".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let stranger: IpAddr = "5.5.5.5".parse().unwrap();
        assert_eq!(l.client(proxy, &h), "1.2.3.4".parse::<IpAddr>().unwrap());
        assert_eq!(
            l.client(stranger, &h),
            stranger,
            "a stranger's header is ignored"
        );
        assert_eq!(l.client(proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn validation() {
        assert!(RateLimit::default().validate().is_ok());
        assert!(RateLimit {
            per_second: -1.0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(RateLimit {
            per_second: f64::NAN,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(RateLimit {
            burst: 0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(RateLimit {
            per_second: 0.0,
            burst: 0,
            ..Default::default()
        }
        .validate()
        .is_ok());
    }
}
