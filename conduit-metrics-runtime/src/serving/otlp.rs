//! OTLP/HTTP export: the registry, encoded by `exposition::otlp`, POSTed gzipped to the
//! OTLP endpoint every OtlpExportInterval and once more on flush and shutdown, over the
//! push client (hyper, rustls with `tls`).
//!
//! Faults as the OTLP specification says: 429, 502, 503 and 504 are retried with
//! exponential backoff (1 s, 2 s, 4 s, ..., or the `Retry-After` the receiver asks for),
//! within OtlpTimeout for each attempt and [`RETRY_BUDGET`] (or the export interval, if
//! shorter) for all of them, so a shutdown never hangs and exports never pile up; a
//! receiver that cannot be reached is retried the same way. Other statuses are dropped
//! with a log line; a partial success is logged. Values are cumulative, so an export lost while the receiver is down is
//! made good by the next one. What failed is counted in
//! `conduit_audio_export_failures_total{exporter="otlp",reason}`.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use super::errors::PushError;
use super::push::{GaiConnector, client};
use crate::config::{MetricsConfig, PushGateway};
use crate::labels::ExportFailure;
use crate::store::Registry;

/// The longest all attempts of one export may take together (less when the export
/// interval is shorter, so one export never runs into the next).
pub(crate) const RETRY_BUDGET: Duration = Duration::from_secs(30);

/// The first wait before a retry; each later one doubles it.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Exports to one OTLP endpoint.
#[derive(Debug, Clone)]
pub(crate) struct OtlpExporter {
    endpoint: PushGateway,
    url: String,
    client: Client<GaiConnector, Full<Bytes>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    /// [`RETRY_BUDGET`], or the export interval when that is shorter.
    budget: Duration,
}

/// How one attempt ended.
enum Attempt {
    Done,
    /// Worth retrying, after this long if the receiver said; what it counts as if the
    /// retries run out.
    Retry(Option<Duration>, String, ExportFailure),
    /// Not worth retrying.
    Drop(ExportFailure, String),
}

