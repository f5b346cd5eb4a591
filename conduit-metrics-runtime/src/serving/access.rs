//! Lock-down of the endpoint: credentials (bearer token, HTTP basic auth) compared in
//! constant time, a network allowlist, and a per-client rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::config::{MetricsConfig, Secret};
use crate::limits::MAX_TRACKED_CLIENTS;
use crate::sync::lock;

/// Compares two byte strings in time that does not depend on where they differ (only on
/// their lengths), so a client cannot find a token byte by byte: `subtle`'s comparison.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.ct_eq(b))
}

/// What a request presented, checked against the configured credentials.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) bearer_token: Option<Secret>,
    pub(crate) basic: Option<(String, Secret)>,
}

impl Credentials {
    /// The credentials a configuration asks scrapers for.
    pub(crate) fn from_config(config: &MetricsConfig) -> Self {
        Credentials {
            bearer_token: config.bearer_token().cloned(),
            basic: config
                .basic_auth()
                .map(|(user, password)| (user.to_owned(), password.clone())),
        }
    }

    pub(crate) fn required(&self) -> bool {
        self.bearer_token.is_some() || self.basic.is_some()
    }

    /// Whether an `Authorization` header value satisfies one configured scheme.
    pub(crate) fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(header) = authorization else {
            return false;
        };
        if let (Some(token), Some(presented)) = (&self.bearer_token, strip_scheme(header, "bearer"))
        {
            if constant_time_eq(presented, token.expose().as_bytes()) {
                return true;
            }
        }
        if let (Some((user, password)), Some(encoded)) =
            (&self.basic, strip_scheme(header, "basic"))
        {
            // Bounded: the header size limit already caps it.
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
                return false;
            };
            let expected = format!("{user}:{}", password.expose());
            return constant_time_eq(&decoded, expected.as_bytes());
        }
        false
    }

    /// The `WWW-Authenticate` challenge for a 401.
    pub(crate) fn challenge(&self) -> &'static str {
        match (self.basic.is_some(), self.bearer_token.is_some()) {
            (true, _) => "Basic realm=\"metrics\", charset=\"UTF-8\"",
            (false, _) => "Bearer realm=\"metrics\"",
        }
    }
}

fn strip_scheme<'a>(header: &'a [u8], scheme: &str) -> Option<&'a [u8]> {
    let (name, rest) = header.split_at_checked(scheme.len())?;
    if !name.eq_ignore_ascii_case(scheme.as_bytes()) || rest.first() != Some(&b' ') {
        return None;
    }
    Some(rest[1..].trim_ascii())
}

/// A token bucket per client address: `per_minute` requests a minute, in bursts of up to
/// `per_minute`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub(crate) fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` if the client may proceed, else how long until it may.
    pub(crate) fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = lock(&self.buckets);
        if !buckets.contains_key(&client) && buckets.len() >= MAX_TRACKED_CLIENTS {
            // A full bucket is indistinguishable from a fresh one: forget those.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second
                    < capacity
            });
            if buckets.len() >= MAX_TRACKED_CLIENTS {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_is_exact() {
        assert!(constant_time_eq(b"token", b"token"));
        assert!(!constant_time_eq(b"token", b"tokem"));
        assert!(!constant_time_eq(b"token", b"token2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn credentials_accept_only_the_configured_schemes() {
        let credentials = Credentials {
            bearer_token: Some(Secret::new("s3cret")),
            basic: Some(("prom".to_owned(), Secret::new("pw"))),
        };
        assert!(credentials.accepts(Some(b"Bearer s3cret")));
        assert!(credentials.accepts(Some(b"bearer s3cret")));
        assert!(!credentials.accepts(Some(b"Bearer s3cre")));
        // base64("prom:pw") = cHJvbTpwdw==
        assert!(credentials.accepts(Some(b"Basic cHJvbTpwdw==")));
        assert!(!credentials.accepts(Some(b"Basic cHJvbTpwdx==")));
        assert!(!credentials.accepts(Some(b"Basic !!!")));
        assert!(!credentials.accepts(None));
        assert!(!credentials.accepts(Some(b"Bearers3cret")));
        assert_eq!(format!("{:?}", Secret::new("s3cret")), "Secret(***)");
    }

    #[test]
    fn rate_limit_refills_over_a_minute() {
        let limiter = RateLimiter::new(2);
        let client: IpAddr = "127.0.0.1".parse().unwrap();
        let start = Instant::now();
        assert!(limiter.check(client, start).is_ok());
        assert!(limiter.check(client, start).is_ok());
        let wait = limiter.check(client, start).unwrap_err();
        assert_eq!(wait.as_secs(), 30);
        assert!(limiter.check("127.0.0.2".parse().unwrap(), start).is_ok());
        assert!(
            limiter
                .check(client, start + Duration::from_secs(30))
                .is_ok()
        );
    }
}
