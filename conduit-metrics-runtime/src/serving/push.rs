//! Push mode: the exposition is PUT to a Prometheus Pushgateway every ExportInterval and
//! once more on flush and shutdown, for jobs that do not live long enough to be scraped.

use super::errors::PushError;
use crate::config::{MetricsConfig, PushGateway};
use crate::limits::PUSH_TIMEOUT;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};

/// Pushes to one grouping key (`job`, optional `instance`).
#[derive(Debug, Clone)]
pub(crate) struct Pusher {
    gateway: PushGateway,
    target: String,
}

impl Pusher {
    pub(crate) fn from_config(config: &MetricsConfig) -> Option<Self> {
        let gateway = config.push_gateway()?.clone();
        let mut target = format!(
            "{}/metrics/job/{}",
            gateway.base_path,
            encode(config.push_job())
        );
        if let Some(instance) = config.push_instance() {
            target.push_str("/instance/");
            target.push_str(&encode(instance));
        }
        Some(Pusher { gateway, target })
    }

    /// Replaces the group's metrics with `body` (HTTP PUT), blocking for at most
    /// about [`PUSH_TIMEOUT`] per step.
    pub(crate) fn push(&self, body: &[u8]) -> Result<(), PushError> {
        let authority = &self.gateway.authority;
        let unreachable = |source| PushError::Unreachable {
            authority: authority.clone(),
            source,
        };
        let address = authority
            .to_socket_addrs()
            .map_err(unreachable)?
            .next()
            .ok_or_else(|| unreachable(std::io::Error::other("the host has no address")))?;
        let mut stream = TcpStream::connect_timeout(&address, PUSH_TIMEOUT).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(PUSH_TIMEOUT))
            .map_err(unreachable)?;
        stream
            .set_write_timeout(Some(PUSH_TIMEOUT))
            .map_err(unreachable)?;
        let head = format!(
            "PUT {} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.target,
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(unreachable)?;
        stream.write_all(body).map_err(unreachable)?;
        let mut answer = Vec::new();
        // The answer is small; cap what is read in case the peer is not a gateway.
        stream
            .take(64 * 1024)
            .read_to_end(&mut answer)
            .map_err(unreachable)?;
        let answer = String::from_utf8_lossy(&answer);
        let status_line = answer.lines().next().unwrap_or_default().to_owned();
        let status = status_line.split(' ').nth(1).unwrap_or_default();
        if status.starts_with('2') {
            return Ok(());
        }
        let detail = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
            .chars()
            .take(300)
            .collect::<String>()
            .trim()
            .to_owned();
        Err(PushError::Refused {
            authority: authority.clone(),
            status_line,
            detail,
        })
    }
}

/// Percent-encodes a grouping label value for the URL path.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_encode_the_grouping_key() {
        let config = MetricsConfig::builder()
            .push_gateway("http://127.0.0.1:9091/base/")
            .push_grouping("batch job", Some("host-1:9000".to_owned()))
            .build()
            .unwrap();
        let pusher = Pusher::from_config(&config).unwrap();
        assert_eq!(
            pusher.target,
            "/base/metrics/job/batch%20job/instance/host-1%3A9000"
        );
        assert_eq!(pusher.gateway.authority, "127.0.0.1:9091");
    }
}
