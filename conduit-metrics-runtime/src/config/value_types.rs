//! Value types of options: secrets, IP networks and the Pushgateway URL.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Where pushes go: a Pushgateway, over HTTP or HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushGateway {
    /// Whether the URL is `https://` (needs the `tls` feature).
    pub https: bool,
    /// `host:port`.
    pub authority: String,
    /// Path prefix before `/metrics/job/...` (empty for a gateway at the root).
    pub base_path: String,
}

impl PushGateway {
    /// The URL prefix pushes go to: scheme, authority and base path.
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.base_path)
    }
}

impl std::str::FromStr for PushGateway {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let url = url.trim();
        let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => {
                return Err(
                    "expected an http or https URL such as http://127.0.0.1:9091".to_owned(),
                );
            }
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], rest[slash..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let valid_authority = !authority.is_empty()
            && authority.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
            })
            && !authority.contains(['@', ' ', '?', '#']);
        if !valid_authority {
            return Err(
                "expected host:port after the scheme, e.g. http://127.0.0.1:9091 (credentials go in PushUsername/PushPassword or PushBearerToken, not in the URL)"
                    .to_owned(),
            );
        }
        if path.contains(['?', '#', ' ']) {
            return Err("the URL must not have a query, fragment or spaces".to_owned());
        }
        Ok(PushGateway {
            https,
            authority: authority.to_owned(),
            base_path: path.to_owned(),
        })
    }
}

/// Bucket bounds of facade histograms: finite and strictly increasing once validated.
/// Compared by bits, so equality is total even before validation.
#[derive(Debug, Clone)]
pub(super) struct HistogramBuckets(Vec<f64>);

/// The Prometheus client libraries' default buckets, in seconds.
pub(super) const DEFAULT_HISTOGRAM_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl HistogramBuckets {
    pub(super) fn new(bounds: Vec<f64>) -> Self {
        HistogramBuckets(bounds)
    }

    pub(super) fn bounds(&self) -> &[f64] {
        &self.0
    }
}

impl Default for HistogramBuckets {
    fn default() -> Self {
        HistogramBuckets(DEFAULT_HISTOGRAM_BUCKETS.to_vec())
    }
}

impl PartialEq for HistogramBuckets {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for HistogramBuckets {}

/// A secret from the configuration. Its `Debug` and `Display` never show the value, so
/// logging a configuration cannot leak it, and it has no `PartialEq`: the endpoint
/// compares what a client presents with it in constant time only.
#[derive(Clone)]
pub struct Secret(
    // Read by the endpoint and the push client, which a minimal build leaves out.
    #[cfg_attr(
        not(any(feature = "http-listener", feature = "axum", feature = "push-gateway")),
        allow(dead_code)
    )]
    String,
);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for comparisons.
    #[cfg(any(feature = "http-listener", feature = "axum", feature = "push-gateway"))]
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
