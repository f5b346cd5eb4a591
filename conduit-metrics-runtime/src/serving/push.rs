//! Push mode: the exposition is PUT to a Prometheus Pushgateway every ExportInterval and
//! once more on flush and shutdown, for jobs that do not live long enough to be scraped.
//!
//! The exchange is hyper's client's (with hyper-rustls for HTTPS, feature `tls`, and the
//! crypto provider the server uses): every resolved address is tried, the status line
//! and body are HTTP's, and the gateway may require basic auth or a bearer token. It
//! leaves the application's own HTTP clients alone: no reqwest feature is switched on. The group's `instance`
//! is the host name unless `PushInstance` says otherwise, so replicas never overwrite each
//! other's pushes.

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::errors::PushError;
use crate::config::{MetricsConfig, PushGateway, Secret};
use crate::limits::PUSH_TIMEOUT;
use crate::thread::RuntimeThread;

/// HTTPS or plain HTTP, as the URL says, over a connector that tries every address.
#[cfg(feature = "tls")]
type Connector<R> = hyper_rustls::HttpsConnector<HttpConnector<R>>;
#[cfg(not(feature = "tls"))]
type Connector<R> = HttpConnector<R>;

pub(super) type GaiConnector = Connector<hyper_util::client::legacy::connect::dns::GaiResolver>;

/// Pushes to one grouping key (`job`, `instance`).
#[derive(Debug, Clone)]
pub(crate) struct Pusher {
    gateway: PushGateway,
    /// The full URL of the group.
    url: String,
    client: Client<GaiConnector, Full<Bytes>>,
    /// The `Authorization` header the gateway requires, if any.
    authorization: Option<HeaderValue>,
}

impl Pusher {
    /// The pusher the configuration asks for (`None` without `PushGateway`), or why its
    /// client cannot be built (an unreadable CA file, no crypto provider).
    pub(crate) fn from_config(config: &MetricsConfig) -> Result<Option<Self>, PushError> {
        let Some(gateway) = config.push_gateway().cloned() else {
            return Ok(None);
        };
        let instance = config
            .push_instance()
            .map(str::to_owned)
            .or_else(host_name)
            .unwrap_or_else(|| "unknown".to_owned());
        let url = format!(
            "{}/metrics/job/{}/instance/{}",
            gateway.base_url(),
            encode(config.push_job()),
            encode(&instance)
        );
        let authorization = authorization(config.push_bearer_token(), config.push_basic_auth())
            .map_err(|source| PushError::Unreachable {
                authority: gateway.authority.clone(),
                source,
            })?;
        let client = client(
            &gateway,
            config.push_ca_certificate(),
            None,
            HttpConnector::new(),
        )?;
        Ok(Some(Pusher {
            gateway,
            url,
            client,
            authorization,
        }))
    }

    /// Replaces the group's metrics with `body` (HTTP PUT), within [`PUSH_TIMEOUT`].
    pub(crate) async fn push(&self, body: String) -> Result<(), PushError> {
        match tokio::time::timeout(PUSH_TIMEOUT, self.exchange(body)).await {
            Ok(result) => result,
            Err(_) => Err(self.unreachable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {PUSH_TIMEOUT:?}"),
            ))),
        }
    }

    async fn exchange(&self, body: String) -> Result<(), PushError> {
        let mut request = http::Request::put(&self.url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| self.unreachable(std::io::Error::other(error)))?;
        if let Some(authorization) = &self.authorization {
            request
                .headers_mut()
                .insert(AUTHORIZATION, authorization.clone());
        }
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| self.unreachable(std::io::Error::other(error)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The answer is small; read at most 64 KiB of it, in case the peer is no gateway.
        let detail = Limited::new(response.into_body(), 64 * 1024)
            .collect()
            .await
            .map(|body| String::from_utf8_lossy(&body.to_bytes()).into_owned())
            .unwrap_or_default();
        Err(PushError::Refused {
            authority: self.gateway.authority.clone(),
            status_line: format!("HTTP {status}"),
            detail: detail
                .chars()
                .take(300)
                .collect::<String>()
                .trim()
                .to_owned(),
        })
    }

    /// [`push`](Self::push) from any thread, async context included: on a thread with
    /// a runtime of its own, so nothing here can panic for want of one or drop one.
    pub(crate) fn push_blocking(&self, body: String) -> Result<(), PushError> {
        let thread = RuntimeThread::spawn("conduit-metrics-push").map_err(|source| {
            PushError::Unreachable {
                authority: self.gateway.authority.clone(),
                source,
            }
        })?;
        let (done, result) = std::sync::mpsc::sync_channel(1);
        let pusher = self.clone();
        let handle = thread.run(async move {
            let _ = done.send(pusher.push(body).await);
        });
        let _ = handle.join();
        result.recv().unwrap_or_else(|_| {
            Err(PushError::Unreachable {
                authority: self.gateway.authority.clone(),
                source: std::io::Error::other("the push thread ended without an answer"),
            })
        })
    }

    fn unreachable(&self, source: std::io::Error) -> PushError {
        PushError::Unreachable {
            authority: self.gateway.authority.clone(),
            source,
        }
    }
}

/// The `Authorization` header of the configured credentials (marked sensitive, so
/// hyper never logs it).
fn authorization(
    bearer: Option<&Secret>,
    basic: Option<(&str, &Secret)>,
) -> std::io::Result<Option<HeaderValue>> {
    let text = match (bearer, basic) {
        (Some(token), _) => format!("Bearer {}", token.expose()),
        (None, Some((user, password))) => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.expose()))
        ),
        (None, None) => return Ok(None),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the push credentials are not valid in an HTTP header",
        )
    })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// The HTTP client of a gateway: a fresh connection per push (pushes are rare, and come