impl OtlpExporter {
    /// The exporter the configuration asks for (`None` without `OtlpEndpoint`), or why
    /// its client cannot be built.
    pub(crate) fn from_config(config: &MetricsConfig) -> Result<Option<Self>, PushError> {
        let Some(endpoint) = config.otlp_endpoint().cloned() else {
            return Ok(None);
        };
        let unreachable = |reason: String| PushError::Unreachable {
            authority: endpoint.authority.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, reason),
        };
        let mut headers = Vec::new();
        for (name, value) in config.otlp_headers() {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| unreachable(format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                unreachable(format!("the value of `{name}` is not a valid header value"))
            })?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let identity = config.otlp_client_identity();
        let ca = config.otlp_ca_certificate();
        let client = client(&endpoint, ca, identity, HttpConnector::new())?;
        Ok(Some(OtlpExporter {
            url: endpoint.base_url(),
            endpoint,
            client,
            headers,
            timeout: config.otlp_timeout(),
            budget: RETRY_BUDGET.min(config.otlp_export_interval()),
        }))
    }

    /// Sends one encoded `ExportMetricsServiceRequest`, retrying as the specification
    /// says within the retry budget; a failure is counted in `registry` and logged.
    pub(crate) async fn export(&self, registry: &Registry, request: Vec<u8>) {
        let body = match gzip(&request) {
            Ok(body) => Bytes::from(body),
            Err(error) => {
                registry.count_export_failure(ExportFailure::Unreachable);
                tracing::warn!(%error, "conduit-metrics: cannot compress the OTLP export");
                return;
            }
        };
        let started = tokio::time::Instant::now();
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.attempt(body.clone()).await {
                Attempt::Done => return,
                Attempt::Drop(reason, detail) => {
                    registry.count_export_failure(reason);
                    tracing::warn!(endpoint = %self.url, detail, "conduit-metrics: OTLP export dropped");
                    return;
                }
                Attempt::Retry(after, detail, reason) => {
                    let wait = after.unwrap_or(backoff).min(self.budget);
                    if started.elapsed() + wait >= self.budget {
                        registry.count_export_failure(reason);
                        tracing::warn!(endpoint = %self.url, detail, "conduit-metrics: OTLP export failed after its retries; the next export carries the same cumulative totals");
                        return;
                    }
                    tracing::debug!(endpoint = %self.url, detail, ?wait, "conduit-metrics: OTLP export retried");
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(self.budget);
                }
            }
        }
    }

    /// [`export`](Self::export) from synchronous code (flush, shutdown), on a thread of
    /// its own.
    pub(crate) fn export_blocking(&self, registry: &'static Registry, request: Vec<u8>) {
        let Ok(thread) = crate::thread::RuntimeThread::spawn("conduit-metrics-otlp") else {
            registry.count_export_failure(ExportFailure::Unreachable);
            return;
        };
        let exporter = self.clone();
        let handle = thread.run(async move { exporter.export(registry, request).await });
        let _ = handle.join();
    }

    async fn attempt(&self, body: Bytes) -> Attempt {
        let request = http::Request::post(&self.url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            )
            .header(CONTENT_ENCODING, HeaderValue::from_static("gzip"))
            .body(Full::new(body));
        let mut request = match request {
            Ok(request) => request,
            Err(error) => return Attempt::Drop(ExportFailure::Unreachable, error.to_string()),
        };
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = Limited::new(response.into_body(), 64 * 1024)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .unwrap_or_default();
            Ok::<_, String>((status, retry_after, body))
        };
        let (status, retry_after, body) = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => {
                let detail = format!("no answer within {:?}", self.timeout);
                return Attempt::Retry(None, detail, ExportFailure::Unreachable);
            }
            Ok(Err(error)) => {
                let detail = format!("{}: {error}", self.endpoint.authority);
                return Attempt::Retry(None, detail, ExportFailure::Unreachable);
            }
            Ok(Ok(answer)) => answer,
        };
        match status.as_u16() {
            200..=299 => {
                if let Some((rejected, message)) = partial_success(&body) {
                    tracing::warn!(endpoint = %self.url, rejected, message, "conduit-metrics: the OTLP receiver rejected part of an export");
                }
                Attempt::Done
            }
            429 | 502 | 503 | 504 => Attempt::Retry(
                retry_after,
                format!("HTTP {status}"),
                ExportFailure::RetriesExhausted,
            ),
            _ => Attempt::Drop(
                ExportFailure::Rejected,
                format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(300)
                        .collect::<String>()
                ),
            ),
        }
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// The `partial_success` of an `ExportMetricsServiceResponse`: rejected data points and
/// the receiver's message, when it rejected any or said something.
fn partial_success(body: &[u8]) -> Option<(i64, String)> {
    let inner = field(body, 1)?;
    let rejected = varint_field(inner, 1).unwrap_or(0) as i64;
    let message = field(inner, 2)
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .unwrap_or_default();
    (rejected != 0 || !message.is_empty()).then_some((rejected, message))
}

/// The bytes of length-delimited field `number` in `message`, if present.
fn field(message: &[u8], number: u64) -> Option<&[u8]> {
    let mut rest = message;
    while !rest.is_empty() {
        let (key, after) = varint(rest)?;
        rest = after;
        match key & 7 {
            0 => rest = varint(rest)?.1,
            1 => rest = rest.get(8..)?,
            2 => {
                let (len, after) = varint(rest)?;
                let value = after.get(..usize::try_from(len).ok()?)?;
                if key >> 3 == number {
                    return Some(value);
                }
                rest = &after[value.len()..];
            }
            5 => rest = rest.get(4..)?,
            _ => return None,
        }
    }
    None
}

/// The value of varint field `number` in `message`, if present.
fn varint_field(message: &[u8], number: u64) -> Option<u64> {
    let mut rest = message;
    while !rest.is_empty() {
        let (key, after) = varint(rest)?;
        rest = after;
        match key & 7 {
            0 => {
                let (value, after) = varint(rest)?;
                if key >> 3 == number {
                    return Some(value);
                }
                rest = after;
            }
            1 => rest = rest.get(8..)?,
            2 => {
                let (len, after) = varint(rest)?;
                rest = after.get(usize::try_from(len).ok()?..)?;
            }
            5 => rest = rest.get(4..)?,
            _ => return None,
        }
    }
    None
}

fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte < 0x80 {
            return Some((value, &bytes[index + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_success_is_read_from_the_response() {
        // partial_success { rejected_data_points: 3, error_message: "bad" }
        let body = [0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, b'b', b'a', b'd'];
        assert_eq!(partial_success(&body), Some((3, "bad".to_owned())));
        assert_eq!(partial_success(&[]), None);
        assert_eq!(partial_success(&[0x0a, 0x00]), None);
        assert_eq!(partial_success(&[0x0a, 0x05, 0x08]), None);
    }
}
