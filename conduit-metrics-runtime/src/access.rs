//! Lock-down of the endpoint: credentials (bearer token, HTTP basic auth) compared in
//! constant time, a network allowlist, and a per-client rate limit.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::registry::lock;

/// A secret from the configuration. Its `Debug` and `Display` never show the value, so
/// logging a configuration cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for comparisons.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Compares two byte strings in time that depends only on their lengths, not on where
/// they differ, so a client cannot find a token byte by byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        difference |= x ^ y;
    }
    std::hint::black_box(difference) == 0
}

/// An IP network such as `10.0.0.0/8` or `::1/128` (a bare address means one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Whether `ip` is inside this network. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
    /// are matched as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xFFu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not a network such as 10.0.0.0/8 or ::1/128"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}` has a prefix length outside 0..={max}"))?,
        };
        Ok(IpNetwork { address, prefix })
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// What a request presented, checked against the configured credentials.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) bearer_token: Option<Secret>,
    pub(crate) basic: Option<(String, Secret)>,
}

impl Credentials {
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

/// Clients tracked at most by the rate limiter; past it, idle entries are dropped and,
/// if still full, new clients are refused until entries age out.
const MAX_TRACKED_CLIENTS: usize = 10_000;

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
    fn networks_match_by_prefix() {
        let net: IpNetwork = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        let host: IpNetwork = "127.0.0.1".parse().unwrap();
        assert_eq!(host.to_string(), "127.0.0.1/32");
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
        let odd: IpNetwork = "192.168.0.0/23".parse().unwrap();
        assert!(odd.contains("192.168.1.255".parse().unwrap()));
        assert!(!odd.contains("192.168.2.0".parse().unwrap()));
        let v6: IpNetwork = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<IpNetwork>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
        assert!("10.0.0/8".parse::<IpNetwork>().is_err());
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