/// from different runtimes), HTTPS with rustls when the URL says so.
/// A client for `gateway` (any HTTP(S) endpoint: the Pushgateway, an OTLP receiver),
/// trusting `ca` besides the system's roots.
pub(super) fn client<R>(
    gateway: &PushGateway,
    ca: Option<&std::path::Path>,
    identity: Option<(&std::path::Path, &std::path::Path)>,
    mut http: HttpConnector<R>,
) -> Result<Client<Connector<R>, Full<Bytes>>, PushError>
where
    R: Clone,
    Connector<R>: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    http.enforce_http(false);
    http.set_connect_timeout(Some(PUSH_TIMEOUT));
    #[cfg(feature = "tls")]
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(
            super::tls::push_client_config(gateway.https, ca, identity).map_err(|error| {
                PushError::Unreachable {
                    authority: gateway.authority.clone(),
                    source: std::io::Error::other(error.to_string()),
                }
            })?,
        )
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    #[cfg(not(feature = "tls"))]
    let connector = {
        let _ = (gateway, ca, identity);
        http
    };
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector))
}

/// This machine's host name, if it has one that is valid UTF-8.
pub(crate) fn host_name() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many
    // bytes and the name is read up to its NUL below.
    #[allow(unsafe_code)]
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return None;
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let name = std::str::from_utf8(&buffer[..end]).ok()?.trim();
    (!name.is_empty()).then(|| name.to_owned())
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
        let pusher = Pusher::from_config(&config).unwrap().unwrap();
        assert_eq!(
            pusher.url,
            "http://127.0.0.1:9091/base/metrics/job/batch%20job/instance/host-1%3A9000"
        );
        assert_eq!(pusher.gateway.authority, "127.0.0.1:9091");
    }

    #[test]
    fn the_instance_defaults_to_the_host_name() {
        let config = MetricsConfig::builder()
            .no_listener()
            .push_gateway("http://127.0.0.1:9091")
            .build()
            .unwrap();
        let pusher = Pusher::from_config(&config).unwrap().unwrap();
        let host = host_name().expect("a host name");
        assert!(
            pusher.url.ends_with(&format!(
                "/metrics/job/conduit_audio/instance/{}",
                encode(&host)
            )),
            "{}",
            pusher.url
        );
    }

    /// A gateway name that resolves to several addresses: the first two refuse (nothing
    /// listens on 127.0.0.2 or 127.0.0.3), the last answers. The client tries each
    /// address, so the push succeeds.
    #[test]
    fn every_resolved_address_is_tried() {
        use std::io::{Read, Write};
        use std::net::SocketAddr;
        let live = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = live.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = live.accept() {
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let config = MetricsConfig::builder()
            .no_listener()
            .push_gateway(&format!("http://gateway.test:{port}"))
            .build()
            .unwrap();
        let gateway = config.push_gateway().unwrap().clone();
        let addresses: Vec<SocketAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.1"]
            .iter()
            .map(|ip| SocketAddr::new(ip.parse().unwrap(), port))
            .collect();
        let resolve = tower_service_fn(addresses);
        let client = client(
            &gateway,
            None,
            None,
            HttpConnector::new_with_resolver(resolve),
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let status = runtime.block_on(async {
            let request = http::Request::put(format!("http://gateway.test:{port}/metrics/job/x"))
                .body(Full::new(Bytes::from_static(b"x 1\n")))
                .unwrap();
            client
                .request(request)
                .await
                .map(|response| response.status())
        });
        assert_eq!(status.unwrap(), 200);
    }

    /// A resolver answering every name with `addresses`, in order.
    fn tower_service_fn(
        addresses: Vec<std::net::SocketAddr>,
    ) -> impl tower_service::Service<
        hyper_util::client::legacy::connect::dns::Name,
        Response = std::vec::IntoIter<std::net::SocketAddr>,
        Error = std::io::Error,
        Future = std::future::Ready<std::io::Result<std::vec::IntoIter<std::net::SocketAddr>>>,
    > + Clone {
        #[derive(Clone)]
        struct Fixed(Vec<std::net::SocketAddr>);
        impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for Fixed {
            type Response = std::vec::IntoIter<std::net::SocketAddr>;
            type Error = std::io::Error;
            type Future = std::future::Ready<std::io::Result<Self::Response>>;
            fn poll_ready(
                &mut self,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
                std::future::ready(Ok(self.0.clone().into_iter()))
            }
        }
        Fixed(addresses)
    }

    /// What a push sends: PUT to the group's URL, the text format's content type, and the
    /// configured bearer token (basic auth is shown against the real Pushgateway in
    /// tests/push_tls.rs).
    #[test]
    fn a_push_sends_the_bearer_token_the_gateway_requires() {
        use std::io::{Read, Write};
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let received = std::thread::spawn(move || {
            let (mut stream, _) = server.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buffer).unwrap();
                request.extend_from_slice(&buffer[..n]);
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            String::from_utf8_lossy(&request).to_ascii_lowercase()
        });
        let config = MetricsConfig::builder()
            .no_listener()
            .push_gateway(&format!("http://{addr}"))
            .push_grouping("job", Some("i".to_owned()))
            .push_bearer_token("T0ken")
            .build()
            .unwrap();
        let pusher = Pusher::from_config(&config).unwrap().unwrap();
        pusher.push_blocking("x 1\n".to_owned()).unwrap();
        let request = received.join().unwrap();
        assert!(
            request.starts_with("put /metrics/job/job/instance/i http/1.1"),
            "{request}"
        );
        assert!(request.contains("authorization: bearer t0ken"), "{request}");
        assert!(
            request.contains("content-type: text/plain; version=0.0.4"),
            "{request}"
        );
    }
}
